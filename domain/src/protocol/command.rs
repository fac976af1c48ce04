//! Protocol commands.

use time::{Date, OffsetDateTime, Time};

use super::dose::Dose;
use crate::compounds::{Compound, Route};
use crate::values::{ItemId, ProtocolId, UserId};

/// Whether an [`ItemSpec`] names a new item or one the protocol already has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemOrigin {
    /// A new item: its id was just minted by the caller.
    New,
    /// An item of an earlier version, kept under its id; the id must be one of the
    /// protocol's items (an amendment cannot keep an item that never existed).
    Kept,
}

/// An item as the user described it; validated into a [`super::ProtocolItem`].
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSpec {
    /// Minted by the caller for a new item; the existing id when an amendment keeps an item.
    pub item_id: ItemId,
    /// Whether `item_id` is new or names an item of an earlier version.
    pub origin: ItemOrigin,
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
