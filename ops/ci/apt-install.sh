#!/usr/bin/env bash
# Installs Debian packages for the tests' outside tools, one installer at a time:
#   apt-install.sh NAME PACKAGE...
# NAME names the lock (two test processes may get here at once: one installs, the other waits,
# and apt finds nothing left to do). Uses sudo -n when not root; updates the package lists once
# when the first package is unknown (a fresh image). The ensure-*.sh scripts beside it check
# for their tool before and after; this does the rest.
set -euo pipefail
name=$1
shift
lock=${XDG_CACHE_HOME:-$HOME/.cache}/vigil/$name.lock
mkdir -p "$(dirname "$lock")"
exec 9>"$lock"
flock 9
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "$name missing and not root (no sudo) to install it" >&2; exit 1; }
  sudo="sudo -n"
fi
if ! apt-cache show "$1" >/dev/null 2>&1; then
  $sudo apt-get update >&2
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$@" >&2
