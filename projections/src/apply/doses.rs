//! The dose log: one row per dose entry as it currently stands (corrections overwrite the
//! details and count up; retractions flag the row). Adherence and next due are computed at
//! read time by the domain from these rows and the protocol, because they depend on "now".
//! Must not compute schedules.

use vigil_domain::dose::DoseEvent;

use super::{Ctx, json, micros, name_of};
use crate::error::Result;

pub(super) async fn apply(ctx: Ctx<'_>, event: DoseEvent) -> Result<()> {
    let conn = ctx.conn;
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
            sqlx::query(
                "insert into doses (dose_id, user_id, protocol_id, item_id, outcome, compound, dose, active, route, site, \
                 taken_at, scheduled_for, note, sort_at, corrections, retracted, recorded_at) \
                 values ($1, $2, $3, $4, 'taken', $5, $6, $7, $8, $9, $10, $11, $12, $10, 0, 0, $13) \
                 on conflict (dose_id) do nothing",
            )
            .bind(dose_id.as_uuid().to_string())
            .bind(&ctx.user)
            .bind(protocol_id.as_uuid().to_string())
            .bind(item_id.as_uuid().to_string())
            .bind(json(&compound)?)
            .bind(json(&dose)?)
            .bind(json(&active)?)
            .bind(name_of(&route)?)
            .bind(site.as_ref().map(json).transpose()?)
            .bind(micros(taken_at))
            .bind(scheduled_for.map(micros))
            .bind(note)
            .bind(micros(recorded_at))
            .execute(conn)
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
            sqlx::query(
                "insert into doses (dose_id, user_id, protocol_id, item_id, outcome, scheduled_for, note, sort_at, \
                 corrections, retracted, recorded_at) values ($1, $2, $3, $4, 'skipped', $5, $6, $5, 0, 0, $7) \
                 on conflict (dose_id) do nothing",
            )
            .bind(dose_id.as_uuid().to_string())
            .bind(&ctx.user)
            .bind(protocol_id.as_uuid().to_string())
            .bind(item_id.as_uuid().to_string())
            .bind(micros(scheduled_for))
            .bind(reason)
            .bind(micros(recorded_at))
            .execute(conn)
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
            .execute(conn)
            .await?;
        }
        DoseEvent::DoseRetracted { dose_id, .. } => {
            sqlx::query("update doses set retracted = 1 where dose_id = $1 and user_id = $2")
                .bind(dose_id.as_uuid().to_string())
                .bind(&ctx.user)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}
