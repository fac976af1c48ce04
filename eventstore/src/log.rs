//! SQL of the event log: the chain head, the lookups an append needs under the write lock,
//! batch inserts and range reads. Portable statements are written once (`on_db!`); where the
//! dialects differ (arrays on Postgres, `json_each` on SQLite) both forms sit side by side.
//! Must not decrypt, hash or decide anything: the appender and the store do that.

use std::collections::HashMap;

use sqlx::sqlite::Sqlite;
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use crate::chain::genesis;
use crate::db::{Db, on_db};
use crate::error::{Result, StoreError};
use crate::model::{AppendOutcome, Envelope};

/// A row of the events table: the clear envelope plus the sealed payload.
#[derive(Debug, Clone)]
pub(crate) struct StoredRow {
    pub env: Envelope,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// The chain head: where the next append continues.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub position: u64,
    pub hash: [u8; 32],
    pub recorded_at: i64,
}

/// A stream's last version and the subject it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tip {
    pub version: u64,
    pub subject: Uuid,
}

pub(crate) const COLUMNS: &str = "position, event_id, stream_id, stream_version, subject_id, event_type, schema_version, \
     recorded_at, actor, correlation_id, causation_id, command_id, key_id, nonce, ciphertext, prev_hash, hash";

pub(crate) fn to_i64(v: u64, what: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::invalid(what, "out of range"))
}

pub(crate) fn to_u64(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what}")))
}

pub(crate) fn hash32(v: Vec<u8>, what: &str) -> Result<[u8; 32]> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
}

/// Decodes one events row on either backend.
pub(crate) fn row_to_stored<R: Row>(row: &R) -> Result<StoredRow>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i32: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Uuid: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<Uuid>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let schema_version: i32 = row.try_get("schema_version")?;
    Ok(StoredRow {
        env: Envelope {
            position: to_u64(row.try_get("position")?, "position")?,
            event_id: row.try_get("event_id")?,
            stream_id: row.try_get("stream_id")?,
            stream_version: to_u64(row.try_get("stream_version")?, "stream version")?,
            subject: row.try_get("subject_id")?,
            event_type: row.try_get("event_type")?,
            schema_version: u32::try_from(schema_version)
                .map_err(|_| StoreError::Corrupt("negative schema version".into()))?,
            recorded_at_micros: row.try_get("recorded_at")?,
            actor: row.try_get("actor")?,
            correlation_id: row.try_get("correlation_id")?,
            causation_id: row.try_get("causation_id")?,
            command_id: row.try_get("command_id")?,
            key_id: row.try_get("key_id")?,
            prev_hash: hash32(row.try_get("prev_hash")?, "prev_hash")?,
            hash: hash32(row.try_get("hash")?, "hash")?,
        },
        nonce: row.try_get("nonce")?,
        ciphertext: row.try_get("ciphertext")?,
    })
}

/// Creates the genesis head on a fresh log.
pub(crate) async fn ensure_head(db: &Db) -> Result<()> {
    on_db!(db, p => sqlx::query("insert into chain_head (id, last_position, last_hash, last_recorded_at) values (1, 0, $1, 0) on conflict (id) do nothing")
        .bind(genesis().to_vec()).execute(p).await.map(|_| ())?);
    Ok(())
}

fn head_from_row<R: Row>(row: &R) -> Result<Head>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Head {
        position: to_u64(row.try_get("last_position")?, "head position")?,
        hash: hash32(row.try_get("last_hash")?, "head hash")?,
        recorded_at: row.try_get("last_recorded_at")?,
    })
}

/// Reads the chain head outside any write transaction.
pub(crate) async fn read_head(db: &Db) -> Result<Head> {
    on_db!(db, p => head_from_row(&sqlx::query("select last_position, last_hash, last_recorded_at from chain_head where id = 1").fetch_one(p).await?))
}

