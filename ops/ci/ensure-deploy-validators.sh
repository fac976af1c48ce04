#!/usr/bin/env bash
# The deployment check's Python packages (jsonschema for the vendored compose-spec schema,
# PyYAML to read compose.yaml) in a virtualenv of their own (idempotent; quick once
# installed). Prints the virtualenv's python on stdout. Exits non-zero when it cannot be made;
# ops/ci/check-deploy.sh then skips the compose checks, except with CI=true, where it fails.
set -euo pipefail
dir=${VIGIL_DEPLOY_VALIDATORS:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/deploy-validators-1}
python=$dir/bin/python
check() { "$python" -c 'import jsonschema, yaml' 2>/dev/null; }
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
"$python" -m pip install --quiet --disable-pip-version-check 'jsonschema>=4.18,<5' 'PyYAML>=6,<7' >&2
check
echo "$python"
