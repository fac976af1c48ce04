//! Health-log rules: units, plausibility, BP as a panel, corrections and retractions.

use time::{Duration, OffsetDateTime};

use super::command::{HealthCommand, VitalReading};
use super::error::HealthError;
use super::event::{HealthEvent, VitalComponent};
use super::state::{HealthEntry, HealthLogState};
use super::vitals::{DIASTOLIC, QuantitySpec, SYSTOLIC, VitalKind};
use crate::values::{Decimal, EntryId};

/// Device and server clocks disagree a little; a reading "measured" this far ahead of
/// `recorded_at` is still accepted.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The aggregate's `decide`.
pub(super) fn decide(state: &HealthLogState, command: HealthCommand) -> Result<Vec<HealthEvent>, HealthError> {
    match command {
        HealthCommand::RecordVital {
            entry_id,
            reading,
            measured_at,
            note,
            recorded_at,
        } => {
            if state.entries.contains_key(&entry_id) {
                return Err(HealthError::DuplicateEntry(entry_id));
            }
            not_in_future(measured_at, recorded_at)?;
            let kind = reading.kind();
            Ok(vec![HealthEvent::VitalRecorded {
                entry_id,
                kind,
                loinc: kind.spec().loinc.to_owned(),
                components: components(&reading)?,
                measured_at,
                note: note.filter(|n| !n.trim().is_empty()),
                recorded_at,
            }])
        }
        HealthCommand::CorrectVital {
            entry_id,
            reading,
            measured_at,
            reason,
            corrected_at,
        } => {
            let entry = live_entry(state, entry_id)?;
            if entry.kind != reading.kind() {
                return Err(HealthError::KindChanged {
                    from: entry.kind,
                    to: reading.kind(),
                });
            }
            not_in_future(measured_at, corrected_at)?;
            Ok(vec![HealthEvent::VitalCorrected {
                entry_id,
                kind: entry.kind,
                components: components(&reading)?,
                measured_at,
                reason,
                corrected_at,
            }])
        }
        HealthCommand::RetractVital {
            entry_id,
            reason,
            retracted_at,
        } => {
            live_entry(state, entry_id)?;
            Ok(vec![HealthEvent::VitalRetracted {
                entry_id,
                reason,
                retracted_at,
            }])
        }
    }
}

fn live_entry(state: &HealthLogState, entry_id: EntryId) -> Result<&HealthEntry, HealthError> {
    let entry = state
        .entries
        .get(&entry_id)
        .ok_or(HealthError::UnknownEntry(entry_id))?;
    if entry.retracted {
        return Err(HealthError::EntryRetracted(entry_id));
    }
    Ok(entry)
}

fn not_in_future(measured_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), HealthError> {
    if measured_at > now + CLOCK_SKEW {
        return Err(HealthError::MeasuredInFuture);
    }
    Ok(())
}

fn components(reading: &VitalReading) -> Result<Vec<VitalComponent>, HealthError> {
    match reading {
        VitalReading::BloodPressure { systolic, diastolic } => {
            let systolic = component(&SYSTOLIC, *systolic, "mm[Hg]")?;
            let diastolic = component(&DIASTOLIC, *diastolic, "mm[Hg]")?;
            if systolic.canonical_value.numeric_cmp(diastolic.canonical_value).is_le() {
                return Err(HealthError::SystolicNotAboveDiastolic);
            }
            Ok(vec![systolic, diastolic])
        }
        VitalReading::Quantity { kind, value, unit } => {
            let spec = match (kind, kind.spec().quantities) {
                (VitalKind::BloodPressure, _) | (_, []) => {
                    return Err(HealthError::BloodPressureNeedsPanel);
                }
                (_, [spec, ..]) => spec,
            };
            Ok(vec![component(spec, *value, unit)?])
        }
    }
}

fn component(spec: &QuantitySpec, value: Decimal, unit: &str) -> Result<VitalComponent, HealthError> {
    let unsupported = || HealthError::UnsupportedUnit {
        label: spec.label,
        unit: unit.to_owned(),
    };
    let conversion = spec.conversion(unit).ok_or_else(unsupported)?;
    let canonical_value = spec.to_canonical(value, conversion).ok_or_else(unsupported)?;
    if !spec.is_plausible(canonical_value) {
        return Err(HealthError::Implausible {
            label: spec.label,
            value: canonical_value.to_string(),
            canonical_unit: spec.canonical_unit,
            min: spec.min.to_string(),
            max: spec.max.to_string(),
        });
    }
    Ok(VitalComponent {
        loinc: spec.loinc.to_owned(),
        value,
        unit: unit.trim().to_owned(),
        canonical_value,
        canonical_unit: spec.canonical_unit.to_owned(),
    })
}
