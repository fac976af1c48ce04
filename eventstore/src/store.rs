//! `EventStore`: the public face of the log. Appends go to the single appender task; reads
//! decrypt with the vault's keys and upcast; shredding fences the log, then destroys keys.
//! Must not hold business rules or know HTTP: callers bring events, the store keeps them.

use std::sync::Arc;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use uuid::Uuid;

use crate::appender::{Appender, GroupCommits, GroupCounters, Job};
use crate::crypto::MasterKey;
use crate::db::{self, Db, Location};
use crate::error::{Result, StoreError};
use crate::log;
use crate::model::{
    AppendOutcome, AppendRequest, Envelope, ExpectedVersion, Metadata, NewEvent, RecordedEvent, SYSTEM_SUBJECT,
    validate_request,
};
use crate::recent::RecentRows;
use crate::scan::Scanner;
use crate::upcast::Upcasters;
use crate::vault::{KeyVault, MasterRotation};
use crate::wal::WalCheckpointer;

/// The stream that records every erasure, sealed under the system subject.
pub const ERASURE_LEDGER: &str = "erasure-ledger";
/// Event type of an erasure-ledger entry.
pub const SUBJECT_ERASED: &str = "SubjectErased";

/// How to open a store.
#[derive(Debug)]
pub struct StoreConfig {
    /// SQLite directory or Postgres URL.
    pub location: Location,
    /// The master key that wraps every data key.
    pub master_key: MasterKey,
    /// Upcasting steps applied on every read.
    pub upcasters: Upcasters,
    /// Connections in the log pool (readers; the appender uses one).
    pub pool_size: u32,
}

impl StoreConfig {
    /// A config with default upcasters and pool size.
    pub fn new(location: Location, master_key: MasterKey) -> Self {
        StoreConfig {
            location,
            master_key,
            upcasters: Upcasters::default(),
            pool_size: 8,
        }
    }
}

/// What shredding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShredReport {
    /// The erased subject.
    pub subject: Uuid,
    /// Position of the `SubjectErased` ledger entry.
    pub ledger_position: u64,
    /// Key versions destroyed by this call (0 if an earlier call already destroyed them).
    pub keys_destroyed: u64,
}

struct Inner {
    log: Db,
    vault: Arc<KeyVault>,
    appender: mpsc::Sender<Job>,
    /// Asks the appender to hand its connection back, so that closing the pool can finish.
    release_appender: Arc<Notify>,
    head_rx: watch::Receiver<u64>,
    upcasters: Upcasters,
    listener: Option<tokio::task::JoinHandle<()>>,
    /// Bulk reader of the embedded log (SQLite only; see `scan`).
    scanner: Option<Arc<Scanner>>,
    /// Checkpoints the embedded log's WAL off the appender's commits (SQLite only).
    checkpointer: Option<WalCheckpointer>,
    /// The rows this process committed last, for the subscription (see `recent`).
    recent: Arc<RecentRows>,
    /// How the appender grouped appends (see [`EventStore::group_commits`]).
    groups: Arc<GroupCounters>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(handle) = &self.listener {
            handle.abort();
        }
    }
}

/// An encrypted, hash-chained, shreddable event log. Cheap to clone.
#[derive(Clone)]
pub struct EventStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStore")
    }
}

