//! Bloodwork: one row per panel (results as JSON, as recorded) and one per result in
//! `marker_results`, keyed for per-marker series. A correction replaces a panel's results; a
//! retraction flags the panel and removes its results from the series.
//! Must not judge or convert values: events carry canonical and SI values and flags.

use vigil_domain::bloodwork::{BloodworkEvent, MarkerRef, RecordedResult};

use super::{Ctx, json, micros, name_of};
use crate::error::Result;

pub(super) async fn apply(ctx: Ctx<'_>, event: BloodworkEvent) -> Result<()> {
    let conn = ctx.conn;
    match event {
        BloodworkEvent::BloodworkRecorded {
            panel_id,
            drawn_at,
            lab_name,
            results,
            recorded_at,
        } => {
            let id = panel_id.as_uuid().to_string();
            sqlx::query(
                "insert into bloodwork_panels (panel_id, user_id, drawn_at, lab_name, results, corrections, retracted, \
                 recorded_at) values ($1, $2, $3, $4, $5, 0, 0, $6) on conflict (panel_id) do nothing",
            )
            .bind(&id)
            .bind(&ctx.user)
            .bind(micros(drawn_at))
            .bind(lab_name)
            .bind(json(&results)?)
            .bind(micros(recorded_at))
            .execute(&mut *conn)
            .await?;
            insert_results(conn, &id, &ctx.user, micros(drawn_at), &results).await?;
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
            .execute(&mut *conn)
            .await?;
            delete_results(conn, &id, &ctx.user).await?;
            insert_results(conn, &id, &ctx.user, micros(drawn_at), &results).await?;
        }
        BloodworkEvent::BloodworkRetracted { panel_id, .. } => {
            let id = panel_id.as_uuid().to_string();
            sqlx::query("update bloodwork_panels set retracted = 1 where panel_id = $1 and user_id = $2")
                .bind(&id)
                .bind(&ctx.user)
                .execute(&mut *conn)
                .await?;
            delete_results(conn, &id, &ctx.user).await?;
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
    conn: &mut sqlx::AnyConnection,
    panel: &str,
    user: &str,
    drawn_at: i64,
    results: &[RecordedResult],
) -> Result<()> {
    for (idx, r) in results.iter().enumerate() {
        sqlx::query(
            "insert into marker_results (panel_id, idx, user_id, marker, name, loinc, value, unit, canonical_value, \
             canonical_unit, si_value, si_unit, flag, drawn_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(panel.to_owned())
        .bind(i64::try_from(idx).unwrap_or(i64::MAX))
        .bind(user.to_owned())
        .bind(marker_key(&r.marker)?)
        .bind(r.name.clone())
        .bind(r.loinc.clone())
        .bind(r.value.to_string())
        .bind(r.unit.clone())
        .bind(r.canonical.as_ref().map(|q| q.value.to_string()))
        .bind(r.canonical.as_ref().map(|q| q.unit.clone()))
        .bind(r.si.as_ref().map(|q| q.value.to_string()))
        .bind(r.si.as_ref().map(|q| q.unit.clone()))
        .bind(r.flag.as_ref().map(name_of).transpose()?)
        .bind(drawn_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn delete_results(conn: &mut sqlx::AnyConnection, panel: &str, user: &str) -> Result<()> {
    sqlx::query("delete from marker_results where panel_id = $1 and user_id = $2")
        .bind(panel.to_owned())
        .bind(user.to_owned())
        .execute(conn)
        .await?;
    Ok(())
}
