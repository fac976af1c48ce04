//! Bloodwork rejections.

use crate::values::PanelId;

/// Why a bloodwork command was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BloodworkError {
    /// `RecordPanel` with a panel id already used.
    #[error("panel {0} already exists")]
    DuplicatePanel(PanelId),
    /// Correcting or retracting a panel that does not exist.
    #[error("panel {0} does not exist")]
    UnknownPanel(PanelId),
    /// Correcting or retracting a retracted panel.
    #[error("panel {0} was retracted")]
    PanelRetracted(PanelId),
    /// A panel without results.
    #[error("a panel needs at least one result")]
    NoResults,
    /// Drawn later than recorded (beyond clock-skew tolerance).
    #[error("blood cannot be drawn in the future")]
    DrawnInFuture,
    /// Lab name longer than 100 characters.
    #[error("the lab name may be at most 100 characters")]
    LabNameTooLong,
    /// A code that is not a LOINC code (shape or check digit).
    #[error("`{0}` is not a valid LOINC code")]
    InvalidLoinc(String),
    /// A result with neither a known code nor a name.
    #[error("result {line}: a result without a known LOINC code needs a name")]
    MissingName {
        /// 1-based line in the panel.
        line: usize,
    },
    /// A result without a unit.
    #[error("result {line}: a unit is required")]
    MissingUnit {
        /// 1-based line in the panel.
        line: usize,
    },
    /// A negative concentration.
    #[error("result {line}: a lab value cannot be negative")]
    NegativeValue {
        /// 1-based line in the panel.
        line: usize,
    },
    /// A lab range whose low end is above its high end.
    #[error("result {line}: the reference range's low end is above its high end")]
    InvalidLabRange {
        /// 1-based line in the panel.
        line: usize,
    },
    /// A catalogued marker given a unit it does not list (testosterone in `%`).
    #[error("result {line}: {unit} is not a unit for {marker} (accepted: {accepted})")]
    UnitNotAccepted {
        /// 1-based line in the panel.
        line: usize,
        /// The marker's catalog name.
        marker: &'static str,
        /// Unit as typed.
        unit: String,
        /// The units it accepts, comma-separated.
        accepted: String,
    },
    /// A catalogued marker's value outside its plausibility window, after conversion to the
    /// canonical unit (hematocrit 150 %): a typo or a unit mix-up.
    #[error("result {line}: {marker} of {value} is implausible (expected {expected})")]
    Implausible {
        /// 1-based line in the panel.
        line: usize,
        /// The marker's catalog name.
        marker: &'static str,
        /// The value in the canonical unit (and as entered, when entered in another unit).
        value: String,
        /// The window, in the canonical unit.
        expected: String,
    },
    /// The same marker twice in one panel.
    #[error("{0} appears twice in the panel")]
    DuplicateMarker(String),
}
