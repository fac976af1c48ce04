//! Protocols with their versions and status changes, and the domain state rebuilt from them.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use vigil_domain::protocol::{ProtocolItem, ProtocolState, ProtocolStatus, ProtocolVersion, StatusChange};
use vigil_domain::values::{ProtocolId, UserId};

use super::Subject;
use super::page::{Cursor, Page, PageRequest};
use super::subject::Scoped;
use super::{at, date, from_json, from_name, uuid};
use crate::db::ReadDb;
use crate::error::Result;

/// A protocol with its whole history.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolView {
    /// Id.
    pub protocol_id: Uuid,
    /// Current name.
    pub name: String,
    /// Latest recorded status (the API asks the state for the status on a date).
    pub status: ProtocolStatus,
    /// Latest version number.
    pub current_version: u32,
    /// When defined.
    pub created_at: time::OffsetDateTime,
    /// The domain state: versions and status changes.
    pub state: ProtocolState,
}

/// A page of the owner's protocols, newest first. Three queries whatever the page size: the
/// page, then every version and status change of the owner, grouped in memory.
///
/// # Errors
/// Database and decode errors.
pub async fn protocols(db: &ReadDb, subject: &Subject, page: &PageRequest) -> Result<Page<ProtocolView>> {
    let user = subject.id();
    let (bound_at, bound_id) = page.bound();
    // A literal, not a parameter: SQLite re-prepares a statement whose LIMIT is a bound
    // parameter every time it is bound (see `vigil_eventstore` log reads).
    let limit = page.limit();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from protocols where user_id = $1 \
         and (created_at < $2 or (created_at = $2 and protocol_id < $3)) \
         order by created_at desc, protocol_id desc limit {limit}"
    )))
    .bind(user.to_string())
    .bind(bound_at)
    .bind(bound_id)
    .fetch_all_for(db, subject)
    .await?;
    let mut states = if rows.is_empty() {
        BTreeMap::new()
    } else {
        histories(db, subject, None).await?
    };
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let id = uuid("protocol id", &row.try_get::<String, _>("protocol_id")?)?;
        if let Some(state) = states.remove(&id) {
            let cursor = Cursor {
                at: row.try_get("created_at")?,
                id: id.to_string(),
            };
            items.push((cursor, view(row, id, state)?));
        }
    }
    Ok(Page::from_rows(items, page))
}

/// One protocol of the owner; `None` for someone else's (or an unknown) id.
///
/// # Errors
/// Database and decode errors.
pub async fn protocol(db: &ReadDb, subject: &Subject, id: Uuid) -> Result<Option<ProtocolView>> {
    let user = subject.id();
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from protocols where protocol_id = $1 and user_id = $2"
    )))
    .bind(id.to_string())
    .bind(user.to_string())
    .fetch_optional_for(db, subject)
    .await?
    else {
        return Ok(None);
    };
    match histories(db, subject, Some(id)).await?.remove(&id) {
        Some(state) => Ok(Some(view(&row, id, state)?)),
        None => Ok(None),
    }
}

/// The domain state of one of the owner's protocols, rebuilt from its rows.
///
/// # Errors
/// Database and decode errors.
pub async fn protocol_state(db: &ReadDb, subject: &Subject, id: Uuid) -> Result<Option<ProtocolState>> {
    Ok(histories(db, subject, Some(id)).await?.remove(&id))
}

const COLUMNS: &str = "protocol_id, name, status, current_version, created_at";

fn view(row: &AnyRow, id: Uuid, state: ProtocolState) -> Result<ProtocolView> {
    Ok(ProtocolView {
        protocol_id: id,
        name: row.try_get("name")?,
        status: from_name("protocol status", &row.try_get::<String, _>("status")?)?,
        current_version: u32::try_from(row.try_get::<i64, _>("current_version")?).unwrap_or(0),
        created_at: at(row.try_get("created_at")?)?,
        state,
    })
}

/// The owner's protocol histories (all of them, or only `only`), keyed by protocol id.
async fn histories(db: &ReadDb, subject: &Subject, only: Option<Uuid>) -> Result<BTreeMap<Uuid, ProtocolState>> {
    let user = subject.id();
    // `$2 is null` keeps one SQL text for "all" and "one".
    let only = only.map(|id| id.to_string());
    let versions = sqlx::query(
        "select protocol_id, version, name, items, effective_from, reason, recorded_at from protocol_versions \
         where user_id = $1 and ($2 is null or protocol_id = $2) order by protocol_id, version",
    )
    .bind(user.to_string())
    .bind(only.clone())
    .fetch_all_for(db, subject)
    .await?;
    let changes = sqlx::query(
        "select protocol_id, on_date, status from protocol_status_changes \
         where user_id = $1 and ($2 is null or protocol_id = $2) order by protocol_id, seq",
    )
    .bind(user.to_string())
    .bind(only)
    .fetch_all_for(db, subject)
    .await?;
    let mut states: BTreeMap<Uuid, ProtocolState> = BTreeMap::new();
    for row in versions {
        let id = uuid("protocol id", &row.try_get::<String, _>("protocol_id")?)?;
        let state = states.entry(id).or_insert_with(|| ProtocolState {
            protocol_id: Some(ProtocolId::from_uuid(id)),
            owner: Some(UserId::from_uuid(user)),
            ..ProtocolState::default()
        });
        state.versions.push(ProtocolVersion {
            version: u32::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0),
            name: row.try_get("name")?,
            items: from_json::<Vec<ProtocolItem>>("protocol items", &row.try_get::<String, _>("items")?)?,
            effective_from: date(&row.try_get::<String, _>("effective_from")?)?,
            reason: row.try_get("reason")?,
            recorded_at: at(row.try_get("recorded_at")?)?,
        });
    }
    for row in changes {
        let id = uuid("protocol id", &row.try_get::<String, _>("protocol_id")?)?;
        if let Some(state) = states.get_mut(&id) {
            state.status_changes.push(StatusChange {
                on: date(&row.try_get::<String, _>("on_date")?)?,
                status: from_name("protocol status", &row.try_get::<String, _>("status")?)?,
            });
        }
    }
    Ok(states)
}
