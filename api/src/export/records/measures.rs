//! Readings and bloodwork as exported: values as entered beside canonical and SI ones, flags
//! and the lab's range. Must not: convert or judge (the domain did, when they were recorded).

use serde::Serialize;
use vigil_domain::bloodwork::{MarkerRef, RecordedResult};
use vigil_projections::read::{HealthLogView, PanelView};

use super::{name_of, rfc3339};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthLog {
    pub id: String,
    pub vital: String,
    pub loinc: String,
    pub measured_at: String,
    pub note: Option<String>,
    pub corrections: u32,
    pub retracted: bool,
    pub components: Vec<Component>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    pub loinc: String,
    pub value: String,
    pub unit: String,
    pub canonical_value: String,
    pub canonical_unit: String,
}

impl From<&HealthLogView> for HealthLog {
    fn from(h: &HealthLogView) -> Self {
        HealthLog {
            id: h.entry_id.to_string(),
            vital: name_of(&h.kind),
            loinc: h.loinc.clone(),
            measured_at: rfc3339(h.measured_at),
            note: h.note.clone(),
            corrections: h.corrections,
            retracted: h.retracted,
            components: h
                .components
                .iter()
                .map(|c| Component {
                    loinc: c.loinc.clone(),
                    value: c.value.to_string(),
                    unit: c.unit.clone(),
                    canonical_value: c.canonical_value.to_string(),
                    canonical_unit: c.canonical_unit.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    pub id: String,
    pub drawn_at: String,
    pub lab_name: Option<String>,
    pub corrections: u32,
    pub retracted: bool,
    pub results: Vec<LabResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabResult {
    /// Catalog marker name (`total_testosterone`) or `custom:<name>`.
    pub marker: String,
    pub name: String,
    pub loinc: Option<String>,
    pub value: String,
    pub unit: String,
    pub canonical_value: Option<String>,
    pub canonical_unit: Option<String>,
    pub si_value: Option<String>,
    pub si_unit: Option<String>,
    /// `H`, `L`, `HH`, `LL`, `N`, or null when no range applies.
    pub flag: Option<String>,
    /// `lab` or `catalog`: which range the flag was judged against.
    pub flag_basis: Option<String>,
    pub lab_range: Option<LabRangeOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabRangeOut {
    pub low: Option<String>,
    pub high: Option<String>,
    pub critical_low: Option<String>,
    pub critical_high: Option<String>,
    pub text: Option<String>,
}

/// The marker's export name: the catalog's, or `custom:` and the report's name.
pub fn marker_name(r: &RecordedResult) -> String {
    match &r.marker {
        MarkerRef::Catalog { marker } => name_of(marker),
        MarkerRef::Custom { name } => format!("custom:{}", name.to_lowercase()),
    }
}

impl From<&RecordedResult> for LabResult {
    fn from(r: &RecordedResult) -> Self {
        LabResult {
            marker: marker_name(r),
            name: r.name.clone(),
            loinc: r.loinc.clone(),
            value: r.value.to_string(),
            unit: r.unit.clone(),
            canonical_value: r.canonical.as_ref().map(|q| q.value.to_string()),
            canonical_unit: r.canonical.as_ref().map(|q| q.unit.clone()),
            si_value: r.si.as_ref().map(|q| q.value.to_string()),
            si_unit: r.si.as_ref().map(|q| q.unit.clone()),
            flag: r.flag.as_ref().map(name_of),
            flag_basis: r.flag_basis.as_ref().map(name_of),
            lab_range: r.lab_range.as_ref().map(|l| LabRangeOut {
                low: l.low.map(|d| d.to_string()),
                high: l.high.map(|d| d.to_string()),
                critical_low: l.critical_low.map(|d| d.to_string()),
                critical_high: l.critical_high.map(|d| d.to_string()),
                text: l.text.clone(),
            }),
        }
    }
}

impl From<&PanelView> for Panel {
    fn from(p: &PanelView) -> Self {
        Panel {
            id: p.panel_id.to_string(),
            drawn_at: rfc3339(p.drawn_at),
            lab_name: p.lab_name.clone(),
            corrections: p.corrections,
            retracted: p.retracted,
            results: p.results.iter().map(LabResult::from).collect(),
        }
    }
}
