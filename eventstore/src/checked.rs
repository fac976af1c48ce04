//! Head-checked writes: every write of one append group, made conditional on the chain head
//! still being at the position the group was planned on. If another process moved the head,
//! the statement writes nothing and says so, and the appender falls back to its locked path.
//! This lets the appender plan from what it remembers of its own commits and write a group in
//! one round trip (Postgres) or one call to the SQLite worker, instead of lock, look up, write
//! and commit separately. Also the lock-free snapshot lookup used when the appender's memory
//! lacks a stream or subject. Must not decide anything: the appender plans, this only writes.

use sqlx::QueryBuilder;
use sqlx::sqlite::Sqlite;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::log::{COLUMNS, Head, Lookups, StoredRow, Writes, head_and_lookup_rows, to_i64};
use crate::merkle;

/// The head and every lookup an append needs, read in one statement outside any write lock.
/// One statement is one snapshot, so the lookups are exactly the state at the returned head;
/// a later head-checked write planned on them is refused if anything committed since.
pub(crate) async fn snapshot_pg(
    conn: &mut sqlx::PgConnection,
    streams: &[String],
    subjects: &[Uuid],
    commands: &[Uuid],
) -> Result<(Head, Lookups)> {
    let rows = sqlx::query(
        "select 'h' as kind, '' as stream_id, null::uuid as id, last_position as a, last_recorded_at as b, \
                0::int8 as c, 0::int8 as d, last_hash as bytes from chain_head where id = 1 \
         union all \
         select 't', s.id, e.subject_id, e.stream_version, 0, 0, 0, null from unnest($1::text[]) as s(id) \
           cross join lateral (select stream_version, subject_id from events where stream_id = s.id \
           order by stream_version desc limit 1) e \
         union all \
         select 'e', '', subject_id, ledger_position, 0, 0, 0, null from erased_subjects where subject_id = any($2) \
         union all \
         select 'c', stream_id, command_id, first_version, last_version, first_position, last_position, null \
           from commands where command_id = any($3)",
    )
    .bind(streams)
    .bind(subjects)
    .bind(commands)
    .fetch_all(&mut *conn)
    .await?;
    head_and_lookup_rows(rows)
}

/// Every write of a group in one autocommitted statement: the head moves only if it is still
/// at `expected` (the row lock it takes is held to commit, so positions stay in commit order),
/// and events, command outcomes and fences are inserted only if it moved. The notification
/// other processes wake on is sent in the same statement. `Ok(false)`: nothing was written.
pub(crate) async fn write_pg(conn: &mut sqlx::PgConnection, w: &Writes<'_>, expected: u64) -> Result<bool> {
    let mut cols = PgColumns::default();
    for r in w.rows {
        cols.push(r)?;
    }
    let mut cmd = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, stream, o) in w.commands {
        cmd.0.push(*id);
        cmd.1.push(stream.clone());
        cmd.2.push(to_i64(o.first_version, "version")?);
        cmd.3.push(to_i64(o.last_version, "version")?);
        cmd.4.push(to_i64(o.first_position, "position")?);
        cmd.5.push(to_i64(o.last_position, "position")?);
    }
    let mut fences = (Vec::new(), Vec::new(), Vec::new());
    for (subject, at, position) in w.fences {
        fences.0.push(*subject);
        fences.1.push(*at);
        fences.2.push(to_i64(*position, "position")?);
    }
    let tree = merkle::sql::pg_columns(w.nodes)?;
    // The inserts read the head CTE, so they run only after (and only if) the guarded update
    // took the head row; a concurrent holder makes the update wait, then re-check the guard.
    let applied = sqlx::query(
        "with head as (update chain_head set last_position = $27, last_hash = $28, last_recorded_at = $29 \
           where id = 1 and last_position = $31 returning id), \
         ins as (insert into events (position, event_id, stream_id, stream_version, subject_id, event_type, \
           schema_version, recorded_at, actor, correlation_id, causation_id, command_id, key_id, nonce, ciphertext, \
           prev_hash, hash) \
           select u.* from unnest($1::int8[], $2::uuid[], $3::text[], $4::int8[], $5::uuid[], $6::text[], $7::int4[], \
           $8::int8[], $9::text[], $10::uuid[], $11::uuid[], $12::uuid[], $13::uuid[], $14::bytea[], $15::bytea[], \
           $16::bytea[], $17::bytea[]) as u, head), \
         cmd as (insert into commands (command_id, stream_id, first_version, last_version, first_position, last_position) \
           select u.* from unnest($18::uuid[], $19::text[], $20::int8[], $21::int8[], $22::int8[], $23::int8[]) as u, head), \
         fence as (insert into erased_subjects (subject_id, erased_at, ledger_position) \
           select u.* from unnest($24::uuid[], $25::int8[], $26::int8[]) as u, head), \
         tree as (insert into merkle_nodes (level, idx, hash) \
           select u.* from unnest($32::int4[], $33::int8[], $34::bytea[]) as u, head) \
         select pg_notify('vigil_events', $30) from head",
    )
    .bind(cols.position).bind(cols.event_id).bind(cols.stream_id).bind(cols.stream_version)
    .bind(cols.subject).bind(cols.event_type).bind(cols.schema_version).bind(cols.recorded_at)
    .bind(cols.actor).bind(cols.correlation).bind(cols.causation).bind(cols.command)
    .bind(cols.key_id).bind(cols.nonce).bind(cols.ciphertext).bind(cols.prev_hash).bind(cols.hash)
    .bind(cmd.0).bind(cmd.1).bind(cmd.2).bind(cmd.3).bind(cmd.4).bind(cmd.5)
    .bind(fences.0).bind(fences.1).bind(fences.2)
    .bind(to_i64(w.head.position, "position")?)
    .bind(w.head.hash.to_vec())
    .bind(w.head.recorded_at)
    .bind(w.head.position.to_string())
    .bind(to_i64(expected, "position")?)
    .bind(tree.0).bind(tree.1).bind(tree.2)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(applied.is_some())
}

