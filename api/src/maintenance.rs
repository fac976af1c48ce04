//! Maintenance mode: the read-only switch ("kill switch"). Flipping it is an event of the
//! `system-maintenance` stream (who, when, why); every process follows that stream and
//! refuses mutations while it is on, so an operator can stop all writes on every node at
//! once (during an incident, a restore, a key rotation) while reads, subscriptions, sign-in
//! and the projections keep running.
//!
//! Owns: following the switch and flipping it. Must not: decide which operations the switch
//! refuses (`limits::admission` does, before any field runs) or who may flip it (the
//! GraphQL mutation requires an admin with a fresh TOTP code; the CLI runs on the server).

mod admin;
pub mod switch;

pub use switch::{ReadOnlySwitch, flip};
