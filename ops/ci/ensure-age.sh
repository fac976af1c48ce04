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
"$(dirname "$0")/apt-install.sh" age age zstd
found
