//! Bloodwork rules.

use std::collections::BTreeSet;

use time::{Duration, OffsetDateTime};

use super::command::{BloodworkCommand, ResultInput};
use super::error::BloodworkError;
use super::event::{BloodworkEvent, MarkerRef, RecordedResult};
use super::interpret::interpret;
use super::state::{BloodworkState, Panel};
use crate::values::PanelId;

/// Tolerated disagreement between the device clock and the server's.
const CLOCK_SKEW: Duration = Duration::minutes(5);
const MAX_LAB_NAME: usize = 100;

/// The aggregate's `decide`.
pub(super) fn decide(state: &BloodworkState, command: BloodworkCommand) -> Result<Vec<BloodworkEvent>, BloodworkError> {
    match command {
        BloodworkCommand::RecordPanel {
            panel_id,
            drawn_at,
            lab_name,
            results,
            recorded_at,
        } => {
            if state.panels.contains_key(&panel_id) {
                return Err(BloodworkError::DuplicatePanel(panel_id));
            }
            not_in_future(drawn_at, recorded_at)?;
            Ok(vec![BloodworkEvent::BloodworkRecorded {
                panel_id,
                drawn_at,
                lab_name: lab_name_rule(lab_name)?,
                results: interpret_all(results)?,
                recorded_at,
            }])
        }
        BloodworkCommand::CorrectPanel {
            panel_id,
            drawn_at,
            lab_name,
            results,
            reason,
            corrected_at,
        } => {
            live_panel(state, panel_id)?;
            not_in_future(drawn_at, corrected_at)?;
            Ok(vec![BloodworkEvent::BloodworkCorrected {
                panel_id,
                drawn_at,
                lab_name: lab_name_rule(lab_name)?,
                results: interpret_all(results)?,
                reason,
                corrected_at,
            }])
        }
        BloodworkCommand::RetractPanel {
            panel_id,
            reason,
            retracted_at,
        } => {
            live_panel(state, panel_id)?;
            Ok(vec![BloodworkEvent::BloodworkRetracted {
                panel_id,
                reason,
                retracted_at,
            }])
        }
    }
}

fn live_panel(state: &BloodworkState, panel_id: PanelId) -> Result<&Panel, BloodworkError> {
    let panel = state
        .panels
        .get(&panel_id)
        .ok_or(BloodworkError::UnknownPanel(panel_id))?;
    if panel.retracted {
        return Err(BloodworkError::PanelRetracted(panel_id));
    }
    Ok(panel)
}

fn not_in_future(drawn_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), BloodworkError> {
    if drawn_at > now + CLOCK_SKEW {
        return Err(BloodworkError::DrawnInFuture);
    }
    Ok(())
}

fn lab_name_rule(lab_name: Option<String>) -> Result<Option<String>, BloodworkError> {
    let lab_name = lab_name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if lab_name.as_ref().is_some_and(|n| n.chars().count() > MAX_LAB_NAME) {
        return Err(BloodworkError::LabNameTooLong);
    }
    Ok(lab_name)
}

fn interpret_all(results: Vec<ResultInput>) -> Result<Vec<RecordedResult>, BloodworkError> {
    if results.is_empty() {
        return Err(BloodworkError::NoResults);
    }
    let mut seen = BTreeSet::new();
    results
        .into_iter()
        .enumerate()
        .map(|(index, input)| {
            let result = interpret(index + 1, input)?;
            // Two values for one analyte in one draw make trends ambiguous.
            let key = match &result.marker {
                MarkerRef::Catalog { marker } => format!("{marker:?}"),
                MarkerRef::Custom { name } => name.to_lowercase(),
            };
            if !seen.insert(key) {
                return Err(BloodworkError::DuplicateMarker(result.name));
            }
            Ok(result)
        })
        .collect()
}
