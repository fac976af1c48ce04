#!/usr/bin/env bash
# The independent bundle verifier's two PyPI packages (blake3, cryptography) in a virtualenv
# of its own (idempotent; quick once installed). Prints the virtualenv's python on stdout.
# Exits non-zero when it cannot be made; the tests then skip the second verifier, except with
# CI=true, where they fail.
set -euo pipefail
dir=${VIGIL_AUDIT_VERIFIER_ENV:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/audit-verifier-1}
python=$dir/bin/python
check() { "$python" -c 'import blake3, cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null; }
if [ -x "$python" ] && check; then
  echo "$python"
  exit 0
fi
mkdir -p "$(dirname "$dir")"
# Two test processes may get here at once: one installs, the other waits and finds it done.
exec 9>"$dir.lock"
flock 9
if [ -x "$python" ] && check; then
  echo "$python"
  exit 0
fi
python3 -m venv "$dir" >&2
"$python" -m pip install --quiet --disable-pip-version-check 'blake3>=1,<2' 'cryptography>=42' >&2
check
echo "$python"
