//! `backup drill`: restore a set into a scratch store and check it, as an operator would have to
//! trust it on the day of a disaster.
//!
//! Checks, each reported: the restore itself (archives match the manifest, decrypt with the
//! identities given, load into an empty store, the master key opens the vault); the table set
//! and every table's rows against the manifest; the chain and the Merkle tree of the restored
//! log, and its head against the manifest; every recorded checkpoint's root against the tree;
//! the read models (every projection at the head, no row whose person has no account); and the
//! erasure ledger (the ledger file beside the sets together with the live log's): every subject
//! in it is erased in the restored copy and has no account there.
//!
//! The scratch store is a private temporary data dir (SQLite sets) or a database created for
//! the drill and dropped after it (Postgres sets; `--scratch-database-url` names one instead).
//! It holds decrypted read models while the drill runs; nothing of it outlives the drill.
//!
//! Must not: touch the live store beyond reading its erasure ledger and recording the verdict.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::archive::Identity;
use time::OffsetDateTime;
use vigil_eventstore::snapshot::{self, ErasedEntry};
use vigil_eventstore::{Location, ReadOnlyLog};
use vigil_projections::ReadDb;

use super::manifest::{DRILL, DrillRecord, Set, write_json};
use super::restore;
use crate::cli::StoreArgs;

/// Read-model tables whose rows belong to a person (`user_id`), besides `accounts`.
const PERSONAL_TABLES: [&str; 11] = [
    "credentials",
    "protocols",
    "protocol_versions",
    "protocol_status_changes",
    "doses",
    "health_logs",
    "bloodwork_panels",
    "marker_results",
    "second_factors",
    "access_log",
    "ai_consent_changes",
];

/// The drill's verdict.
#[derive(Debug)]
pub struct Report {
    /// Each check: name, passed, what it found (counts, positions, table names: no personal data).
    pub checks: Vec<(String, bool, String)>,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|(_, ok, _)| *ok)
    }

    fn add(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.checks.push((name.to_owned(), ok, detail.into()));
    }

    /// The record written to the set's `drill.json`.
    pub fn record(&self) -> DrillRecord {
        DrillRecord {
            at: OffsetDateTime::now_utc(),
            passed: self.passed(),
            checks: self.checks.clone(),
        }
    }
}

/// Where the scratch store lives, and how to get rid of it.
pub enum Scratch {
    /// A private temporary data dir.
    Sqlite(tempfile::TempDir),
    /// A database: its URL, and the admin URL to drop it with when the drill made it.
    Postgres {
        url: String,
        drop_with: Option<(String, String)>,
    },
}

impl Scratch {
    /// A scratch store for `set`: SQLite in a temp dir; Postgres in `given`, else in a new
    /// database on the live store's server.
    ///
    /// # Errors
    /// A Postgres set without a Postgres live store or scratch URL; database errors.
    pub async fn make(set: &Set, live: &Location, given: Option<String>) -> anyhow::Result<Scratch> {
        if set.manifest.backend == "sqlite" {
            return Ok(Scratch::Sqlite(restore::private_tempdir()?));
        }
        if let Some(url) = given {
            return Ok(Scratch::Postgres { url, drop_with: None });
        }
        let Location::Postgres(live_url) = live else {
            anyhow::bail!("a Postgres set needs --scratch-database-url (an empty database) for its drill");
        };
        let name = format!("vigil_drill_{}", hex::encode(random4()?));
        admin(live_url, format!("create database {name}")).await?;
        let url = with_database(live_url, &name)?;
        Ok(Scratch::Postgres {
            url,
            drop_with: Some((live_url.clone(), name)),
        })
    }

    /// The store args that point at it.
    pub fn args(&self) -> StoreArgs {
        match self {
            Scratch::Sqlite(dir) => StoreArgs {
                data_dir: dir.path().join("data"),
                database_url: None,
            },
            Scratch::Postgres { url, .. } => StoreArgs {
                data_dir: PathBuf::from("./vigil-drill-unused"),
                database_url: Some(url.clone()),
            },
        }
    }

    /// Removes it.
    pub async fn discard(self) {
        if let Scratch::Postgres {
            drop_with: Some((admin_url, name)),
            ..
        } = self
        {
            let dropped = admin(&admin_url, format!("drop database if exists {name} with (force)")).await;
            if let Err(e) = dropped {
                eprintln!("warning: cannot drop the drill's scratch database {name}: {e:#}");
            }
        }
    }
}