impl EventStore {
    /// Migrates, connects, checks the master key against the vault, and starts the appender.
    ///
    /// # Errors
    /// `WrongMasterKey` when the key does not match the vault; database and migration errors.
    pub async fn open(config: StoreConfig) -> Result<Self> {
        let pools = db::connect(&config.location, config.pool_size).await?;
        log::ensure_head(&pools.log).await?;
        let vault = Arc::new(KeyVault::open(pools.vault, config.master_key).await?);
        // Finish any shred that fenced the log but stopped before the vault destroyed keys.
        for subject in log::erased_subjects(&pools.log).await? {
            vault.shred(subject).await?;
        }
        // A log from before the Merkle tree gets its tree before anything is appended.
        crate::merkle::backfill(&pools.log).await?;
        let head = log::read_head(&pools.log).await?;
        let (head_tx, head_rx) = watch::channel(head.position);
        let head_tx = Arc::new(head_tx);
        let listener = match &pools.log {
            Db::Postgres(pool) => Some(tokio::spawn(listen(pool.clone(), head_tx.clone(), vault.clone()))),
            Db::Sqlite(_) => None,
        };
        let (scanner, checkpointer) = match &config.location {
            Location::Sqlite(dir) => (
                Some(Scanner::new(dir.join(db::SQLITE_LOG_FILE))),
                Some(WalCheckpointer::spawn(dir.join(db::SQLITE_LOG_FILE))),
            ),
            Location::Postgres(_) => (None, None),
        };
        let release_appender = Arc::new(Notify::new());
        let recent = Arc::new(RecentRows::default());
        let groups = Arc::new(GroupCounters::default());
        let appender = Appender::spawn(
            pools.log.clone(),
            vault.clone(),
            head_tx,
            recent.clone(),
            release_appender.clone(),
            groups.clone(),
        );
        Ok(EventStore {
            inner: Arc::new(Inner {
                log: pools.log,
                vault,
                appender,
                release_appender,
                head_rx,
                upcasters: config.upcasters,
                listener,
                scanner,
                checkpointer,
                recent,
                groups,
            }),
        })
    }

    /// Appends events to a stream under the subject's key.
    ///
    /// # Errors
    /// `Conflict`, `SubjectErased`, `StreamSubjectMismatch`, `CommandIdReused`,
    /// `InvalidInput`, and infrastructure errors. Nothing is written on error.
    #[tracing::instrument(skip_all, fields(stream = %req.stream, events = req.events.len()), err(level = "debug"))]
    pub async fn append(&self, req: AppendRequest) -> Result<AppendOutcome> {
        validate_request(&req)?;
        self.submit(req, None).await
    }

    /// Convenience form of [`EventStore::append`].
    ///
    /// # Errors
    /// As [`EventStore::append`].
    pub async fn append_to(
        &self,
        stream: impl Into<String>,
        subject: Uuid,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        metadata: Metadata,
    ) -> Result<AppendOutcome> {
        self.append(AppendRequest {
            stream: stream.into(),
            subject,
            expected,
            events,
            metadata,
        })
        .await
    }

