//! The dose log: one row per dose entry as it currently stands (corrections overwrite the
//! details and count up; retractions flag the row). Adherence and next due are computed at
//! read time by the domain from these rows and the protocol, because they depend on "now".
//! Must not compute schedules.

use vigil_domain::dose::DoseEvent;

use super::writer::{Arg, Insert};
use super::{Ctx, json, micros, name_of};
use crate::error::Result;

/// Taken and skipped doses share one statement shape (a skipped dose's amount, route, site and
/// time are null, as the columns' default was before), so a mixed log still fills statements.
static DOSES: Insert = Insert::new(
    "doses",
    "insert into doses (dose_id, user_id, protocol_id, item_id, outcome, compound, dose, active, route, site, \
     taken_at, scheduled_for, note, sort_at, corrections, retracted, recorded_at)",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
    "on conflict (dose_id) do nothing",
);

pub(super) async fn apply(ctx: Ctx<'_>, event: DoseEvent) -> Result<()> {
    let w = ctx.w;
    match event {
        DoseEvent::DoseTaken {
            dose_id,
            protocol_id,
            item_id,
            compound,
            dose,
            active,
            route,
            site,
            taken_at,
            scheduled_for,
            note,
            recorded_at,
        } => {
            w.insert(
                &DOSES,
                [
                    dose_id.as_uuid().to_string().into(),
                    ctx.user.into(),
                    protocol_id.as_uuid().to_string().into(),
                    item_id.as_uuid().to_string().into(),
                    "taken".into(),
                    json(&compound)?.into(),
                    json(&dose)?.into(),
                    json(&active)?.into(),
                    name_of(&route)?.into(),
                    site.as_ref().map(json).transpose()?.into(),
                    micros(taken_at).into(),
                    scheduled_for.map(micros).into(),
                    note.into(),
                    micros(taken_at).into(),
                    micros(recorded_at).into(),
                ],
            )
            .await?;
        }
        DoseEvent::DoseSkipped {
            dose_id,
            protocol_id,
            item_id,
            scheduled_for,
            reason,
            recorded_at,
        } => {
            w.insert(
                &DOSES,
                [
                    dose_id.as_uuid().to_string().into(),
                    ctx.user.into(),
                    protocol_id.as_uuid().to_string().into(),
                    item_id.as_uuid().to_string().into(),
                    "skipped".into(),
                    Arg::Text(None),
                    Arg::Text(None),
                    Arg::Text(None),
                    Arg::Text(None),
                    Arg::Text(None),
                    Arg::Int(None),
                    micros(scheduled_for).into(),
                    reason.into(),
                    micros(scheduled_for).into(),
                    micros(recorded_at).into(),
                ],
            )
            .await?;
        }
        DoseEvent::DoseCorrected {
            dose_id,
            dose,
            active,
            route,
            site,
            taken_at,
            scheduled_for,
            ..
        } => {
            sqlx::query(
                "update doses set dose = $2, active = $3, route = $4, site = $5, taken_at = $6, scheduled_for = $7, \
                 sort_at = $6, outcome = 'taken', corrections = corrections + 1 where dose_id = $1 and user_id = $8",
            )
            .bind(dose_id.as_uuid().to_string())
            .bind(json(&dose)?)
            .bind(json(&active)?)
            .bind(name_of(&route)?)
            .bind(site.as_ref().map(json).transpose()?)
            .bind(micros(taken_at))
            .bind(scheduled_for.map(micros))
            .bind(&ctx.user)
            .execute(w.touch(DOSES.table).await?)
            .await?;
        }
        DoseEvent::DoseRetracted { dose_id, .. } => {
            sqlx::query("update doses set retracted = 1 where dose_id = $1 and user_id = $2")
                .bind(dose_id.as_uuid().to_string())
                .bind(&ctx.user)
                .execute(w.touch(DOSES.table).await?)
                .await?;
        }
    }
    Ok(())
}
