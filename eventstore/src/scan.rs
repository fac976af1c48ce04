//! Bulk reads of the SQLite log (`read_all`, `verify_chain`, subscriptions) through read-only
//! rusqlite connections of their own. sqlx hands SQLite rows over from its worker thread one by
//! one, copying every column into its own allocation; profiles of `verify` showed that hand-off,
//! and later the SQL that packed pages to avoid it, as most of a scan's cycles. Here a blocking
//! thread steps the statement itself and borrows each column straight from SQLite's row buffer.
//! Must not write (the connections are opened read-only and `query_only`), and must not
//! interpret what it reads: rows are decoded exactly as stored, malformed ones reported as
//! corrupt. Appends, stream reads and everything on Postgres stay on sqlx.
//! See ADR 0004 for why a second SQLite client is worth its dependency.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};
use uuid::Uuid;

use crate::chain::LinkHeader;
use crate::error::{Result, StoreError};
use crate::log::{COLUMNS, StoredRow, to_i64};
use crate::model::Envelope;

/// Idle connections kept for the next scan; more concurrent scans open (and then drop) more.
const IDLE: usize = 4;
/// Ranges at least this long are read as two halves in parallel; shorter ones (a
/// subscriber's page of fresh events) are not worth a second thread.
const SPLIT_AT: u64 = 4_096;

/// Reads of at least this many rows count as long (bulk) scans.
const BULK_FROM: i64 = 1_024;
/// Largest mapping of the log a bulk connection makes; beyond it SQLite reads as usual.
const BULK_MMAP: i64 = 1 << 36;

/// Read-only connections to one SQLite log file.
pub(crate) struct Scanner {
    path: PathBuf,
    /// Idle connections for short reads, and (index 1) for long ones, which map the file.
    idle: [Mutex<Vec<Connection>>; 2],
    /// Open the file as SQLite's `immutable=1`: no lock, no `-wal` or `-shm` file created.
    immutable: bool,
}

impl Scanner {
    pub(crate) fn new(path: PathBuf) -> Arc<Scanner> {
        Arc::new(Scanner {
            path,
            idle: [Mutex::new(Vec::new()), Mutex::new(Vec::new())],
            immutable: false,
        })
    }

    /// A scanner of a log file nothing writes (an auditor's copy, without a write-ahead log
    /// beside it). SQLite then creates no file and takes no lock: reading it leaves the
    /// directory exactly as it was. Only for such a copy: a file that changes under an
    /// immutable connection reads as garbage.
    pub(crate) fn immutable(path: PathBuf) -> Arc<Scanner> {
        Arc::new(Scanner {
            path,
            idle: [Mutex::new(Vec::new()), Mutex::new(Vec::new())],
            immutable: true,
        })
    }

