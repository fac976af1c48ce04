//! Health-log state: the latest view of every entry.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::event::{HealthEvent, VitalComponent};
use super::vitals::VitalKind;
use crate::values::EntryId;

/// One entry as it currently stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthEntry {
    /// Which vital.
    pub kind: VitalKind,
    /// Current values (after corrections).
    pub components: Vec<VitalComponent>,
    /// Current measurement time.
    pub measured_at: OffsetDateTime,
    /// How many corrections were applied.
    pub corrections: u32,
    /// Whether withdrawn.
    pub retracted: bool,
}

/// Every entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HealthLogState {
    /// Entries by id.
    pub entries: BTreeMap<EntryId, HealthEntry>,
}

impl HealthLogState {
    /// Applies one accepted event (the aggregate's `evolve`).
    pub fn apply(mut self, event: &HealthEvent) -> HealthLogState {
        match event {
            HealthEvent::VitalRecorded {
                entry_id,
                kind,
                components,
                measured_at,
                ..
            } => {
                self.entries.insert(
                    *entry_id,
                    HealthEntry {
                        kind: *kind,
                        components: components.clone(),
                        measured_at: *measured_at,
                        corrections: 0,
                        retracted: false,
                    },
                );
            }
            HealthEvent::VitalCorrected {
                entry_id,
                components,
                measured_at,
                ..
            } => {
                if let Some(entry) = self.entries.get_mut(entry_id) {
                    entry.components = components.clone();
                    entry.measured_at = *measured_at;
                    entry.corrections += 1;
                }
            }
            HealthEvent::VitalRetracted { entry_id, .. } => {
                if let Some(entry) = self.entries.get_mut(entry_id) {
                    entry.retracted = true;
                }
            }
        }
        self
    }
}
