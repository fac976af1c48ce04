//! `verify_chain`: walks the log from position 1 to the head recorded when it started and
//! reports the first bad position and why. Recomputing each hash needs only that row (its
//! stored `prev_hash` is an input), so pages are hashed in parallel and ahead of the walk
//! (on SQLite by the threads that read them, see `scan`); the order-dependent half (gaps,
//! links) is a cheap sequential walk over the results. The walk is the same whether the log
//! was opened by the store or read-only by an auditor ([`crate::ReadOnlyLog`]).

use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::chain::{ChainBreak, ChainFault, ChainReport, LinkWalker, link_hash};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::log::{self, StoredRow};
use crate::scan::{HashedRow, Scanner};
use crate::store::EventStore;

const PAGE: u64 = 20_000;

/// Hashes rows already read, split over two threads.
fn hash_rows(rows: Vec<StoredRow>) -> Vec<HashedRow> {
    let hashed = |r: &StoredRow, content_matches: bool| HashedRow {
        position: r.env.position,
        prev_hash: r.env.prev_hash,
        hash: r.env.hash,
        content_matches,
    };
    let check = |chunk: &[StoredRow]| -> Vec<HashedRow> {
        chunk
            .iter()
            .map(|r| {
                hashed(
                    r,
                    link_hash(&r.env.prev_hash, &r.env, &r.nonce, &r.ciphertext) == r.env.hash,
                )
            })
            .collect()
    };
    let (left, right) = rows.split_at(rows.len() / 2);
    std::thread::scope(|s| {
        let handle = s.spawn(|| check(right));
        let mut out = check(left);
        match handle.join() {
            Ok(rest) => out.extend(rest),
            // A panicking hash thread cannot vouch for its rows: report them as bad.
            Err(_) => out.extend(right.iter().map(|r| hashed(r, false))),
        }
        out
    })
}

impl EventStore {
    /// Verifies the whole chain. `progress(done, total)` is called after each page.
    ///
    /// # Errors
    /// Database errors only; a broken chain is the `Ok(Err(ChainBreak))` case.
    pub async fn verify_chain(&self, progress: impl FnMut(u64, u64)) -> Result<Result<ChainReport, ChainBreak>> {
        let head = log::read_head(self.log_db()).await?;
        let pages = match self.scanner() {
            Some(scanner) => Pages::Scanner(scanner.clone()),
            None => Pages::Db(self.log_db().clone()),
        };
        walk(&pages, head.position, head.hash, progress).await
    }
}

/// Where a verification reads its pages: the SQLite scanner's own read-only connections, or
/// a pool (Postgres; SQLite where no scanner exists).
#[derive(Clone)]
pub(crate) enum Pages {
    Scanner(Arc<Scanner>),
    Db(Db),
}

impl Pages {
    fn spawn_hashed_page(&self, from: u64, limit: u64) -> JoinHandle<Result<Vec<HashedRow>>> {
        let pages = self.clone();
        tokio::spawn(async move {
            match pages {
                Pages::Scanner(scanner) => scanner.hash_range(from, limit).await,
                Pages::Db(db) => {
                    let rows = log::read_range(&db, from, limit).await?;
                    tokio::task::spawn_blocking(move || hash_rows(rows))
                        .await
                        .map_err(|e| StoreError::Corrupt(format!("verifier thread: {e}")))
                }
            }
        })
    }
}

/// Walks positions 1 to `head_position`, then checks the head. Shared by the store and by
/// [`crate::ReadOnlyLog`], so both verify exactly the same way.
pub(crate) async fn walk(
    pages: &Pages,
    head_position: u64,
    head_hash: [u8; 32],
    mut progress: impl FnMut(u64, u64),
) -> Result<Result<ChainReport, ChainBreak>> {
    let mut walker = LinkWalker::default();
    let mut pending = (head_position > 0).then(|| pages.spawn_hashed_page(1, PAGE.min(head_position)));
    while let Some(handle) = pending.take() {
        let page = handle
            .await
            .map_err(|e| StoreError::Corrupt(format!("verifier thread: {e}")))??;
        // The next page is read and hashed while this one is walked.
        if let Some(last) = page.last().map(|r| r.position)
            && last < head_position
        {
            pending = Some(pages.spawn_hashed_page(last + 1, PAGE.min(head_position - last)));
        }
        for row in &page {
            let broken = walker.step(row.position, &row.prev_hash, &row.hash).err().or_else(|| {
                (!row.content_matches).then_some(ChainBreak {
                    position: row.position,
                    fault: ChainFault::HashMismatch,
                })
            });
            if let Some(b) = broken {
                if let Some(next) = pending {
                    next.abort();
                }
                return Ok(Err(b));
            }
        }
        progress(walker.count(), head_position);
    }
    Ok(walker.finish(head_position, &head_hash))
}
