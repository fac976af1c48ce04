-- Rate limits that must hold across processes (sign-in attempts per client and per account):
-- one row per key holding its GCRA "theoretical arrival time" (microseconds since the epoch).
-- Keys are keyed hashes (never an IP address or an email in clear).
create table rate_limits (
    limit_key text primary key,
    tat integer not null
);
