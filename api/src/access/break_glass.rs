//! Break-glass: an admin opens a grant on one person (a written justification of at least 20
//! characters, at most 60 minutes, a fresh TOTP code). The grant is an event on the person's
//! access log, appended before the grant row exists, so no grant is ever in force without its
//! record. While it is open, that admin may read that person's health data and nothing else;
//! each read is recorded (see `gate`).
//! Must not let a grant outlive its end: every check compares `expires_at` with now.

use sqlx::Row;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vigil_domain::access::AccessEvent;
use vigil_domain::account::Role;
use vigil_projections::ReadDb;
use vigil_projections::read::{self, micros};

use super::totp::SecondFactorProof;
use crate::service::{ApiError, ApiResult, Caller, Service};

/// The longest grant.
pub const MAX_GRANT_MINUTES: i64 = 60;
/// The shortest justification.
pub const MIN_JUSTIFICATION_CHARS: usize = 20;

/// An open grant.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Its id.
    pub id: Uuid,
    /// The person.
    pub subject: Uuid,
    /// When it ends.
    pub expires_at: OffsetDateTime,
    /// Position of its event.
    pub position: u64,
}

/// The open grant of `admin` on `subject` at `now`, if any: its id and justification.
///
/// # Errors
/// Database errors.
pub async fn open_grant(
    db: &ReadDb,
    admin: Uuid,
    subject: Uuid,
    now: OffsetDateTime,
) -> ApiResult<Option<(Uuid, String)>> {
    let row = sqlx::query(
        "select grant_id, justification from break_glass_grants where admin_id = $1 and user_id = $2 \
         and expires_at > $3 order by expires_at desc limit 1",
    )
    .bind(admin.to_string())
    .bind(subject.to_string())
    .bind(micros(now))
    .fetch_optional(db.pool())
    .await
    .map_err(ApiError::internal)?;
    let Some(row) = row else { return Ok(None) };
    let id: String = row.try_get("grant_id").map_err(ApiError::internal)?;
    let justification: String = row.try_get("justification").map_err(ApiError::internal)?;
    Ok(Some((Uuid::parse_str(&id).map_err(ApiError::internal)?, justification)))
}

impl Service {
    /// Opens a grant for `caller` (an admin) on `subject`.
    ///
    /// # Errors
    /// `FORBIDDEN` for anyone but an admin; `BAD_USER_INPUT` for the justification or the
    /// duration; `UNAUTHENTICATED` for a wrong TOTP code; `NOT_FOUND` for an unknown person.
    pub async fn open_break_glass(
        &self,
        caller: &Caller,
        subject: Uuid,
        justification: &str,
        minutes: i64,
        code: &SecondFactorProof,
    ) -> ApiResult<Grant> {
        if caller.role != Role::Admin {
            return Err(ApiError::Forbidden("only an admin may open a break-glass grant"));
        }
        let justification = justification.trim();
        let chars = justification.chars().count();
        if !(MIN_JUSTIFICATION_CHARS..=2_000).contains(&chars) {
            return Err(ApiError::bad(
                "justification",
                format!("write at least {MIN_JUSTIFICATION_CHARS} characters (at most 2000) on why"),
            ));
        }
        if !(1..=MAX_GRANT_MINUTES).contains(&minutes) {
            return Err(ApiError::bad(
                "minutes",
                format!("a grant lasts 1 to {MAX_GRANT_MINUTES} minutes"),
            ));
        }
        if !matches!(code, SecondFactorProof::Code(_)) {
            return Err(ApiError::bad("totpCode", "a current TOTP code is required"));
        }
        let target = read::account(self.db(), subject).await?.ok_or(ApiError::NotFound)?;
        if target.role.is_staff() {
            return Err(ApiError::Forbidden(
                "break-glass opens a person's health data; staff accounts hold none",
            ));
        }
        let now = OffsetDateTime::now_utc();
        self.check_second_factor(caller.user, code, now).await?;
        let id = Uuid::now_v7();
        let expires_at = now + Duration::minutes(minutes);
        let by = self.actor_of(caller).await?;
        let position = self
            .record(
                subject,
                AccessEvent::BreakGlassOpened {
                    grant: id,
                    by,
                    justification: justification.to_owned(),
                    expires_at,
                    at: now,
                },
                Service::metadata_for(caller),
            )
            .await?;
        self.db()
            .execute_durably(
                sqlx::query(
                    "insert into break_glass_grants (grant_id, admin_id, user_id, justification, opened_at, \
                     expires_at) values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id.to_string())
                .bind(caller.user.to_string())
                .bind(subject.to_string())
                .bind(justification.to_owned())
                .bind(micros(now))
                .bind(micros(expires_at)),
            )
            .await
            .map_err(ApiError::internal)?;
        Ok(Grant {
            id,
            subject,
            expires_at,
            position,
        })
    }
}
