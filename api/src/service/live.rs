//! A short memory of sessions found live, so an authenticated request does not query the
//! sessions table every time.
//!
//! Every revocation forgets the family here at once: those made by this process directly,
//! those made by another process sharing the store through the cluster's revocation signal
//! (`cluster::revocations`), which every remembered answer is checked against. So logout,
//! reuse detection, a password change, a role change or a disable take effect on the next
//! request on every node. [`LIVE_FOR`] bounds a memory's life anyway, as a safety net for a
//! process that died between committing a revocation and announcing it.
//! Must not remember anything but ids and the time of the check.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::cluster::revocations::Revocations;

/// How long a live answer from the database is trusted.
pub const LIVE_FOR: Duration = Duration::from_secs(1);
/// Families remembered at most (beyond, all are forgotten: the next requests ask again).
const CAPACITY: usize = 100_000;

/// Families checked live recently, with their user and when.
pub struct LiveSessions {
    inner: Mutex<Inner>,
    signal: Revocations,
    /// Bumped by every revocation seen here (this process's or another's), so open sockets
    /// check their session at once instead of at their next periodic check.
    revoked: tokio::sync::watch::Sender<u64>,
}

impl Default for LiveSessions {
    fn default() -> Self {
        LiveSessions::new(Revocations::Process)
    }
}

#[derive(Default)]
struct Inner {
    seen: HashMap<Uuid, Seen>,
    /// Bumped by every revocation, so a check that started before one is not remembered.
    revocations: u64,
}

struct Seen {
    user: Uuid,
    /// The one access token (`jti`) the session honours: a refresh replaces it.
    token: Uuid,
    at: Instant,
    /// The signal's value when the check began; the memory holds only while it is unchanged.
    epoch: u128,
}

/// Taken before asking the database; [`LiveSessions::remember`] needs it.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    revocations: u64,
    at: Instant,
    epoch: Option<u128>,
}

