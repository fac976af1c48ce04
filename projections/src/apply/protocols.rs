//! Protocols: one row per protocol, one per version (items as JSON, effective date), one per
//! pause/resume/end. The API rebuilds a `ProtocolState` from these rows to answer which
//! version was in force on a date, so the domain's rules are not re-implemented here.
//! Must not decide anything: events are already accepted facts.

use vigil_domain::protocol::ProtocolEvent;
use vigil_domain::protocol::ProtocolStatus;

use super::{Ctx, json, micros, name_of};
use crate::error::Result;

pub(super) async fn apply(ctx: Ctx<'_>, event: ProtocolEvent) -> Result<()> {
    let conn = ctx.conn;
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
            sqlx::query(
                "insert into protocols (protocol_id, user_id, name, status, current_version, created_at, updated_at) \
                 values ($1, $2, $3, 'active', 1, $4, $4) on conflict (protocol_id) do nothing",
            )
            .bind(&id)
            .bind(&ctx.user)
            .bind(&name)
            .bind(at)
            .execute(&mut *conn)
            .await?;
            insert_version(
                conn,
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
                conn,
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
                .execute(&mut *conn)
                .await?;
        }
        ProtocolEvent::ProtocolPaused { on, recorded_at, .. } => {
            status_change(
                conn,
                (&ctx.aggregate, &ctx.user, ctx.stream_version),
                ProtocolStatus::Paused,
                on,
                micros(recorded_at),
            )
            .await?;
        }
        ProtocolEvent::ProtocolResumed { on, recorded_at } => {
            status_change(
                conn,
                (&ctx.aggregate, &ctx.user, ctx.stream_version),
                ProtocolStatus::Active,
                on,
                micros(recorded_at),
            )
            .await?;
        }
        ProtocolEvent::ProtocolEnded { on, recorded_at } => {
            status_change(
                conn,
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
    conn: &mut sqlx::AnyConnection,
    id: &str,
    version: u32,
    user: &str,
    name: &str,
    items: String,
    effective_from: String,
    reason: Option<String>,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "insert into protocol_versions (protocol_id, version, user_id, name, items, effective_from, reason, recorded_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (protocol_id, version) do nothing",
    )
    .bind(id.to_owned())
    .bind(i64::from(version))
    .bind(user.to_owned())
    .bind(name.to_owned())
    .bind(items)
    .bind(effective_from)
    .bind(reason)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a pause, resume or end; the stream version orders them and keys the row.
async fn status_change(
    conn: &mut sqlx::AnyConnection,
    (id, user, seq): (&str, &str, i64),
    status: ProtocolStatus,
    on: time::Date,
    at: i64,
) -> Result<()> {
    let status = name_of(&status)?;
    sqlx::query(
        "insert into protocol_status_changes (protocol_id, seq, user_id, on_date, status) \
         values ($1, $2, $3, $4, $5) on conflict (protocol_id, seq) do nothing",
    )
    .bind(id.to_owned())
    .bind(seq)
    .bind(user.to_owned())
    .bind(on.to_string())
    .bind(&status)
    .execute(&mut *conn)
    .await?;
    sqlx::query("update protocols set status = $2, updated_at = $3 where protocol_id = $1")
        .bind(id.to_owned())
        .bind(&status)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}
