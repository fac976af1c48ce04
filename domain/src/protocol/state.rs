//! Protocol state and the history queries: which version was in force on a date, and
//! when an item's doses were scheduled.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset};

use super::event::ProtocolEvent;
use super::item::ProtocolItem;
use crate::values::{ItemId, ProtocolId, UserId};

/// One version of a protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolVersion {
    /// 1 for the definition, then 2, 3, …
    pub version: u32,
    /// Display name.
    pub name: String,
    /// Items of this version.
    pub items: Vec<ProtocolItem>,
    /// First day in force.
    pub effective_from: Date,
    /// The user's reason for the amendment.
    pub reason: Option<String>,
    /// When recorded.
    pub recorded_at: OffsetDateTime,
}

/// Whether a protocol applies on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolStatus {
    /// Before the first version took effect (or not defined).
    NotStarted,
    /// In force.
    Active,
    /// Paused.
    Paused,
    /// Ended.
    Ended,
}

/// A dated status change (pause, resume, end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusChange {
    /// First day of the new status.
    pub on: Date,
    /// The new status.
    pub status: ProtocolStatus,
}

/// Everything a protocol remembers.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProtocolState {
    /// Set by the definition.
    pub protocol_id: Option<ProtocolId>,
    /// Owner.
    pub owner: Option<UserId>,
    /// All versions in the order recorded (effective dates never decrease).
    pub versions: Vec<ProtocolVersion>,
    /// Pauses, resumes and the end, in order.
    pub status_changes: Vec<StatusChange>,
}

impl ProtocolState {
    /// Applies one accepted event (the aggregate's `evolve`).
    pub fn apply(mut self, event: &ProtocolEvent) -> ProtocolState {
        match event {
            ProtocolEvent::ProtocolDefined {
                protocol_id,
                owner,
                name,
                items,
                effective_from,
                recorded_at,
            } => {
                self.protocol_id = Some(*protocol_id);
                self.owner = Some(*owner);
                self.versions.push(ProtocolVersion {
                    version: 1,
                    name: name.clone(),
                    items: items.clone(),
                    effective_from: *effective_from,
                    reason: None,
                    recorded_at: *recorded_at,
                });
            }
            ProtocolEvent::ProtocolAmended {
                version,
                name,
                items,
                effective_from,
                reason,
                recorded_at,
            } => self.versions.push(ProtocolVersion {
                version: *version,
                name: name.clone(),
                items: items.clone(),
                effective_from: *effective_from,
                reason: reason.clone(),
                recorded_at: *recorded_at,
            }),
            ProtocolEvent::ProtocolPaused { on, .. } => self.push_status(*on, ProtocolStatus::Paused),
            ProtocolEvent::ProtocolResumed { on, .. } => self.push_status(*on, ProtocolStatus::Active),
            ProtocolEvent::ProtocolEnded { on, .. } => self.push_status(*on, ProtocolStatus::Ended),
        }
        self
    }

    fn push_status(&mut self, on: Date, status: ProtocolStatus) {
        self.status_changes.push(StatusChange { on, status });
    }

    /// Whether the protocol was defined.
    pub fn is_defined(&self) -> bool {
        self.protocol_id.is_some()
    }

    /// The latest version recorded.
    pub fn current(&self) -> Option<&ProtocolVersion> {
        self.versions.last()
    }

    /// The latest status, ignoring dates.
    pub fn status(&self) -> ProtocolStatus {
        match (self.is_defined(), self.status_changes.last()) {
            (false, _) => ProtocolStatus::NotStarted,
            (true, Some(change)) => change.status,
            (true, None) => ProtocolStatus::Active,
        }
    }

    /// The date no later change may precede: the last status change, or the start.
    pub fn last_change_date(&self) -> Option<Date> {
        self.status_changes
            .last()
            .map(|c| c.on)
            .or_else(|| self.versions.first().map(|v| v.effective_from))
    }

    /// The version whose effective period contains `date`, paused or not. Among versions
    /// effective the same day, the later-recorded one wins.
    pub fn version_at(&self, date: Date) -> Option<&ProtocolVersion> {
        self.versions.iter().rev().find(|v| v.effective_from <= date)
    }

    /// The status on `date`.
    pub fn status_at(&self, date: Date) -> ProtocolStatus {
        if self.version_at(date).is_none() {
            return ProtocolStatus::NotStarted;
        }
        self.status_changes
            .iter()
            .rev()
            .find(|c| c.on <= date)
            .map_or(ProtocolStatus::Active, |c| c.status)
    }

    /// The version in force on `date`: `None` before it started, while paused, or after
    /// it ended.
    pub fn in_force_at(&self, date: Date) -> Option<&ProtocolVersion> {
        (self.status_at(date) == ProtocolStatus::Active)
            .then(|| self.version_at(date))
            .flatten()
    }

    /// Whether any version (current or earlier) has the item.
    pub fn has_item(&self, item_id: ItemId) -> bool {
        self.versions
            .iter()
            .any(|v| v.items.iter().any(|i| i.item_id == item_id))
    }

    /// The item as defined by the version in force on `date`.
    pub fn item_at(&self, item_id: ItemId, date: Date) -> Option<&ProtocolItem> {
        self.in_force_at(date)?
            .items
            .iter()
            .find(|i| i.item_id == item_id && i.runs_on(date))
    }

    /// When doses of `item_id` were or are scheduled within `[from, to)`, following each
    /// version's schedule during that version's period and skipping paused and ended days.
    /// Times are built in the user's `offset`.
    pub fn scheduled_doses(
        &self,
        item_id: ItemId,
        offset: UtcOffset,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Vec<OffsetDateTime> {
        let midnight = |date: Date| date.midnight().assume_offset(offset);
        let mut found = Vec::new();
        for (index, version) in self.versions.iter().enumerate() {
            let Some(item) = version.items.iter().find(|i| i.item_id == item_id) else {
                continue;
            };
            let period_start = midnight(version.effective_from).max(from);
            let period_end = self
                .versions
                .get(index + 1)
                .map_or(to, |next| midnight(next.effective_from).min(to));
            let occurrences = item
                .schedule
                .frequency
                .occurrences(item.anchor(offset), period_start, period_end);
            found.extend(occurrences.into_iter().filter(|at| {
                let day = at.to_offset(offset).date();
                item.runs_on(day) && self.status_at(day) == ProtocolStatus::Active
            }));
        }
        found
    }
}
