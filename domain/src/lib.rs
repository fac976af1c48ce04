//! vigil's business rules: pure, synchronous aggregates, commands and events.
//!
//! # The no-I/O rule
//! This crate is the only place business rules live, and it is deterministic: no async
//! runtime, no I/O, no clock, no RNG, no environment. Time, ids and anything looked up
//! elsewhere (is a handle free? which protocol item does a dose belong to?) arrive inside
//! commands. `clippy.toml` bans the clock and id-minting calls; CI checks that the normal
//! dependency graph holds no async or I/O crate.
//!
//! # Ubiquitous language
//! - **Account**: one per user; the subject whose key encrypts every stream below. Known to
//!   others only by a public **handle**; the **email** is an opaque secret.
//! - **Protocol**: a named set of **items** (compound, dose, route, **schedule**). Protocols
//!   are never overwritten: an amendment is a new **version** with an **effective date**, so
//!   any past date can be asked which version was **in force**.
//! - **Frequency notation**: what users type (`ED`, `EOD`, `E3.5D`, `2x/wk`, `MWF`, `PRN`,
//!   `250 mg/wk split E3.5D`), kept verbatim beside its parsed form.
//! - **Dose log**: doses **taken** or **skipped** against a protocol item, with
//!   **corrections** and **retractions** as their own events. **Adherence** and **next due**
//!   are pure functions over schedule and log.
//! - **Health log**: LOINC-coded **vitals**; blood pressure is one **panel** of two components.
//! - **Bloodwork**: a **panel** drawn at a time; each **result** is mapped through the
//!   **marker catalog** to a canonical unit and SI, and **flagged** H/L/HH/LL.
//! - **Estimated levels**: relative serum-level curves from doses by superposition of
//!   one-compartment (Bateman) curves, optionally **calibrated** to lab draws. Estimates only.
//! - **Media**: metadata of photos and reports; the bytes live elsewhere.
//!
//! # Shape of an aggregate
//! Each aggregate implements [`aggregate::Aggregate`]:
//! `decide(&State, Command) -> Result<Vec<Event>, Error>` and `evolve(State, &Event) -> State`.
//! Events are past tense and carry the derived facts projections need (canonical values,
//! flags), each with a stable [`aggregate::DomainEvent::event_type`] and schema version.
//!
//! # Layout
//! [`account`], [`protocol`] (with [`protocol::frequency`]), [`dose`], [`health`],
//! [`bloodwork`] (with [`bloodwork::catalog`]) and [`media`] are aggregates, one directory
//! each; [`compounds`] is the shared compound catalog; [`levels`] holds the pharmacokinetic
//! estimates; [`values`] the shared value objects.
//!
//! # Example
//! ```
//! use vigil_domain::aggregate::execute;
//! use vigil_domain::protocol::frequency::Frequency;
//! use vigil_domain::account::{Account, AccountCommand, Role};
//! use vigil_domain::values::UserId;
//!
//! let split = Frequency::parse("250 mg/wk split E3.5D").unwrap();
//! assert_eq!(split.split_dose().unwrap().0.to_string(), "125");
//!
//! let (state, events) = execute::<Account>(
//!     Default::default(),
//!     AccountCommand::Register {
//!         user_id: UserId::from_uuid(uuid::Uuid::from_u128(7)),
//!         handle: None,
//!         handle_seed: 42,
//!         email: "someone@example.org".into(),
//!         role: Role::User,
//!         registered_at: time::macros::datetime!(2026-03-01 09:00 UTC),
//!     },
//! )
//! .unwrap();
//! assert_eq!(events.len(), 1);
//! assert!(state.handle.is_some());
//! ```
#![warn(missing_docs)]

pub mod access;
pub mod account;
pub mod aggregate;
pub mod backup;
pub mod bloodwork;
pub mod compounds;
pub mod credentials;
pub mod dose;
pub mod health;
pub mod levels;
pub mod maintenance;
pub mod media;
pub mod protocol;
pub mod second_factor;
pub mod values;

#[cfg(test)]
mod test_support;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
