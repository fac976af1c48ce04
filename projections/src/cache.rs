//! An in-process cache of each person's dashboard sources (protocols, dose log, latest vitals,
//! latest panel), so the most frequent read does not run six queries every time. Each of the
//! four parts is fed by one kind of stream and kept fresh on its own, so after a new reading
//! only the vitals change, and they are merged in place (`vitals`) rather than read again.
//!
//! Freshness comes from the runner, which sees every committed event of the log in order —
//! also those another server applied to a shared Postgres. For each event it records the
//! person's latest position and drops their entry *before* it announces the new `reached`
//! position. A part remembers the `reached` position read before its query ran, and is
//! served only while no event of that person and of that part's kind is newer than it. So a mutation that waited for
//! `reached` (read-your-writes) never reads an entry older than its event, and an entry that
//! raced with an event is refused on the next read. When the runner resubscribes (after an
//! error or a rebuild) it may skip events, so everything is forgotten at once (a new epoch).
//! Another server's writes show up here once this runner has seen them (milliseconds with
//! LISTEN/NOTIFY): the same eventual consistency as any replica of the read side.
//!
//! Erasure: the erased person's entry is dropped the moment the runner sees the ledger entry,
//! and the erasure hooks run then too, so other in-process memories of personal data (the
//! service's aggregate states) forget the person at the same moment.
//! Bounded: past `capacity` entries or tracked people, everything is forgotten.
//! Must not write to the read models or decide what is fresh from the clock.

mod vitals;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;
use uuid::Uuid;
use vigil_domain::dose::DoseLogState;
use vigil_eventstore::RecordedEvent;

use crate::db::ReadDb;
use crate::error::Result;
use crate::read::{self, HealthLogView, PageRequest, PanelView, ProtocolView, Subject};
use crate::streams::{StreamKind, kind_of};

/// Protocols read per person at most: a person runs a handful at a time.
const PROTOCOLS_READ: u32 = 100;

/// What the dashboard is computed from. Each part is shared with the cache and was read at
/// its own position, at least as fresh as every event of its kind the caller waited for.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardSource {
    /// Every protocol (up to 100), newest first.
    pub protocols: Arc<Vec<ProtocolView>>,
    /// The whole dose log, for next-due computations.
    pub doses: Arc<DoseLogState>,
    /// The latest live reading of each vital.
    pub vitals: Arc<Vec<HealthLogView>>,
    /// The latest live panel.
    pub panel: Arc<Option<PanelView>>,
}

impl DashboardSource {
    /// Runs every query.
    ///
    /// # Errors
    /// Database and decode errors.
    pub async fn load(db: &ReadDb, subject: &Subject) -> Result<DashboardSource> {
        Ok(DashboardSource {
            protocols: Arc::new(load_protocols(db, subject).await?),
            doses: Arc::new(read::dose_log_state(db, subject, None).await?),
            vitals: Arc::new(read::latest_vitals(db, subject).await?),
            panel: Arc::new(read::latest_panel(db, subject).await?),
        })
    }
}

async fn load_protocols(db: &ReadDb, user: &Subject) -> Result<Vec<ProtocolView>> {
    let page = PageRequest {
        first: PROTOCOLS_READ,
        after: None,
    };
    Ok(read::protocols(db, user, &page)
        .await?
        .items
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}

/// The parts of a dashboard, each fed by one kind of stream only (see `projection`), so a
/// reading refreshes the vitals and leaves the protocols, doses and panel cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Protocols = 0,
    Doses = 1,
    Vitals = 2,
    Panel = 3,
}
const PARTS: usize = 4;

/// The parts an event of `stream` may change: none for account, credential, second-factor and
/// access-log events (the dashboard reads none of them), all for anything unrecognised.
fn parts_changed_by(stream: &str) -> &'static [Part] {
    match kind_of(stream) {
        StreamKind::Protocol => &[Part::Protocols],
        StreamKind::Doses => &[Part::Doses],
        StreamKind::Health => &[Part::Vitals],
        StreamKind::Bloodwork => &[Part::Panel],
        StreamKind::Account | StreamKind::Credentials | StreamKind::SecondFactor | StreamKind::Access => &[],
        StreamKind::ErasureLedger | StreamKind::Other => &[Part::Protocols, Part::Doses, Part::Vitals, Part::Panel],
    }
}