    /// The chain head (last position and hash) as the file records it.
    pub(crate) async fn head(self: &Arc<Self>) -> Result<(u64, [u8; 32])> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = this.open(false)?;
            let (position, hash): (i64, Vec<u8>) = conn.query_row(
                "select last_position, last_hash from chain_head where id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let position =
                u64::try_from(position).map_err(|_| StoreError::Corrupt("chain_head position is negative".into()))?;
            let hash = hash
                .try_into()
                .map_err(|_| StoreError::Corrupt("chain_head hash is not 32 bytes".into()))?;
            Ok((position, hash))
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("scan thread: {e}")))?
    }

    /// Closes the idle connections (an open one keeps the log's WAL from being folded back and
    /// removed when the store closes). Connections in use close when their read ends.
    pub(crate) fn close(&self) {
        for idle in &self.idle {
            idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }

    /// Up to `limit` rows from `from` (inclusive) in position order, each hashed where it
    /// was read: what `verify_chain` needs, without building envelopes to throw away.
    pub(crate) async fn hash_range(self: &Arc<Self>, from: u64, limit: u64) -> Result<Vec<HashedRow>> {
        self.split(from, limit, hash_row, Arc::new(Ok)).await
    }

    /// Up to `limit` rows from `from` (inclusive) in position order, each batch passed
    /// through `then` on the thread that read it (readers open rows there, see `opening`).
    pub(crate) async fn read_then<U: Positioned>(
        self: &Arc<Self>,
        from: u64,
        limit: u64,
        then: Then<StoredRow, U>,
    ) -> Result<Vec<U>> {
        self.split(from, limit, decode, then).await
    }

    /// A long range is read as two halves on two threads: positions are gapless, so the
    /// second half starts at a known position. Should the first half come back short (a gap
    /// in a damaged log), the second is discarded and the rest read after what was found, so
    /// the answer is exactly what one sequential read would give.
    async fn split<T: Send + 'static, U: Positioned>(
        self: &Arc<Self>,
        from: u64,
        limit: u64,
        each: RowFn<T>,
        then: Then<T, U>,
    ) -> Result<Vec<U>> {
        if limit < SPLIT_AT {
            return self.part(from, None, limit, each, then).await;
        }
        let half = limit / 2;
        let mid = from.saturating_add(half);
        let (first, second) = tokio::join!(
            self.part(from, Some(mid), half, each, then.clone()),
            self.part(mid, None, limit - half, each, then.clone())
        );
        let mut rows = first?;
        if rows.len() as u64 == half {
            rows.append(&mut second?);
        } else {
            let next = rows.last().map_or(from, |r| r.position().saturating_add(1));
            let mut rest = self.part(next, None, limit - rows.len() as u64, each, then).await?;
            rows.append(&mut rest);
        }
        Ok(rows)
    }

    /// Up to `limit` rows with `from ≤ position < below`, on a blocking thread.
    async fn part<T: Send + 'static, U: Positioned>(
        self: &Arc<Self>,
        from: u64,
        below: Option<u64>,
        limit: u64,
        each: RowFn<T>,
        then: Then<T, U>,
    ) -> Result<Vec<U>> {
        let (from, limit) = (to_i64(from, "from")?, to_i64(limit, "limit")?);
        let below = below.map(|b| to_i64(b, "below")).transpose()?.unwrap_or(i64::MAX);
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let bulk = usize::from(limit >= BULK_FROM);
            let conn = match this.idle[bulk].lock().ok().and_then(|mut idle| idle.pop()) {
                Some(conn) => conn,
                None => this.open(bulk == 1)?,
            };
            let rows = read_rows(&conn, from, below, limit, each)?;
            // A connection that failed is dropped (above, by `?`) rather than reused.
            if let Ok(mut idle) = this.idle[bulk].lock()
                && idle.len() < IDLE
            {
                idle.push(conn);
            }
            then(rows)
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("scan thread: {e}")))?
    }

    fn open(&self, bulk: bool) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = if self.immutable {
            Connection::open_with_flags(immutable_uri(&self.path), flags | OpenFlags::SQLITE_OPEN_URI)?
        } else {
            Connection::open_with_flags(&self.path, flags)?
        };
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "query_only", true)?;
        if bulk {
            // Long scans read pages straight from the OS page cache instead of copying each
            // into SQLite's own (+10 % `read_all` in `vigil bench read`). Only for them: a
            // mapping is remapped as the log grows, and subscribers' short reads of the
            // newest events would pay that on every commit.
            conn.pragma_update(None, "mmap_size", BULK_MMAP)?;
        }
        Ok(conn)
    }
}

/// `file:<path>?immutable=1`, the path percent-encoded where a URI would misread it
/// (`?`, `#`, `%`, spaces, anything outside plain ASCII).
fn immutable_uri(path: &std::path::Path) -> String {
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Decodes one row as it is stepped.
type RowFn<T> = fn(&Row<'_>) -> Result<T>;

/// Runs over a part's rows on the thread that read them.
pub(crate) type Then<T, U> = Arc<dyn Fn(Vec<T>) -> Result<Vec<U>> + Send + Sync>;

/// What a scan returns per row; `split` needs the position to resume after a short half.
pub(crate) trait Positioned: Send + 'static {
    fn position(&self) -> u64;
}

/// A row as `verify_chain` needs it: its links, and whether its stored hash is the one its
/// content gives.
pub(crate) struct HashedRow {
    pub position: u64,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
    pub content_matches: bool,
}

impl Positioned for HashedRow {
    fn position(&self) -> u64 {
        self.position
    }
}

fn read_rows<T>(conn: &Connection, from: i64, below: i64, limit: i64, each: RowFn<T>) -> Result<Vec<T>> {
    // LIMIT as a literal: SQLite re-prepares a statement whose LIMIT is bound (see
    // `log::read_stream`); callers use a few page sizes, so the cached texts stay few.
    let mut stmt = conn.prepare_cached(&format!(
        "select {COLUMNS} from events where position >= ?1 and position < ?2 order by position limit {limit}"
    ))?;
    let mut rows = stmt.query([from, below])?;
    let mut out = Vec::with_capacity(usize::try_from(limit.min(1 << 16)).unwrap_or(0));
    while let Some(row) = rows.next()? {
        out.push(each(row)?);
    }
    Ok(out)
}

fn corrupt(column: usize, what: &str) -> StoreError {
    let name = COLUMNS.split(", ").nth(column).unwrap_or("?").trim();
    StoreError::Corrupt(format!("events.{name} {what}"))
}

fn int(row: &Row<'_>, i: usize) -> Result<i64> {
    match row.get_ref(i)? {
        ValueRef::Integer(v) => Ok(v),
        _ => Err(corrupt(i, "is not an integer")),
    }
}

fn unsigned(row: &Row<'_>, i: usize) -> Result<u64> {
    u64::try_from(int(row, i)?).map_err(|_| corrupt(i, "is negative"))
}

fn bytes<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r [u8]> {
    match row.get_ref(i)? {
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b),
        _ => Err(corrupt(i, "is null or not bytes")),
    }
}

