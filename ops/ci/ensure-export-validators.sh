#!/usr/bin/env bash
# The outside validators of the export tests, in a virtualenv of their own (idempotent; quick
# once installed): fhir.resources 5.1.1, the last release whose models are FHIR R4 (4.0.1;
# later ones are R4B and R5), and jsonschema for the JSON export's committed schema.
# Prints the virtualenv's python on stdout. Exits non-zero when it cannot be made; the tests
# then skip the outside checks, except with CI=true, where they fail.
set -euo pipefail
dir=${VIGIL_EXPORT_VALIDATORS:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/export-validators-1}
python=$dir/bin/python
if [ -x "$python" ] && "$python" -c 'import fhir.resources, jsonschema; assert fhir.resources.__fhir_version__ == "4.0.1"' 2>/dev/null; then
  echo "$python"
  exit 0
fi
mkdir -p "$(dirname "$dir")"
# Two test processes may get here at once: one installs, the other waits and finds it done.
exec 9>"$dir.lock"
flock 9
if [ -x "$python" ] && "$python" -c 'import fhir.resources, jsonschema; assert fhir.resources.__fhir_version__ == "4.0.1"' 2>/dev/null; then
  echo "$python"
  exit 0
fi
python3 -m venv "$dir" >&2
"$python" -m pip install --quiet --disable-pip-version-check 'fhir.resources==5.1.1' 'jsonschema>=4.18,<5' >&2
"$python" -c 'import fhir.resources, jsonschema; assert fhir.resources.__fhir_version__ == "4.0.1"' >&2
echo "$python"
