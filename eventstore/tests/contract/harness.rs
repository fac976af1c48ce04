//! Opens a fresh store on either backend for one test, plus a raw "behind the store's back"
//! connection for tamper tests. Postgres databases come from the shared test kit
//! (`vigil-tests`), one per test, on the throwaway cluster `ops/test.sh` starts.

use std::path::PathBuf;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Executor};
use vigil_eventstore::{EventStore, Location, MasterKey, StoreConfig, Upcasters};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub backend: Backend,
    pub location: Location,
    pub key_bytes: [u8; 32],
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("tempdir");
        let location = match backend {
            Backend::Sqlite => Location::Sqlite(dir.path().join("data")),
            Backend::Postgres => Location::Postgres(vigil_tests::fresh_pg_database().await?),
        };
        let mut key_bytes = [0u8; 32];
        getrandom::fill(&mut key_bytes).expect("rng");
        Some(TestDb {
            backend,
            location,
            key_bytes,
            _dir: dir,
        })
    }

    pub fn key(&self) -> MasterKey {
        MasterKey::from_bytes(&self.key_bytes).expect("key")
    }

    pub async fn open(&self) -> EventStore {
        self.open_with(self.key(), Upcasters::default())
            .await
            .expect("open store")
    }

    pub async fn open_with(&self, key: MasterKey, upcasters: Upcasters) -> vigil_eventstore::Result<EventStore> {
        let mut config = StoreConfig::new(self.location.clone(), key);
        config.upcasters = upcasters;
        EventStore::open(config).await
    }

    pub fn sqlite_dir(&self) -> PathBuf {
        match &self.location {
            Location::Sqlite(dir) => dir.clone(),
            Location::Postgres(_) => panic!("not a sqlite store"),
        }
    }

    /// Runs SQL against the log as the database owner, bypassing the immutability triggers:
    /// what an attacker with raw database access could do.
    pub async fn tamper(&self, sql: &str) {
        match &self.location {
            Location::Sqlite(dir) => {
                let mut conn = raw_sqlite(dir).await;
                conn.execute(
                    "drop trigger if exists events_refuse_update; drop trigger if exists events_refuse_delete",
                )
                .await
                .expect("drop triggers");
                conn.execute(sqlx::AssertSqlSafe(sql.to_string()))
                    .await
                    .expect("tamper");
            }
            Location::Postgres(url) => {
                let mut conn = raw_pg(url).await;
                let sql = format!("set session_replication_role = replica; set search_path to vigil; {sql}");
                conn.execute(sqlx::AssertSqlSafe(sql)).await.expect("tamper");
            }
        }
    }

    /// Runs SQL against the log the way the application connects (the log role on Postgres),
    /// returning the database's answer.
    pub async fn as_app(&self, sql: &str) -> Result<(), sqlx::Error> {
        match &self.location {
            Location::Sqlite(dir) => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("events.db"));
                let mut conn = opts.connect().await?;
                conn.execute(sqlx::AssertSqlSafe(sql.to_string())).await.map(|_| ())
            }
            Location::Postgres(url) => {
                let mut conn = url.parse::<PgConnectOptions>().expect("url").connect().await?;
                let sql = format!("set role vigil_log_writer; set search_path to vigil; {sql}");
                conn.execute(sqlx::AssertSqlSafe(sql)).await.map(|_| ())
            }
        }
    }

    /// Changes one byte of the ciphertext at `position`, behind the store's back.
    pub async fn flip_ciphertext_byte(&self, position: u64) {
        let sql = match self.backend {
            // Byte-exact on SQLite: rebuild the blob around one changed byte.
            Backend::Sqlite => format!(
                "update events set ciphertext = substr(ciphertext, 1, 4) || (case when substr(ciphertext, 5, 1) = x'00' then x'01' else x'00' end) || substr(ciphertext, 6) where position = {position}"
            ),
            Backend::Postgres => format!(
                "update events set ciphertext = set_byte(ciphertext, 4, (get_byte(ciphertext, 4) + 1) % 256) where position = {position}"
            ),
        };
        self.tamper(&sql).await;
    }

    /// One integer the owner reads from the log (say a count), behind the store's back.
    pub async fn scalar(&self, sql: &str) -> i64 {
        match &self.location {
            Location::Sqlite(dir) => {
                let mut conn = raw_sqlite(dir).await;
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_one(&mut conn)
                    .await
                    .expect("scalar")
            }
            Location::Postgres(url) => {
                let mut conn = raw_pg(url).await;
                conn.execute("set search_path to vigil").await.expect("search path");
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_one(&mut conn)
                    .await
                    .expect("scalar")
            }
        }
    }

    /// Runs SQL as the database owner with triggers active.
    pub async fn as_owner(&self, sql: &str) -> Result<(), sqlx::Error> {
        match &self.location {
            Location::Sqlite(_) => self.as_app(sql).await,
            Location::Postgres(url) => {
                let mut conn = url.parse::<PgConnectOptions>().expect("url").connect().await?;
                let sql = format!("set search_path to vigil; {sql}");
                conn.execute(sqlx::AssertSqlSafe(sql)).await.map(|_| ())
            }
        }
    }
}

/// Declares one contract case and runs it against both backends.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::harness::TestDb::new(crate::harness::Backend::Sqlite).await.expect("sqlite");
                    crate::cases::$name(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = crate::harness::TestDb::new(crate::harness::Backend::Postgres).await {
                        crate::cases::$name(db).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use contract;

/// The log file opened directly, as its owner: no store, no pool.
async fn raw_sqlite(dir: &std::path::Path) -> sqlx::SqliteConnection {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("events.db"));
    opts.connect().await.expect("raw sqlite")
}

/// A connection as the database owner (no role switch).
async fn raw_pg(url: &str) -> sqlx::PgConnection {
    url.parse::<PgConnectOptions>()
        .expect("url")
        .connect()
        .await
        .expect("raw pg")
}