/// Where an earlier append with command id `id` landed: its stream and outcome.
pub(crate) async fn read_command(db: &Db, id: Uuid) -> Result<Option<(String, AppendOutcome)>> {
    const SQL: &str = "select stream_id, first_version, last_version, first_position, last_position \
                       from commands where command_id = $1";
    on_db!(db, p => match sqlx::query(SQL).bind(id).fetch_optional(p).await? {
        None => Ok(None),
        Some(row) => Ok(Some((
            row.try_get("stream_id")?,
            AppendOutcome {
                first_version: to_u64(row.try_get("first_version")?, "version")?,
                last_version: to_u64(row.try_get("last_version")?, "version")?,
                first_position: to_u64(row.try_get("first_position")?, "position")?,
                last_position: to_u64(row.try_get("last_position")?, "position")?,
            },
        ))),
    })
}

/// Lookups taken inside an append transaction, after the head lock.
pub(crate) struct Lookups {
    pub tips: HashMap<String, Tip>,
    pub erased: HashMap<Uuid, u64>,
    pub commands: HashMap<Uuid, (String, AppendOutcome)>,
}

fn json_list<T: serde::Serialize>(items: &[T]) -> Result<String> {
    serde_json::to_string(items).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn hex_list(ids: &[Uuid]) -> Result<String> {
    json_list(&ids.iter().map(|u| hex::encode(u.as_bytes())).collect::<Vec<_>>())
}

/// Takes the chain head inside a Postgres transaction, locking it until commit. This lock is
/// what makes positions gapless and in commit order across processes.
pub(crate) async fn lock_head_pg(tx: &mut sqlx::PgConnection) -> Result<Head> {
    let row = sqlx::query("select last_position, last_hash, last_recorded_at from chain_head where id = 1 for update")
        .fetch_one(tx)
        .await?;
    head_from_row(&row)
}

/// Every lookup an append needs, in one round trip: stream tips ('t'), erasure fences ('e') and
/// earlier outcomes of the batch's command ids ('c').
pub(crate) async fn lookups_pg(
    tx: &mut sqlx::PgConnection,
    streams: &[String],
    subjects: &[Uuid],
    commands: &[Uuid],
) -> Result<Lookups> {
    let mut out = Lookups {
        tips: HashMap::new(),
        erased: HashMap::new(),
        commands: HashMap::new(),
    };
    let rows = sqlx::query(
        "select 't' as kind, s.id as stream_id, e.subject_id as id, e.stream_version as a, 0::int8 as b, 0::int8 as c, 0::int8 as d \
           from unnest($1::text[]) as s(id) cross join lateral (select stream_version, subject_id from events \
           where stream_id = s.id order by stream_version desc limit 1) e \
         union all \
         select 'e', '', subject_id, ledger_position, 0, 0, 0 from erased_subjects where subject_id = any($2) \
         union all \
         select 'c', stream_id, command_id, first_version, last_version, first_position, last_position \
           from commands where command_id = any($3)",
    )
    .bind(streams)
    .bind(subjects)
    .bind(commands)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let id: Uuid = row.try_get("id")?;
        let stream: String = row.try_get("stream_id")?;
        let a = to_u64(row.try_get("a")?, "number")?;
        match kind.as_str() {
            "t" => {
                out.tips.insert(
                    stream,
                    Tip {
                        version: a,
                        subject: id,
                    },
                );
            }
            "e" => {
                out.erased.insert(id, a);
            }
            _ => {
                let outcome = AppendOutcome {
                    first_version: a,
                    last_version: to_u64(row.try_get("b")?, "version")?,
                    first_position: to_u64(row.try_get("c")?, "position")?,
                    last_position: to_u64(row.try_get("d")?, "position")?,
                };
                out.commands.insert(id, (stream, outcome));
            }
        }
    }
    Ok(out)
}

