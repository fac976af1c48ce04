#!/usr/bin/env bash
# The age CLI (Debian's `age` package, 1.1 on bookworm) and zstd, with which the backup tests
# open vigil's backup archives the way an operator without vigil would:
#   age -d -i KEY FILE | zstd -d | tar t
# Installed only when missing (idempotent; quick once installed). Prints age's path on stdout.
# Exits non-zero when it cannot be had; the tests then skip that check, except with CI=true.
set -euo pipefail
found() {
  local p
  p=$(command -v age 2>/dev/null || true)
  [ -n "$p" ] && command -v zstd >/dev/null 2>&1 && "$p" --version >/dev/null 2>&1 && echo "$p"
}
if found; then exit 0; fi
lock=${XDG_CACHE_HOME:-$HOME/.cache}/vigil/age.lock
mkdir -p "$(dirname "$lock")"
# Two test processes may get here at once: one installs, the other waits and finds it done.
exec 9>"$lock"
flock 9
if found; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "age missing and not root (no sudo) to install it" >&2; exit 1; }
  sudo="sudo -n"
fi
# A fresh image may have no package lists yet: update once, then install.
if ! apt-cache show age >/dev/null 2>&1; then
  $sudo apt-get update >&2
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends age zstd >&2
found
