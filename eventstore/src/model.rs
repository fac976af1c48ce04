//! The envelope types callers hand to and receive from the store. Plain data: no I/O, no crypto.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Result, StoreError};

/// The subject whose data key seals non-personal system events (for example the erasure
/// ledger). It can never be shredded.
pub const SYSTEM_SUBJECT: Uuid = Uuid::nil();

/// Largest plaintext payload accepted for one event.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Largest number of events in one append.
pub const MAX_EVENTS_PER_APPEND: usize = 10_000;

/// What the caller believes about a stream before appending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version (0 means it does not exist).
    Exact(u64),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

impl ExpectedVersion {
    /// Whether a stream currently at `actual` satisfies this expectation.
    pub fn admits(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exact(v) => actual == v,
        }
    }
}

/// Who caused an append and why; stored in clear and covered by the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Metadata {
    /// Who acted, as an identifier such as `user:<uuid>` or `system:cli`. Never a name or email.
    pub actor: String,
    /// Groups every event caused by one user request.
    pub correlation_id: Option<Uuid>,
    /// The event or command that caused this one.
    pub causation_id: Option<Uuid>,
    /// Client-chosen id of the command; retrying with the same id writes nothing twice.
    pub command_id: Option<Uuid>,
}

impl Metadata {
    /// Metadata with only an actor.
    pub fn actor(actor: impl Into<String>) -> Self {
        Metadata {
            actor: actor.into(),
            ..Metadata::default()
        }
    }

    /// Sets the command id used for idempotent retries.
    pub fn with_command_id(mut self, id: Uuid) -> Self {
        self.command_id = Some(id);
        self
    }
}

/// One event to append: its type, schema version and plaintext JSON payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Stable type name, e.g. `HealthLogRecorded`.
    pub event_type: String,
    /// Version of the payload's schema.
    pub schema_version: u32,
    /// Serialized JSON payload (sealed before it is stored).
    pub payload: Vec<u8>,
}

impl NewEvent {
    /// Serializes `payload` as JSON.
    ///
    /// # Errors
    /// `InvalidInput` when the value cannot be serialized.
    pub fn json<T: Serialize>(event_type: impl Into<String>, schema_version: u32, payload: &T) -> Result<Self> {
        let payload = serde_json::to_vec(payload).map_err(|e| StoreError::invalid("payload", e.to_string()))?;
        Ok(NewEvent {
            event_type: event_type.into(),
            schema_version,
            payload,
        })
    }
}

/// A request to append events to one stream, sealed under one subject's key.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    /// Target stream.
    pub stream: String,
    /// The data subject whose key seals every payload.
    pub subject: Uuid,
    /// Optimistic-concurrency expectation.
    pub expected: ExpectedVersion,
    /// Events, in order.
    pub events: Vec<NewEvent>,
    /// Who and why.
    pub metadata: Metadata,
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendOutcome {
    /// Stream version of the first appended event.
    pub first_version: u64,
    /// Stream version after the append.
    pub last_version: u64,
    /// Global position of the first appended event.
    pub first_position: u64,
    /// Global position of the last appended event.
    pub last_position: u64,
}

/// The clear envelope of a stored event: everything but the payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Envelope {
    /// Gapless global position, in commit order, starting at 1.
    pub position: u64,
    /// uuid v7 assigned by the store.
    pub event_id: Uuid,
    /// Stream id.
    pub stream_id: String,
    /// Version within the stream, starting at 1.
    pub stream_version: u64,
    /// The data subject whose key sealed the payload.
    pub subject: Uuid,
    /// Stable event type name.
    pub event_type: String,
    /// Schema version the payload was written with.
    pub schema_version: u32,
    /// Microseconds since the Unix epoch, stamped by the store.
    pub recorded_at_micros: i64,
    /// Metadata.
    pub actor: String,
    /// Correlation id.
    pub correlation_id: Option<Uuid>,
    /// Causation id.
    pub causation_id: Option<Uuid>,
    /// Command id.
    pub command_id: Option<Uuid>,
    /// The data key that sealed the payload.
    pub key_id: Uuid,
    /// Hash of the previous event (the genesis value for position 1).
    #[serde(serialize_with = "hex_bytes")]
    pub prev_hash: [u8; 32],
    /// Chain hash of this event.
    #[serde(serialize_with = "hex_bytes")]
    pub hash: [u8; 32],
}

fn hex_bytes<S: serde::Serializer>(bytes: &[u8; 32], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

/// A payload as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The decrypted JSON, upcast to the newest schema version known to the store.
    Json {
        /// Schema version of `json` after upcasting.
        schema_version: u32,
        /// The JSON bytes.
        json: Vec<u8>,
    },
    /// The subject was crypto-shredded: the payload can never be read again.
    Erased,
}

/// A stored event with its payload opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Clear envelope.
    pub envelope: Envelope,
    /// Decrypted payload, or `Erased`.
    pub payload: Payload,
}

impl RecordedEvent {
    /// Deserializes the payload; `None` when the subject was erased.
    ///
    /// # Errors
    /// `Corrupt` when the JSON does not match `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>> {
        match &self.payload {
            Payload::Erased => Ok(None),
            Payload::Json { json, .. } => serde_json::from_slice(json)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("payload of {}: {e}", self.envelope.event_type))),
        }
    }
}

/// Checks caller-supplied names before anything reaches the database.
pub(crate) fn validate_request(req: &AppendRequest) -> Result<()> {
    validate_name("stream", &req.stream, 200, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')
    })?;
    if req.events.is_empty() {
        return Err(StoreError::invalid("events", "an append needs at least one event"));
    }
    if req.events.len() > MAX_EVENTS_PER_APPEND {
        return Err(StoreError::invalid(
            "events",
            format!("at most {MAX_EVENTS_PER_APPEND} events per append"),
        ));
    }
    validate_name("actor", &req.metadata.actor, 200, |c| c.is_ascii_graphic())?;
    for event in &req.events {
        validate_name("event_type", &event.event_type, 100, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.')
        })?;
        if event.schema_version == 0 {
            return Err(StoreError::invalid("schema_version", "schema versions start at 1"));
        }
        if event.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(StoreError::invalid("payload", "payload larger than 1 MiB"));
        }
    }
    Ok(())
}

fn validate_name(field: &'static str, value: &str, max: usize, ok: impl Fn(char) -> bool) -> Result<()> {
    if value.is_empty() || value.len() > max {
        return Err(StoreError::invalid(field, format!("must be 1 to {max} characters")));
    }
    if let Some(bad) = value.chars().find(|c| !ok(*c)) {
        return Err(StoreError::invalid(field, format!("character {bad:?} is not allowed")));
    }
    Ok(())
}
