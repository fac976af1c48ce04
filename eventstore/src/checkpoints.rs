//! Recorded checkpoints (ADR 0010): the signed notes that vouch for the Merkle root of the
//! first `size` events, one row per size in the `checkpoints` table of the log's database, and
//! witnesses' cosignatures beside them. Recording is idempotent, so every serving node may
//! sign and record: one key signs one body into one note (Ed25519 is deterministic) and the
//! first row stands. Cosignature lines of witnesses are kept per size and key. Must not sign or parse notes (the API layer owns the key and the format);
//! it only refuses a second root for a size, which would be a fork.

use sqlx::Row;

use crate::db::on_db;
use crate::error::{Result, StoreError};
use crate::log::{hash32, to_i64, to_u64};
use crate::store::EventStore;

/// One recorded checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCheckpoint {
    /// The tree size (the events it covers: positions 1..=size).
    pub size: u64,
    /// The Merkle root of that tree.
    pub root: [u8; 32],
    /// The C2SP signed note, as served.
    pub note: String,
    /// When it was signed, microseconds since the Unix epoch.
    pub signed_at_micros: i64,
}

/// What recording did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new row.
    Inserted,
    /// The same note was already recorded for the size (another node signed it first).
    AlreadyRecorded,
    /// The size was recorded with the same root under another note (another key signed it
    /// first); the first stands.
    OtherNote,
}

impl EventStore {
    /// Records the checkpoint of `size` with its `root` and signed `note`.
    ///
    /// # Errors
    /// `CheckpointConflict` when the size is recorded with another root; `InvalidInput` for
    /// size 0 or beyond the log; database errors.
    pub async fn record_checkpoint(&self, size: u64, root: [u8; 32], note: &str) -> Result<Recorded> {
        if size == 0 {
            return Err(StoreError::invalid("size", "an empty tree has no checkpoint"));
        }
        let head = self.head_position().await?;
        if size > head {
            return Err(StoreError::TreeSizeBeyondLog { size, tree_size: head });
        }
        let at = crate::time::now_micros();
        let db = self.log_db();
        let inserted = on_db!(db, p => sqlx::query(
            "insert into checkpoints (size, root, note, signed_at) values ($1, $2, $3, $4) on conflict (size) do nothing",
        )
        .bind(to_i64(size, "size")?)
        .bind(root.to_vec())
        .bind(note)
        .bind(at)
        .execute(p)
        .await?
        .rows_affected());
        if inserted == 1 {
            return Ok(Recorded::Inserted);
        }
        let existing = self
            .checkpoint_at(size)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("checkpoint {size} neither inserted nor found")))?;
        if existing.root != root {
            return Err(StoreError::CheckpointConflict { size });
        }
        Ok(if existing.note == note {
            Recorded::AlreadyRecorded
        } else {
            Recorded::OtherNote
        })
    }

    /// The checkpoint of the largest size recorded, if any.
    ///
    /// # Errors
    /// Database errors; `Corrupt` for a malformed row.
    pub async fn latest_checkpoint(&self) -> Result<Option<RecordedCheckpoint>> {
        Ok(self.checkpoints_before(None, 1).await?.pop())
    }

    /// The checkpoint recorded for exactly `size`.
    ///
    /// # Errors
    /// Database errors; `Corrupt` for a malformed row.
    pub async fn checkpoint_at(&self, size: u64) -> Result<Option<RecordedCheckpoint>> {
        let size = to_i64(size, "size")?;
        const SQL: &str = "select size, root, note, signed_at from checkpoints where size = $1";
        let db = self.log_db();
        on_db!(db, p => sqlx::query(SQL).bind(size).fetch_optional(p).await?.map(|r| row_of(&r)).transpose())
    }

    /// The smallest checkpoint covering position `position` (size ≥ position), if one is
    /// recorded yet.
    ///
    /// # Errors
    /// Database errors; `Corrupt` for a malformed row.
    pub async fn checkpoint_covering(&self, position: u64) -> Result<Option<RecordedCheckpoint>> {
        let position = to_i64(position, "position")?;
        const SQL: &str = "select size, root, note, signed_at from checkpoints where size >= $1 order by size limit 1";
        let db = self.log_db();
        on_db!(db, p => sqlx::query(SQL).bind(position).fetch_optional(p).await?.map(|r| row_of(&r)).transpose())
    }

    /// Up to `first` checkpoints, newest (largest) first, of sizes below `before` (all when
    /// `None`).
    ///
    /// # Errors
    /// Database errors; `Corrupt` for a malformed row.
    pub async fn checkpoints_before(&self, before: Option<u64>, first: u32) -> Result<Vec<RecordedCheckpoint>> {
        let before = before.map_or(Ok(i64::MAX), |b| to_i64(b, "before"))?;
        const SQL: &str =
            "select size, root, note, signed_at from checkpoints where size < $1 order by size desc limit $2";
        let db = self.log_db();
        on_db!(db, p => sqlx::query(SQL)
            .bind(before)
            .bind(i64::from(first))
            .fetch_all(p)
            .await?
            .iter()
            .map(row_of)
            .collect::<Result<Vec<_>>>())
    }
}

impl EventStore {
    /// Records a witness's cosignature line for the checkpoint of `size` (the caller verified
    /// it). The first line by a key for a size stands; `false` when one was there already.
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_cosignature(&self, size: u64, key_id: u32, line: &str) -> Result<bool> {
        let db = self.log_db();
        let inserted = on_db!(db, p => sqlx::query(
            "insert into cosignatures (size, key_id, line, added_at) values ($1, $2, $3, $4) on conflict (size, key_id) do nothing",
        )
        .bind(to_i64(size, "size")?)
        .bind(i64::from(key_id))
        .bind(line)
        .bind(crate::time::now_micros())
        .execute(p)
        .await?
        .rows_affected());
        Ok(inserted == 1)
    }

    /// The cosignature lines recorded for the checkpoint of `size`, in key-id order.
    ///
    /// # Errors
    /// Database errors.
    pub async fn cosignatures(&self, size: u64) -> Result<Vec<String>> {
        const SQL: &str = "select line from cosignatures where size = $1 order by key_id";
        let size = to_i64(size, "size")?;
        let db = self.log_db();
        on_db!(db, p => sqlx::query_scalar::<_, String>(SQL).bind(size).fetch_all(p).await.map_err(Into::into))
    }
}

pub(crate) fn row_of<R: Row>(row: &R) -> Result<RecordedCheckpoint>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(RecordedCheckpoint {
        size: to_u64(row.try_get("size")?, "checkpoint size")?,
        root: hash32(row.try_get("root")?, "checkpoint root")?,
        note: row.try_get("note")?,
        signed_at_micros: row.try_get("signed_at")?,
    })
}
