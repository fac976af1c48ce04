//! Bulk reads of the SQLite log as one packed blob per page. sqlx hands SQLite rows over from
//! its worker thread one by one, copying every column into its own allocation; for a scan that
//! cost dominates (profiles of `verify` showed most cycles in malloc/free and thread hand-off).
//! Here SQLite itself packs each row into hex-coded numbers and lengths followed by the raw
//! bytes, and concatenates a page of rows into one value, so a page crosses threads once.
//! Must not interpret what it reads (no hashing, no decryption): it only decodes rows exactly
//! as stored, and reports malformed ones as corrupt.

use sqlx::SqlitePool;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::log::{StoredRow, to_i64};
use crate::model::Envelope;

/// Integer columns, each printed as 16 hex digits (two's complement, so negatives too).
const INTS: usize = 4;
/// Blob and text columns, in the order their bytes follow the header; each has a length
/// printed as 8 hex digits: 0 for NULL, else octet length + 1.
const FIELDS: usize = 13;
const HEADER: usize = INTS * 16 + FIELDS * 8;

/// Each row is `format(header) ‖ concat(fields)`; `concat` skips NULLs, which the header's
/// 0 length marks. The page keeps the subquery's position order (it is a LIMITed rowid scan,
/// which SQLite runs as an ordered co-routine); the decoder still checks the order.
const SQL: &str = "select cast(group_concat(r, '') as blob) from (select concat(format(\
     '%016x%016x%016x%016x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x', \
     position, stream_version, schema_version, recorded_at, \
     ifnull(octet_length(event_id) + 1, 0), ifnull(octet_length(stream_id) + 1, 0), \
     ifnull(octet_length(subject_id) + 1, 0), ifnull(octet_length(event_type) + 1, 0), \
     ifnull(octet_length(actor) + 1, 0), ifnull(octet_length(correlation_id) + 1, 0), \
     ifnull(octet_length(causation_id) + 1, 0), ifnull(octet_length(command_id) + 1, 0), \
     ifnull(octet_length(key_id) + 1, 0), ifnull(octet_length(nonce) + 1, 0), \
     ifnull(octet_length(ciphertext) + 1, 0), ifnull(octet_length(prev_hash) + 1, 0), \
     ifnull(octet_length(hash) + 1, 0)), \
     event_id, stream_id, subject_id, event_type, actor, correlation_id, causation_id, command_id, key_id, \
     nonce, ciphertext, prev_hash, hash) as r \
     from events where position >= $1 order by position limit {limit})";

/// Rows per packed value. Small enough that SQLite builds each value in cache-sized memory
/// (large values grow by repeated reallocation and copying, and are copied again on the way
/// out), large enough that the per-query round trip is noise.
const ROWS_PER_VALUE: u64 = 1_024;

/// Up to `limit` rows from `from` (inclusive) in position order, like `log::read_range`.
pub(crate) async fn read_range(pool: &SqlitePool, from: u64, limit: u64) -> Result<Vec<StoredRow>> {
    let mut conn = pool.acquire().await?;
    let mut rows: Vec<StoredRow> = Vec::with_capacity(usize::try_from(limit.min(1 << 16)).unwrap_or(0));
    let mut next = from;
    while (rows.len() as u64) < limit {
        let want = ROWS_PER_VALUE.min(limit - rows.len() as u64);
        // LIMIT as a literal (see `log::read_stream`); `want` is nearly always one of two
        // values (a full value, or a subscriber's page), so the texts stay cached.
        let sql = SQL.replace("{limit}", &to_i64(want, "limit")?.to_string());
        let packed: Option<Vec<u8>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(to_i64(next, "from")?)
            .fetch_one(&mut *conn)
            .await?;
        let Some(packed) = packed else { break };
        let mut page = decode(&packed)?;
        if !page.is_sorted_by_key(|r| r.env.position) {
            page.sort_by_key(|r| r.env.position);
        }
        let got = page.len() as u64;
        next = page.last().map_or(next, |r| r.env.position.saturating_add(1));
        rows.append(&mut page);
        if got < want {
            break;
        }
    }
    Ok(rows)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("packed events page: {what}"))
}

