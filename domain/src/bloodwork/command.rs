//! Bloodwork commands: a panel as read off the report.

use time::OffsetDateTime;

use super::flag::LabRange;
use crate::values::{Decimal, PanelId};

/// One result line as printed.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultInput {
    /// LOINC code, when the report or importer gives one.
    pub loinc: Option<String>,
    /// The report's name for the test; required when the code is missing or unknown.
    pub name: Option<String>,
    /// Value, as printed.
    pub value: Decimal,
    /// Unit, as printed.
    pub unit: String,
    /// The lab's reference range, in the same unit as `value`.
    pub lab_range: Option<LabRange>,
}

/// Requests a bloodwork log can receive.
#[derive(Clone, Debug, PartialEq)]
pub enum BloodworkCommand {
    /// Record a panel drawn at one time.
    RecordPanel {
        /// Minted by the caller.
        panel_id: PanelId,
        /// When the blood was drawn.
        drawn_at: OffsetDateTime,
        /// The lab, if the user gives it.
        lab_name: Option<String>,
        /// The result lines.
        results: Vec<ResultInput>,
        /// Now.
        recorded_at: OffsetDateTime,
    },
    /// Replace a panel's draw time, lab and results; the original stays in history.
    CorrectPanel {
        /// The panel.
        panel_id: PanelId,
        /// Corrected draw time.
        drawn_at: OffsetDateTime,
        /// Corrected lab name.
        lab_name: Option<String>,
        /// The complete corrected result lines.
        results: Vec<ResultInput>,
        /// Why.
        reason: Option<String>,
        /// Now.
        corrected_at: OffsetDateTime,
    },
    /// Withdraw a panel (entered in error).
    RetractPanel {
        /// The panel.
        panel_id: PanelId,
        /// Why.
        reason: Option<String>,
        /// Now.
        retracted_at: OffsetDateTime,
    },
}