#[derive(Default)]
struct PgColumns {
    position: Vec<i64>,
    event_id: Vec<Uuid>,
    stream_id: Vec<String>,
    stream_version: Vec<i64>,
    subject: Vec<Uuid>,
    event_type: Vec<String>,
    schema_version: Vec<i32>,
    recorded_at: Vec<i64>,
    actor: Vec<String>,
    correlation: Vec<Option<Uuid>>,
    causation: Vec<Option<Uuid>>,
    command: Vec<Option<Uuid>>,
    key_id: Vec<Uuid>,
    nonce: Vec<Vec<u8>>,
    ciphertext: Vec<Vec<u8>>,
    prev_hash: Vec<Vec<u8>>,
    hash: Vec<Vec<u8>>,
}

impl PgColumns {
    fn push(&mut self, r: &StoredRow) -> Result<()> {
        let e = &r.env;
        self.position.push(to_i64(e.position, "position")?);
        self.event_id.push(e.event_id);
        self.stream_id.push(e.stream_id.clone());
        self.stream_version.push(to_i64(e.stream_version, "stream version")?);
        self.subject.push(e.subject);
        self.event_type.push(e.event_type.clone());
        self.schema_version
            .push(i32::try_from(e.schema_version).map_err(|_| StoreError::invalid("schema_version", "too large"))?);
        self.recorded_at.push(e.recorded_at_micros);
        self.actor.push(e.actor.clone());
        self.correlation.push(e.correlation_id);
        self.causation.push(e.causation_id);
        self.command.push(e.command_id);
        self.key_id.push(e.key_id);
        self.nonce.push(r.nonce.clone());
        self.ciphertext.push(r.ciphertext.clone());
        self.prev_hash.push(e.prev_hash.to_vec());
        self.hash.push(e.hash.to_vec());
        Ok(())
    }
}

/// Bound parameters per call to SQLite (its limit is 32766 per statement; a call's
/// statements share one numbering).
const SQLITE_PARAMS_PER_CALL: usize = 30_000;
const EVENT_PARAMS: usize = 17;

/// Guard appended to each insert: true only while the head is where the group was planned.
const SQLITE_GUARD: &str = " where (select last_position from chain_head where id = 1) = ";

