//! Health-log rejections.

use super::vitals::VitalKind;
use crate::values::EntryId;

/// Why a health-log command was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HealthError {
    /// `RecordVital` with an entry id already used.
    #[error("entry {0} already exists")]
    DuplicateEntry(EntryId),
    /// Correcting or retracting an entry that does not exist.
    #[error("entry {0} does not exist")]
    UnknownEntry(EntryId),
    /// Correcting or retracting an entry that was retracted.
    #[error("entry {0} was retracted")]
    EntryRetracted(EntryId),
    /// A correction that changes the kind of vital; retract and record anew instead.
    #[error("a correction cannot turn a {from:?} reading into {to:?}")]
    KindChanged {
        /// Kind recorded.
        from: VitalKind,
        /// Kind in the correction.
        to: VitalKind,
    },
    /// Blood pressure sent as a single quantity instead of the two-component panel.
    #[error("blood pressure must be recorded as a panel of systolic and diastolic")]
    BloodPressureNeedsPanel,
    /// The unit is not one this vital accepts.
    #[error("{unit} is not a unit for {label}")]
    UnsupportedUnit {
        /// The vital or component.
        label: &'static str,
        /// Unit as typed.
        unit: String,
    },
    /// A value outside the plausible range (after conversion to the canonical unit).
    #[error("{label} of {value} {canonical_unit} is implausible (expected {min}–{max})")]
    Implausible {
        /// The vital or component.
        label: &'static str,
        /// The canonical value.
        value: String,
        /// Canonical unit.
        canonical_unit: &'static str,
        /// Lowest plausible value.
        min: String,
        /// Highest plausible value.
        max: String,
    },
    /// Systolic not above diastolic.
    #[error("systolic pressure must be higher than diastolic")]
    SystolicNotAboveDiastolic,
    /// Measured later than it was recorded (beyond clock-skew tolerance).
    #[error("a reading cannot be measured in the future")]
    MeasuredInFuture,
}
