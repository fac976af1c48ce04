//! Bloodwork events. Each result carries what was entered plus the derived canonical and SI
//! values and the flag, so trend and export projections never convert or judge.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::catalog::Marker;
use super::flag::{Flag, LabRange, RangeBasis};
use crate::aggregate::DomainEvent;
use crate::values::{Decimal, PanelId};

/// What a result measures.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MarkerRef {
    /// A catalogued marker.
    Catalog {
        /// The marker.
        marker: Marker,
    },
    /// Not in the catalog: kept as entered, never converted.
    Custom {
        /// The report's name for it.
        name: String,
    },
}

/// A value with its unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantity {
    /// The value.
    pub value: Decimal,
    /// UCUM unit.
    pub unit: String,
}

/// One interpreted result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResult {
    /// LOINC code as given.
    pub loinc: Option<String>,
    /// Canonical marker, or custom.
    pub marker: MarkerRef,
    /// Display name (the catalog's, or the report's for custom markers).
    pub name: String,
    /// Value exactly as entered.
    pub value: Decimal,
    /// Unit as entered.
    pub unit: String,
    /// The lab's range, as entered.
    pub lab_range: Option<LabRange>,
    /// In the catalog's canonical (conventional) unit, when convertible.
    pub canonical: Option<Quantity>,
    /// In SI, when convertible and the marker has an SI unit.
    pub si: Option<Quantity>,
    /// H/L/HH/LL/N, when a range was available.
    pub flag: Option<Flag>,
    /// Which range the flag was judged against.
    pub flag_basis: Option<RangeBasis>,
}

/// Facts about a bloodwork log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum BloodworkEvent {
    /// A panel was recorded.
    BloodworkRecorded {
        /// The panel.
        panel_id: PanelId,
        /// When drawn.
        #[serde(with = "time::serde::rfc3339")]
        drawn_at: OffsetDateTime,
        /// The lab.
        lab_name: Option<String>,
        /// Interpreted results.
        results: Vec<RecordedResult>,
        /// When recorded.
        #[serde(with = "time::serde::rfc3339")]
        recorded_at: OffsetDateTime,
    },
    /// A panel was corrected; this replaces it from now on.
    BloodworkCorrected {
        /// The panel.
        panel_id: PanelId,
        /// Corrected draw time.
        #[serde(with = "time::serde::rfc3339")]
        drawn_at: OffsetDateTime,
        /// Corrected lab.
        lab_name: Option<String>,
        /// Corrected, interpreted results.
        results: Vec<RecordedResult>,
        /// Why.
        reason: Option<String>,
        /// When corrected.
        #[serde(with = "time::serde::rfc3339")]
        corrected_at: OffsetDateTime,
    },
    /// A panel was withdrawn.
    BloodworkRetracted {
        /// The panel.
        panel_id: PanelId,
        /// Why.
        reason: Option<String>,
        /// When retracted.
        #[serde(with = "time::serde::rfc3339")]
        retracted_at: OffsetDateTime,
    },
}

impl DomainEvent for BloodworkEvent {
    fn event_type(&self) -> &'static str {
        match self {
            BloodworkEvent::BloodworkRecorded { .. } => "BloodworkRecorded",
            BloodworkEvent::BloodworkCorrected { .. } => "BloodworkCorrected",
            BloodworkEvent::BloodworkRetracted { .. } => "BloodworkRetracted",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}
