//! One batch in one transaction, plus the maintenance operations built on it: reset,
//! rebuild with progress, and checkpoint status. A batch's writes go through one
//! `apply::Writer`, which commits them with the checkpoints.
//! Must not decide what an event means (that is `apply`) or write outside the batch's
//! transaction.

use std::collections::BTreeMap;
use std::time::Instant;

use sqlx::Row;
use uuid::Uuid;
use vigil_eventstore::{EventStore, Payload, RecordedEvent};

use crate::apply::{self, Arg, Writer};
use crate::db::{Backend, ReadDb};
use crate::error::{ProjectionError, Result};
use crate::identity::IndexKey;
use crate::projection::{PERSONAL_AUTH_TABLES, Projection};
use crate::streams::{self, StreamKind};

/// The checkpoint table: never buffered, named for `Writer::touch`.
const CHECKPOINTS: &str = "projection_checkpoints";

/// The checkpoints as the caller's last committed batch left them. On SQLite a batch starts
/// from them instead of reading them first, and reads them in its final call, under the
/// same write lock, to check: one round trip instead of two.
pub(crate) type Remembered = Option<BTreeMap<Projection, u64>>;

const SELECT_CHECKPOINTS: &str = "select name, position from projection_checkpoints order by name";

/// Applies `events` (consecutive, ascending) to every projection still below them. Returns
/// the lowest checkpoint after commit, and leaves the checkpoints in `remembered`.
///
/// # Errors
/// Database and decode errors; `CheckpointsMoved` (nothing written) when the checkpoints are
/// not those remembered: someone else moved them, and the caller must start again from them.
pub(crate) async fn apply_batch(
    db: &ReadDb,
    key: &IndexKey,
    events: &[RecordedEvent],
    remembered: &mut Remembered,
) -> Result<u64> {
    let backend = db.backend();
    // The writer holds the batch's inserts and writes them many rows per statement; it writes
    // them before any other statement on their table and at commit (see `apply::writer`).
    let mut w = Writer::new(db.begin_derived().await?, backend);
    // SQLite checks the remembered checkpoints at the end (any difference: this batch may
    // repeat another writer's, so it is undone). Postgres reads and locks them first, since
    // another server may share them: moved forward, they say what to skip; moved back (a
    // reset), the runner must replay from them.
    let mut assumed = remembered.take();
    let mut positions = match &assumed {
        Some(known) if backend == Backend::Sqlite => known.clone(),
        known => {
            let found = locked_checkpoints(w.touch(CHECKPOINTS).await?, backend).await?;
            let moved_back = known
                .iter()
                .flatten()
                .any(|(p, at)| found.get(p).is_none_or(|now| now < at));
            if moved_back {
                return Err(ProjectionError::CheckpointsMoved);
            }
            assumed = None;
            found
        }
    };
    let Some(last) = events.last().map(|e| e.envelope.position) else {
        return Ok(positions.values().copied().min().unwrap_or(0));
    };
    let mut erased_someone = false;
    for event in events {
        let position = event.envelope.position;
        let behind: Vec<Projection> = positions
            .iter()
            .filter(|(_, p)| **p < position)
            .map(|(n, _)| *n)
            .collect();
        if behind.is_empty() {
            continue;
        }
        let kind = streams::kind_of(&event.envelope.stream_id);
        if kind == StreamKind::ErasureLedger {
            if let Some(subject) = erased_subject(event)? {
                for projection in &behind {
                    apply::erase(&mut w, *projection, subject).await?;
                }
                apply::erase_auth_state(&mut w, subject).await?;
                if !erased_someone && backend == Backend::Postgres {
                    // An erasure's batch commits durably (see `ReadDb::begin_derived`): the
                    // purge after it must not vacuum a delete that a crash could still undo.
                    sqlx::query("set local synchronous_commit = on")
                        .execute(w.touch(CHECKPOINTS).await?)
                        .await?;
                }
                erased_someone = true;
            }
            continue;
        }
        // An erased person's events read as `Erased`: nothing to project, nothing kept.
        if matches!(event.payload, Payload::Erased) {
            continue;
        }
        for projection in behind.iter().filter(|p| p.follows(kind)) {
            apply::apply(&mut w, *projection, event, key).await?;
        }
    }
    // Every checkpoint that moves moves to `last`: one statement, not one per projection.
    let moved: Vec<Projection> = positions.iter().filter(|(_, p)| **p < last).map(|(n, _)| *n).collect();
    let update = (!moved.is_empty()).then(|| {
        // Numbered placeholders on Postgres; anonymous ones on SQLite, where a numbered one
        // would index the whole call's parameters, not this statement's.
        let mark = |i: usize| match backend {
            Backend::Postgres => format!("${i}"),
            Backend::Sqlite => "?".to_owned(),
        };
        let names = (3..moved.len() + 3).map(mark).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "update {CHECKPOINTS} set position = {}, updated_at = {} where name in ({names})",
            mark(1),
            mark(2)
        );
        let mut args: Vec<Arg> = vec![i64::try_from(last).unwrap_or(i64::MAX).into(), now_micros().into()];
        args.extend(moved.iter().map(|p| Arg::from(p.name())));
        (sql, args)
    });
    let found = w.finish(assumed.as_ref().map(|_| SELECT_CHECKPOINTS), update).await?;
    if let Some(assumed) = assumed
        && checkpoints_of(&found)? != assumed
    {
        // Dropping the writer rolls the batch back.
        return Err(ProjectionError::CheckpointsMoved);
    }
    for projection in &moved {
        positions.insert(*projection, last);
    }
    w.commit().await?;
    *remembered = Some(positions.clone());
    // After the commit, and not fatal: the batch is applied either way, and a failure only
    // leaves old page images in the WAL until later commits overwrite them.
    if erased_someone && let Err(e) = db.purge_after_erasure(&personal_tables()).await {
        tracing::warn!(error = %e, "cannot purge the read database's files after an erasure");
    }
    Ok(positions.values().copied().min().unwrap_or(0))
}

