//! Context for each lab draw: days since the last dose and the modelled level at the draw,
//! so a trough draw can be told from a peak draw (`docs/pharmacokinetics.md`, "Lab draws in
//! context").

use time::OffsetDateTime;

use super::calibration::Calibration;
use super::model::ModelSettings;
use super::series::{ModelDose, level_at};
use crate::bloodwork::{BloodworkState, Marker, MarkerRef};
use crate::compounds::ActiveSubstance;
use crate::values::{Decimal, PanelId};

/// What the model says about one draw.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawContext {
    /// The panel.
    pub panel_id: PanelId,
    /// When drawn.
    pub drawn_at: OffsetDateTime,
    /// The last modelled dose of the substance at or before the draw.
    pub last_dose_at: Option<OffsetDateTime>,
    /// Days from that dose to the draw, two decimals.
    pub days_since_last_dose: Option<Decimal>,
    /// Modelled (relative) level at the draw.
    pub modelled_level: f64,
    /// The panel's canonical value of the marker asked about, if present and convertible.
    pub marker_value: Option<Decimal>,
}

/// One context per live panel, oldest draw first. `marker` picks the lab value to pair with
/// the model (e.g. total testosterone for the testosterone curve).
pub fn draw_contexts(
    bloodwork: &BloodworkState,
    doses: &[ModelDose],
    settings: &ModelSettings,
    substance: ActiveSubstance,
    marker: Option<Marker>,
) -> Vec<DrawContext> {
    let relevant: Vec<&ModelDose> = doses
        .iter()
        .filter(|d| settings.params(&d.compound).is_some_and(|p| p.active == substance))
        .collect();
    let mut contexts: Vec<DrawContext> = bloodwork
        .live_panels()
        .map(|(panel_id, panel)| {
            let last_dose_at = relevant.iter().map(|d| d.at).filter(|at| *at <= panel.drawn_at).max();
            let days_since_last_dose = last_dose_at.and_then(|at| {
                let seconds = (panel.drawn_at - at).whole_seconds();
                Decimal::from_int(seconds).checked_div(Decimal::from_int(86_400), 2)
            });
            let marker_value = marker.and_then(|wanted| {
                panel
                    .results
                    .iter()
                    .find(|r| r.marker == MarkerRef::Catalog { marker: wanted })
                    .and_then(|r| r.canonical.as_ref().map(|q| q.value))
            });
            DrawContext {
                panel_id: *panel_id,
                drawn_at: panel.drawn_at,
                last_dose_at,
                days_since_last_dose,
                modelled_level: level_at(doses, settings, substance, panel.drawn_at),
                marker_value,
            }
        })
        .collect();
    contexts.sort_by_key(|c| c.drawn_at);
    contexts
}

impl Calibration {
    /// Fits from draws that carry a marker value.
    pub fn from_draws(contexts: &[DrawContext]) -> Option<Calibration> {
        let pairs: Vec<(f64, f64)> = contexts
            .iter()
            .filter_map(|c| c.marker_value.map(|v| (v.to_f64(), c.modelled_level)))
            .collect();
        Calibration::fit(&pairs)
    }
}
