//! Contract cases, written once against `EventStore` and run on both backends.

mod append;
mod checkpoints;
mod concurrency;
mod erasure;
mod integrity;
mod keys;
mod merkle;
mod scans;

pub use append::*;
pub use checkpoints::*;
pub use concurrency::*;
pub use erasure::*;
pub use integrity::*;
pub use keys::*;
pub use merkle::*;
pub use scans::*;

use uuid::Uuid;
use vigil_eventstore::{AppendRequest, ExpectedVersion, Metadata, NewEvent};

pub fn event(kind: &str, body: serde_json::Value) -> NewEvent {
    NewEvent::json(kind, 1, &body).expect("serializable")
}

pub fn request(stream: &str, subject: Uuid, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream: stream.into(),
        subject,
        expected,
        events,
        metadata: Metadata::actor("system:test"),
    }
}

pub fn bp(systolic: u32, diastolic: u32) -> NewEvent {
    event(
        "HealthLogRecorded",
        serde_json::json!({"vital": "blood_pressure", "systolic": systolic, "diastolic": diastolic}),
    )
}
