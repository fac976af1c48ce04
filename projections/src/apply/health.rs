//! Health-log entries: one row per vital reading with its components (value as entered and
//! canonical) as JSON; series are read per vital kind and time range.
//! Must not convert units: events carry canonical values already.

use vigil_domain::health::HealthEvent;

use super::{Ctx, json, micros, name_of};
use crate::error::Result;

pub(super) async fn apply(ctx: Ctx<'_>, event: HealthEvent) -> Result<()> {
    let conn = ctx.conn;
    match event {
        HealthEvent::VitalRecorded {
            entry_id,
            kind,
            loinc,
            components,
            measured_at,
            note,
            recorded_at,
        } => {
            sqlx::query(
                "insert into health_logs (entry_id, user_id, kind, loinc, components, measured_at, note, corrections, \
                 retracted, recorded_at) values ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8) on conflict (entry_id) do nothing",
            )
            .bind(entry_id.as_uuid().to_string())
            .bind(&ctx.user)
            .bind(name_of(&kind)?)
            .bind(loinc)
            .bind(json(&components)?)
            .bind(micros(measured_at))
            .bind(note)
            .bind(micros(recorded_at))
            .execute(conn)
            .await?;
        }
        HealthEvent::VitalCorrected {
            entry_id,
            kind,
            components,
            measured_at,
            ..
        } => {
            sqlx::query(
                "update health_logs set kind = $2, components = $3, measured_at = $4, corrections = corrections + 1 \
                 where entry_id = $1 and user_id = $5",
            )
            .bind(entry_id.as_uuid().to_string())
            .bind(name_of(&kind)?)
            .bind(json(&components)?)
            .bind(micros(measured_at))
            .bind(&ctx.user)
            .execute(conn)
            .await?;
        }
        HealthEvent::VitalRetracted { entry_id, .. } => {
            sqlx::query("update health_logs set retracted = 1 where entry_id = $1 and user_id = $2")
                .bind(entry_id.as_uuid().to_string())
                .bind(&ctx.user)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}
