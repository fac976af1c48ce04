//! `backup create`: snapshot the log and the vault, check the snapshot, pack each into its own
//! archive for its own recipients, write the manifest, refresh the erasure ledger beside the
//! sets, and rotate.
//!
//! The set is written under `.partial-<id>` and renamed into place when whole, so a crash or a
//! full disk never leaves something `list`, `restore` or rotation would take for a set. The
//! plain snapshot (ciphertext events, wrapped keys) lives only inside that private directory
//! and is removed once packed.
//!
//! Must not: ever put the log and the vault in one archive, or encrypt both to one recipient.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::archive::Recipient;
use anyhow::{Context, bail};
use time::OffsetDateTime;
use vigil_eventstore::snapshot::{self, Part, Snapshot};
use vigil_eventstore::{Location, ReadOnlyLog};

use super::archive;
use super::ledger;
use super::manifest::{self, ArchiveInfo, LOG_ARCHIVE, Manifest, PARTIAL_PREFIX, VAULT_ARCHIVE};
use super::rotate::{self, Policy};

/// Dev secrets a SQLite data dir may hold, carried in the vault archive so a dev store restores
/// whole. Production keys come from the environment and are never in a backup.
pub const DEV_SECRETS: [&str; 2] = ["master.key", "checkpoint.key"];

/// Who the two archives are for. Built only through [`Recipients::new`], which refuses a
/// recipient in both sets: then no single identity opens both the log and the keys.
#[derive(Debug, Clone)]
pub struct Recipients {
    log: Vec<Recipient>,
    vault: Vec<Recipient>,
}

impl Recipients {
    /// # Errors
    /// An empty set, or a recipient in both.
    pub fn new(log: Vec<Recipient>, vault: Vec<Recipient>) -> anyhow::Result<Recipients> {
        if log.is_empty() {
            bail!("no recipient for the log archive: give --recipient or --recipients-file");
        }
        if vault.is_empty() {
            bail!("no recipient for the vault archive: give --vault-recipient or --vault-recipients-file");
        }
        let shared: Vec<String> = log
            .iter()
            .map(ToString::to_string)
            .filter(|l| vault.iter().any(|v| &v.to_string() == l))
            .collect();
        if !shared.is_empty() {
            bail!(
                "{} is a recipient of both archives: the log and the keys that open it must be for different people (or keys)",
                shared.join(", ")
            );
        }
        Ok(Recipients { log, vault })
    }
}

