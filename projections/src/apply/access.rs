//! The access log (one row per `access-<user>` event) and whether each account has a second
//! factor on. Must not store the TOTP secret or a recovery code hash: those stay sealed in the
//! `totp-<user>` stream, read by the api when it checks a code.

use vigil_domain::access::{AccessEvent, Actor};
use vigil_domain::second_factor::SecondFactorEvent;

use super::writer::Insert;
use super::{Ctx, json, micros, name_of};
use crate::error::Result;

static ACCESS_LOG: Insert = Insert::new(
    "access_log",
    "insert into access_log (user_id, seq, position, at, kind, actor_user, actor_role, actor_handle, query, fields, \
     grant_id, reason, detail)",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "on conflict (user_id, seq) do nothing",
);

/// The columns of one access-log row besides the person, sequence, position and time.
#[derive(Default)]
struct Row {
    actor: Option<Actor>,
    query: Option<String>,
    fields: Option<String>,
    grant: Option<String>,
    reason: Option<String>,
    detail: Option<String>,
}

pub(super) async fn apply_access(ctx: Ctx<'_>, position: u64, event: AccessEvent) -> Result<()> {
    let at = micros(event.at());
    let kind = event_kind(&event);
    let row = match event {
        AccessEvent::SignedIn { method, .. } => Row {
            detail: Some(name_of(&method)?),
            ..Row::default()
        },
        AccessEvent::AccountLocked { until, .. } => Row {
            detail: Some(micros(until).to_string()),
            ..Row::default()
        },
        AccessEvent::AccountUnlocked { by, reason, .. } => Row {
            actor: Some(by),
            reason: Some(reason),
            ..Row::default()
        },
        AccessEvent::AccountChangedByStaff { by, change, reason, .. } => Row {
            actor: Some(by),
            reason: Some(reason),
            detail: Some(change),
            ..Row::default()
        },
        AccessEvent::BreakGlassOpened {
            grant,
            by,
            justification,
            expires_at,
            ..
        } => Row {
            actor: Some(by),
            grant: Some(grant.to_string()),
            reason: Some(justification),
            detail: Some(micros(expires_at).to_string()),
            ..Row::default()
        },
        AccessEvent::DataAccessed {
            by,
            query,
            fields,
            grant,
            justification,
            request_id,
            ..
        } => Row {
            actor: Some(by),
            query: Some(query),
            fields: Some(json(&fields)?),
            grant: grant.map(|g| g.to_string()),
            reason: Some(justification),
            detail: Some(request_id),
        },
        AccessEvent::ExportRequested { format, .. } => Row {
            detail: Some(name_of(&format)?),
            ..Row::default()
        },
        AccessEvent::SignedOut { .. }
        | AccessEvent::RegistrationAttempted { .. }
        | AccessEvent::RefreshTokenReuseDetected { .. }
        | AccessEvent::PasswordChanged { .. }
        | AccessEvent::EmailChanged { .. }
        | AccessEvent::HandleChanged { .. }
        | AccessEvent::SecondFactorEnabled { .. }
        | AccessEvent::SecondFactorDisabled { .. } => Row::default(),
    };
    let (actor_user, actor_role, actor_handle) = match row.actor {
        Some(a) => (
            a.user.map(|u| u.to_string()),
            Some(a.role.name().to_owned()),
            Some(a.handle),
        ),
        None => (None, None, None),
    };
    ctx.w
        .insert(
            &ACCESS_LOG,
            [
                ctx.user.into(),
                ctx.stream_version.into(),
                i64::try_from(position).unwrap_or(i64::MAX).into(),
                at.into(),
                kind.into(),
                actor_user.into(),
                actor_role.into(),
                actor_handle.into(),
                row.query.into(),
                row.fields.into(),
                row.grant.into(),
                row.reason.into(),
                row.detail.into(),
            ],
        )
        .await
}

/// The stored kind: the event type in snake case (`data_accessed`).
fn event_kind(event: &AccessEvent) -> String {
    use vigil_domain::aggregate::DomainEvent;
    let mut kind = String::new();
    for (i, c) in event.event_type().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            kind.push('_');
        }
        kind.push(c.to_ascii_lowercase());
    }
    kind
}

pub(super) async fn apply_second_factor(ctx: Ctx<'_>, event: SecondFactorEvent) -> Result<()> {
    let (enabled, left, at) = match event {
        // Nothing in force changes until the enrolment is confirmed.
        SecondFactorEvent::TotpEnrolmentStarted { .. } => return Ok(()),
        SecondFactorEvent::TotpEnabled {
            recovery_code_hashes,
            at,
        } => (1, i64::try_from(recovery_code_hashes.len()).unwrap_or(0), at),
        SecondFactorEvent::RecoveryCodeUsed { at, .. } => {
            sqlx::query(
                "update second_factors set recovery_codes_left = recovery_codes_left - 1, changed_at = $2 \
                 where user_id = $1 and recovery_codes_left > 0",
            )
            .bind(&ctx.user)
            .bind(micros(at))
            .execute(ctx.w.touch("second_factors").await?)
            .await?;
            return Ok(());
        }
        SecondFactorEvent::TotpDisabled { at } => (0, 0, at),
    };
    sqlx::query(
        "insert into second_factors (user_id, enabled, recovery_codes_left, changed_at) values ($1, $2, $3, $4) \
         on conflict (user_id) do update set enabled = excluded.enabled, \
         recovery_codes_left = excluded.recovery_codes_left, changed_at = excluded.changed_at",
    )
    .bind(&ctx.user)
    .bind(enabled)
    .bind(left)
    .bind(micros(at))
    .execute(ctx.w.touch("second_factors").await?)
    .await?;
    Ok(())
}
