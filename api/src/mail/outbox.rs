//! The outbox table (`mail_outbox` in the read database): queueing, claiming under a lease,
//! and settling a claimed row (sent: deleted; failed for now: due again later; failed for
//! good: kept as `failed`, without anything readable, for the operator to count, except an
//! erasure confirmation, which is deleted: see `sender`).
//!
//! Exactly once across servers: a row is sent only by the holder of its claim, and a claim is
//! taken by one atomic update that skips rows another server holds (Postgres: `for update
//! skip locked`; SQLite: one writer at a time). Every later step names the claim, so a server
//! whose lease ran out cannot settle a row another server took over. The lease outlasts the
//! transport's time-out, so a row is never sent by two servers at once. What remains is the
//! crash between the SMTP server's acceptance and the delete: that message goes again after
//! the lease (ADR 0014).
//!
//! Must not: read or write a plaintext; decide what to send.

use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_projections::read::micros;
use vigil_projections::{Backend, ReadDb};

use super::message::Sealed;
use super::{MailError, MailKey};

/// How long a claim holds a row: well past the transport's time-out (`transport::TIMEOUT`).
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(120);
/// Attempts before a message that keeps failing for a passing reason is given up.
pub const MAX_ATTEMPTS: i64 = 10;

/// A claimed row, still sealed.
#[derive(Debug)]
pub struct Claimed {
    /// Row id.
    pub id: String,
    /// The person, or `None` for an erasure confirmation.
    pub user: Option<Uuid>,
    /// The notice's kind (the clear column).
    pub kind: String,
    /// The sealed payload.
    pub sealed: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// The claim token this server holds.
    pub claim: String,
}

/// Queues `notice` for `user` (or, with `None`, for the captured address in `to`/`handle`
/// of an erased person). Returns the row id.
///
/// # Errors
/// Sealing or database errors.
pub async fn queue(
    db: &ReadDb,
    key: &MailKey,
    user: Option<Uuid>,
    sealed: &Sealed,
    now: OffsetDateTime,
) -> Result<String, MailError> {
    let id = Uuid::now_v7().to_string();
    let kind = sealed.notice.kind();
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(sealed).map_err(|_| MailError::Sealed("cannot encode"))?);
    let sealed = key.seal(&id, kind, &plain)?;
    let at = micros(now);
    db.execute_durably(
        sqlx::query(
            "insert into mail_outbox (id, user_id, kind, sealed, status, attempts, due_at, claimed_until, created_at) \
             values ($1, $2, $3, $4, 'pending', 0, $5, 0, $5)",
        )
        .bind(id.clone())
        .bind(user.map(|u| u.to_string()))
        .bind(kind)
        .bind(sealed)
        .bind(at),
    )
    .await?;
    Ok(id)
}

/// Claims up to `limit` rows due at `now` that nobody holds, for [`LEASE`].
///
/// # Errors
/// Database errors.
pub async fn claim(db: &ReadDb, now: OffsetDateTime, limit: i64) -> Result<Vec<Claimed>, MailError> {
    let claim = Uuid::new_v4().to_string();
    let at = micros(now);
    let until = micros(now + LEASE);
    let lock = match db.backend() {
        Backend::Postgres => " for update skip locked",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "update mail_outbox set claim = $1, claimed_until = $2, attempts = attempts + 1 \
         where id in (select id from mail_outbox where status = 'pending' and due_at <= $3 \
         and claimed_until <= $3 order by due_at limit $4{lock}) \
         and status = 'pending' and claimed_until <= $3 \
         returning id, user_id, kind, sealed, attempts"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(claim.clone())
        .bind(until)
        .bind(at)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            let user: Option<String> = r.try_get("user_id")?;
            Ok(Claimed {
                id: r.try_get("id")?,
                user: user.and_then(|u| Uuid::parse_str(&u).ok()),
                kind: r.try_get("kind")?,
                sealed: r.try_get("sealed")?,
                attempts: r.try_get("attempts")?,
                claim: claim.clone(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(MailError::from)
}

/// Opens a claimed row's payload.
///
/// # Errors
/// `Sealed` when it does not open or parse.
pub fn open(key: &MailKey, row: &Claimed) -> Result<Sealed, MailError> {
    let plain = key.open(&row.id, &row.kind, &row.sealed)?;
    let sealed: Sealed = serde_json::from_slice(&plain).map_err(|_| MailError::Sealed("does not parse"))?;
    if sealed.notice.kind() != row.kind {
        return Err(MailError::Sealed("kind does not match"));
    }
    Ok(sealed)
}

/// The row was sent (or has nothing left to send to): it goes. Durable on SQLite too, so a
/// power loss does not bring back a sent message.
///
/// # Errors
/// Database errors.
pub async fn done(db: &ReadDb, row: &Claimed) -> Result<bool, MailError> {
    let result = db
        .execute_durably(
            sqlx::query("delete from mail_outbox where id = $1 and claim = $2")
                .bind(row.id.clone())
                .bind(row.claim.clone()),
        )
        .await?;
    Ok(sqlx::any::AnyQueryResult::rows_affected(&result) == 1)
}

/// A passing failure: the row is due again at `due` (the claim is released).
///
/// # Errors
/// Database errors.
pub async fn retry_at(db: &ReadDb, row: &Claimed, due: OffsetDateTime) -> Result<(), MailError> {
    sqlx::query("update mail_outbox set due_at = $1, claimed_until = 0, claim = null where id = $2 and claim = $3")
        .bind(micros(due))
        .bind(row.id.clone())
        .bind(row.claim.clone())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A failure for good: the row stays as `failed` (nothing readable in it but its kind) and is
/// never claimed again.
///
/// # Errors
/// Database errors.
pub async fn failed(db: &ReadDb, row: &Claimed) -> Result<(), MailError> {
    sqlx::query(
        "update mail_outbox set status = 'failed', claimed_until = 0, claim = null where id = $1 and claim = $2",
    )
    .bind(row.id.clone())
    .bind(row.claim.clone())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// When a row that failed `attempts` times is tried again: 30 s doubled per attempt, at most
/// an hour apart.
pub fn backoff(attempts: i64) -> std::time::Duration {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    std::time::Duration::from_secs((30u64 << exponent).min(3_600))
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1).as_secs(), 30);
        assert_eq!(backoff(2).as_secs(), 60);
        assert_eq!(backoff(5).as_secs(), 480);
        assert_eq!(backoff(9).as_secs(), 3_600);
        assert_eq!(backoff(100).as_secs(), 3_600);
    }
}
