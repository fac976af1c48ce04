//! The access log as the person and auditors read it, and the account metadata support staff
//! may see (never health data, never the email).

use sqlx::Row;
use uuid::Uuid;
use vigil_domain::account::{BillingTier, Role};

use super::page::{Page, PageRequest};
use super::{at, from_name, uuid};
use crate::db::ReadDb;
use crate::error::Result;

/// One entry of an access log.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessEntry {
    /// Whose log.
    pub user_id: Uuid,
    /// Position of the event in the log.
    pub position: i64,
    /// When.
    pub at: time::OffsetDateTime,
    /// `signed_in`, `data_accessed`, `break_glass_opened`, …
    pub kind: String,
    /// The staff account behind it (auditors only; never shown to the person).
    pub actor_user: Option<Uuid>,
    /// The staff role behind it.
    pub actor_role: Option<Role>,
    /// The staff handle behind it.
    pub actor_handle: Option<String>,
    /// The GraphQL root field of a data access.
    pub query: Option<String>,
    /// The fields it selected.
    pub fields: Vec<String>,
    /// The break-glass grant.
    pub grant_id: Option<String>,
    /// The justification or reason written by staff.
    pub reason: Option<String>,
    /// Kind-specific detail (sign-in method, lock end in µs, request id, change).
    pub detail: Option<String>,
}

const COLUMNS: &str =
    "user_id, position, at, kind, actor_user, actor_role, actor_handle, query, fields, grant_id, reason, detail";

/// A page of `user`'s access log, newest first.
///
/// # Errors
/// Database and decode errors.
pub async fn access_log(db: &ReadDb, user: Uuid, page: &PageRequest) -> Result<Page<AccessEntry>> {
    let (bound, _) = page.bound();
    let limit = page.limit();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from access_log where user_id = $1 and position < $2 order by position desc limit {limit}"
    )))
    .bind(user.to_string())
    .bind(bound)
    .fetch_all(db.pool())
    .await?;
    Page::decode(&rows, page, "position", entry, |e| e.user_id)
}

/// A page of every person's access log (for auditors), newest first; `kind` filters.
///
/// # Errors
/// Database and decode errors.
pub async fn access_events(db: &ReadDb, kind: Option<&str>, page: &PageRequest) -> Result<Page<AccessEntry>> {
    let (bound, _) = page.bound();
    let limit = page.limit();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from access_log where position < $1 and ($2 is null or kind = $2) \
         order by position desc limit {limit}"
    )))
    .bind(bound)
    .bind(kind.map(str::to_owned))
    .fetch_all(db.pool())
    .await?;
    Page::decode(&rows, page, "position", entry, |e| e.user_id)
}

fn entry(r: &sqlx::any::AnyRow) -> Result<AccessEntry> {
    let fields: Option<String> = r.try_get("fields")?;
    Ok(AccessEntry {
        user_id: uuid("user id", &r.try_get::<String, _>("user_id")?)?,
        position: r.try_get("position")?,
        at: at(r.try_get("at")?)?,
        kind: r.try_get("kind")?,
        actor_user: r
            .try_get::<Option<String>, _>("actor_user")?
            .map(|u| uuid("actor", &u))
            .transpose()?,
        actor_role: r
            .try_get::<Option<String>, _>("actor_role")?
            .map(|n| from_name("role", &n))
            .transpose()?,
        actor_handle: r.try_get("actor_handle")?,
        query: r.try_get("query")?,
        fields: match fields {
            Some(text) => super::from_json("fields", &text)?,
            None => Vec::new(),
        },
        grant_id: r.try_get("grant_id")?,
        reason: r.try_get("reason")?,
        detail: r.try_get("detail")?,
    })
}

/// What support staff may see of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountMetadata {
    /// The user.
    pub user_id: Uuid,
    /// Public handle.
    pub handle: String,
    /// Role.
    pub role: Role,
    /// Billing tier.
    pub tier: BillingTier,
    /// Disabled by staff.
    pub disabled: bool,
    /// Erasure requested.
    pub erasure_requested: bool,
    /// When registered.
    pub registered_at: time::OffsetDateTime,
    /// The last sign-in, if any.
    pub last_seen_at: Option<time::OffsetDateTime>,
    /// Whether TOTP is on.
    pub second_factor: bool,
    /// Recovery codes left.
    pub recovery_codes_left: i64,
    /// The end of the account's latest sign-in lock, past or not.
    pub locked_until: Option<time::OffsetDateTime>,
}

