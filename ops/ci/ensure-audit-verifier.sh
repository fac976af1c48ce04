#!/usr/bin/env bash
# The independent bundle verifier's two PyPI packages (blake3, cryptography) in a virtualenv
# of their own. Prints the virtualenv's python on stdout. Exits non-zero when it cannot be
# made; the tests then skip the second verifier, except with CI=true, where they fail.
set -euo pipefail
exec "$(dirname "$0")/ensure-venv.sh" \
  "${VIGIL_AUDIT_VERIFIER_ENV:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/audit-verifier-1}" \
  'import blake3, cryptography.hazmat.primitives.asymmetric.ed25519' \
  'blake3>=1,<2' 'cryptography>=42'
