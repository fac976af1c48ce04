//! `backup restore`: a set back into an empty store.
//!
//! 1. Refuse a store that is not empty, before anything is decrypted.
//! 2. Check both archives against the manifest (size, SHA-256), then decrypt each with the
//!    identities given into a private scratch directory and check its files.
//! 3. Load the copies at the migrations they were taken at, then upgrade to this binary's.
//! 4. Open the store with its master key and rebuild the read models from the log.
//! 5. Re-apply the erasure ledger: every subject in it (the ledger file kept beside the sets,
//!    and the live log's when the caller has it) that the restored log does not show erased is
//!    erased again through the one erasure flow (actor `system:restore`).
//!
//! Must not: write into a store that holds anything, or leave decrypted files behind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use super::archive::Identity;
use anyhow::{Context, bail};
use uuid::Uuid;
use vigil_eventstore::Location;
use vigil_eventstore::snapshot::{self, ErasedEntry};
use vigil_projections::runner::rebuild;
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, Projection, ReadDb};

use super::archive;
use super::create::DEV_SECRETS;
use super::manifest::{ArchiveInfo, Set};
use crate::cli::StoreArgs;
use crate::commands;

/// How long a restore waits for the read models to apply the re-applied erasures.
const SETTLE: Duration = Duration::from_secs(300);

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// Rows per table as loaded, before the upgrade (keyed as the manifest's `tables`).
    pub loaded: BTreeMap<String, u64>,
    /// Events replayed into the read models.
    pub replayed: u64,
    /// Subjects erased again from the ledger.
    pub reapplied: Vec<Uuid>,
    /// Every subject of the ledger used (the set's own fences included).
    pub ledger: Vec<ErasedEntry>,
}

fn kind(location: &Location) -> &'static str {
    match location {
        Location::Sqlite(_) => "sqlite",
        Location::Postgres(_) => "postgres",
    }
}

/// Checks an archive file against the manifest before it is opened.
fn check_archive(set: &Set, info: &ArchiveInfo) -> anyhow::Result<()> {
    let path = set.dir.join(&info.file);
    let found = archive::digest(&path)?;
    if found.bytes != info.bytes || found.sha256 != info.sha256 {
        bail!(
            "{} does not match the manifest (size {} vs {}, sha256 {}… vs {}…): corrupt or altered",
            info.file,
            found.bytes,
            info.bytes,
            &found.sha256[..12],
            &info.sha256.get(..12).unwrap_or("")
        );
    }
    Ok(())
}

