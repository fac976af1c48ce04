//! The service's maintenance mode: the read-only switch (the "kill switch"), kept as events of
//! one system stream so every node and every auditor can tell when writes were stopped, by
//! whom and why.
//!
//! Owns: whether the service is read-only, since when, by whom and why. Must not: decide who
//! may flip it (the api requires an admin with a fresh second factor, or the server's command
//! line), read a clock, or know how nodes learn of a flip.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aggregate::{Aggregate, DomainEvent};

/// The one stream holding the switch.
pub const STREAM: &str = "system-maintenance";
/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Maintenance commands.
#[derive(Clone, Debug, PartialEq)]
pub enum MaintenanceCommand {
    /// Refuse every mutation until switched off.
    EnableReadOnly {
        /// Who asks (`system:cli`, `user:<uuid>`).
        by: String,
        /// Why, as typed (1–500 characters, no control characters).
        reason: String,
        /// Now.
        at: OffsetDateTime,
    },
    /// Accept mutations again.
    DisableReadOnly {
        /// Who asks.
        by: String,
        /// Why (1–500 characters, no control characters).
        reason: String,
        /// Now.
        at: OffsetDateTime,
    },
}

/// Maintenance events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum MaintenanceEvent {
    /// Mutations are refused from now on.
    ReadOnlyEnabled {
        /// Who.
        by: String,
        /// Why.
        reason: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Mutations are accepted again.
    ReadOnlyDisabled {
        /// Who.
        by: String,
        /// Why.
        reason: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DomainEvent for MaintenanceEvent {
    fn event_type(&self) -> &'static str {
        match self {
            MaintenanceEvent::ReadOnlyEnabled { .. } => "ReadOnlyEnabled",
            MaintenanceEvent::ReadOnlyDisabled { .. } => "ReadOnlyDisabled",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}

/// Read-only since when, by whom and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOnly {
    /// Who switched it on.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub since: OffsetDateTime,
}

/// What the stream says now: `read_only` is `None` while writes are accepted.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MaintenanceState {
    /// The switch, when on.
    pub read_only: Option<ReadOnly>,
}

/// Why a maintenance command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MaintenanceError {
    /// The switch is already in the asked position.
    #[error("the service is already {0}")]
    AlreadyThere(&'static str),
    /// The reason is empty, longer than 500 characters or holds control characters.
    #[error("the reason must be 1 to 500 characters without control characters")]
    InvalidReason,
}

/// The maintenance aggregate.
pub struct Maintenance;

impl Aggregate for Maintenance {
    const NAME: &'static str = "maintenance";
    type State = MaintenanceState;
    type Command = MaintenanceCommand;
    type Event = MaintenanceEvent;
    type Error = MaintenanceError;

    fn decide(
        state: &MaintenanceState,
        command: MaintenanceCommand,
    ) -> Result<Vec<MaintenanceEvent>, MaintenanceError> {
        match command {
            MaintenanceCommand::EnableReadOnly { by, reason, at } => {
                if state.read_only.is_some() {
                    return Err(MaintenanceError::AlreadyThere("read-only"));
                }
                let reason = checked(reason)?;
                Ok(vec![MaintenanceEvent::ReadOnlyEnabled { by, reason, at }])
            }
            MaintenanceCommand::DisableReadOnly { by, reason, at } => {
                if state.read_only.is_none() {
                    return Err(MaintenanceError::AlreadyThere("accepting writes"));
                }
                let reason = checked(reason)?;
                Ok(vec![MaintenanceEvent::ReadOnlyDisabled { by, reason, at }])
            }
        }
    }

    fn evolve(_state: MaintenanceState, event: &MaintenanceEvent) -> MaintenanceState {
        match event {
            MaintenanceEvent::ReadOnlyEnabled { by, reason, at } => MaintenanceState {
                read_only: Some(ReadOnly {
                    by: by.clone(),
                    reason: reason.clone(),
                    since: *at,
                }),
            },
            MaintenanceEvent::ReadOnlyDisabled { .. } => MaintenanceState { read_only: None },
        }
    }
}

fn checked(reason: String) -> Result<String, MaintenanceError> {
    let trimmed = reason.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_REASON_CHARS || trimmed.chars().any(char::is_control) {
        return Err(MaintenanceError::InvalidReason);
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::aggregate::execute;

    const AT: OffsetDateTime = datetime!(2026-12-07 08:00 UTC);

    fn on(reason: &str) -> MaintenanceCommand {
        MaintenanceCommand::EnableReadOnly {
            by: "system:cli".into(),
            reason: reason.into(),
            at: AT,
        }
    }

    fn off() -> MaintenanceCommand {
        MaintenanceCommand::DisableReadOnly {
            by: "system:cli".into(),
            reason: "restore done".into(),
            at: AT,
        }
    }

    #[test]
    fn the_switch_goes_on_with_a_reason_and_off_again() {
        let (state, events) = execute::<Maintenance>(MaintenanceState::default(), on("  restoring a backup ")).unwrap();
        assert_eq!(events.len(), 1);
        let read_only = state.read_only.clone().unwrap();
        assert_eq!(read_only.reason, "restoring a backup");
        assert_eq!(read_only.since, AT);
        let (state, _) = execute::<Maintenance>(state, off()).unwrap();
        assert_eq!(state, MaintenanceState::default());
    }

    #[test]
    fn flipping_to_where_it_is_or_without_a_reason_is_refused() {
        assert_eq!(
            Maintenance::decide(&MaintenanceState::default(), off()),
            Err(MaintenanceError::AlreadyThere("accepting writes"))
        );
        let (state, _) = execute::<Maintenance>(MaintenanceState::default(), on("incident")).unwrap();
        assert_eq!(
            Maintenance::decide(&state, on("again")),
            Err(MaintenanceError::AlreadyThere("read-only"))
        );
        for bad in ["", "   ", "bell\u{7}", "\u{1b}[31mred", &"x".repeat(501)] {
            assert_eq!(
                Maintenance::decide(&MaintenanceState::default(), on(bad)),
                Err(MaintenanceError::InvalidReason),
                "{bad:?}"
            );
        }
    }
}
