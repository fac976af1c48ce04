#!/usr/bin/env bash
# Checks ops/deploy/ without Docker (which cannot run on the machines this was written on):
#   1. vigil.service (and the backup units, vigil-backup*.service/.timer): `systemd-analyze verify` (any diagnostic fails: it exits 0 on unknown
#      directives, so its output is the signal) and `systemd-analyze security --offline=true`
#      under an exposure threshold; a unit with a typo'd directive and one with a bad value
#      must be caught, or the check itself fails.
#   2. Caddyfile: `caddy validate` (loads every module, binds nothing, asks for no
#      certificate), `caddy fmt`, and asserts on the JSON `caddy adapt` makes of it; a broken
#      Caddyfile must be refused.
#   3. compose.yaml: the vendored compose-spec JSON Schema and the hardening asserts
#      (ops/ci/check-deploy.py, in a virtualenv from ops/ci/ensure-deploy-validators.sh).
#   4. Dockerfile: parsed, and asserted multi-stage, --locked, distroless nonroot.
#   5. With `--runtime BIN` (ops/test.sh passes the binary `cargo test` built): the database
#      path compose.yaml relies on, on a throwaway PostgreSQL 15 with password authentication:
#      postgres-init/10-vigil-role.sh, `vigil migrate` twice and `vigil serve` as vigil_server
#      with the password only in a PGPASSFILE, under the kernel's no-W^X rule
#      (MemoryDenyWriteExecute=), answering /readyz.
# Tools are installed when missing (caddy from Debian, the Python packages from PyPI); one that
# cannot be is a warning and a skip, except with CI=true, where it is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy=ops/deploy
runtime_bin=
if [ "${1:-}" = "--runtime" ]; then runtime_bin=${2:?--runtime needs the vigil binary}; fi

tmp=$(mktemp -d /tmp/vigil-check-deploy.XXXXXX)
pg_dir=
serve_pid=
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  if [ -n "$pg_dir" ]; then ops/pg-throwaway.sh stop "$pg_dir"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

unavailable() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $1, and CI=true forbids skipping its check" >&2
    exit 1
  fi
  echo "WARNING: $1; its check is skipped (never in CI)" >&2
}

