//! Health-log entries: one row per vital reading with its components (value as entered and
//! canonical) as JSON; series are read per vital kind and time range.
//! Must not convert units: events carry canonical values already.

use vigil_domain::health::HealthEvent;

use super::writer::Insert;
use super::{Ctx, json, micros, name_of};
use crate::error::Result;

static HEALTH_LOGS: Insert = Insert::new(
    "health_logs",
    "insert into health_logs (entry_id, user_id, kind, loinc, components, measured_at, note, corrections, retracted, \
     recorded_at)",
    "(?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
    "on conflict (entry_id) do nothing",
);

pub(super) async fn apply(ctx: Ctx<'_>, event: HealthEvent) -> Result<()> {
    let w = ctx.w;
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
            w.insert(
                &HEALTH_LOGS,
                [
                    entry_id.as_uuid().to_string().into(),
                    ctx.user.into(),
                    name_of(&kind)?.into(),
                    loinc.into(),
                    json(&components)?.into(),
                    micros(measured_at).into(),
                    note.into(),
                    micros(recorded_at).into(),
                ],
            )
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
            .execute(w.touch(HEALTH_LOGS.table).await?)
            .await?;
        }
        HealthEvent::VitalRetracted { entry_id, .. } => {
            sqlx::query("update health_logs set retracted = 1 where entry_id = $1 and user_id = $2")
                .bind(entry_id.as_uuid().to_string())
                .bind(&ctx.user)
                .execute(w.touch(HEALTH_LOGS.table).await?)
                .await?;
        }
    }
    Ok(())
}
