//! A short memory of sessions found live, so an authenticated request does not query the
//! sessions table every time.
//!
//! Every revocation made by this process forgets the family here at once, so logout, reuse
//! detection and a password change take effect immediately on this server. A revocation made
//! by another server on a shared Postgres (or an erasure) is seen here at the latest after
//! [`LIVE_FOR`]: the window within which a revoked session's still-unexpired access token
//! may keep working on another server. Access tokens themselves live 15 minutes.
//! Must not remember anything but ids and the time of the check.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How long a live answer from the database is trusted.
pub const LIVE_FOR: Duration = Duration::from_secs(1);
/// Families remembered at most (beyond, all are forgotten: the next requests ask again).
const CAPACITY: usize = 100_000;

/// Families checked live recently, with their user and when.
#[derive(Default)]
pub struct LiveSessions {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    seen: HashMap<Uuid, (Uuid, Instant)>,
    /// Bumped by every revocation, so a check that started before one is not remembered.
    revocations: u64,
}

/// Taken before asking the database; [`LiveSessions::remember`] needs it.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    revocations: u64,
    at: Instant,
}

impl LiveSessions {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Plain map: still consistent after a panic elsewhere.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `family` of `user` was found live less than [`LIVE_FOR`] ago.
    pub fn recently_live(&self, family: Uuid, user: Uuid) -> bool {
        self.lock()
            .seen
            .get(&family)
            .is_some_and(|(owner, at)| *owner == user && at.elapsed() < LIVE_FOR)
    }

    /// Starts a database check.
    pub fn check(&self) -> Check {
        Check {
            revocations: self.lock().revocations,
            at: Instant::now(),
        }
    }

    /// Remembers that the database said `family` is live in `check`, unless a revocation
    /// happened since the check began (its answer may predate the revocation).
    pub fn remember(&self, family: Uuid, user: Uuid, check: Check) {
        let mut inner = self.lock();
        if inner.revocations != check.revocations {
            return;
        }
        if inner.seen.len() >= CAPACITY {
            inner.seen.clear();
        }
        inner.seen.insert(family, (user, check.at));
    }

    /// Forgets `family` (it is being revoked).
    pub fn forget(&self, family: Uuid) {
        let mut inner = self.lock();
        inner.revocations += 1;
        inner.seen.remove(&family);
    }

    /// Forgets every family of `user`.
    pub fn forget_user(&self, user: Uuid) {
        let mut inner = self.lock();
        inner.revocations += 1;
        inner.seen.retain(|_, (owner, _)| *owner != user);
    }

    /// Forgets every family of `user` but `keep`.
    pub fn forget_others(&self, user: Uuid, keep: Uuid) {
        let mut inner = self.lock();
        inner.revocations += 1;
        inner
            .seen
            .retain(|family, (owner, _)| *family == keep || *owner != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_is_trusted_only_for_its_user_and_until_forgotten() {
        let live = LiveSessions::default();
        let (family, user, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert!(!live.recently_live(family, user));
        live.remember(family, user, live.check());
        assert!(live.recently_live(family, user));
        assert!(!live.recently_live(family, other));
        live.forget(family);
        assert!(!live.recently_live(family, user));
    }

    #[test]
    fn a_live_answer_expires() {
        let live = LiveSessions::default();
        let (family, user) = (Uuid::new_v4(), Uuid::new_v4());
        let mut check = live.check();
        check.at = Instant::now()
            .checked_sub(LIVE_FOR + Duration::from_millis(1))
            .unwrap_or_else(Instant::now);
        live.remember(family, user, check);
        assert!(!live.recently_live(family, user));
    }

    #[test]
    fn a_check_that_began_before_a_revocation_is_not_remembered() {
        let live = LiveSessions::default();
        let (family, user) = (Uuid::new_v4(), Uuid::new_v4());
        let check = live.check();
        live.forget(family);
        live.remember(family, user, check);
        assert!(!live.recently_live(family, user));
    }

    #[test]
    fn a_password_change_forgets_every_other_family_of_the_person() {
        let live = LiveSessions::default();
        let (user, someone) = (Uuid::new_v4(), Uuid::new_v4());
        let (keep, drop, theirs) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        for (f, u) in [(keep, user), (drop, user), (theirs, someone)] {
            live.remember(f, u, live.check());
        }
        live.forget_others(user, keep);
        assert!(live.recently_live(keep, user));
        assert!(!live.recently_live(drop, user));
        assert!(live.recently_live(theirs, someone));
    }
}