/// Runs one statement (`create`/`drop database`, whose name the drill made) on its own
/// connection to the server at `url`.
async fn admin(url: &str, sql: String) -> anyhow::Result<()> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let mut conn = sqlx::ConnectOptions::connect(&options).await?;
    sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(sql)).await?;
    sqlx::Connection::close(conn).await?;
    Ok(())
}

fn random4() -> anyhow::Result<[u8; 4]> {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(b)
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let mut parsed: reqwest::Url = url.parse()?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

/// Runs the drill of `set` into `scratch`, with `ledger` the erasure ledger to re-apply and check.
///
/// `verifier`, the live log's checkpoint key, authenticates the restored log: every recorded
/// checkpoint must carry its signature over the tree's root, so an archive forged with the
/// recipients' public keys (which the manifest names) cannot pass for ours up to the newest
/// checkpoint.
pub async fn run(
    set: &Set,
    identities: &[Identity],
    ledger: &[ErasedEntry],
    scratch: &Scratch,
    verifier: Option<&vigil_proofs::note::VerifierKey>,
) -> Report {
    let mut report = Report { checks: Vec::new() };
    let args = scratch.args();
    let restored = match restore::restore(&args, set, identities, Some(ledger)).await {
        Ok(r) => {
            report.add(
                "restore",
                true,
                format!(
                    "archives match the manifest and decrypt; {} events replayed into the read models",
                    r.replayed
                ),
            );
            r
        }
        Err(e) => {
            report.add("restore", false, format!("{e:#}"));
            return report;
        }
    };
    let m = &set.manifest;
    let want: BTreeSet<&String> = m.tables.keys().collect();
    let got: BTreeSet<&String> = restored.loaded.keys().collect();
    let mismatched: Vec<String> = m
        .tables
        .iter()
        .filter(|(t, n)| restored.loaded.get(*t) != Some(n))
        .map(|(t, n)| {
            format!(
                "{t}: {} rows, manifest {n}",
                restored.loaded.get(t).copied().unwrap_or(0)
            )
        })
        .collect();
    report.add(
        "tables",
        want == got && mismatched.is_empty(),
        if want != got {
            format!("table set differs: restored {got:?}, manifest {want:?}")
        } else if mismatched.is_empty() {
            format!("{} tables, every row count as in the manifest", want.len())
        } else {
            mismatched.join("; ")
        },
    );
    let location = match crate::commands::location(&args) {
        Ok(l) => l,
        Err(e) => {
            report.add("chain", false, format!("{e:#}"));
            return report;
        }
    };
    check_log(&mut report, &location, set, verifier).await;
    check_read_models(&mut report, &location, &restored, ledger).await;
    report
}

async fn check_log(
    report: &mut Report,
    location: &Location,
    set: &Set,
    verifier: Option<&vigil_proofs::note::VerifierKey>,
) {
    let log = match ReadOnlyLog::open(location).await {
        Ok(log) => log,
        Err(e) => return report.add("chain", false, format!("{e}")),
    };
    match log.verify_chain(|_, _| {}).await {
        Ok(Ok(chain)) => {
            // The restore appends the ledger events of the erasures it re-applied: the set's
            // head must be in the verified chain, at its position, with its hash.
            let m = &set.manifest;
            let at_head = if m.head_position == 0 {
                Some(hex::encode(vigil_eventstore::chain::genesis()))
            } else {
                log.read_raw(m.head_position, 1)
                    .await
                    .ok()
                    .and_then(|e| e.first().map(|e| hex::encode(e.envelope.hash)))
            };
            let ok = chain.events >= m.head_position && at_head.as_deref() == Some(m.head_hash.as_str());
            report.add(
                "chain",
                ok,
                format!(
                    "intact, {} events; at the set's head ({}) hash {}… (manifest {}…); {} appended by the restore",
                    chain.events,
                    m.head_position,
                    at_head.as_deref().and_then(|h| h.get(..16)).unwrap_or("none"),
                    m.head_hash.get(..16).unwrap_or(""),
                    chain.events.saturating_sub(m.head_position)
                ),
            );
        }
        Ok(Err(broken)) => report.add(
            "chain",
            false,
            format!("broken at position {}: {}", broken.position, broken.fault),
        ),
        Err(e) => report.add("chain", false, format!("{e}")),
    }
    match log.verify_tree(|_, _| {}).await {
        Ok(Ok(tree)) => report.add("tree", true, format!("intact, {} leaves", tree.leaves)),
        Ok(Err(broken)) => report.add("tree", false, format!("broken at position {}", broken.position)),
        Err(e) => report.add("tree", false, format!("{e}")),
    }
    let head = log.head_position().await.unwrap_or(0);
    match log.checkpoints_between(0, head).await {
        Ok(checkpoints) => {
            let mut bad = Vec::new();
            let mut unsigned = Vec::new();
            for c in &checkpoints {
                match log.tree_root(c.size).await {
                    Ok(root) if root == c.root => {}
                    _ => bad.push(c.size),
                }
                if let Some(key) = verifier {
                    let signed = vigil_proofs::note::open_checkpoint(c.note.as_bytes(), key, key.name())
                        .is_ok_and(|(cp, _)| cp.size() == c.size && *cp.root() == c.root);
                    if !signed {
                        unsigned.push(c.size);
                    }
                }
            }
            let newest = checkpoints.last().map_or(0, |c| c.size);
            report.add(
                "checkpoints",
                bad.is_empty() && unsigned.is_empty(),
                if !bad.is_empty() {
                    format!("roots differ from the tree at sizes {bad:?}")
                } else if !unsigned.is_empty() {
                    format!("not signed by this log's checkpoint key at sizes {unsigned:?}")
                } else {
                    format!(
                        "{} recorded checkpoint(s), each root equal to the tree's{}; the newest covers {newest} of {} events",
                        checkpoints.len(),
                        if verifier.is_some() {
                            " and signed by this log's key"
                        } else {
                            " (signatures not checked: no checkpoint key here)"
                        },
                        set.manifest.head_position
                    )
                },
            );
        }
        Err(e) => report.add("checkpoints", false, format!("{e}")),
    }
    log.close().await;
}

async fn check_read_models(
    report: &mut Report,
    location: &Location,
    restored: &restore::Restored,
    ledger: &[ErasedEntry],
) {
    let db = match ReadDb::open(location, 2).await {
        Ok(db) => db,
        Err(e) => return report.add("read models", false, format!("{e}")),
    };
    let mut orphans = Vec::new();
    let mut failure = None;
    for table in PERSONAL_TABLES {
        let sql = format!("select count(*) from {table} where user_id not in (select user_id from accounts)");
        match sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .fetch_one(db.pool())
            .await
        {
            Ok(0) => {}
            Ok(n) => orphans.push(format!("{table}: {n}")),
            Err(e) => failure = Some(format!("{table}: {e}")),
        }
    }
    let accounts: Result<Vec<String>, _> = sqlx::query_scalar("select user_id from accounts")
        .fetch_all(db.pool())
        .await;
    db.close().await;
    report.add(
        "read models",
        orphans.is_empty() && failure.is_none(),
        match (&failure, orphans.is_empty()) {
            (Some(e), _) => e.clone(),
            (None, true) => format!("rebuilt from {} events; no row without its account", restored.replayed),
            (None, false) => format!("rows without an account: {}", orphans.join(", ")),
        },
    );
    let erased: BTreeSet<uuid::Uuid> = match snapshot::erasure_ledger(location).await {
        Ok(entries) => entries.into_iter().map(|e| e.subject_id).collect(),
        Err(e) => return report.add("erasures", false, format!("{e}")),
    };
    let accounts: BTreeSet<String> = match accounts {
        Ok(a) => a.into_iter().collect(),
        Err(e) => return report.add("erasures", false, format!("{e}")),
    };
    let not_fenced = ledger.iter().filter(|e| !erased.contains(&e.subject_id)).count();
    let with_account = ledger
        .iter()
        .filter(|e| accounts.contains(&e.subject_id.to_string()))
        .count();
    report.add(
        "erasures",
        not_fenced == 0 && with_account == 0,
        format!(
            "{} subject(s) in the erasure ledger, {} erased again by the restore; not erased: {not_fenced}, still with an account: {with_account}",
            ledger.len(),
            restored.reapplied.len()
        ),
    );
}

/// Writes the verdict into the set's `drill.json`.
///
/// # Errors
/// File errors.
pub fn save(set: &Set, report: &Report) -> anyhow::Result<()> {
    write_json(&set.dir.join(DRILL), &report.record())
}
