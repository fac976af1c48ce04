//! `vigil bench rebuild`: replaying the log into the health-log read model vs raw multi-row
//! INSERTs of rows the same shape and size, through the same `Any` pool of the read database.
//! A rebuild is bound by its writes, so that is its honest baseline.
//!
//! The baseline's table is an ordinary table in the read database with the columns, primary
//! key and secondary index of `health_logs`, created before each run and dropped after it. A
//! temporary table would flatter the baseline: Postgres does not WAL-log temporary tables and
//! SQLite keeps them in its temp store, outside `read.db`. On Postgres the read pool's role
//! (`vigil_projector`) may write to `vigil_read` but not create tables there, so the bench's own
//! connection (the URL's role, which owns the schema) creates, grants and drops the table, and
//! the inserts go through the read pool as `vigil_projector`, like the rebuild's.

use std::time::Instant;

use sqlx::Acquire;
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::aggregate::DomainEvent;
use vigil_domain::health::{HealthEvent, VitalComponent, VitalKind};
use vigil_domain::values::{Decimal, EntryId};
use vigil_eventstore::{EventStore, ExpectedVersion, Metadata, NewEvent};
use vigil_projections::runner::rebuild as replay;
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, Projection, ReadDb};

use super::raw::RawDb;
use super::{BenchDb, args_events, line, median};
use crate::cli::BenchArgs;

const USERS: u64 = 100;
const RAW_BATCH: usize = 100;
const RAW_TX: usize = 1_000;

pub async fn rebuild(db: &BenchDb, store: &EventStore, a: &BenchArgs) -> anyhow::Result<()> {
    let events = args_events(a, 100_000);
    let per_user = events.div_ceil(USERS);
    let at = OffsetDateTime::now_utc() - time::Duration::days(400);
    for u in 0..USERS {
        let user = Uuid::now_v7();
        let stream = vigil_projections::streams::health(user);
        let mut version = 0;
        for chunk in (0..per_user).collect::<Vec<_>>().chunks(100) {
            let batch = chunk
                .iter()
                .map(|i| {
                    let e = vital(at + time::Duration::minutes(i64::try_from(u * per_user + i).unwrap_or(0)));
                    NewEvent::json(e.event_type(), e.schema_version(), &e)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let n = batch.len() as u64;
            let expected = if version == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact(version)
            };
            store
                .append_to(&stream, user, expected, batch, Metadata::actor("system:bench"))
                .await?;
            version += n;
        }
    }
    let total = store.head_position().await?;
    let read = ReadDb::open(&db.location, 4).await?;
    let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await?);
    let mut ours = Vec::new();
    let mut raw = Vec::new();
    for _ in 0..a.runs {
        let report = replay(store, &read, &key, &[Projection::HealthLogs], |_, _| {}).await?;
        ours.push(report.events_per_second());
        raw.push(raw_inserts(db, &read, total).await?);
    }
    println!("rebuild of the health-log read model, {total} events ({} runs)", a.runs);
    line(
        "rebuild (decrypt + apply + checkpoint)",
        median(ours),
        "ev/s",
        "raw multi-row INSERT, same rows",
        median(raw),
        "target ≥ 0.50",
    );
    read.close().await;
    Ok(())
}

fn vital(measured_at: OffsetDateTime) -> HealthEvent {
    let kg = Decimal::from_parts(873, 1);
    HealthEvent::VitalRecorded {
        entry_id: EntryId::from_uuid(Uuid::now_v7()),
        kind: VitalKind::BodyWeight,
        loinc: "29463-7".into(),
        components: vec![VitalComponent {
            loinc: "29463-7".into(),
            value: kg,
            unit: "kg".into(),
            canonical_value: kg,
            canonical_unit: "kg".into(),
        }],
        measured_at,
        note: None,
        recorded_at: measured_at,
    }
}

/// The baseline table: `health_logs`' columns, primary key and secondary index.
const RAW_TABLE: &str = "bench_raw_health_logs";
const RAW_COLUMNS: &str = "(entry_id text primary key, user_id text not null, kind text not null, \
    loinc text not null, components text not null, measured_at bigint not null, note text, \
    corrections bigint not null, retracted bigint not null, recorded_at bigint not null)";