/// The head and every lookup an append needs, in one statement. Safe to read together because
/// the IMMEDIATE transaction already excludes every other writer.
pub(crate) async fn head_and_lookups_sqlite(
    tx: &mut sqlx::SqliteConnection,
    streams: &[String],
    subjects: &[Uuid],
    commands: &[Uuid],
) -> Result<(Head, Lookups)> {
    let rows = sqlx::query(
        "select 'h' as kind, '' as stream_id, null as id, last_position as a, last_recorded_at as b, 0 as c, 0 as d, \
                last_hash as bytes from chain_head where id = 1 \
         union all \
         select 't', j.value, e.subject_id, e.stream_version, 0, 0, 0, null from json_each($1) j \
           join events e on e.stream_id = j.value \
           and e.stream_version = (select max(stream_version) from events where stream_id = j.value) \
         union all \
         select 'e', '', subject_id, ledger_position, 0, 0, 0, null from erased_subjects \
           where subject_id in (select unhex(value) from json_each($2)) \
         union all \
         select 'c', stream_id, command_id, first_version, last_version, first_position, last_position, null \
           from commands where command_id in (select unhex(value) from json_each($3))",
    )
    .bind(json_list(streams)?)
    .bind(hex_list(subjects)?)
    .bind(hex_list(commands)?)
    .fetch_all(&mut *tx)
    .await?;
    head_and_lookup_rows(rows)
}

/// What one append transaction writes besides events.
pub(crate) struct Writes<'a> {
    pub rows: &'a [StoredRow],
    pub commands: &'a [(Uuid, String, AppendOutcome)],
    pub fences: &'a [(Uuid, i64, u64)],
    /// The Merkle subtrees these rows complete (see `merkle`).
    pub nodes: &'a [crate::merkle::NodeRow],
    pub head: Head,
}

/// Rows per multi-row INSERT on SQLite (17 parameters each, far below SQLite's limit).
const SQLITE_CHUNK: usize = 500;

pub(crate) async fn write_sqlite(tx: &mut sqlx::SqliteConnection, w: &Writes<'_>) -> Result<()> {
    for chunk in w.rows.chunks(SQLITE_CHUNK) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!("insert into events ({COLUMNS}) "));
        let mut err = None;
        qb.push_values(chunk, |mut b, r| {
            let e = &r.env;
            let (Ok(pos), Ok(ver)) = (to_i64(e.position, "position"), to_i64(e.stream_version, "version")) else {
                err = Some(StoreError::invalid("position", "out of range"));
                return;
            };
            b.push_bind(pos)
                .push_bind(e.event_id)
                .push_bind(e.stream_id.clone())
                .push_bind(ver)
                .push_bind(e.subject)
                .push_bind(e.event_type.clone())
                .push_bind(i64::from(e.schema_version))
                .push_bind(e.recorded_at_micros)
                .push_bind(e.actor.clone())
                .push_bind(e.correlation_id)
                .push_bind(e.causation_id)
                .push_bind(e.command_id)
                .push_bind(e.key_id)
                .push_bind(r.nonce.clone())
                .push_bind(r.ciphertext.clone())
                .push_bind(e.prev_hash.to_vec())
                .push_bind(e.hash.to_vec());
        });
        if let Some(e) = err {
            return Err(e);
        }
        qb.build().persistent(true).execute(&mut *tx).await?;
    }
    for (id, stream, o) in w.commands {
        sqlx::query("insert into commands (command_id, stream_id, first_version, last_version, first_position, last_position) values ($1, $2, $3, $4, $5, $6)")
            .bind(id).bind(stream).bind(to_i64(o.first_version, "version")?).bind(to_i64(o.last_version, "version")?)
            .bind(to_i64(o.first_position, "position")?).bind(to_i64(o.last_position, "position")?)
            .execute(&mut *tx).await?;
    }
    for (subject, at, position) in w.fences {
        sqlx::query("insert into erased_subjects (subject_id, erased_at, ledger_position) values ($1, $2, $3)")
            .bind(subject)
            .bind(at)
            .bind(to_i64(*position, "position")?)
            .execute(&mut *tx)
            .await?;
    }
    crate::merkle::TreeConn::Sqlite(&mut *tx).insert(w.nodes).await?;
    sqlx::query("update chain_head set last_position = $1, last_hash = $2, last_recorded_at = $3 where id = 1")
        .bind(to_i64(w.head.position, "position")?)
        .bind(w.head.hash.to_vec())
        .bind(w.head.recorded_at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Up to `limit` rows from `from` (inclusive) in position order.
/// The store reads SQLite's whole-log pages through `scan` instead; this path serves
/// Postgres, and SQLite where no scanner exists.
pub(crate) async fn read_range(db: &Db, from: u64, limit: u64) -> Result<Vec<StoredRow>> {
    let from = to_i64(from, "from")?;
    let limit = to_i64(limit, "limit")?;
    on_db!(db, p => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from events where position >= $1 order by position limit {limit}"
        )))
        .bind(from)
        .fetch_all(p)
        .await?;
        rows.iter().map(row_to_stored).collect()
    })
}

