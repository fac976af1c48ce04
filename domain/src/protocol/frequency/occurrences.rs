//! When scheduled doses fall. The first dose (`anchor`) fixes the time of day and the
//! UTC offset; the caller supplies both because the domain has no notion of "local time".

use time::{Duration, OffsetDateTime};

use super::{Cadence, Frequency};

/// Upper bound on occurrences returned by one call, so a mistaken ten-year window over an
/// `ED` schedule cannot make a query unbounded.
pub const MAX_OCCURRENCES: usize = 10_000;

impl Cadence {
    /// Scheduled times at or after `anchor` and within `[from, to)`, ascending, at most
    /// [`MAX_OCCURRENCES`].
    pub fn occurrences(&self, anchor: OffsetDateTime, from: OffsetDateTime, to: OffsetDateTime) -> Vec<OffsetDateTime> {
        if to <= from {
            return Vec::new();
        }
        match self {
            Cadence::Weekdays { days } => {
                let offset = anchor.offset();
                let mut date = from.to_offset(offset).date().max(anchor.date());
                let last = to.to_offset(offset).date();
                let mut found = Vec::new();
                while date <= last && found.len() < MAX_OCCURRENCES {
                    let at = date.with_time(anchor.time()).assume_offset(offset);
                    if days.contains(date.weekday()) && at >= anchor && at >= from && at < to {
                        found.push(at);
                    }
                    match date.next_day() {
                        Some(next) => date = next,
                        None => break,
                    }
                }
                found
            }
            _ => {
                let Some(seconds) = self.interval_seconds().filter(|s| *s > 0) else {
                    return Vec::new();
                };
                let step = i128::from(seconds) * 1_000_000_000;
                let behind = (from - anchor).whole_nanoseconds();
                // First k with anchor + k·step >= from (ceiling division, never negative).
                let first = if behind <= 0 { 0 } else { (behind + step - 1) / step };
                let mut found = Vec::new();
                let mut k = first;
                while found.len() < MAX_OCCURRENCES {
                    let Some(offset) = i64::try_from(k * i128::from(seconds))
                        .ok()
                        .and_then(|s| anchor.checked_add(Duration::seconds(s)))
                    else {
                        break;
                    };
                    if offset >= to {
                        break;
                    }
                    found.push(offset);
                    k += 1;
                }
                found
            }
        }
    }
}

impl Frequency {
    /// Scheduled times within `[from, to)` for a schedule whose first dose is `anchor`;
    /// empty for PRN.
    pub fn occurrences(&self, anchor: OffsetDateTime, from: OffsetDateTime, to: OffsetDateTime) -> Vec<OffsetDateTime> {
        self.cadence()
            .map(|c| c.occurrences(anchor, from, to))
            .unwrap_or_default()
    }
}
