//! Credentials: the password hash of an account, kept as events of its own stream so it is
//! sealed under the owner's key and erased with them.
//!
//! Owns: the `PasswordSet` event and the rule that a hash is a PHC string.
//! Must not: hash or verify passwords (that needs an RNG and CPU budget; the API does it and
//! hands over the finished hash inside the command).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aggregate::{Aggregate, DomainEvent};

/// Why a password hash was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordSetReason {
    /// At registration.
    Registered,
    /// The owner changed it.
    Changed,
    /// Re-hashed at login because the hashing parameters changed.
    Rehashed,
}

/// Credentials commands.
#[derive(Clone, Debug, PartialEq)]
pub enum CredentialsCommand {
    /// Store a new password hash.
    SetPassword {
        /// PHC string (`$argon2id$…`).
        password_hash: String,
        /// Why.
        reason: PasswordSetReason,
        /// When.
        at: OffsetDateTime,
    },
}

/// Credentials events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CredentialsEvent {
    /// A password hash was stored.
    PasswordSet {
        /// PHC string.
        password_hash: String,
        /// Why.
        reason: PasswordSetReason,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DomainEvent for CredentialsEvent {
    fn event_type(&self) -> &'static str {
        match self {
            CredentialsEvent::PasswordSet { .. } => "PasswordSet",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}

/// Current credentials.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CredentialsState {
    /// The latest hash.
    pub password_hash: Option<String>,
}

/// Why a credentials command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// The hash is not a PHC string (`$alg$…`). `BAD_USER_INPUT` (a server bug in practice).
    #[error("a password hash must be a PHC string")]
    NotAPhcString,
    /// A registration on an account that already has a password. `CONFLICT`.
    #[error("this account already has a password")]
    AlreadyRegistered,
    /// A change or rehash on an account without a password. `NOT_FOUND`.
    #[error("this account has no password yet")]
    NoPassword,
}

/// The credentials aggregate.
#[derive(Debug)]
pub struct Credentials;

impl Aggregate for Credentials {
    const NAME: &'static str = "credentials";
    type State = CredentialsState;
    type Command = CredentialsCommand;
    type Event = CredentialsEvent;
    type Error = CredentialsError;

    fn decide(
        state: &CredentialsState,
        command: CredentialsCommand,
    ) -> Result<Vec<CredentialsEvent>, CredentialsError> {
        match command {
            CredentialsCommand::SetPassword {
                password_hash,
                reason,
                at,
            } => {
                if !password_hash.starts_with('$') || password_hash.len() < 10 || password_hash.len() > 512 {
                    return Err(CredentialsError::NotAPhcString);
                }
                match (reason, state.password_hash.is_some()) {
                    (PasswordSetReason::Registered, true) => return Err(CredentialsError::AlreadyRegistered),
                    (PasswordSetReason::Changed | PasswordSetReason::Rehashed, false) => {
                        return Err(CredentialsError::NoPassword);
                    }
                    _ => {}
                }
                Ok(vec![CredentialsEvent::PasswordSet {
                    password_hash,
                    reason,
                    at,
                }])
            }
        }
    }

    fn evolve(_state: CredentialsState, event: &CredentialsEvent) -> CredentialsState {
        match event {
            CredentialsEvent::PasswordSet { password_hash, .. } => CredentialsState {
                password_hash: Some(password_hash.clone()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::execute;

    const AT: OffsetDateTime = time::macros::datetime!(2026-03-01 09:00 UTC);
    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

    fn set(reason: PasswordSetReason, hash: &str) -> CredentialsCommand {
        CredentialsCommand::SetPassword {
            password_hash: hash.into(),
            reason,
            at: AT,
        }
    }

    #[test]
    fn registering_a_password_records_its_hash() {
        let (state, events) =
            execute::<Credentials>(Default::default(), set(PasswordSetReason::Registered, HASH)).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(state.password_hash.as_deref(), Some(HASH));
    }

    #[test]
    fn registering_twice_is_a_conflict() {
        let (state, _) = execute::<Credentials>(Default::default(), set(PasswordSetReason::Registered, HASH)).unwrap();
        let err = execute::<Credentials>(state, set(PasswordSetReason::Registered, HASH)).unwrap_err();
        assert_eq!(err, CredentialsError::AlreadyRegistered);
    }

    #[test]
    fn changing_a_password_that_was_never_set_is_refused() {
        let err = execute::<Credentials>(Default::default(), set(PasswordSetReason::Changed, HASH)).unwrap_err();
        assert_eq!(err, CredentialsError::NoPassword);
    }

    #[test]
    fn a_plain_password_is_never_accepted_as_a_hash() {
        let err = execute::<Credentials>(Default::default(), set(PasswordSetReason::Registered, "hunter2hunter2"))
            .unwrap_err();
        assert_eq!(err, CredentialsError::NotAPhcString);
    }
}
