//! Health-log state: what the rules need to know of every entry (it exists, its kind, whether
//! it was withdrawn), not the entry's values. A server keeps this state between commands for
//! each person it serves, and a person's log grows by a reading or more a day: values held here
//! grew every remembered state by about 400 bytes a reading, for nothing the rules read. The
//! current values are the read models' (the health-log projection).

use std::collections::BTreeMap;

use super::event::HealthEvent;
use super::vitals::VitalKind;
use crate::values::EntryId;

/// What the rules need of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthEntry {
    /// Which vital (a correction must keep it).
    pub kind: VitalKind,
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
            HealthEvent::VitalRecorded { entry_id, kind, .. } => {
                self.entries.insert(
                    *entry_id,
                    HealthEntry {
                        kind: *kind,
                        corrections: 0,
                        retracted: false,
                    },
                );
            }
            HealthEvent::VitalCorrected { entry_id, .. } => {
                if let Some(entry) = self.entries.get_mut(entry_id) {
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
