//! Which queued appends commit together: the group-commit policy of the appender. Must not
//! touch the database.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::Job;

/// Most requests committed together; bounds the latency one transaction adds.
const MAX_JOBS_PER_COMMIT: usize = 512;
/// Most events committed together.
const MAX_EVENTS_PER_COMMIT: usize = 5_000;
/// Most rounds (a drain, then up to four yields each followed by a drain) a group gathers
/// before it commits; see [`gather`].
const MAX_GATHER_ROUNDS: usize = 5;
/// No further yield once a group has gathered for this long; see [`gather`].
const GATHER_BUDGET: Duration = Duration::from_millis(1);

/// The group `first` heads: every request queued now and, when the last group had company
/// (`expect_company`), those of callers about to queue.
///
/// The callers a commit answers wake together, and the first to append again wakes this task
/// before the others have run: draining at once committed that one request alone, a whole
/// round trip and sync for one event (a third of the groups under 64 writers). Yielding lets
/// the callers already woken queue their requests first (measured: groups of 63–64 instead of
/// alternating 63 and 1). A lone caller has nobody to wait for, so it skips the yields.
///
/// The budget is for a busy server, where a yield waits behind every request queued on the
/// worker: four of them were 2.5 ms at the median under `vigil bench api`'s mixed load, the
/// largest part of a write's latency. There, callers do not append again at once (each has
/// a response to send first), so the later yields only waited. Past the budget the group
/// commits (measured, 3 interleaved runs: write p99 18.0-19.0 -> 16.7-17.4 ms, dashboard
/// p99 4.0 -> 4.9 ms, since commits are more frequent). Writers appending in a loop (`vigil
/// bench append`) come back within microseconds, well inside it.
pub(super) async fn gather(rx: &mut mpsc::Receiver<Job>, first: Job, expect_company: bool) -> Vec<Job> {
    let mut events = first.req.events.len();
    let mut jobs = vec![first];
    let rounds = if expect_company { MAX_GATHER_ROUNDS } else { 1 };
    let started = Instant::now();
    for round in 0..rounds {
        if round > 0 {
            if started.elapsed() > GATHER_BUDGET {
                break;
            }
            tokio::task::yield_now().await;
        }
        let before = jobs.len();
        while jobs.len() < MAX_JOBS_PER_COMMIT && events < MAX_EVENTS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => {
                    events += job.req.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        // The first yield can come back empty while woken callers still wait to run (on the
        // other worker); a later empty round means nobody else is coming.
        let full = jobs.len() >= MAX_JOBS_PER_COMMIT || events >= MAX_EVENTS_PER_COMMIT;
        if full || (jobs.len() == before && round > 1) {
            break;
        }
    }
    jobs
}
