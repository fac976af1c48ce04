//! The second factor of an account: a TOTP secret (RFC 6238) and its one-time recovery codes,
//! kept as events of the account's own `totp-<user>` stream so the secret is sealed under the
//! owner's data key and erased with them.
//!
//! Owns: the enrolment lifecycle (started, confirmed, disabled) and which recovery codes are
//! still unused. Must not: generate secrets or codes, check a TOTP code, or read a clock: the
//! api does those (RNG, time) and hands over the results, so replaying the stream decides the
//! same way forever.

mod rules;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aggregate::{Aggregate, DomainEvent};

/// Recovery codes issued at confirmation.
pub const RECOVERY_CODES: usize = 10;

/// Second-factor commands.
#[derive(Clone, Debug, PartialEq)]
pub enum SecondFactorCommand {
    /// Remember a freshly generated secret until a code from it is confirmed. Replaces an
    /// earlier unconfirmed one.
    StartEnrolment {
        /// The shared secret, base32 (RFC 4648, no padding), 32 characters (160 bits).
        secret: String,
        /// When.
        at: OffsetDateTime,
    },
    /// Turn TOTP on: the api checked a code against the pending secret.
    Confirm {
        /// Hashes (64 lowercase hex characters each) of the recovery codes shown once.
        recovery_code_hashes: Vec<String>,
        /// When.
        at: OffsetDateTime,
    },
    /// Spend one recovery code (identified by its hash).
    UseRecoveryCode {
        /// The hash of the code presented.
        hash: String,
        /// When.
        at: OffsetDateTime,
    },
    /// Turn TOTP off: the api checked a current code.
    Disable {
        /// When.
        at: OffsetDateTime,
    },
}

/// Second-factor events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SecondFactorEvent {
    /// A secret was generated and shown; not yet in force.
    TotpEnrolmentStarted {
        /// base32 secret.
        secret: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// TOTP is on with the pending secret; these recovery codes are valid once each.
    TotpEnabled {
        /// Hashes of the recovery codes.
        recovery_code_hashes: Vec<String>,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A recovery code was used and is spent.
    RecoveryCodeUsed {
        /// Its hash.
        hash: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// TOTP is off; the secret and the remaining codes are void.
    TotpDisabled {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DomainEvent for SecondFactorEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SecondFactorEvent::TotpEnrolmentStarted { .. } => "TotpEnrolmentStarted",
            SecondFactorEvent::TotpEnabled { .. } => "TotpEnabled",
            SecondFactorEvent::RecoveryCodeUsed { .. } => "RecoveryCodeUsed",
            SecondFactorEvent::TotpDisabled { .. } => "TotpDisabled",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}

/// What the stream says now.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SecondFactorState {
    /// A secret shown but not confirmed.
    pub pending_secret: Option<String>,
    /// The secret in force (when enabled).
    pub secret: Option<String>,
    /// Hashes of the recovery codes not yet used.
    pub unused_recovery_codes: Vec<String>,
}

impl SecondFactorState {
    /// Whether sign-in needs a second factor.
    pub fn enabled(&self) -> bool {
        self.secret.is_some()
    }
}

/// Why a second-factor command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecondFactorError {
    /// Enrolment while TOTP is already on. `CONFLICT`.
    #[error("two-factor sign-in is already on; turn it off first")]
    AlreadyEnabled,
    /// Confirmation without a started enrolment. `CONFLICT`.
    #[error("no enrolment is pending; start one first")]
    NoEnrolmentPending,
    /// Using or turning off a second factor that is off. `CONFLICT`.
    #[error("two-factor sign-in is off")]
    NotEnabled,
    /// The recovery code is unknown or already used. `UNAUTHENTICATED`.
    #[error("this recovery code is not valid")]
    UnknownRecoveryCode,
    /// The secret is not 32 base32 characters. Internal (the api generates it).
    #[error("a TOTP secret must be 32 base32 characters")]
    InvalidSecret,
    /// Not exactly [`RECOVERY_CODES`] distinct 64-hex hashes. Internal.
    #[error("recovery codes must be {RECOVERY_CODES} distinct hashes")]
    InvalidRecoveryCodes,
}

/// The second-factor aggregate.
#[derive(Debug)]
pub struct SecondFactor;

impl Aggregate for SecondFactor {
    const NAME: &'static str = "second_factor";
    type State = SecondFactorState;
    type Command = SecondFactorCommand;
    type Event = SecondFactorEvent;
    type Error = SecondFactorError;

    fn decide(
        state: &SecondFactorState,
        command: SecondFactorCommand,
    ) -> Result<Vec<SecondFactorEvent>, SecondFactorError> {
        rules::decide(state, command)
    }

    fn evolve(state: SecondFactorState, event: &SecondFactorEvent) -> SecondFactorState {
        rules::evolve(state, event)
    }
}
