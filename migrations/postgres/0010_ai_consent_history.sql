-- The history of a person's consent to AI processing (accounts.ai_consent is the current
-- state): one row per change, keyed by the event's version in the account stream. A person's
-- rows: row-level security as for every other such table (0006).
create table vigil_read.ai_consent_changes (
    user_id text not null,
    seq bigint not null,
    given bigint not null,
    at bigint not null,
    primary key (user_id, seq)
);
grant select, insert, update, delete, truncate on vigil_read.ai_consent_changes to vigil_projector;
revoke all on vigil_read.ai_consent_changes from vigil_reader;
grant select on vigil_read.ai_consent_changes to vigil_reader;
alter table vigil_read.ai_consent_changes enable row level security;
alter table vigil_read.ai_consent_changes force row level security;
create policy subject_only on vigil_read.ai_consent_changes for select to vigil_reader
    using (user_id = current_setting('vigil.subject', true));
create policy projector_all on vigil_read.ai_consent_changes for all to vigil_projector
    using (true) with check (true);
