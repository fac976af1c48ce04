//! Raw baselines: the same rows, sizes and batch sizes as the store writes, but with no
//! encryption, no chain and no bookkeeping: plain multi-row INSERTs, single-row INSERT
//! transactions, and a plain scan, all through sqlx like the store itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{QueryBuilder, Row};

pub enum RawDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

macro_rules! on_raw {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            RawDb::Sqlite($pool) => $body,
            RawDb::Postgres($pool) => $body,
        }
    };
}

/// One row shaped like a stored event: same columns, same byte sizes.
#[derive(Clone)]
pub struct RawRow {
    stream: String,
    event_type: String,
    actor: String,
    ids: [uuid::Uuid; 2],
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    hash: Vec<u8>,
}

impl RawRow {
    pub fn sized_like(ciphertext_len: usize) -> RawRow {
        RawRow {
            stream: format!("health-{}", uuid::Uuid::new_v4()),
            event_type: "HealthLogRecorded".into(),
            actor: "system:bench".into(),
            ids: [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()],
            nonce: vec![7; 12],
            ciphertext: vec![42; ciphertext_len],
            hash: vec![9; 32],
        }
    }
}

const CREATE: &str = "create table if not exists bench_raw (position bigint primary key, event_id blob_t not null, \
    stream_id text not null, stream_version bigint not null, subject_id blob_t not null, event_type text not null, \
    schema_version integer not null, recorded_at bigint not null, actor text not null, key_id blob_t not null, \
    nonce bytes_t not null, ciphertext bytes_t not null, prev_hash bytes_t not null, hash bytes_t not null)";

const SCAN_SQLITE: &str = "select position, event_id, stream_id, stream_version, subject_id, event_type, schema_version, \
    recorded_at, actor, correlation_id, causation_id, command_id, key_id, nonce, ciphertext, prev_hash, hash \
    from events where position >= $1 order by position limit $2";
const SCAN_PG: &str = "select position, event_id, stream_id, stream_version, subject_id, event_type, schema_version, \
    recorded_at, actor, correlation_id, causation_id, command_id, key_id, nonce, ciphertext, prev_hash, hash \
    from vigil.events where position >= $1 order by position limit $2";

/// The two unique keys of the log's `events` table, for the baseline that has them: each event
/// id once, each stream version once (on Postgres with the log's byte-wise stream order).
const UNIQUE_KEYS_PG: &str = "alter table bench_raw add unique (event_id), add unique (stream_id, stream_version), \
    alter column stream_id type text collate \"C\"";
const UNIQUE_KEYS_SQLITE: [&str; 2] = [
    "create unique index bench_raw_event_id on bench_raw (event_id)",
    "create unique index bench_raw_stream_version on bench_raw (stream_id, stream_version)",
];

/// Which table the raw baselines write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Only the position, the table's primary key.
    Position,
    /// The position and the log's two unique keys (`UNIQUE_KEYS_*`).
    Unique,
}

impl RawDb {
    pub async fn reset(&self) -> anyhow::Result<()> {
        self.reset_with(Keys::Position).await
    }

    async fn reset_with(&self, keys: Keys) -> anyhow::Result<()> {
        on_raw!(self, p => {
            let postgres = matches!(self, RawDb::Postgres(_));
            let (blob, bytes) = if postgres { ("uuid", "bytea") } else { ("blob", "blob") };
            sqlx::query("drop table if exists bench_raw").execute(p).await?;
            sqlx::query(sqlx::AssertSqlSafe(CREATE.replace("blob_t", blob).replace("bytes_t", bytes))).execute(p).await?;
            if keys == Keys::Unique {
                if postgres {
                    sqlx::query(UNIQUE_KEYS_PG).execute(p).await?;
                } else {
                    for sql in UNIQUE_KEYS_SQLITE {
                        sqlx::query(sql).execute(p).await?;
                    }
                }
            }
        });
        Ok(())
    }

