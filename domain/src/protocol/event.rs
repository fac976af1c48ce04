//! Protocol events.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::item::ProtocolItem;
use crate::aggregate::DomainEvent;
use crate::values::serde_time;
use crate::values::{ProtocolId, UserId};

/// Facts about a protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ProtocolEvent {
    /// The protocol was created; this is version 1.
    ProtocolDefined {
        /// The protocol.
        protocol_id: ProtocolId,
        /// Its owner.
        owner: UserId,
        /// Display name.
        name: String,
        /// Validated items with derived doses.
        items: Vec<ProtocolItem>,
        /// First day in force.
        #[serde(with = "serde_time::date")]
        effective_from: Date,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
    /// A new version was recorded; earlier ones stay in force for earlier dates.
    ProtocolAmended {
        /// The new version number (2, 3, …).
        version: u32,
        /// Display name of this version.
        name: String,
        /// The complete item list of this version.
        items: Vec<ProtocolItem>,
        /// First day this version is in force.
        #[serde(with = "serde_time::date")]
        effective_from: Date,
        /// The user's reason.
        reason: Option<String>,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
    /// The protocol was paused from a date.
    ProtocolPaused {
        /// First paused day.
        #[serde(with = "serde_time::date")]
        on: Date,
        /// The user's reason.
        reason: Option<String>,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
    /// The protocol was resumed from a date.
    ProtocolResumed {
        /// First active day again.
        #[serde(with = "serde_time::date")]
        on: Date,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
    /// The protocol ended from a date.
    ProtocolEnded {
        /// First day no longer in force.
        #[serde(with = "serde_time::date")]
        on: Date,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
}

impl DomainEvent for ProtocolEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ProtocolEvent::ProtocolDefined { .. } => "ProtocolDefined",
            ProtocolEvent::ProtocolAmended { .. } => "ProtocolAmended",
            ProtocolEvent::ProtocolPaused { .. } => "ProtocolPaused",
            ProtocolEvent::ProtocolResumed { .. } => "ProtocolResumed",
            ProtocolEvent::ProtocolEnded { .. } => "ProtocolEnded",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}
