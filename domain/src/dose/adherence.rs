//! Adherence and next-due: pure functions over scheduled slots and the dose log.
//!
//! Owns: matching log entries to scheduled slots and classifying each slot. Must not:
//! generate the schedule (see `ProtocolState::scheduled_doses`) or read the clock (`as_of`
//! is a parameter).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::state::{DoseLogState, DoseOutcome};
use crate::protocol::ProtocolState;
use crate::values::{Decimal, DoseId, ItemId};

/// How strictly slots are judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdherencePolicy {
    /// A dose taken up to this long after its slot is on time (earlier always is).
    pub on_time_within: Duration,
    /// A dose logged without naming its slot is matched to a slot at most this far away.
    pub match_window: Duration,
}

impl Default for AdherencePolicy {
    /// Two hours' grace; unlabelled doses match within a day.
    fn default() -> Self {
        AdherencePolicy {
            on_time_within: Duration::hours(2),
            match_window: Duration::hours(24),
        }
    }
}

/// What happened to one scheduled slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum SlotStatus {
    /// Taken no later than the grace period allows.
    OnTime {
        /// The entry.
        dose_id: DoseId,
    },
    /// Taken after the grace period.
    Late {
        /// The entry.
        dose_id: DoseId,
        /// Minutes after the slot.
        minutes_late: i64,
    },
    /// Deliberately skipped.
    Skipped {
        /// The entry.
        dose_id: DoseId,
    },
    /// Nothing logged and the grace period is over.
    Missed,
    /// Not yet due (grace period still running).
    Pending,
}

/// One slot and its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotOutcome {
    /// The scheduled time.
    #[serde(with = "time::serde::rfc3339")]
    pub scheduled_for: OffsetDateTime,
    /// What happened.
    pub status: SlotStatus,
}

/// Summary over a window of slots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdherenceReport {
    /// Every slot, ascending.
    pub slots: Vec<SlotOutcome>,
    /// Slots whose grace period is over.
    pub due: u32,
    /// Taken on time.
    pub on_time: u32,
    /// Taken late.
    pub late: u32,
    /// Skipped.
    pub skipped: u32,
    /// Missed.
    pub missed: u32,
    /// `on_time / due × 100`, one decimal; `None` when nothing was due.
    pub on_time_percent: Option<Decimal>,
}

/// Classifies each of `scheduled` (slots of one item) against the log as of `as_of`.
pub fn adherence(
    scheduled: &[OffsetDateTime],
    log: &DoseLogState,
    item_id: ItemId,
    as_of: OffsetDateTime,
    policy: AdherencePolicy,
) -> AdherenceReport {
    let mut slots: Vec<OffsetDateTime> = scheduled.to_vec();
    slots.sort();
    slots.dedup();
    let entries: Vec<_> = log.live().filter(|(_, e)| e.item_id == item_id).collect();
    let mut used: Vec<DoseId> = Vec::new();

    let outcomes: Vec<SlotOutcome> = slots
        .iter()
        .map(|&slot| {
            // An entry naming this slot wins; otherwise the nearest unlabelled dose.
            let labelled = entries
                .iter()
                .find(|(id, e)| e.scheduled_for == Some(slot) && !used.contains(id));
            let matched = labelled.or_else(|| {
                entries
                    .iter()
                    .filter(|(id, e)| e.scheduled_for.is_none() && !used.contains(id))
                    .filter_map(|entry| match entry.1.outcome {
                        DoseOutcome::Taken { taken_at, .. } => {
                            let distance = (taken_at - slot).abs();
                            (distance <= policy.match_window).then_some((distance, entry))
                        }
                        DoseOutcome::Skipped => None,
                    })
                    .min_by_key(|(distance, _)| *distance)
                    .map(|(_, entry)| entry)
            });
            let status = match matched {
                Some((id, entry)) => {
                    used.push(**id);
                    match entry.outcome {
                        DoseOutcome::Skipped => SlotStatus::Skipped { dose_id: **id },
                        DoseOutcome::Taken { taken_at, .. } if taken_at <= slot + policy.on_time_within => {
                            SlotStatus::OnTime { dose_id: **id }
                        }
                        DoseOutcome::Taken { taken_at, .. } => SlotStatus::Late {
                            dose_id: **id,
                            minutes_late: (taken_at - slot).whole_minutes(),
                        },
                    }
                }
                None if slot + policy.on_time_within < as_of => SlotStatus::Missed,
                None => SlotStatus::Pending,
            };
            SlotOutcome {
                scheduled_for: slot,
                status,
            }
        })
        .collect();

    let count = |f: fn(&SlotStatus) -> bool| {
        u32::try_from(outcomes.iter().filter(|o| f(&o.status)).count()).unwrap_or(u32::MAX)
    };
    let on_time = count(|s| matches!(s, SlotStatus::OnTime { .. }));
    let late = count(|s| matches!(s, SlotStatus::Late { .. }));
    let skipped = count(|s| matches!(s, SlotStatus::Skipped { .. }));
    let missed = count(|s| matches!(s, SlotStatus::Missed));
    let due = on_time + late + skipped + missed;
    let on_time_percent = (due > 0)
        .then(|| Decimal::from_int(i64::from(on_time) * 100).checked_div(Decimal::from_int(i64::from(due)), 1))
        .flatten();
    AdherenceReport {
        slots: outcomes,
        due,
        on_time,
        late,
        skipped,
        missed,
        on_time_percent,
    }
}

/// The next slot of `item_id` still waiting for a dose as of `as_of`: a slot whose grace
/// period is still running, or the first one after it. `None` for PRN items, or when the
/// protocol has ended or nothing is scheduled within a year.
pub fn next_due(
    protocol: &ProtocolState,
    log: &DoseLogState,
    item_id: ItemId,
    offset: UtcOffset,
    as_of: OffsetDateTime,
    policy: AdherencePolicy,
) -> Option<OffsetDateTime> {
    let from = as_of - policy.on_time_within.max(policy.match_window);
    // Matching is greedy in slot order, so a slot's status never depends on later slots: the
    // first pending slot of a short lookahead is the first of any longer one. Most items are
    // due within days, and a year of slots matched against the whole log was a fifth of a
    // dashboard request's CPU.
    LOOKAHEAD_DAYS.into_iter().find_map(|days| {
        let slots = protocol.scheduled_doses(item_id, offset, from, as_of + Duration::days(days));
        adherence(&slots, log, item_id, as_of, policy)
            .slots
            .into_iter()
            .find(|s| s.status == SlotStatus::Pending)
            .map(|s| s.scheduled_for)
    })
}

/// Lookaheads `next_due` tries in turn; the last one is how far it looks at most.
const LOOKAHEAD_DAYS: [i64; 3] = [8, 62, 366];
