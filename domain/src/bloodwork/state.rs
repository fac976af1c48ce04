//! Bloodwork state: the latest view of every panel.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::event::{BloodworkEvent, RecordedResult};
use crate::values::PanelId;

/// One panel as it currently stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panel {
    /// When drawn.
    pub drawn_at: OffsetDateTime,
    /// The lab.
    pub lab_name: Option<String>,
    /// Current results.
    pub results: Vec<RecordedResult>,
    /// Corrections applied.
    pub corrections: u32,
    /// Whether withdrawn.
    pub retracted: bool,
}

/// Every panel of the log.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BloodworkState {
    /// Panels by id.
    pub panels: BTreeMap<PanelId, Panel>,
}

impl BloodworkState {
    /// Applies one accepted event (the aggregate's `evolve`).
    pub fn apply(mut self, event: &BloodworkEvent) -> BloodworkState {
        match event {
            BloodworkEvent::BloodworkRecorded {
                panel_id,
                drawn_at,
                lab_name,
                results,
                ..
            } => {
                self.panels.insert(
                    *panel_id,
                    Panel {
                        drawn_at: *drawn_at,
                        lab_name: lab_name.clone(),
                        results: results.clone(),
                        corrections: 0,
                        retracted: false,
                    },
                );
            }
            BloodworkEvent::BloodworkCorrected {
                panel_id,
                drawn_at,
                lab_name,
                results,
                ..
            } => {
                if let Some(panel) = self.panels.get_mut(panel_id) {
                    panel.drawn_at = *drawn_at;
                    panel.lab_name = lab_name.clone();
                    panel.results = results.clone();
                    panel.corrections += 1;
                }
            }
            BloodworkEvent::BloodworkRetracted { panel_id, .. } => {
                if let Some(panel) = self.panels.get_mut(panel_id) {
                    panel.retracted = true;
                }
            }
        }
        self
    }

    /// Panels not retracted, by id.
    pub fn live_panels(&self) -> impl Iterator<Item = (&PanelId, &Panel)> {
        self.panels.iter().filter(|(_, p)| !p.retracted)
    }
}
