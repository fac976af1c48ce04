//! Session revocations, announced to every process sharing the store (the same Postgres
//! listener also carries the read-only switch's notices, see `maintenance::switch`).
//!
//! Each process remembers sessions it found live for a moment (`service::live`), so a
//! revocation made by one process must reach the others' memories before their next request.
//! - **Postgres**: the revoking transaction also runs `pg_notify('vigil_sessions', id)`, so the
//!   notice is delivered exactly when the revocation commits. Each process listens on its own
//!   connection. A memory is trusted only while that connection has been listening without a
//!   break since the memory was made (the connection's *generation*): a dropped connection
//!   may have missed notices, so everything remembered before it counts as unchecked.
//! - **SQLite**: the revoking process overwrites `sessions.signal` in the data directory with
//!   fresh random bytes after the commit; a memory is trusted only while the file holds the
//!   bytes it held when the memory was made. Reading it is one `pread` (no database round
//!   trip), so every remembered answer is checked against it.
//! - **One process** (tests, benches): nothing to announce.
//!
//! On SQLite the check is strict (the file is written before the revocation is answered). On
//! Postgres the notice reaches every listener at commit but is handled by each process's task
//! a moment later, so under load another node may serve one more request in that window
//! (milliseconds; `service::live::LIVE_FOR` bounds it).
//!
//! Carries only ids (a family or a user), never tokens.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::PgListener;
use uuid::Uuid;
use vigil_eventstore::{Location, redact_url};

/// The Postgres channel of revocation notices; the payload is a family or a user id.
pub const CHANNEL: &str = "vigil_sessions";
/// The SQLite signal file, in the data directory.
pub const SIGNAL_FILE: &str = "sessions.signal";
/// Pause before reconnecting a listener that failed.
const RECONNECT_AFTER: Duration = Duration::from_millis(250);

/// What memories of live sessions are checked against. An epoch of `None` trusts nothing.
#[derive(Clone)]
pub enum Revocations {
    /// A single process: every revocation is made here and forgets at once.
    Process,
    /// SQLite: the signal file's current bytes.
    File(Arc<File>),
    /// Postgres: the listening connection's generation (0 while not listening).
    Notify(Arc<Listening>),
}

/// A running Postgres listener's state.
pub struct Listening {
    url: String,
    generation: AtomicU64,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(task) = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

/// Called when the read-only switch was flipped somewhere (read the stream again).
pub type Flipped = Arc<dyn Fn() + Send + Sync>;

/// Receives the ids named by other processes' revocations (`None`: forget everything).
pub type Forget = Arc<dyn Fn(Option<Uuid>) + Send + Sync>;

impl Revocations {
    /// The signal for `location`; on Postgres, silent (trusting nothing) until
    /// [`Revocations::start`].
    ///
    /// # Errors
    /// When the signal file cannot be opened or created.
    pub fn for_location(location: &Location) -> anyhow::Result<Revocations> {
        Ok(match location {
            Location::Sqlite(dir) => Revocations::File(Arc::new(open_signal(dir)?)),
            Location::Postgres(url) => Revocations::Notify(Arc::new(Listening {
                url: url.clone(),
                generation: AtomicU64::new(0),
                task: std::sync::Mutex::new(None),
            })),
        })
    }

    /// On Postgres, starts listening (once): `forget` gets each revocation notice's id, and
    /// `None` (forget everything) whenever the listener (re)connects; `flipped` is called for
    /// each maintenance notice and at each (re)connect. Elsewhere nothing to do.
    pub fn start(&self, forget: Forget, flipped: Flipped) {
        if let Revocations::Notify(listening) = self {
            let mut task = listening.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if task.is_none() {
                *task = Some(tokio::spawn(listen(
                    listening.url.clone(),
                    Arc::downgrade(listening),
                    forget,
                    flipped,
                )));
            }
        }
    }

    /// The value a memory made now must still find to be trusted; `None`: trust nothing now.
    pub fn epoch(&self) -> Option<u128> {
        match self {
            Revocations::Process => Some(0),
            Revocations::File(file) => {
                let mut bytes = [0u8; 16];
                // A short or failed read trusts nothing: the caller asks the database.
                let n = file.read_at(&mut bytes, 0).ok()?;
                (n == bytes.len()).then(|| u128::from_le_bytes(bytes))
            }
            Revocations::Notify(listening) => match listening.generation.load(Ordering::Acquire) {
                0 => None,
                generation => Some(u128::from(generation)),
            },
        }
    }

    /// Tells the other processes sharing a SQLite data directory that a revocation has
    /// committed. (On Postgres the revoking transaction notifies; see [`notify_sql`].)
    ///
    /// # Errors
    /// When the signal file cannot be written: the caller must not report the revocation as
    /// in force everywhere.
    pub fn announce(&self) -> std::io::Result<()> {
        if let Revocations::File(file) = self {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
            file.write_all_at(&bytes, 0)?;
        }
        Ok(())
    }
}

/// The statement that notifies every listening process, run inside the revoking transaction.
pub const NOTIFY_SQL: &str = "select pg_notify('vigil_sessions', $1)";

fn open_signal(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join(SIGNAL_FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open the session signal file {}: {e}", path.display()))?;
    // A fresh file has no bytes yet: give it some, so memories can be trusted at all. Two
    // processes doing this at once both write random bytes; either result is a valid epoch.
    if file.metadata()?.len() < 16 {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        file.write_all_at(&bytes, 0)?;
    }
    Ok(file)
}

/// Listens for notices until the owner is gone; reconnects after any failure, forgetting
/// everything each time, because notices sent meanwhile are lost.
async fn listen(url: String, listening: std::sync::Weak<Listening>, forget: Forget, flipped: Flipped) {
    let mut generation = 0u64;
    loop {
        let result: Result<(), sqlx::Error> = async {
            let mut listener = PgListener::connect(&url).await?;
            listener
                .listen_all([CHANNEL, crate::maintenance::switch::CHANNEL])
                .await?;
            generation += 1;
            let Some(state) = listening.upgrade() else {
                return Ok(());
            };
            forget(None);
            flipped();
            state.generation.store(generation, Ordering::Release);
            drop(state);
            loop {
                // `None`: the connection dropped (sqlx would reconnect, but notices sent in
                // between are lost, so start over as a new generation).
                let Some(notice) = listener.try_recv().await? else {
                    return Ok(());
                };
                if notice.channel() == CHANNEL {
                    // A payload that is not an id forgets everything.
                    forget(Uuid::parse_str(notice.payload()).ok());
                } else {
                    flipped();
                }
            }
        }
        .await;
        let Some(state) = listening.upgrade() else { return };
        state.generation.store(0, Ordering::Release);
        drop(state);
        forget(None);
        if let Err(e) = result {
            tracing::warn!(error = %e, url = %redact_url(&url), "session revocation listener failed; reconnecting");
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}
