//! Consistent copies of the log and of the key vault, for backups, and their load into an
//! empty store (ops/adr/0013-backups.md).
//!
//! - **SQLite**: `VACUUM INTO` of `events.db`, then of `keys.db`. Each copy is a consistent
//!   snapshot of its file, taken while writers run. The log is copied first: a data key is
//!   always created before the first event sealed with it, so every event in the log's copy
//!   has its key in the later vault copy (or the subject was shredded in between, which the
//!   erasure ledger re-applies after a restore).
//! - **Postgres**: one `REPEATABLE READ, READ ONLY` transaction that `COPY`s every table of
//!   the `vigil` and `vigil_vault` schemas out in the binary format, so both parts come from
//!   one snapshot. A load re-creates the schema at the migrations the copy was taken at, copies
//!   the rows back in one transaction, and only then upgrades to this binary's migrations.
//!
//! Owns: which tables are the log and which the vault, taking the copies, counting their rows,
//! and loading them into an empty store. Must not: compress, encrypt, name a backup set's files
//! or decide what to keep (the api's `backup`), nor copy the read models, which hold plaintext
//! and are rebuilt from the log after a load.

mod postgres;
mod sqlite;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::db::Location;
use crate::error::Result;

/// Which archive a copied file belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// The event log: sealed events, chain, Merkle tree, checkpoints, erasure fences.
    Log,
    /// The key vault: wrapped data keys and master-key versions.
    Vault,
}

/// One file of a snapshot, inside the directory it was taken into.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    /// Its archive.
    pub part: Part,
    /// Its file name (no directories).
    pub name: String,
    /// Where it is now.
    pub path: PathBuf,
}

/// One entry of the erasure ledger: a subject whose keys were destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErasedEntry {
    /// The subject.
    pub subject_id: Uuid,
    /// When, in microseconds since the Unix epoch.
    pub erased_at: i64,
    /// The position of its ledger event in the log it was taken from.
    pub ledger_position: u64,
}

/// What a snapshot holds, read from the copies themselves.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// `sqlite` or `postgres`: which store can load it.
    pub backend: &'static str,
    /// The copied files.
    pub files: Vec<SnapshotFile>,
    /// Rows per table, keyed `log.<table>` / `vault.<table>` (SQLite) or `<schema>.<table>`.
    pub tables: BTreeMap<String, u64>,
    /// The migration versions each part had (`log`, `vault`; Postgres: one list under `log`).
    pub migrations: BTreeMap<String, Vec<i64>>,
    /// The chain head in the copy.
    pub head_position: u64,
    /// Its hash.
    pub head_hash: [u8; 32],
    /// The erasure ledger in the copy.
    pub erased: Vec<ErasedEntry>,
}

/// Takes a consistent copy of the log and of the vault at `location` into `into` (an
/// existing, private, empty directory). Writes nothing into the store.
///
/// # Errors
/// `InvalidInput` when there is no store at `location`; database and file errors.
pub async fn take(location: &Location, into: &Path) -> Result<Snapshot> {
    match location {
        Location::Sqlite(dir) => sqlite::take(dir, into).await,
        Location::Postgres(url) => postgres::take(url, into).await,
    }
}

/// Whether `location` holds no store at all (nothing to lose by loading into it).
///
/// # Errors
/// Database errors; `Unreachable` for a Postgres that cannot be reached.
pub async fn is_vacant(location: &Location) -> Result<bool> {
    match location {
        Location::Sqlite(dir) => Ok(sqlite::is_vacant(dir)),
        Location::Postgres(url) => postgres::is_vacant(url).await,
    }
}

/// Loads the snapshot files in `from` (as [`take`] named them) into the vacant store at
/// `location`, at the migrations the snapshot had; [`crate::migrate`] upgrades it afterwards.
/// Returns the rows per table as loaded, keyed as [`Snapshot::tables`].
///
/// # Errors
/// `InvalidInput` when the store is not vacant, the files do not match the backend or the
/// snapshot's migrations are unknown to this build; database and file errors.
pub async fn load(
    location: &Location,
    from: &Path,
    migrations: &BTreeMap<String, Vec<i64>>,
) -> Result<BTreeMap<String, u64>> {
    match location {
        Location::Sqlite(dir) => sqlite::load(dir, from).await,
        Location::Postgres(url) => postgres::load(url, from, migrations).await,
    }
}

/// One `erased_subjects` row, on either backend.
fn erased_entry<R: sqlx::Row>(row: &R) -> Result<ErasedEntry>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Uuid: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ErasedEntry {
        subject_id: row.try_get("subject_id")?,
        erased_at: row.try_get("erased_at")?,
        ledger_position: crate::log::to_u64(row.try_get("ledger_position")?, "ledger position")?,
    })
}

/// The `chain_head` row (absent in an empty log), on either backend: its position and hash.
fn chain_head<R: sqlx::Row>(row: Option<R>) -> Result<(u64, [u8; 32])>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    match row {
        Some(row) => Ok((
            crate::log::to_u64(row.try_get("last_position")?, "head position")?,
            crate::log::hash32(row.try_get("last_hash")?, "head hash")?,
        )),
        None => Ok((0, crate::chain::genesis())),
    }
}

/// The erasure ledger of the live log at `location`, read-only.
///
/// # Errors
/// Database errors.
pub async fn erasure_ledger(location: &Location) -> Result<Vec<ErasedEntry>> {
    match location {
        Location::Sqlite(dir) => sqlite::erasure_ledger(dir).await,
        Location::Postgres(url) => postgres::erasure_ledger(url).await,
    }
}