/// One cached part, read when the runner had reached `reached`. It needs no epoch: a new
/// epoch clears every entry, and `remember` refuses reads begun in an older one.
struct Slot<T> {
    reached: u64,
    value: Arc<T>,
}

impl<T> Slot<T> {
    fn fresh(slot: Option<&Slot<T>>, newest: u64) -> Option<Arc<T>> {
        slot.filter(|s| newest <= s.reached).map(|s| s.value.clone())
    }
}

#[derive(Default)]
struct Entry {
    protocols: Option<Slot<Vec<ProtocolView>>>,
    doses: Option<Slot<DoseLogState>>,
    vitals: Option<Slot<Vec<HealthLogView>>>,
    panel: Option<Slot<Option<PanelView>>>,
}

#[derive(Default)]
struct Inner {
    epoch: u64,
    /// Each person's latest event position seen by the runner, per part.
    latest: HashMap<Uuid, [u64; PARTS]>,
    entries: HashMap<Uuid, Entry>,
    /// New readings merged into cached vitals instead of dropping them (for tests and metrics).
    vitals_merged: u64,
}

impl Inner {
    fn newest(&self, user: Uuid) -> [u64; PARTS] {
        self.latest.get(&user).copied().unwrap_or_default()
    }
}

impl Lookup {
    fn slot<T>(&self, value: &Arc<T>) -> Option<Slot<T>> {
        Some(Slot {
            reached: self.reached,
            value: value.clone(),
        })
    }
}

impl Entry {
    /// Merges a new reading into the cached vitals, when they reflect every earlier health
    /// event of the person (none newer than their stamp came before this one). False when
    /// the part must be read again instead.
    fn keep_vitals_current(&mut self, previous: u64, event: &RecordedEvent) -> bool {
        let Some(slot) = self.vitals.as_mut() else {
            return false;
        };
        if previous > slot.reached {
            return false;
        }
        match vitals::merge(&slot.value, event) {
            vitals::Merge::Unchanged => {}
            vitals::Merge::Into(next) => slot.value = Arc::new(next),
            vitals::Merge::Unknown => return false,
        }
        slot.reached = slot.reached.max(event.envelope.position);
        true
    }

    fn drop_part(&mut self, part: Part) {
        match part {
            Part::Protocols => self.protocols = None,
            Part::Doses => self.doses = None,
            Part::Vitals => self.vitals = None,
            Part::Panel => self.panel = None,
        }
    }
}

/// Whatever of a person's parts was fresh, plus what the reads must be stamped with.
struct Lookup {
    epoch: u64,
    reached: u64,
    protocols: Option<Arc<Vec<ProtocolView>>>,
    doses: Option<Arc<DoseLogState>>,
    vitals: Option<Arc<Vec<HealthLogView>>>,
    panel: Option<Arc<Option<PanelView>>>,
}

/// Called with each erased person, once per erasure the runner sees.
pub type ErasureHook = Arc<dyn Fn(Uuid) + Send + Sync>;

