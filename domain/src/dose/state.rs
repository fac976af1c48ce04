//! Dose-log state: the latest view of every entry.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::event::{ActiveAmount, DoseEvent};
use super::site::InjectionSite;
use crate::compounds::{Compound, Route};
use crate::protocol::dose::Dose;
use crate::values::{DoseId, ItemId, ProtocolId};

/// Whether an entry is a dose or a skip, with the dose's current details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DoseOutcome {
    /// Taken.
    Taken {
        /// Amount as entered.
        dose: Dose,
        /// Amount of drug.
        active: ActiveAmount,
        /// How.
        route: Route,
        /// Where.
        site: Option<InjectionSite>,
        /// When.
        taken_at: OffsetDateTime,
    },
    /// Skipped.
    Skipped,
}

/// One entry as it currently stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoseEntry {
    /// The protocol.
    pub protocol_id: ProtocolId,
    /// The item.
    pub item_id: ItemId,
    /// What (taken doses only carry a meaningful compound; skips copy none).
    pub compound: Option<Compound>,
    /// Taken or skipped.
    pub outcome: DoseOutcome,
    /// Slot fulfilled or skipped.
    pub scheduled_for: Option<OffsetDateTime>,
    /// Corrections applied.
    pub corrections: u32,
    /// Whether withdrawn.
    pub retracted: bool,
}

/// Every entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DoseLogState {
    /// Entries by id.
    pub entries: BTreeMap<DoseId, DoseEntry>,
}

impl DoseLogState {
    /// Applies one accepted event (the aggregate's `evolve`).
    pub fn apply(mut self, event: &DoseEvent) -> DoseLogState {
        match event {
            DoseEvent::DoseTaken {
                dose_id,
                protocol_id,
                item_id,
                compound,
                dose,
                active,
                route,
                site,
                taken_at,
                scheduled_for,
                ..
            } => {
                self.entries.insert(
                    *dose_id,
                    DoseEntry {
                        protocol_id: *protocol_id,
                        item_id: *item_id,
                        compound: Some(compound.clone()),
                        outcome: DoseOutcome::Taken {
                            dose: *dose,
                            active: *active,
                            route: *route,
                            site: *site,
                            taken_at: *taken_at,
                        },
                        scheduled_for: *scheduled_for,
                        corrections: 0,
                        retracted: false,
                    },
                );
            }
            DoseEvent::DoseSkipped {
                dose_id,
                protocol_id,
                item_id,
                scheduled_for,
                ..
            } => {
                self.entries.insert(
                    *dose_id,
                    DoseEntry {
                        protocol_id: *protocol_id,
                        item_id: *item_id,
                        compound: None,
                        outcome: DoseOutcome::Skipped,
                        scheduled_for: Some(*scheduled_for),
                        corrections: 0,
                        retracted: false,
                    },
                );
            }
            DoseEvent::DoseCorrected {
                dose_id,
                dose,
                active,
                route,
                site,
                taken_at,
                scheduled_for,
                ..
            } => {
                if let Some(entry) = self.entries.get_mut(dose_id) {
                    entry.outcome = DoseOutcome::Taken {
                        dose: *dose,
                        active: *active,
                        route: *route,
                        site: *site,
                        taken_at: *taken_at,
                    };
                    entry.scheduled_for = *scheduled_for;
                    entry.corrections += 1;
                }
            }
            DoseEvent::DoseRetracted { dose_id, .. } => {
                if let Some(entry) = self.entries.get_mut(dose_id) {
                    entry.retracted = true;
                }
            }
        }
        self
    }

    /// Entries that are not retracted.
    pub fn live(&self) -> impl Iterator<Item = (&DoseId, &DoseEntry)> {
        self.entries.iter().filter(|(_, e)| !e.retracted)
    }

    /// Live taken doses as (compound, active amount, taken at), for level estimates.
    pub fn taken_doses(&self) -> Vec<(Compound, ActiveAmount, OffsetDateTime)> {
        let mut doses: Vec<_> = self
            .live()
            .filter_map(|(_, e)| match (&e.compound, &e.outcome) {
                (Some(compound), DoseOutcome::Taken { active, taken_at, .. }) => {
                    Some((compound.clone(), *active, *taken_at))
                }
                _ => None,
            })
            .collect();
        doses.sort_by_key(|(_, _, at)| *at);
        doses
    }
}
