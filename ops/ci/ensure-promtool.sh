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
"$(dirname "$0")/apt-install.sh" promtool prometheus
# The package must really have brought promtool (a renamed or split package would not).
dpkg -L prometheus | grep -x /usr/bin/promtool >/dev/null || { echo "the prometheus package has no /usr/bin/promtool" >&2; exit 1; }
# The package's service is not wanted on a test machine; where systemd runs, it would start it.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  if [ "$(id -u)" = 0 ]; then systemctl disable --now prometheus >/dev/null 2>&1 || true
  else sudo -n systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
fi
found
