//! Sessions and refresh tokens in the read database. A session is a refresh-token family:
//! each refresh token works once; presenting a used one revokes the whole family (someone
//! replayed a stolen token), and logout revokes it too. Tokens are stored only as keyed
//! hashes. Must not store a token or anything personal beyond the user id.

use sqlx::Row;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vigil_domain::account::Role;
use vigil_projections::read::micros;
use vigil_projections::{Backend, ReadDb};

use super::live::LiveSessions;
use super::{ApiError, ApiResult};
use crate::cluster::revocations;

/// How long an unused refresh token stays valid.
pub const REFRESH_LIFETIME: Duration = Duration::days(30);

/// What a presented refresh token turned out to be.
pub enum Redeemed {
    /// Valid and now used: issue a successor in the same family.
    Fresh {
        /// The owner.
        user: Uuid,
        /// The family.
        family: Uuid,
    },
    /// Unknown, expired or in a revoked family.
    Invalid,
    /// Already used once: the family was revoked just now.
    Reused {
        /// The owner, told in their access log.
        user: Uuid,
    },
}

/// Opens a session; `second_factor` says whether sign-in passed one (staff roles need it).
pub async fn start(db: &ReadDb, user: Uuid, now: OffsetDateTime, second_factor: bool) -> ApiResult<Uuid> {
    let family = Uuid::now_v7();
    sqlx::query("insert into sessions (family_id, user_id, created_at, second_factor) values ($1, $2, $3, $4)")
        .bind(family.to_string())
        .bind(user.to_string())
        .bind(micros(now))
        .bind(i64::from(second_factor))
        .execute(db.pool())
        .await
        .map_err(ApiError::internal)?;
    Ok(family)
}

