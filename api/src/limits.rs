//! What a GraphQL request would do, known before any field runs, and the refusals decided
//! on it: an operation's root fields (aliases and fragments included, so fifty aliased
//! `login`s are fifty sign-in attempts), whether the read-only switch refuses them, and the
//! rate limits (ADR 0007): sign-in attempts per client and per account across every server;
//! reads and writes per person and unauthenticated requests per client on each server.
//!
//! Owns: the document analysis, the client's address, the buckets and the admission
//! decision. Must not resolve fields, read anyone's data, or let a refused request run any
//! part of itself.

pub mod admission;
pub mod client;
pub mod node;
pub mod operation;
pub mod rate;
pub mod sign_in;
pub mod sockets;
pub mod text;

use std::num::NonZeroU32;
use std::sync::Arc;

use vigil_projections::ReadDb;

pub use client::{Network, TrustedProxies};
pub use rate::Rate;

/// The configured rates (the whitepaper's numbers by default).
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Sign-in attempts (password or second factor) per client and per account, all servers.
    pub sign_in: Rate,
    /// Requests without a session per client, each server.
    pub public: Rate,
    /// Requests to the public checkpoint endpoints per client, each server.
    pub checkpoints: Rate,
    /// Root query and subscription fields per person, each server.
    pub reads: Rate,
    /// Root mutation fields per person, each server.
    pub writes: Rate,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

const fn n(count: u32) -> NonZeroU32 {
    match NonZeroU32::new(count) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            sign_in: Rate::per(n(5), 15 * 60),
            public: Rate::per(n(5), 60),
            checkpoints: Rate::per(n(120), 60),
            reads: Rate::per(n(1_000), 60),
            writes: Rate::per(n(100), 60),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// The running limits of one server.
pub struct Limiter {
    node: Arc<node::NodeBuckets>,
    sign_in: sign_in::SignInLimit,
}

impl Limiter {
    /// Spends one request of `client` to the public checkpoint endpoints; `Err(seconds)`.
    pub fn checkpoints(&self, client: std::net::IpAddr) -> Result<(), u64> {
        self.node.checkpoints(client)
    }

    /// Starts the limits; the shared one lives in `db`.
    pub fn start(limits: &RateLimits, db: ReadDb) -> Arc<Limiter> {
        Arc::new(Limiter {
            node: node::NodeBuckets::start(limits.public, limits.checkpoints, limits.reads, limits.writes),
            sign_in: sign_in::SignInLimit::new(db, limits.sign_in),
        })
    }
}
