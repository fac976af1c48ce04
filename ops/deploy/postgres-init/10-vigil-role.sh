#!/usr/bin/env bash
# First-start set-up of the compose Postgres (the official postgres:15 image runs every script
# in /docker-entrypoint-initdb.d once, when it creates an empty cluster): the login role vigil
# connects as, vigil_server, and the database it owns, vigil. Nothing else: `vigil serve`
# migrates first, and the migrations (migrations/postgres/0001, 0002, 0006) create the four
# NOLOGIN roles they use (vigil_log_writer, vigil_key_keeper, vigil_reader, vigil_projector)
# and grant them to the role that migrates, which then SET ROLEs into them per pool.
#
# Why not a login role named `vigil`: PostgreSQL's default search_path is "$user", public, and
# the first migration creates a schema named vigil. sqlx keeps its migration table in the first
# schema of the search path, so a role named vigil records the migrations in public on the first
# start and looks for them in schema vigil on the second, where it finds none and fails
# re-running migration 1 ("schema vigil already exists"). The same holds for vigil_vault and
# vigil_read. (Seen with `vigil migrate` then `vigil serve` against a throwaway cluster.)
#
# Why CREATEROLE and not SUPERUSER: the migrations run `create role` and grant the new roles to
# current_user, which on PostgreSQL 15 needs CREATEROLE; a superuser would also bypass the
# row-level security and the append-only triggers' intent. The role gets neither SUPERUSER nor
# BYPASSRLS. (CREATEROLE on 15 is still broad: it may grant itself any non-superuser role. Once
# the schema exists an operator may `alter role vigil_server nocreaterole` until the next
# migration that creates a role: `create role` checks the privilege before it sees the role exists, so
# keep CREATEROLE while upgrading.)
#
# The password comes from a secret file, never from the environment or this script.
# Also run by ops/ci/check-deploy.sh against a throwaway cluster (VIGIL_DB_PASSWORD_FILE and
# the PG* connection variables set there).
set -euo pipefail
password_file=${VIGIL_DB_PASSWORD_FILE:-/run/secrets/vigil_db_password}
if [ ! -s "$password_file" ]; then
  echo "10-vigil-role.sh: $password_file is missing or empty" >&2
  exit 1
fi
# The password reaches psql as a variable (:'password' quotes it as a literal), not inside the
# SQL text, and not on a command line other processes could read: psql's \set reads the file
# through a backtick command (psql quotes :'password_file' for the shell there).
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v password_file="$password_file" <<'SQL'
\set password `tr -d '\n' < :'password_file'`
create role vigil_server login createrole nosuperuser nocreatedb nobypassrls password :'password';
create database vigil owner vigil_server;
-- Only its owner (and the superuser) may connect to the database.
revoke all on database vigil from public;
SQL
