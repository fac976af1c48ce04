//! Planning one group commit: decides each queued append in order against the state read
//! (or remembered) at one chain head, assigning versions, positions, ids and timestamps,
//! sealing payloads and extending the hash chain. Pure: must not touch the database, so the
//! same plan can be written by the head-checked or the locked path.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use crate::appender::Job;
use crate::chain::link_hash;
use crate::crypto::{DataKey, NONCE_LEN, SealContext, fill_random};
use crate::error::{Result, StoreError};
use crate::log::{Head, Lookups, StoredRow, Writes};
use crate::model::{AppendOutcome, Envelope};
use crate::time::now_micros;

/// Random bytes per event: its nonce, then the 10 random bytes of its v7 id.
const RANDOM_PER_EVENT: usize = NONCE_LEN + 10;

/// What one transaction will write and what each caller will be told.
pub(crate) struct Plan {
    pub rows: Vec<StoredRow>,
    pub commands: Vec<(Uuid, String, AppendOutcome)>,
    pub fences: Vec<(Uuid, i64, u64)>,
    pub outcomes: Vec<Result<AppendOutcome>>,
    pub head: Head,
    /// The lookups as they stand after this plan: what the log holds once it commits.
    pub found: Lookups,
}

impl Plan {
    pub(crate) fn writes(&self) -> Writes<'_> {
        Writes {
            rows: &self.rows,
            commands: &self.commands,
            fences: &self.fences,
            nodes: &[],
            head: self.head,
        }
    }
}

/// Decides each job in queue order against the state read under the lock, assigning
/// versions, positions, ids and timestamps, sealing payloads and extending the chain.
pub(crate) fn plan(
    jobs: &[Job],
    keys: &HashMap<Uuid, Arc<DataKey>>,
    mut head: Head,
    mut found: Lookups,
) -> Result<Plan> {
    // The store's clock, but never behind the head: recorded_at is monotonic along positions.
    head.recorded_at = head.recorded_at.max(now_micros());
    let mut plan = Plan {
        rows: Vec::new(),
        commands: Vec::new(),
        fences: Vec::new(),
        outcomes: Vec::new(),
        head,
        found: Lookups {
            tips: HashMap::new(),
            erased: HashMap::new(),
            commands: HashMap::new(),
        },
    };
    for job in jobs {
        let outcome = plan_one(&mut plan, &mut found, job, keys);
        plan.outcomes.push(outcome);
    }
    plan.found = found;
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
    // Every nonce and event id of the append from one OS randomness call: a call per event
    // (two, counting `Uuid::now_v7`) was a visible share of a batched append's time.
    let mut random = vec![0u8; req.events.len() * RANDOM_PER_EVENT];
    fill_random(&mut random)?;
    let millis = u64::try_from(head.recorded_at / 1_000).unwrap_or(0);
    for (i, (event, random)) in req.events.iter().zip(random.chunks_exact(RANDOM_PER_EVENT)).enumerate() {
        let offset = i as u64 + 1;
        let (nonce, id_bits) = random.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| StoreError::Corrupt("nonce length".into()))?;
        let id_bits: &[u8; 10] = id_bits
            .try_into()
            .map_err(|_| StoreError::Corrupt("event id length".into()))?;
        let mut env = Envelope {
            position: head.position + 1,
            // A v7 id stamped with the event's own recorded_at (milliseconds).
            event_id: uuid::Builder::from_unix_timestamp_millis(millis, id_bits).into_uuid(),
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
        let ciphertext = key.seal_with_nonce(&ctx, &event.payload, nonce)?;
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