/// What a run did.
#[derive(Debug)]
pub struct Done {
    /// The new set's manifest.
    pub manifest: Manifest,
    /// Its directory.
    pub dir: PathBuf,
    /// Sets rotation deleted.
    pub deleted: Vec<String>,
    /// Entries in the erasure ledger file now.
    pub ledger_entries: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

/// Takes a set into `dir`. `data_dir` is the SQLite data dir, whose dev secrets go into the
/// vault archive (`None` on Postgres).
///
/// # Errors
/// The store cannot be read, the snapshot fails its check, or a file cannot be written.
pub async fn create(
    location: &Location,
    data_dir: Option<&Path>,
    dir: &Path,
    recipients: &Recipients,
    policy: Policy,
) -> anyhow::Result<Done> {
    let started = Instant::now();
    vigil_eventstore::create_private_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    remove_stale_partials(dir);
    let at = OffsetDateTime::now_utc();
    let id = manifest::new_id(at)?;
    let partial = dir.join(format!("{PARTIAL_PREFIX}{id}"));
    let work = partial.join(".snapshot");
    vigil_eventstore::create_private_dir(&work)?;
    let result = write_set(location, data_dir, &id, at, &partial, &work, recipients).await;
    let _ = std::fs::remove_dir_all(&work);
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    let final_dir = dir.join(&id);
    std::fs::rename(&partial, &final_dir)
        .with_context(|| format!("cannot move the set into {}", final_dir.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    let live = snapshot::erasure_ledger(location).await?;
    let ledger_entries = ledger::merge_into(&ledger::path_in(dir), &live)?;
    let deleted = rotate_dir(dir, policy)?;
    Ok(Done {
        manifest,
        dir: final_dir,
        deleted,
        ledger_entries,
        elapsed: started.elapsed(),
    })
}

async fn write_set(
    location: &Location,
    data_dir: Option<&Path>,
    id: &str,
    at: OffsetDateTime,
    partial: &Path,
    work: &Path,
    recipients: &Recipients,
) -> anyhow::Result<Manifest> {
    let snap = snapshot::take(location, work)
        .await
        .context("cannot take the snapshot")?;
    check_snapshot(location, work, &snap).await?;
    let mut log_files = Vec::new();
    let mut vault_files = Vec::new();
    for f in &snap.files {
        match f.part {
            Part::Log => log_files.push((f.name.clone(), f.path.clone())),
            Part::Vault => vault_files.push((f.name.clone(), f.path.clone())),
        }
    }
    if let Some(data_dir) = data_dir {
        for name in DEV_SECRETS {
            let path = data_dir.join(name);
            if path.is_file() {
                vault_files.push((name.to_owned(), path));
            }
        }
    }
    let log_out = partial.join(LOG_ARCHIVE);
    let vault_out = partial.join(VAULT_ARCHIVE);
    let (log_packed, vault_packed) = {
        let recipients = recipients.clone();
        let (lf, vf) = (log_files.clone(), vault_files.clone());
        let (lo, vo) = (log_out.clone(), vault_out.clone());
        tokio::task::spawn_blocking(move || {
            let log = archive::pack(&lf, &recipients.log, &lo)?;
            let vault = archive::pack(&vf, &recipients.vault, &vo)?;
            Ok::<_, anyhow::Error>((log, vault))
        })
        .await??
    };
    let info = |file: &str, packed: archive::Packed, files: &[(String, PathBuf)], to: &[Recipient]| ArchiveInfo {
        file: file.to_owned(),
        bytes: packed.bytes,
        sha256: packed.sha256,
        contents: files.iter().map(|(n, _)| n.clone()).collect(),
        recipients: to.iter().map(ToString::to_string).collect(),
    };
    let manifest = Manifest {
        format: manifest::FORMAT.into(),
        id: id.to_owned(),
        created_at: at,
        backend: snap.backend.into(),
        vigil_version: env!("CARGO_PKG_VERSION").into(),
        migrations: snap.migrations.clone(),
        tables: snap.tables.clone(),
        head_position: snap.head_position,
        head_hash: hex::encode(snap.head_hash),
        erased_subjects: snap.erased.len() as u64,
        log: info(LOG_ARCHIVE, log_packed, &log_files, &recipients.log),
        vault: info(VAULT_ARCHIVE, vault_packed, &vault_files, &recipients.vault),
    };
    // Read back what was written: a disk that lies fails here, not at the restore.
    for a in [&manifest.log, &manifest.vault] {
        let on_disk = archive::digest(&partial.join(&a.file))?;
        if on_disk.sha256 != a.sha256 || on_disk.bytes != a.bytes {
            bail!("{} reads back differently from what was written", a.file);
        }
    }
    manifest::write_json(&partial.join(manifest::MANIFEST), &manifest)?;
    Ok(manifest)
}

/// The snapshot's own check before it is packed: on SQLite the copied log's chain and tree are
/// verified; on Postgres (whose copy is in `COPY` format) the live log's chain and tree are,
/// and its event at the snapshot's head must have the snapshot's head hash, so the copy is a
/// prefix of a verified chain.
async fn check_snapshot(location: &Location, work: &Path, snap: &Snapshot) -> anyhow::Result<()> {
    let target = match location {
        Location::Sqlite(_) => Location::Sqlite(work.to_path_buf()),
        Location::Postgres(_) => location.clone(),
    };
    let log = ReadOnlyLog::open(&target).await?;
    let outcome = verify_prefix(&log, snap).await;
    log.close().await;
    outcome
}

async fn verify_prefix(log: &ReadOnlyLog, snap: &Snapshot) -> anyhow::Result<()> {
    if let Err(broken) = log.verify_chain(|_, _| {}).await? {
        bail!(
            "the log's chain is broken at position {} ({}): no backup taken",
            broken.position,
            broken.fault
        );
    }
    if let Err(broken) = log.verify_tree(|_, _| {}).await? {
        bail!(
            "the log's Merkle tree is broken at position {}: no backup taken",
            broken.position
        );
    }
    if snap.head_position > 0 {
        let at_head = log.read_raw(snap.head_position, 1).await?;
        match at_head.first() {
            Some(e) if e.envelope.position == snap.head_position && e.envelope.hash == snap.head_hash => {}
            _ => bail!(
                "the snapshot's head (position {}) is not in the verified chain",
                snap.head_position
            ),
        }
    }
    Ok(())
}

/// A `.partial-*` left by a crash an hour or more ago (younger ones may be another run's).
fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(PARTIAL_PREFIX)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > Duration::from_secs(3600)));
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Deletes the sets `policy` does not keep; returns their ids.
///
/// # Errors
/// The dir cannot be read, or a set cannot be removed.
pub fn rotate_dir(dir: &Path, policy: Policy) -> anyhow::Result<Vec<String>> {
    let sets = manifest::list_sets(dir)?;
    let entries: Vec<rotate::Entry> = sets
        .iter()
        .map(|s| rotate::Entry {
            id: s.manifest.id.clone(),
            at: s.manifest.created_at,
            drilled_ok: s.drill.as_ref().is_some_and(|d| d.passed),
        })
        .collect();
    let gone = rotate::to_delete(&entries, policy);
    for id in &gone {
        if let Some(set) = sets.iter().find(|s| &s.manifest.id == id) {
            std::fs::remove_dir_all(&set.dir).with_context(|| format!("cannot delete {}", set.dir.display()))?;
        }
    }
    Ok(gone)
}
