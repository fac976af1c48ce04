-- The history of a person's consent to AI processing (accounts.ai_consent is the current
-- state): one row per change, keyed by the event's version in the account stream.
create table ai_consent_changes (
    user_id text not null,
    seq bigint not null,
    given bigint not null,
    at bigint not null,
    primary key (user_id, seq)
);
