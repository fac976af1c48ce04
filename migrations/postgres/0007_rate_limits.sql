-- Rate limits that must hold across servers (sign-in attempts per client and per account):
-- one row per key holding its GCRA "theoretical arrival time" (microseconds since the epoch),
-- moved by one conditional upsert per attempt. Keys are keyed hashes (never an IP address or
-- an email in clear). No person's rows: the reader role gets nothing.
create table vigil_read.rate_limits (
    limit_key text primary key,
    tat bigint not null
);
grant select, insert, update, delete on vigil_read.rate_limits to vigil_projector;
revoke all on vigil_read.rate_limits from vigil_reader;
