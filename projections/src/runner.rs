//! The projection runner: one task per process that tails the log once for every projection.
//!
//! Each batch of events is applied in ONE read-database transaction that first locks and
//! reads every checkpoint, applies each event only to projections whose checkpoint is below
//! it, then moves those checkpoints: a crash rolls back writes and checkpoints together, and
//! two runners on one database (two servers on Postgres) never apply an event twice.
//! Catch-up and live tailing are the same loop over the store's subscription.
//! Must not decide business rules or serve queries.

mod batch;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot, watch};
use vigil_eventstore::EventStore;

use crate::cache::ReadCache;
use crate::db::ReadDb;
use crate::error::{ProjectionError, Result};
use crate::identity::IndexKey;
use crate::projection::Projection;

pub(crate) use batch::personal_tables;
pub use batch::{CheckpointStatus, RebuildReport, checkpoints, rebuild, reset, status};

/// Events applied per transaction at most.
const BATCH: usize = 1_000;
/// People whose dashboard sources are kept in memory at most.
const CACHED_PEOPLE: usize = 10_000;

enum Control {
    Rebuild(Vec<Projection>, oneshot::Sender<Result<()>>),
    Stop(oneshot::Sender<()>),
}

/// A running projection task and the lowest position every projection has reached.
#[derive(Debug)]
pub struct ProjectionRunner {
    reached: watch::Receiver<u64>,
    control: mpsc::Sender<Control>,
    task: tokio::task::JoinHandle<()>,
    cache: ReadCache,
}

impl ProjectionRunner {
    /// Starts tailing from the stored checkpoints (catching up first).
    ///
    /// # Errors
    /// When the checkpoints cannot be read.
    pub async fn start(store: EventStore, db: ReadDb, index_key: IndexKey) -> Result<Self> {
        let start = lowest(&checkpoints(&db).await?);
        let (reached_tx, reached) = watch::channel(start);
        let (control, control_rx) = mpsc::channel(8);
        let cache = ReadCache::new(reached.clone(), CACHED_PEOPLE);
        let task = tokio::spawn(run(store, db, index_key, reached_tx, control_rx, cache.clone()));
        Ok(ProjectionRunner {
            reached,
            control,
            task,
            cache,
        })
    }

    /// The read cache this runner keeps fresh.
    pub fn cache(&self) -> &ReadCache {
        &self.cache
    }

    /// The lowest position every projection has applied.
    pub fn reached(&self) -> u64 {
        *self.reached.borrow()
    }

    /// A receiver of `reached`, for callers that wait themselves.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.reached.clone()
    }

    /// Waits until every projection reached `position`, for at most `timeout`.
    ///
    /// # Errors
    /// `Lagging` after the timeout; `Stopped` when the runner is gone.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<()> {
        let mut rx = self.reached.clone();
        match tokio::time::timeout(timeout, rx.wait_for(|r| *r >= position)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(ProjectionError::Stopped),
            Err(_) => Err(ProjectionError::Lagging {
                position,
                reached: *self.reached.borrow(),
            }),
        }
    }

    /// Clears the given projections and replays them from position 0 while the others keep
    /// going. Returns once they are reset; the catch-up continues in the background.
    ///
    /// # Errors
    /// `Stopped` when the runner is gone; database errors from the reset.
    pub async fn rebuild(&self, projections: Vec<Projection>) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.control
            .send(Control::Rebuild(projections, tx))
            .await
            .map_err(|_| ProjectionError::Stopped)?;
        rx.await.map_err(|_| ProjectionError::Stopped)?
    }

    /// Finishes the batch in flight (its checkpoint commits with it) and stops. Safe to call
    /// more than once and from a shared reference.
    pub async fn stop_in_place(&self) {
        let (tx, rx) = oneshot::channel();
        if self.control.send(Control::Stop(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Whether the runner task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

fn lowest(positions: &[(Projection, u64)]) -> u64 {
    positions.iter().map(|(_, p)| *p).min().unwrap_or(0)
}

async fn run(
    store: EventStore,
    db: ReadDb,
    index_key: IndexKey,
    reached: watch::Sender<u64>,
    mut control: mpsc::Receiver<Control>,
    cache: ReadCache,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        // (Re)subscribing from the lowest checkpoint may skip events another server applied
        // meanwhile: nothing cached can be trusted across that gap.
        cache.forget_all();
        let mut remembered = None;
        let from = match checkpoints(&db).await {
            Ok(positions) => {
                // What is applied now: lower than before after a reset by another writer, so
                // that nobody waiting for a position is answered while it is being replayed.
                let applied = lowest(&positions);
                reached.send_replace(applied);
                applied + 1
            }
            Err(e) => {
                tracing::error!(error = %e, "projection runner cannot read checkpoints; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let mut events = Box::pin(store.subscribe(from).ready_chunks(BATCH));
        loop {
            tokio::select! {
                biased;
                command = control.recv() => match command {
                    Some(Control::Rebuild(projections, done)) => {
                        let result = reset(&db, &projections).await;
                        cache.forget_all();
                        let failed = result.is_err();
                        let _ = done.send(result);
                        if let Ok(positions) = checkpoints(&db).await {
                            reached.send_replace(lowest(&positions));
                        }
                        if !failed {
                            break; // resubscribe from the new lowest checkpoint
                        }
                    }
                    Some(Control::Stop(done)) => {
                        let _ = done.send(());
                        return;
                    }
                    None => return,
                },
                chunk = events.next() => {
                    let Some(chunk) = chunk else { return };
                    let started = Instant::now();
                    let mut batch = Vec::with_capacity(chunk.len());
                    let mut failure = None;
                    for item in chunk {
                        match item {
                            Ok(event) => batch.push(event),
                            Err(e) => { failure = Some(e); break; }
                        }
                    }
                    if !batch.is_empty() {
                        match batch::apply_batch(&db, &index_key, &batch, &mut remembered).await {
                            Ok(low) => {
                                backoff = Duration::from_millis(100);
                                cache.saw(&batch);
                                reached.send_replace(low);
                                metrics_batch(batch.len(), started.elapsed());
                            }
                            Err(ProjectionError::CheckpointsMoved) => {
                                tracing::info!("projection checkpoints moved by another writer; following them");
                                break;
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "projection batch failed; retrying from the checkpoint");
                                tokio::time::sleep(backoff).await;
                                backoff = (backoff * 2).min(Duration::from_secs(5));
                                break;
                            }
                        }
                    }
                    if let Some(e) = failure {
                        tracing::error!(error = %e, "reading the log failed; resubscribing");
                        tokio::time::sleep(backoff).await;
                        break;
                    }
                }
            }
        }
    }
}

fn metrics_batch(events: usize, took: Duration) {
    tracing::debug!(events, took_ms = took.as_millis() as u64, "projection batch applied");
}
