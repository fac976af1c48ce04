//! `verify_chain`: walks the log from position 1 to the head recorded when it started and
//! reports the first bad position and why. Recomputing each hash needs only that row (its
//! stored `prev_hash` is an input), so pages are hashed in parallel and ahead of the walk
//! (on SQLite by the threads that read them, see `scan`); the order-dependent half (gaps,
//! links) is a cheap sequential walk over the results.

use tokio::task::JoinHandle;

use crate::chain::{ChainBreak, ChainFault, ChainReport, LinkWalker, link_hash};
use crate::error::{Result, StoreError};
use crate::log::{self, StoredRow};
use crate::scan::HashedRow;
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
    pub async fn verify_chain(&self, mut progress: impl FnMut(u64, u64)) -> Result<Result<ChainReport, ChainBreak>> {
        let head = log::read_head(self.log_db()).await?;
        let mut walker = LinkWalker::default();
        let mut pending = (head.position > 0).then(|| self.spawn_hashed_page(1, PAGE.min(head.position)));
        while let Some(handle) = pending.take() {
            let page = handle
                .await
                .map_err(|e| StoreError::Corrupt(format!("verifier thread: {e}")))??;
            // The next page is read and hashed while this one is walked.
            if let Some(last) = page.last().map(|r| r.position)
                && last < head.position
            {
                pending = Some(self.spawn_hashed_page(last + 1, PAGE.min(head.position - last)));
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
            progress(walker.count(), head.position);
        }
        Ok(walker.finish(head.position, &head.hash))
    }

    fn spawn_hashed_page(&self, from: u64, limit: u64) -> JoinHandle<Result<Vec<HashedRow>>> {
        let store = self.clone();
        tokio::spawn(async move {
            if let Some(scanner) = store.scanner() {
                return scanner.hash_range(from, limit).await;
            }
            let rows = store.raw_range(from, limit).await?;
            tokio::task::spawn_blocking(move || hash_rows(rows))
                .await
                .map_err(|e| StoreError::Corrupt(format!("verifier thread: {e}")))
        })
    }
}
