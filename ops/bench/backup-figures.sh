#!/usr/bin/env bash
# Backup figures beside the databases' own tools, on one store, in one run (ADR 0013):
#   ops/bench/backup-figures.sh VIGIL_BIN WORKDIR [POSTGRES_URL]
# Seeds 1 M events (1000 subjects x 1000) into a SQLite data dir (and, with a URL, into that
# Postgres database, which must be empty), then times `vigil backup create`, `drill` and
# `restore` beside `sqlite3 .backup` (and `pg_dump -Fc` / `pg_restore`), printing wall time,
# max RSS and bytes of each. Needs sqlite3, pg_dump/pg_restore/createdb for Postgres, GNU time.
set -euo pipefail
bin=$1 work=$2 pg=${3:-}
subjects=${SUBJECTS:-1000} per=${PER:-1000}
mkdir -p "$work"; cd "$work"
t() { # t LABEL CMD... : wall seconds and max RSS of one command
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o .t "$@" > .out 2> .err || { cat .err >&2; exit 1; }
  read -r wall rss < .t
  printf '%-34s %8.2f s %8d MB\n' "$label" "$wall" "$((rss / 1024))"
}
size() { du -cb "$@" | tail -1 | cut -f1; }
"$bin" backup keygen > log.id 2> log.pub; "$bin" backup keygen > vault.id 2> vault.pub
lr=$(sed 's/Public key: //' log.pub); vr=$(sed 's/Public key: //' vault.pub)

run() { # run NAME STORE-FLAGS...
  local name=$1; shift
  echo "== $name: seeding $((subjects * per)) events"
  "$bin" "$@" seed --subjects "$subjects" --events-per-subject "$per" > /dev/null 2>&1
  rm -rf "sets-$name" "restored-$name"
  t "vigil backup create ($name)" "$bin" "$@" backup create --to "sets-$name" --recipient "$lr" --vault-recipient "$vr"
  set_dir=$(ls -d "sets-$name"/*/)
  echo "   set: $(size "$set_dir"/*.age) bytes (log $(size "$set_dir"/log.tar.zst.age), vault $(size "$set_dir"/vault.tar.zst.age))"
  t "vigil backup drill ($name)" "$bin" "$@" backup drill --dir "sets-$name" --identity log.id --identity vault.id
  grep -q "drill passed" .out || { cat .out; exit 1; }
}

export VIGIL_MASTER_KEY=${VIGIL_MASTER_KEY:-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=}
rm -rf live-sqlite
run sqlite --data-dir live-sqlite
t "sqlite3 .backup (events + keys)" sh -c 'sqlite3 live-sqlite/events.db ".backup sq-events.db" && sqlite3 live-sqlite/keys.db ".backup sq-keys.db"'
echo "   copies: $(size sq-events.db sq-keys.db) bytes; zstd -3 of them: $(zstd -q -3 -c sq-events.db | wc -c) + $(zstd -q -3 -c sq-keys.db | wc -c) bytes"
t "vigil backup restore (sqlite)" "$bin" --data-dir restored-sqlite backup restore --from "$(ls -d sets-sqlite/*/)" --identity log.id --identity vault.id
rm -f sq-events.db sq-keys.db

if [ -n "$pg" ]; then
  run postgres --database-url "$pg"
  t "pg_dump -Fc -n vigil -n vigil_vault" pg_dump -Fc -n vigil -n vigil_vault -f pg.dump "$pg"
  echo "   dump: $(size pg.dump) bytes"
  t "pg_dump -Fc (whole database)" pg_dump -Fc -f pg-all.dump "$pg"
  echo "   dump: $(size pg-all.dump) bytes"
  base=${pg%/*}
  restore_db="vigil_fig_$$"
  psql -q "$pg" -c "create database $restore_db" >/dev/null
  t "vigil backup restore (postgres)" "$bin" --database-url "$base/$restore_db" backup restore --from "$(ls -d sets-postgres/*/)" --identity log.id --identity vault.id
  psql -q "$pg" -c "create database ${restore_db}_pg" >/dev/null
  t "pg_restore (whole database)" pg_restore -d "$base/${restore_db}_pg" pg-all.dump
  psql -q "$pg" -c "drop database $restore_db" -c "drop database ${restore_db}_pg" >/dev/null
  rm -f pg.dump pg-all.dump
fi
