//! The record of backups and restore drills, kept as events of one system stream so every node
//! can tell the age of the newest verified backup and the last drill's verdict (the metrics and
//! alerts read them), and an auditor can see that backups were taken and tested.
//!
//! Owns: what a backup or drill record says and the checks on it. Must not: take, encrypt or
//! restore anything, read a clock, or know where archives are kept.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aggregate::{Aggregate, DomainEvent};

/// The one stream of backup records.
pub const STREAM: &str = "system-backups";
/// Longest backup id, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Longest failure description, in characters.
pub const MAX_FAILURE_CHARS: usize = 500;

/// Backup commands.
#[derive(Clone, Debug, PartialEq)]
pub enum BackupCommand {
    /// Record a backup set that was written and checked.
    RecordCreated(Created),
    /// Record a restore drill's verdict.
    RecordDrill(Drilled),
}

/// A backup set, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// The set's id (letters, digits, `-`; its directory name).
    pub id: String,
    /// Who took it (`system:cli`, `system:backup-job`).
    pub by: String,
    /// When the snapshot was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The log's head position in the snapshot.
    pub head_position: u64,
    /// Bytes of the log archive.
    pub log_bytes: u64,
    /// Bytes of the vault archive.
    pub vault_bytes: u64,
}

/// A drill's verdict, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drilled {
    /// The backup set drilled.
    pub id: String,
    /// Who ran it.
    pub by: String,
    /// When it finished.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether every check passed.
    pub passed: bool,
    /// How many checks failed.
    pub failures: u32,
    /// The first failure, when one failed (no personal data: table names, counts, positions).
    pub first_failure: Option<String>,
}

/// Backup events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum BackupEvent {
    /// A backup set was written and its snapshot's chain verified.
    BackupCreated(Created),
    /// A restore drill ran.
    BackupDrilled(Drilled),
}

impl DomainEvent for BackupEvent {
    fn event_type(&self) -> &'static str {
        match self {
            BackupEvent::BackupCreated(_) => "BackupCreated",
            BackupEvent::BackupDrilled(_) => "BackupDrilled",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}

/// What the stream says now.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BackupState {
    /// The newest backup set recorded.
    pub last_created: Option<Created>,
    /// The newest drill recorded.
    pub last_drill: Option<Drilled>,
    /// When the newest set whose drill passed was taken.
    pub last_drilled_ok_at: Option<OffsetDateTime>,
}

/// Why a backup record was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// The id is empty, too long or holds characters other than letters, digits and `-`.
    #[error("a backup id is 1 to 64 letters, digits or '-'")]
    InvalidId,
    /// The failure text is too long or holds control characters.
    #[error("a drill failure is at most 500 characters without control characters")]
    InvalidFailure,
    /// A drill that passed names a failure, or one that failed names none.
    #[error("a drill passes with no failures and fails with at least one")]
    Inconsistent,
}

/// The backup record aggregate.
pub struct Backups;

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= MAX_ID_CHARS && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl Aggregate for Backups {
    const NAME: &'static str = "backups";
    type State = BackupState;
    type Command = BackupCommand;
    type Event = BackupEvent;
    type Error = BackupError;

    fn decide(_state: &BackupState, command: BackupCommand) -> Result<Vec<BackupEvent>, BackupError> {
        match command {
            BackupCommand::RecordCreated(created) => {
                if !valid_id(&created.id) {
                    return Err(BackupError::InvalidId);
                }
                Ok(vec![BackupEvent::BackupCreated(created)])
            }
            BackupCommand::RecordDrill(drilled) => {
                if !valid_id(&drilled.id) {
                    return Err(BackupError::InvalidId);
                }
                if let Some(text) = &drilled.first_failure
                    && (text.chars().count() > MAX_FAILURE_CHARS || text.chars().any(char::is_control))
                {
                    return Err(BackupError::InvalidFailure);
                }
                if drilled.passed != (drilled.failures == 0) || drilled.passed == drilled.first_failure.is_some() {
                    return Err(BackupError::Inconsistent);
                }
                Ok(vec![BackupEvent::BackupDrilled(drilled)])
            }
        }
    }

    fn evolve(state: BackupState, event: &BackupEvent) -> BackupState {
        match event {
            BackupEvent::BackupCreated(created) => BackupState {
                last_created: Some(created.clone()),
                ..state
            },
            BackupEvent::BackupDrilled(drilled) => {
                // The drilled set's own time when it is the one recorded last; else the drill's.
                let taken = match &state.last_created {
                    Some(c) if c.id == drilled.id => c.at,
                    _ => drilled.at,
                };
                BackupState {
                    last_drilled_ok_at: if drilled.passed {
                        Some(state.last_drilled_ok_at.map_or(taken, |t| t.max(taken)))
                    } else {
                        state.last_drilled_ok_at
                    },
                    last_drill: Some(drilled.clone()),
                    ..state
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::aggregate::execute;

    fn created(id: &str) -> BackupCommand {
        BackupCommand::RecordCreated(Created {
            id: id.into(),
            by: "system:cli".into(),
            at: datetime!(2026-12-07 03:00 UTC),
            head_position: 42,
            log_bytes: 1000,
            vault_bytes: 100,
        })
    }

    fn drill(passed: bool, failure: Option<&str>) -> BackupCommand {
        BackupCommand::RecordDrill(Drilled {
            id: "20261207T030000Z-ab12".into(),
            by: "system:cli".into(),
            at: datetime!(2026-12-07 04:00 UTC),
            passed,
            failures: u32::from(!passed),
            first_failure: failure.map(str::to_owned),
        })
    }

    #[test]
    fn a_created_set_then_a_passing_drill_dates_the_last_verified_backup_by_the_set() {
        let (state, _) = execute::<Backups>(BackupState::default(), created("20261207T030000Z-ab12")).unwrap();
        let (state, _) = execute::<Backups>(state, drill(true, None)).unwrap();
        assert_eq!(state.last_drilled_ok_at, Some(datetime!(2026-12-07 03:00 UTC)));
        let (state, _) = execute::<Backups>(state, drill(false, Some("rows of log.events: 41, manifest 42"))).unwrap();
        assert_eq!(state.last_drilled_ok_at, Some(datetime!(2026-12-07 03:00 UTC)));
        assert!(!state.last_drill.unwrap().passed);
    }

    #[test]
    fn bad_ids_and_inconsistent_verdicts_are_refused() {
        assert_eq!(
            execute::<Backups>(BackupState::default(), created("../etc")).unwrap_err(),
            BackupError::InvalidId
        );
        assert_eq!(
            execute::<Backups>(BackupState::default(), created("")).unwrap_err(),
            BackupError::InvalidId
        );
        assert_eq!(
            execute::<Backups>(BackupState::default(), drill(true, Some("x"))).unwrap_err(),
            BackupError::Inconsistent
        );
        assert_eq!(
            execute::<Backups>(BackupState::default(), drill(false, Some("a\nb"))).unwrap_err(),
            BackupError::InvalidFailure
        );
    }
}
