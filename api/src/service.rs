//! The application service: what a GraphQL resolver calls. It turns validated input into
//! domain commands, runs them against the aggregate's stream (read, decide, append with the
//! expected version), waits until read models reached the new events (read-your-writes),
//! and answers queries from read models. Must not know GraphQL or HTTP types.

mod accounts;
pub(crate) mod activity;
pub(crate) mod claims;
mod dashboard;
mod error;
pub(crate) mod live;
mod registration;
mod rejections;
pub(crate) mod sessions;
mod states;
#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;
use vigil_domain::aggregate::{Aggregate, DomainEvent};
use vigil_eventstore::{AppendOutcome, EventStore, ExpectedVersion, Metadata, NewEvent};
use vigil_projections::{IndexKey, ProjectionRunner, ReadDb};

pub use accounts::Tokens;
pub use dashboard::DashboardData;
pub use error::{ApiError, ApiResult};

use crate::access::Gate;
use crate::auth::{PasswordHasher, TokenKey};
use crate::cluster::Cluster;
use crate::maintenance::ReadOnlySwitch;

/// Attempts of a command when another writer moved the stream meanwhile.
const CONFLICT_RETRIES: usize = 3;
/// Events read per page when replaying a stream.
const REPLAY_PAGE: u64 = 1_000;

/// A command's events in the log, the read models not yet waited for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Committed {
    /// Position of the last event appended; the head when the command changed nothing.
    pub position: u64,
    /// The stream's version after the command (its last event's, or the version the command
    /// was decided on when it changed nothing).
    pub version: u64,
    /// Whether anything was appended.
    pub appended: bool,
}

/// Everything a request needs; cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: EventStore,
    db: ReadDb,
    runner: ProjectionRunner,
    index: IndexKey,
    passwords: PasswordHasher,
    tokens: TokenKey,
    live: Arc<live::LiveSessions>,
    maintenance: Arc<ReadOnlySwitch>,
    sockets: Arc<crate::limits::sockets::Connections>,
    states: Arc<states::AggregateStates>,
    recorded: activity::Recorded,
    lag_timeout: Duration,
    gate: Gate,
    feed: crate::feed::Feed,
    /// Mail, once `serve` configured it (commands and benches send none).
    mail: std::sync::OnceLock<crate::mail::Mail>,
}

/// The authenticated person behind a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// Their user id (and data subject).
    pub user: Uuid,
    /// Their session (refresh-token family).
    pub session: Uuid,
    /// Their role, as the store holds it at this request.
    pub role: vigil_domain::account::Role,
}

impl Caller {
    fn metadata(&self) -> Metadata {
        Metadata::actor(format!("user:{}", self.user))
    }
}

impl Service {
    /// Assembles the service. It takes the read database's one subject mint (see
    /// `access::gate`).
    ///
    /// # Errors
    /// When the mint was already taken from this database: another service owns it.
    pub fn new(
        store: EventStore,
        db: ReadDb,
        runner: ProjectionRunner,
        index: IndexKey,
        tokens: TokenKey,
        lag_timeout: Duration,
        cluster: Cluster,
    ) -> anyhow::Result<Self> {
        let Cluster {
            revocations,
            maintenance,
        } = cluster;
        let gate = Gate::new(&db)?;
        let states = Arc::new(states::AggregateStates::default());
        let forget = Arc::clone(&states);
        runner
            .cache()
            .on_erasure(Arc::new(move |subject| forget.forget_subject(subject)));
        let live = Arc::new(live::LiveSessions::new(revocations));
        // Weak: the listener lives inside `live` and must not keep it alive.
        let signalled = Arc::downgrade(&live);
        let switch = Arc::downgrade(&maintenance);
        live.signal().start(
            Arc::new(move |id| {
                if let Some(live) = signalled.upgrade() {
                    live.forget_signalled(id);
                }
            }),
            Arc::new(move || {
                if let Some(switch) = switch.upgrade() {
                    switch.wake();
                }
            }),
        );
        // An erasure made anywhere deletes the person's sessions; forget them here too.
        let erased = Arc::downgrade(&live);
        runner.cache().on_erasure(Arc::new(move |subject| {
            if let Some(live) = erased.upgrade() {
                live.forget_user(subject);
            }
        }));
        let feed = crate::feed::Feed::start(store.clone(), runner.watch());
        Ok(Service {
            inner: Arc::new(Inner {
                feed,
                store,
                db,
                runner,
                index,
                passwords: PasswordHasher::new(),
                tokens,
                live,
                maintenance,
                sockets: Arc::default(),
                states,
                recorded: activity::Recorded::default(),
                lag_timeout,
                gate,
                mail: std::sync::OnceLock::new(),
            }),
        })
    }

    /// Turns mail on for this service (once; `serve` does, with its settings).
    pub fn set_mail(&self, mail: crate::mail::Mail) {
        if self.inner.mail.set(mail).is_err() {
            tracing::warn!("mail was configured twice; the first settings stay");
        }
    }

