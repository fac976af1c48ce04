//! Protocol commands.

use time::{Date, OffsetDateTime, Time};

use super::dose::Dose;
use crate::compounds::{Compound, Route};
use crate::values::{ItemId, ProtocolId, UserId};

/// An item as the user described it; validated into a [`super::ProtocolItem`].
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSpec {
    /// Minted by the caller; reuse the id when an amendment changes the same item.
    pub item_id: ItemId,
    /// What is taken.
    pub compound: Compound,
    /// Amount per administration; may be omitted for a split weekly total, which
    /// determines it.
    pub dose: Option<Dose>,
    /// How it is taken.
    pub route: Route,
    /// Frequency notation exactly as typed.
    pub schedule: String,
    /// Usual time of day of a dose.
    pub time_of_day: Time,
    /// First day.
    pub start: Date,
    /// Last day, if planned.
    pub end: Option<Date>,
}

/// Requests a protocol can receive.
#[derive(Clone, Debug, PartialEq)]
pub enum ProtocolCommand {
    /// Create the protocol with its first version.
    Define {
        /// Minted by the caller.
        protocol_id: ProtocolId,
        /// Whose protocol it is.
        owner: UserId,
        /// Display name.
        name: String,
        /// The items.
        items: Vec<ItemSpec>,
        /// First day the protocol applies.
        effective_from: Date,
        /// Now.
        recorded_at: OffsetDateTime,
    },
    /// Record a new version; earlier versions stay in force for earlier dates.
    Amend {
        /// Display name of the new version.
        name: String,
        /// The complete item list of the new version.
        items: Vec<ItemSpec>,
        /// First day the new version applies.
        effective_from: Date,
        /// Why, in the user's words.
        reason: Option<String>,
        /// Now.
        recorded_at: OffsetDateTime,
    },
    /// Stop the protocol temporarily from a date.
    Pause {
        /// First paused day.
        on: Date,
        /// Why, in the user's words.
        reason: Option<String>,
        /// Now.
        recorded_at: OffsetDateTime,
    },
    /// Restart a paused protocol from a date.
    Resume {
        /// First active day again.
        on: Date,
        /// Now.
        recorded_at: OffsetDateTime,
    },
    /// Stop the protocol for good from a date.
    End {
        /// First day no longer in force.
        on: Date,
        /// Now.
        recorded_at: OffsetDateTime,
    },
}
