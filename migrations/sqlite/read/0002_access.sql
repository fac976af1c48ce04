-- Staff roles, lockout, the second factor and the access log (see ops/adr/0006).

-- Projections.
alter table accounts add column disabled bigint not null default 0;

create table second_factors (
    user_id text primary key,
    enabled bigint not null,
    recovery_codes_left bigint not null,
    changed_at bigint not null
);

create table access_log (
    user_id text not null,
    seq bigint not null,
    position bigint not null,
    at bigint not null,
    kind text not null,
    actor_user text,
    actor_role text,
    actor_handle text,
    query text,
    fields text,
    grant_id text,
    reason text,
    detail text,
    primary key (user_id, seq)
);
create index access_log_by_position on access_log (position);

-- Authentication state (written by the API; every row of a person carries user_id).
-- second_factor: 1 when the session was established with a second factor; a staff role is
-- served only on such a session.
alter table sessions add column second_factor bigint not null default 0;

-- Failed sign-ins per account (key `u:<user>`), or per blind index of an unknown email
-- (`e:<index>`, user_id null), so both cost the same write.
create table login_throttle (
    throttle_key text primary key,
    user_id text,
    window_start bigint not null,
    failures bigint not null,
    locked_until bigint not null
);
create index login_throttle_by_user on login_throttle (user_id);

-- The last TOTP time step accepted per account: a code is good once (conditional update).
create table totp_steps (
    user_id text primary key,
    last_step bigint not null
);

-- Second-factor challenges after a correct password (purpose sign_in) or for a staff account
-- that must enrol first (purpose enrol); stored as keyed hashes, single use.
create table mfa_challenges (
    token_hash text primary key,
    user_id text not null,
    purpose text not null,
    expires_at bigint not null,
    used_at bigint
);
create index mfa_challenges_by_user on mfa_challenges (user_id);

-- Open break-glass grants: an admin may read one person's health data until expires_at.
create table break_glass_grants (
    grant_id text primary key,
    admin_id text not null,
    user_id text not null,
    justification text not null,
    opened_at bigint not null,
    expires_at bigint not null
);
create index break_glass_grants_by_subject on break_glass_grants (user_id, admin_id);
