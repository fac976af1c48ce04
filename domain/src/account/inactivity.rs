//! Inactivity: when an account that nobody uses is told it will be erased, and when it may be.
//!
//! A person's last active day is the later of their registration and the last day activity
//! was recorded for them (`ActiveOn`). Once it lies `erase_after` in the past the account is
//! due for erasure, but only after a notice (`InactivityNoticeRecorded`) recorded at least
//! [`NOTICE_AHEAD`] earlier: nobody is erased without having been told, even when the check
//! did not run for a while, runs for the first time on old accounts, or the period was
//! shortened. Any activity after a notice withdraws it.
//!
//! Owns the arithmetic of those days. Must not read the clock: "today" arrives in commands.

use time::{Date, Duration};

/// How long before the erasure a notice must be recorded.
pub const NOTICE_AHEAD: Duration = Duration::days(30);

/// How long an account may stay inactive before it is erased.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InactivityPolicy {
    erase_after: Duration,
}

impl InactivityPolicy {
    /// Shortest period accepted: longer than the notice, so a notice never comes before the
    /// activity it is about.
    pub const MIN_DAYS: u32 = 31;
    /// Longest period accepted (a century; beyond it the date arithmetic is meaningless).
    pub const MAX_DAYS: u32 = 36_500;

    /// Accounts inactive for `days` days are erased. `None` outside
    /// [`Self::MIN_DAYS`]..=[`Self::MAX_DAYS`].
    pub fn after_days(days: u32) -> Option<InactivityPolicy> {
        (Self::MIN_DAYS..=Self::MAX_DAYS)
            .contains(&days)
            .then(|| InactivityPolicy {
                erase_after: Duration::days(i64::from(days)),
            })
    }

    /// The period, in days.
    pub fn days(self) -> i64 {
        self.erase_after.whole_days()
    }

    /// The latest last-active day for which a notice is due on `today` (its erasure would
    /// fall within [`NOTICE_AHEAD`]). `None` when the date arithmetic leaves the calendar.
    pub fn notice_due_for_last_active_by(self, today: Date) -> Option<Date> {
        today.checked_sub(self.erase_after)?.checked_add(NOTICE_AHEAD)
    }

    /// The latest last-active day for which the account is erased on `today`.
    pub fn erasure_due_for_last_active_by(self, today: Date) -> Option<Date> {
        today.checked_sub(self.erase_after)
    }

    /// The day a notice given on `today` names: the end of the period, or [`NOTICE_AHEAD`]
    /// after the notice when that is later (a late notice still gives the full time).
    pub fn erase_on(self, last_active: Date, today: Date) -> Option<Date> {
        let end = last_active.checked_add(self.erase_after)?;
        let earliest = today.checked_add(NOTICE_AHEAD)?;
        Some(end.max(earliest))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn two_years() -> InactivityPolicy {
        InactivityPolicy::after_days(730).unwrap()
    }

    #[test]
    fn the_period_must_be_longer_than_the_notice_and_at_most_a_century() {
        assert_eq!(InactivityPolicy::after_days(30), None);
        assert_eq!(InactivityPolicy::after_days(31).map(InactivityPolicy::days), Some(31));
        assert_eq!(InactivityPolicy::after_days(36_501), None);
    }

    #[test]
    fn a_notice_is_due_thirty_days_before_the_end_of_the_period() {
        // 730 days before 2028-03-01 is 2026-03-02 (2028 is a leap year).
        let today = date!(2028 - 03 - 01);
        assert_eq!(
            two_years().notice_due_for_last_active_by(today),
            Some(date!(2026 - 04 - 01))
        );
        assert_eq!(
            two_years().erasure_due_for_last_active_by(today),
            Some(date!(2026 - 03 - 02))
        );
    }

    #[test]
    fn a_notice_names_the_end_of_the_period_or_thirty_days_ahead_when_late() {
        let last = date!(2026 - 03 - 01);
        assert_eq!(
            two_years().erase_on(last, date!(2028 - 01 - 30)),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(
            two_years().erase_on(last, date!(2029 - 06 - 01)),
            Some(date!(2029 - 07 - 01))
        );
    }
}
