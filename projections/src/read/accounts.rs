//! Account profile, password hash, identity-claim lookups, and the history of a person's
//! consent to AI processing (read with their proof, like their health data).

use sqlx::Row;
use uuid::Uuid;
use vigil_domain::account::{BillingTier, Role, Settings};

use super::subject::Scoped;
use super::{Subject, at, date, from_json, from_name, uuid};
use crate::db::ReadDb;
use crate::error::Result;

/// A profile as the owner sees it. There is no email here, by construction.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    /// The user.
    pub user_id: Uuid,
    /// Public handle.
    pub handle: String,
    /// Role.
    pub role: Role,
    /// Billing tier.
    pub tier: BillingTier,
    /// Display settings.
    pub settings: Settings,
    /// Whether AI processing was consented to.
    pub ai_consent: bool,
    /// Whether erasure was requested.
    pub erasure_requested: bool,
    /// Whether staff disabled the account.
    pub disabled: bool,
    /// When registered.
    pub registered_at: time::OffsetDateTime,
    /// The last day the person used the account (UTC; registration counts).
    pub last_active_on: Option<time::Date>,
    /// The day a pending inactivity notice names for the erasure.
    pub inactivity_erase_on: Option<time::Date>,
}

/// The account of `user`.
///
/// # Errors
/// Database and decode errors.
pub async fn account(db: &ReadDb, user: Uuid) -> Result<Option<AccountView>> {
    let row = sqlx::query(
        "select user_id, handle, role, tier, settings, ai_consent, erasure_requested, disabled, registered_at, \
         last_active_on, inactivity_erase_on from accounts where user_id = $1",
    )
    .bind(user.to_string())
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(AccountView {
            user_id: uuid("user id", &r.try_get::<String, _>("user_id")?)?,
            handle: r.try_get("handle")?,
            role: from_name("role", &r.try_get::<String, _>("role")?)?,
            tier: from_name("tier", &r.try_get::<String, _>("tier")?)?,
            settings: from_json("settings", &r.try_get::<String, _>("settings")?)?,
            ai_consent: r.try_get::<i64, _>("ai_consent")? != 0,
            erasure_requested: r.try_get::<i64, _>("erasure_requested")? != 0,
            disabled: r.try_get::<i64, _>("disabled")? != 0,
            registered_at: at(r.try_get("registered_at")?)?,
            last_active_on: optional_date(r.try_get("last_active_on")?)?,
            inactivity_erase_on: optional_date(r.try_get("inactivity_erase_on")?)?,
        })
    })
    .transpose()
}

fn optional_date(text: Option<String>) -> Result<Option<time::Date>> {
    text.as_deref().map(date).transpose()
}

/// A user account the inactivity check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InactiveAccount {
    /// The person.
    pub user_id: Uuid,
    /// The last day they used it.
    pub last_active_on: time::Date,
    /// The day a pending notice names for the erasure.
    pub erase_on: Option<time::Date>,
}

/// At most `limit` accounts of role `user` without a pending erasure whose last active day
/// is on or before `last_active_by`, in id order after `after` (a page of the inactivity
/// check; staff accounts are never erased for inactivity).
///
/// # Errors
/// Database and decode errors.
pub async fn inactive_accounts(
    db: &ReadDb,
    last_active_by: time::Date,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<InactiveAccount>> {
    let rows = sqlx::query(
        "select user_id, last_active_on, inactivity_erase_on from accounts \
         where role = 'user' and erasure_requested = 0 and last_active_on <= $1 and user_id > $2 \
         order by user_id limit $3",
    )
    .bind(last_active_by.to_string())
    .bind(after.map(|id| id.to_string()).unwrap_or_default())
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(InactiveAccount {
                user_id: uuid("user id", &r.try_get::<String, _>("user_id")?)?,
                last_active_on: date(&r.try_get::<String, _>("last_active_on")?)?,
                erase_on: optional_date(r.try_get("inactivity_erase_on")?)?,
            })
        })
        .collect()
}

/// People whose erasure was requested but whose account rows remain: an erasure a crash
/// interrupted (a finished one deletes the rows).
///
/// # Errors
/// Database and decode errors.
pub async fn pending_erasures(db: &ReadDb) -> Result<Vec<Uuid>> {
    let ids: Vec<String> =
        sqlx::query_scalar("select user_id from accounts where erasure_requested = 1 order by user_id")
            .fetch_all(db.pool())
            .await?;
    ids.iter().map(|id| uuid("user id", id)).collect()
}

/// The current password hash of `user`.
///
/// # Errors
/// Database errors.
pub async fn password_hash(db: &ReadDb, user: Uuid) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("select password_hash from credentials where user_id = $1")
            .bind(user.to_string())
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Who holds an identity claim, since when, and whether an event gave it to them yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimHolder {
    /// The account.
    pub user: Uuid,
    /// When it was reserved (µs).
    pub claimed_at: i64,
    /// Whether an event of the account gave it to them (`false`: reserved ahead of its event,
    /// see `crate::claims`).
    pub settled: bool,
}

/// Who holds a claim (`email`/`handle` blind index).
///
/// # Errors
/// Database and decode errors.
pub async fn claim_owner(db: &ReadDb, kind: &str, claim: &str) -> Result<Option<ClaimHolder>> {
    let row =
        sqlx::query("select user_id, claimed_at, event_version from identity_claims where kind = $1 and claim = $2")
            .bind(kind.to_owned())
            .bind(claim.to_owned())
            .fetch_optional(db.pool())
            .await?;
    row.map(|r| {
        Ok(ClaimHolder {
            user: uuid("user id", &r.try_get::<String, _>("user_id")?)?,
            claimed_at: r.try_get("claimed_at")?,
            settled: r.try_get::<Option<i64>, _>("event_version")?.is_some(),
        })
    })
    .transpose()
}

/// The blind index of the email `user` signs in with (their settled claim), if any.
///
/// # Errors
/// Database errors.
pub async fn email_index_of(db: &ReadDb, user: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "select claim from identity_claims where kind = 'email' and user_id = $1 and event_version is not null \
         order by event_version desc limit 1",
    )
    .bind(user.to_string())
    .fetch_optional(db.pool())
    .await?)
}

/// One change of a person's consent to AI processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentChange {
    /// Given (`true`) or withdrawn.
    pub given: bool,
    /// When.
    pub at: time::OffsetDateTime,
}

/// Every change of the person's consent to AI processing, oldest first (empty: never given).
///
/// # Errors
/// Database and decode errors.
pub async fn ai_consent_changes(db: &ReadDb, subject: &Subject) -> Result<Vec<ConsentChange>> {
    let rows = sqlx::query("select given, at from ai_consent_changes where user_id = $1 order by seq")
        .bind(subject.id().to_string())
        .fetch_all_for(db, subject)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ConsentChange {
                given: r.try_get::<i64, _>("given")? != 0,
                at: at(r.try_get("at")?)?,
            })
        })
        .collect()
}
