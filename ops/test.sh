#!/usr/bin/env bash
# The whole test suite, on both backends: starts a throwaway PostgreSQL 15 cluster (initdb into
# a temp dir, its own port, fsync off), runs every workspace test with VIGIL_TEST_PG_URL pointing
# at it, and stops it afterwards. With CI=true a Postgres that cannot start is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_dir=$(mktemp -d /tmp/vigil-test-pg.XXXXXX)
port=${VIGIL_TEST_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}
cleanup() { ops/pg-throwaway.sh stop "$pg_dir"; rm -rf "$pg_dir"; }
trap cleanup EXIT

if url=$(ops/pg-throwaway.sh start "$pg_dir" "$port"); then
  export VIGIL_TEST_PG_URL="$url"
  echo "throwaway PostgreSQL at $url"
elif [ "${CI:-}" = "true" ]; then
  echo "FAIL: PostgreSQL could not start, and CI=true forbids skipping the Postgres suite" >&2
  exit 1
else
  echo "WARNING: PostgreSQL could not start; Postgres cases will be skipped (never in CI)" >&2
fi

# An outside tool the tests use: `need VAR "what" script` exports VAR as the path the script
# prints. With CI=true a tool that cannot be installed is a failure; elsewhere the tests that
# need it skip those checks (and say so).
need() {
  local var=$1 what=$2 script=$3 path
  if path=$("$script"); then
    export "$var=$path"
    return 0
  fi
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $what could not be installed, and CI=true forbids skipping it" >&2
    exit 1
  fi
  echo "WARNING: $what is unavailable; the tests skip its checks (never in CI)" >&2
  return 1
}

# The export tests check their documents with outside validators (FHIR R4 models, JSON Schema).
need VIGIL_TEST_EXPORT_PYTHON "the export validators" ops/ci/ensure-export-validators.sh || true

# The audit bundle's second verifier (ops/audit/verify_bundle.py: blake3 and cryptography from
# PyPI) checks its Merkle code against the RFC 9162 vectors here, and the bundles the Rust code
# writes in the tests.
if need VIGIL_TEST_AUDIT_PYTHON "the audit bundle's Python verifier" ops/ci/ensure-audit-verifier.sh; then
  "$VIGIL_TEST_AUDIT_PYTHON" ops/audit/test_verify_bundle.py
fi

# The deployment files (ops/deploy/), checked without Docker: systemd-analyze, caddy, the
# compose-spec schema, the Dockerfile's instructions (ops/ci/check-deploy.sh). Seconds, so
# before the long part; with CI=true a tool that cannot be installed is a failure.
ops/ci/check-deploy.sh

# A real SMTP server (PyPI's aiosmtpd) that the mail tests send to on a loopback port.
need VIGIL_TEST_SMTP_PYTHON "the SMTP server for the mail tests (aiosmtpd)" ops/ci/ensure-smtp.sh || true

# promtool (Debian's prometheus package) checks the alert rules and a real /metrics scrape in
# the metrics tests.
need VIGIL_TEST_PROMTOOL "promtool" ops/ci/ensure-promtool.sh || true

# The age CLI and zstd (Debian's packages): the backup tests open vigil's archives with them, as
# an operator without vigil would.
need VIGIL_TEST_AGE "the age CLI" ops/ci/ensure-age.sh || true

cargo test --workspace --locked "$@"

# Then the database path ops/deploy/compose.yaml relies on (the init script's role, the
# password from a PGPASSFILE, migrate twice, serve), with the binary the tests just built.
vigil_bin=${CARGO_TARGET_DIR:-target}/debug/vigil
if [ -x "$vigil_bin" ]; then
  ops/ci/check-deploy.sh --runtime "$vigil_bin"
fi
