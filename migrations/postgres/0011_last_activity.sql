-- Inactivity (api/src/erasure/inactivity.rs): the last day a person used their account (ISO
-- date, UTC; registration counts) and the day a pending inactivity notice names for the
-- erasure (null when none). Accounts from before these columns start from their registration
-- day, which is what a rebuild from their events sets too.
alter table vigil_read.accounts add column last_active_on text;
alter table vigil_read.accounts add column inactivity_erase_on text;
update vigil_read.accounts
    set last_active_on = to_char(to_timestamp(registered_at / 1000000) at time zone 'UTC', 'YYYY-MM-DD');
create index accounts_by_last_active on vigil_read.accounts (last_active_on);
