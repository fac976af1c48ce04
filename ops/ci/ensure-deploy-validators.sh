#!/usr/bin/env bash
# The deployment check's Python packages (jsonschema for the vendored compose-spec schema,
# PyYAML to read compose.yaml) in a virtualenv of their own. Prints the virtualenv's python on
# stdout. Exits non-zero when it cannot be made; ops/ci/check-deploy.sh then skips the compose
# checks, except with CI=true, where it fails.
set -euo pipefail
exec "$(dirname "$0")/ensure-venv.sh" \
  "${VIGIL_DEPLOY_VALIDATORS:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/deploy-validators-1}" \
  'import jsonschema, yaml' \
  'jsonschema>=4.18,<5' 'PyYAML>=6,<7'
