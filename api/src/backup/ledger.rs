//! The erasure ledger kept beside the backups (`<backup dir>/erasure-ledger.json`), apart from
//! every archive: the subjects whose keys were destroyed. A restore re-applies it, so a person
//! erased after a set was taken stays erased when that set is restored, even when the live
//! database is gone. It is refreshed from the live log by every `backup create` and `drill`
//! and, with `serve --backup-dir`, every minute by the node running the backup job.
//!
//! It holds pseudonymous subject ids and positions only: after the erasure nothing maps an id
//! to a person. Entries are only ever added (a union), so an older live copy cannot shrink it.
//!
//! Owns: the file's format and merging. Must not: erase anything (`restore` does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vigil_eventstore::snapshot::ErasedEntry;

/// The file name in a backup dir.
pub const FILE: &str = "erasure-ledger.json";
/// Its format tag.
pub const FORMAT: &str = "vigil-erasure-ledger/1";

#[derive(Debug, Serialize, Deserialize)]
struct LedgerFile {
    format: String,
    entries: Vec<ErasedEntry>,
}

/// The ledger file of a backup dir.
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Reads a ledger file; a missing file is `None`.
///
/// # Errors
/// A file that exists but is unreadable or malformed (a restore must not go on without it).
pub fn read(path: &Path) -> anyhow::Result<Option<Vec<ErasedEntry>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read the erasure ledger {}", path.display())),
    };
    let file: LedgerFile =
        serde_json::from_str(&text).with_context(|| format!("{} is not an erasure ledger", path.display()))?;
    if file.format != FORMAT {
        bail!("{}: unknown format {:?}", path.display(), file.format);
    }
    Ok(Some(file.entries))
}

/// The union of ledgers, one entry per subject (the earliest erasure kept).
pub fn union<'a>(ledgers: impl IntoIterator<Item = &'a [ErasedEntry]>) -> Vec<ErasedEntry> {
    let mut by_subject: BTreeMap<Uuid, ErasedEntry> = BTreeMap::new();
    for ledger in ledgers {
        for entry in ledger {
            by_subject
                .entry(entry.subject_id)
                .and_modify(|known| {
                    if entry.erased_at < known.erased_at {
                        *known = *entry;
                    }
                })
                .or_insert(*entry);
        }
    }
    let mut out: Vec<ErasedEntry> = by_subject.into_values().collect();
    out.sort_by_key(|e| (e.erased_at, e.subject_id));
    out
}

/// Adds `live` to the ledger file at `path` (created when missing); returns how many entries
/// it holds. Rewritten only when something is new, atomically (temporary file, rename).
///
/// # Errors
/// An unreadable existing file (it is never overwritten then), file errors.
pub fn merge_into(path: &Path, live: &[ErasedEntry]) -> anyhow::Result<usize> {
    let known = read(path)?.unwrap_or_default();
    let merged = union([known.as_slice(), live]);
    if merged.len() == known.len() && path.exists() {
        return Ok(merged.len());
    }
    let count = merged.len();
    super::manifest::write_json(
        path,
        &LedgerFile {
            format: FORMAT.into(),
            entries: merged,
        },
    )?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8, at: i64) -> ErasedEntry {
        ErasedEntry {
            subject_id: Uuid::from_bytes([n; 16]),
            erased_at: at,
            ledger_position: u64::from(n),
        }
    }

    #[test]
    fn merging_only_ever_adds_and_keeps_the_file_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        assert_eq!(merge_into(&path, &[entry(1, 10)]).unwrap(), 1);
        assert_eq!(merge_into(&path, &[entry(2, 20)]).unwrap(), 2);
        // An older copy of the live log, without entry 2, does not remove it.
        assert_eq!(merge_into(&path, &[entry(1, 10)]).unwrap(), 2);
        let read_back = read(&path).unwrap().unwrap();
        assert_eq!(read_back, vec![entry(1, 10), entry(2, 20)]);
        std::fs::write(&path, "{").unwrap();
        assert!(merge_into(&path, &[entry(3, 30)]).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{");
    }
}
