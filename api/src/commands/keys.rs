//! `vigil keys shred` (which also purges the read models) and `vigil keys rotate-master`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use vigil_eventstore::MasterKey;

use crate::cli::{KeysCommand, StoreArgs};
use crate::commands::{open, open_stack};
use crate::master_key::{self, KeySource};

pub async fn run(args: &StoreArgs, cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Shred { subject, queue_mail } => {
            // The same flow as a person's own `deleteMyAccount` (see `erasure`).
            let (store, stack) = open_stack(args).await?;
            if queue_mail {
                stack.service.set_mail(crate::mail::Mail::for_commands(&store).await?);
            }
            let erased = stack
                .service
                .erase(subject, crate::erasure::Cause::Operator)
                .await
                .map_err(|e| match e {
                    // The operator is told the cause a client would only get an id for.
                    crate::service::ApiError::Internal(cause) => cause,
                    other => anyhow::anyhow!("{other}"),
                });
            let purged = match &erased {
                Ok(receipt) if !receipt.read_models_purged => stack
                    .service
                    .runner()
                    .wait_for(receipt.ledger_position, PURGE_TIMEOUT)
                    .await
                    .map_err(anyhow::Error::from),
                _ => Ok(()),
            };
            stack.close().await;
            store.close().await;
            let receipt = erased?;
            println!(
                "subject {} erased: ledger entry at position {}, {} key version(s) destroyed",
                receipt.subject, receipt.ledger_position, receipt.keys_destroyed
            );
            if let Err(e) = purged {
                eprintln!(
                    "error: the log and keys are erased, but the read models may still hold the subject's rows \
                     until projections reach position {}: {e:#}",
                    receipt.ledger_position
                );
                return Ok(ExitCode::FAILURE);
            }
            println!("read models purged of the subject");
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::RotateMaster { new_key_file } => rotate_master(args, new_key_file).await,
    }
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
