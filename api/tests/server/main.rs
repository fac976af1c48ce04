//! End-to-end: the real `vigil serve` on port 0, against SQLite and the throwaway Postgres,
//! driven over HTTP and WebSocket like a client would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod account;
mod backups;
mod checkpoints;
mod coverage;
mod deletion;
mod doses;
mod erasure;
mod export;
mod first_start;
mod hardening;
mod harness;
mod http;
mod idempotency;
mod inactivity;
mod input_rules;
mod internal;
mod lag;
mod limits;
mod lockout;
mod mail;
mod maintenance;
mod metrics;
mod metrics_rare;
mod pagination;
mod protocols;
mod records;
mod rectification;
mod resources;
mod revocation;
mod rights;
mod scenario;
mod signin;
mod sockets;
mod witness;
mod ws;
