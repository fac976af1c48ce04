//! Health-log events. Each component carries the value and unit as entered and the derived
//! canonical value, so projections never convert.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::vitals::VitalKind;
use crate::aggregate::DomainEvent;
use crate::values::{Decimal, EntryId};

/// One measured quantity of a reading.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VitalComponent {
    /// LOINC code of the quantity (8480-6 for systolic, …).
    pub loinc: String,
    /// Value exactly as entered.
    pub value: Decimal,
    /// Unit as typed, surrounding whitespace trimmed.
    pub unit: String,
    /// Value in the canonical unit (equal to `value` when no conversion was needed).
    pub canonical_value: Decimal,
    /// Canonical UCUM unit.
    pub canonical_unit: String,
}

/// Facts about a health log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum HealthEvent {
    /// A reading was recorded.
    VitalRecorded {
        /// The entry.
        entry_id: EntryId,
        /// Which vital.
        kind: VitalKind,
        /// LOINC code of the observation (the panel code for BP).
        loinc: String,
        /// The quantities (two for BP).
        components: Vec<VitalComponent>,
        /// When measured.
        #[serde(with = "time::serde::rfc3339")]
        measured_at: OffsetDateTime,
        /// Free-text note.
        note: Option<String>,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
    /// A reading was corrected; this replaces its values from now on.
    VitalCorrected {
        /// The entry.
        entry_id: EntryId,
        /// Which vital (unchanged).
        kind: VitalKind,
        /// The corrected quantities.
        components: Vec<VitalComponent>,
        /// Corrected measurement time.
        #[serde(with = "time::serde::rfc3339")]
        measured_at: OffsetDateTime,
        /// Why.
        reason: Option<String>,
        /// When corrected.
        #[serde(with = "time::serde::rfc3339")]
        corrected_at: OffsetDateTime,
    },
    /// A reading was withdrawn.
    VitalRetracted {
        /// The entry.
        entry_id: EntryId,
        /// Why.
        reason: Option<String>,
        /// When retracted.
        #[serde(with = "time::serde::rfc3339")]
        retracted_at: OffsetDateTime,
    },
}

impl DomainEvent for HealthEvent {
    fn event_type(&self) -> &'static str {
        match self {
            HealthEvent::VitalRecorded { .. } => "VitalRecorded",
            HealthEvent::VitalCorrected { .. } => "VitalCorrected",
            HealthEvent::VitalRetracted { .. } => "VitalRetracted",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}