/// The SQLite form of [`write_pg`]: `begin immediate`, guarded inserts, the guarded head move
/// and `commit`, sent as one multi-statement call (more only for groups too large for one
/// call's parameter budget). On error the transaction may be left open: the caller must roll
/// back before using the connection again.
pub(crate) async fn write_sqlite(conn: &mut sqlx::SqliteConnection, w: &Writes<'_>, expected: u64) -> Result<bool> {
    let expected = to_i64(expected, "position")?;
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("begin immediate; ");
    let mut params = 0;
    let per_chunk = (SQLITE_PARAMS_PER_CALL / EVENT_PARAMS).max(1) - 1;
    for chunk in w.rows.chunks(per_chunk) {
        if params + chunk.len() * EVENT_PARAMS + 1 > SQLITE_PARAMS_PER_CALL {
            // Still inside the IMMEDIATE transaction: nobody else can write between calls.
            qb.build().persistent(true).execute(&mut *conn).await?;
            qb = QueryBuilder::new("");
            params = 0;
        }
        push_events(&mut qb, chunk, expected)?;
        params += chunk.len() * EVENT_PARAMS + 1;
    }
    let tail = w.commands.len() * 6 + w.fences.len() * 3 + usize::from(!w.nodes.is_empty()) * 2 + 6;
    if params + tail > SQLITE_PARAMS_PER_CALL {
        qb.build().persistent(true).execute(&mut *conn).await?;
        qb = QueryBuilder::new("");
    }
    if !w.commands.is_empty() {
        qb.push("insert into commands (command_id, stream_id, first_version, last_version, first_position, last_position) select * from (");
        let mut err = None;
        qb.push_values(w.commands, |mut b, (id, stream, o)| {
            let numbers =
                [o.first_version, o.last_version, o.first_position, o.last_position].map(|n| to_i64(n, "number"));
            let [Ok(a), Ok(c), Ok(d), Ok(e)] = numbers else {
                err = Some(StoreError::invalid("command outcome", "out of range"));
                return;
            };
            b.push_bind(*id)
                .push_bind(stream.clone())
                .push_bind(a)
                .push_bind(c)
                .push_bind(d)
                .push_bind(e);
        });
        if let Some(e) = err {
            return Err(e);
        }
        qb.push(")").push(SQLITE_GUARD).push_bind(expected).push("; ");
    }
    if !w.fences.is_empty() {
        qb.push("insert into erased_subjects (subject_id, erased_at, ledger_position) select * from (");
        let mut err = None;
        qb.push_values(w.fences, |mut b, (subject, at, position)| {
            match to_i64(*position, "position") {
                Ok(p) => {
                    b.push_bind(*subject).push_bind(*at).push_bind(p);
                }
                Err(e) => err = Some(e),
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        qb.push(")").push(SQLITE_GUARD).push_bind(expected).push("; ");
    }
    if !w.nodes.is_empty() {
        // One JSON parameter, not a row of parameters per node: the node count varies from
        // group to group, and a text that varied with it would miss the statement cache and
        // re-prepare the group's whole multi-statement call each time.
        qb.push(
            "insert into merkle_nodes (done, level, idx, hash) select (json_extract(value, '$[1]') + 1) << \
             json_extract(value, '$[0]'), json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
             unhex(json_extract(value, '$[2]')) from json_each(",
        )
        .push_bind(merkle::sql::nodes_json(w.nodes)?)
        .push(")")
        .push(SQLITE_GUARD)
        .push_bind(expected)
        .push("; ");
    }
    qb.push("update chain_head set last_position = ")
        .push_bind(to_i64(w.head.position, "position")?)
        .push(", last_hash = ")
        .push_bind(w.head.hash.to_vec())
        .push(", last_recorded_at = ")
        .push_bind(w.head.recorded_at)
        .push(" where id = 1 and last_position = ")
        .push_bind(expected)
        .push(" returning id; commit");
    let moved = qb.build().persistent(true).fetch_all(&mut *conn).await?;
    Ok(!moved.is_empty())
}

fn push_events(qb: &mut QueryBuilder<Sqlite>, chunk: &[StoredRow], expected: i64) -> Result<()> {
    qb.push(format!("insert into events ({COLUMNS}) select * from ("));
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
    qb.push(")").push(SQLITE_GUARD).push_bind(expected).push("; ");
    Ok(())
}
