//! A person's rights over their own account (issue 15): rectification (moving the account to
//! another email address, choosing another handle) and consent to AI processing of their data
//! (recorded with its history; off until given; nothing processes data yet).
//!
//! Rectification keeps an identity claim and its event consistent the way registration does
//! (`service::claims`): the new address is reserved first, the event appended, the claim
//! settled; the module doc of `rectify` says why a crash anywhere in between loses no account
//! and lets nobody keep an address that is not theirs.
//!
//! Must not: know GraphQL or HTTP types, log an email (it exists only sealed in the account's
//! events and as a blind index), change anyone's account but the caller's, or read a person's
//! consent without the read proof (`Subject`) the access gate made for them.

mod consent;
mod rectify;

pub use consent::AiConsent;
