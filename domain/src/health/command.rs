//! Health-log commands.

use time::OffsetDateTime;

use super::vitals::VitalKind;
use crate::values::{Decimal, EntryId};

/// A reading as entered.
#[derive(Clone, Debug, PartialEq)]
pub enum VitalReading {
    /// Both blood-pressure components, in `mm[Hg]`.
    BloodPressure {
        /// Systolic, as entered.
        systolic: Decimal,
        /// Diastolic, as entered.
        diastolic: Decimal,
    },
    /// Any other catalogued vital with its unit as typed (`kg`, `lb`, `°F`, …).
    Quantity {
        /// Which vital; must not be [`VitalKind::BloodPressure`].
        kind: VitalKind,
        /// Value, as entered.
        value: Decimal,
        /// Unit, as typed.
        unit: String,
    },
}

impl VitalReading {
    /// The kind of vital this reading is.
    pub fn kind(&self) -> VitalKind {
        match self {
            VitalReading::BloodPressure { .. } => VitalKind::BloodPressure,
            VitalReading::Quantity { kind, .. } => *kind,
        }
    }
}

/// Requests a health log can receive.
#[derive(Clone, Debug, PartialEq)]
pub enum HealthCommand {
    /// Record a new reading.
    RecordVital {
        /// Minted by the caller.
        entry_id: EntryId,
        /// The reading.
        reading: VitalReading,
        /// When it was measured.
        measured_at: OffsetDateTime,
        /// Free-text note.
        note: Option<String>,
        /// Now.
        recorded_at: OffsetDateTime,
    },
    /// Replace a reading's values (same kind); the original stays in history.
    CorrectVital {
        /// The entry to correct.
        entry_id: EntryId,
        /// The corrected reading.
        reading: VitalReading,
        /// The corrected measurement time.
        measured_at: OffsetDateTime,
        /// Why.
        reason: Option<String>,
        /// Now.
        corrected_at: OffsetDateTime,
    },
    /// Withdraw a reading (entered in error); it stays in history, marked retracted.
    RetractVital {
        /// The entry to retract.
        entry_id: EntryId,
        /// Why.
        reason: Option<String>,
        /// Now.
        retracted_at: OffsetDateTime,
    },
}
