-- The one access token (its jti) a session honours: issuing one (sign-in, refresh) replaces
-- it, so the token a refresh replaced is refused at once, not at its expiry.
alter table vigil_read.sessions add column access_token_id text;
