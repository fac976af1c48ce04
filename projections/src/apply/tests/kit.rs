//! The buffering tests' kit: a throwaway store and read database per backend, appends, a
//! rebuild that must fit one batch, and a dump of every read-model table.

use std::collections::BTreeMap;

use sqlx::Row;
use uuid::Uuid;
use vigil_eventstore::{EventStore, ExpectedVersion, Location, MasterKey, Metadata, StoreConfig};

use super::events::Event;
use crate::identity::{INDEX_KEY_CONTEXT, IndexKey};
use crate::projection::Projection;
use crate::runner::{ProjectionRunner, rebuild};
use crate::{ReadDb, runner};

/// Every read-model table with its key, in a fixed order (checkpoints hold the clock: left out).
const TABLES: [(&str, &str); 11] = [
    ("accounts", "user_id"),
    ("ai_consent_changes", "user_id, seq"),
    ("credentials", "user_id"),
    ("identity_claims", "kind, claim"),
    ("protocols", "protocol_id"),
    ("protocol_versions", "protocol_id, version"),
    ("protocol_status_changes", "protocol_id, seq"),
    ("doses", "dose_id"),
    ("health_logs", "entry_id"),
    ("bloodwork_panels", "panel_id"),
    ("marker_results", "panel_id, idx"),
];

pub(crate) struct Env {
    pub name: &'static str,
    store: EventStore,
    read: ReadDb,
    key: IndexKey,
    _dir: tempfile::TempDir,
}

impl Env {
    /// SQLite, and Postgres when the test cluster is configured.
    pub async fn all() -> Vec<Env> {
        let dir = tempfile::tempdir().unwrap();
        let mut envs = vec![Env::open("sqlite", Location::Sqlite(dir.path().join("data")), dir).await];
        if let Some(url) = vigil_tests::fresh_pg_database().await {
            envs.push(Env::open("postgres", Location::Postgres(url), tempfile::tempdir().unwrap()).await);
        }
        envs
    }

    async fn open(name: &'static str, location: Location, dir: tempfile::TempDir) -> Env {
        let store = EventStore::open(StoreConfig::new(location.clone(), MasterKey::generate().unwrap()))
            .await
            .unwrap();
        let read = ReadDb::open(&location, 4).await.unwrap();
        let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await.unwrap());
        Env {
            name,
            store,
            read,
            key,
            _dir: dir,
        }
    }

    /// Appends one event; returns its position.
    pub async fn append(&self, e: Event) -> u64 {
        self.store
            .append_to(
                e.stream,
                e.subject,
                ExpectedVersion::Any,
                vec![e.new],
                Metadata::actor("system:test"),
            )
            .await
            .unwrap()
            .last_position
    }

    pub async fn append_each(&self, events: Vec<Event>) {
        for e in events {
            self.append(e).await;
        }
    }

    /// Shreds a person; returns the position of the erasure ledger entry.
    pub async fn shred(&self, subject: Uuid) -> u64 {
        self.store.shred(subject, Metadata::actor("system:test")).await.unwrap();
        self.store.head_position().await.unwrap()
    }

    pub async fn runner(&self) -> ProjectionRunner {
        ProjectionRunner::start(self.store.clone(), self.read.clone(), self.key.clone())
            .await
            .unwrap()
    }

    /// Rebuilds every projection from a log short enough to be one batch.
    pub async fn rebuild_in_one_batch(&self) {
        let mut batches = 0;
        rebuild(&self.store, &self.read, &self.key, &Projection::ALL, |_, _| {
            batches += 1
        })
        .await
        .unwrap();
        assert_eq!(batches, 1, "{}: the log must fit one batch", self.name);
        assert!(
            runner::checkpoints(&self.read)
                .await
                .unwrap()
                .iter()
                .all(|(_, p)| *p > 0)
        );
    }

    /// The rows of a query with one parameter, every value as text (`null` for null).
    pub async fn rows(&self, sql: &str, param: impl ToString) -> Vec<Vec<String>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(param.to_string())
            .fetch_all(self.read.pool())
            .await
            .unwrap();
        rows.iter().map(texts).collect()
    }

    /// The one row of a query.
    pub async fn row(&self, sql: &str, param: impl ToString) -> Vec<String> {
        let mut rows = self.rows(sql, param).await;
        assert_eq!(rows.len(), 1, "{}: {sql}", self.name);
        rows.remove(0)
    }

    /// Every read-model row, by table, in key order.
    pub async fn dump(&self) -> BTreeMap<&'static str, Vec<Vec<String>>> {
        let mut tables = BTreeMap::new();
        for (table, key) in TABLES {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("select * from {table} order by {key}")))
                .fetch_all(self.read.pool())
                .await
                .unwrap();
            tables.insert(table, rows.iter().map(texts).collect());
        }
        tables
    }

    pub async fn close(self) {
        self.read.close().await;
        self.store.close().await;
    }
}

fn texts(row: &sqlx::any::AnyRow) -> Vec<String> {
    (0..row.len())
        .map(|i| match row.try_get::<Option<String>, _>(i) {
            Ok(text) => text.unwrap_or_else(|| "null".into()),
            Err(_) => row
                .try_get::<Option<i64>, _>(i)
                .unwrap()
                .map_or("null".into(), |n| n.to_string()),
        })
        .collect()
}
