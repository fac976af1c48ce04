//! Bloodwork: one row per panel (results as JSON, as recorded) and one per result in
//! `marker_results`, keyed for per-marker series. A correction replaces a panel's results; a
//! retraction flags the panel and removes its results from the series.
//! Must not judge or convert values: events carry canonical and SI values and flags.

use vigil_domain::bloodwork::{BloodworkEvent, MarkerRef, RecordedResult};

use super::writer::{Insert, Writer};
use super::{Ctx, json, micros, name_of};
use crate::error::Result;

static PANELS: Insert = Insert::new(
    "bloodwork_panels",
    "insert into bloodwork_panels (panel_id, user_id, drawn_at, lab_name, results, corrections, retracted, recorded_at)",
    "(?, ?, ?, ?, ?, 0, 0, ?)",
    "on conflict (panel_id) do nothing",
);

static MARKER_RESULTS: Insert = Insert::new(
    "marker_results",
    "insert into marker_results (panel_id, idx, user_id, marker, name, loinc, value, unit, canonical_value, \
     canonical_unit, si_value, si_unit, flag, drawn_at)",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "",
);

pub(super) async fn apply(ctx: Ctx<'_>, event: BloodworkEvent) -> Result<()> {
    let w = ctx.w;
    match event {
        BloodworkEvent::BloodworkRecorded {
            panel_id,
            drawn_at,
            lab_name,
            results,
            recorded_at,
        } => {
            let id = panel_id.as_uuid().to_string();
            w.insert(
                &PANELS,
                [
                    id.as_str().into(),
                    ctx.user.as_str().into(),
                    micros(drawn_at).into(),
                    lab_name.into(),
                    json(&results)?.into(),
                    micros(recorded_at).into(),
                ],
            )
            .await?;
            insert_results(w, &id, &ctx.user, micros(drawn_at), &results).await?;
        }
        BloodworkEvent::BloodworkCorrected {
            panel_id,
            drawn_at,
            lab_name,
            results,
            ..
        } => {
            let id = panel_id.as_uuid().to_string();
            sqlx::query(
                "update bloodwork_panels set drawn_at = $2, lab_name = $3, results = $4, corrections = corrections + 1 \
                 where panel_id = $1 and user_id = $5",
            )
            .bind(&id)
            .bind(micros(drawn_at))
            .bind(lab_name)
            .bind(json(&results)?)
            .bind(&ctx.user)
            .execute(w.touch(PANELS.table).await?)
            .await?;
            delete_results(w, &id, &ctx.user).await?;
            insert_results(w, &id, &ctx.user, micros(drawn_at), &results).await?;
        }
        BloodworkEvent::BloodworkRetracted { panel_id, .. } => {
            let id = panel_id.as_uuid().to_string();
            sqlx::query("update bloodwork_panels set retracted = 1 where panel_id = $1 and user_id = $2")
                .bind(&id)
                .bind(&ctx.user)
                .execute(w.touch(PANELS.table).await?)
                .await?;
            delete_results(w, &id, &ctx.user).await?;
        }
    }
    Ok(())
}

/// The series key of a result: the catalog marker's name, or `custom:<name>`.
pub(crate) fn marker_key(marker: &MarkerRef) -> Result<String> {
    Ok(match marker {
        MarkerRef::Catalog { marker } => name_of(marker)?,
        MarkerRef::Custom { name } => format!("custom:{}", name.to_lowercase()),
    })
}

async fn insert_results(
    w: &mut Writer,
    panel: &str,
    user: &str,
    drawn_at: i64,
    results: &[RecordedResult],
) -> Result<()> {
    for (idx, r) in results.iter().enumerate() {
        w.insert(
            &MARKER_RESULTS,
            [
                panel.into(),
                i64::try_from(idx).unwrap_or(i64::MAX).into(),
                user.into(),
                marker_key(&r.marker)?.into(),
                r.name.as_str().into(),
                r.loinc.clone().into(),
                r.value.to_string().into(),
                r.unit.as_str().into(),
                r.canonical.as_ref().map(|q| q.value.to_string()).into(),
                r.canonical.as_ref().map(|q| q.unit.clone()).into(),
                r.si.as_ref().map(|q| q.value.to_string()).into(),
                r.si.as_ref().map(|q| q.unit.clone()).into(),
                r.flag.as_ref().map(name_of).transpose()?.into(),
                drawn_at.into(),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn delete_results(w: &mut Writer, panel: &str, user: &str) -> Result<()> {
    sqlx::query("delete from marker_results where panel_id = $1 and user_id = $2")
        .bind(panel.to_owned())
        .bind(user.to_owned())
        .execute(w.touch(MARKER_RESULTS.table).await?)
        .await?;
    Ok(())
}
