//! Keeping a person's cached latest vitals current when a new reading arrives, instead of
//! reading them again (after every write, that query was most of the next dashboard's cost).
//! The latest live reading of a kind is the greatest `(measured_at, entry id)` among its
//! recorded, unretracted readings, so a recorded reading merges in, and merging one twice or
//! out of order gives the same answer: a cached part read while the runner's batch was being
//! committed may already hold it. Anything else (a correction, a retraction, a kind outside
//! the catalogue, an undecodable event) is `Unknown`, and the part is dropped and read again.
//! What a merge yields must equal what `read::latest_vitals` returns for the same rows (the
//! cache's tests compare the two on both backends). Must not touch the database.

use vigil_domain::health::{HealthEvent, VITALS};
use vigil_eventstore::RecordedEvent;

use crate::apply::{micros, name_of};
use crate::read::{HealthLogView, at_micros};

/// What a recorded event does to a person's latest vitals.
pub(super) enum Merge {
    /// Nothing: an older (or the same) reading of a kind already known.
    Unchanged,
    /// The new latest vitals.
    Into(Vec<HealthLogView>),
    /// Not a plain new reading: read the part again.
    Unknown,
}

/// Merges `event` (of the person's health stream) into `current`.
pub(super) fn merge(current: &[HealthLogView], event: &RecordedEvent) -> Merge {
    let Ok(Some(HealthEvent::VitalRecorded {
        entry_id,
        kind,
        loinc,
        components,
        measured_at,
        note,
        ..
    })) = event.decode::<HealthEvent>()
    else {
        return Merge::Unknown;
    };
    if !VITALS.iter().any(|spec| spec.kind == kind) {
        return Merge::Unknown;
    }
    // As the row reads back: time in whole microseconds.
    let Ok(measured_at) = at_micros(micros(measured_at)) else {
        return Merge::Unknown;
    };
    let reading = HealthLogView {
        entry_id: entry_id.as_uuid(),
        kind,
        loinc,
        components,
        measured_at,
        note,
        corrections: 0,
        retracted: false,
    };
    let order = |v: &HealthLogView| (micros(v.measured_at), v.entry_id);
    let known = current.iter().position(|v| v.kind == reading.kind);
    if known.is_some_and(|i| order(&current[i]) >= order(&reading)) {
        return Merge::Unchanged;
    }
    let mut next = current.to_vec();
    match known {
        Some(i) => next[i] = reading,
        None => {
            next.push(reading);
            // The query orders by the stored kind name.
            let mut named = Vec::with_capacity(next.len());
            for view in next {
                let Ok(name) = name_of(&view.kind) else {
                    return Merge::Unknown;
                };
                named.push((name, view));
            }
            named.sort_by(|a, b| a.0.cmp(&b.0));
            next = named.into_iter().map(|(_, v)| v).collect();
        }
    }
    Merge::Into(next)
}