/// Up to `limit` rows of one stream from version `from` (inclusive).
pub(crate) async fn read_stream(db: &Db, stream: &str, from: u64, limit: u64) -> Result<Vec<StoredRow>> {
    let from = to_i64(from, "from")?;
    let limit = to_i64(limit, "limit")?;
    on_db!(db, p => {
        // LIMIT is a literal (an integer we formatted): SQLite plans a bound LIMIT as a
        // constant and so re-prepares the statement every time it is bound, which was a
        // fifth of SQLite's time under writes. Callers use a few fixed page sizes, so the
        // texts stay within the statement cache.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("select {COLUMNS} from events where stream_id = $1 and stream_version >= $2 order by stream_version limit {limit}")))
            .bind(stream).bind(from).fetch_all(p).await?;
        rows.iter().map(row_to_stored).collect()
    })
}

/// Up to `limit` rows of one subject from position `from` (inclusive).
pub(crate) async fn read_subject(db: &Db, subject: Uuid, from: u64, limit: u64) -> Result<Vec<StoredRow>> {
    let from = to_i64(from, "from")?;
    let limit = to_i64(limit, "limit")?;
    on_db!(db, p => {
        // LIMIT as a literal: see `read_stream`.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("select {COLUMNS} from events where subject_id = $1 and position >= $2 order by position limit {limit}")))
            .bind(subject).bind(from).fetch_all(p).await?;
        rows.iter().map(row_to_stored).collect()
    })
}

/// Subjects fenced in the log, for reconciling an interrupted shred with the vault.
pub(crate) async fn erased_subjects(db: &Db) -> Result<Vec<Uuid>> {
    Ok(on_db!(db, p => sqlx::query_scalar("select subject_id from erased_subjects").fetch_all(p).await?))
}

/// Decodes the rows of a head-and-lookups statement (kinds `h`, `t`, `e`, `c`; see
/// `head_and_lookups_sqlite` and `checked::snapshot_pg`) on either backend.
pub(crate) fn head_and_lookup_rows<R: Row>(rows: Vec<R>) -> Result<(Head, Lookups)>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Uuid: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut out = Lookups {
        tips: HashMap::new(),
        erased: HashMap::new(),
        commands: HashMap::new(),
    };
    let mut head = None;
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let id: Option<Uuid> = row.try_get("id")?;
        let stream: String = row.try_get("stream_id")?;
        let a = to_u64(row.try_get("a")?, "number")?;
        match (kind.as_str(), id) {
            ("h", _) => {
                head = Some(Head {
                    position: a,
                    hash: hash32(row.try_get("bytes")?, "head hash")?,
                    recorded_at: row.try_get("b")?,
                });
            }
            ("t", Some(subject)) => {
                out.tips.insert(stream, Tip { version: a, subject });
            }
            ("e", Some(subject)) => {
                out.erased.insert(subject, a);
            }
            ("c", Some(command)) => {
                let outcome = AppendOutcome {
                    first_version: a,
                    last_version: to_u64(row.try_get("b")?, "version")?,
                    first_position: to_u64(row.try_get("c")?, "position")?,
                    last_position: to_u64(row.try_get("d")?, "position")?,
                };
                out.commands.insert(command, (stream, outcome));
            }
            _ => return Err(StoreError::Corrupt(format!("unexpected lookup row {kind}"))),
        }
    }
    let head = head.ok_or_else(|| StoreError::Corrupt("the chain head row is missing".into()))?;
    Ok((head, out))
}
