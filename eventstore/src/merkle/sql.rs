//! SQL of the Merkle tree: reading stored subtree hashes and the chain hashes under them, and
//! inserting nodes (the backfill's and the locked SQLite path's; the head-checked writes put
//! theirs in `checked.rs`'s statements). Works on one connection, so the appender reads what
//! its own transaction sees. Must not hash or decide: `merkle.rs` does that.

use std::collections::HashMap;

use sqlx::pool::PoolConnection;
use sqlx::postgres::Postgres;
use sqlx::sqlite::Sqlite;
use sqlx::{QueryBuilder, Row};
use vigil_proofs::merkle::{Hash, NodeId};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::log::{hash32, to_i64, to_u64};

/// One stored node: level, index, hash.
pub(crate) type NodeRow = (u32, u64, Hash);

/// A connection on either backend, borrowed for a few tree reads or writes.
pub(crate) enum TreeConn<'a> {
    Pg(&'a mut sqlx::PgConnection),
    Sqlite(&'a mut sqlx::SqliteConnection),
}

/// A connection taken from the log's pool for tree reads.
pub(crate) enum PooledConn {
    Pg(PoolConnection<Postgres>),
    Sqlite(PoolConnection<Sqlite>),
}

impl PooledConn {
    pub(crate) async fn acquire(db: &Db) -> Result<PooledConn> {
        Ok(match db {
            Db::Postgres(p) => PooledConn::Pg(p.acquire().await?),
            Db::Sqlite(p) => PooledConn::Sqlite(p.acquire().await?),
        })
    }

    pub(crate) fn tree(&mut self) -> TreeConn<'_> {
        match self {
            PooledConn::Pg(c) => TreeConn::Pg(c),
            PooledConn::Sqlite(c) => TreeConn::Sqlite(c),
        }
    }
}

/// Nodes per SQLite insert (4 parameters each).
const SQLITE_NODES_PER_INSERT: usize = 2_000;

impl TreeConn<'_> {
    /// The stored hashes of `ids` (all of level 4 or more); absent ones are simply missing.
    pub(crate) async fn nodes(&mut self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = match self {
            TreeConn::Pg(c) => {
                let levels: Vec<i32> = ids.iter().map(|n| n.level as i32).collect();
                let indexes = ids
                    .iter()
                    .map(|n| to_i64(n.index, "node index"))
                    .collect::<Result<Vec<_>>>()?;
                let rows = sqlx::query(
                    "select m.level::int8 as level, m.idx, m.hash from unnest($1::int4[], $2::int8[]) as u(l, i) \
                     join merkle_nodes m on m.level = u.l and m.idx = u.i",
                )
                .bind(levels)
                .bind(indexes)
                .fetch_all(&mut **c)
                .await?;
                rows.iter().map(node_of).collect::<Result<Vec<_>>>()?
            }
            TreeConn::Sqlite(c) => {
                // SQLite keys nodes by (done, level): `done` = the size that completes them.
                let pairs = ids
                    .iter()
                    .map(|n| Ok((n.level, n.index, to_i64(n.end_leaf(), "node end")?)))
                    .collect::<Result<Vec<_>>>()?;
                let json = serde_json::to_string(&pairs).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let rows = sqlx::query(
                    "select m.level, m.idx, m.hash from json_each($1) j join merkle_nodes m \
                     on m.done = json_extract(j.value, '$[2]') and m.level = json_extract(j.value, '$[0]')",
                )
                .bind(json)
                .fetch_all(&mut **c)
                .await?;
                rows.iter().map(node_of).collect::<Result<Vec<_>>>()?
            }
        };
        Ok(rows.into_iter().map(|(l, i, h)| (NodeId::new(l, i), h)).collect())
    }

    /// The chain hashes of leaves `[first, end)` (positions `first + 1 ..= end`), in order.
    pub(crate) async fn chain_hashes(&mut self, first: u64, end: u64) -> Result<Vec<(u64, Hash)>> {
        const SQL: &str = "select position, hash from events where position > $1 and position <= $2 order by position";
        let (from, to) = (to_i64(first, "leaf")?, to_i64(end, "leaf")?);
        let rows = match self {
            TreeConn::Pg(c) => sqlx::query(SQL).bind(from).bind(to).fetch_all(&mut **c).await?,
            TreeConn::Sqlite(c) => {
                let rows = sqlx::query(SQL).bind(from).bind(to).fetch_all(&mut **c).await?;
                return rows
                    .iter()
                    .map(|r| {
                        Ok((
                            to_u64(r.try_get("position")?, "position")?,
                            hash32(r.try_get("hash")?, "hash")?,
                        ))
                    })
                    .collect();
            }
        };
        rows.iter()
            .map(|r| {
                Ok((
                    to_u64(r.try_get("position")?, "position")?,
                    hash32(r.try_get("hash")?, "hash")?,
                ))
            })
            .collect()
    }

    /// Inserts nodes (the backfill; SQLite's locked append path).
    pub(crate) async fn insert(&mut self, nodes: &[NodeRow]) -> Result<()> {
        if nodes.is_empty() {
            return Ok(());
        }
        match self {
            TreeConn::Pg(c) => {
                let (levels, indexes, hashes) = pg_columns(nodes)?;
                sqlx::query("insert into merkle_nodes (level, idx, hash) select * from unnest($1::int4[], $2::int8[], $3::bytea[])")
                    .bind(levels)
                    .bind(indexes)
                    .bind(hashes)
                    .execute(&mut **c)
                    .await?;
            }
            TreeConn::Sqlite(c) => {
                for chunk in nodes.chunks(SQLITE_NODES_PER_INSERT) {
                    let mut qb: QueryBuilder<Sqlite> =
                        QueryBuilder::new("insert into merkle_nodes (done, level, idx, hash) ");
                    push_sqlite_values(&mut qb, chunk)?;
                    qb.build().persistent(false).execute(&mut **c).await?;
                }
            }
        }
        Ok(())
    }
}