    /// Mail, when this service sends any.
    pub(crate) fn mail(&self) -> Option<&crate::mail::Mail> {
        self.inner.mail.get()
    }

    /// The access gate (the only maker of read proofs).
    pub(crate) fn gate(&self) -> &Gate {
        &self.inner.gate
    }

    /// The blind-index key.
    pub(crate) fn index(&self) -> &IndexKey {
        &self.inner.index
    }

    /// The token key.
    pub(crate) fn tokens(&self) -> &TokenKey {
        &self.inner.tokens
    }

    /// Open WebSockets per person on this server.
    pub(crate) fn sockets(&self) -> &Arc<crate::limits::sockets::Connections> {
        &self.inner.sockets
    }

    /// The read-only switch as this process last read it.
    pub(crate) fn maintenance(&self) -> &ReadOnlySwitch {
        &self.inner.maintenance
    }

    /// Tells the other processes on Postgres that the switch flipped (SQLite processes
    /// poll the stream).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn announce_maintenance(&self) -> Result<(), vigil_projections::ProjectionError> {
        if self.inner.db.backend() == vigil_projections::Backend::Postgres {
            sqlx::query("select pg_notify('vigil_maintenance', '')")
                .execute(self.inner.db.pool())
                .await?;
        }
        Ok(())
    }

    /// Sessions found live recently.
    pub(crate) fn live(&self) -> &live::LiveSessions {
        &self.inner.live
    }

    /// The read database.
    pub fn db(&self) -> &ReadDb {
        &self.inner.db
    }

    /// The password hasher (argon2id, bounded concurrency).
    pub fn passwords(&self) -> &PasswordHasher {
        &self.inner.passwords
    }

    /// The event store.
    pub fn store(&self) -> &EventStore {
        &self.inner.store
    }

    /// The projection runner.
    pub fn runner(&self) -> &ProjectionRunner {
        &self.inner.runner
    }

    /// Runs `command` (built from the current state) on an aggregate's stream sealed under
    /// `subject`'s key, retrying on a concurrent write, then waits for the read models. A
    /// person's write on their own data is their activity (see `activity`).
    /// Returns the position of the last event (the head position when the command changed
    /// nothing).
    ///
    /// # Errors
    /// The domain's rejection, mapped to a code; `PROJECTION_LAG` when read models did not
    /// catch up in time (the change is saved).
    pub async fn execute<A>(
        &self,
        stream: &str,
        subject: Uuid,
        metadata: Metadata,
        command: impl Fn(&A::State) -> ApiResult<A::Command>,
    ) -> ApiResult<u64>
    where
        A: Aggregate,
        A::State: Send + Sync + 'static,
        A::Event: Serialize + DeserializeOwned,
        ApiError: From<A::Error>,
    {
        let committed = self.commit::<A>(stream, subject, metadata, command).await?;
        self.settled(&committed).await?;
        Ok(committed.position)
    }

    /// [`Service::execute`] without the wait for the read models, for a change whose
    /// consequences outside them (sessions ended, an account created, the access log) must
    /// follow the commit even when they lag: do those, then wait with [`Service::settled`].
    ///
    /// # Errors
    /// The domain's rejection, mapped to a code; store errors.
    pub(crate) async fn commit<A>(
        &self,
        stream: &str,
        subject: Uuid,
        metadata: Metadata,
        command: impl Fn(&A::State) -> ApiResult<A::Command>,
    ) -> ApiResult<Committed>
    where
        A: Aggregate,
        A::State: Send + Sync + 'static,
        A::Event: Serialize + DeserializeOwned,
        ApiError: From<A::Error>,
    {
        if Self::own_write(&metadata, subject) {
            self.touch(subject, time::OffsetDateTime::now_utc().date());
        }
        if let Some(command_id) = metadata.command_id
            && let Some(landed) = self.retried(command_id, stream).await?
        {
            return Ok(landed);
        }
        let states = &self.inner.states;
        let mut attempt = 0;
        // Optimistic first: a remembered state is decided on without reading the stream's
        // tail, because the append's `Exact(version)` refuses it if the stream moved. Only
        // an append is trusted that way: a rejection or a no-op decided on a state that may
        // be behind is decided again on the stream's current state before it is answered.
        let mut check_tail = false;
        loop {
            let (state, version, checked) = match states.take::<A::State>(stream) {
                Some((state, version)) if !check_tail => (state, version, false),
                remembered => {
                    let (state, version) = self.catch_up::<A>(stream, remembered).await?;
                    (state, version, true)
                }
            };
            let events = match command(&state).and_then(|c| A::decide(&state, c).map_err(ApiError::from)) {
                Ok(events) if !events.is_empty() => events,
                nothing => {
                    // Nothing appended: the state is still what it was.
                    states.put(stream, subject, state, version);
                    if !checked {
                        check_tail = true;
                        continue;
                    }
                    if let Err(rejection) = nothing {
                        // A retry racing its own first attempt: the rules now see what that
                        // attempt wrote; its outcome is the answer.
                        if let Some(command_id) = metadata.command_id
                            && let Some(landed) = self.retried(command_id, stream).await?
                        {
                            return Ok(landed);
                        }
                        return Err(rejection);
                    }
                    return Ok(Committed {
                        position: self.inner.store.head_position().await?,
                        version,
                        appended: false,
                    });
                }
            };
            attempt += 1;
            let new_events = events
                .iter()
                .map(|e| NewEvent::json(e.event_type(), e.schema_version(), e))
                .collect::<Result<Vec<_>, _>>()?;
            let expected = if version == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact(version)
            };
            let (count, started) = (new_events.len(), std::time::Instant::now());
            let appended = self
                .inner
                .store
                .append_to(stream, subject, expected, new_events, metadata.clone())
                .await;
            crate::metrics::record::append(started, count, appended.is_ok());
            let outcome: AppendOutcome = match appended {
                Err(vigil_eventstore::StoreError::Conflict { .. }) if attempt < CONFLICT_RETRIES => {
                    // Still a correct prefix: the retry reads only what the other writer added.
                    states.put(stream, subject, state, version);
                    check_tail = true;
                    continue;
                }
                other => other?,
            };
            states.put(
                stream,
                subject,
                events.iter().fold(state, A::evolve),
                outcome.last_version,
            );
            return Ok(Committed {
                position: outcome.last_position,
                version: outcome.last_version,
                appended: true,
            });
        }
    }

    /// When the command `command_id` already landed (a retry, see `idempotency`): where it
    /// landed (the caller waits for the read models). Nothing is decided again: the first outcome
    /// is the answer, even where the rules would now refuse the command (the dose exists).
    ///
    /// # Errors
    /// `CONFLICT` when the id landed on another stream (a client reused a key across
    /// records; the derivation makes this a bug, not a retry); store errors.
    async fn retried(&self, command_id: Uuid, stream: &str) -> ApiResult<Option<Committed>> {
        let Some((landed_on, outcome)) = self.inner.store.command_outcome(command_id).await? else {
            return Ok(None);
        };
        if landed_on != stream {
            return Err(ApiError::Conflict(
                "this Idempotency-Key was used for a different record".into(),
            ));
        }
        Ok(Some(Committed {
            position: outcome.last_position,
            version: outcome.last_version,
            appended: true,
        }))
    }

    /// Waits until the read models include `committed` (nothing to wait for when it
    /// appended nothing).
    ///
    /// # Errors
    /// `PROJECTION_LAG` with the position.
    pub(crate) async fn settled(&self, committed: &Committed) -> ApiResult<()> {
        if committed.appended {
            self.settle(committed.position).await?;
        }
        Ok(())
    }

    /// The current state and version of an aggregate: `start` (a remembered state and its
    /// version, see `states`; nothing replays the whole stream) folded with the stream's
    /// events after it.
    ///
    /// # Errors
    /// Store errors; an undecodable event is `INTERNAL`; an erased one `FORBIDDEN`.
    pub(crate) async fn catch_up<A>(&self, stream: &str, start: Option<(A::State, u64)>) -> ApiResult<(A::State, u64)>
    where
        A: Aggregate,
        A::Event: DeserializeOwned,
    {
        let (mut state, mut version) = start.unwrap_or_default();
        loop {
            let page = self.inner.store.read_stream(stream, version + 1, REPLAY_PAGE).await?;
            let done = (page.len() as u64) < REPLAY_PAGE;
            for recorded in page {
                version = recorded.envelope.stream_version;
                match recorded.decode::<A::Event>()? {
                    Some(event) => state = A::evolve(state, &event),
                    None => return Err(ApiError::Forbidden("this account has been erased")),
                }
            }
            if done {
                return Ok((state, version));
            }
        }
    }

    /// Waits until every read model reached `position` (bounded by the lag timeout).
    ///
    /// # Errors
    /// `PROJECTION_LAG` with the position.
    pub async fn settle(&self, position: u64) -> ApiResult<()> {
        self.inner
            .runner
            .wait_for(position, self.inner.lag_timeout)
            .await
            .map_err(ApiError::from)
    }

    /// The process's one follower of new events, for subscriptions.
    pub fn feed(&self) -> &crate::feed::Feed {
        &self.inner.feed
    }

    /// Stops the projection runner after its batch in flight.
    pub async fn shutdown(&self) {
        self.inner.runner.stop_in_place().await;
    }

    /// Metadata for an append on behalf of `caller`.
    pub fn metadata_for(caller: &Caller) -> Metadata {
        caller.metadata()
    }
}
