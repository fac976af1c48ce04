//! Reserving an email (its blind index) or a handle for an account before the event that gives
//! it is appended, so two people can never both win one; settling it once the event is in the
//! log; releasing it when the change failed. Used by registration and by rectification
//! (`privacy::rectify`); the rows and their versions are `vigil_projections::claims`'.
//!
//! A reservation no event ever followed (its process died between the two) would hold the
//! address forever. So a claim older than [`STALE_CLAIM`] is taken over by the next person who
//! asks for it, but only when the holder's own account stream does not give it to them: the
//! log decides, not the read models, which may lag. A reservation is only good for
//! [`CLAIM_DEADLINE`]: a change that reaches its append later gives up instead, so nobody can
//! take a claim over while its holder is still about to append the event that uses it.
//!
//! Must not: say to whom a taken claim belongs, or log an address.

#[cfg(test)]
mod tests;

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::account::Account;
use vigil_projections::read::micros;
use vigil_projections::{read, streams};

use super::{ApiError, ApiResult, Service};

/// A claim with no event behind it after this long was left by a change that failed.
pub(crate) const STALE_CLAIM: Duration = Duration::from_secs(10 * 60);
/// How long after its reservation a change may still append the event that uses it: far
/// below [`STALE_CLAIM`], far above what an append takes.
pub(crate) const CLAIM_DEADLINE: Duration = Duration::from_secs(60);

/// The two kinds of identity claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimKind {
    /// An email's blind index.
    Email,
    /// A handle's index.
    Handle,
}

impl ClaimKind {
    fn name(self) -> &'static str {
        match self {
            ClaimKind::Email => "email",
            ClaimKind::Handle => "handle",
        }
    }
}

impl Service {
    /// Reserves `index` for `user` (pending until [`Service::settle_claim`]). A claim `user`
    /// holds already is theirs to use (a retry, or the address they have: renewed if still
    /// pending); an abandoned one of someone else's is taken over (see the module doc).
    ///
    /// # Errors
    /// `CONFLICT` with `taken` when someone else holds it.
    pub(crate) async fn claim(
        &self,
        kind: ClaimKind,
        index: &str,
        user: Uuid,
        now: OffsetDateTime,
        taken: &str,
    ) -> ApiResult<()> {
        let db = self.db();
        let inserted = sqlx::query(
            "insert into identity_claims (kind, claim, user_id, claimed_at) values ($1, $2, $3, $4) \
             on conflict (kind, claim) do nothing",
        )
        .bind(kind.name())
        .bind(index.to_owned())
        .bind(user.to_string())
        .bind(micros(now))
        .execute(db.pool())
        .await
        .map_err(ApiError::internal)?;
        if inserted.rows_affected() == 1 {
            return Ok(());
        }
        let Some(holder) = read::claim_owner(db, kind.name(), index).await? else {
            // Released between the two statements: taken a moment ago; the client may retry.
            return Err(ApiError::Conflict(taken.into()));
        };
        if holder.user == user {
            // Our own pending reservation restarts its clock, so it cannot go stale under us.
            sqlx::query(
                "update identity_claims set claimed_at = $4 where kind = $1 and claim = $2 and user_id = $3 \
                 and event_version is null",
            )
            .bind(kind.name())
            .bind(index.to_owned())
            .bind(user.to_string())
            .bind(micros(now))
            .execute(db.pool())
            .await
            .map_err(ApiError::internal)?;
            return Ok(());
        }
        let stale = micros(now) - holder.claimed_at > micros_of(STALE_CLAIM);
        if stale && !self.held_by_log(kind, index, holder.user).await? {
            // Only the very reservation we judged (same holder, same time) is taken over.
            let moved = sqlx::query(
                "update identity_claims set user_id = $3, claimed_at = $4, event_version = null \
                 where kind = $1 and claim = $2 and user_id = $5 and claimed_at = $6",
            )
            .bind(kind.name())
            .bind(index.to_owned())
            .bind(user.to_string())
            .bind(micros(now))
            .bind(holder.user.to_string())
            .bind(holder.claimed_at)
            .execute(db.pool())
            .await
            .map_err(ApiError::internal)?;
            if moved.rows_affected() == 1 {
                return Ok(());
            }
        }
        Err(ApiError::Conflict(taken.into()))
    }

    /// Whether `holder`'s account stream gives them `index` now (their email or handle is the
    /// one indexed). An erased account holds nothing.
    async fn held_by_log(&self, kind: ClaimKind, index: &str, holder: Uuid) -> ApiResult<bool> {
        let state = match self.catch_up::<Account>(&streams::account(holder), None).await {
            Ok((state, _)) => state,
            Err(ApiError::Forbidden(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        Ok(match kind {
            ClaimKind::Email => state.email.is_some_and(|e| self.index().email(&e) == index),
            ClaimKind::Handle => state.handle.is_some_and(|h| self.index().handle(h.as_str()) == index),
        })
    }

    /// Makes `index` `user`'s as of the account event at stream `version`, and drops their
    /// older claims of `kind`, in one transaction (see `vigil_projections::claims`). From its
    /// commit on, a settled email signs in and the one it replaced does not.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn settle_claim(
        &self,
        kind: ClaimKind,
        index: &str,
        user: Uuid,
        version: u64,
        now: OffsetDateTime,
    ) -> ApiResult<()> {
        let db = self.db();
        let version = i64::try_from(version).map_err(ApiError::internal)?;
        let mut tx = db.begin_write().await?;
        vigil_projections::claims::settle(
            &mut tx,
            db.backend(),
            kind.name(),
            index,
            &user.to_string(),
            version,
            micros(now),
        )
        .await?;
        tx.commit().await.map_err(ApiError::internal)?;
        Ok(())
    }

    /// Releases `user`'s pending reservation of `index` after the change that made it failed.
    /// A settled claim stays. Should the append have landed after all (an ambiguous failure),
    /// the projection settles the claim again when it applies the event.
    pub(crate) async fn release_claim(&self, kind: ClaimKind, index: &str, user: Uuid) {
        let released = sqlx::query(
            "delete from identity_claims where kind = $1 and claim = $2 and user_id = $3 and event_version is null",
        )
        .bind(kind.name())
        .bind(index.to_owned())
        .bind(user.to_string())
        .execute(self.db().pool())
        .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, kind = kind.name(), "could not release the reservation of a failed change");
        }
    }

    /// Releases every claim of an account whose registration failed.
    pub(crate) async fn release_claims(&self, user: Uuid) {
        let released = sqlx::query("delete from identity_claims where user_id = $1")
            .bind(user.to_string())
            .execute(self.db().pool())
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release the claims of a failed registration");
        }
    }
}

fn micros_of(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}
