//! Who may see what, and the record of it: the gate that alone vouches for a right to read a
//! person's health data (the owner, or an admin under an open break-glass grant), the access
//! log that records every sign-in, security change and staff read, sign-in lockout, the
//! second factor (TOTP) and what staff may change (roles, disable, unlock).
//!
//! The rule (ops/adr/0006): a person's own reads of their own data are not logged; their
//! sign-ins are; every read of their health data by anyone else is, before the data is
//! returned, and a failed append fails the read.
//!
//! Must not: know GraphQL or HTTP types (resolvers call in with plain values), or keep a
//! second copy of any secret (TOTP secrets are read from the person's sealed stream when a
//! code is checked).

mod break_glass;
mod challenge;
mod gate;
mod journal;
mod lockout;
mod signin;
mod staff;
mod totp;

pub use gate::{Gate, Reading};
pub use signin::SignIn;
pub use staff::{StaffActor, StaffChange};
pub use totp::{Enrolment, SecondFactorProof};
