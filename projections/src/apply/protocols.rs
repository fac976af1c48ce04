//! Protocols: one row per protocol, one per version (items as JSON, effective date), one per
//! pause/resume/end. The API rebuilds a `ProtocolState` from these rows to answer which
//! version was in force on a date, so the domain's rules are not re-implemented here.
//! Must not decide anything: events are already accepted facts.

use vigil_domain::protocol::ProtocolEvent;
use vigil_domain::protocol::ProtocolStatus;

use super::writer::{Insert, Writer};
use super::{Ctx, json, micros, name_of};
use crate::error::Result;

static PROTOCOLS: Insert = Insert::new(
    "protocols",
    "insert into protocols (protocol_id, user_id, name, status, current_version, created_at, updated_at)",
    "(?, ?, ?, 'active', 1, ?, ?)",
    "on conflict (protocol_id) do nothing",
);

static VERSIONS: Insert = Insert::new(
    "protocol_versions",
    "insert into protocol_versions (protocol_id, version, user_id, name, items, effective_from, reason, recorded_at)",
    "(?, ?, ?, ?, ?, ?, ?, ?)",
    "on conflict (protocol_id, version) do nothing",
);

static STATUS_CHANGES: Insert = Insert::new(
    "protocol_status_changes",
    "insert into protocol_status_changes (protocol_id, seq, user_id, on_date, status)",
    "(?, ?, ?, ?, ?)",
    "on conflict (protocol_id, seq) do nothing",
);

pub(super) async fn apply(ctx: Ctx<'_>, event: ProtocolEvent) -> Result<()> {
    let w = ctx.w;
    match event {
        ProtocolEvent::ProtocolDefined {
            protocol_id,
            name,
            items,
            effective_from,
            recorded_at,
            ..
        } => {
            let id = protocol_id.as_uuid().to_string();
            let at = micros(recorded_at);
            w.insert(
                &PROTOCOLS,
                [
                    id.as_str().into(),
                    ctx.user.as_str().into(),
                    name.as_str().into(),
                    at.into(),
                    at.into(),
                ],
            )
            .await?;
            insert_version(
                w,
                &id,
                1,
                &ctx.user,
                &name,
                json(&items)?,
                effective_from.to_string(),
                None,
                at,
            )
            .await?;
        }
        ProtocolEvent::ProtocolAmended {
            version,
            name,
            items,
            effective_from,
            reason,
            recorded_at,
        } => {
            let id = ctx.aggregate.clone();
            let at = micros(recorded_at);
            insert_version(
                w,
                &id,
                version,
                &ctx.user,
                &name,
                json(&items)?,
                effective_from.to_string(),
                reason,
                at,
            )
            .await?;
            sqlx::query("update protocols set name = $2, current_version = $3, updated_at = $4 where protocol_id = $1")
                .bind(&id)
                .bind(&name)
                .bind(i64::from(version))
                .bind(at)
                .execute(w.touch(PROTOCOLS.table).await?)
                .await?;
        }
        ProtocolEvent::ProtocolPaused { on, recorded_at, .. } => {
            status_change(
                w,
                (&ctx.aggregate, &ctx.user, ctx.stream_version),
                ProtocolStatus::Paused,
                on,
                micros(recorded_at),
            )
            .await?;
        }
        ProtocolEvent::ProtocolResumed { on, recorded_at } => {
            status_change(
                w,
                (&ctx.aggregate, &ctx.user, ctx.stream_version),
                ProtocolStatus::Active,
                on,
                micros(recorded_at),
            )
            .await?;
        }
        ProtocolEvent::ProtocolEnded { on, recorded_at } => {
            status_change(
                w,
                (&ctx.aggregate, &ctx.user, ctx.stream_version),
                ProtocolStatus::Ended,
                on,
                micros(recorded_at),
            )
            .await?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
async fn insert_version(
    w: &mut Writer,
    id: &str,
    version: u32,
    user: &str,
    name: &str,
    items: String,
    effective_from: String,
    reason: Option<String>,
    at: i64,
) -> Result<()> {
    w.insert(
        &VERSIONS,
        [
            id.into(),
            i64::from(version).into(),
            user.into(),
            name.into(),
            items.into(),
            effective_from.into(),
            reason.into(),
            at.into(),
        ],
    )
    .await
}

/// Records a pause, resume or end; the stream version orders them and keys the row.
async fn status_change(
    w: &mut Writer,
    (id, user, seq): (&str, &str, i64),
    status: ProtocolStatus,
    on: time::Date,
    at: i64,
) -> Result<()> {
    let status = name_of(&status)?;
    w.insert(
        &STATUS_CHANGES,
        [
            id.into(),
            seq.into(),
            user.into(),
            on.to_string().into(),
            status.as_str().into(),
        ],
    )
    .await?;
    sqlx::query("update protocols set status = $2, updated_at = $3 where protocol_id = $1")
        .bind(id.to_owned())
        .bind(&status)
        .bind(at)
        .execute(w.touch(PROTOCOLS.table).await?)
        .await?;
    Ok(())
}
