//! Second-factor challenges: what a correct password earns when the account needs a second
//! factor (`sign_in`), or when a staff account must enrol one before any session (`enrol`).
//! A challenge is `vgm_` and 43 base64url characters, stored only as a keyed hash, good for
//! five minutes and spent once. It is not a JWT, so it can never pass as an access token.
//! Must not open a session: that is sign-in's, after the second factor checked out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vigil_projections::read::micros;
use zeroize::Zeroizing;

use crate::service::{ApiError, ApiResult, Service};

/// How long a challenge is good for.
pub const LIFETIME: Duration = Duration::minutes(5);
const PREFIX: &str = "vgm_";

/// What a challenge allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Completing a sign-in with a TOTP or recovery code.
    SignIn,
    /// Enrolling TOTP (staff without one), then signing in.
    Enrol,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
            Purpose::Enrol => "enrol",
        }
    }
}

/// A challenge as handed to the client.
pub struct Issued {
    /// The token (a bearer secret).
    pub token: Zeroizing<String>,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

impl Service {
    /// Issues a challenge of `purpose` for `user`.
    ///
    /// # Errors
    /// Randomness and database errors.
    pub(crate) async fn issue_challenge(&self, user: Uuid, purpose: Purpose, now: OffsetDateTime) -> ApiResult<Issued> {
        let random = crate::auth::random_bytes::<32>().map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
        let expires_at = now + LIFETIME;
        sqlx::query("insert into mfa_challenges (token_hash, user_id, purpose, expires_at) values ($1, $2, $3, $4)")
            .bind(hex::encode(self.tokens().challenge_hash(&random)))
            .bind(user.to_string())
            .bind(purpose.name())
            .bind(micros(expires_at))
            .execute(self.db().pool())
            .await
            .map_err(ApiError::internal)?;
        let token = crate::auth::bearer_text(PREFIX, random.as_ref());
        Ok(Issued { token, expires_at })
    }

    /// The user a live, unspent challenge of `purpose` was issued to.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for anything else (malformed, unknown, expired, spent, other purpose).
    pub(crate) async fn challenge_user(&self, token: &str, purpose: Purpose, now: OffsetDateTime) -> ApiResult<Uuid> {
        let hash = self.challenge_hash(token)?;
        let user: Option<String> = sqlx::query_scalar(
            "select user_id from mfa_challenges where token_hash = $1 and purpose = $2 and used_at is null \
             and expires_at > $3",
        )
        .bind(hash)
        .bind(purpose.name())
        .bind(micros(now))
        .fetch_optional(self.db().pool())
        .await
        .map_err(ApiError::internal)?;
        let user = user.ok_or(ApiError::Unauthenticated(INVALID))?;
        Uuid::parse_str(&user).map_err(ApiError::internal)
    }

    /// Spends a challenge: exactly one of several concurrent callers gets `Ok`.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` when it was spent meanwhile.
    pub(crate) async fn spend_challenge(&self, token: &str, now: OffsetDateTime) -> ApiResult<()> {
        let spent = self
            .db()
            .execute_durably(
                sqlx::query("update mfa_challenges set used_at = $2 where token_hash = $1 and used_at is null")
                    .bind(self.challenge_hash(token)?)
                    .bind(micros(now)),
            )
            .await
            .map_err(ApiError::internal)?;
        if spent.rows_affected() == 1 {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated(INVALID))
        }
    }

    fn challenge_hash(&self, token: &str) -> ApiResult<String> {
        let encoded = token.strip_prefix(PREFIX).ok_or(ApiError::Unauthenticated(INVALID))?;
        if encoded.len() != 43 {
            return Err(ApiError::Unauthenticated(INVALID));
        }
        let mut random = Zeroizing::new([0u8; 32]);
        let written = URL_SAFE_NO_PAD
            .decode_slice(encoded, random.as_mut())
            .map_err(|_| ApiError::Unauthenticated(INVALID))?;
        if written != 32 {
            return Err(ApiError::Unauthenticated(INVALID));
        }
        Ok(hex::encode(self.tokens().challenge_hash(&random)))
    }
}

const INVALID: &str = "the sign-in challenge is invalid or expired; sign in again";
