#!/usr/bin/env bash
# A real SMTP server for the mail tests: PyPI's aiosmtpd in a virtualenv of its own (the
# tests run api/tests/server/mail/smtp_sink.py with it, on a loopback port). Prints the
# virtualenv's python on stdout. Exits non-zero when it cannot be made; the tests then skip
# the SMTP checks, except with CI=true, where they fail.
set -euo pipefail
exec "$(dirname "$0")/ensure-venv.sh" \
  "${VIGIL_SMTP_SINK_ENV:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/smtp-1}" \
  'import aiosmtpd.controller' \
  'aiosmtpd>=1.4,<2'