    /// Postgres: refreshes the planner's statistics of every table, as autovacuum would have
    /// for a history that grew over months; right after a bulk fill they still describe the
    /// empty tables, and the plans chosen from them (a bitmap scan and a sort of all of a
    /// person's remaining rows for every page) are not the ones a steady store gets.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        if let RawDb::Postgres(p) = self {
            sqlx::query("analyze").execute(p).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        on_raw!(self, p => p.close().await)
    }

    /// Inserts `n` rows in multi-row INSERTs of `batch` rows from one task into a table with
    /// `keys`; rows/s. Each row gets its own event id (ascending, as the log's v7 ids are).
    pub async fn multi_row_insert(&self, row: &RawRow, n: u64, batch: u64, keys: Keys) -> anyhow::Result<f64> {
        self.reset_with(keys).await?;
        let id_high = row.ids[0].as_u64_pair().0;
        let started = Instant::now();
        let mut position = 0i64;
        while (position as u64) < n {
            let size = batch.min(n - position as u64);
            on_raw!(self, p => {
                let mut qb = QueryBuilder::new("insert into bench_raw ");
                qb.push_values(0..size, |mut b, i| {
                    let pos = position + i as i64 + 1;
                    let event_id = uuid::Uuid::from_u64_pair(id_high, pos as u64);
                    b.push_bind(pos).push_bind(event_id).push_bind(row.stream.clone()).push_bind(pos)
                        .push_bind(row.ids[1]).push_bind(row.event_type.clone()).push_bind(1i32).push_bind(pos)
                        .push_bind(row.actor.clone()).push_bind(row.ids[1]).push_bind(row.nonce.clone())
                        .push_bind(row.ciphertext.clone()).push_bind(row.hash.clone()).push_bind(row.hash.clone());
                });
                qb.build().execute(p).await?;
            });
            position += size as i64;
        }
        Ok(super::rate(n, started))
    }

    /// `tasks` concurrent tasks each run single-row INSERT transactions until `n` rows exist;
    /// rows/s and the per-insert latencies.
    pub async fn single_row_inserts(
        self: &Arc<Self>,
        row: &RawRow,
        n: u64,
        tasks: u64,
    ) -> anyhow::Result<(f64, Vec<Duration>)> {
        self.reset().await?;
        let counter = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let started = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let (db, row, counter) = (self.clone(), row.clone(), counter.clone());
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    loop {
                        let pos = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        if pos as u64 > n {
                            break;
                        }
                        let t = Instant::now();
                        on_raw!(&*db, p => sqlx::query("insert into bench_raw values ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12, $13)")
                            .bind(pos).bind(row.ids[0]).bind(row.stream.clone()).bind(pos).bind(row.ids[1])
                            .bind(row.event_type.clone()).bind(pos).bind(row.actor.clone()).bind(row.ids[1])
                            .bind(row.nonce.clone()).bind(row.ciphertext.clone()).bind(row.hash.clone()).bind(row.hash.clone())
                            .execute(p).await.map(|_| ())?);
                        lat.push(t.elapsed());
                    }
                    anyhow::Ok(lat)
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for h in handles {
            latencies.extend(h.await??);
        }
        Ok((super::rate(n, started), latencies))
    }

    /// Pages through `events` by position exactly like the store's readers, decoding every
    /// column into owned values; rows/s.
    pub async fn scan_events(&self, page: i64) -> anyhow::Result<(f64, u64)> {
        let started = Instant::now();
        let mut next = 1i64;
        let mut total = 0u64;
        loop {
            let n = on_raw!(self, p => {
                let sql = if matches!(self, RawDb::Postgres(_)) { SCAN_PG } else { SCAN_SQLITE };
                let rows = sqlx::query(sql)
                    .bind(next).bind(page).fetch_all(p).await?;
                for row in &rows {
                    let _: (i64, uuid::Uuid, String, i64, uuid::Uuid, String, i32, i64, String) = (
                        row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?,
                        row.try_get(5)?, row.try_get(6)?, row.try_get(7)?, row.try_get(8)?,
                    );
                    let _: (Option<uuid::Uuid>, Option<uuid::Uuid>, Option<uuid::Uuid>, uuid::Uuid) =
                        (row.try_get(9)?, row.try_get(10)?, row.try_get(11)?, row.try_get(12)?);
                    let _: (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) = (row.try_get(13)?, row.try_get(14)?, row.try_get(15)?, row.try_get(16)?);
                }
                if let Some(last) = rows.last() {
                    next = last.try_get::<i64, _>(0)? + 1;
                }
                rows.len()
            });
            total += n as u64;
            if (n as i64) < page {
                break;
            }
        }
        Ok((super::rate(total, started), total))
    }
}

/// The raw scan of an SQLite log through the client path the store's bulk reads take
/// (rusqlite on a blocking thread, see `vigil_eventstore::scan`), decoding every column into
/// owned values; rows/s.
pub async fn scan_sqlite_file(path: std::path::PathBuf, page: i64) -> anyhow::Result<(f64, u64)> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<(f64, u64)> {
        use rusqlite::OpenFlags;
        use rusqlite::types::ValueRef;
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Mapped like the store's bulk scans (`scan::BULK_MMAP`).
        conn.pragma_update(None, "mmap_size", 1i64 << 36)?;
        let started = Instant::now();
        let (mut next, mut total) = (1i64, 0u64);
        let sql = format!(
            "{} {page}",
            SCAN_SQLITE.replace("limit $2", "limit").replace("$1", "?1")
        );
        let mut stmt = conn.prepare(&sql)?;
        loop {
            let mut rows = stmt.query([next])?;
            let mut n = 0i64;
            while let Some(row) = rows.next()? {
                for i in 0..17 {
                    match row.get_ref(i)? {
                        ValueRef::Integer(v) if i == 0 => next = v + 1,
                        ValueRef::Blob(b) if b.len() == 16 => drop(std::hint::black_box(uuid::Uuid::from_slice(b)?)),
                        ValueRef::Blob(b) => drop(std::hint::black_box(b.to_vec())),
                        ValueRef::Text(t) => drop(std::hint::black_box(String::from_utf8(t.to_vec())?)),
                        other => drop(std::hint::black_box(other)),
                    }
                }
                n += 1;
            }
            total += n as u64;
            if n < page {
                break;
            }
        }
        Ok((super::rate(total, started), total))
    })
    .await?
}
