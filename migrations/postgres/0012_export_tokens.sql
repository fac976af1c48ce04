-- One-time download tokens of data exports: the token itself is never stored, only its keyed
-- hash; a row is deleted when the download starts (at most once, on any server) and is
-- worthless after expires_at (microseconds since the epoch). Erasing the person deletes their
-- rows. Authentication state like mfa_challenges: the projector only, the reader gets nothing.
create table vigil_read.export_tokens (
    token_hash text primary key,
    user_id text not null,
    format text not null,
    expires_at bigint not null,
    created_at bigint not null
);
create index export_tokens_by_expiry on vigil_read.export_tokens (expires_at);
grant select, insert, update, delete on vigil_read.export_tokens to vigil_projector;
revoke all on vigil_read.export_tokens from vigil_reader;

-- Every reading of a person in time order, whatever the vital (an export's pages, and
-- `healthLogs` without a vital): the older index leads with the kind, so such a page sorted
-- all of the person's readings each time.
create index health_logs_by_user_time on vigil_read.health_logs (user_id, measured_at, entry_id);
