//! The limits each server keeps in its own memory (governor's GCRA buckets): authenticated
//! reads and writes per person, unauthenticated requests per client address (GraphQL without
//! a session; the public checkpoint endpoints in a bucket of their own). With N servers
//! behind a balancer a client can spend up to N times these (see ADR 0007): they bound load,
//! not guesses, so they need not be shared. Idle keys are forgotten every minute, so memory
//! follows the clients seen lately, not every client ever seen.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use super::rate::Rate;

/// How often idle keys are dropped.
const SWEEP: Duration = Duration::from_secs(60);

/// One server's buckets.
pub struct NodeBuckets {
    public: DefaultKeyedRateLimiter<IpAddr>,
    checkpoints: DefaultKeyedRateLimiter<IpAddr>,
    reads: DefaultKeyedRateLimiter<Uuid>,
    writes: DefaultKeyedRateLimiter<Uuid>,
    clock: DefaultClock,
}

fn quota(rate: Rate) -> Quota {
    // `interval()` is positive: a period of at least a second over at most u32::MAX.
    Quota::with_period(rate.interval().max(Duration::from_nanos(1)))
        .unwrap_or_else(|| Quota::per_second(rate.count))
        .allow_burst(rate.count)
}

impl NodeBuckets {
    /// Buckets for the four rates; starts the sweeper (it stops with the last reference).
    pub fn start(public: Rate, checkpoints: Rate, reads: Rate, writes: Rate) -> Arc<NodeBuckets> {
        let buckets = Arc::new(NodeBuckets {
            public: RateLimiter::keyed(quota(public)),
            checkpoints: RateLimiter::keyed(quota(checkpoints)),
            reads: RateLimiter::keyed(quota(reads)),
            writes: RateLimiter::keyed(quota(writes)),
            clock: DefaultClock::default(),
        });
        let weak = Arc::downgrade(&buckets);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SWEEP).await;
                let Some(buckets) = weak.upgrade() else { return };
                buckets.public.retain_recent();
                buckets.checkpoints.retain_recent();
                buckets.reads.retain_recent();
                buckets.writes.retain_recent();
                buckets.public.shrink_to_fit();
                buckets.checkpoints.shrink_to_fit();
                buckets.reads.shrink_to_fit();
                buckets.writes.shrink_to_fit();
            }
        });
        buckets
    }

    /// Spends `n` unauthenticated units of `client`; `Err(seconds)` to wait.
    pub fn public(&self, client: IpAddr, n: NonZeroU32) -> Result<(), u64> {
        self.take(&self.public, &client, n)
    }

    /// Spends one request of `client` to the checkpoint endpoints.
    pub fn checkpoints(&self, client: IpAddr) -> Result<(), u64> {
        self.take(&self.checkpoints, &client, NonZeroU32::MIN)
    }

    /// Spends `n` reads of `person`.
    pub fn reads(&self, person: Uuid, n: NonZeroU32) -> Result<(), u64> {
        self.take(&self.reads, &person, n)
    }

    /// Spends `n` writes of `person`.
    pub fn writes(&self, person: Uuid, n: NonZeroU32) -> Result<(), u64> {
        self.take(&self.writes, &person, n)
    }

    fn take<K: Hash + Eq + Clone>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
        n: NonZeroU32,
    ) -> Result<(), u64> {
        match limiter.check_key_n(key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(seconds(not_until.wait_time_from(self.clock.now()))),
            // More at once than the whole burst: never allowed; come back after a period.
            Err(insufficient) => Err(u64::from(insufficient.0).max(1)),
        }
    }
}

/// Whole seconds to wait, at least one (`Retry-After` has no fractions).
pub fn seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bucket_refuses_past_its_burst_and_counts_n_at_once() {
        let three = NonZeroU32::new(3).unwrap();
        let buckets = NodeBuckets::start(
            Rate::per(three, 60),
            Rate::per(three, 60),
            Rate::per(three, 60),
            Rate::per(three, 60),
        );
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let one = NonZeroU32::MIN;
        assert_eq!(buckets.public(ip, NonZeroU32::new(2).unwrap()), Ok(()));
        assert_eq!(buckets.public(ip, one), Ok(()));
        let wait = buckets.public(ip, one).unwrap_err();
        assert!((1..=20).contains(&wait), "one unit comes back after 20 s: {wait}");
        // Another client, and reads versus writes, are separate buckets.
        assert_eq!(buckets.public("192.0.2.2".parse().unwrap(), three), Ok(()));
        // The checkpoint endpoints have their own: unauthenticated GraphQL does not spend it.
        for _ in 0..3 {
            assert_eq!(buckets.checkpoints(ip), Ok(()));
        }
        assert!(buckets.checkpoints(ip).is_err());
        let person = Uuid::new_v4();
        assert_eq!(buckets.reads(person, three), Ok(()));
        assert_eq!(buckets.writes(person, three), Ok(()));
        assert!(
            buckets.writes(person, NonZeroU32::new(4).unwrap()).is_err(),
            "more than the burst"
        );
    }
}