/// The cache; cheap to clone (clones share it).
#[derive(Clone)]
pub struct ReadCache {
    inner: Arc<Mutex<Inner>>,
    reached: watch::Receiver<u64>,
    capacity: usize,
    hooks: Arc<Mutex<Vec<ErasureHook>>>,
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
            hooks: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs `hook` for every erasure the runner sees from now on, before it announces the
    /// erasure's position as reached.
    pub fn on_erasure(&self, hook: ErasureHook) {
        self.hooks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(hook);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind: still usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records the events the runner is about to announce as reached.
    pub(crate) fn saw(&self, events: &[RecordedEvent]) {
        let mut erased = Vec::new();
        {
            let mut inner = self.lock();
            let mut merged = 0;
            for event in events {
                let position = event.envelope.position;
                let person = event.envelope.subject;
                let parts = parts_changed_by(&event.envelope.stream_id);
                if !parts.is_empty() {
                    let before = inner.newest(person);
                    let latest = inner.latest.entry(person).or_default();
                    for part in parts {
                        latest[*part as usize] = position;
                    }
                    if let Some(entry) = inner.entries.get_mut(&person) {
                        for part in parts {
                            let kept = *part == Part::Vitals
                                && entry.keep_vitals_current(before[Part::Vitals as usize], event);
                            if kept {
                                merged += 1;
                            } else {
                                entry.drop_part(*part);
                            }
                        }
                    }
                }
                if let Some(gone) = erased_person(event) {
                    inner.latest.insert(gone, [position; PARTS]);
                    inner.entries.remove(&gone);
                    erased.push(gone);
                }
            }
            inner.vitals_merged += merged;
            if inner.latest.len() > self.capacity.saturating_mul(16) {
                Self::clear(&mut inner);
            }
        }
        if !erased.is_empty() {
            // Cloned out so a hook never runs under a lock of ours.
            let hooks = self
                .hooks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            for person in erased {
                for hook in &hooks {
                    hook(person);
                }
            }
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

    /// `user`'s dashboard sources: each part cached while nothing of its kind happened to
    /// them since, else read again.
    ///
    /// # Errors
    /// Database and decode errors.
    pub async fn dashboard(&self, db: &ReadDb, subject: &Subject) -> Result<DashboardSource> {
        let user = subject.id();
        let found = self.lookup(user);
        let source = DashboardSource {
            protocols: match &found.protocols {
                Some(v) => v.clone(),
                None => Arc::new(load_protocols(db, subject).await?),
            },
            doses: match &found.doses {
                Some(v) => v.clone(),
                None => Arc::new(read::dose_log_state(db, subject, None).await?),
            },
            vitals: match &found.vitals {
                Some(v) => v.clone(),
                None => Arc::new(read::latest_vitals(db, subject).await?),
            },
            panel: match &found.panel {
                Some(v) => v.clone(),
                None => Arc::new(read::latest_panel(db, subject).await?),
            },
        };
        if found.protocols.is_none() || found.doses.is_none() || found.vitals.is_none() || found.panel.is_none() {
            self.remember(user, &found, &source);
        }
        Ok(source)
    }

    fn lookup(&self, user: Uuid) -> Lookup {
        let inner = self.lock();
        let newest = inner.newest(user);
        let epoch = inner.epoch;
        let entry = inner.entries.get(&user);
        Lookup {
            epoch,
            // Read before the queries: the rows they return are at least this fresh.
            reached: *self.reached.borrow(),
            protocols: Slot::fresh(
                entry.and_then(|e| e.protocols.as_ref()),
                newest[Part::Protocols as usize],
            ),
            doses: Slot::fresh(entry.and_then(|e| e.doses.as_ref()), newest[Part::Doses as usize]),
            vitals: Slot::fresh(entry.and_then(|e| e.vitals.as_ref()), newest[Part::Vitals as usize]),
            panel: Slot::fresh(entry.and_then(|e| e.panel.as_ref()), newest[Part::Panel as usize]),
        }
    }

    /// Keeps the parts just read, each only if no event of its kind raced with the reads.
    fn remember(&self, user: Uuid, found: &Lookup, source: &DashboardSource) {
        let mut inner = self.lock();
        if inner.epoch != found.epoch {
            return;
        }
        let newest = inner.newest(user);
        let fresh = |part: Part| newest[part as usize] <= found.reached;
        if !inner.entries.contains_key(&user) && inner.entries.len() >= self.capacity {
            inner.entries.clear();
        }
        let entry = inner.entries.entry(user).or_default();
        if found.protocols.is_none() && fresh(Part::Protocols) {
            entry.protocols = found.slot(&source.protocols);
        }
        if found.doses.is_none() && fresh(Part::Doses) {
            entry.doses = found.slot(&source.doses);
        }
        if found.vitals.is_none() && fresh(Part::Vitals) {
            entry.vitals = found.slot(&source.vitals);
        }
        if found.panel.is_none() && fresh(Part::Panel) {
            entry.panel = found.slot(&source.panel);
        }
    }

    /// `user`'s reading `entry` from memory, when their cached latest vitals are fresh and it
    /// is one of them (then it is the row `read::health_log` returns, by the invariant of
    /// `vitals`); `None` means read it. A mutation that records a current reading answers
    /// with it without a query: that read was a round trip on every write.
    pub fn latest_reading(&self, user: Uuid, entry: Uuid) -> Option<HealthLogView> {
        let inner = self.lock();
        let newest = inner.newest(user)[Part::Vitals as usize];
        let vitals = Slot::fresh(inner.entries.get(&user).and_then(|e| e.vitals.as_ref()), newest)?;
        vitals.iter().find(|v| v.entry_id == entry).cloned()
    }

    /// New readings merged into cached vitals so far (for tests and metrics).
    pub fn vitals_merged(&self) -> u64 {
        self.lock().vitals_merged
    }

    /// People with anything cached (for tests and metrics).
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