impl LiveSessions {
    /// An empty memory checked against `signal`.
    pub fn new(signal: Revocations) -> LiveSessions {
        LiveSessions {
            inner: Mutex::new(Inner::default()),
            signal,
            revoked: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Changes whenever a revocation is seen here.
    pub fn revocations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revoked.subscribe()
    }

    fn announce_locally(&self) {
        self.revoked.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The signal other processes' revocations arrive by.
    pub fn signal(&self) -> &Revocations {
        &self.signal
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Plain map: still consistent after a panic elsewhere.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `family` of `user` was found live less than [`LIVE_FOR`] ago, with no
    /// revocation signalled since.
    pub fn recently_live(&self, family: Uuid, user: Uuid, token: Uuid) -> bool {
        let Some(epoch) = self.signal.epoch() else { return false };
        self.lock().seen.get(&family).is_some_and(|seen| {
            seen.user == user && seen.token == token && seen.epoch == epoch && seen.at.elapsed() < LIVE_FOR
        })
    }

    /// Starts a database check.
    pub fn check(&self) -> Check {
        let epoch = self.signal.epoch();
        Check {
            revocations: self.lock().revocations,
            at: Instant::now(),
            epoch,
        }
    }

    /// Remembers that the database said `family` is live in `check`, unless a revocation
    /// happened since the check began (its answer may predate the revocation).
    pub fn remember(&self, family: Uuid, user: Uuid, token: Uuid, check: Check) {
        let Some(epoch) = check.epoch else { return };
        let mut inner = self.lock();
        if inner.revocations != check.revocations {
            return;
        }
        if inner.seen.len() >= CAPACITY {
            inner.seen.clear();
        }
        inner.seen.insert(
            family,
            Seen {
                user,
                token,
                at: check.at,
                epoch,
            },
        );
    }

    /// Forgets `family` (it is being revoked).
    pub fn forget(&self, family: Uuid) {
        self.announce_locally();
        let mut inner = self.lock();
        inner.revocations += 1;
        inner.seen.remove(&family);
    }

    /// Forgets every family of `user`.
    pub fn forget_user(&self, user: Uuid) {
        self.announce_locally();
        let mut inner = self.lock();
        inner.revocations += 1;
        inner.seen.retain(|_, seen| seen.user != user);
    }

    /// Forgets every family of `user` but `keep`.
    pub fn forget_others(&self, user: Uuid, keep: Uuid) {
        self.announce_locally();
        let mut inner = self.lock();
        inner.revocations += 1;
        inner.seen.retain(|family, seen| *family == keep || seen.user != user);
    }

    /// Forgets what another process's revocation names: a family or a user (`None`: all).
    pub fn forget_signalled(&self, id: Option<Uuid>) {
        self.announce_locally();
        let mut inner = self.lock();
        inner.revocations += 1;
        match id {
            Some(id) => inner.seen.retain(|family, seen| *family != id && seen.user != id),
            None => inner.seen.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The access token the tests' sessions honour.
    const T: Uuid = Uuid::nil();

    #[test]
    fn a_family_is_trusted_only_for_its_user_and_until_forgotten() {
        let live = LiveSessions::default();
        let (family, user, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert!(!live.recently_live(family, user, T));
        live.remember(family, user, T, live.check());
        assert!(live.recently_live(family, user, T));
        assert!(!live.recently_live(family, other, T));
        live.forget(family);
        assert!(!live.recently_live(family, user, T));
        // A memory holds for the session's current access token only (a refresh replaces it).
        live.remember(family, user, T, live.check());
        assert!(!live.recently_live(family, user, Uuid::max()));
    }

    #[test]
    fn a_live_answer_expires() {
        let live = LiveSessions::default();
        let (family, user) = (Uuid::new_v4(), Uuid::new_v4());
        let mut check = live.check();
        check.at = Instant::now()
            .checked_sub(LIVE_FOR + Duration::from_millis(1))
            .unwrap_or_else(Instant::now);
        live.remember(family, user, T, check);
        assert!(!live.recently_live(family, user, T));
    }

    #[test]
    fn a_check_that_began_before_a_revocation_is_not_remembered() {
        let live = LiveSessions::default();
        let (family, user) = (Uuid::new_v4(), Uuid::new_v4());
        let check = live.check();
        live.forget(family);
        live.remember(family, user, T, check);
        assert!(!live.recently_live(family, user, T));
    }

    #[test]
    fn a_signal_from_another_process_forgets_by_family_user_or_all() {
        let live = LiveSessions::default();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (fa, fb, fc) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        for (f, u) in [(fa, a), (fb, b), (fc, c)] {
            live.remember(f, u, T, live.check());
        }
        live.forget_signalled(Some(fa));
        live.forget_signalled(Some(b));
        assert!(!live.recently_live(fa, a, T));
        assert!(!live.recently_live(fb, b, T));
        assert!(live.recently_live(fc, c, T));
        live.forget_signalled(None);
        assert!(!live.recently_live(fc, c, T));
    }

    #[test]
    fn a_changed_signal_file_distrusts_every_memory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let location = vigil_eventstore::Location::Sqlite(dir.path().to_path_buf());
        let ours = Revocations::for_location(&location).expect("signal");
        let theirs = Revocations::for_location(&location).expect("signal");
        let live = LiveSessions::new(ours);
        let (family, user) = (Uuid::new_v4(), Uuid::new_v4());
        live.remember(family, user, T, live.check());
        assert!(live.recently_live(family, user, T));
        // Another process sharing the data directory revokes something.
        theirs.announce().expect("announce");
        assert!(!live.recently_live(family, user, T));
        live.remember(family, user, T, live.check());
        assert!(live.recently_live(family, user, T));
    }

    #[test]
    fn a_password_change_forgets_every_other_family_of_the_person() {
        let live = LiveSessions::default();
        let (user, someone) = (Uuid::new_v4(), Uuid::new_v4());
        let (keep, drop, theirs) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        for (f, u) in [(keep, user), (drop, user), (theirs, someone)] {
            live.remember(f, u, T, live.check());
        }
        live.forget_others(user, keep);
        assert!(live.recently_live(keep, user, T));
        assert!(!live.recently_live(drop, user, T));
        assert!(live.recently_live(theirs, someone, T));
    }
}
