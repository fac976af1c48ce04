//! The access log, media records and raw events as exported. Must not: show a staff member's
//! id (the person sees role and handle, as in `accessLog`), or a sign-in secret.

use serde::Serialize;
use serde_json::value::RawValue;
use vigil_domain::media::MediaRecord;
use vigil_domain::values::MediaId;
use vigil_eventstore::{Payload, RecordedEvent};
use vigil_projections::read::AccessEntry;

use super::{name_of, rfc3339};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Access {
    pub position: i64,
    pub at: String,
    pub kind: String,
    pub actor_role: Option<String>,
    pub actor_handle: Option<String>,
    pub query: Option<String>,
    pub fields: Vec<String>,
    pub grant_id: Option<String>,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

impl From<&AccessEntry> for Access {
    fn from(e: &AccessEntry) -> Self {
        // The staff member's id stays with auditors, as in `accessLog`.
        Access {
            position: e.position,
            at: rfc3339(e.at),
            kind: e.kind.clone(),
            actor_role: e.actor_role.as_ref().map(|r| r.name().to_owned()),
            actor_handle: e.actor_handle.clone(),
            query: e.query.clone(),
            fields: e.fields.clone(),
            grant_id: e.grant_id.clone(),
            reason: e.reason.clone(),
            detail: e.detail.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub id: String,
    pub kind: String,
    pub blob_ref: String,
    pub content_hash: String,
    pub taken_at: Option<String>,
    pub faces_redacted: bool,
    pub removed: bool,
}

impl Media {
    pub fn new(id: &MediaId, m: &MediaRecord) -> Self {
        Media {
            id: name_of(id),
            kind: name_of(&m.kind),
            blob_ref: name_of(&m.blob_ref),
            content_hash: name_of(&m.content_hash),
            taken_at: m.taken_at.map(rfc3339),
            faces_redacted: m.faces_redacted,
            removed: m.removed,
        }
    }
}

/// Why an event's payload is not in the export.
pub const WITHHELD_SECRET: &str = "secret";
pub const WITHHELD_ERASED: &str = "erased";

/// One event of the person's own history, as stored: the envelope in clear, the payload
/// decrypted, and the chain hashes to hold against a published checkpoint.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub position: u64,
    pub event_id: String,
    pub stream_id: String,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at: String,
    pub actor: String,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub key_id: String,
    pub prev_hash: String,
    pub hash: String,
    pub payload: Option<Box<RawValue>>,
    /// `secret` (a password hash, a TOTP secret or recovery-code hashes: see
    /// `docs/export.md`) or `erased`; absent when the payload is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<&'static str>,
}

/// Streams whose payloads are sign-in secrets: a leaked export must not let anyone sign in
/// as the person (a TOTP secret) or guess their password offline (its hash).
pub fn holds_secrets(stream: &str) -> bool {
    stream.starts_with("credentials-") || stream.starts_with("totp-")
}

impl From<&RecordedEvent> for Event {
    fn from(e: &RecordedEvent) -> Self {
        let v = &e.envelope;
        let (payload, withheld) = match &e.payload {
            _ if holds_secrets(&v.stream_id) => (None, Some(WITHHELD_SECRET)),
            Payload::Erased => (None, Some(WITHHELD_ERASED)),
            Payload::Json { json, .. } => match String::from_utf8(json.clone())
                .ok()
                .and_then(|t| RawValue::from_string(t).ok())
            {
                Some(raw) => (Some(raw), None),
                None => (None, Some(WITHHELD_ERASED)),
            },
        };
        Event {
            position: v.position,
            event_id: v.event_id.to_string(),
            stream_id: v.stream_id.clone(),
            stream_version: v.stream_version,
            event_type: v.event_type.clone(),
            schema_version: v.schema_version,
            recorded_at: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(v.recorded_at_micros) * 1_000)
                .map(rfc3339)
                .unwrap_or_default(),
            actor: v.actor.clone(),
            correlation_id: v.correlation_id.map(|u| u.to_string()),
            causation_id: v.causation_id.map(|u| u.to_string()),
            key_id: v.key_id.to_string(),
            prev_hash: hex::encode(v.prev_hash),
            hash: hex::encode(v.hash),
            payload,
            withheld,
        }
    }
}