/// Every table a person can have rows in: what an erasure deletes from.
pub(crate) fn personal_tables() -> Vec<&'static str> {
    Projection::ALL
        .iter()
        .flat_map(|p| p.tables().iter().copied())
        .chain(PERSONAL_AUTH_TABLES)
        .collect()
}

fn erased_subject(event: &RecordedEvent) -> Result<Option<Uuid>> {
    #[derive(serde::Deserialize)]
    struct Erased {
        subject: Uuid,
    }
    if event.envelope.event_type != vigil_eventstore::SUBJECT_ERASED {
        return Ok(None);
    }
    Ok(event
        .decode::<Erased>()
        .map_err(|e| ProjectionError::decode("erasure ledger entry", e))?
        .map(|e| e.subject))
}

/// Reads every checkpoint inside the transaction, creating missing ones at 0 (only the first
/// batch after a projection is added finds one missing, so the usual batch pays one statement),
/// and locks them (Postgres row locks; SQLite's immediate transaction already holds the write
/// lock).
async fn locked_checkpoints(tx: &mut sqlx::AnyConnection, backend: Backend) -> Result<BTreeMap<Projection, u64>> {
    let positions = select_checkpoints(tx, backend).await?;
    if positions.len() == Projection::ALL.len() {
        return Ok(positions);
    }
    ensure_checkpoints(tx).await?;
    select_checkpoints(tx, backend).await
}

async fn select_checkpoints(tx: &mut sqlx::AnyConnection, backend: Backend) -> Result<BTreeMap<Projection, u64>> {
    let sql = match backend {
        Backend::Postgres => "select name, position from projection_checkpoints order by name for update",
        Backend::Sqlite => SELECT_CHECKPOINTS,
    };
    checkpoints_of(&sqlx::query(sql).fetch_all(&mut *tx).await?)
}

fn checkpoints_of(rows: &[sqlx::any::AnyRow]) -> Result<BTreeMap<Projection, u64>> {
    let mut positions = BTreeMap::new();
    for row in rows {
        let name: String = row.try_get("name")?;
        let position: i64 = row.try_get("position")?;
        // A checkpoint of a projection this build no longer has is left alone.
        if let Ok(projection) = Projection::parse(&name) {
            positions.insert(projection, u64::try_from(position).unwrap_or(0));
        }
    }
    Ok(positions)
}

