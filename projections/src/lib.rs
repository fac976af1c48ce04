//! # vigil-projections
//!
//! Read models built from the event log. Must not know HTTP or GraphQL.
