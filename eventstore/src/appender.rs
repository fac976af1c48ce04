//! The single appender task: every write in this process goes through it. It drains whatever
//! requests are queued and commits them in one transaction (group commit), holding the chain
//! head (a row lock on Postgres, the write lock on SQLite) so positions are gapless and in
//! commit order, and each hash links to the one committed before it. Must not serve reads.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::chain::link_hash;
use crate::crypto::{DataKey, SealContext};
use crate::db::{Db, begin_write};
use crate::error::{Result, StoreError};
use crate::log::{self, Head, Lookups, StoredRow, Writes};
use crate::model::{AppendOutcome, AppendRequest, Envelope};
use crate::store::advance;
use crate::time::now_micros;
use crate::vault::KeyVault;

/// Most requests committed together; bounds the latency one transaction adds.
const MAX_JOBS_PER_COMMIT: usize = 512;
/// Most events committed together.
const MAX_EVENTS_PER_COMMIT: usize = 5_000;

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
}

impl Appender {
    pub(crate) fn spawn(db: Db, vault: Arc<KeyVault>, head_tx: Arc<watch::Sender<u64>>) -> mpsc::Sender<Job> {
        let (tx, rx) = mpsc::channel(4096);
        let appender = Appender { db, vault, head_tx };
        tokio::spawn(appender.run(rx));
        tx
    }

    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        while let Some(first) = rx.recv().await {
            let mut events = first.req.events.len();
            let mut jobs = vec![first];
            while jobs.len() < MAX_JOBS_PER_COMMIT && events < MAX_EVENTS_PER_COMMIT {
                match rx.try_recv() {
                    Ok(job) => {
                        events += job.req.events.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(jobs).await;
        }
    }

    /// Commits a group; if the shared transaction fails, retries each job alone so one bad
    /// request cannot fail its neighbours, and each caller gets its own error.
    async fn commit_group(&self, jobs: Vec<Job>) {
        tracing::trace!(jobs = jobs.len(), "group commit");
        let (ready, keys) = self.resolve_keys(jobs).await;
        if ready.is_empty() {
            return;
        }
        match self.commit(&ready, &keys).await {
            Ok((outcomes, head)) => {
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
                        Ok((mut outcomes, head)) => {
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

    async fn commit(
        &self,
        jobs: &[Job],
        keys: &HashMap<Uuid, Arc<DataKey>>,
    ) -> Result<(Vec<Result<AppendOutcome>>, u64)> {
        let streams: Vec<String> = unique(jobs.iter().map(|j| j.req.stream.clone()));
        let mut subjects: Vec<Uuid> = unique(jobs.iter().map(|j| j.req.subject));
        subjects.extend(jobs.iter().filter_map(|j| j.fence));
        let commands: Vec<Uuid> = unique(jobs.iter().filter_map(|j| j.req.metadata.command_id));
        match &self.db {
            Db::Postgres(p) => {
                let mut tx = p.begin_with(begin_write(p)).await?;
                let head = log::lock_head_pg(&mut tx).await?;
                let found = log::lookups_pg(&mut tx, &streams, &subjects, &commands).await?;
                let plan = plan(jobs, keys, head, found)?;
                log::write_pg(&mut tx, &plan.writes()).await?;
                tx.commit().await?;
                Ok((plan.outcomes, plan.head.position))
            }
            Db::Sqlite(p) => {
                let mut tx = p.begin_with(begin_write(p)).await?;
                let (head, found) = log::head_and_lookups_sqlite(&mut tx, &streams, &subjects, &commands).await?;
                let plan = plan(jobs, keys, head, found)?;
                log::write_sqlite(&mut tx, &plan.writes()).await?;
                tx.commit().await?;
                Ok((plan.outcomes, plan.head.position))
            }
        }
    }
}

fn unique<T: Eq + std::hash::Hash + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    items.filter(|i| seen.insert(i.clone())).collect()
}

/// What one transaction will write and what each caller will be told.
struct Plan {
    rows: Vec<StoredRow>,
    commands: Vec<(Uuid, String, AppendOutcome)>,
    fences: Vec<(Uuid, i64, u64)>,
    outcomes: Vec<Result<AppendOutcome>>,
    head: Head,
}

impl Plan {
    fn writes(&self) -> Writes<'_> {
        Writes {
            rows: &self.rows,
            commands: &self.commands,
            fences: &self.fences,
            head: self.head,
        }
    }
}

/// Decides each job in queue order against the state read under the lock, assigning
/// versions, positions, ids and timestamps, sealing payloads and extending the chain.
fn plan(jobs: &[Job], keys: &HashMap<Uuid, Arc<DataKey>>, mut head: Head, mut found: Lookups) -> Result<Plan> {
    // The store's clock, but never behind the head: recorded_at is monotonic along positions.
    head.recorded_at = head.recorded_at.max(now_micros());
    let mut plan = Plan {
        rows: Vec::new(),
        commands: Vec::new(),
        fences: Vec::new(),
        outcomes: Vec::new(),
        head,
    };
    for job in jobs {
        let outcome = plan_one(&mut plan, &mut found, job, keys);
        plan.outcomes.push(outcome);
    }
    Ok(plan)
}

fn plan_one(
    plan: &mut Plan,
    found: &mut Lookups,
    job: &Job,
    keys: &HashMap<Uuid, Arc<DataKey>>,
) -> Result<AppendOutcome> {
    let req = &job.req;
    if let Some(command_id) = req.metadata.command_id
        && let Some((stream, outcome)) = found.commands.get(&command_id)
    {
        return if *stream == req.stream {
            Ok(*outcome)
        } else {
            Err(StoreError::CommandIdReused { command_id })
        };
    }
    if let Some(fenced) = job.fence
        && let Some(position) = found.erased.get(&fenced)
    {
        // Already shredded: report the original ledger entry, write nothing.
        return Ok(AppendOutcome {
            first_version: 0,
            last_version: 0,
            first_position: *position,
            last_position: *position,
        });
    }
    if found.erased.contains_key(&req.subject) {
        return Err(StoreError::SubjectErased { subject: req.subject });
    }
    let tip = found.tips.get(&req.stream).copied();
    if let Some(tip) = tip
        && tip.subject != req.subject
    {
        return Err(StoreError::StreamSubjectMismatch {
            stream: req.stream.clone(),
        });
    }
    let actual = tip.map_or(0, |t| t.version);
    if !req.expected.admits(actual) {
        return Err(StoreError::Conflict {
            stream: req.stream.clone(),
            expected: req.expected,
            actual,
        });
    }
    let key = keys
        .get(&req.subject)
        .ok_or(StoreError::SubjectErased { subject: req.subject })?;
    let first_position = plan.head.position + 1;
    let mut rows = Vec::with_capacity(req.events.len());
    let mut head = plan.head;
    for (i, event) in req.events.iter().enumerate() {
        let offset = i as u64 + 1;
        let mut env = Envelope {
            position: head.position + 1,
            event_id: Uuid::now_v7(),
            stream_id: req.stream.clone(),
            stream_version: actual + offset,
            subject: req.subject,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            recorded_at_micros: head.recorded_at,
            actor: req.metadata.actor.clone(),
            correlation_id: req.metadata.correlation_id,
            causation_id: req.metadata.causation_id,
            command_id: req.metadata.command_id,
            key_id: key.key_id,
            prev_hash: head.hash,
            hash: [0; 32],
        };
        let ctx = SealContext {
            event_id: env.event_id,
            stream_id: &env.stream_id,
            stream_version: env.stream_version,
            event_type: &env.event_type,
            schema_version: env.schema_version,
        };
        let (nonce, ciphertext) = key.seal(&ctx, &event.payload)?;
        env.hash = link_hash(&env.prev_hash, &env, &nonce, &ciphertext);
        head.position = env.position;
        head.hash = env.hash;
        rows.push(StoredRow {
            env,
            nonce: nonce.to_vec(),
            ciphertext,
        });
    }
    let outcome = AppendOutcome {
        first_version: actual + 1,
        last_version: actual + req.events.len() as u64,
        first_position,
        last_position: head.position,
    };
    plan.head = head;
    plan.rows.extend(rows);
    found.tips.insert(
        req.stream.clone(),
        crate::log::Tip {
            version: outcome.last_version,
            subject: req.subject,
        },
    );
    if let Some(command_id) = req.metadata.command_id {
        plan.commands.push((command_id, req.stream.clone(), outcome));
        found.commands.insert(command_id, (req.stream.clone(), outcome));
    }
    if let Some(fenced) = job.fence {
        plan.fences.push((fenced, head.recorded_at, first_position));
        found.erased.insert(fenced, first_position);
    }
    Ok(outcome)
}
