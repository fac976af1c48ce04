//! Dose-log events. A taken dose carries the active amount (mL multiplied out, mcg in mg)
//! so level estimates and inventory projections need no protocol lookup.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::site::InjectionSite;
use crate::aggregate::DomainEvent;
use crate::compounds::{Compound, Route};
use crate::protocol::dose::{Dose, DoseUnit};
use crate::values::serde_time;
use crate::values::{Decimal, DoseId, ItemId, ProtocolId};

/// Amount of drug in a dose: mg for mass compounds, IU otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveAmount {
    /// The amount.
    pub amount: Decimal,
    /// mg or IU.
    pub unit: DoseUnit,
}

/// Facts about a dose log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DoseEvent {
    /// A dose was taken.
    DoseTaken {
        /// The entry.
        dose_id: DoseId,
        /// The protocol.
        protocol_id: ProtocolId,
        /// The item.
        item_id: ItemId,
        /// What was taken.
        compound: Compound,
        /// Amount as entered.
        dose: Dose,
        /// Derived amount of drug.
        active: ActiveAmount,
        /// How.
        route: Route,
        /// Where.
        site: Option<InjectionSite>,
        /// When taken.
        #[serde(with = "time::serde::rfc3339")]
        taken_at: OffsetDateTime,
        /// Slot fulfilled.
        #[serde(with = "serde_time::option_rfc3339")]
        scheduled_for: Option<OffsetDateTime>,
        /// Note.
        note: Option<String>,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
    /// A scheduled dose was skipped.
    DoseSkipped {
        /// The entry.
        dose_id: DoseId,
        /// The protocol.
        protocol_id: ProtocolId,
        /// The item.
        item_id: ItemId,
        /// The slot skipped.
        #[serde(with = "time::serde::rfc3339")]
        scheduled_for: OffsetDateTime,
        /// Why.
        reason: Option<String>,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
    /// A taken dose was corrected.
    DoseCorrected {
        /// The entry.
        dose_id: DoseId,
        /// Corrected amount.
        dose: Dose,
        /// Derived amount of drug.
        active: ActiveAmount,
        /// Corrected route.
        route: Route,
        /// Corrected site.
        site: Option<InjectionSite>,
        /// Corrected time.
        #[serde(with = "time::serde::rfc3339")]
        taken_at: OffsetDateTime,
        /// Corrected slot.
        #[serde(with = "serde_time::option_rfc3339")]
        scheduled_for: Option<OffsetDateTime>,
        /// Why.
        reason: Option<String>,
        /// When corrected.
        #[serde(with = "time::serde::rfc3339")]
        corrected_at: OffsetDateTime,
    },
    /// An entry was withdrawn.
    DoseRetracted {
        /// The entry.
        dose_id: DoseId,
        /// Why.
        reason: Option<String>,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        retracted_at: OffsetDateTime,
    },
}

impl DomainEvent for DoseEvent {
    fn event_type(&self) -> &'static str {
        match self {
            DoseEvent::DoseTaken { .. } => "DoseTaken",
            DoseEvent::DoseSkipped { .. } => "DoseSkipped",
            DoseEvent::DoseCorrected { .. } => "DoseCorrected",
            DoseEvent::DoseRetracted { .. } => "DoseRetracted",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}
