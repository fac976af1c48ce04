-- Transactional mail (ADR 0014). The outbox: one row per message to send, claimed by one
-- server at a time (a lease: `claim` and `claimed_until`, microseconds since the epoch),
-- deleted once the SMTP server accepted it. Nothing in a row is readable without the server's
-- mail key: `sealed` is AES-256-GCM under a key derived from the vault's system secret, and
-- holds what the message needs besides the account's current address (a verification token,
-- a lock's end, the erasure confirmation's address and handle). `user_id` is null only for
-- an erasure confirmation (its person is gone); erasing a person deletes their other rows.
-- Authentication state like export_tokens: the projector only, the reader gets nothing.
create table vigil_read.mail_outbox (
    id text primary key,
    user_id text,
    kind text not null,
    sealed text not null,
    status text not null default 'pending',
    attempts bigint not null default 0,
    due_at bigint not null,
    claim text,
    claimed_until bigint not null default 0,
    created_at bigint not null
);
create index mail_outbox_due on vigil_read.mail_outbox (status, due_at);
create index mail_outbox_by_user on vigil_read.mail_outbox (user_id);
grant select, insert, update, delete on vigil_read.mail_outbox to vigil_projector;
revoke all on vigil_read.mail_outbox from vigil_reader;

-- E-mail verification at registration: the keyed hash of the one token mailed (never the
-- token), until when it works, and when it was used. An account without a row needs no
-- verification (registered before it was required, or while it was off; staff).
create table vigil_read.email_verifications (
    user_id text primary key,
    token_hash text not null unique,
    expires_at bigint not null,
    verified_at bigint
);
grant select, insert, update, delete on vigil_read.email_verifications to vigil_projector;
revoke all on vigil_read.email_verifications from vigil_reader;
