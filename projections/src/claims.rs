//! Identity claims (`identity_claims`): which account holds an email (by its blind index) or a
//! handle. A claim is reserved by the api *before* the event that needs it is appended, so two
//! people cannot both win an address; until that event is known the claim is *pending*
//! (`event_version` null) and signs nobody in. [`settle`] then gives it to the account as of
//! the event's version in the account stream, and drops that account's older claims of the
//! same kind. The api settles right after its append (so the change is in force when it
//! answers, even if the read models lag) and the accounts projection settles again when it
//! applies the event (so a crash between the append and the api's settle, or a read database
//! rebuilt from the log, ends in the same state).
//!
//! Why versions: the api and the projection may settle the same account's claims in any order
//! (two quick changes, a projection that lags, a rebuild replaying old events). Keeping, per
//! account and kind, only the claim of the highest version makes the outcome the log's last
//! word whatever the order. On Postgres both settle under a per-account advisory lock held to
//! the end of their transaction, so one settle always sees the other's rows; SQLite has one
//! writer at a time.
//!
//! Must not store an address (only blind indexes), decide who may claim what (the api's), or
//! touch a claim held by another account.

use sqlx::AnyConnection;

use crate::db::Backend;
use crate::error::Result;

/// Gives `claim` (a blind index of `kind`, `email` or `handle`) to `user` as of its account
/// stream's `version`, unless another account holds it; then deletes `user`'s claims of
/// `kind` settled at an older version. Pending claims (of changes still under way) are left.
/// Run inside a transaction: on Postgres the advisory lock lasts until it ends.
///
/// # Errors
/// Database errors.
pub async fn settle(
    conn: &mut AnyConnection,
    backend: Backend,
    kind: &str,
    claim: &str,
    user: &str,
    version: i64,
    at: i64,
) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("identity_claims:{user}"))
            .execute(&mut *conn)
            .await?;
    }
    // Only this account's row is updated (never locked or changed for another holder); a
    // missing row is inserted unless someone else holds the claim by now.
    let updated = sqlx::query(
        "update identity_claims set event_version = $4 where kind = $1 and claim = $2 and user_id = $3 \
         and (event_version is null or event_version < $4)",
    )
    .bind(kind.to_owned())
    .bind(claim.to_owned())
    .bind(user.to_owned())
    .bind(version)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 0 {
        sqlx::query(
            "insert into identity_claims (kind, claim, user_id, claimed_at, event_version) values ($1, $2, $3, $4, $5) \
             on conflict (kind, claim) do nothing",
        )
        .bind(kind.to_owned())
        .bind(claim.to_owned())
        .bind(user.to_owned())
        .bind(at)
        .bind(version)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "delete from identity_claims where kind = $1 and user_id = $2 and event_version < \
         (select max(event_version) from identity_claims where kind = $1 and user_id = $2)",
    )
    .bind(kind.to_owned())
    .bind(user.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
