//! Health-log entries: pages filtered by vital and time range, and the latest of each vital.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use vigil_domain::health::{VitalComponent, VitalKind};

use super::Subject;
use super::page::{Page, PageRequest};
use super::subject::Scoped;
use super::{at, from_json, from_name, uuid};
use crate::apply::name_of;
use crate::db::ReadDb;
use crate::error::Result;

/// One vital reading as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthLogView {
    /// Id.
    pub entry_id: Uuid,
    /// Which vital.
    pub kind: VitalKind,
    /// LOINC code of the reading (a panel code for blood pressure).
    pub loinc: String,
    /// Values as entered and canonical.
    pub components: Vec<VitalComponent>,
    /// When measured.
    pub measured_at: time::OffsetDateTime,
    /// Note.
    pub note: Option<String>,
    /// Corrections applied.
    pub corrections: u32,
    /// Withdrawn.
    pub retracted: bool,
}

const COLUMNS: &str = "entry_id, kind, loinc, components, measured_at, note, corrections, retracted";

/// A page of the owner's live readings, newest first, optionally of one vital and within
/// `[from, to]` (µs).
///
/// # Errors
/// Database and decode errors.
pub async fn health_logs(
    db: &ReadDb,
    subject: &Subject,
    kind: Option<VitalKind>,
    from: Option<i64>,
    to: Option<i64>,
    page: &PageRequest,
) -> Result<Page<HealthLogView>> {
    let user = subject.id();
    let (bound_at, bound_id) = page.bound();
    let kind = kind.map(|k| name_of(&k)).transpose()?;
    // A literal, not a parameter: SQLite re-prepares a statement whose LIMIT is a bound
    // parameter every time it is bound (see `vigil_eventstore` log reads).
    let limit = page.limit();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from health_logs where user_id = $1 and retracted = 0 \
         and ($2 is null or kind = $2) and measured_at >= $3 and measured_at <= $4 \
         and (measured_at < $5 or (measured_at = $5 and entry_id < $6)) \
         order by measured_at desc, entry_id desc limit {limit}"
    )))
    .bind(user.to_string())
    .bind(kind)
    .bind(from.unwrap_or(i64::MIN))
    .bind(to.unwrap_or(i64::MAX))
    .bind(bound_at)
    .bind(bound_id)
    .fetch_all_for(db, subject)
    .await?;
    Page::decode(&rows, page, "measured_at", view, |v| v.entry_id)
}

/// A page of every reading of the owner, retracted ones included (flagged), newest first:
/// what an export of their data holds.
///
/// # Errors
/// Database and decode errors.
pub async fn health_log_history(db: &ReadDb, subject: &Subject, page: &PageRequest) -> Result<Page<HealthLogView>> {
    let (bound_at, bound_id) = page.bound();
    let limit = page.limit();
    // The cursor as a row value: the index seeks straight past it (see `doses`).
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from health_logs where user_id = $1 and (measured_at, entry_id) < ($2, $3) \
         order by measured_at desc, entry_id desc limit {limit}"
    )))
    .bind(subject.id().to_string())
    .bind(bound_at)
    .bind(bound_id)
    .fetch_all_for(db, subject)
    .await?;
    Page::decode(&rows, page, "measured_at", view, |v| v.entry_id)
}

/// One of the owner's readings (retracted included).
///
/// # Errors
/// Database and decode errors.
pub async fn health_log(db: &ReadDb, subject: &Subject, id: Uuid) -> Result<Option<HealthLogView>> {
    let user = subject.id();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from health_logs where entry_id = $1 and user_id = $2"
    )))
    .bind(id.to_string())
    .bind(user.to_string())
    .fetch_optional_for(db, subject)
    .await?;
    row.as_ref().map(view).transpose()
}

/// The latest live reading of each vital the owner has logged.
///
/// # Errors
/// Database and decode errors.
pub async fn latest_vitals(db: &ReadDb, subject: &Subject) -> Result<Vec<HealthLogView>> {
    let user = subject.id();
    let rows = sqlx::query(sqlx::AssertSqlSafe(latest_vitals_sql()?))
        .bind(user.to_string())
        .fetch_all_for(db, subject)
        .await?;
    rows.iter().map(view).collect()
}

/// One index probe per catalogued vital (newest live reading first; of two at the same
/// instant the greater id), so the cost does not grow with a person's history: comparing
/// every reading with its vital's maximum grew with it, and made the dashboard after each
/// new reading slower the longer someone had logged. The kinds are the domain's catalogue,
/// serialized as the projection stores them.
fn latest_vitals_sql() -> Result<&'static str> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(sql) = SQL.get() {
        return Ok(sql);
    }
    let mut kinds = Vec::new();
    for spec in vigil_domain::health::VITALS {
        // Names come from the domain's enum, never from input; quoting keeps them literal.
        kinds.push(format!("select '{}' as kind", name_of(&spec.kind)?.replace('\'', "''")));
    }
    let sql = format!(
        "select {COLUMNS} from health_logs where entry_id in (select (select l.entry_id from health_logs l \
         where l.user_id = $1 and l.kind = k.kind and l.retracted = 0 \
         order by l.measured_at desc, l.entry_id desc limit 1) from ({}) k) order by kind",
        kinds.join(" union all ")
    );
    Ok(SQL.get_or_init(|| sql))
}

fn view(r: &AnyRow) -> Result<HealthLogView> {
    Ok(HealthLogView {
        entry_id: uuid("entry id", &r.try_get::<String, _>("entry_id")?)?,
        kind: from_name("vital kind", &r.try_get::<String, _>("kind")?)?,
        loinc: r.try_get("loinc")?,
        components: from_json("vital components", &r.try_get::<String, _>("components")?)?,
        measured_at: at(r.try_get("measured_at")?)?,
        note: r.try_get("note")?,
        corrections: u32::try_from(r.try_get::<i64, _>("corrections")?).unwrap_or(0),
        retracted: r.try_get::<i64, _>("retracted")? != 0,
    })
}
