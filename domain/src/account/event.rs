//! Account events: past tense, each with a stable type name and schema version.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::state::{BillingTier, ExternalTransactionId, Role, Settings};
use crate::aggregate::DomainEvent;
use crate::values::{EmailAddress, Handle, UserId};

/// Facts about an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AccountEvent {
    /// The account was opened.
    AccountRegistered {
        /// The user.
        user_id: UserId,
        /// Public handle.
        handle: Handle,
        /// True when the handle was generated rather than chosen.
        handle_generated: bool,
        /// Email secret (the store encrypts payloads).
        email: EmailAddress,
        /// Initial role.
        role: Role,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        registered_at: OffsetDateTime,
    },
    /// The public handle changed.
    HandleChanged {
        /// Previous handle.
        from: Handle,
        /// New handle.
        to: Handle,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        changed_at: OffsetDateTime,
    },
    /// The email secret changed (the old one is deliberately not repeated).
    EmailChanged {
        /// New email.
        email: EmailAddress,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        changed_at: OffsetDateTime,
    },
    /// The role changed.
    RoleChanged {
        /// Previous role.
        from: Role,
        /// New role.
        to: Role,
        /// Who changed it (`system:cli` or `user:<uuid>` of an admin); empty in events
        /// written before the field existed.
        #[serde(default)]
        by: String,
        /// Why, as the actor wrote it.
        #[serde(default)]
        reason: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        changed_at: OffsetDateTime,
    },
    /// Staff disabled the account: it cannot sign in and its sessions ended.
    AccountDisabled {
        /// Who (`system:cli` or `user:<uuid>` of an admin).
        by: String,
        /// Why.
        reason: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Staff enabled a disabled account again.
    AccountEnabled {
        /// Who.
        by: String,
        /// Why.
        reason: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Display preferences changed.
    SettingsChanged {
        /// The complete new settings.
        settings: Settings,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        changed_at: OffsetDateTime,
    },
    /// The user opted in to AI processing.
    AiProcessingConsentGiven {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The user opted out of AI processing.
    AiProcessingConsentWithdrawn {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The billing tier changed, confirmed by the payment provider.
    BillingTierChanged {
        /// Previous tier.
        from: BillingTier,
        /// New tier.
        to: BillingTier,
        /// Provider reference.
        external_transaction_id: ExternalTransactionId,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        changed_at: OffsetDateTime,
    },
    /// The user asked for erasure; the account is frozen.
    ErasureRequested {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        requested_at: OffsetDateTime,
    },
    /// Erasure finished.
    ErasureCompleted {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        completed_at: OffsetDateTime,
    },
    /// The person used the account on this day (at most one such event per account and day;
    /// the time of day is deliberately not kept).
    ActiveOn {
        /// The day (UTC).
        #[serde(with = "crate::values::serde_time::date")]
        on: Date,
    },
    /// The person is told the account will be erased on `erase_on` unless they use it before.
    InactivityNoticeRecorded {
        /// The first day the account may be erased.
        #[serde(with = "crate::values::serde_time::date")]
        erase_on: Date,
        /// When the notice was recorded.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AccountEvent::AccountRegistered { .. } => "AccountRegistered",
            AccountEvent::HandleChanged { .. } => "HandleChanged",
            AccountEvent::EmailChanged { .. } => "EmailChanged",
            AccountEvent::RoleChanged { .. } => "RoleChanged",
            AccountEvent::AccountDisabled { .. } => "AccountDisabled",
            AccountEvent::AccountEnabled { .. } => "AccountEnabled",
            AccountEvent::SettingsChanged { .. } => "SettingsChanged",
            AccountEvent::AiProcessingConsentGiven { .. } => "AiProcessingConsentGiven",
            AccountEvent::AiProcessingConsentWithdrawn { .. } => "AiProcessingConsentWithdrawn",
            AccountEvent::BillingTierChanged { .. } => "BillingTierChanged",
            AccountEvent::ErasureRequested { .. } => "ErasureRequested",
            AccountEvent::ErasureCompleted { .. } => "ErasureCompleted",
            AccountEvent::ActiveOn { .. } => "ActiveOn",
            AccountEvent::InactivityNoticeRecorded { .. } => "InactivityNoticeRecorded",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}