pub async fn store_refresh(
    db: &ReadDb,
    hash: [u8; 32],
    family: Uuid,
    user: Uuid,
    now: OffsetDateTime,
) -> ApiResult<()> {
    sqlx::query(
        "insert into refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(hex::encode(hash))
    .bind(family.to_string())
    .bind(user.to_string())
    .bind(micros(now))
    .bind(micros(now + REFRESH_LIFETIME))
    .execute(db.pool())
    .await
    .map_err(ApiError::internal)?;
    Ok(())
}

/// Uses a refresh token once. The `used_at is null` guard makes two concurrent refreshes with
/// the same token resolve to one winner and one reuse.
pub async fn redeem(db: &ReadDb, live: &LiveSessions, hash: [u8; 32], now: OffsetDateTime) -> ApiResult<Redeemed> {
    let hash = hex::encode(hash);
    let row = sqlx::query(
        "select t.family_id, t.user_id, t.expires_at, t.used_at, s.revoked_at from refresh_tokens t \
         join sessions s on s.family_id = t.family_id where t.token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await
    .map_err(ApiError::internal)?;
    let Some(row) = row else { return Ok(Redeemed::Invalid) };
    let family = parse(&row.try_get::<String, _>("family_id").map_err(ApiError::internal)?)?;
    let user = parse(&row.try_get::<String, _>("user_id").map_err(ApiError::internal)?)?;
    let expires_at: i64 = row.try_get("expires_at").map_err(ApiError::internal)?;
    let used_at: Option<i64> = row.try_get("used_at").map_err(ApiError::internal)?;
    let revoked_at: Option<i64> = row.try_get("revoked_at").map_err(ApiError::internal)?;
    if revoked_at.is_some() {
        return Ok(Redeemed::Invalid);
    }
    if used_at.is_some() {
        revoke(db, live, family, "refresh token reused", now).await?;
        return Ok(Redeemed::Reused { user });
    }
    if expires_at <= micros(now) {
        return Ok(Redeemed::Invalid);
    }
    // Durable: a use lost in a crash would make the token redeemable, and its reuse
    // undetected, once more.
    let used = db
        .execute_durably(
            sqlx::query("update refresh_tokens set used_at = $2 where token_hash = $1 and used_at is null")
                .bind(hash.clone())
                .bind(micros(now)),
        )
        .await
        .map_err(ApiError::internal)?;
    if used.rows_affected() != 1 {
        revoke(db, live, family, "refresh token reused", now).await?;
        return Ok(Redeemed::Reused { user });
    }
    Ok(Redeemed::Fresh { user, family })
}

pub async fn revoke(
    db: &ReadDb,
    live: &LiveSessions,
    family: Uuid,
    reason: &str,
    now: OffsetDateTime,
) -> ApiResult<()> {
    // Forget before and after the update: a check racing with it is then never remembered.
    live.forget(family);
    let update = sqlx::query(
        "update sessions set revoked_at = $2, revoked_reason = $3 where family_id = $1 and revoked_at is null",
    )
    .bind(family.to_string())
    .bind(micros(now))
    .bind(reason.to_owned());
    in_force_everywhere(db, live, update, family).await?;
    live.forget(family);
    Ok(())
}

/// Makes `token` (a jti) the one access token `family` honours; the one it replaces is refused
/// from now on, on every server (the family is announced like a revocation).
pub async fn honour_only(db: &ReadDb, live: &LiveSessions, family: Uuid, token: Uuid) -> ApiResult<()> {
    live.forget(family);
    let update = sqlx::query("update sessions set access_token_id = $2 where family_id = $1")
        .bind(family.to_string())
        .bind(token.to_string());
    in_force_everywhere(db, live, update, family).await?;
    live.forget(family);
    Ok(())
}

/// Revokes every session of `user` except `keep` (after a password change).
pub async fn revoke_others(
    db: &ReadDb,
    live: &LiveSessions,
    user: Uuid,
    keep: Uuid,
    now: OffsetDateTime,
) -> ApiResult<()> {
    live.forget_others(user, keep);
    let update = sqlx::query(
        "update sessions set revoked_at = $3, revoked_reason = 'password changed' \
         where user_id = $1 and family_id <> $2 and revoked_at is null",
    )
    .bind(user.to_string())
    .bind(keep.to_string())
    .bind(micros(now));
    // Other processes forget all of the person's sessions; the kept one is checked again.
    in_force_everywhere(db, live, update, user).await?;
    live.forget_others(user, keep);
    Ok(())
}

/// Revokes every session of `user` (role change, disable, erasure).
pub async fn revoke_all(
    db: &ReadDb,
    live: &LiveSessions,
    user: Uuid,
    reason: &str,
    now: OffsetDateTime,
) -> ApiResult<()> {
    live.forget_user(user);
    let update = sqlx::query(
        "update sessions set revoked_at = $2, revoked_reason = $3 where user_id = $1 and revoked_at is null",
    )
    .bind(user.to_string())
    .bind(micros(now))
    .bind(reason.to_owned());
    in_force_everywhere(db, live, update, user).await?;
    live.forget_user(user);
    Ok(())
}

/// Commits a revocation durably (a revocation lost in a crash would bring the session back)
/// and tells every other process sharing the store to forget `id` (a family or a user)
/// before its next request: on Postgres in the same transaction (the notice is delivered
/// exactly at commit), on SQLite right after the commit, through the signal file.
async fn in_force_everywhere(
    db: &ReadDb,
    live: &LiveSessions,
    update: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    id: Uuid,
) -> ApiResult<()> {
    match db.backend() {
        Backend::Postgres => {
            let mut tx = db.pool().begin().await.map_err(ApiError::internal)?;
            update.execute(&mut *tx).await.map_err(ApiError::internal)?;
            sqlx::query(revocations::NOTIFY_SQL)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(ApiError::internal)?;
            tx.commit().await.map_err(ApiError::internal)?;
        }
        Backend::Sqlite => {
            db.execute_durably(update).await.map_err(ApiError::internal)?;
            live.signal().announce().map_err(ApiError::internal)?;
        }
    }
    Ok(())
}

/// The role a live session acts with, or `None` when the session ended, the account is
/// disabled or gone, or a staff role is held on a session opened without a second factor.
///
/// The role is read with the session on every request, so a role change or a disable is
/// in force on the next request (both also revoke the person's sessions). Only ordinary
/// users' sessions are answered from memory (until any revocation names them, on any node,
/// and for at most [`super::live::LIVE_FOR`]); a staff session is checked against the
/// database every time.
pub async fn live_role(
    db: &ReadDb,
    live: &LiveSessions,
    family: Uuid,
    user: Uuid,
    token: Uuid,
) -> ApiResult<Option<Role>> {
    if live.recently_live(family, user, token) {
        return Ok(Some(Role::User));
    }
    let check = live.check();
    let row = sqlx::query(
        "select s.revoked_at, s.second_factor, s.access_token_id, a.role, a.disabled from sessions s \
         join accounts a on a.user_id = s.user_id where s.family_id = $1 and s.user_id = $2",
    )
    .bind(family.to_string())
    .bind(user.to_string())
    .fetch_optional(db.pool())
    .await
    .map_err(ApiError::internal)?;
    let Some(row) = row else { return Ok(None) };
    let revoked: Option<i64> = row.try_get("revoked_at").map_err(ApiError::internal)?;
    let second_factor: i64 = row.try_get("second_factor").map_err(ApiError::internal)?;
    let disabled: i64 = row.try_get("disabled").map_err(ApiError::internal)?;
    let honoured: Option<String> = row.try_get("access_token_id").map_err(ApiError::internal)?;
    // Sessions opened before the column existed honour any of their tokens until refreshed.
    if honoured.is_some_and(|id| id != token.to_string()) {
        return Ok(None);
    }
    let role_name: String = row.try_get("role").map_err(ApiError::internal)?;
    let role =
        Role::parse(&role_name).ok_or_else(|| ApiError::internal(anyhow::anyhow!("unknown role {role_name:?}")))?;
    if revoked.is_some() || disabled != 0 || (role.is_staff() && second_factor == 0) {
        return Ok(None);
    }
    if role == Role::User {
        live.remember(family, user, token, check);
    }
    Ok(Some(role))
}

fn parse(text: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text).map_err(ApiError::internal)
}