/// The metadata of the account with `handle` (case-insensitive as handles are), or of `user`.
///
/// # Errors
/// Database and decode errors.
pub async fn account_metadata(
    db: &ReadDb,
    user: Option<Uuid>,
    handle: Option<&str>,
) -> Result<Option<AccountMetadata>> {
    let row = sqlx::query(
        "select a.user_id, a.handle, a.role, a.tier, a.disabled, a.erasure_requested, a.registered_at, \
         (select max(l.at) from access_log l where l.user_id = a.user_id and l.kind = 'signed_in') as last_seen, \
         coalesce(f.enabled, 0) as second_factor, coalesce(f.recovery_codes_left, 0) as codes_left, \
         (select max(t.locked_until) from login_throttle t where t.user_id = a.user_id) as locked_until \
         from accounts a left join second_factors f on f.user_id = a.user_id \
         where ($1 is null or a.user_id = $1) and ($2 is null or lower(a.handle) = lower($2)) \
         and ($1 is not null or $2 is not null)",
    )
    .bind(user.map(|u| u.to_string()))
    .bind(handle.map(str::to_owned))
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(AccountMetadata {
            user_id: uuid("user id", &r.try_get::<String, _>("user_id")?)?,
            handle: r.try_get("handle")?,
            role: from_name("role", &r.try_get::<String, _>("role")?)?,
            tier: from_name("tier", &r.try_get::<String, _>("tier")?)?,
            disabled: r.try_get::<i64, _>("disabled")? != 0,
            erasure_requested: r.try_get::<i64, _>("erasure_requested")? != 0,
            registered_at: at(r.try_get("registered_at")?)?,
            last_seen_at: r.try_get::<Option<i64>, _>("last_seen")?.map(at).transpose()?,
            second_factor: r.try_get::<i64, _>("second_factor")? != 0,
            recovery_codes_left: r.try_get("codes_left")?,
            locked_until: r.try_get::<Option<i64>, _>("locked_until")?.map(at).transpose()?,
        })
    })
    .transpose()
}

/// What the password step needs to know, in one query that returns one row whether or not an
/// account is behind the email, so an unknown email costs the same round trip and the same
/// row shape as a known one.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInFacts {
    /// The account the email's blind index belongs to.
    pub user: Option<Uuid>,
    /// Its password hash.
    pub password_hash: Option<String>,
    /// Its role.
    pub role: Option<Role>,
    /// Disabled or erasure requested: no sign-in.
    pub barred: bool,
    /// Until when it (or the unknown email's counter) is locked (µs).
    pub locked_until: Option<i64>,
    /// Whether it has TOTP on (the secret itself is only in the log).
    pub second_factor: bool,
}

/// The facts for the email blind index `email_index`; `unknown_key` is the lockout key to
/// use when no account holds it. Only a settled claim counts (see `crate::claims`): an address
/// an email change has reserved but not yet moved to signs nobody in, and the one it moved
/// away from is gone, so either looks exactly like an unknown email, by the same one query.
///
/// # Errors
/// Database and decode errors.
pub async fn sign_in_facts(db: &ReadDb, email_index: &str, unknown_key: &str) -> Result<SignInFacts> {
    let r = sqlx::query(
        "select c.user_id, p.password_hash, a.role, a.disabled, a.erasure_requested, t.locked_until, \
         coalesce(f.enabled, 0) as second_factor from (select 1 as one) d \
         left join identity_claims c on c.kind = 'email' and c.claim = $1 and c.event_version is not null \
         left join credentials p on p.user_id = c.user_id \
         left join accounts a on a.user_id = c.user_id \
         left join second_factors f on f.user_id = c.user_id \
         left join login_throttle t on t.throttle_key = coalesce('u:' || c.user_id, $2)",
    )
    .bind(email_index.to_owned())
    .bind(unknown_key.to_owned())
    .fetch_one(db.pool())
    .await?;
    Ok(SignInFacts {
        user: r
            .try_get::<Option<String>, _>("user_id")?
            .map(|u| uuid("user id", &u))
            .transpose()?,
        password_hash: r.try_get("password_hash")?,
        role: r
            .try_get::<Option<String>, _>("role")?
            .map(|n| from_name("role", &n))
            .transpose()?,
        barred: r.try_get::<Option<i64>, _>("disabled")?.unwrap_or(0) != 0
            || r.try_get::<Option<i64>, _>("erasure_requested")?.unwrap_or(0) != 0,
        locked_until: r.try_get("locked_until")?,
        second_factor: r.try_get::<i64, _>("second_factor")? != 0,
    })
}
