//! One-time download tokens: `vgx_` and 43 base64url characters (32 random bytes), kept only
//! as a keyed hash beside the person, the format and an expiry five minutes ahead. A download
//! spends its token by deleting the row: one request alone can, on any server sharing the
//! read database. Must not: store or log the token, let an expired one through, or issue one
//! before the request is on the person's access log.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::Row;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vigil_domain::access::{AccessEvent, ExportFormat};
use vigil_domain::account::Role;
use vigil_eventstore::Metadata;
use vigil_projections::read::{self, micros};
use zeroize::Zeroizing;

use super::records::name_of;
use crate::service::{ApiError, ApiResult, Caller, Service};

/// How long a download link works.
pub const LIFETIME: Duration = Duration::minutes(5);
const PREFIX: &str = "vgx_";
/// What a refused download says, whatever the reason (malformed, unknown, spent, expired).
pub const REFUSED: &str = "this download link is unknown, used or expired; ask for a new export";

/// An issued download.
pub struct Offer {
    /// The token (a bearer secret: whoever holds it gets the export, once).
    pub token: Zeroizing<String>,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// Position of the `ExportRequested` event on the person's access log.
    pub position: u64,
}

/// A spent token: the right to stream one person's export once. Only
/// [`Service::redeem_export`] makes one, and the gate vouches for its owner's rows on it.
pub struct Ticket {
    user: Uuid,
    format: ExportFormat,
}

impl Ticket {
    /// Whose export.
    pub fn user(&self) -> Uuid {
        self.user
    }

    /// In which shape.
    pub fn format(&self) -> ExportFormat {
        self.format
    }
}

impl Service {
    /// Records the person's request on their access log (with `metadata`: a retried request
    /// with an `Idempotency-Key` records it once), then issues a download of `format`. Staff
    /// hold no health data, so they have none to export.
    ///
    /// # Errors
    /// `FORBIDDEN` for staff; the append's and the database's errors (nothing is issued when
    /// the request could not be recorded).
    pub async fn request_export(&self, caller: &Caller, format: ExportFormat, metadata: Metadata) -> ApiResult<Offer> {
        drop(self.own_data(caller)?);
        let now = OffsetDateTime::now_utc();
        let event = AccessEvent::ExportRequested { format, at: now };
        let position = self.record(caller.user, event, metadata).await?;
        let random = crate::auth::random_bytes::<32>().map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
        let expires_at = now + LIFETIME;
        // Expired rows are worthless; sweeping them here keeps the table as small as the
        // number of downloads in flight.
        sqlx::query("delete from export_tokens where expires_at <= $1")
            .bind(micros(now))
            .execute(self.db().pool())
            .await
            .map_err(ApiError::internal)?;
        sqlx::query(
            "insert into export_tokens (token_hash, user_id, format, expires_at, created_at) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(hex::encode(self.tokens().export_hash(&random)))
        .bind(caller.user.to_string())
        .bind(name_of(&format))
        .bind(micros(expires_at))
        .bind(micros(now))
        .execute(self.db().pool())
        .await
        .map_err(ApiError::internal)?;
        let token = crate::auth::bearer_text(PREFIX, random.as_ref());
        Ok(Offer {
            token,
            expires_at,
            position,
        })
    }

    /// Spends `token`: exactly one of several concurrent callers, on any server, gets the
    /// ticket, and only while the token is live and its owner may still hold health data
    /// (an ordinary account, not disabled, no erasure asked for).
    ///
    /// # Errors
    /// `NOT_FOUND` for anything else (malformed, unknown, spent, expired), without saying which.
    pub async fn redeem_export(&self, token: &str, now: OffsetDateTime) -> ApiResult<Ticket> {
        let hash = token_hash(self, token)?;
        let row = sqlx::query("select user_id, format, expires_at from export_tokens where token_hash = $1")
            .bind(hash.clone())
            .fetch_optional(self.db().pool())
            .await
            .map_err(ApiError::internal)?
            .ok_or(ApiError::NotFound)?;
        // The delete decides who spent it; durable, so a crash cannot bring it back.
        let spent = self
            .db()
            .execute_durably(sqlx::query("delete from export_tokens where token_hash = $1").bind(hash))
            .await
            .map_err(ApiError::internal)?;
        if spent.rows_affected() != 1 {
            return Err(ApiError::NotFound);
        }
        let expires_at: i64 = row.try_get("expires_at").map_err(ApiError::internal)?;
        if expires_at <= micros(now) {
            return Err(ApiError::NotFound);
        }
        let user: String = row.try_get("user_id").map_err(ApiError::internal)?;
        let user = Uuid::parse_str(&user).map_err(ApiError::internal)?;
        let format: String = row.try_get("format").map_err(ApiError::internal)?;
        let format = serde_json::from_value(serde_json::Value::String(format)).map_err(ApiError::internal)?;
        let account = read::account(self.db(), user).await?.ok_or(ApiError::NotFound)?;
        if account.role != Role::User || account.disabled || account.erasure_requested {
            return Err(ApiError::NotFound);
        }
        Ok(Ticket { user, format })
    }
}

/// The stored hash of a well-formed token.
fn token_hash(svc: &Service, token: &str) -> ApiResult<String> {
    let encoded = token.strip_prefix(PREFIX).ok_or(ApiError::NotFound)?;
    if encoded.len() != 43 {
        return Err(ApiError::NotFound);
    }
    let mut random = Zeroizing::new([0u8; 32]);
    let written = URL_SAFE_NO_PAD
        .decode_slice(encoded, random.as_mut())
        .map_err(|_| ApiError::NotFound)?;
    if written != 32 {
        return Err(ApiError::NotFound);
    }
    Ok(hex::encode(svc.tokens().export_hash(&random)))
}
