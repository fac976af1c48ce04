//! The access log's facts: every sign-in and security change of an account, and every read of
//! a person's health data by someone other than that person. They are appended to the
//! person's `access-<user>` stream (sealed under their key, so erasure takes them too) and
//! shown back to them; an auditor lists them across people.
//!
//! Owns: the event shapes and their meaning. Must not: decide anything (these are records of
//! what happened, appended without a check of the stream's version) or hold an IP address,
//! a user agent, an email or any health value.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::account::Role;
use crate::aggregate::DomainEvent;

/// How a sign-in was completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Password only (no second factor enrolled).
    Password,
    /// Password and a TOTP code.
    PasswordAndTotp,
    /// Password and a one-time recovery code.
    PasswordAndRecoveryCode,
}

/// The shape of a data export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One versioned JSON document.
    Json,
    /// A zip of CSV files, one per kind of record.
    Csv,
    /// A FHIR R4 `Bundle` of type `collection`.
    Fhir,
}

/// Who acted on someone else's account: an id for auditors, a role and a public handle for the
/// person (never a staff member's name or email).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The staff account, or `None` for the server's own command line.
    pub user: Option<Uuid>,
    /// Their role at the time.
    pub role: Role,
    /// Their public handle (`system` for the command line).
    pub handle: String,
}

/// Facts of the access log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AccessEvent {
    /// The person signed in.
    SignedIn {
        /// With which factors.
        method: SignInMethod,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Someone tried to register an account with this person's email (they were answered as
    /// if it had worked; nothing was created).
    RegistrationAttempted {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The person signed out (one session).
    SignedOut {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A used refresh token came back: someone holds a copy; its session was revoked.
    RefreshTokenReuseDetected {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The password was changed; other sessions ended.
    PasswordChanged {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The person moved their account to another email address (which is not repeated here:
    /// it lives only in the account's sealed stream). The old address signs in no more.
    EmailChanged {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The person chose another public handle.
    HandleChanged {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Two-factor sign-in was turned on.
    SecondFactorEnabled {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Two-factor sign-in was turned off.
    SecondFactorDisabled {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Too many failed sign-ins: the account refuses sign-in until `until`.
    AccountLocked {
        /// End of the lock.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Staff lifted a lock early.
    AccountUnlocked {
        /// Who.
        by: Actor,
        /// Why.
        reason: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Staff changed the account's role, or disabled or enabled it.
    AccountChangedByStaff {
        /// Who.
        by: Actor,
        /// What (`role: user -> support`, `disabled`, `enabled`).
        change: String,
        /// Why.
        reason: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// An admin opened a break-glass grant on this person's health data.
    BreakGlassOpened {
        /// The grant.
        grant: Uuid,
        /// The admin.
        by: Actor,
        /// The written justification.
        justification: String,
        /// When the grant ends on its own.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Someone other than the person read the person's health data (recorded before the data
    /// was returned; a read that found nothing is recorded too).
    DataAccessed {
        /// Who.
        by: Actor,
        /// The GraphQL root field (`dashboard`, `healthLogs`, …).
        query: String,
        /// The fields it selected.
        fields: Vec<String>,
        /// The break-glass grant it ran under.
        grant: Option<Uuid>,
        /// The grant's justification, repeated so each entry says why on its own.
        justification: String,
        /// The request, to match server logs.
        request_id: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The person asked for a copy of their data: a one-time download was issued (recorded
    /// before it exists, because it moves data out).
    ExportRequested {
        /// In which shape.
        format: ExportFormat,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl AccessEvent {
    /// When it happened.
    pub fn at(&self) -> OffsetDateTime {
        match self {
            AccessEvent::SignedIn { at, .. }
            | AccessEvent::RegistrationAttempted { at }
            | AccessEvent::SignedOut { at }
            | AccessEvent::RefreshTokenReuseDetected { at }
            | AccessEvent::PasswordChanged { at }
            | AccessEvent::EmailChanged { at }
            | AccessEvent::HandleChanged { at }
            | AccessEvent::SecondFactorEnabled { at }
            | AccessEvent::SecondFactorDisabled { at }
            | AccessEvent::AccountLocked { at, .. }
            | AccessEvent::AccountUnlocked { at, .. }
            | AccessEvent::AccountChangedByStaff { at, .. }
            | AccessEvent::BreakGlassOpened { at, .. }
            | AccessEvent::DataAccessed { at, .. }
            | AccessEvent::ExportRequested { at, .. } => *at,
        }
    }

    /// The staff member behind it, if any.
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            AccessEvent::AccountUnlocked { by, .. }
            | AccessEvent::AccountChangedByStaff { by, .. }
            | AccessEvent::BreakGlassOpened { by, .. }
            | AccessEvent::DataAccessed { by, .. } => Some(by),
            _ => None,
        }
    }
}

impl DomainEvent for AccessEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AccessEvent::SignedIn { .. } => "SignedIn",
            AccessEvent::RegistrationAttempted { .. } => "RegistrationAttempted",
            AccessEvent::SignedOut { .. } => "SignedOut",
            AccessEvent::RefreshTokenReuseDetected { .. } => "RefreshTokenReuseDetected",
            AccessEvent::PasswordChanged { .. } => "PasswordChanged",
            AccessEvent::EmailChanged { .. } => "EmailChanged",
            AccessEvent::HandleChanged { .. } => "HandleChanged",
            AccessEvent::SecondFactorEnabled { .. } => "SecondFactorEnabled",
            AccessEvent::SecondFactorDisabled { .. } => "SecondFactorDisabled",
            AccessEvent::AccountLocked { .. } => "AccountLocked",
            AccessEvent::AccountUnlocked { .. } => "AccountUnlocked",
            AccessEvent::AccountChangedByStaff { .. } => "AccountChangedByStaff",
            AccessEvent::BreakGlassOpened { .. } => "BreakGlassOpened",
            AccessEvent::DataAccessed { .. } => "DataAccessed",
            AccessEvent::ExportRequested { .. } => "ExportRequested",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_event_round_trips_and_names_its_actor() {
        let event = AccessEvent::DataAccessed {
            by: Actor {
                user: Some(Uuid::from_u128(5)),
                role: Role::Admin,
                handle: "QuietOtter7".into(),
            },
            query: "dashboard".into(),
            fields: vec!["latestVitals".into()],
            grant: Some(Uuid::from_u128(6)),
            justification: "chest pain reported".into(),
            request_id: "r-1".into(),
            at: time::macros::datetime!(2026-03-01 09:00 UTC),
        };
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.contains("\"type\":\"DataAccessed\""), "{text}");
        assert_eq!(serde_json::from_str::<AccessEvent>(&text).unwrap(), event);
        assert_eq!(event.actor().map(|a| a.role), Some(Role::Admin));
        assert_eq!(event.event_type(), "DataAccessed");
    }
}
