//! Accounts and credentials: the profile (never the email), the AI-processing consent and its
//! history, the password hash, and the settling of identity claims (see `crate::claims`: the
//! api reserved them before appending; applying the event makes them the account's, also
//! after a crash between the api's append and its own settle, or when the read database was
//! lost).
//! Must not store an email address: only its blind index, inside `identity_claims`.

use time::UtcOffset;
use vigil_domain::account::AccountEvent;
use vigil_domain::credentials::CredentialsEvent;

use super::writer::{Insert, Writer};
use super::{Ctx, json, micros, name_of};
use crate::error::Result;

static ACCOUNTS: Insert = Insert::new(
    "accounts",
    "insert into accounts (user_id, handle, role, tier, settings, ai_consent, erasure_requested, registered_at, \
     updated_at, last_active_on)",
    "(?, ?, ?, 'free', ?, 0, 0, ?, ?, ?)",
    "on conflict (user_id) do nothing",
);

/// Identity claims are settled by statements of their own (`claims::settle`), never buffered.
const CLAIMS: &str = "identity_claims";

static CONSENTS: Insert = Insert::new(
    "ai_consent_changes",
    "insert into ai_consent_changes (user_id, seq, given, at)",
    "(?, ?, ?, ?)",
    "on conflict (user_id, seq) do nothing",
);

pub(super) async fn apply_account(ctx: Ctx<'_>, event: AccountEvent) -> Result<()> {
    let w = ctx.w;
    match event {
        AccountEvent::AccountRegistered {
            handle,
            email,
            role,
            registered_at,
            ..
        } => {
            let at = micros(registered_at);
            w.insert(
                &ACCOUNTS,
                [
                    ctx.user.as_str().into(),
                    handle.as_str().into(),
                    name_of(&role)?.into(),
                    json(&vigil_domain::account::Settings::default())?.into(),
                    at.into(),
                    at.into(),
                    registered_at.to_offset(UtcOffset::UTC).date().to_string().into(),
                ],
            )
            .await?;
            let version = ctx.stream_version;
            claim(w, "email", &ctx.index_key.email(&email), &ctx.user, version, at).await?;
            claim(
                w,
                "handle",
                &ctx.index_key.handle(handle.as_str()),
                &ctx.user,
                version,
                at,
            )
            .await?;
        }
        AccountEvent::HandleChanged { to, changed_at, .. } => {
            let at = micros(changed_at);
            set(w, "handle", Value::Text(to.as_str().to_owned()), &ctx.user, at).await?;
            let index = ctx.index_key.handle(to.as_str());
            claim(w, "handle", &index, &ctx.user, ctx.stream_version, at).await?;
        }
        AccountEvent::EmailChanged { email, changed_at } => {
            let index = ctx.index_key.email(&email);
            claim(w, "email", &index, &ctx.user, ctx.stream_version, micros(changed_at)).await?;
        }
        AccountEvent::RoleChanged { to, changed_at, .. } => {
            set(w, "role", Value::Text(name_of(&to)?), &ctx.user, micros(changed_at)).await?;
        }
        AccountEvent::AccountDisabled { at, .. } => {
            set(w, "disabled", Value::Int(1), &ctx.user, micros(at)).await?;
        }
        AccountEvent::AccountEnabled { at, .. } => {
            set(w, "disabled", Value::Int(0), &ctx.user, micros(at)).await?;
        }
        AccountEvent::SettingsChanged { settings, changed_at } => {
            set(
                w,
                "settings",
                Value::Text(json(&settings)?),
                &ctx.user,
                micros(changed_at),
            )
            .await?;
        }
        AccountEvent::AiProcessingConsentGiven { at } => {
            consent(w, &ctx.user, ctx.stream_version, true, micros(at)).await?;
        }
        AccountEvent::AiProcessingConsentWithdrawn { at } => {
            consent(w, &ctx.user, ctx.stream_version, false, micros(at)).await?;
        }
        AccountEvent::BillingTierChanged { to, changed_at, .. } => {
            set(w, "tier", Value::Text(name_of(&to)?), &ctx.user, micros(changed_at)).await?;
        }
        AccountEvent::ErasureRequested { requested_at } => {
            set(w, "erasure_requested", Value::Int(1), &ctx.user, micros(requested_at)).await?;
        }
        AccountEvent::ErasureCompleted { .. } => {}
        // Not a change of the profile: `updated_at` stays. ISO dates compare as text.
        AccountEvent::ActiveOn { on } => {
            sqlx::query(
                "update accounts set inactivity_erase_on = null, last_active_on = case \
                 when last_active_on is null or last_active_on < $2 then $2 else last_active_on end \
                 where user_id = $1",
            )
            .bind(&ctx.user)
            .bind(on.to_string())
            .execute(w.touch(ACCOUNTS.table).await?)
            .await?;
        }
        AccountEvent::InactivityNoticeRecorded { erase_on, .. } => {
            sqlx::query("update accounts set inactivity_erase_on = $2 where user_id = $1")
                .bind(&ctx.user)
                .bind(erase_on.to_string())
                .execute(w.touch(ACCOUNTS.table).await?)
                .await?;
        }
    }
    Ok(())
}

pub(super) async fn apply_credentials(ctx: Ctx<'_>, event: CredentialsEvent) -> Result<()> {
    match event {
        CredentialsEvent::PasswordSet { password_hash, at, .. } => {
            sqlx::query(
                "insert into credentials (user_id, password_hash, changed_at) values ($1, $2, $3) \
                 on conflict (user_id) do update set password_hash = excluded.password_hash, changed_at = excluded.changed_at",
            )
            .bind(&ctx.user)
            .bind(password_hash)
            .bind(micros(at))
            .execute(ctx.w.touch("credentials").await?)
            .await?;
        }
    }
    Ok(())
}

enum Value {
    Text(String),
    Int(i64),
}

/// Updates one column of the account; `column` is always a literal from this file.
async fn set(w: &mut Writer, column: &'static str, value: Value, user: &str, at: i64) -> Result<()> {
    let sql = format!("update accounts set {column} = $2, updated_at = $3 where user_id = $1");
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user.to_owned());
    let query = match value {
        Value::Text(text) => query.bind(text),
        Value::Int(int) => query.bind(int),
    };
    query.bind(at).execute(w.touch(ACCOUNTS.table).await?).await?;
    Ok(())
}

/// Settles a claim the event gives the account (see `crate::claims`). The api normally reserved
/// it before appending and settled it after; a claim held by someone else is left alone, and
/// then so are the account's older claims, so the account keeps the one it could sign in with.
async fn claim(w: &mut Writer, kind: &str, claim: &str, user: &str, version: i64, at: i64) -> Result<()> {
    let backend = w.backend();
    crate::claims::settle(w.touch(CLAIMS).await?, backend, kind, claim, user, version, at).await
}

/// The consent now (on the account row) and one more line of its history, keyed by the
/// event's version so a replay writes it once.
async fn consent(w: &mut Writer, user: &str, version: i64, given: bool, at: i64) -> Result<()> {
    let flag = i64::from(given);
    set(w, "ai_consent", Value::Int(flag), user, at).await?;
    w.insert(&CONSENTS, [user.into(), version.into(), flag.into(), at.into()])
        .await
}
