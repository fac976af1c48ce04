//! Protocols with their versions and status changes, and the domain state rebuilt from them.

use sqlx::Row;
use time::Date;
use uuid::Uuid;
use vigil_domain::protocol::{ProtocolItem, ProtocolState, ProtocolStatus, ProtocolVersion, StatusChange};
use vigil_domain::values::{ProtocolId, UserId};

use super::page::{Cursor, Page, PageRequest};
use super::{at, from_json, from_name, uuid};
use crate::db::ReadDb;
use crate::error::{ProjectionError, Result};

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

/// A page of the owner's protocols, newest first.
///
/// # Errors
/// Database and decode errors.
pub async fn protocols(db: &ReadDb, user: Uuid, page: &PageRequest) -> Result<Page<ProtocolView>> {
    let (bound_at, bound_id) = page.bound();
    let rows = sqlx::query(
        "select protocol_id, created_at from protocols where user_id = $1 \
         and (created_at < $2 or (created_at = $2 and protocol_id < $3)) \
         order by created_at desc, protocol_id desc limit $4",
    )
    .bind(user.to_string())
    .bind(bound_at)
    .bind(bound_id)
    .bind(page.limit())
    .fetch_all(db.pool())
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("protocol_id")?;
        let cursor = Cursor {
            at: row.try_get("created_at")?,
            id: id.clone(),
        };
        if let Some(view) = protocol(db, user, uuid("protocol id", &id)?).await? {
            items.push((cursor, view));
        }
    }
    Ok(Page::from_rows(items, page))
}

/// One protocol of the owner; `None` for someone else's (or an unknown) id.
///
/// # Errors
/// Database and decode errors.
pub async fn protocol(db: &ReadDb, user: Uuid, id: Uuid) -> Result<Option<ProtocolView>> {
    let Some(row) = sqlx::query(
        "select name, status, current_version, created_at from protocols where protocol_id = $1 and user_id = $2",
    )
    .bind(id.to_string())
    .bind(user.to_string())
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let Some(state) = protocol_state(db, user, id).await? else {
        return Ok(None);
    };
    Ok(Some(ProtocolView {
        protocol_id: id,
        name: row.try_get("name")?,
        status: from_name("protocol status", &row.try_get::<String, _>("status")?)?,
        current_version: u32::try_from(row.try_get::<i64, _>("current_version")?).unwrap_or(0),
        created_at: at(row.try_get("created_at")?)?,
        state,
    }))
}

/// The domain state of one of the owner's protocols, rebuilt from its rows.
///
/// # Errors
/// Database and decode errors.
pub async fn protocol_state(db: &ReadDb, user: Uuid, id: Uuid) -> Result<Option<ProtocolState>> {
    let versions = sqlx::query(
        "select version, name, items, effective_from, reason, recorded_at from protocol_versions \
         where protocol_id = $1 and user_id = $2 order by version",
    )
    .bind(id.to_string())
    .bind(user.to_string())
    .fetch_all(db.pool())
    .await?;
    if versions.is_empty() {
        return Ok(None);
    }
    let changes = sqlx::query(
        "select on_date, status from protocol_status_changes where protocol_id = $1 and user_id = $2 order by seq",
    )
    .bind(id.to_string())
    .bind(user.to_string())
    .fetch_all(db.pool())
    .await?;
    let mut state = ProtocolState {
        protocol_id: Some(ProtocolId::from_uuid(id)),
        owner: Some(UserId::from_uuid(user)),
        ..ProtocolState::default()
    };
    for row in versions {
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
        state.status_changes.push(StatusChange {
            on: date(&row.try_get::<String, _>("on_date")?)?,
            status: from_name("protocol status", &row.try_get::<String, _>("status")?)?,
        });
    }
    Ok(Some(state))
}

fn date(text: &str) -> Result<Date> {
    Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| ProjectionError::decode("date", e))
}
