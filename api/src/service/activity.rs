//! Recording that a person used their account (for the inactivity check, see
//! `erasure::inactivity`), without a write per request: a sign-in (every token issued, so a
//! refresh too) and every write a person makes on their own data call [`Service::touch`],
//! which asks this process's memory whether the person's activity is already recorded today
//! and only when it is not appends `RecordActivity` to their account, on a task of its own.
//! At most one event per account and day per process; a second process finds the day
//! recorded and the domain writes nothing.
//!
//! Owns: the memory and the task. Must not: fail or slow the request that touched (a failure
//! is logged, without anything about the person, and the next request tries again), or write
//! while the read-only switch is on.

use std::collections::HashSet;
use std::sync::Mutex;

use time::Date;
use uuid::Uuid;
use vigil_domain::account::{Account, AccountCommand};
use vigil_eventstore::Metadata;
use vigil_projections::streams;

use super::{ApiError, ApiResult, Service};

/// Who records activity: the system noticed it (the person's own writes carry their id).
pub const ACTOR: &str = "system:activity";
/// People remembered per day. Beyond it the memory starts over: a forgotten person costs
/// one more read of their account stream, and the domain still writes nothing twice.
const REMEMBERED: usize = 200_000;

/// The people whose activity this process recorded (or is recording) today.
#[derive(Default)]
pub(crate) struct Recorded {
    inner: Mutex<Day>,
}

#[derive(Default)]
struct Day {
    day: Option<Date>,
    people: HashSet<Uuid>,
}

impl Recorded {
    /// Whether `person` still needs recording on `day`; if so, they count as recorded from
    /// now on (two requests at once start one append). A day before the remembered one (a
    /// caller's clock behind) is never remembered: the domain decides.
    fn claim(&self, person: Uuid, day: Date) -> bool {
        let Ok(mut memory) = self.inner.lock() else {
            return true;
        };
        match memory.day {
            Some(current) if day < current => return true,
            Some(current) if day == current => {}
            _ => {
                memory.day = Some(day);
                memory.people.clear();
            }
        }
        if memory.people.len() >= REMEMBERED {
            memory.people.clear();
        }
        memory.people.insert(person)
    }

    /// Forgets `person` after a failed append, so the next request tries again.
    fn release(&self, person: Uuid, day: Date) {
        if let Ok(mut memory) = self.inner.lock()
            && memory.day == Some(day)
        {
            memory.people.remove(&person);
        }
    }
}

impl Service {
    /// `person` used their account on `day` (UTC): recorded in the background when this
    /// process has not recorded it yet today. Never fails the caller.
    pub(crate) fn touch(&self, person: Uuid, day: Date) {
        if self.maintenance().read_only().is_some() || !self.inner.recorded.claim(person, day) {
            return;
        }
        let service = self.clone();
        tokio::spawn(async move {
            if let Err(e) = service.record_activity(person, day).await {
                service.inner.recorded.release(person, day);
                tracing::warn!(
                    error = e.detail(),
                    "cannot record a person's activity now; their next request tries again"
                );
            }
        });
    }

    /// Appends `RecordActivity` for `person` on `day` now; whether an event was written.
    /// An account that is gone, frozen for erasure or not an account at all has nothing to
    /// record.
    ///
    /// # Errors
    /// Store errors.
    pub(crate) async fn record_activity(&self, person: Uuid, day: Date) -> ApiResult<bool> {
        let committed = self
            .commit::<Account>(&streams::account(person), person, Metadata::actor(ACTOR), |_| {
                Ok(AccountCommand::RecordActivity { on: day })
            })
            .await;
        match committed {
            Ok(committed) => Ok(committed.appended),
            Err(ApiError::Forbidden(_) | ApiError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether a write with `metadata` on `subject`'s data is the person's own (then it is
    /// their activity; a staff member's change to someone's account or a system write is not).
    pub(crate) fn own_write(metadata: &Metadata, subject: Uuid) -> bool {
        metadata
            .actor
            .strip_prefix("user:")
            .and_then(|id| Uuid::parse_str(id).ok())
            == Some(subject)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn a_person_is_claimed_once_per_day_and_again_the_next_day() {
        let recorded = Recorded::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(recorded.claim(a, date!(2026 - 03 - 01)));
        assert!(!recorded.claim(a, date!(2026 - 03 - 01)));
        assert!(recorded.claim(b, date!(2026 - 03 - 01)));
        assert!(recorded.claim(a, date!(2026 - 03 - 02)));
        assert!(!recorded.claim(a, date!(2026 - 03 - 02)));
        // A clock behind: not remembered, the domain decides every time.
        assert!(recorded.claim(b, date!(2026 - 03 - 01)));
        assert!(recorded.claim(b, date!(2026 - 03 - 01)));
    }

    #[test]
    fn a_failed_append_is_forgotten_so_the_next_request_tries_again() {
        let recorded = Recorded::default();
        let a = Uuid::from_u128(1);
        assert!(recorded.claim(a, date!(2026 - 03 - 01)));
        recorded.release(a, date!(2026 - 03 - 01));
        assert!(recorded.claim(a, date!(2026 - 03 - 01)));
    }

    #[test]
    fn only_a_persons_own_writes_are_their_activity() {
        let person = Uuid::from_u128(7);
        assert!(Service::own_write(&Metadata::actor(format!("user:{person}")), person));
        assert!(!Service::own_write(
            &Metadata::actor(format!("user:{}", Uuid::from_u128(8))),
            person
        ));
        assert!(!Service::own_write(&Metadata::actor("system:cli"), person));
        assert!(!Service::own_write(&Metadata::actor(ACTOR), person));
    }
}
