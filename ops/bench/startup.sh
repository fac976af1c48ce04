#!/usr/bin/env bash
# Start-up time to ready: `vigil serve --dev` from exec until /readyz answers `ready`, on an
# empty store, then on a store of N events (default 1 M: 1000 subjects x 1000) the first time
# (the projection runner reads the whole log before it is ready) and once more (a restart).
# With a Postgres URL as the third argument the store is there (the URL's role needs
# CREATEDB; a database is created and dropped); otherwise a SQLite data dir under DIR.
#
#   ops/bench/startup.sh BIN DIR [postgres://…] [SUBJECTS] [PER_SUBJECT]
set -euo pipefail
bin=$(realpath "$1"); dir=$2; url=${3:-}; subjects=${4:-1000}; per=${5:-1000}
mkdir -p "$dir"; dir=$(realpath "$dir")
export VIGIL_MASTER_KEY=${VIGIL_MASTER_KEY:-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=}
if [ -n "$url" ]; then
  # On Postgres `serve` runs as in production: its keys (fresh for this run), and no mail.
  export VIGIL_TOKEN_KEY=${VIGIL_TOKEN_KEY:-$(head -c 32 /dev/urandom | base64)}
  "$bin" checkpoint new-key --name bench.invalid/vigil/1 > "$dir/checkpoint.key" 2>/dev/null
  export VIGIL_CHECKPOINT_KEY_FILE=$dir/checkpoint.key VIGIL_NO_MAIL=true VIGIL_EMAIL_VERIFICATION=off
fi

store_args() { # $1: name
  if [ -n "$url" ]; then echo "--database-url ${url%/*}/$1"; else echo "--data-dir $dir/$1"; fi
}

fresh() { # $1: name
  if [ -n "$url" ]; then
    psql "$url" -qc "drop database if exists $1 with (force)" -c "create database $1" >/dev/null
  else
    rm -rf "${dir:?}/$1"
  fi
}

# Prints seconds from exec to the first `ready` from /readyz, then stops the server.
time_to_ready() { # $1: name
  local log=$dir/serve-$1.log base="" start pid
  # Emptied here, not by the server's redirection: a read racing that would find the last
  # run's port.
  : > "$log"
  start=$(date +%s.%N)
  # shellcheck disable=SC2046
  "$bin" $(store_args "$1") serve --dev --listen 127.0.0.1:0 >> "$log" 2>&1 &
  pid=$!
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; return 1; fi
    if [ -z "$base" ]; then
      base=$(sed -n 's#^vigil listening on \(http://[^ ]*\)$#\1#p' "$log" | head -1)
    elif [ "$(curl -s "$base/readyz" || true)" = ready ]; then
      break
    fi
    sleep 0.02
  done
  echo "$(date +%s.%N) - $start" | bc
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "vigil start-up to /readyz ready ($( [ -n "$url" ] && echo Postgres || echo SQLite ))"
fresh vigil_startup_empty
echo "  empty store, first start: $(time_to_ready vigil_startup_empty) s"
echo "  empty store, restart:     $(time_to_ready vigil_startup_empty) s"
fresh vigil_startup_full
# Migrate and seed. Seeded events sit in streams no projection follows, but the runner of a
# first start still reads (and opens) every one of them to move its checkpoints past them.
# shellcheck disable=SC2046
"$bin" $(store_args vigil_startup_full) migrate > /dev/null
s0=$(date +%s.%N)
# shellcheck disable=SC2046
"$bin" $(store_args vigil_startup_full) seed --subjects "$subjects" --events-per-subject "$per" > /dev/null
echo "  seeded $((subjects * per)) events in $(echo "$(date +%s.%N) - $s0" | bc) s"
echo "  $((subjects * per)) events, first start (projects the log): $(time_to_ready vigil_startup_full) s"
echo "  $((subjects * per)) events, restart:                        $(time_to_ready vigil_startup_full) s"
if [ -n "$url" ]; then
  psql "$url" -qc "drop database vigil_startup_empty with (force)" -c "drop database vigil_startup_full with (force)" >/dev/null
else
  rm -rf "${dir:?}/vigil_startup_empty" "${dir:?}/vigil_startup_full"
fi
