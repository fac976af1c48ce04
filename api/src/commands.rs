//! Runs each CLI command against the store. Opening the store (location, master key, pending
//! dev-key rotation) happens here once for every command.

mod accounts;
mod backup;
mod checkpoint;
mod events;
mod keys;
mod maintenance;
mod projections;
mod seed;
mod staff;

use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use vigil_eventstore::{EventStore, Location, StoreConfig, StoreError};

use crate::cli::{AuditCommand, Cli, Command, StoreArgs};
use crate::master_key::{self, KeySource};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Migrate => {
            let location = location(&cli.store)?;
            vigil_eventstore::migrate(&location).await?;
            println!("migrations applied; the schema is up to date at {location:?}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed(args) => seed::run(&cli.store, args).await,
        Command::Verify => verify(&cli.store).await,
        Command::Events(args) => events::run(&cli.store, args).await,
        Command::Keys(cmd) => keys::run(&cli.store, cmd).await,
        Command::Bench(cmd) => crate::bench::run(&cli.store, cmd).await,
        Command::Serve(args) => crate::server::run(&cli.store, *args).await,
        Command::Projections(cmd) => projections::run(&cli.store, cmd).await,
        Command::Staff(cmd) => staff::run(&cli.store, cmd).await,
        Command::Maintenance(cmd) => maintenance::run(&cli.store, cmd).await,
        Command::Accounts(cmd) => accounts::run(&cli.store, cmd).await,
        Command::Checkpoint(cmd) => checkpoint::run(&cli.store, cmd).await,
        Command::Backup(cmd) => backup::run(&cli.store, cmd).await,
        // Offline: no store, no data dir, no key but the public one given.
        Command::Audit(AuditCommand::Verify(args)) => Ok(crate::audit::verify::run(&args)),
        Command::Audit(AuditCommand::Export {
            from_size,
            to_size,
            output,
        }) => {
            let location = location(&cli.store)?;
            let done = crate::audit::export::run(&location, Some(from_size), to_size, &output).await?;
            eprintln!(
                "audit bundle of events {}..={} with {} checkpoint(s), {} bytes{}",
                done.from + 1,
                done.to,
                done.checkpoints,
                done.bytes,
                if output.as_os_str() == "-" {
                    String::new()
                } else {
                    format!(": {}", output.display())
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Witness(args) => crate::witness::run(args).await,
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The store location named by the flags; a malformed URL is refused before connecting.
pub fn location(args: &StoreArgs) -> anyhow::Result<Location> {
    match &args.database_url {
        Some(url) => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                bail!(
                    "--database-url must be a postgres:// URL, got {}",
                    vigil_eventstore::redact_url(url)
                );
            }
            url.parse::<sqlx::postgres::PgConnectOptions>()
                .with_context(|| format!("malformed database URL {}", vigil_eventstore::redact_url(url)))?;
            Ok(Location::Postgres(url.clone()))
        }
        None => Ok(Location::Sqlite(args.data_dir.clone())),
    }
}

/// Opens the store with the resolved master key. A dev store whose key rotation was
/// interrupted after the vault committed finishes it here (promotes `master.key.next`).
/// The store and the same stack `serve` runs (its own projection runner, safe beside a running
/// server), for commands that act through the service as the server's shell (`system:cli`).
/// Sessions are never issued there: a throwaway token key serves.
pub async fn open_stack(args: &StoreArgs) -> anyhow::Result<(EventStore, crate::server::Stack)> {
    let location = location(args)?;
    let (store, _) = open(args).await?;
    let stack = crate::server::Stack::assemble(
        &store,
        &location,
        crate::auth::TokenKey::generate()?,
        std::time::Duration::from_secs(10),
        crate::server::Surface::internal(1 << 20),
    )
    .await
    .context("cannot open the read side")?;
    Ok((store, stack))
}

pub async fn open(args: &StoreArgs) -> anyhow::Result<(EventStore, KeySource)> {
    let location = location(args)?;
    let (key, source) = master_key::resolve(&location).await?;
    let pending = match &source {
        KeySource::DevFile(path) => Some((path.clone(), path.with_extension("key.next"))),
        _ => None,
    };
    match EventStore::open(StoreConfig::new(location.clone(), key)).await {
        Ok(store) => {
            if let Some((_, next)) = pending.filter(|(_, next)| next.exists()) {
                // The vault never accepted this key, so nothing can depend on it.
                std::fs::remove_file(&next).with_context(|| format!("cannot remove {}", next.display()))?;
                tracing::warn!(path = %next.display(), "removed the key of an unfinished master-key rotation");
            }
            Ok((store, source))
        }
        Err(StoreError::WrongMasterKey(reason)) => match pending.filter(|(_, next)| next.exists()) {
            Some((current, next)) => {
                let key = master_key::read_key_file(&next)?;
                let store = EventStore::open(StoreConfig::new(location, key))
                    .await
                    .context("neither master.key nor master.key.next opens the vault")?;
                std::fs::rename(&next, &current).context("cannot promote master.key.next")?;
                eprintln!(
                    "finished an interrupted master-key rotation: {} is now current",
                    current.display()
                );
                Ok((store, KeySource::DevFile(current)))
            }
            None => Err(StoreError::WrongMasterKey(reason).into()),
        },
        Err(e) => Err(e.into()),
    }
}

pub fn progress(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// Verifies the chain of the log at the store's location, then its Merkle tree (recomputed
/// from the chain hashes and compared node by node). Needs no key (both cover ciphertext) and
/// writes nothing: not into the data dir, not into the database. A master key set in the
/// environment is not even read. Exit 3 names the first break.
async fn verify(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let location = location(args)?;
    let log = vigil_eventstore::ReadOnlyLog::open(&location)
        .await
        .context("cannot open the event log read-only")?;
    let code = verify_log(&log).await;
    log.close().await;
    code
}

async fn verify_log(log: &vigil_eventstore::ReadOnlyLog) -> anyhow::Result<ExitCode> {
    let total = log
        .head_position()
        .await
        .context("cannot read the chain head (is this a migrated vigil store?)")?;
    let bar = progress(total, "verifying");
    let result = log.verify_chain(|done, _| bar.set_position(done)).await;
    bar.finish_and_clear();
    match result? {
        Ok(report) => println!(
            "chain intact: {} events, head {}",
            report.events,
            hex::encode(report.head_hash)
        ),
        Err(broken) => {
            println!("chain broken at position {}: {}", broken.position, broken.fault);
            return Ok(ExitCode::from(3));
        }
    }
    let bar = progress(total, "verifying the Merkle tree");
    let tree = log.verify_tree(|done, _| bar.set_position(done)).await;
    bar.finish_and_clear();
    match tree.context("cannot read the Merkle tree (is this store migrated?)")? {
        Ok(report) => {
            println!(
                "merkle tree intact: {} leaves, root {}",
                report.leaves,
                hex::encode(report.root)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            println!(
                "merkle tree broken at position {} (level {}, index {}): {}",
                broken.position, broken.level, broken.index, broken.fault
            );
            Ok(ExitCode::from(3))
        }
    }
}
