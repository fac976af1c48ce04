-- The event log (events.db). Append-only: triggers refuse UPDATE and DELETE on every table
-- that records history. Keys never live here: they are in keys.db (the vault).
-- Times are microseconds since the Unix epoch; ids are 16-byte uuids.

create table chain_head (
    id integer primary key check (id = 1),
    last_position integer not null,
    last_hash blob not null,
    last_recorded_at integer not null
);

create table events (
    position integer primary key,
    event_id blob not null unique,
    stream_id text not null,
    stream_version integer not null,
    subject_id blob not null,
    event_type text not null,
    schema_version integer not null,
    recorded_at integer not null,
    actor text not null,
    correlation_id blob,
    causation_id blob,
    command_id blob,
    key_id blob not null,
    nonce blob not null,
    ciphertext blob not null,
    prev_hash blob not null,
    hash blob not null,
    unique (stream_id, stream_version)
);

create trigger events_refuse_update before update on events
begin select raise(abort, 'vigil: events are append-only'); end;
create trigger events_refuse_delete before delete on events
begin select raise(abort, 'vigil: events are append-only'); end;

-- Idempotency: a command id maps to the append it produced, forever.
create table commands (
    command_id blob primary key,
    stream_id text not null,
    first_version integer not null,
    last_version integer not null,
    first_position integer not null,
    last_position integer not null
);

create trigger commands_refuse_update before update on commands
begin select raise(abort, 'vigil: commands are append-only'); end;
create trigger commands_refuse_delete before delete on commands
begin select raise(abort, 'vigil: commands are append-only'); end;

-- The erasure fence on the log side: appends for these subjects are refused, by any process.
create table erased_subjects (
    subject_id blob primary key,
    erased_at integer not null,
    ledger_position integer not null
);

create trigger erased_subjects_refuse_update before update on erased_subjects
begin select raise(abort, 'vigil: erasure fences are permanent'); end;
create trigger erased_subjects_refuse_delete before delete on erased_subjects
begin select raise(abort, 'vigil: erasure fences are permanent'); end;
