//! Account commands. Raw user input (handle, email) arrives as text and is validated in
//! `decide`, so a rejection names the rule that failed.

use time::{Date, OffsetDateTime};

use super::inactivity::InactivityPolicy;
use super::state::{BillingTier, Role, Settings};
use crate::values::UserId;

/// Requests an account can receive.
#[derive(Clone, Debug, PartialEq)]
pub enum AccountCommand {
    /// Open the account.
    Register {
        /// Minted by the caller.
        user_id: UserId,
        /// The handle the user chose, or `None` to generate one from `handle_seed`.
        handle: Option<String>,
        /// Seed for the generated handle; the caller retries with another seed if the
        /// generated handle is taken.
        handle_seed: u64,
        /// The email, treated as a secret.
        email: String,
        /// Initial role (normally [`Role::User`]; staff accounts are created by admins).
        role: Role,
        /// Now, as read by the caller.
        registered_at: OffsetDateTime,
    },
    /// Replace the public handle (uniqueness checked by the caller).
    ChangeHandle {
        /// The new handle as typed.
        handle: String,
        /// Now.
        changed_at: OffsetDateTime,
    },
    /// Replace the email secret.
    ChangeEmail {
        /// The new email as typed.
        email: String,
        /// Now.
        changed_at: OffsetDateTime,
    },
    /// Give the account another role (who may do this is decided by the api).
    ChangeRole {
        /// The new role.
        role: Role,
        /// Who asks (`system:cli`, `user:<uuid>`).
        by: String,
        /// Why, as typed (1–500 characters).
        reason: String,
        /// Now.
        changed_at: OffsetDateTime,
    },
    /// Disable the account (staff only; decided by the api).
    Disable {
        /// Who asks.
        by: String,
        /// Why, as typed (1–500 characters).
        reason: String,
        /// Now.
        at: OffsetDateTime,
    },
    /// Enable a disabled account.
    Enable {
        /// Who asks.
        by: String,
        /// Why, as typed (1–500 characters).
        reason: String,
        /// Now.
        at: OffsetDateTime,
    },
    /// Replace display preferences.
    ChangeSettings {
        /// The complete new settings.
        settings: Settings,
        /// Now.
        changed_at: OffsetDateTime,
    },
    /// Opt in to AI processing of the user's data.
    GiveAiProcessingConsent {
        /// Now.
        at: OffsetDateTime,
    },
    /// Opt out of AI processing.
    WithdrawAiProcessingConsent {
        /// Now.
        at: OffsetDateTime,
    },
    /// Record a tier change the payment provider confirmed.
    ChangeBillingTier {
        /// The new tier.
        tier: BillingTier,
        /// The provider's transaction reference.
        external_transaction_id: String,
        /// Now.
        changed_at: OffsetDateTime,
    },
    /// Ask for the account and all its data to be erased.
    RequestErasure {
        /// Now.
        requested_at: OffsetDateTime,
    },
    /// Record that erasure (key destruction) finished.
    CompleteErasure {
        /// Now.
        completed_at: OffsetDateTime,
    },
    /// Record that the person used the account on `on` (signed in, or wrote something).
    /// Changes nothing when a later or equal day is already recorded and no inactivity notice
    /// is pending, so callers may repeat it freely.
    RecordActivity {
        /// The day of the activity (UTC), as read by the caller.
        on: Date,
    },
    /// Record that the person is told their account will be erased for inactivity. Changes
    /// nothing when a notice is already pending or the person was active too recently for
    /// one under `policy` (the caller's list may be a moment old).
    RecordInactivityNotice {
        /// The period in force.
        policy: InactivityPolicy,
        /// Today (UTC), as read by the caller.
        on: Date,
        /// Now.
        at: OffsetDateTime,
    },
    /// Ask for the erasure of an account nobody used for `policy`'s period: accepted only
    /// when a pending notice names `on` or an earlier day and the person was not active since.
    RequestErasureForInactivity {
        /// The period in force.
        policy: InactivityPolicy,
        /// Today (UTC), as read by the caller.
        on: Date,
        /// Now.
        requested_at: OffsetDateTime,
    },
}