fn hex_u64(digits: &[u8]) -> Result<u64> {
    digits.iter().try_fold(0u64, |acc, d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return Err(corrupt("bad hex digit")),
        };
        Ok((acc << 4) | u64::from(v))
    })
}

/// Decodes a page: a sequence of rows, each a fixed header then its fields' bytes.
fn decode(mut page: &[u8]) -> Result<Vec<StoredRow>> {
    let mut rows = Vec::new();
    while !page.is_empty() {
        let header = page.get(..HEADER).ok_or_else(|| corrupt("truncated header"))?;
        let mut ints = [0u64; INTS];
        for (i, v) in ints.iter_mut().enumerate() {
            *v = hex_u64(&header[i * 16..(i + 1) * 16])?;
        }
        let mut rest = &page[HEADER..];
        let mut fields: [Option<&[u8]>; FIELDS] = [None; FIELDS];
        for (i, field) in fields.iter_mut().enumerate() {
            let at = INTS * 16 + i * 8;
            let marker = hex_u64(&header[at..at + 8])?;
            if marker > 0 {
                let len = usize::try_from(marker - 1).map_err(|_| corrupt("length"))?;
                if rest.len() < len {
                    return Err(corrupt("truncated field"));
                }
                let (bytes, tail) = rest.split_at(len);
                *field = Some(bytes);
                rest = tail;
            }
        }
        rows.push(row(ints, &fields)?);
        page = rest;
    }
    Ok(rows)
}

fn row(ints: [u64; INTS], f: &[Option<&[u8]>; FIELDS]) -> Result<StoredRow> {
    let [position, stream_version, schema_version, recorded_at] = ints;
    let position_i = position.cast_signed();
    if position_i < 0 {
        return Err(StoreError::Corrupt("negative position".into()));
    }
    let need = |i: usize, what: &str| f[i].ok_or_else(|| StoreError::Corrupt(format!("{what} is null")));
    let uuid = |i: usize, what: &str| -> Result<Uuid> {
        Uuid::from_slice(need(i, what)?).map_err(|_| StoreError::Corrupt(format!("{what} is not 16 bytes")))
    };
    let opt_uuid = |i: usize, what: &str| -> Result<Option<Uuid>> {
        f[i].map(|b| Uuid::from_slice(b).map_err(|_| StoreError::Corrupt(format!("{what} is not 16 bytes"))))
            .transpose()
    };
    let text = |i: usize, what: &str| -> Result<String> {
        String::from_utf8(need(i, what)?.to_vec()).map_err(|_| StoreError::Corrupt(format!("{what} is not UTF-8")))
    };
    let hash = |i: usize, what: &str| -> Result<[u8; 32]> {
        need(i, what)?
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
    };
    let stream_version_i = stream_version.cast_signed();
    Ok(StoredRow {
        env: Envelope {
            position,
            event_id: uuid(0, "event_id")?,
            stream_id: text(1, "stream_id")?,
            stream_version: u64::try_from(stream_version_i)
                .map_err(|_| StoreError::Corrupt("negative stream version".into()))?,
            subject: uuid(2, "subject_id")?,
            event_type: text(3, "event_type")?,
            schema_version: u32::try_from(schema_version.cast_signed())
                .map_err(|_| StoreError::Corrupt("bad schema version".into()))?,
            recorded_at_micros: recorded_at.cast_signed(),
            actor: text(4, "actor")?,
            correlation_id: opt_uuid(5, "correlation_id")?,
            causation_id: opt_uuid(6, "causation_id")?,
            command_id: opt_uuid(7, "command_id")?,
            key_id: uuid(8, "key_id")?,
            prev_hash: hash(11, "prev_hash")?,
            hash: hash(12, "hash")?,
        },
        nonce: need(9, "nonce")?.to_vec(),
        ciphertext: need(10, "ciphertext")?.to_vec(),
    })
}
