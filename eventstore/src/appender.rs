//! The single appender task: every write in this process goes through it. It drains whatever
//! requests are queued and commits them in one transaction (group commit), holding the chain
//! head (a row lock on Postgres, the write lock on SQLite) so positions are gapless and in
//! commit order, and each hash links to the one committed before it. Must not serve reads.
//!
//! Two ways to commit a group. The head-checked path plans on what this task remembers from
//! its own commits ([`Known`]) and sends one statement that writes only if the head has not
//! moved (one round trip; a snapshot lookup first when a stream or subject is new to it). The
//! locked path (take the head lock, look everything up, write, commit) is taken when another
//! process moved the head or the checked write was refused, and is always correct on its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, Postgres};
use sqlx::sqlite::{Sqlite, SqlitePool};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use uuid::Uuid;
use vigil_proofs::merkle::CompactRange;

use crate::checked;
use crate::crypto::DataKey;
use crate::db::{Db, Dialect};
use crate::error::{Result, StoreError};
use crate::known::Known;
use crate::log::{self, StoredRow};
use crate::merkle::{self, TreeConn};
use crate::model::{AppendOutcome, AppendRequest};
use crate::plan::plan;
use crate::recent::RecentRows;
use crate::store::advance;
use crate::vault::KeyVault;

mod gather;
use gather::gather;

/// One queued append. `fence` marks the erasure-ledger entry that shreds a subject: it is
/// written with the fence row in the same transaction, and skipped if the fence exists.
pub(crate) struct Job {
    pub req: AppendRequest,
    pub fence: Option<Uuid>,
    pub reply: oneshot::Sender<Result<AppendOutcome>>,
}

pub(crate) struct Appender {
    db: Db,
    vault: Arc<KeyVault>,
    head_tx: Arc<watch::Sender<u64>>,
    /// Where committed rows go for subscribers, before the head moves past them.
    recent: Arc<RecentRows>,
    /// Groups committed and the appends they carried (`EventStore::group_commits`).
    counters: Arc<GroupCounters>,
    /// The appender's own connection, kept between groups: taking one from the pool for each
    /// group costs a ping round trip.
    conn: Option<Conn>,
    /// What the last commit (or snapshot) showed; lets a group skip the lookups.
    known: Option<Known>,
    /// The Merkle tree's right edge at some size (the last commit's, or loaded): a group
    /// planned on that size extends it without reading; any other size loads it first.
    edge: Option<CompactRange>,
}

enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// The keys a group reads: its streams, its subjects (and fenced ones), its command ids.
struct Needs {
    streams: Vec<String>,
    subjects: Vec<Uuid>,
    commands: Vec<Uuid>,
}

/// How appends were grouped: transactions committed, and the appends they carried. Plain
/// counters read by whoever reports on the store (`vigil serve`'s metrics read them at each
/// scrape): the store itself depends on no metrics crate.
#[derive(Debug, Default)]
pub struct GroupCounters {
    groups: AtomicU64,
    appends: AtomicU64,
}

/// A reading of [`GroupCounters`], since the store was opened by this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommits {
    /// Transactions that committed appends (a group, or one append retried alone).
    pub groups: u64,
    /// Appends those transactions carried.
    pub appends: u64,
}