/// `values (…), …` of nodes for a SQLite insert.
pub(crate) fn push_sqlite_values(qb: &mut QueryBuilder<Sqlite>, nodes: &[NodeRow]) -> Result<()> {
    let mut err = None;
    qb.push_values(nodes, |mut b, (level, index, hash)| {
        let done = NodeId::new(*level, *index).end_leaf();
        match (to_i64(*index, "node index"), to_i64(done, "node end")) {
            (Ok(i), Ok(done)) => {
                b.push_bind(done)
                    .push_bind(i64::from(*level))
                    .push_bind(i)
                    .push_bind(hash.to_vec());
            }
            (Err(e), _) | (_, Err(e)) => err = Some(e),
        }
    });
    err.map_or(Ok(()), Err)
}

/// Nodes as one JSON array of `[level, index, "hex hash"]`, for SQLite's `json_each`.
pub(crate) fn nodes_json(nodes: &[NodeRow]) -> Result<String> {
    let rows: Vec<(u32, u64, String)> = nodes.iter().map(|(l, i, h)| (*l, *i, hex::encode(h))).collect();
    serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Levels, indexes and hashes: the three arrays a Postgres `unnest` takes.
pub(crate) type PgNodeColumns = (Vec<i32>, Vec<i64>, Vec<Vec<u8>>);

/// Nodes as the three arrays a Postgres `unnest` takes.
pub(crate) fn pg_columns(nodes: &[NodeRow]) -> Result<PgNodeColumns> {
    let mut cols = (
        Vec::with_capacity(nodes.len()),
        Vec::with_capacity(nodes.len()),
        Vec::with_capacity(nodes.len()),
    );
    for (level, index, hash) in nodes {
        cols.0
            .push(i32::try_from(*level).map_err(|_| StoreError::invalid("node level", "out of range"))?);
        cols.1.push(to_i64(*index, "node index")?);
        cols.2.push(hash.to_vec());
    }
    Ok(cols)
}

fn node_of<R: Row>(row: &R) -> Result<NodeRow>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let level: i64 = row.try_get("level")?;
    let level = u32::try_from(level).map_err(|_| StoreError::Corrupt("merkle node level out of range".into()))?;
    Ok((
        level,
        to_u64(row.try_get("idx")?, "node index")?,
        hash32(row.try_get("hash")?, "node hash")?,
    ))
}
