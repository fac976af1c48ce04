-- Event log (schema vigil) and key vault (schema vigil_vault), each used through its own role:
-- vigil_log_writer may only SELECT and INSERT history (no UPDATE, DELETE or TRUNCATE grants,
-- and triggers refuse them even for the owner); vigil_key_keeper alone can read wrapped keys.
-- Times are microseconds since the Unix epoch (bigint), identical to the SQLite encoding.

do $$ begin
    create role vigil_log_writer nologin;
exception when duplicate_object or unique_violation then null;
end $$;
do $$ begin
    create role vigil_key_keeper nologin;
exception when duplicate_object or unique_violation then null;
end $$;
-- The migrating user connects and then SET ROLEs into these, so it must be a member.
do $$ begin
    execute format('grant vigil_log_writer, vigil_key_keeper to %I', current_user);
end $$;

create schema vigil;
create schema vigil_vault;
revoke all on schema vigil from public;
revoke all on schema vigil_vault from public;

create table vigil.chain_head (
    id integer primary key check (id = 1),
    last_position bigint not null,
    last_hash bytea not null,
    last_recorded_at bigint not null
);

create table vigil.events (
    position bigint primary key,
    event_id uuid not null unique,
    stream_id text not null,
    stream_version bigint not null,
    subject_id uuid not null,
    event_type text not null,
    schema_version integer not null,
    recorded_at bigint not null,
    actor text not null,
    correlation_id uuid,
    causation_id uuid,
    command_id uuid,
    key_id uuid not null,
    nonce bytea not null,
    ciphertext bytea not null,
    prev_hash bytea not null,
    hash bytea not null,
    unique (stream_id, stream_version)
);

create table vigil.commands (
    command_id uuid primary key,
    stream_id text not null,
    first_version bigint not null,
    last_version bigint not null,
    first_position bigint not null,
    last_position bigint not null
);

create table vigil.erased_subjects (
    subject_id uuid primary key,
    erased_at bigint not null,
    ledger_position bigint not null
);

create function vigil.refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'vigil: % on %.% is refused: history is append-only',
        tg_op, tg_table_schema, tg_table_name;
end $$;

create trigger events_append_only before update or delete on vigil.events
    for each row execute function vigil.refuse_change();
create trigger events_no_truncate before truncate on vigil.events
    for each statement execute function vigil.refuse_change();
create trigger commands_append_only before update or delete on vigil.commands
    for each row execute function vigil.refuse_change();
create trigger commands_no_truncate before truncate on vigil.commands
    for each statement execute function vigil.refuse_change();
create trigger erased_append_only before update or delete on vigil.erased_subjects
    for each row execute function vigil.refuse_change();
create trigger erased_no_truncate before truncate on vigil.erased_subjects
    for each statement execute function vigil.refuse_change();

grant usage on schema vigil to vigil_log_writer;
grant select, insert on vigil.events, vigil.commands, vigil.erased_subjects to vigil_log_writer;
grant select, insert, update on vigil.chain_head to vigil_log_writer;

create table vigil_vault.kek (
    version integer primary key,
    check_value bytea not null unique,
    created_at bigint not null,
    retired_at bigint
);

create table vigil_vault.subjects (
    subject_id uuid primary key,
    state text not null check (state in ('active', 'shredded')),
    current_dek_version integer not null default 0,
    created_at bigint not null,
    shredded_at bigint
);

create function vigil_vault.fence_is_permanent() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' or old.state = 'shredded' then
        raise exception 'vigil: a shredded subject stays shredded and subjects are never deleted';
    end if;
    return new;
end $$;
create trigger subjects_fence before update or delete on vigil_vault.subjects
    for each row execute function vigil_vault.fence_is_permanent();

create table vigil_vault.data_keys (
    key_id uuid primary key,
    subject_id uuid not null references vigil_vault.subjects (subject_id),
    dek_version integer not null,
    kek_version integer not null references vigil_vault.kek (version),
    wrap_nonce bytea not null,
    wrapped bytea not null,
    created_at bigint not null,
    unique (subject_id, dek_version)
);

grant usage on schema vigil_vault to vigil_key_keeper;
grant select, insert, update on vigil_vault.kek, vigil_vault.subjects to vigil_key_keeper;
grant select, insert, update, delete on vigil_vault.data_keys to vigil_key_keeper;
