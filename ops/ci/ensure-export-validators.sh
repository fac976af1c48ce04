#!/usr/bin/env bash
# The outside validators of the export tests, in a virtualenv of their own: fhir.resources
# 5.1.1, the last release whose models are FHIR R4 (4.0.1; later ones are R4B and R5), and
# jsonschema for the JSON export's committed schema. Prints the virtualenv's python on stdout.
# Exits non-zero when it cannot be made; the tests then skip the outside checks, except with
# CI=true, where they fail.
set -euo pipefail
exec "$(dirname "$0")/ensure-venv.sh" \
  "${VIGIL_EXPORT_VALIDATORS:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/export-validators-1}" \
  'import fhir.resources, jsonschema; assert fhir.resources.__fhir_version__ == "4.0.1"' \
  'fhir.resources==5.1.1' 'jsonschema>=4.18,<5'
