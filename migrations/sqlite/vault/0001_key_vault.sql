-- The key vault (keys.db), a separate file from the event log so that a copy of the log never
-- holds keys. Data keys are stored only wrapped by the master key.

-- Master key versions, identified by a keyed hash of a constant (never the key itself).
create table kek (
    version integer primary key,
    check_value blob not null unique,
    created_at integer not null,
    retired_at integer
);

-- One row per data subject. 'shredded' is a permanent fence: no key is ever created again.
create table subjects (
    subject_id blob primary key,
    state text not null check (state in ('active', 'shredded')),
    current_dek_version integer not null default 0,
    created_at integer not null,
    shredded_at integer
);

create trigger subjects_fence_is_permanent before update on subjects
when old.state = 'shredded'
begin select raise(abort, 'vigil: a shredded subject stays shredded'); end;
create trigger subjects_refuse_delete before delete on subjects
begin select raise(abort, 'vigil: subjects are never deleted, only shredded'); end;

create table data_keys (
    key_id blob primary key,
    subject_id blob not null references subjects (subject_id),
    dek_version integer not null,
    kek_version integer not null references kek (version),
    wrap_nonce blob not null,
    wrapped blob not null,
    created_at integer not null,
    unique (subject_id, dek_version)
);
