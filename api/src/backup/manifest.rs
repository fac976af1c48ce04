//! A backup set on disk: its directory (`<dir>/<id>/`), its plaintext `manifest.json` (what
//! the snapshot held: tables, row counts, chain head, migrations; each archive's size, SHA-256
//! and recipients; never a key, an address or a health value), and the drill result
//! (`drill.json`) once one ran.
//!
//! Owns: the set's layout, ids and the manifest's format. Must not: read a store or decrypt.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The manifest's format tag.
pub const FORMAT: &str = "vigil-backup/1";
/// The manifest's file name in a set.
pub const MANIFEST: &str = "manifest.json";
/// The drill result's file name in a set.
pub const DRILL: &str = "drill.json";
/// The log archive's file name.
pub const LOG_ARCHIVE: &str = "log.tar.zst.age";
/// The vault archive's file name.
pub const VAULT_ARCHIVE: &str = "vault.tar.zst.age";
/// Prefix of a set still being written (ignored by `list`, removed by the next `create`).
pub const PARTIAL_PREFIX: &str = ".partial-";

/// One archive of a set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArchiveInfo {
    /// Its file name in the set.
    pub file: String,
    /// Its size.
    pub bytes: u64,
    /// SHA-256 of the file as written, hex.
    pub sha256: String,
    /// The files inside it.
    pub contents: Vec<String>,
    /// The age recipients it was encrypted to (public keys).
    pub recipients: Vec<String>,
}

/// What `manifest.json` says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The set's id, its directory name.
    pub id: String,
    /// When the snapshot was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `sqlite` or `postgres`: which store a restore needs.
    pub backend: String,
    /// The vigil version that wrote it.
    pub vigil_version: String,
    /// The migrations of the copied databases.
    pub migrations: BTreeMap<String, Vec<i64>>,
    /// Rows per table in the snapshot.
    pub tables: BTreeMap<String, u64>,
    /// The chain head in the snapshot.
    pub head_position: u64,
    /// Its hash, hex.
    pub head_hash: String,
    /// Subjects erased in the snapshot.
    pub erased_subjects: u64,
    /// The log archive (events, chain, tree, checkpoints, erasure fences).
    pub log: ArchiveInfo,
    /// The vault archive (wrapped data keys; on a dev store also its dev key files).
    pub vault: ArchiveInfo,
}

/// What `drill.json` says: the last drill of this set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DrillRecord {
    /// When it finished.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether every check passed.
    pub passed: bool,
    /// Each check: name, passed, what it found.
    pub checks: Vec<(String, bool, String)>,
}

/// A set found in a backup dir.
#[derive(Debug, Clone)]
pub struct Set {
    /// Its directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its last drill, if any.
    pub drill: Option<DrillRecord>,
}

/// A new set id: the time (UTC, to the second) and 4 random hex digits, so ids sort by time and
/// two sets taken in the same second do not collide.
///
/// # Errors
/// When the system has no randomness.
pub fn new_id(at: OffsetDateTime) -> anyhow::Result<String> {
    let mut random = [0u8; 2];
    getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        hex::encode(random)
    ))
}

/// Writes `value` as pretty JSON to a new private file at `path` (temporary name, then renamed).
///
/// # Errors
/// File errors.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let partial = path.with_extension("json.partial");
    let _ = std::fs::remove_file(&partial);
    let mut file = super::archive::create_private(&partial)?;
    serde_json::to_writer_pretty(&mut file, value)?;
    std::io::Write::write_all(&mut file, b"\n")?;
    file.sync_all()?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Reads one set's directory.
///
/// # Errors
/// No manifest, a malformed one, or one of another format.
pub fn read_set(dir: &Path) -> anyhow::Result<Set> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: Manifest =
        serde_json::from_str(&text).with_context(|| format!("{} is not a vigil backup manifest", path.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "{}: unknown format {:?} (this vigil reads {FORMAT})",
            path.display(),
            manifest.format
        );
    }
    let drill = match std::fs::read_to_string(dir.join(DRILL)) {
        Ok(text) => serde_json::from_str(&text).ok(),
        Err(_) => None,
    };
    Ok(Set {
        dir: dir.to_path_buf(),
        manifest,
        drill,
    })
}

/// Every complete set in `dir`, oldest first. Partial sets and other files are skipped; a
/// directory with a broken manifest is reported on stderr and skipped.
///
/// # Errors
/// When `dir` cannot be read.
pub fn list_sets(dir: &Path) -> anyhow::Result<Vec<Set>> {
    let mut sets = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read the backup dir {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.file_type()?.is_dir() || !entry.path().join(MANIFEST).exists() {
            continue;
        }
        match read_set(&entry.path()) {
            Ok(set) => sets.push(set),
            Err(e) => eprintln!("warning: skipping {}: {e:#}", entry.path().display()),
        }
    }
    sets.sort_by(|a, b| (a.manifest.created_at, &a.manifest.id).cmp(&(b.manifest.created_at, &b.manifest.id)));
    Ok(sets)
}
