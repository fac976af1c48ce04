//! `vigil backup keygen|create|list|restore|drill`: the operator's side of `crate::backup`.
//! Exit codes: 0 done, 1 an error (nothing half-written is left), 3 a drill check failed.

use std::process::ExitCode;

use anyhow::Context;
use time::OffsetDateTime;
use vigil_domain::backup::{Created, Drilled};
use vigil_eventstore::{Location, snapshot};

use crate::backup::args::BackupCommand;
use crate::backup::{archive, create, drill, ledger, manifest, record, restore};
use crate::cli::StoreArgs;

/// The actor of records made from the command line.
const ACTOR: &str = "system:cli";

pub async fn run(args: &StoreArgs, command: BackupCommand) -> anyhow::Result<ExitCode> {
    match command {
        BackupCommand::Keygen => {
            let (identity, recipient) = archive::new_identity();
            print!("{identity}");
            eprintln!("Public key: {recipient}");
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Create(c) => {
            let recipients = c.recipients.resolve()?;
            let location = super::location(args)?;
            let data_dir = matches!(location, Location::Sqlite(_)).then(|| args.data_dir.clone());
            let done = create::create(&location, data_dir.as_deref(), &c.to, &recipients, c.retention.policy()).await?;
            let m = &done.manifest;
            // Recorded through the store's own stack, as the server's shell: every node's
            // backup-age gauge reads it.
            let (store, stack) = super::open_stack(args).await?;
            let recorded = record::created(
                &stack.service,
                ACTOR,
                Created {
                    id: m.id.clone(),
                    by: ACTOR.into(),
                    at: m.created_at,
                    head_position: m.head_position,
                    log_bytes: m.log.bytes,
                    vault_bytes: m.vault.bytes,
                },
            )
            .await;
            stack.close().await;
            store.close().await;
            recorded.map_err(|e| anyhow::anyhow!("the set {} was written but not recorded: {e}", m.id))?;
            println!(
                "backup set {} in {}: {} events (head {}…), log archive {} bytes, vault archive {} bytes, {:.2} s",
                m.id,
                done.dir.display(),
                m.head_position,
                &m.head_hash[..16],
                m.log.bytes,
                m.vault.bytes,
                done.elapsed.as_secs_f64()
            );
            println!(
                "erasure ledger beside the sets: {} subject(s); rotation deleted {} set(s){}",
                done.ledger_entries,
                done.deleted.len(),
                if done.deleted.is_empty() {
                    String::new()
                } else {
                    format!(": {}", done.deleted.join(", "))
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::List { dir } => {
            let sets = manifest::list_sets(&dir)?;
            let now = OffsetDateTime::now_utc();
            println!(
                "{:<24} {:<8} {:>10} {:>14} {:>10}  drill",
                "set", "backend", "events", "bytes", "age"
            );
            for s in &sets {
                let m = &s.manifest;
                let drill = match &s.drill {
                    Some(d) if d.passed => format!("passed {}", d.at.date()),
                    Some(d) => format!("FAILED {}", d.at.date()),
                    None => "none".into(),
                };
                println!(
                    "{:<24} {:<8} {:>10} {:>14} {:>10}  {drill}",
                    m.id,
                    m.backend,
                    m.head_position,
                    m.log.bytes + m.vault.bytes,
                    age(now - m.created_at)
                );
            }
            if sets.is_empty() {
                println!("(no backup set in {})", dir.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Restore(r) => {
            let identities = identities(&r.identities)?;
            let set = manifest::read_set(&r.from)?;
            let ledger_entries = if r.without_ledger {
                eprintln!(
                    "warning: restoring without the erasure ledger: people erased after {} come back",
                    set.manifest.created_at
                );
                None
            } else {
                let path = match &r.ledger {
                    Some(p) => p.clone(),
                    None => ledger::path_in(set.dir.parent().unwrap_or(&set.dir)),
                };
                Some(ledger::read(&path)?.with_context(|| {
                    format!(
                        "no erasure ledger at {}: give --ledger FILE, or --without-ledger if it is truly lost",
                        path.display()
                    )
                })?)
            };
            let done = restore::restore(args, &set, &identities, ledger_entries.as_deref()).await?;
            println!(
                "restored set {} ({} events) into {:?}; {} events replayed into the read models; \
                 erasure ledger: {} subject(s), {} erased again",
                set.manifest.id,
                set.manifest.head_position,
                super::location(args)?,
                done.replayed,
                done.ledger.len(),
                done.reapplied.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Drill(d) => drill_command(args, d).await,
    }
}

fn identities(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<crate::backup::archive::Identity>> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(archive::identities_file(p)?);
    }
    Ok(out)
}

fn age(d: time::Duration) -> String {
    let s = d.whole_seconds().max(0);
    match s {
        0..=3_599 => format!("{}m", s / 60),
        3_600..=172_799 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

async fn drill_command(args: &StoreArgs, d: crate::backup::args::DrillArgs) -> anyhow::Result<ExitCode> {
    let identities = identities(&d.identities)?;
    let set = restore::pick(&d.dir, d.set.as_deref())?;
    let live = super::location(args)?;
    // The current erasure ledger: the live log's and the file beside the sets, together.
    let live_ledger = snapshot::erasure_ledger(&live)
        .await
        .context("cannot read the live store's erasure ledger")?;
    let ledger_path = ledger::path_in(&d.dir);
    let file_ledger = ledger::read(&ledger_path)?.unwrap_or_default();
    let current = ledger::union([live_ledger.as_slice(), file_ledger.as_slice()]);
    ledger::merge_into(&ledger_path, &current)?;
    println!(
        "drilling set {} ({} events, taken {})",
        set.manifest.id, set.manifest.head_position, set.manifest.created_at
    );
    let scratch = drill::Scratch::make(&set, &live, d.scratch_database_url).await?;
    // The live log's checkpoint key, to check the restored checkpoints' signatures with.
    let verifier = crate::checkpoint::key::find(&live).ok().map(|signer| signer.verifier());
    let report = drill::run(&set, &identities, &current, &scratch, verifier.as_ref()).await;
    scratch.discard().await;
    for (name, ok, detail) in &report.checks {
        println!("{} {name}: {detail}", if *ok { "ok  " } else { "FAIL" });
    }
    drill::save(&set, &report)?;
    let failures = report.checks.iter().filter(|(_, ok, _)| !ok).count();
    let (store, stack) = super::open_stack(args).await?;
    let recorded = record::drilled(
        &stack.service,
        ACTOR,
        Drilled {
            id: set.manifest.id.clone(),
            by: ACTOR.into(),
            at: OffsetDateTime::now_utc(),
            passed: report.passed(),
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            first_failure: report
                .checks
                .iter()
                .find(|(_, ok, _)| !ok)
                .map(|(name, _, detail)| clip(&format!("{name}: {detail}"))),
        },
    )
    .await;
    stack.close().await;
    store.close().await;
    recorded.map_err(|e| anyhow::anyhow!("the drill ran but its verdict was not recorded: {e}"))?;
    if report.passed() {
        println!("drill passed: set {} restores whole", set.manifest.id);
        Ok(ExitCode::SUCCESS)
    } else {
        println!("drill FAILED: {failures} check(s)");
        Ok(ExitCode::from(3))
    }
}

/// A failure text as the record allows it: one line, at most 500 characters.
fn clip(text: &str) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    one_line.chars().take(vigil_domain::backup::MAX_FAILURE_CHARS).collect()
}