async fn ensure_checkpoints(conn: &mut sqlx::AnyConnection) -> Result<()> {
    for projection in Projection::ALL {
        sqlx::query(
            "insert into projection_checkpoints (name, position, updated_at) values ($1, 0, $2) \
             on conflict (name) do nothing",
        )
        .bind(projection.name())
        .bind(now_micros())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Every projection's checkpoint (0 for one never run).
///
/// # Errors
/// Database errors.
pub async fn checkpoints(db: &ReadDb) -> Result<Vec<(Projection, u64)>> {
    let rows = sqlx::query("select name, position from projection_checkpoints")
        .fetch_all(db.pool())
        .await?;
    let mut found = BTreeMap::new();
    for row in rows {
        let name: String = row.try_get("name")?;
        let position: i64 = row.try_get("position")?;
        if let Ok(projection) = Projection::parse(&name) {
            found.insert(projection, u64::try_from(position).unwrap_or(0));
        }
    }
    Ok(Projection::ALL
        .into_iter()
        .map(|p| (p, found.get(&p).copied().unwrap_or(0)))
        .collect())
}

/// Clears the projections' tables and sets their checkpoints to 0, in one transaction.
///
/// # Errors
/// Database errors.
pub async fn reset(db: &ReadDb, projections: &[Projection]) -> Result<()> {
    let mut tx = db.begin_write().await?;
    ensure_checkpoints(&mut tx).await?;
    for projection in projections {
        for table in projection.tables() {
            // Table names come from the fixed catalogue, never from input. On Postgres,
            // TRUNCATE: DELETE left the old rows as dead tuples (plaintext on disk until
            // vacuum) and their index entries in the way of the replayed ones. SQLite's
            // unconditional DELETE is already its truncate, and `secure_delete` zeroes it.
            let sql = match db.backend() {
                Backend::Postgres => format!("truncate table {table}"),
                Backend::Sqlite => format!("delete from {table}"),
            };
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
        }
        sqlx::query("update projection_checkpoints set position = 0, updated_at = $2 where name = $1")
            .bind(projection.name())
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RebuildReport {
    /// Events read from the log.
    pub events: u64,
    /// Wall time.
    pub seconds: f64,
}

impl RebuildReport {
    /// Events per second.
    pub fn events_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.events as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Resets `projections` and replays the whole log into them, in the calling task (the next
/// page is read ahead in a spawned one), calling `progress(position, head)` after each batch.
/// For `vigil projections rebuild` when no server runs (a running server's runner would also
/// pick the reset up by itself).
///
/// # Errors
/// Store and database errors; the checkpoint stays at the last committed batch.
pub async fn rebuild(
    store: &EventStore,
    db: &ReadDb,
    key: &IndexKey,
    projections: &[Projection],
    mut progress: impl FnMut(u64, u64),
) -> Result<RebuildReport> {
    reset(db, projections).await?;
    let started = Instant::now();
    let head = store.head_position().await?;
    let next = checkpoints(db).await?.iter().map(|(_, p)| *p).min().unwrap_or(0) + 1;
    let mut events = 0u64;
    let mut remembered = None;
    let mut page = if next <= head {
        store.read_all(next, super::BATCH as u64).await?
    } else {
        Vec::new()
    };
    while let Some(last) = page.last().map(|e| e.envelope.position) {
        // The next page is read and decrypted on another worker while this one is written:
        // otherwise each database, and each core, sits idle while the other works.
        let following = (last < head).then(|| {
            let store = store.clone();
            tokio::spawn(async move { store.read_all(last + 1, super::BATCH as u64).await })
        });
        apply_batch(db, key, &page, &mut remembered).await?;
        events += page.len() as u64;
        progress(last, head);
        let Some(following) = following else { break };
        page = match following.await {
            Ok(read) => read?,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => return Err(ProjectionError::Stopped),
        };
    }
    Ok(RebuildReport {
        events,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A projection's checkpoint and how far it is behind the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointStatus {
    /// The projection.
    pub projection: Projection,
    /// Last applied position.
    pub position: u64,
    /// Events committed to the log but not yet applied.
    pub lag: u64,
}

/// Checkpoints and lag of every projection.
///
/// # Errors
/// Store and database errors.
pub async fn status(store: &EventStore, db: &ReadDb) -> Result<Vec<CheckpointStatus>> {
    let head = store.head_position().await?;
    Ok(checkpoints(db)
        .await?
        .into_iter()
        .map(|(projection, position)| CheckpointStatus {
            projection,
            position,
            lag: head.saturating_sub(position),
        })
        .collect())
}

fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}
