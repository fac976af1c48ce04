//! What an auditor asks to check the log without trusting the server (issue 16, ADR 0010):
//! the events' envelopes with their chain and leaf hashes (never payloads), inclusion and
//! consistency proofs of the Merkle tree, and the signed checkpoints. Hashes are lowercase
//! hex, as everywhere in the API; the checkpoint notes are the C2SP text served at
//! `/checkpoint/<size>`. Every field is for the `auditor` role; others get `FORBIDDEN`.
//! Must not return a payload or anything decrypted.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object, SimpleObject};
use vigil_domain::account::Role;
use vigil_eventstore::{RecordedCheckpoint, StoreError};

use super::error::{GqlResult, IntoGql};
use super::inputs::rfc3339;
use super::query::{caller, service};
use super::staff::require;
use super::types::Conn;
use crate::service::ApiError;

/// The auditor's queries, merged into the staff queries.
#[derive(Default)]
pub struct AuditQueries;

/// An event's clear envelope: everything but the payload.
#[derive(SimpleObject)]
pub struct EnvelopeOut {
    pub position: u64,
    pub event_id: String,
    pub stream_id: String,
    pub stream_version: u64,
    pub subject: String,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at: String,
    pub actor: String,
    pub key_id: String,
    /// The chain hash of the event before (hex).
    pub prev_hash: String,
    /// The event's chain hash (hex): the Merkle tree's leaf `position - 1` is built on it.
    pub hash: String,
    /// The event's Merkle leaf hash (hex), RFC 9162 `SHA-256(0x00 || hash)`.
    pub leaf_hash: String,
}

/// An inclusion proof (RFC 9162 §2.1.3), hashes in lowercase hex.
#[derive(SimpleObject)]
pub struct InclusionProofOut {
    /// The leaf's index (the event's position - 1).
    pub leaf_index: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// The leaf hash proven.
    pub leaf_hash: String,
    /// The audit path, deepest sibling first.
    pub path: Vec<String>,
    /// The root the path leads to (compare with a signed checkpoint of this size).
    pub root: String,
}

/// A consistency proof (RFC 9162 §2.1.4), hashes in lowercase hex.
#[derive(SimpleObject)]
pub struct ConsistencyProofOut {
    pub from_size: u64,
    pub to_size: u64,
    /// The proof's hashes, in RFC 9162 order (empty when the sizes are equal).
    pub path: Vec<String>,
    /// The root of the first `fromSize` events.
    pub from_root: String,
    /// The root of the first `toSize` events.
    pub to_root: String,
}

/// A signed checkpoint as recorded.
#[derive(SimpleObject)]
pub struct CheckpointOut {
    /// The tree size (positions 1..=size).
    pub size: u64,
    /// The Merkle root (hex).
    pub root: String,
    /// The C2SP signed note (origin, size, base64 root, signature lines), as served at
    /// `/checkpoint/<size>`.
    pub note: String,
    /// When it was signed, RFC 3339.
    pub signed_at: String,
}

impl From<RecordedCheckpoint> for CheckpointOut {
    fn from(c: RecordedCheckpoint) -> Self {
        CheckpointOut {
            size: c.size,
            root: hex::encode(c.root),
            note: c.note,
            signed_at: at(c.signed_at_micros),
        }
    }
}

fn at(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map(rfc3339)
        .unwrap_or_default()
}

/// Store errors of proofs, named by the argument at fault.
fn proof_error(e: StoreError, size_arg: &'static str, other_arg: &'static str) -> ApiError {
    match e {
        e @ StoreError::TreeSizeBeyondLog { .. } => ApiError::bad(size_arg, e),
        e @ (StoreError::LeafIndexBeyondSize { .. } | StoreError::NoConsistencyProof { .. }) => {
            ApiError::bad(other_arg, e)
        }
        other => ApiError::from(other),
    }
}

/// Up to `first` (1..=1000, default 100) envelopes from position `from`, for auditors.
pub(super) async fn envelopes(ctx: &Context<'_>, from: u64, first: Option<i32>) -> GqlResult<Vec<EnvelopeOut>> {
    let c = caller(ctx)?;
    require(&c, &[Role::Auditor], "only auditors read the log's envelopes")?;
    let first = first.unwrap_or(100);
    if !(1..=1000).contains(&first) {
        return Err(ApiError::bad("first", "between 1 and 1000")).gql();
    }
    let events = service(ctx)?
        .store()
        .read_all(from.max(1), u64::try_from(first).unwrap_or(100))
        .await
        .map_err(ApiError::from)
        .gql()?;
    Ok(events
        .into_iter()
        .map(|e| {
            let v = e.envelope;
            EnvelopeOut {
                position: v.position,
                event_id: v.event_id.to_string(),
                stream_id: v.stream_id,
                stream_version: v.stream_version,
                subject: v.subject.to_string(),
                event_type: v.event_type,
                schema_version: v.schema_version,
                recorded_at: at(v.recorded_at_micros),
                actor: v.actor,
                key_id: v.key_id.to_string(),
                prev_hash: hex::encode(v.prev_hash),
                leaf_hash: hex::encode(vigil_eventstore::leaf_of(&v.hash)),
                hash: hex::encode(v.hash),
            }
        })
        .collect())
}

