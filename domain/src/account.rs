//! The account aggregate: one per user.
//!
//! Owns: registration (handle, email secret, role), settings and consent, billing tier
//! changes (by external transaction reference only), the last active day and inactivity
//! notices (see `inactivity`), and erasure. Must not: authenticate, authorise, or hold
//! payment details; those belong to the api and the payment provider.

mod command;
mod decide;
mod error;
mod event;
pub mod inactivity;
mod state;
#[cfg(test)]
mod tests;

pub use command::AccountCommand;
pub use error::AccountError;
pub use event::AccountEvent;
pub use inactivity::InactivityPolicy;
pub use state::{
    AccountState, AccountStatus, BillingTier, ExternalTransactionId, Role, Settings, UnitSystem, WeightUnit,
};

/// The account aggregate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Account;

impl crate::aggregate::Aggregate for Account {
    const NAME: &'static str = "account";
    type State = AccountState;
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;

    fn decide(state: &AccountState, command: AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
        decide::decide(state, command)
    }

    fn evolve(state: AccountState, event: &AccountEvent) -> AccountState {
        state.apply(event)
    }
}
