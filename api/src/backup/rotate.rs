//! Which backup sets to keep: the newest set of each of the last `daily` days that have one
//! and of each of the last `monthly` months that have one (35 and 12 by default), as restic's
//! `--keep-daily` / `--keep-monthly` count them. Whatever the policy says, the newest set and
//! the newest set whose restore drill passed are never deleted.
//!
//! Owns: the decision, as a pure function of the sets' times and drill verdicts. Must not
//! delete anything itself (`create` does, after a new set is complete).

use std::collections::BTreeSet;

use time::OffsetDateTime;

/// Default days kept.
pub const DEFAULT_DAILY: u32 = 35;
/// Default months kept.
pub const DEFAULT_MONTHLY: u32 = 12;

/// The retention policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Days that keep their newest set.
    pub daily: u32,
    /// Months that keep their newest set.
    pub monthly: u32,
}

/// One set as rotation sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its id.
    pub id: String,
    /// When it was taken.
    pub at: OffsetDateTime,
    /// Whether its last drill passed.
    pub drilled_ok: bool,
}

/// The ids to delete, given every set.
pub fn to_delete(sets: &[Entry], policy: Policy) -> Vec<String> {
    let mut newest_first: Vec<&Entry> = sets.iter().collect();
    newest_first.sort_by(|a, b| (b.at, &b.id).cmp(&(a.at, &a.id)));
    let mut keep: BTreeSet<&str> = BTreeSet::new();
    if let Some(newest) = newest_first.first() {
        keep.insert(&newest.id);
    }
    if let Some(verified) = newest_first.iter().find(|e| e.drilled_ok) {
        keep.insert(&verified.id);
    }
    let mut days = BTreeSet::new();
    let mut months = BTreeSet::new();
    for entry in &newest_first {
        let day = entry.at.date();
        if days.len() < policy.daily as usize && days.insert(day) {
            keep.insert(&entry.id);
        }
        let month = (day.year(), u8::from(day.month()));
        if months.len() < policy.monthly as usize && months.insert(month) {
            keep.insert(&entry.id);
        }
    }
    newest_first
        .iter()
        .filter(|e| !keep.contains(e.id.as_str()))
        .map(|e| e.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    fn every(hours: i64, count: i64) -> Vec<Entry> {
        let start = datetime!(2025-01-01 00:30 UTC);
        (0..count)
            .map(|i| Entry {
                id: format!("s{i:05}"),
                at: start + Duration::hours(i * hours),
                drilled_ok: false,
            })
            .collect()
    }

    #[test]
    fn a_year_and_a_half_of_dailies_keeps_35_days_and_12_months() {
        let sets = every(24, 540);
        let gone = to_delete(&sets, Policy { daily: 35, monthly: 12 });
        let kept: Vec<&Entry> = sets.iter().filter(|e| !gone.contains(&e.id)).collect();
        // The last set is on 2026-06-24: 35 days back to 2026-05-21, whose newest sets of May and
        // June are the months' too; then the newest of the 10 months before.
        let months: BTreeSet<_> = kept.iter().map(|e| (e.at.year(), e.at.month())).collect();
        assert_eq!(months.len(), 12, "{months:?}");
        assert_eq!(kept.len(), 35 + 10);
        assert!(kept.iter().any(|e| e.id == sets[539].id));
    }

    #[test]
    fn several_sets_a_day_keep_the_newest_of_each_day() {
        let sets = every(6, 12); // three days, four a day
        let gone = to_delete(&sets, Policy { daily: 35, monthly: 12 });
        let kept: Vec<&str> = sets
            .iter()
            .filter(|e| !gone.contains(&e.id))
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(kept, vec!["s00003", "s00007", "s00011"]);
    }

    #[test]
    fn the_newest_set_and_the_newest_drilled_one_survive_any_policy() {
        let mut sets = every(24, 10);
        sets[2].drilled_ok = true;
        let gone = to_delete(&sets, Policy { daily: 0, monthly: 0 });
        assert!(!gone.contains(&"s00009".to_string()));
        assert!(!gone.contains(&"s00002".to_string()));
        assert_eq!(gone.len(), 8);
    }
}
