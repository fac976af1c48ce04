//! Accounts and credentials: the profile (never the email) and the password hash, plus the
//! identity claims a rebuild must restore when the read database was lost.
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

static CLAIMS: Insert = Insert::new(
    "identity_claims",
    "insert into identity_claims (kind, claim, user_id, claimed_at)",
    "(?, ?, ?, ?)",
    "on conflict (kind, claim) do nothing",
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
            claim(w, "email", ctx.index_key.email(&email), &ctx.user, at).await?;
            claim(w, "handle", ctx.index_key.handle(handle.as_str()), &ctx.user, at).await?;
        }
        AccountEvent::HandleChanged { from, to, changed_at } => {
            let at = micros(changed_at);
            set(w, "handle", Value::Text(to.as_str().to_owned()), &ctx.user, at).await?;
            sqlx::query("delete from identity_claims where kind = 'handle' and claim = $1 and user_id = $2")
                .bind(ctx.index_key.handle(from.as_str()))
                .bind(&ctx.user)
                .execute(w.touch(CLAIMS.table).await?)
                .await?;
            claim(w, "handle", ctx.index_key.handle(to.as_str()), &ctx.user, at).await?;
        }
        AccountEvent::EmailChanged { email, changed_at } => {
            let at = micros(changed_at);
            let index = ctx.index_key.email(&email);
            sqlx::query("delete from identity_claims where kind = 'email' and user_id = $1 and claim <> $2")
                .bind(&ctx.user)
                .bind(&index)
                .execute(w.touch(CLAIMS.table).await?)
                .await?;
            claim(w, "email", index, &ctx.user, at).await?;
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
            set(w, "ai_consent", Value::Int(1), &ctx.user, micros(at)).await?;
        }
        AccountEvent::AiProcessingConsentWithdrawn { at } => {
            set(w, "ai_consent", Value::Int(0), &ctx.user, micros(at)).await?;
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

/// Restores a claim if it is missing. The API normally made it before appending; a claim held
/// by someone else is left alone (the API refused that registration before it was written).
async fn claim(w: &mut Writer, kind: &str, claim: String, user: &str, at: i64) -> Result<()> {
    w.insert(&CLAIMS, [kind.into(), claim.into(), user.into(), at.into()])
        .await
}
