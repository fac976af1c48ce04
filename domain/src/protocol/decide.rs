//! Protocol rules.

use std::collections::BTreeSet;

use time::Date;

use super::command::{ItemOrigin, ItemSpec, ProtocolCommand};
use super::error::ProtocolError;
use super::event::ProtocolEvent;
use super::item::ProtocolItem;
use super::state::{ProtocolState, ProtocolStatus};

const MAX_NAME: usize = 100;

/// The aggregate's `decide`.
pub(super) fn decide(state: &ProtocolState, command: ProtocolCommand) -> Result<Vec<ProtocolEvent>, ProtocolError> {
    if let ProtocolCommand::Define {
        protocol_id,
        owner,
        name,
        items,
        effective_from,
        recorded_at,
    } = command
    {
        if state.is_defined() {
            return Err(ProtocolError::AlreadyDefined);
        }
        return Ok(vec![ProtocolEvent::ProtocolDefined {
            protocol_id,
            owner,
            name: validate_name(&name)?,
            items: validate_items(state, items)?,
            effective_from,
            recorded_at,
        }]);
    }
    if !state.is_defined() {
        return Err(ProtocolError::NotDefined);
    }
    if state.status() == ProtocolStatus::Ended {
        return Err(ProtocolError::Ended);
    }
    match command {
        ProtocolCommand::Define { .. } => Err(ProtocolError::AlreadyDefined),
        ProtocolCommand::Amend {
            name,
            items,
            effective_from,
            reason,
            recorded_at,
        } => {
            let current = state.current().ok_or(ProtocolError::NotDefined)?;
            // Same-day amendments are allowed (the later one wins that day, the earlier
            // stays recorded); earlier ones would silently rewrite past dates.
            if effective_from < current.effective_from {
                return Err(ProtocolError::EffectiveBeforeCurrentVersion {
                    current: current.effective_from,
                });
            }
            Ok(vec![ProtocolEvent::ProtocolAmended {
                version: current.version + 1,
                name: validate_name(&name)?,
                items: validate_items(state, items)?,
                effective_from,
                reason: reason.filter(|r| !r.trim().is_empty()),
                recorded_at,
            }])
        }
        ProtocolCommand::Pause {
            on,
            reason,
            recorded_at,
        } => {
            if state.status() == ProtocolStatus::Paused {
                return Err(ProtocolError::AlreadyPaused);
            }
            not_before_last_change(state, on)?;
            Ok(vec![ProtocolEvent::ProtocolPaused {
                on,
                reason: reason.filter(|r| !r.trim().is_empty()),
                recorded_at,
            }])
        }
        ProtocolCommand::Resume { on, recorded_at } => {
            if state.status() != ProtocolStatus::Paused {
                return Err(ProtocolError::NotPaused);
            }
            not_before_last_change(state, on)?;
            Ok(vec![ProtocolEvent::ProtocolResumed { on, recorded_at }])
        }
        ProtocolCommand::End { on, recorded_at } => {
            not_before_last_change(state, on)?;
            Ok(vec![ProtocolEvent::ProtocolEnded { on, recorded_at }])
        }
    }
}

fn not_before_last_change(state: &ProtocolState, on: Date) -> Result<(), ProtocolError> {
    match state.last_change_date() {
        Some(last) if on < last => Err(ProtocolError::DateBeforeLastChange { last }),
        _ => Ok(()),
    }
}

fn validate_name(name: &str) -> Result<String, ProtocolError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ProtocolError::InvalidName);
    }
    Ok(name.to_owned())
}

fn validate_items(state: &ProtocolState, specs: Vec<ItemSpec>) -> Result<Vec<ProtocolItem>, ProtocolError> {
    if specs.is_empty() {
        return Err(ProtocolError::NoItems);
    }
    let mut seen = BTreeSet::new();
    specs
        .into_iter()
        .map(|spec| {
            let item_id = spec.item_id;
            if !seen.insert(item_id) {
                return Err(ProtocolError::DuplicateItem(item_id));
            }
            // An id to keep must name an item this protocol has had: otherwise a mistyped or
            // foreign id would be recorded as the continuation of an item that never existed.
            // A definition has no items to keep at all.
            if spec.origin == ItemOrigin::Kept && !state.has_item(item_id) {
                return Err(ProtocolError::UnknownItem(item_id));
            }
            spec.into_item()
                .map_err(|problem| ProtocolError::InvalidItem { item_id, problem })
        })
        .collect()
}
