//! A set of weekdays, parsed from lists (`Mon/Thu`) and letter runs (`MWF`, `TuTh`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::Weekday;

use super::FrequencyError;

/// Weekdays, Monday first. Never empty once parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct WeekdaySet(u8);

const ORDER: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

const SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const FHIR: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Spellings of each day, longest first so a letter run prefers `th` over `t…`.
const SPELLINGS: [(&str, usize); 27] = [
    ("wednesday", 2),
    ("thursday", 3),
    ("saturday", 5),
    ("tuesday", 1),
    ("monday", 0),
    ("friday", 4),
    ("sunday", 6),
    ("thurs", 3),
    ("tues", 1),
    ("thur", 3),
    ("mon", 0),
    ("tue", 1),
    ("wed", 2),
    ("thu", 3),
    ("fri", 4),
    ("sat", 5),
    ("sun", 6),
    ("mo", 0),
    ("tu", 1),
    ("we", 2),
    ("th", 3),
    ("fr", 4),
    ("sa", 5),
    ("su", 6),
    ("m", 0),
    ("w", 2),
    ("f", 4),
];

impl WeekdaySet {
    /// Monday, Wednesday, Friday.
    pub const MWF: WeekdaySet = WeekdaySet(0b001_0101);

    fn index(day: Weekday) -> usize {
        ORDER.iter().position(|d| *d == day).unwrap_or(0)
    }

    /// A set holding `days`.
    pub fn of(days: impl IntoIterator<Item = Weekday>) -> WeekdaySet {
        days.into_iter()
            .fold(WeekdaySet(0), |set, day| WeekdaySet(set.0 | 1 << Self::index(day)))
    }

    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << Self::index(day)) != 0
    }

    /// Number of days.
    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// True when no day is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days, Monday first.
    pub fn days(self) -> Vec<Weekday> {
        ORDER.into_iter().filter(|d| self.contains(*d)).collect()
    }

    pub(super) fn fhir_codes(self) -> Vec<&'static str> {
        ORDER
            .iter()
            .zip(FHIR)
            .filter(|(d, _)| self.contains(**d))
            .map(|(_, code)| code)
            .collect()
    }

    /// Parses a list or letter run; `Ok(None)` when the text is not about weekdays at all.
    pub(super) fn parse(text: &str) -> Result<Option<WeekdaySet>, FrequencyError> {
        let mut set = WeekdaySet(0);
        let tokens = text
            .split([',', '/', '-', '&', '+', ' '])
            .filter(|t| !t.is_empty() && *t != "and");
        for token in tokens {
            match split_run(token) {
                Some(days) => days.into_iter().for_each(|d| set.0 |= 1 << d),
                // `T` alone is a classic ambiguity; say so rather than "unrecognised".
                None if token.contains('t') && split_run(&token.replace('t', "tu")).is_some() => {
                    return Err(FrequencyError::AmbiguousWeekday);
                }
                None => return Ok(None),
            }
        }
        Ok((!set.is_empty()).then_some(set))
    }
}

/// Splits a lower-case run like `mwf` or `tuth` into day indices, trying longer spellings
/// first and backtracking, so `sat` is Saturday and `mth` is Monday + Thursday.
fn split_run(run: &str) -> Option<Vec<usize>> {
    if run.is_empty() {
        return Some(Vec::new());
    }
    SPELLINGS.iter().find_map(|(spelling, day)| {
        let rest = run.strip_prefix(spelling)?;
        let mut days = split_run(rest)?;
        days.push(*day);
        Some(days)
    })
}

impl fmt::Display for WeekdaySet {
    /// `MWF` for that classic set, otherwise `Mon/Thu`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == WeekdaySet::MWF {
            return f.write_str("MWF");
        }
        let names: Vec<&str> = ORDER
            .iter()
            .zip(SHORT)
            .filter(|(d, _)| self.contains(**d))
            .map(|(_, name)| name)
            .collect();
        f.write_str(&names.join("/"))
    }
}

impl Serialize for WeekdaySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.fhir_codes())
    }
}

impl<'de> Deserialize<'de> for WeekdaySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let codes = Vec::<String>::deserialize(deserializer)?;
        let mut set = WeekdaySet(0);
        for code in codes {
            let index = FHIR
                .iter()
                .position(|c| *c == code)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown weekday `{code}`")))?;
            set.0 |= 1 << index;
        }
        Ok(set)
    }
}
