//! `vigil bench …`: each figure beside a raw baseline measured in the same run, on the same
//! database, through the same client (sqlx). Every bench works on a fresh throwaway store (a
//! temp dir under --data-dir, or a temp database on the --database-url server) and removes it.
//! Figures are medians of `--runs` runs; the machines are noisy, so read ratios.

mod api;
mod export;
mod figures;
mod flood;
mod login;
mod proofs;
mod raw;
mod rebuild;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Executor};
use uuid::Uuid;
use vigil_eventstore::{EventStore, Location, MasterKey, StoreConfig};

use crate::cli::{BenchArgs, BenchCommand, StoreArgs};
use crate::commands::location;

/// A throwaway store plus a raw connection to the same database.
pub struct BenchDb {
    pub location: Location,
    pub raw: raw::RawDb,
    /// The master key every store opened on this database uses (a reopened store must match
    /// the vault its first opening created).
    key: zeroize::Zeroizing<[u8; 32]>,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl BenchDb {
    async fn create(args: &StoreArgs) -> anyhow::Result<BenchDb> {
        match location(args)? {
            Location::Sqlite(dir) => {
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                let tmp = tempfile::Builder::new().prefix("bench-").tempdir_in(&dir)?;
                let data = tmp.path().join("store");
                let location = Location::Sqlite(data.clone());
                vigil_eventstore::migrate(&location).await?;
                let raw = raw::RawDb::Sqlite(vigil_eventstore::sqlite_pool(&data.join("events.db"), 64).await?);
                Ok(BenchDb {
                    location,
                    raw,
                    key: vigil_eventstore::random_key_bytes()?,
                    _dir: Some(tmp),
                    drop_pg: None,
                })
            }
            Location::Postgres(url) => {
                let name = format!("vigil_bench_{}", Uuid::new_v4().simple());
                let admin = PgPoolOptions::new().max_connections(1).connect(&url).await?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .await
                    .context("the bench creates a temporary database: the URL's role needs CREATEDB")?;
                admin.close().await;
                let options: PgConnectOptions = url.parse()?;
                let bench_url = options.database(&name).to_url_lossy().to_string();
                let location = Location::Postgres(bench_url.clone());
                vigil_eventstore::migrate(&location).await?;
                let raw = raw::RawDb::Postgres(PgPoolOptions::new().max_connections(64).connect(&bench_url).await?);
                Ok(BenchDb {
                    location,
                    raw,
                    key: vigil_eventstore::random_key_bytes()?,
                    _dir: None,
                    drop_pg: Some((url, name)),
                })
            }
        }
    }

    async fn open_store(&self) -> anyhow::Result<EventStore> {
        let key = MasterKey::from_bytes(&self.key[..])?;
        Ok(EventStore::open(StoreConfig::new(self.location.clone(), key)).await?)
    }

    async fn dispose(self) -> anyhow::Result<()> {
        self.raw.close().await;
        if let Some((url, name)) = self.drop_pg {
            let admin = PgPoolOptions::new().max_connections(1).connect(&url).await?;
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "drop database if exists {name} with (force)"
                )))
                .await?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        match &self.location {
            Location::Sqlite(_) => "SQLite (WAL, synchronous=FULL)".to_string(),
            Location::Postgres(url) => format!("PostgreSQL {}", vigil_eventstore::redact_url(url)),
        }
    }
}

pub async fn run(args: &StoreArgs, cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    let db = BenchDb::create(args).await?;
    let store = db.open_store().await?;
    println!(
        "vigil bench on {} — medians of runs; ratio = vigil / raw",
        db.describe()
    );
    let result = match cmd {
        BenchCommand::Append(a) => figures::append(&db, &store, &a).await,
        BenchCommand::Verify(a) => figures::scan(&db, &store, &a, figures::ScanKind::Verify).await,
        BenchCommand::Read(a) => figures::scan(&db, &store, &a, figures::ScanKind::Read).await,
        BenchCommand::Shred(a) => figures::shred(&store, &a).await,
        BenchCommand::Scale(a) => figures::scale(&db, &store, &a).await,
        BenchCommand::Rebuild(a) => rebuild::rebuild(&db, &store, &a).await,
        BenchCommand::Api(a) => api::api(&db, &store, &a).await,
        BenchCommand::Login(a) => login::login(&db, &store, &a).await,
        BenchCommand::Flood(a) => flood::flood(&db, &store, &a).await,
        BenchCommand::Export(a) => export::export(&db, &store, &a).await,
        BenchCommand::Proofs(a) => proofs::proofs(&db, &a).await,
    };
    store.close().await;
    db.dispose().await?;
    result.map(|_| ExitCode::SUCCESS)
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub fn rate(n: u64, started: Instant) -> f64 {
    n as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

pub fn line(label: &str, ours: f64, unit: &str, raw_label: &str, raw: f64, target: &str) {
    println!(
        "  {label:<38} {ours:>12.0} {unit:<6} | {raw_label:<34} {raw:>12.0} {unit:<6} | ratio {:>5.2} {target}",
        ours / raw.max(1e-9)
    );
}

pub fn args_events(a: &BenchArgs, default: u64) -> u64 {
    a.events.unwrap_or(default).max(1)
}
