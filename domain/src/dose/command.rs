//! Dose-log commands.

use time::OffsetDateTime;

use super::site::InjectionSite;
use crate::compounds::{Compound, Route};
use crate::protocol::dose::Dose;
use crate::values::{DoseId, ItemId, ProtocolId};

/// Requests a dose log can receive.
#[derive(Clone, Debug, PartialEq)]
pub enum DoseCommand {
    /// Record a dose that was taken.
    LogDoseTaken {
        /// Minted by the caller.
        dose_id: DoseId,
        /// The protocol the item belongs to.
        protocol_id: ProtocolId,
        /// The item.
        item_id: ItemId,
        /// The item's compound, looked up by the caller from the protocol in force.
        compound: Compound,
        /// Amount actually taken.
        dose: Dose,
        /// How.
        route: Route,
        /// Where, for injections.
        site: Option<InjectionSite>,
        /// When taken.
        taken_at: OffsetDateTime,
        /// The scheduled slot this dose fulfils, if any (none for PRN).
        scheduled_for: Option<OffsetDateTime>,
        /// Free-text note.
        note: Option<String>,
        /// Now.
        recorded_at: OffsetDateTime,
    },
    /// Record that a scheduled dose was deliberately not taken.
    LogDoseSkipped {
        /// Minted by the caller.
        dose_id: DoseId,
        /// The protocol.
        protocol_id: ProtocolId,
        /// The item.
        item_id: ItemId,
        /// The slot skipped.
        scheduled_for: OffsetDateTime,
        /// Why.
        reason: Option<String>,
        /// Now.
        recorded_at: OffsetDateTime,
    },
    /// Replace a taken dose's details; the original stays in history.
    CorrectDose {
        /// The entry.
        dose_id: DoseId,
        /// Corrected amount.
        dose: Dose,
        /// Corrected route.
        route: Route,
        /// Corrected site.
        site: Option<InjectionSite>,
        /// Corrected time taken.
        taken_at: OffsetDateTime,
        /// Corrected slot.
        scheduled_for: Option<OffsetDateTime>,
        /// Why.
        reason: Option<String>,
        /// Now.
        corrected_at: OffsetDateTime,
    },
    /// Withdraw an entry (entered in error).
    RetractDose {
        /// The entry.
        dose_id: DoseId,
        /// Why.
        reason: Option<String>,
        /// Now.
        retracted_at: OffsetDateTime,
    },
}
