#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 cluster from the local binaries: initdb into a temp
# dir, its own port, fsync off (PG_DURABLE=1: defaults, fsync on, for benchmarks). Used by
# ops/test.sh and benchmarks; never by production.
#   ops/pg-throwaway.sh start DIR PORT   (prints the superuser URL)
#   ops/pg-throwaway.sh stop DIR
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?start|stop}; dir=${2:?data dir}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port=${3:?port}
    # Tests need no durability; benchmarks set PG_DURABLE=1 to measure with fsync on.
    if [ "${PG_DURABLE:-0}" = 1 ]; then durability=""; else
      durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi
    [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL binaries not found in $PG_BIN" >&2; exit 1; }
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    as_pg "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -N >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # A port another process holds is not the cluster's fault: try a few others (callers take
    # the port from the URL printed below).
    for attempt in 1 2 3 4 5; do
      if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $durability -c max_connections=300" \
        start >/dev/null; then
        echo "postgres://postgres@127.0.0.1:$port/postgres"
        exit 0
      fi
      grep -q "Address already in use" "$dir/server.log" 2>/dev/null || break
      echo "port $port is taken (attempt $attempt); trying another" >&2
      port=$(( 20000 + RANDOM % 40000 ))
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
