-- Read models (schema vigil_read, rebuildable from the log) and the server's authentication
-- state, used through the role vigil_reader, which cannot touch the log or the vault.
-- Same shapes as migrations/sqlite/read: ids text, times bigint µs, decimals text, JSON text.

do $$ begin
    create role vigil_reader nologin;
exception when duplicate_object or unique_violation then null;
end $$;
do $$ begin
    execute format('grant vigil_reader to %I', current_user);
end $$;

create schema vigil_read;
revoke all on schema vigil_read from public;

create table vigil_read.projection_checkpoints (
    name text primary key,
    position bigint not null,
    updated_at bigint not null
);

create table vigil_read.accounts (
    user_id text primary key,
    handle text not null,
    role text not null,
    tier text not null,
    settings text not null,
    ai_consent bigint not null,
    erasure_requested bigint not null,
    registered_at bigint not null,
    updated_at bigint not null
);

create table vigil_read.credentials (
    user_id text primary key,
    password_hash text not null,
    changed_at bigint not null
);

create table vigil_read.protocols (
    protocol_id text primary key,
    user_id text not null,
    name text not null,
    status text not null,
    current_version bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index protocols_by_user on vigil_read.protocols (user_id, created_at, protocol_id);

create table vigil_read.protocol_versions (
    protocol_id text not null,
    version bigint not null,
    user_id text not null,
    name text not null,
    items text not null,
    effective_from text not null,
    reason text,
    recorded_at bigint not null,
    primary key (protocol_id, version)
);
create index protocol_versions_by_user on vigil_read.protocol_versions (user_id);

create table vigil_read.protocol_status_changes (
    protocol_id text not null,
    seq bigint not null,
    user_id text not null,
    on_date text not null,
    status text not null,
    primary key (protocol_id, seq)
);
create index protocol_status_changes_by_user on vigil_read.protocol_status_changes (user_id);

create table vigil_read.doses (
    dose_id text primary key,
    user_id text not null,
    protocol_id text not null,
    item_id text not null,
    outcome text not null,
    compound text,
    dose text,
    active text,
    route text,
    site text,
    taken_at bigint,
    scheduled_for bigint,
    note text,
    sort_at bigint not null,
    corrections bigint not null,
    retracted bigint not null,
    recorded_at bigint not null
);
create index doses_by_user on vigil_read.doses (user_id, sort_at, dose_id);

create table vigil_read.health_logs (
    entry_id text primary key,
    user_id text not null,
    kind text not null,
    loinc text not null,
    components text not null,
    measured_at bigint not null,
    note text,
    corrections bigint not null,
    retracted bigint not null,
    recorded_at bigint not null
);
create index health_logs_by_user on vigil_read.health_logs (user_id, kind, measured_at, entry_id);

create table vigil_read.bloodwork_panels (
    panel_id text primary key,
    user_id text not null,
    drawn_at bigint not null,
    lab_name text,
    results text not null,
    corrections bigint not null,
    retracted bigint not null,
    recorded_at bigint not null
);
create index bloodwork_panels_by_user on vigil_read.bloodwork_panels (user_id, drawn_at, panel_id);

create table vigil_read.marker_results (
    panel_id text not null,
    idx bigint not null,
    user_id text not null,
    marker text not null,
    name text not null,
    loinc text,
    value text not null,
    unit text not null,
    canonical_value text,
    canonical_unit text,
    si_value text,
    si_unit text,
    flag text,
    drawn_at bigint not null,
    primary key (panel_id, idx)
);
create index marker_results_by_user on vigil_read.marker_results (user_id, marker, drawn_at);

-- Authentication state: written by the API, not by projections, and untouched by a rebuild.
-- identity_claims reserves an email (by keyed blind index, never the address) or a handle
-- before the registering event is appended, so two registrations cannot both win.
create table vigil_read.identity_claims (
    kind text not null,
    claim text not null,
    user_id text not null,
    claimed_at bigint not null,
    primary key (kind, claim)
);
create index identity_claims_by_user on vigil_read.identity_claims (user_id);

create table vigil_read.sessions (
    family_id text primary key,
    user_id text not null,
    created_at bigint not null,
    revoked_at bigint,
    revoked_reason text
);
create index sessions_by_user on vigil_read.sessions (user_id);

-- Refresh tokens are stored only as keyed hashes; each works once (used_at).
create table vigil_read.refresh_tokens (
    token_hash text primary key,
    family_id text not null,
    user_id text not null,
    issued_at bigint not null,
    expires_at bigint not null,
    used_at bigint
);
create index refresh_tokens_by_family on vigil_read.refresh_tokens (family_id);
create index refresh_tokens_by_user on vigil_read.refresh_tokens (user_id);

grant usage on schema vigil_read to vigil_reader;
grant select, insert, update, delete on all tables in schema vigil_read to vigil_reader;