/// Restores `set` into the empty store `target` names. `ledger` is the erasure ledger to
/// re-apply beyond the set's own (`None` only when the operator said so explicitly).
///
/// # Errors
/// A non-empty target, a corrupt or altered archive, no identity that opens one, a master key
/// that does not open the vault, store errors.
pub async fn restore(
    target: &StoreArgs,
    set: &Set,
    identities: &[Identity],
    ledger: Option<&[ErasedEntry]>,
) -> anyhow::Result<Restored> {
    let location = commands::location(target)?;
    let manifest = &set.manifest;
    if manifest.backend != kind(&location) {
        bail!(
            "set {} is a {} backup; restore it into a {} store",
            manifest.id,
            manifest.backend,
            manifest.backend
        );
    }
    if !snapshot::is_vacant(&location).await? {
        bail!("the target store {location:?} is not empty: restore only into an empty data dir or a new database");
    }
    check_archive(set, &manifest.log)?;
    check_archive(set, &manifest.vault)?;

    let scratch = private_tempdir()?;
    let files = scratch.path().join("files");
    vigil_eventstore::create_private_dir(&files)?;
    let (set_dir, log_info, vault_info) = (set.dir.clone(), manifest.log.clone(), manifest.vault.clone());
    let ids = identities.to_vec();
    let into = files.clone();
    let (log_names, vault_names) = tokio::task::spawn_blocking(move || {
        let log = archive::unpack(&set_dir.join(&log_info.file), &ids, &into)?;
        let vault = archive::unpack(&set_dir.join(&vault_info.file), &ids, &into)?;
        Ok::<_, anyhow::Error>((log, vault))
    })
    .await??;
    for (names, info) in [(&log_names, &manifest.log), (&vault_names, &manifest.vault)] {
        let got: BTreeSet<&String> = names.iter().collect();
        let want: BTreeSet<&String> = info.contents.iter().collect();
        if got != want {
            bail!("{} holds {got:?}, the manifest says {want:?}", info.file);
        }
    }
    let secrets = scratch.path().join("secrets");
    vigil_eventstore::create_private_dir(&secrets)?;
    for name in DEV_SECRETS {
        if files.join(name).exists() {
            std::fs::rename(files.join(name), secrets.join(name))?;
        }
    }

    let loaded = snapshot::load(&location, &files, &manifest.migrations)
        .await
        .context("cannot load the snapshot")?;
    if let Location::Sqlite(dir) = &location {
        for name in DEV_SECRETS {
            let from = secrets.join(name);
            if from.exists() {
                let mut out = archive::create_private(&dir.join(name))?;
                std::io::copy(&mut std::fs::File::open(&from)?, &mut out)?;
                out.sync_all()?;
            }
        }
    }
    drop(scratch);
    vigil_eventstore::migrate(&location).await?;

    let replayed = rebuild_read_models(target, &location).await?;

    let own: Vec<ErasedEntry> = snapshot::erasure_ledger(&location).await?;
    let merged = super::ledger::union([own.as_slice(), ledger.unwrap_or(&[])]);
    let already: BTreeSet<Uuid> = own.iter().map(|e| e.subject_id).collect();
    let mut reapplied = Vec::new();
    let pending: Vec<Uuid> = merged
        .iter()
        .map(|e| e.subject_id)
        .filter(|s| !already.contains(s))
        .collect();
    if !pending.is_empty() {
        let (store, stack) = commands::open_stack(target).await?;
        let mut last = 0;
        let mut failed = None;
        for subject in pending {
            match stack.service.erase(subject, crate::erasure::Cause::Restored).await {
                Ok(receipt) => {
                    last = last.max(receipt.ledger_position);
                    reapplied.push(subject);
                }
                Err(e) => {
                    failed = Some(anyhow::anyhow!("cannot re-apply the erasure of {subject}: {e}"));
                    break;
                }
            }
        }
        let settled = stack.service.runner().wait_for(last, SETTLE).await;
        stack.close().await;
        store.close().await;
        if let Some(e) = failed {
            return Err(e);
        }
        settled.context("the read models did not apply the re-applied erasures")?;
    }
    Ok(Restored {
        loaded,
        replayed,
        reapplied,
        ledger: merged,
    })
}

/// Replays the whole log into the (empty) read models; returns the events replayed.
async fn rebuild_read_models(target: &StoreArgs, location: &Location) -> anyhow::Result<u64> {
    let (store, _) = commands::open(target)
        .await
        .context("cannot open the restored store (is the master key the one of this backup's vault?)")?;
    let db = ReadDb::open(location, 4).await?;
    let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await?);
    let report = rebuild(&store, &db, &key, &Projection::ALL, |_, _| {}).await;
    db.close().await;
    store.close().await;
    Ok(report?.events)
}

/// A scratch directory only its owner can enter, removed when dropped.
pub fn private_tempdir() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("vigil-restore-").tempdir()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// The set `id` in `dir`, or the newest one.
///
/// # Errors
/// No such set, or no set at all.
pub fn pick(dir: &Path, id: Option<&str>) -> anyhow::Result<Set> {
    let sets = super::manifest::list_sets(dir)?;
    match id {
        Some(id) => sets
            .into_iter()
            .find(|s| s.manifest.id == id)
            .ok_or_else(|| anyhow::anyhow!("no backup set {id} in {}", dir.display())),
        None => sets
            .into_iter()
            .next_back()
            .ok_or_else(|| anyhow::anyhow!("no backup set in {}", dir.display())),
    }
}
