//! Applying one decrypted event to one projection's tables, inside the runner's transaction.
//! Every statement is idempotent per event (inserts of an id, updates to a known row), and
//! the checkpoint moves in the same transaction, so a crash never applies an event twice.
//! Inserts go through the batch's [`Writer`], which writes them many rows per statement;
//! every other statement must take its connection from `Writer::touch` on the table it uses.
//! Must not commit, read the clock, or touch another projection's tables.

mod access;
mod accounts;
mod bloodwork;
mod doses;
mod health;
mod protocols;
#[cfg(test)]
mod tests;
mod writer;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_eventstore::RecordedEvent;

use crate::error::{ProjectionError, Result};
use crate::identity::IndexKey;
use crate::projection::{PERSONAL_AUTH_TABLES, Projection};
pub(crate) use writer::{Arg, Writer};

/// What an apply function gets to see besides the event itself.
pub(crate) struct Ctx<'a> {
    pub w: &'a mut Writer,
    /// The person (the subject whose key sealed the event).
    pub user: String,
    /// The aggregate id: the stream id after its prefix (`protocol-<id>` gives `<id>`).
    pub aggregate: String,
    /// The event's version within its stream: a natural idempotency key.
    pub stream_version: i64,
    pub index_key: &'a IndexKey,
}

/// Applies `event` (already known to feed `projection`) to its tables.
pub(crate) async fn apply(
    w: &mut Writer,
    projection: Projection,
    event: &RecordedEvent,
    index_key: &IndexKey,
) -> Result<()> {
    let ctx = Ctx {
        w,
        user: event.envelope.subject.to_string(),
        aggregate: event
            .envelope
            .stream_id
            .split_once('-')
            .map(|(_, id)| id.to_owned())
            .unwrap_or_default(),
        stream_version: i64::try_from(event.envelope.stream_version).unwrap_or(i64::MAX),
        index_key,
    };
    match projection {
        Projection::Accounts => accounts::apply_account(ctx, decode(event)?).await,
        Projection::Credentials => accounts::apply_credentials(ctx, decode(event)?).await,
        Projection::Protocols => protocols::apply(ctx, decode(event)?).await,
        Projection::Doses => doses::apply(ctx, decode(event)?).await,
        Projection::HealthLogs => health::apply(ctx, decode(event)?).await,
        Projection::Bloodwork => bloodwork::apply(ctx, decode(event)?).await,
        Projection::SecondFactors => access::apply_second_factor(ctx, decode(event)?).await,
        Projection::AccessLog => access::apply_access(ctx, event.envelope.position, decode(event)?).await,
    }
}

/// Deletes every row of an erased person from `projection`'s tables.
pub(crate) async fn erase(w: &mut Writer, projection: Projection, subject: Uuid) -> Result<()> {
    for table in projection.tables() {
        delete_user_rows(w, table, subject).await?;
    }
    Ok(())
}

/// Deletes an erased person's sessions, tokens and identity claims.
pub(crate) async fn erase_auth_state(w: &mut Writer, subject: Uuid) -> Result<()> {
    for table in PERSONAL_AUTH_TABLES {
        delete_user_rows(w, table, subject).await?;
    }
    Ok(())
}

async fn delete_user_rows(w: &mut Writer, table: &str, subject: Uuid) -> Result<()> {
    // Table names come from the fixed catalogue in `projection`, never from input.
    sqlx::query(sqlx::AssertSqlSafe(format!("delete from {table} where user_id = $1")))
        .bind(subject.to_string())
        .execute(w.touch(table).await?)
        .await?;
    Ok(())
}

fn decode<T: DeserializeOwned>(event: &RecordedEvent) -> Result<T> {
    match event.decode::<T>() {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(ProjectionError::decode(
            "event",
            "erased payloads are skipped before apply",
        )),
        Err(e) => Err(ProjectionError::decode("event", e)),
    }
}

/// Microseconds since the epoch: how every read model stores an instant.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// JSON text of a value (serializing our own types cannot fail; a failure is reported).
pub(crate) fn json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| ProjectionError::decode("value", e))
}

/// A unit-like enum as its serde name (`"user"`, `"bp"`), without JSON quotes.
pub(crate) fn name_of<T: Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value).map_err(|e| ProjectionError::decode("value", e))? {
        serde_json::Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}
