#!/usr/bin/env bash
# promtool, which checks the alert rules (ops/prometheus/alerts.yml) and a real /metrics scrape
# in the metrics tests. From Debian's `prometheus` package (2.42 on bookworm), which ships
# /usr/bin/promtool; installed only when missing (idempotent; quick once installed).
# Prints promtool's path on stdout. Exits non-zero when it cannot be had; the tests then skip
# the promtool checks, except with CI=true, where they fail.
set -euo pipefail
found() {
  local p
  p=$(command -v promtool 2>/dev/null || true)
  [ -n "$p" ] && "$p" --version >/dev/null 2>&1 && echo "$p"
}
if found; then exit 0; fi
lock=${XDG_CACHE_HOME:-$HOME/.cache}/vigil/promtool.lock
mkdir -p "$(dirname "$lock")"
# Two test processes may get here at once: one installs, the other waits and finds it done.
exec 9>"$lock"
flock 9
if found; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "promtool missing and not root (no sudo) to install it" >&2; exit 1; }
  sudo="sudo -n"
fi
# A fresh image may have no package lists yet: update once, then install.
if ! apt-cache show prometheus >/dev/null 2>&1; then
  $sudo apt-get update >&2
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends prometheus >&2
# The package must really have brought promtool (a renamed or split package would not).
dpkg -L prometheus | grep -x /usr/bin/promtool >/dev/null || { echo "the prometheus package has no /usr/bin/promtool" >&2; exit 1; }
# The package's service is not wanted on a test machine; where systemd runs, it would start it.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
found