    async fn submit(&self, req: AppendRequest, fence: Option<Uuid>) -> Result<AppendOutcome> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .appender
            .send(Job { req, fence, reply })
            .await
            .map_err(|_| StoreError::ShuttingDown)?;
        answer.await.map_err(|_| StoreError::ShuttingDown)?
    }

    /// Events of one stream from version `from` (inclusive, versions start at 1).
    ///
    /// # Errors
    /// Decryption, upcast and database errors.
    pub async fn read_stream(&self, stream: &str, from: u64, limit: u64) -> Result<Vec<RecordedEvent>> {
        self.open_rows(log::read_stream(&self.inner.log, stream, from, limit).await?)
            .await
    }

    /// Events of the whole log from position `from` (inclusive, positions start at 1).
    ///
    /// # Errors
    /// Decryption, upcast and database errors.
    pub async fn read_all(&self, from: u64, limit: u64) -> Result<Vec<RecordedEvent>> {
        let Some(scanner) = self.scanner() else {
            return self
                .open_rows(log::read_range(&self.inner.log, from, limit).await?)
                .await;
        };
        // Rows are opened on the threads that read them; only rows whose key is not in
        // memory come back sealed, to be opened once their key is fetched.
        let store = self.clone();
        let opened = scanner
            .read_then(from, limit, Arc::new(move |rows| store.open_with_keys_in_memory(rows)))
            .await?;
        self.finish_opening(opened).await
    }

    /// As [`EventStore::read_all`], but rows this process committed last come from memory
    /// (see `recent`), and then the answer stops where they stop: for a subscriber, which
    /// asks again from where an answer ended.
    ///
    /// # Errors
    /// As [`EventStore::read_all`].
    pub(crate) async fn read_all_recent_first(&self, from: u64, limit: u64) -> Result<Vec<RecordedEvent>> {
        match self.inner.recent.from(from, limit) {
            Some(rows) => self.open_rows(rows).await,
            None => self.read_all(from, limit).await,
        }
    }

    /// Where the append carrying command id `id` landed (its stream and outcome), if one
    /// did: a caller retrying a command answers from this instead of deciding it again.
    ///
    /// # Errors
    /// Database errors.
    pub async fn command_outcome(&self, id: Uuid) -> Result<Option<(String, AppendOutcome)>> {
        log::read_command(&self.inner.log, id).await
    }

    /// Transactions the appender committed since this process opened the store, and the
    /// appends they carried: their ratio is the group commit's size. Plain counters, so an
    /// operator's metrics can read them without the store depending on a metrics crate.
    pub fn group_commits(&self) -> GroupCommits {
        self.inner.groups.read()
    }

    /// Envelopes of the whole log from position `from` (inclusive), payloads left sealed:
    /// for readers that route events by subject and type and must not open anyone's data
    /// (the subscriptions' feed). Rows this process committed last come from memory, so a
    /// page may hold fewer than `limit` rows before the end of the log (it stops where this
    /// process's run stops, and other processes may have appended since): read on from the
    /// last position until the head.
    ///
    /// # Errors
    /// Database errors.
    pub async fn read_envelopes(&self, from: u64, limit: u64) -> Result<Vec<Envelope>> {
        let rows = match self.inner.recent.from(from, limit) {
            Some(rows) => rows,
            None => log::read_range(&self.inner.log, from, limit).await?,
        };
        Ok(rows.into_iter().map(|row| row.env).collect())
    }

    /// Events sealed under one subject's keys, from position `from` (inclusive).
    ///
    /// # Errors
    /// Decryption, upcast and database errors.
    pub async fn read_subject(&self, subject: Uuid, from: u64, limit: u64) -> Result<Vec<RecordedEvent>> {
        self.open_rows(log::read_subject(&self.inner.log, subject, from, limit).await?)
            .await
    }

    /// The last committed position (0 for an empty log).
    ///
    /// # Errors
    /// Database errors.
    pub async fn head_position(&self) -> Result<u64> {
        Ok(log::read_head(&self.inner.log).await?.position)
    }

    /// A receiver of the last committed position, woken on every commit (in this process,
    /// and on Postgres from other processes through LISTEN/NOTIFY).
    pub fn head_watch(&self) -> watch::Receiver<u64> {
        self.inner.head_rx.clone()
    }

    /// Crypto-shreds `subject`: records a `SubjectErased` entry and the fence in the log (so
    /// no process appends for it again), then destroys every version of its data key. Its
    /// events then read as [`crate::Payload::Erased`]; the chain still verifies. Idempotent; its cost
    /// does not depend on how many events the subject had.
    ///
    /// # Errors
    /// `InvalidInput` for the system subject; infrastructure errors (safe to retry).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn shred(&self, subject: Uuid, metadata: Metadata) -> Result<ShredReport> {
        if subject == SYSTEM_SUBJECT {
            return Err(StoreError::invalid("subject", "the system subject cannot be shredded"));
        }
        let entry = NewEvent::json(SUBJECT_ERASED, 1, &serde_json::json!({ "subject": subject }))?;
        let req = AppendRequest {
            stream: ERASURE_LEDGER.into(),
            subject: SYSTEM_SUBJECT,
            expected: ExpectedVersion::Any,
            events: vec![entry],
            metadata: Metadata {
                command_id: None,
                ..metadata
            },
        };
        validate_request(&req)?;
        let outcome = self.submit(req, Some(subject)).await?;
        let keys_destroyed = self.inner.vault.shred(subject).await?;
        if let Db::Postgres(pool) = &self.inner.log {
            // Other processes evict their cached keys now rather than at cache expiry.
            sqlx::query("select pg_notify('vigil_shred', $1)")
                .bind(subject.to_string())
                .execute(pool)
                .await?;
        }
        Ok(ShredReport {
            subject,
            ledger_position: outcome.first_position,
            keys_destroyed,
        })
    }

    /// Starts a new data-key version for `subject`; new events use it, old ones stay readable.
    ///
    /// # Errors
    /// `SubjectErased`, infrastructure errors.
    pub async fn rotate_subject_key(&self, subject: Uuid) -> Result<i32> {
        self.inner.vault.rotate_subject_key(subject).await
    }

    /// Re-wraps every data key under `new_key`; events are not touched. The old master key is
    /// refused afterwards.
    ///
    /// # Errors
    /// `InvalidInput` if `new_key` was used before; `WrongMasterKey`; database errors (the
    /// rotation is one transaction, so nothing changes on error).
    pub async fn rotate_master(&self, new_key: MasterKey) -> Result<MasterRotation> {
        self.inner.vault.rotate_master(new_key).await
    }

    /// Number of live data keys in the vault.
    ///
    /// # Errors
    /// Database errors.
    pub async fn live_key_count(&self) -> Result<i64> {
        self.inner.vault.key_count().await
    }

    pub(crate) fn vault(&self) -> &KeyVault {
        &self.inner.vault
    }

    pub(crate) fn upcasters(&self) -> &Upcasters {
        &self.inner.upcasters
    }

    /// The embedded log's bulk reader (SQLite only).
    pub(crate) fn scanner(&self) -> Option<&Arc<Scanner>> {
        self.inner.scanner.as_ref()
    }

    pub(crate) fn log_db(&self) -> &Db {
        &self.inner.log
    }

    /// A stable 256-bit server secret for one purpose (for example the key of a blind index),
    /// derived from key material that lives only in the vault. Different contexts give
    /// independent secrets.
    ///
    /// # Errors
    /// Vault errors.
    pub async fn system_secret(&self, context: &str) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        self.inner.vault.system_secret(context).await
    }

    /// Stops accepting appends and closes the pools once queued appends finished.
    pub async fn close(self) {
        let inner = self.inner.clone();
        drop(self);
        if let Some(listener) = &inner.listener {
            listener.abort();
        }
        if let Some(checkpointer) = &inner.checkpointer {
            checkpointer.stop().await;
        }
        if let Some(scanner) = &inner.scanner {
            scanner.close();
        }
        inner.release_appender.notify_one();
        inner.log.close().await;
        inner.vault.close().await;
    }
}

/// Follows other processes' commits and shreds on Postgres; reconnects after errors.
async fn listen(pool: sqlx::PgPool, head_tx: Arc<watch::Sender<u64>>, vault: Arc<KeyVault>) {
    loop {
        let result: Result<()> = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen_all(["vigil_events", "vigil_shred"]).await?;
            // Commits that happened while (re)connecting were not notified: catch up once.
            let head = log::read_head(&Db::Postgres(pool.clone())).await?;
            advance(&head_tx, head.position);
            loop {
                let note = listener.recv().await?;
                match note.channel() {
                    "vigil_events" => {
                        if let Ok(position) = note.payload().parse::<u64>() {
                            advance(&head_tx, position);
                        }
                    }
                    _ => {
                        if let Ok(subject) = note.payload().parse::<Uuid>() {
                            vault.forget(subject);
                        }
                    }
                }
            }
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "event notification listener failed; reconnecting");
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

pub(crate) fn advance(head_tx: &watch::Sender<u64>, position: u64) {
    head_tx.send_if_modified(|h| {
        let moved = position > *h;
        *h = (*h).max(position);
        moved
    });
}