impl GroupCounters {
    fn committed(&self, appends: usize) {
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.appends
            .fetch_add(u64::try_from(appends).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn read(&self) -> GroupCommits {
        GroupCommits {
            groups: self.groups.load(Ordering::Relaxed),
            appends: self.appends.load(Ordering::Relaxed),
        }
    }
}

/// The callers' outcomes, the new head position and the rows written.
type Committed = (Vec<Result<AppendOutcome>>, u64, Vec<StoredRow>);

impl Appender {
    /// Starts the task. `release` makes it hand its connection back to the pool (so the pool
    /// can close); it takes a new one if more work arrives.
    pub(crate) fn spawn(
        db: Db,
        vault: Arc<KeyVault>,
        head_tx: Arc<watch::Sender<u64>>,
        recent: Arc<RecentRows>,
        release: Arc<Notify>,
        counters: Arc<GroupCounters>,
    ) -> mpsc::Sender<Job> {
        let (tx, rx) = mpsc::channel(4096);
        let appender = Appender {
            db,
            vault,
            head_tx,
            recent,
            counters,
            conn: None,
            known: None,
            edge: None,
        };
        tokio::spawn(appender.run(rx, release));
        tx
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Job>, release: Arc<Notify>) {
        let mut last_group = 1;
        loop {
            let first = tokio::select! {
                job = rx.recv() => match job {
                    Some(job) => job,
                    None => break,
                },
                () = release.notified() => {
                    self.conn = None;
                    continue;
                }
            };
            let jobs = gather(&mut rx, first, last_group > 1).await;
            last_group = jobs.len();
            self.commit_group(jobs).await;
        }
    }

    /// Commits a group; if the shared transaction fails, retries each job alone so one bad
    /// request cannot fail its neighbours, and each caller gets its own error.
    async fn commit_group(&mut self, jobs: Vec<Job>) {
        tracing::trace!(jobs = jobs.len(), "group commit");
        let (ready, keys) = self.resolve_keys(jobs).await;
        if ready.is_empty() {
            return;
        }
        match self.commit(&ready, &keys).await {
            Ok((outcomes, head, rows)) => {
                self.recent.committed(rows);
                self.counters.committed(ready.len());
                for (job, outcome) in ready.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
                advance(&self.head_tx, head);
            }
            Err(group_error) if ready.len() == 1 => {
                if let Some(job) = ready.into_iter().next() {
                    let _ = job.reply.send(Err(group_error));
                }
            }
            Err(group_error) => {
                tracing::warn!(error = %group_error, jobs = ready.len(), "group commit failed; retrying appends one by one");
                for job in ready {
                    let single = [job];
                    let result = self.commit(&single, &keys).await;
                    let [job] = single;
                    match result {
                        Ok((mut outcomes, head, rows)) => {
                            self.recent.committed(rows);
                            self.counters.committed(1);
                            let _ = job.reply.send(outcomes.pop().unwrap_or(Err(StoreError::ShuttingDown)));
                            advance(&self.head_tx, head);
                        }
                        Err(e) => {
                            let _ = job.reply.send(Err(e));
                        }
                    }
                }
            }
        }
    }

    /// Fetches (or creates) each subject's active key before taking the log lock; jobs for
    /// subjects the vault refuses are answered right away.
    async fn resolve_keys(&self, jobs: Vec<Job>) -> (Vec<Job>, HashMap<Uuid, Arc<DataKey>>) {
        let mut keys = HashMap::new();
        let mut ready = Vec::with_capacity(jobs.len());
        for job in jobs {
            let subject = job.req.subject;
            if let std::collections::hash_map::Entry::Vacant(slot) = keys.entry(subject) {
                match self.vault.active_key(subject).await {
                    Ok(key) => {
                        slot.insert(key);
                    }
                    Err(e) => {
                        let _ = job.reply.send(Err(e));
                        continue;
                    }
                }
            }
            ready.push(job);
        }
        (ready, keys)
    }

    /// Tries the head-checked path, and takes the locked path when another process moved the
    /// head or the checked write was refused (say a command id that is not new after all).
    async fn commit(&mut self, jobs: &[Job], keys: &HashMap<Uuid, Arc<DataKey>>) -> Result<Committed> {
        let streams: Vec<String> = unique(jobs.iter().map(|j| j.req.stream.clone()));
        let mut subjects: Vec<Uuid> = unique(jobs.iter().map(|j| j.req.subject));
        subjects.extend(jobs.iter().filter_map(|j| j.fence));
        let commands: Vec<Uuid> = unique(jobs.iter().filter_map(|j| j.req.metadata.command_id));
        let needs = Needs {
            streams,
            subjects,
            commands,
        };
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => Conn::acquire(&self.db).await?,
        };
        let checked = self.commit_checked(&mut conn, jobs, keys, &needs).await;
        let result = match checked {
            Ok(Some(done)) => Ok(done),
            Ok(None) => self.commit_locked(&mut conn, jobs, keys, &needs).await,
            // The server refused the statement, so it wrote nothing: the locked path decides.
            Err(StoreError::Database(sqlx::Error::Database(e))) => {
                tracing::debug!(error = %e, "head-checked write refused; taking the locked path");
                self.known = None;
                conn = conn.after_refusal().await?;
                self.commit_locked(&mut conn, jobs, keys, &needs).await
            }
            Err(e) => Err(e),
        };
        match &result {
            Ok(_) => self.conn = Some(conn),
            Err(_) => {
                // The connection's state is unknown (a transaction may be open): replace it.
                self.known = None;
                conn.close().await;
            }
        }
        result
    }

    /// Plans on what is known (looking up only what is not) and writes with the head check.
    /// `Ok(None)`: the head moved, nothing was written.
    async fn commit_checked(
        &mut self,
        conn: &mut Conn,
        jobs: &[Job],
        keys: &HashMap<Uuid, Arc<DataKey>>,
        needs: &Needs,
    ) -> Result<Option<Committed>> {
        let mut remembered = self.known.take();
        let (mut looked_up, mut must_look_up) = (false, false);
        let (known, plan) = loop {
            let known = match remembered.take() {
                Some(known) if !must_look_up && known.covers(&needs.streams, &needs.subjects) => {
                    (known, HashMap::new())
                }
                remembered => {
                    let (head, found) = match conn {
                        Conn::Sqlite(c) => {
                            log::head_and_lookups_sqlite(c, &needs.streams, &needs.subjects, &needs.commands).await?
                        }
                        Conn::Postgres(c) => {
                            checked::snapshot_pg(c, &needs.streams, &needs.subjects, &needs.commands).await?
                        }
                    };
                    let mut known = match remembered {
                        Some(k) if k.head.position == head.position => k,
                        _ => Known::new(head),
                    };
                    known.learn(head, &needs.streams, &needs.subjects, &found);
                    looked_up = true;
                    (known, found.commands)
                }
            };
            let (known, commands) = known;
            let mut found = known.lookups(&needs.streams, &needs.subjects);
            found.commands = commands;
            let plan = plan(jobs, keys, known.head, found)?;
            // A refused append whose command id was not looked up may be a retry whose
            // original outcome is due instead; only the commands table can tell.
            let unsure = jobs
                .iter()
                .zip(&plan.outcomes)
                .any(|(j, o)| o.is_err() && j.req.metadata.command_id.is_some());
            if unsure && !looked_up {
                must_look_up = true;
                remembered = Some(known);
                continue;
            }
            break (known, plan);
        };
        let mut known = known;
        let mut edge = merkle::edge_at(&mut self.edge, &mut conn.tree(), known.head.position).await?;
        let nodes = merkle::extend(&mut edge, &plan.rows)?;
        let mut writes = plan.writes();
        writes.nodes = &nodes;
        let applied = match conn {
            Conn::Sqlite(c) => checked::write_sqlite(c, &writes, known.head.position).await?,
            Conn::Postgres(c) => checked::write_pg(c, &writes, known.head.position).await?,
        };
        if !applied {
            return Ok(None);
        }
        self.edge = Some(edge);
        known.learn(plan.head, &needs.streams, &needs.subjects, &plan.found);
        self.known = Some(known);
        Ok(Some((plan.outcomes, plan.head.position, plan.rows)))
    }

    /// The path that always works: take the head lock, look everything up, write, commit.
    async fn commit_locked(
        &mut self,
        conn: &mut Conn,
        jobs: &[Job],
        keys: &HashMap<Uuid, Arc<DataKey>>,
        needs: &Needs,
    ) -> Result<Committed> {
        self.known = None;
        let plan = match conn {
            Conn::Postgres(c) => {
                let mut tx = c.begin_with(<PgPool as Dialect>::BEGIN_WRITE).await?;
                let head = log::lock_head_pg(&mut tx).await?;
                let found = log::lookups_pg(&mut tx, &needs.streams, &needs.subjects, &needs.commands).await?;
                let plan = plan(jobs, keys, head, found)?;
                let mut edge = merkle::edge_at(&mut self.edge, &mut TreeConn::Pg(&mut tx), head.position).await?;
                let nodes = merkle::extend(&mut edge, &plan.rows)?;
                let mut writes = plan.writes();
                writes.nodes = &nodes;
                if !checked::write_pg(&mut tx, &writes, head.position).await? {
                    return Err(StoreError::Corrupt("the locked chain head moved".into()));
                }
                tx.commit().await?;
                self.edge = Some(edge);
                plan
            }
            Conn::Sqlite(c) => {
                let mut tx = c.begin_with(<SqlitePool as Dialect>::BEGIN_WRITE).await?;
                let (head, found) =
                    log::head_and_lookups_sqlite(&mut tx, &needs.streams, &needs.subjects, &needs.commands).await?;
                let plan = plan(jobs, keys, head, found)?;
                let mut edge = merkle::edge_at(&mut self.edge, &mut TreeConn::Sqlite(&mut tx), head.position).await?;
                let nodes = merkle::extend(&mut edge, &plan.rows)?;
                let mut writes = plan.writes();
                writes.nodes = &nodes;
                log::write_sqlite(&mut tx, &writes).await?;
                tx.commit().await?;
                self.edge = Some(edge);
                plan
            }
        };
        let mut known = Known::new(plan.head);
        known.learn(plan.head, &needs.streams, &needs.subjects, &plan.found);
        self.known = Some(known);
        Ok((plan.outcomes, plan.head.position, plan.rows))
    }
}

impl Conn {
    fn tree(&mut self) -> TreeConn<'_> {
        match self {
            Conn::Sqlite(c) => TreeConn::Sqlite(c),
            Conn::Postgres(c) => TreeConn::Pg(c),
        }
    }

