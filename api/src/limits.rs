//! What a GraphQL request would do, known before any field runs, and the refusals decided
//! on it: an operation's root fields (aliases and fragments included, so fifty aliased
//! `login`s are fifty logins), and whether the read-only switch refuses them.
//!
//! Owns: the document analysis and the admission decision. Must not resolve fields, read
//! anyone's data, or let a refused request run any part of itself.

pub mod admission;
pub mod operation;