fn str<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r str> {
    std::str::from_utf8(bytes(row, i)?).map_err(|_| corrupt(i, "is not UTF-8"))
}

fn uuid(row: &Row<'_>, i: usize) -> Result<Uuid> {
    Uuid::from_slice(bytes(row, i)?).map_err(|_| corrupt(i, "is not 16 bytes"))
}

fn opt_uuid(row: &Row<'_>, i: usize) -> Result<Option<Uuid>> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        _ => uuid(row, i).map(Some),
    }
}

fn hash(row: &Row<'_>, i: usize) -> Result<[u8; 32]> {
    bytes(row, i)?.try_into().map_err(|_| corrupt(i, "is not 32 bytes"))
}

/// The chained header of a row, borrowed from SQLite's buffer. Column indexes follow
/// `log::COLUMNS`.
fn header<'r>(row: &'r Row<'_>) -> Result<LinkHeader<'r>> {
    Ok(LinkHeader {
        position: unsigned(row, 0)?,
        event_id: uuid(row, 1)?,
        stream_id: str(row, 2)?,
        stream_version: unsigned(row, 3)?,
        subject: uuid(row, 4)?,
        event_type: str(row, 5)?,
        schema_version: u32::try_from(int(row, 6)?).map_err(|_| corrupt(6, "is out of range"))?,
        recorded_at_micros: int(row, 7)?,
        actor: str(row, 8)?,
        correlation_id: opt_uuid(row, 9)?,
        causation_id: opt_uuid(row, 10)?,
        command_id: opt_uuid(row, 11)?,
        key_id: uuid(row, 12)?,
    })
}

fn decode(row: &Row<'_>) -> Result<StoredRow> {
    let h = header(row)?;
    Ok(StoredRow {
        env: Envelope {
            position: h.position,
            event_id: h.event_id,
            stream_id: h.stream_id.to_owned(),
            stream_version: h.stream_version,
            subject: h.subject,
            event_type: h.event_type.to_owned(),
            schema_version: h.schema_version,
            recorded_at_micros: h.recorded_at_micros,
            actor: h.actor.to_owned(),
            correlation_id: h.correlation_id,
            causation_id: h.causation_id,
            command_id: h.command_id,
            key_id: h.key_id,
            prev_hash: hash(row, 15)?,
            hash: hash(row, 16)?,
        },
        nonce: bytes(row, 13)?.to_vec(),
        ciphertext: bytes(row, 14)?.to_vec(),
    })
}

/// The same checks as `decode`, without owning anything.
fn hash_row(row: &Row<'_>) -> Result<HashedRow> {
    let header = header(row)?;
    let prev_hash = hash(row, 15)?;
    let stored = hash(row, 16)?;
    let computed = header.link_hash(&prev_hash, bytes(row, 13)?, bytes(row, 14)?);
    Ok(HashedRow {
        position: header.position,
        prev_hash,
        hash: stored,
        content_matches: computed == stored,
    })
}

#[cfg(test)]
mod tests {
    use super::immutable_uri;

    #[test]
    fn an_immutable_uri_keeps_the_path_whatever_it_holds() {
        assert_eq!(
            immutable_uri(std::path::Path::new("./audit copy/a?b#c%d/events.db")),
            "file:./audit%20copy/a%3Fb%23c%25d/events.db?immutable=1"
        );
        assert_eq!(
            immutable_uri(std::path::Path::new("/data/é/events.db")),
            "file:/data/%C3%A9/events.db?immutable=1"
        );
    }
}
