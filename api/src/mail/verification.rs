//! E-mail verification at registration (`--email-verification required`): a new account
//! gets a one-time token by mail and cannot sign in until `verifyEmail` presents it. Only a
//! hash of the token is stored (it is 256 random bits, so an unkeyed hash tells a reader of
//! the table nothing), beside its expiry and the time it was used.
//!
//! What an unverified account can do: nothing that needs a session. Its correct password is
//! answered `FORBIDDEN` ("confirm your e-mail address first") and mails a fresh token, so an
//! expired one is never a dead end; `verifyEmail` with the token; registering again answers
//! `accepted` as always. An account without a row (registered while verification was off,
//! before it existed, or made by an operator) is not asked, nor is anyone when it is off.
//!
//! Must not: say whether an address has an account (`verifyEmail` knows tokens, not
//! addresses), or store the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::Row;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vigil_projections::read::micros;

use super::Verification;
use super::message::Notice;
use crate::service::{ApiError, ApiResult, Service};

/// How long a verification token works.
pub const TOKEN_LIFETIME: Duration = Duration::hours(48);
/// The answer to a sign-in with the right password before the address is confirmed.
pub const UNVERIFIED: &str = "confirm your e-mail address first: a new code was sent to it";

fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

impl Service {
    /// Whether new accounts must confirm their address (only a server with mail asks).
    pub(crate) fn verification_required(&self) -> bool {
        self.mail().is_some_and(|m| m.verification() == Verification::Required)
    }

    /// Records a fresh token for `user` (replacing an unused one) and queues it by mail.
    ///
    /// # Errors
    /// No randomness; database errors.
    pub(crate) async fn send_verification(&self, user: Uuid, now: OffsetDateTime) -> ApiResult<()> {
        let notice = self.expect_verification(user, now).await?;
        self.mail_notice(user, notice).await;
        Ok(())
    }

    /// Records a fresh token for `user` (replacing an unused one) and returns the message
    /// that carries it, for the caller to queue once the account exists (the sender drops a
    /// message whose account it cannot find).
    ///
    /// # Errors
    /// No randomness; database errors.
    pub(crate) async fn expect_verification(&self, user: Uuid, now: OffsetDateTime) -> ApiResult<Notice> {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| ApiError::internal(anyhow::anyhow!("no randomness: {e}")))?;
        let token = URL_SAFE_NO_PAD.encode(bytes.as_ref());
        let expires_at = now + TOKEN_LIFETIME;
        self.db()
            .execute_durably(
                sqlx::query(
                    "insert into email_verifications (user_id, token_hash, expires_at, verified_at) \
                     values ($1, $2, $3, null) on conflict (user_id) do update \
                     set token_hash = excluded.token_hash, expires_at = excluded.expires_at \
                     where email_verifications.verified_at is null",
                )
                .bind(user.to_string())
                .bind(token_hash(&token))
                .bind(micros(expires_at)),
            )
            .await?;
        Ok(Notice::VerifyEmail { token, expires_at })
    }

    /// Drops the token of a registration that wrote no account.
    pub(crate) async fn forget_verification(&self, user: Uuid) {
        let dropped = sqlx::query("delete from email_verifications where user_id = $1")
            .bind(user.to_string())
            .execute(self.db().pool())
            .await;
        if let Err(e) = dropped {
            tracing::warn!(error = %e, "could not drop the verification token of a failed registration");
        }
    }

    /// Whether `user` has a token out and has not used it (and the server asks for it).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn awaiting_verification(&self, user: Uuid) -> ApiResult<bool> {
        if !self.verification_required() {
            return Ok(false);
        }
        let row = sqlx::query("select verified_at from email_verifications where user_id = $1")
            .bind(user.to_string())
            .fetch_optional(self.db().pool())
            .await
            .map_err(vigil_projections::ProjectionError::from)?;
        Ok(match row {
            Some(row) => row
                .try_get::<Option<i64>, _>("verified_at")
                .map_err(vigil_projections::ProjectionError::from)?
                .is_none(),
            None => false,
        })
    }

    /// Confirms the address whose token this is.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` (`token`) for a token unknown, used or expired.
    pub async fn verify_email(&self, token: &str) -> ApiResult<()> {
        let now = OffsetDateTime::now_utc();
        let done = self
            .db()
            .execute_durably(
                sqlx::query(
                    "update email_verifications set verified_at = $1 \
                     where token_hash = $2 and verified_at is null and expires_at > $1",
                )
                .bind(micros(now))
                .bind(token_hash(token.trim())),
            )
            .await?;
        if sqlx::any::AnyQueryResult::rows_affected(&done) == 1 {
            Ok(())
        } else {
            Err(ApiError::bad(
                "token",
                "this code is unknown, used or expired; sign in to get a new one",
            ))
        }
    }
}