#[Object]
impl AuditQueries {
    /// Auditors: the log's envelopes from position `from` (default 1), `first` of them (1 to
    /// 1000, default 100), with their chain and Merkle leaf hashes; never payloads.
    #[graphql(complexity = "crate::graphql::page_weight(first, 100) * child_complexity")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        from: Option<u64>,
        first: Option<i32>,
    ) -> GqlResult<Vec<EnvelopeOut>> {
        envelopes(ctx, from.unwrap_or(1), first).await
    }

    /// Auditors: the proof that the event at `position` (1-based) is in the tree of the first
    /// `treeSize` events. `BAD_USER_INPUT` names `treeSize` beyond the log, `position`
    /// outside 1..=treeSize.
    async fn inclusion_proof(&self, ctx: &Context<'_>, position: u64, tree_size: u64) -> GqlResult<InclusionProofOut> {
        let c = caller(ctx)?;
        require(&c, &[Role::Auditor], "only auditors read proofs")?;
        if position == 0 || position > tree_size {
            return Err(ApiError::bad("position", "between 1 and treeSize")).gql();
        }
        let store = service(ctx)?.store();
        let leaf_index = position - 1;
        let path = store
            .inclusion_proof(leaf_index, tree_size)
            .await
            .map_err(|e| proof_error(e, "treeSize", "position"))
            .gql()?;
        let root = store.tree_root(tree_size).await.map_err(ApiError::from).gql()?;
        let event = store
            .read_all(position, 1)
            .await
            .map_err(ApiError::from)
            .gql()?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no event at position {position}")))
            .gql()?;
        Ok(InclusionProofOut {
            leaf_index,
            tree_size,
            leaf_hash: hex::encode(vigil_eventstore::leaf_of(&event.envelope.hash)),
            path: path.iter().map(hex::encode).collect(),
            root: hex::encode(root),
        })
    }

    /// Auditors: the proof that the tree of the first `fromSize` events is a prefix of the
    /// tree of the first `toSize`. `BAD_USER_INPUT` names `toSize` beyond the log, `fromSize`
    /// of 0 or above `toSize`.
    async fn consistency_proof(
        &self,
        ctx: &Context<'_>,
        from_size: u64,
        to_size: u64,
    ) -> GqlResult<ConsistencyProofOut> {
        let c = caller(ctx)?;
        require(&c, &[Role::Auditor], "only auditors read proofs")?;
        let store = service(ctx)?.store();
        let path = store
            .consistency_proof(from_size, to_size)
            .await
            .map_err(|e| proof_error(e, "toSize", "fromSize"))
            .gql()?;
        let from_root = store.tree_root(from_size).await.map_err(ApiError::from).gql()?;
        let to_root = store.tree_root(to_size).await.map_err(ApiError::from).gql()?;
        Ok(ConsistencyProofOut {
            from_size,
            to_size,
            path: path.iter().map(hex::encode).collect(),
            from_root: hex::encode(from_root),
            to_root: hex::encode(to_root),
        })
    }

    /// Auditors: the signed checkpoints, largest tree first, `first` (1 to 100, default 20)
    /// after the cursor `after`.
    #[graphql(complexity = "crate::graphql::page_weight(first, 20) * child_complexity")]
    async fn checkpoints(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Conn<CheckpointOut>> {
        let c = caller(ctx)?;
        require(&c, &[Role::Auditor], "only auditors list checkpoints")?;
        let page = super::query::page(first, after)?;
        // The cursor's time is the size of the last checkpoint seen.
        let before = match &page.after {
            Some(cursor) => Some(
                u64::try_from(cursor.at)
                    .map_err(|_| ApiError::bad("after", "after is not a valid cursor"))
                    .gql()?,
            ),
            None => None,
        };
        let mut rows = service(ctx)?
            .store()
            .checkpoints_before(before, page.first + 1)
            .await
            .map_err(ApiError::from)
            .gql()?;
        let more = rows.len() > page.first as usize;
        rows.truncate(page.first as usize);
        let mut conn = Connection::new(before.is_some(), more);
        conn.edges.extend(rows.into_iter().map(|cp| {
            let cursor = vigil_projections::read::Cursor {
                at: i64::try_from(cp.size).unwrap_or(i64::MAX),
                id: "0".into(),
            };
            Edge::new(cursor.encode(), CheckpointOut::from(cp))
        }));
        Ok(conn)
    }
}
