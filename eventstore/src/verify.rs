//! `verify_chain`: walks the log from position 1 to the head recorded when it started and
//! reports the first bad position and why. Recomputing each hash needs only that row (its
//! stored `prev_hash` is an input), so that half runs on blocking threads in parallel with
//! the next page's read; the order-dependent half (gaps, links) is a cheap sequential walk.

use crate::chain::{ChainBreak, ChainFault, ChainReport, LinkWalker, link_hash};
use crate::error::{Result, StoreError};
use crate::log::{self, StoredRow};
use crate::store::EventStore;

const PAGE: u64 = 20_000;

/// Indexes of rows whose stored hash differs from the recomputed one, split over two threads.
fn bad_content(rows: &[StoredRow]) -> Vec<bool> {
    let check = |chunk: &[StoredRow]| -> Vec<bool> {
        chunk
            .iter()
            .map(|r| link_hash(&r.env.prev_hash, &r.env, &r.nonce, &r.ciphertext) != r.env.hash)
            .collect()
    };
    let mid = rows.len() / 2;
    let (left, right) = rows.split_at(mid);
    std::thread::scope(|s| {
        let handle = s.spawn(|| check(right));
        let mut out = check(left);
        match handle.join() {
            Ok(rest) => out.extend(rest),
            // A panicking hash thread cannot vouch for its rows: report them as bad.
            Err(_) => out.extend(std::iter::repeat_n(true, right.len())),
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
        let mut next = 1u64;
        let mut pending: Option<tokio::task::JoinHandle<(Vec<StoredRow>, Vec<bool>)>> = None;
        loop {
            let fetch = async {
                if next > head.position {
                    return Ok(Vec::new());
                }
                self.raw_range(next, PAGE.min(head.position - next + 1)).await
            };
            let (rows, previous) = match pending.take() {
                Some(handle) => {
                    let (rows, joined) = tokio::join!(fetch, handle);
                    (
                        rows?,
                        Some(joined.map_err(|e| StoreError::Corrupt(format!("verifier thread: {e}")))?),
                    )
                }
                None => (fetch.await?, None),
            };
            if let Some((checked, bad)) = previous {
                for (row, bad) in checked.iter().zip(bad) {
                    let env = &row.env;
                    if let Err(b) = walker.step(env.position, &env.prev_hash, &env.hash) {
                        return Ok(Err(b));
                    }
                    if bad {
                        return Ok(Err(ChainBreak {
                            position: env.position,
                            fault: ChainFault::HashMismatch,
                        }));
                    }
                }
                progress(walker.count(), head.position);
            }
            if rows.is_empty() {
                break;
            }
            next = rows.last().map_or(next, |r| r.env.position + 1);
            pending = Some(tokio::task::spawn_blocking(move || {
                let bad = bad_content(&rows);
                (rows, bad)
            }));
        }
        Ok(walker.finish(head.position, &head.hash))
    }
}