    async fn acquire(db: &Db) -> Result<Conn> {
        Ok(match db {
            Db::Sqlite(p) => Conn::Sqlite(p.acquire().await?),
            Db::Postgres(p) => Conn::Postgres(p.acquire().await?),
        })
    }

    /// After a refused checked write: on SQLite the multi-statement call stopped inside its
    /// transaction, so roll it back ("no transaction" is fine: it failed before `begin`).
    /// A connection that cannot roll back is replaced.
    async fn after_refusal(self) -> Result<Conn> {
        let Conn::Sqlite(mut c) = self else { return Ok(self) };
        match sqlx::query("rollback").execute(&mut *c).await {
            Ok(_) => Ok(Conn::Sqlite(c)),
            Err(sqlx::Error::Database(e)) if e.message().contains("no transaction") => Ok(Conn::Sqlite(c)),
            Err(e) => {
                let _ = c.close().await;
                Err(e.into())
            }
        }
    }

    async fn close(self) {
        // Closing (not returning) it: the pool opens a fresh one when needed.
        match self {
            Conn::Sqlite(c) => {
                let _ = c.close().await;
            }
            Conn::Postgres(c) => {
                let _ = c.close().await;
            }
        }
    }
}

fn unique<T: Eq + std::hash::Hash + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    items.filter(|i| seen.insert(i.clone())).collect()
}
