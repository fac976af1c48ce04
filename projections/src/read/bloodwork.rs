//! Bloodwork panels and per-marker series.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use vigil_domain::bloodwork::RecordedResult;

use super::Subject;
use super::page::{Page, PageRequest};
use super::subject::Scoped;
use super::{at, from_json, uuid};
use crate::db::ReadDb;
use crate::error::Result;

/// A panel as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelView {
    /// Id.
    pub panel_id: Uuid,
    /// When drawn.
    pub drawn_at: time::OffsetDateTime,
    /// Lab.
    pub lab_name: Option<String>,
    /// Results with canonical and SI values and flags.
    pub results: Vec<RecordedResult>,
    /// Corrections applied.
    pub corrections: u32,
    /// Withdrawn.
    pub retracted: bool,
}

/// One point of a marker's series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerPoint {
    /// The panel.
    pub panel_id: Uuid,
    /// When drawn.
    pub drawn_at: time::OffsetDateTime,
    /// Name as reported.
    pub name: String,
    /// Value and unit as entered.
    pub value: String,
    /// Unit as entered.
    pub unit: String,
    /// Canonical value and unit.
    pub canonical: Option<(String, String)>,
    /// SI value and unit.
    pub si: Option<(String, String)>,
    /// `H`, `L`, `HH`, `LL` or none.
    pub flag: Option<String>,
}

const COLUMNS: &str = "panel_id, drawn_at, lab_name, results, corrections, retracted";

/// A page of the owner's live panels, newest first.
///
/// # Errors
/// Database and decode errors.
pub async fn panels(db: &ReadDb, subject: &Subject, page: &PageRequest) -> Result<Page<PanelView>> {
    panels_where(db, subject, page, "and retracted = 0").await
}

/// A page of every panel of the owner, retracted ones included (flagged), newest first: what
/// an export of their data holds.
///
/// # Errors
/// Database and decode errors.
pub async fn panel_history(db: &ReadDb, subject: &Subject, page: &PageRequest) -> Result<Page<PanelView>> {
    panels_where(db, subject, page, "").await
}

/// `live` is a constant of this module (never input).
async fn panels_where(db: &ReadDb, subject: &Subject, page: &PageRequest, live: &str) -> Result<Page<PanelView>> {
    let user = subject.id();
    let (bound_at, bound_id) = page.bound();
    // A literal, not a parameter: SQLite re-prepares a statement whose LIMIT is a bound
    // parameter every time it is bound (see `vigil_eventstore` log reads).
    let limit = page.limit();
    // The cursor as a row value: the index seeks straight past it (see `doses`).
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bloodwork_panels where user_id = $1 {live} \
         and (drawn_at, panel_id) < ($2, $3) order by drawn_at desc, panel_id desc limit {limit}"
    )))
    .bind(user.to_string())
    .bind(bound_at)
    .bind(bound_id)
    .fetch_all_for(db, subject)
    .await?;
    Page::decode(&rows, page, "drawn_at", view, |v| v.panel_id)
}

/// One of the owner's panels (retracted included).
///
/// # Errors
/// Database and decode errors.
pub async fn panel(db: &ReadDb, subject: &Subject, id: Uuid) -> Result<Option<PanelView>> {
    let user = subject.id();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bloodwork_panels where panel_id = $1 and user_id = $2"
    )))
    .bind(id.to_string())
    .bind(user.to_string())
    .fetch_optional_for(db, subject)
    .await?;
    row.as_ref().map(view).transpose()
}

/// The owner's most recent live panel.
///
/// # Errors
/// Database and decode errors.
pub async fn latest_panel(db: &ReadDb, subject: &Subject) -> Result<Option<PanelView>> {
    let user = subject.id();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bloodwork_panels where user_id = $1 and retracted = 0 \
         order by drawn_at desc, panel_id desc limit 1"
    )))
    .bind(user.to_string())
    .fetch_optional_for(db, subject)
    .await?;
    row.as_ref().map(view).transpose()
}

/// Every live result of one marker (catalog name like `total_testosterone`, or
/// `custom:<name>`), oldest first, at most 1000 points.
///
/// # Errors
/// Database and decode errors.
pub async fn marker_series(db: &ReadDb, subject: &Subject, marker: &str) -> Result<Vec<MarkerPoint>> {
    let user = subject.id();
    let rows = sqlx::query(
        "select panel_id, drawn_at, name, value, unit, canonical_value, canonical_unit, si_value, si_unit, flag \
         from marker_results where user_id = $1 and marker = $2 order by drawn_at, panel_id, idx limit 1000",
    )
    .bind(user.to_string())
    .bind(marker.to_owned())
    .fetch_all_for(db, subject)
    .await?;
    rows.iter()
        .map(|r| {
            let pair = |v: &str, u: &str| -> Result<Option<(String, String)>> {
                Ok(r.try_get::<Option<String>, _>(v)?
                    .zip(r.try_get::<Option<String>, _>(u)?))
            };
            Ok(MarkerPoint {
                panel_id: uuid("panel id", &r.try_get::<String, _>("panel_id")?)?,
                drawn_at: at(r.try_get("drawn_at")?)?,
                name: r.try_get("name")?,
                value: r.try_get("value")?,
                unit: r.try_get("unit")?,
                canonical: pair("canonical_value", "canonical_unit")?,
                si: pair("si_value", "si_unit")?,
                flag: r.try_get("flag")?,
            })
        })
        .collect()
}

fn view(r: &AnyRow) -> Result<PanelView> {
    Ok(PanelView {
        panel_id: uuid("panel id", &r.try_get::<String, _>("panel_id")?)?,
        drawn_at: at(r.try_get("drawn_at")?)?,
        lab_name: r.try_get("lab_name")?,
        results: from_json("bloodwork results", &r.try_get::<String, _>("results")?)?,
        corrections: u32::try_from(r.try_get::<i64, _>("corrections")?).unwrap_or(0),
        retracted: r.try_get::<i64, _>("retracted")? != 0,
    })
}
