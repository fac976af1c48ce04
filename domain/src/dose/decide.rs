//! Dose-log rules.

use time::{Duration, OffsetDateTime};

use super::command::DoseCommand;
use super::error::DoseLogError;
use super::event::{ActiveAmount, DoseEvent};
use super::site::InjectionSite;
use super::state::{DoseEntry, DoseLogState, DoseOutcome};
use crate::compounds::{Compound, Route};
use crate::protocol::dose::{Dose, DoseError, DoseUnit};
use crate::values::DoseId;

/// Tolerated disagreement between the device clock and the server's.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The aggregate's `decide`.
pub(super) fn decide(state: &DoseLogState, command: DoseCommand) -> Result<Vec<DoseEvent>, DoseLogError> {
    match command {
        DoseCommand::LogDoseTaken {
            dose_id,
            protocol_id,
            item_id,
            compound,
            dose,
            route,
            site,
            taken_at,
            scheduled_for,
            note,
            recorded_at,
        } => {
            if state.entries.contains_key(&dose_id) {
                return Err(DoseLogError::DuplicateDose(dose_id));
            }
            let active = check_dose(&compound, &dose, route, site)?;
            not_in_future(taken_at, recorded_at)?;
            Ok(vec![DoseEvent::DoseTaken {
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
                note: note.filter(|n| !n.trim().is_empty()),
                recorded_at,
            }])
        }
        DoseCommand::LogDoseSkipped {
            dose_id,
            protocol_id,
            item_id,
            scheduled_for,
            reason,
            recorded_at,
        } => {
            if state.entries.contains_key(&dose_id) {
                return Err(DoseLogError::DuplicateDose(dose_id));
            }
            Ok(vec![DoseEvent::DoseSkipped {
                dose_id,
                protocol_id,
                item_id,
                scheduled_for,
                reason,
                recorded_at,
            }])
        }
        DoseCommand::CorrectDose {
            dose_id,
            dose,
            route,
            site,
            taken_at,
            scheduled_for,
            reason,
            corrected_at,
        } => {
            let entry = live_entry(state, dose_id)?;
            let (DoseOutcome::Taken { .. }, Some(compound)) = (&entry.outcome, &entry.compound) else {
                return Err(DoseLogError::NotATakenDose(dose_id));
            };
            let active = check_dose(compound, &dose, route, site)?;
            not_in_future(taken_at, corrected_at)?;
            Ok(vec![DoseEvent::DoseCorrected {
                dose_id,
                dose,
                active,
                route,
                site,
                taken_at,
                scheduled_for,
                reason,
                corrected_at,
            }])
        }
        DoseCommand::RetractDose {
            dose_id,
            reason,
            retracted_at,
        } => {
            live_entry(state, dose_id)?;
            Ok(vec![DoseEvent::DoseRetracted {
                dose_id,
                reason,
                retracted_at,
            }])
        }
    }
}

fn live_entry(state: &DoseLogState, dose_id: DoseId) -> Result<&DoseEntry, DoseLogError> {
    let entry = state.entries.get(&dose_id).ok_or(DoseLogError::UnknownDose(dose_id))?;
    if entry.retracted {
        return Err(DoseLogError::DoseRetracted(dose_id));
    }
    Ok(entry)
}

fn not_in_future(taken_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), DoseLogError> {
    if taken_at > now + CLOCK_SKEW {
        return Err(DoseLogError::TakenInFuture);
    }
    Ok(())
}

/// Validates amount, unit and site; returns the derived active amount.
fn check_dose(
    compound: &Compound,
    dose: &Dose,
    route: Route,
    site: Option<InjectionSite>,
) -> Result<ActiveAmount, DoseLogError> {
    dose.validate().map_err(DoseLogError::InvalidDose)?;
    let (amount, unit) = dose
        .active_amount()
        .ok_or(DoseLogError::InvalidDose(DoseError::InvalidConcentration))?;
    if let Compound::Catalog(key) = compound
        && !unit.suits(key.info().dose_kind)
    {
        return Err(DoseLogError::UnitUnsuitable {
            unit: unit_symbol(dose, unit),
            compound: key.info().name,
        });
    }
    if site.is_some() && !route.takes_injection_site() {
        return Err(DoseLogError::SiteNotApplicable);
    }
    Ok(ActiveAmount { amount, unit })
}

/// The unit the user wrote (mcg reads better than the derived mg in a message).
fn unit_symbol(dose: &Dose, active: DoseUnit) -> &'static str {
    match dose.unit {
        DoseUnit::Ml => active.symbol(),
        unit => unit.symbol(),
    }
}