if [ -z "$runtime_bin" ]; then
# --- 1. the systemd unit ---------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  # verify wants the ExecStart binary to exist; everything else is the unit as shipped, under
  # its own name (the name decides the unit type).
  mkdir -p "$tmp/unit" "$tmp/broken"
  sed 's#^ExecStart=/usr/local/bin/vigil #ExecStart=/bin/true #' "$deploy/vigil.service" > "$tmp/unit/vigil.service"
  grep -q '^ExecStart=/bin/true serve$' "$tmp/unit/vigil.service" \
    || { echo "FAIL: vigil.service: ExecStart is not /usr/local/bin/vigil serve" >&2; exit 1; }
  verify() { systemd-analyze verify --man=no "$1" 2>&1 || echo "(exit status $?)"; }
  out=$(verify "$tmp/unit/vigil.service")
  if [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify $deploy/vigil.service:" >&2
    echo "$out" >&2
    exit 1
  fi
  # The backup units (a daily set, a monthly drill), each timer with its service beside it.
  for unit in vigil-backup.service vigil-backup.timer vigil-backup-drill.service vigil-backup-drill.timer; do
    sed 's#^ExecStart=/usr/local/bin/vigil #ExecStart=/bin/true #' "$deploy/$unit" > "$tmp/unit/$unit"
  done
  grep -q '^ExecStart=/bin/true backup create ' "$tmp/unit/vigil-backup.service" \
    || { echo "FAIL: vigil-backup.service does not run vigil backup create" >&2; exit 1; }
  grep -q '^ExecStart=/bin/true backup drill ' "$tmp/unit/vigil-backup-drill.service" \
    || { echo "FAIL: vigil-backup-drill.service does not run vigil backup drill" >&2; exit 1; }
  for unit in vigil-backup.timer vigil-backup-drill.timer; do
    out=$(verify "$tmp/unit/$unit"; verify "$tmp/unit/${unit%.timer}.service")
    if [ -n "$out" ]; then
      echo "FAIL: systemd-analyze verify $deploy/$unit and its service:" >&2
      echo "$out" >&2
      exit 1
    fi
  done
  # Self-check: a misspelt directive and a bad value, each only a warning to systemd.
  sed 's/^ProtectSystem=strict$/ProtectSytem=strict/' "$tmp/unit/vigil.service" > "$tmp/broken/vigil.service"
  typo=$(verify "$tmp/broken/vigil.service")
  sed 's/^ProtectSystem=strict$/ProtectSystem=strickt/' "$tmp/unit/vigil.service" > "$tmp/broken/vigil.service"
  value=$(verify "$tmp/broken/vigil.service")
  if [ -z "$typo" ] || [ -z "$value" ]; then
    echo "FAIL: self-check: systemd-analyze verify did not report a broken copy of the unit" >&2
    exit 1
  fi
  echo "systemd: verify clean; broken copies caught: ${typo##*/} | ${value##*/}"
  # The directives the unit promises, by value (a deleted line is not a verify error).
  for want in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
      PrivateDevices=yes MemoryDenyWriteExecute=yes CapabilityBoundingSet= AmbientCapabilities= \
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service \
      SystemCallArchitectures=native UMask=0077 StateDirectory=vigil User=vigil \
      'Environment=VIGIL_MASTER_KEY_FILE=%d/master.key' 'Environment=VIGIL_TOKEN_KEY_FILE=%d/token.key' \
      'Environment=VIGIL_CHECKPOINT_KEY_FILE=%d/checkpoint.key'; do
    grep -qxF "$want" "$deploy/vigil.service" || { echo "FAIL: vigil.service lacks $want" >&2; exit 1; }
  done
  # The exposure score (0 best, 10 worst); --offline reads the unit without a running systemd.
  max_exposure=${VIGIL_DEPLOY_MAX_EXPOSURE:-2.0}
  if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    score_line=$(systemd-analyze security --offline=true "$tmp/unit/vigil.service" 2>&1 | grep 'Overall exposure level' || true)
    score=$(echo "$score_line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
    if [ -z "$score" ]; then
      echo "FAIL: systemd-analyze security gave no exposure level" >&2; exit 1
    fi
    echo "systemd: ${score_line#→ } (threshold $max_exposure)"
    if ! awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }'; then
      echo "FAIL: vigil.service exposure $score is above $max_exposure" >&2; exit 1
    fi
  else
    unavailable "this systemd-analyze has no 'security --offline' (systemd < 250)"
  fi
else
  unavailable "systemd-analyze is not installed"
fi

# --- 2. the Caddyfile ------------------------------------------------------------------------
if ! command -v caddy >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # Debian's package would start caddy.service (a daemon on port 80) where systemd runs;
  # policy-rc.d forbids that for the install, and is removed after unless it was there before.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
  fi
  { apt-get install -y --no-install-recommends caddy >/dev/null 2>&1 \
      || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends caddy >/dev/null 2>&1; }; } || true
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
if command -v caddy >/dev/null; then
  # validate provisions the TLS and HTTP apps; keep whatever storage it touches out of $HOME.
  caddy_env=(env HOME="$tmp" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" VIGIL_DOMAIN=vigil.example.org)
  if ! out=$("${caddy_env[@]}" caddy validate --config "$deploy/Caddyfile" --adapter caddyfile 2>&1); then
    echo "FAIL: caddy validate $deploy/Caddyfile:" >&2; echo "$out" >&2; exit 1
  fi
  if echo "$out" | grep -q 'not formatted'; then
    echo "FAIL: $deploy/Caddyfile is not formatted: run caddy fmt --overwrite $deploy/Caddyfile" >&2; exit 1
  fi
  sed 's/health_uri /health_url /' "$deploy/Caddyfile" > "$tmp/Caddyfile.broken"
  if "${caddy_env[@]}" caddy validate --config "$tmp/Caddyfile.broken" --adapter caddyfile >/dev/null 2>&1; then
    echo "FAIL: self-check: caddy validate accepted a Caddyfile with a misspelt subdirective" >&2; exit 1
  fi
  "${caddy_env[@]}" caddy adapt --config "$deploy/Caddyfile" --adapter caddyfile 2>/dev/null > "$tmp/caddy.json"
  echo "caddy: $(caddy version | cut -d' ' -f1) validate: Valid configuration; a broken copy refused"
  python3 ops/ci/check-deploy.py caddy "$tmp/caddy.json"
else
  unavailable "caddy is not installed and could not be (apt-get install caddy)"
fi

# --- 3 and 4. compose.yaml, the Dockerfile, the variables --------------------------------------
if python=$(ops/ci/ensure-deploy-validators.sh); then
  "$python" ops/ci/check-deploy.py compose
else
  unavailable "the compose validators (jsonschema, PyYAML) could not be installed"
fi
python3 ops/ci/check-deploy.py dockerfile
python3 ops/ci/check-deploy.py env
echo "deploy: static checks passed"
exit 0
fi

# --- 5. the database path, run for real ------------------------------------------------------
[ -x "$runtime_bin" ] || { echo "FAIL: --runtime $runtime_bin is not an executable" >&2; exit 1; }
# The cluster runs as postgres when this runs as root: it must reach its directory, and the
# password file the init script hands psql.
chmod 755 "$tmp"
pg_dir=$tmp/pg
port=${VIGIL_DEPLOY_PG_PORT:-$(( 40000 + RANDOM % 20000 ))}
if ! pg_url=$(ops/pg-throwaway.sh start "$pg_dir" "$port"); then
  pg_dir=
  unavailable "PostgreSQL could not start for the deployment's database check"
  exit 0
fi
# The port it listens on (another one when the first was taken).
port=${pg_url##*:}
port=${port%%/*}
psql_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}/psql
tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 40 > "$tmp/vigil_db_password" || true
chmod 644 "$tmp/vigil_db_password"
PATH="$(dirname "$psql_bin"):$PATH" PGHOST=127.0.0.1 PGPORT=$port \
  VIGIL_DB_PASSWORD_FILE="$tmp/vigil_db_password" "$deploy/postgres-init/10-vigil-role.sh" >/dev/null
# Password authentication for vigil_server (the throwaway cluster trusts everyone otherwise),
# so a wrong or unread PGPASSFILE fails here as it would in production.
sed -i '1i host all vigil_server 127.0.0.1/32 scram-sha-256' "$pg_dir/data/pg_hba.conf"
"$psql_bin" -h 127.0.0.1 -p "$port" -U postgres -qAtc 'select pg_reload_conf()' >/dev/null
printf '127.0.0.1:%s:vigil:vigil_server:%s\n' "$port" "$(cat "$tmp/vigil_db_password")" > "$tmp/vigil.pgpass"
chmod 600 "$tmp/vigil.pgpass"
head -c 32 /dev/urandom | base64 > "$tmp/master.key"
head -c 32 /dev/urandom | base64 > "$tmp/token.key"
"$runtime_bin" checkpoint new-key --name vigil.example.org/vigil/1 > "$tmp/checkpoint.key" 2>/dev/null
export VIGIL_DATABASE_URL="postgres://vigil_server@127.0.0.1:$port/vigil"
export PGPASSFILE=$tmp/vigil.pgpass
export VIGIL_MASTER_KEY_FILE=$tmp/master.key VIGIL_TOKEN_KEY_FILE=$tmp/token.key VIGIL_CHECKPOINT_KEY_FILE=$tmp/checkpoint.key
# No SMTP relay here: the serve below runs with mail explicitly off (ADR 0014).
export VIGIL_NO_MAIL=true VIGIL_EMAIL_VERIFICATION=off
# Twice: a second start must find the first one's migrations (a role named like a schema
# would not; postgres-init/10-vigil-role.sh).
"$runtime_bin" migrate >/dev/null
"$runtime_bin" migrate >/dev/null
roles=$("$psql_bin" -h 127.0.0.1 -p "$port" -U postgres -qAtc \
  "select string_agg(rolname, ' ' order by rolname) from pg_roles where rolname like 'vigil%' and not rolsuper and not rolbypassrls")
[ "$roles" = "vigil_key_keeper vigil_log_writer vigil_projector vigil_reader vigil_server" ] \
  || { echo "FAIL: roles after migrating: $roles" >&2; exit 1; }
# PR_SET_MDWE (65), PR_MDWE_REFUSE_EXEC_GAIN (1): what MemoryDenyWriteExecute=yes enforces,
# inherited across exec (Linux 6.3+; older kernels refuse it and the serve runs without).
# Port 0: the kernel picks a free port and vigil prints it (a fixed port could be taken).
python3 - "$runtime_bin" > "$tmp/serve.log" 2>&1 <<'PY' &
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
mdwe = libc.prctl(65, 1, 0, 0, 0) == 0
print("mdwe" if mdwe else "no-mdwe", flush=True)
os.execv(sys.argv[1], [sys.argv[1], "serve", "--listen", "127.0.0.1:0",
                       "--trusted-proxy", "127.0.0.1/32"])
PY
serve_pid=$!
ready=
for _ in $(seq 1 100); do
  base=$(sed -n 's#^vigil listening on \(http://[^ ]*\)$#\1#p' "$tmp/serve.log" | head -1)
  if [ -n "$base" ] && ready=$(curl -fsS "$base/readyz" 2>/dev/null); then break; fi
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.2
done
if [ "${ready%% *}" != "ready" ]; then
  echo "FAIL: vigil serve as vigil_server did not become ready:" >&2; cat "$tmp/serve.log" >&2; exit 1
fi
mdwe=$(head -1 "$tmp/serve.log")
echo "runtime: init script, migrate twice, serve as vigil_server via PGPASSFILE ($mdwe): /readyz $ready"
