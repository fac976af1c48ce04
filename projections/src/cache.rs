//! An in-process cache of each person's dashboard sources (protocols, dose log, latest vitals,
//! latest panel), so the most frequent read does not run six queries every time.
//!
//! Freshness comes from the runner, which sees every committed event of the log in order —
//! also those another server applied to a shared Postgres. For each event it records the
//! person's latest position and drops their entry *before* it announces the new `reached`
//! position. An entry remembers the `reached` position read before its queries ran, and is
//! served only while no event of that person is newer than it. So a mutation that waited for
//! `reached` (read-your-writes) never reads an entry older than its event, and an entry that
//! raced with an event is refused on the next read. When the runner resubscribes (after an
//! error or a rebuild) it may skip events, so everything is forgotten at once (a new epoch).
//! Another server's writes show up here once this runner has seen them (milliseconds with
//! LISTEN/NOTIFY): the same eventual consistency as any replica of the read side.
//!
//! Erasure: the erased person's entry is dropped the moment the runner sees the ledger entry.
//! Bounded: past `capacity` entries or tracked people, everything is forgotten.
//! Must not write to the read models or decide what is fresh from the clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;
use uuid::Uuid;
use vigil_domain::dose::DoseLogState;
use vigil_eventstore::RecordedEvent;

use crate::db::ReadDb;
use crate::error::Result;
use crate::read::{self, HealthLogView, PageRequest, PanelView, ProtocolView};

/// Protocols read per person at most: a person runs a handful at a time.
const PROTOCOLS_READ: u32 = 100;

/// What the dashboard is computed from, as of one read-model position.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardSource {
    /// Every protocol (up to 100), newest first.
    pub protocols: Vec<ProtocolView>,
    /// The whole dose log, for next-due computations.
    pub doses: DoseLogState,
    /// The latest live reading of each vital.
    pub vitals: Vec<HealthLogView>,
    /// The latest live panel.
    pub panel: Option<PanelView>,
}

impl DashboardSource {
    /// Runs the queries.
    ///
    /// # Errors
    /// Database and decode errors.
    pub async fn load(db: &ReadDb, user: Uuid) -> Result<DashboardSource> {
        let protocols = read::protocols(
            db,
            user,
            &PageRequest {
                first: PROTOCOLS_READ,
                after: None,
            },
        )
        .await?
        .items
        .into_iter()
        .map(|(_, p)| p)
        .collect();
        Ok(DashboardSource {
            protocols,
            doses: read::dose_log_state(db, user, None).await?,
            vitals: read::latest_vitals(db, user).await?,
            panel: read::latest_panel(db, user).await?,
        })
    }
}

struct Entry {
    epoch: u64,
    reached: u64,
    source: Arc<DashboardSource>,
}

#[derive(Default)]
struct Inner {
    epoch: u64,
    /// Each person's latest event position seen by the runner.
    latest: HashMap<Uuid, u64>,
    entries: HashMap<Uuid, Entry>,
}

/// The cache; cheap to clone (clones share it).
#[derive(Clone)]
pub struct ReadCache {
    inner: Arc<Mutex<Inner>>,
    reached: watch::Receiver<u64>,
    capacity: usize,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    /// A cache trusting `reached` (the runner's lowest applied position).
    pub(crate) fn new(reached: watch::Receiver<u64>, capacity: usize) -> ReadCache {
        ReadCache {
            inner: Arc::new(Mutex::new(Inner::default())),
            reached,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind: still usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records the events the runner is about to announce as reached.
    pub(crate) fn saw(&self, events: &[RecordedEvent]) {
        let mut inner = self.lock();
        for event in events {
            let position = event.envelope.position;
            for person in [Some(event.envelope.subject), erased_person(event)]
                .into_iter()
                .flatten()
            {
                inner.latest.insert(person, position);
                inner.entries.remove(&person);
            }
        }
        if inner.latest.len() > self.capacity.saturating_mul(16) {
            Self::clear(&mut inner);
        }
    }

    /// Forgets everything: the runner may have skipped events.
    pub(crate) fn forget_all(&self) {
        Self::clear(&mut self.lock());
    }

    fn clear(inner: &mut Inner) {
        inner.epoch += 1;
        inner.latest.clear();
        inner.entries.clear();
    }

    /// `user`'s dashboard sources: cached when nothing of theirs happened since, else loaded.
    ///
    /// # Errors
    /// Database and decode errors.
    pub async fn dashboard(&self, db: &ReadDb, user: Uuid) -> Result<Arc<DashboardSource>> {
        let (epoch, reached) = {
            let inner = self.lock();
            if let Some(entry) = inner.entries.get(&user) {
                let newest = inner.latest.get(&user).copied().unwrap_or(0);
                if entry.epoch == inner.epoch && newest <= entry.reached {
                    return Ok(entry.source.clone());
                }
            }
            // Read before the queries: the rows are at least this fresh.
            (inner.epoch, *self.reached.borrow())
        };
        let source = Arc::new(DashboardSource::load(db, user).await?);
        let mut inner = self.lock();
        let newest = inner.latest.get(&user).copied().unwrap_or(0);
        if inner.epoch == epoch && newest <= reached {
            if inner.entries.len() >= self.capacity {
                inner.entries.clear();
            }
            inner.entries.insert(
                user,
                Entry {
                    epoch,
                    reached,
                    source: source.clone(),
                },
            );
        }
        Ok(source)
    }

    /// Entries held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The person an erasure-ledger entry names (an undecodable entry names nobody: the runner
/// itself refuses such a batch before this is reached).
fn erased_person(event: &RecordedEvent) -> Option<Uuid> {
    #[derive(serde::Deserialize)]
    struct Erased {
        subject: Uuid,
    }
    if event.envelope.event_type != vigil_eventstore::SUBJECT_ERASED {
        return None;
    }
    event.decode::<Erased>().ok().flatten().map(|e| e.subject)
}
