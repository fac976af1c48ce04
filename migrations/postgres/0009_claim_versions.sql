-- identity_claims.event_version: the account stream version of the event that gave the claim
-- to user_id; null while the claim is reserved ahead of its event (a registration or an email
-- or handle change under way). A pending email claim signs nobody in. Claims made before this
-- column existed were all given by their events already: version 0.
alter table vigil_read.identity_claims add column event_version bigint;
update vigil_read.identity_claims set event_version = 0;
