//! Account state and its small value types; `apply` is the aggregate's `evolve`.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset};

use super::event::AccountEvent;
use crate::values::{EmailAddress, Handle, UserId};

/// What a user may do. Authorisation itself is enforced by the api.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An ordinary user: sees only their own data.
    User,
    /// Helps users; sees account metadata, never health data.
    Support,
    /// Reads audit trails.
    Auditor,
    /// Operates the service: roles, locks, break-glass grants; no health data otherwise.
    Admin,
}

impl Role {
    /// Every role, lowest privilege first.
    pub const ALL: [Role; 4] = [Role::User, Role::Support, Role::Auditor, Role::Admin];

    /// Staff roles act on other people's accounts; they must sign in with a second factor.
    pub fn is_staff(self) -> bool {
        self != Role::User
    }

    /// The role's name as stored and typed (`user`, `support`, `auditor`, `admin`).
    pub fn name(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Support => "support",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name as [`Role::name`] writes it.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// Conventional (US lab) or SI units for displaying lab values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitSystem {
    /// ng/dL, mg/dL, …
    #[default]
    Conventional,
    /// nmol/L, mmol/L, …
    Si,
}

/// Unit for displaying body weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightUnit {
    /// Kilograms.
    #[default]
    Kg,
    /// Avoirdupois pounds.
    Lb,
}

/// Display preferences. AI-processing consent is tracked separately because it is a
/// consent, with its own events for the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Settings {
    /// Units for lab values.
    pub lab_units: UnitSystem,
    /// Unit for body weight.
    pub weight_unit: WeightUnit,
}

/// Paid plan level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingTier {
    /// No subscription.
    #[default]
    Free,
    /// Paid individual plan.
    Plus,
    /// Highest plan.
    Pro,
}

/// The payment provider's reference for a tier change. The domain stores only this
/// reference, never card or billing details.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalTransactionId(String);

impl ExternalTransactionId {
    /// Longest reference accepted.
    pub const MAX_LEN: usize = 128;

    /// Accepts a non-empty reference of printable ASCII, at most [`Self::MAX_LEN`] long.
    /// Returns `None` otherwise.
    pub fn parse(text: &str) -> Option<ExternalTransactionId> {
        let ok = !text.is_empty() && text.len() <= Self::MAX_LEN && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| ExternalTransactionId(text.to_owned()))
    }

    /// The reference as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lifecycle of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AccountStatus {
    /// Nothing recorded yet.
    #[default]
    Unregistered,
    /// In normal use.
    Active,
    /// Erasure requested: frozen until the erasure completes.
    ErasureRequested,
    /// Erased (crypto-shredded); nothing more may happen.
    Erased,
}

/// Everything the account remembers.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AccountState {
    /// Lifecycle position.
    pub status: AccountStatus,
    /// Set at registration.
    pub user_id: Option<UserId>,
    /// Current public handle.
    pub handle: Option<Handle>,
    /// Current email secret.
    pub email: Option<EmailAddress>,
    /// Current role.
    pub role: Option<Role>,
    /// Display preferences.
    pub settings: Settings,
    /// Whether the user consented to AI processing (off by default).
    pub ai_processing_consent: bool,
    /// Current billing tier.
    pub tier: BillingTier,
    /// When the account was registered.
    pub registered_at: Option<OffsetDateTime>,
    /// Disabled by staff: no sign-in, no session, until enabled again.
    pub disabled: bool,
    /// The last day the person used the account (UTC); registration counts.
    pub last_active_on: Option<Date>,
    /// The day a pending inactivity notice names for the erasure; activity withdraws it.
    pub inactivity_notice: Option<Date>,
}

impl AccountState {
    /// Applies one accepted event (the aggregate's `evolve`).
    pub fn apply(mut self, event: &AccountEvent) -> AccountState {
        match event {
            AccountEvent::AccountRegistered {
                user_id,
                handle,
                email,
                role,
                registered_at,
                ..
            } => {
                self.status = AccountStatus::Active;
                self.user_id = Some(*user_id);
                self.handle = Some(handle.clone());
                self.email = Some(email.clone());
                self.role = Some(*role);
                self.registered_at = Some(*registered_at);
                self.last_active_on = Some(registered_at.to_offset(UtcOffset::UTC).date());
            }
            AccountEvent::HandleChanged { to, .. } => self.handle = Some(to.clone()),
            AccountEvent::EmailChanged { email, .. } => self.email = Some(email.clone()),
            AccountEvent::RoleChanged { to, .. } => self.role = Some(*to),
            AccountEvent::AccountDisabled { .. } => self.disabled = true,
            AccountEvent::AccountEnabled { .. } => self.disabled = false,
            AccountEvent::SettingsChanged { settings, .. } => self.settings = *settings,
            AccountEvent::AiProcessingConsentGiven { .. } => self.ai_processing_consent = true,
            AccountEvent::AiProcessingConsentWithdrawn { .. } => {
                self.ai_processing_consent = false;
            }
            AccountEvent::BillingTierChanged { to, .. } => self.tier = *to,
            AccountEvent::ErasureRequested { .. } => self.status = AccountStatus::ErasureRequested,
            AccountEvent::ActiveOn { on } => {
                // Two servers near midnight may record days out of order: keep the later.
                self.last_active_on = self.last_active_on.max(Some(*on));
                self.inactivity_notice = None;
            }
            AccountEvent::InactivityNoticeRecorded { erase_on, .. } => {
                self.inactivity_notice = Some(*erase_on);
            }
            AccountEvent::ErasureCompleted { .. } => {
                // The secret is gone from the state too; only the fact of erasure remains.
                self.status = AccountStatus::Erased;
                self.email = None;
                self.ai_processing_consent = false;
            }
        }
        self
    }
}
