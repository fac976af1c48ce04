-- Inactivity (api/src/erasure/inactivity.rs): the last day a person used their account (ISO
-- date, UTC; registration counts) and the day a pending inactivity notice names for the
-- erasure (null when none). Accounts from before these columns start from their registration
-- day, which is what a rebuild from their events sets too.
alter table accounts add column last_active_on text;
alter table accounts add column inactivity_erase_on text;
update accounts set last_active_on = date(registered_at / 1000000, 'unixepoch');
create index accounts_by_last_active on accounts (last_active_on);
