//! `vigil keys shred` (which also purges the read models) and `vigil keys rotate-master`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use vigil_eventstore::{EventStore, Location, MasterKey, Metadata};
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, ProjectionRunner, ReadDb};

use crate::cli::{KeysCommand, StoreArgs};
use crate::commands::open;
use crate::master_key::{self, KeySource};

pub async fn run(args: &StoreArgs, cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Shred { subject } => {
            let (store, _) = open(args).await?;
            let report = store.shred(subject, Metadata::actor("system:cli")).await?;
            println!(
                "subject {} erased: ledger entry at position {}, {} key version(s) destroyed",
                report.subject, report.ledger_position, report.keys_destroyed
            );
            let purged = purge_read_models(args, &store, report.subject, report.ledger_position).await;
            store.close().await;
            match purged {
                Ok(true) => println!("read models purged of the subject"),
                Ok(false) => {}
                Err(e) => {
                    eprintln!(
                        "error: the log and keys are erased, but the read models may still hold the subject's rows \
                         until projections reach position {}: {e:#}",
                        report.ledger_position
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::RotateMaster { new_key_file } => rotate_master(args, new_key_file).await,
    }
}

/// Runs the projections up to the erasure, so the read models (plaintext) lose the subject's
/// rows now rather than when a server next runs. A running server's runner may apply the same
/// batch: checkpoints move inside the batch's transaction, so only one of them does.
/// `Ok(false)`: there are no read models yet (an embedded store no server has opened).
/// Applies the erasure to the read models (which deletes the subject's sessions), then tells
/// every running server to forget what it remembers of them before its next request (their
/// own projections would tell them too, but on SQLite only at their next poll).
async fn purge_read_models(
    args: &StoreArgs,
    store: &EventStore,
    subject: uuid::Uuid,
    ledger_position: u64,
) -> anyhow::Result<bool> {
    let location = super::location(args)?;
    if let Location::Sqlite(dir) = &location
        && !dir.join("read.db").exists()
    {
        return Ok(false);
    }
    let db = ReadDb::open(&location, 2).await?;
    let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await?);
    let runner = ProjectionRunner::start(store.clone(), db.clone(), key).await?;
    let reached = runner.wait_for(ledger_position, PURGE_TIMEOUT).await;
    runner.stop_in_place().await;
    let announced = match reached {
        Ok(()) => announce_erasure(&location, &db, subject).await,
        Err(e) => Err(e.into()),
    };
    db.close().await;
    announced?;
    Ok(true)
}

async fn announce_erasure(location: &Location, db: &ReadDb, subject: uuid::Uuid) -> anyhow::Result<()> {
    match location {
        Location::Postgres(_) => {
            sqlx::query(crate::cluster::revocations::NOTIFY_SQL)
                .bind(subject.to_string())
                .execute(db.pool())
                .await?;
        }
        Location::Sqlite(_) => crate::cluster::revocations::Revocations::for_location(location)?.announce()?,
    }
    Ok(())
}

/// How long `keys shred` waits for the projections to apply the erasure.
const PURGE_TIMEOUT: Duration = Duration::from_secs(120);

fn explicit_new_key(file: Option<PathBuf>) -> anyhow::Result<Option<MasterKey>> {
    if let Some(path) = file {
        return Ok(Some(master_key::read_key_file(&path)?));
    }
    let direct = std::env::var("VIGIL_NEW_MASTER_KEY").ok().filter(|v| !v.is_empty());
    let path = std::env::var("VIGIL_NEW_MASTER_KEY_FILE")
        .ok()
        .filter(|v| !v.is_empty());
    match (direct, path) {
        (Some(_), Some(_)) => bail!("set only one of VIGIL_NEW_MASTER_KEY and VIGIL_NEW_MASTER_KEY_FILE"),
        (Some(text), None) => Ok(Some(master_key::parse_key(&text, "VIGIL_NEW_MASTER_KEY")?)),
        (None, Some(path)) => Ok(Some(master_key::read_key_file(&PathBuf::from(path))?)),
        (None, None) => Ok(None),
    }
}

async fn rotate_master(args: &StoreArgs, file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let new_key = explicit_new_key(file)?;
    let (store, source) = open(args).await?;
    match (new_key, source) {
        (Some(key), _) => {
            let rotation = store.rotate_master(key).await?;
            println!(
                "master key rotated to version {}: {} data key(s) re-wrapped, no event touched. \
                 Point VIGIL_MASTER_KEY(_FILE) at the new key now; the old one is refused from here on.",
                rotation.kek_version, rotation.rewrapped
            );
        }
        (None, KeySource::DevFile(current)) => {
            // Write the new key durably before the vault switches to it, so a crash in between
            // can always be finished (see `commands::open`).
            let next = current.with_extension("key.next");
            let key = MasterKey::generate()?;
            master_key::write_key_file(&next, &key)
                .with_context(|| format!("{} exists: an earlier rotation did not finish", next.display()))?;
            let rotation = store.rotate_master(key).await?;
            std::fs::rename(&next, &current).context("cannot replace the dev master key file")?;
            println!(
                "master key rotated to version {}: {} data key(s) re-wrapped, no event touched; {} replaced",
                rotation.kek_version,
                rotation.rewrapped,
                current.display()
            );
        }
        (None, _) => {
            bail!("give the new master key with --new-key-file, VIGIL_NEW_MASTER_KEY or VIGIL_NEW_MASTER_KEY_FILE")
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
