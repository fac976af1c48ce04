#!/usr/bin/env bash
# One virtualenv of outside Python tools for the tests, made idempotently (quick once made):
#   ensure-venv.sh DIR 'python code that succeeds when the tools are there' PACKAGE...
# Prints the virtualenv's python on stdout; exits non-zero when it cannot be made. The
# ensure-*.sh scripts beside it name their directory, check and packages; this does the rest.
set -euo pipefail
dir=$1
code=$2
shift 2
python=$dir/bin/python
check() { "$python" -c "$code" 2>/dev/null; }
if [ -x "$python" ] && check; then
  echo "$python"
  exit 0
fi
mkdir -p "$(dirname "$dir")"
# Two processes may get here at once: one installs, the other waits and finds it done.
exec 9>"$dir.lock"
flock 9
if [ -x "$python" ] && check; then
  echo "$python"
  exit 0
fi
python3 -m venv "$dir" >&2
"$python" -m pip install --quiet --disable-pip-version-check "$@" >&2
"$python" -c "$code" >&2
echo "$python"