const RAW_INDEX: &str = "(user_id, kind, measured_at, entry_id)";

/// Creates the baseline table afresh in the read database (see the module doc for who may).
async fn create_raw_table(db: &BenchDb, read: &ReadDb) -> anyhow::Result<()> {
    match &db.raw {
        RawDb::Postgres(owner) => {
            let table = format!("vigil_read.{RAW_TABLE}");
            for sql in [
                format!("drop table if exists {table}"),
                format!("create table {table} {RAW_COLUMNS}"),
                format!("create index {RAW_TABLE}_by_user on {table} {RAW_INDEX}"),
                format!("grant select, insert, update, delete on {table} to vigil_projector"),
            ] {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(owner).await?;
            }
        }
        RawDb::Sqlite(_) => {
            for sql in [
                format!("drop table if exists {RAW_TABLE}"),
                format!("create table {RAW_TABLE} {RAW_COLUMNS}"),
                format!("create index {RAW_TABLE}_by_user on {RAW_TABLE} {RAW_INDEX}"),
            ] {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(read.pool()).await?;
            }
        }
    }
    Ok(())
}

async fn drop_raw_table(db: &BenchDb, read: &ReadDb) -> anyhow::Result<()> {
    match &db.raw {
        RawDb::Postgres(owner) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("drop table vigil_read.{RAW_TABLE}")))
                .execute(owner)
                .await?;
        }
        RawDb::Sqlite(_) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("drop table {RAW_TABLE}")))
                .execute(read.pool())
                .await?;
        }
    }
    Ok(())
}

/// Inserts `n` rows shaped like `health_logs` rows into a table shaped like it, 100 per
/// statement and 1000 per transaction (the rebuild's transaction size). Returns rows per second.
async fn raw_inserts(db: &BenchDb, read: &ReadDb, n: u64) -> anyhow::Result<f64> {
    create_raw_table(db, read).await?;
    let components = serde_json::to_string(&match vital(OffsetDateTime::now_utc()) {
        HealthEvent::VitalRecorded { components, .. } => components,
        _ => Vec::new(),
    })?;
    let user = Uuid::now_v7().to_string();
    let sqlite = matches!(db.raw, RawDb::Sqlite(_));
    let mut conn = read.pool().acquire().await?;
    let started = Instant::now();
    let mut written = 0u64;
    while written < n {
        let mut tx = conn.begin().await?;
        let mut in_tx = 0;
        while in_tx < RAW_TX && written < n {
            let rows = RAW_BATCH.min(usize::try_from(n - written).unwrap_or(RAW_BATCH));
            let mut sql = format!(
                "insert into {RAW_TABLE} (entry_id, user_id, kind, loinc, components, measured_at, note, \
                 corrections, retracted, recorded_at) values "
            );
            for r in 0..rows {
                let b = r * 7;
                if r > 0 {
                    sql.push(',');
                }
                // Anonymous placeholders on SQLite, as the rebuild's own statements use: sqlx
                // binds numbered ones there by a linear scan per parameter, which made this
                // baseline quadratic in its row count and flattered the rebuild's ratio.
                if sqlite {
                    sql.push_str("(?, ?, ?, ?, ?, ?, null, 0, 0, ?)");
                } else {
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, null, 0, 0, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7
                    ));
                }
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in 0..rows {
                let at = i64::try_from(written).unwrap_or(0) + i64::try_from(r).unwrap_or(0);
                q = q
                    .bind(Uuid::now_v7().to_string())
                    .bind(user.clone())
                    .bind("body_weight")
                    .bind("29463-7")
                    .bind(components.clone())
                    .bind(at)
                    .bind(at);
            }
            q.execute(&mut *tx).await?;
            written += rows as u64;
            in_tx += rows;
        }
        tx.commit().await?;
    }
    let rate = written as f64 / started.elapsed().as_secs_f64().max(1e-9);
    drop(conn);
    drop_raw_table(db, read).await?;
    Ok(rate)
}
