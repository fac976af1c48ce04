//! Frequency notation: what users type, parsed into a schedule the domain can compute with.
//!
//! Owns: the notation grammar (`docs/frequency-notation.md`), canonical printing, the derived
//! numbers (interval, doses per week, per-dose amount of a split weekly total), the FHIR
//! `Timing.repeat` view and occurrence generation. Must not: know about protocol versions or
//! dose logs.
//!
//! Accepted (case-insensitive): `ED`/`daily`, `EOD`, `E<n>D` (e.g. `E3.5D`), `<n>x/wk`,
//! `weekly`, weekday lists (`MWF`, `Mon/Thu`, `Tue, Fri`), `PRN`, and a weekly total split
//! evenly over a cadence (`250 mg/wk split E3.5D`).

mod occurrences;
mod parse;
#[cfg(test)]
mod tests;
mod weekdays;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::dose::DoseUnit;
use crate::values::Decimal;
pub use occurrences::MAX_OCCURRENCES;
pub use weekdays::WeekdaySet;

/// How often, for schedules with fixed times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Cadence {
    /// Every `days` days, evenly spaced (`ED` = 1, `EOD` = 2, `E3.5D` = 3.5, weekly = 7).
    EveryNDays {
        /// Interval in days: positive, at most 365, at most two decimal places.
        days: Decimal,
    },
    /// `times` per week, evenly spaced (`2x/wk` = every 3.5 days).
    TimesPerWeek {
        /// 1 to 7.
        times: u8,
    },
    /// On named weekdays (`MWF`).
    Weekdays {
        /// The days; never empty.
        days: WeekdaySet,
    },
}

/// A parsed frequency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Frequency {
    /// A fixed cadence.
    Scheduled {
        /// The cadence.
        cadence: Cadence,
    },
    /// A weekly total split evenly over a cadence (`250 mg/wk split E3.5D`).
    SplitWeekly {
        /// Total per week, as typed.
        weekly_total: Decimal,
        /// Unit of the total.
        unit: DoseUnit,
        /// How the total is spread.
        cadence: Cadence,
    },
    /// As needed (`PRN`): no schedule, so no adherence.
    AsNeeded,
}

/// Why a notation was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrequencyError {
    /// Nothing matched the grammar.
    #[error(
        "`{0}` is not a frequency; try ED, EOD, E3.5D, 2x/wk, weekly, MWF, Mon/Thu, PRN or `250 mg/wk split E3.5D`"
    )]
    Unrecognised(String),
    /// An interval of zero days, or zero times a week.
    #[error("a frequency must be more than zero")]
    Zero,
    /// An interval longer than a year.
    #[error("an interval may be at most 365 days")]
    IntervalTooLong,
    /// An interval with more than two decimal places.
    #[error("an interval may have at most two decimal places")]
    IntervalTooPrecise,
    /// More than 7 times a week (use ED, or one item per daily time).
    #[error("at most 7x/wk; for more, use ED or one item per time of day")]
    TooManyPerWeek,
    /// `T` alone could be Tuesday or Thursday.
    #[error("`T` is ambiguous; write Tu or Th")]
    AmbiguousWeekday,
    /// The weekly total of a split is not a positive amount with a dose unit.
    #[error("a split needs a positive weekly total with a unit, like `250 mg/wk`")]
    InvalidSplitTotal,
    /// A split over PRN or over another split.
    #[error("a weekly total can only be split over ED, EOD, E<n>D, <n>x/wk or weekdays")]
    InvalidSplitCadence,
}

/// The FHIR R4 `Timing.repeat` elements for a frequency (`docs/frequency-notation.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimingRepeat {
    /// Occurrences per period.
    pub frequency: Option<u32>,
    /// Period length.
    pub period: Option<Decimal>,
    /// `d` or `wk`.
    pub period_unit: Option<&'static str>,
    /// FHIR day codes (`mon`, …).
    pub day_of_week: Vec<&'static str>,
    /// True for PRN.
    pub as_needed: bool,
}

const SECONDS_PER_DAY: i64 = 86_400;

impl Cadence {
    /// Interval between doses in days, when evenly spaced.
    pub fn interval_days(&self) -> Option<Decimal> {
        match self {
            Cadence::EveryNDays { days } => Some(*days),
            Cadence::TimesPerWeek { times } => {
                Decimal::from_int(7).checked_div(Decimal::from_int(i64::from(*times)), 4)
            }
            Cadence::Weekdays { .. } => None,
        }
        .map(Decimal::normalize)
    }

    /// Average number of doses per week.
    pub fn doses_per_week(&self) -> Option<Decimal> {
        match self {
            Cadence::EveryNDays { days } => Decimal::from_int(7).checked_div(*days, 4),
            Cadence::TimesPerWeek { times } => Some(Decimal::from_int(i64::from(*times))),
            Cadence::Weekdays { days } => Some(Decimal::from_int(i64::from(days.len()))),
        }
        .map(Decimal::normalize)
    }

    /// Interval in whole seconds, when evenly spaced. Exact: intervals have at most two
    /// decimal places and 7 days divide evenly by 1 to 7.
    pub(crate) fn interval_seconds(&self) -> Option<i64> {
        match self {
            Cadence::EveryNDays { days } => {
                let seconds = days.checked_mul(Decimal::from_int(SECONDS_PER_DAY))?.normalize();
                (seconds.scale() == 0).then_some(seconds.mantissa())
            }
            Cadence::TimesPerWeek { times } => Some(7 * SECONDS_PER_DAY / i64::from(*times)),
            Cadence::Weekdays { .. } => None,
        }
    }

    fn timing(&self) -> TimingRepeat {
        let base = TimingRepeat {
            frequency: Some(1),
            period: None,
            period_unit: None,
            day_of_week: Vec::new(),
            as_needed: false,
        };
        match self {
            Cadence::EveryNDays { days } if days.numeric_eq(Decimal::from_int(7)) => TimingRepeat {
                period: Some(Decimal::from_int(1)),
                period_unit: Some("wk"),
                ..base
            },
            Cadence::EveryNDays { days } => TimingRepeat {
                period: Some(*days),
                period_unit: Some("d"),
                ..base
            },
            Cadence::TimesPerWeek { times } => TimingRepeat {
                frequency: Some(u32::from(*times)),
                period: Some(Decimal::from_int(1)),
                period_unit: Some("wk"),
                ..base
            },
            Cadence::Weekdays { days } => TimingRepeat {
                frequency: Some(days.len()),
                period: Some(Decimal::from_int(1)),
                period_unit: Some("wk"),
                day_of_week: days.fhir_codes(),
                ..base
            },
        }
    }
}

impl Frequency {
    /// Parses what the user typed.
    ///
    /// # Errors
    /// [`FrequencyError`] explaining what was not understood.
    pub fn parse(text: &str) -> Result<Frequency, FrequencyError> {
        parse::parse(text)
    }

    /// The cadence, unless PRN.
    pub fn cadence(&self) -> Option<&Cadence> {
        match self {
            Frequency::Scheduled { cadence } | Frequency::SplitWeekly { cadence, .. } => Some(cadence),
            Frequency::AsNeeded => None,
        }
    }

    /// Interval in days when evenly spaced (the "Interval (days)" column of the grammar in
    /// `docs/frequency-notation.md`).
    pub fn interval_days(&self) -> Option<Decimal> {
        self.cadence().and_then(Cadence::interval_days)
    }

    /// For a split weekly total: the amount per administration, weekly total ÷ doses per
    /// week (`250 mg/wk split E3.5D` → 125 mg), rounded to 4 places.
    pub fn split_dose(&self) -> Option<(Decimal, DoseUnit)> {
        let Frequency::SplitWeekly {
            weekly_total,
            unit,
            cadence,
        } = self
        else {
            return None;
        };
        let per_week = cadence.doses_per_week()?;
        let per_dose = match cadence {
            // total × interval / 7 keeps E3.5D exact (250 × 3.5 / 7 = 125).
            Cadence::EveryNDays { days } => weekly_total.checked_mul(*days)?.checked_div(Decimal::from_int(7), 4)?,
            _ => weekly_total.checked_div(per_week, 4)?,
        };
        Some((per_dose.normalize(), *unit))
    }

    /// The FHIR `Timing.repeat` view.
    pub fn timing(&self) -> TimingRepeat {
        match self.cadence() {
            Some(cadence) => cadence.timing(),
            None => TimingRepeat {
                frequency: None,
                period: None,
                period_unit: None,
                day_of_week: Vec::new(),
                as_needed: true,
            },
        }
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cadence::EveryNDays { days } => match days.normalize().to_string().as_str() {
                "1" => f.write_str("ED"),
                "2" => f.write_str("EOD"),
                "7" => f.write_str("weekly"),
                n => write!(f, "E{n}D"),
            },
            Cadence::TimesPerWeek { times } => write!(f, "{times}x/wk"),
            Cadence::Weekdays { days } => write!(f, "{days}"),
        }
    }
}

impl fmt::Display for Frequency {
    /// Canonical notation: parsing it gives back the same frequency.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Frequency::Scheduled { cadence } => write!(f, "{cadence}"),
            Frequency::SplitWeekly {
                weekly_total,
                unit,
                cadence,
            } => write!(f, "{weekly_total} {}/wk split {cadence}", unit.symbol()),
            Frequency::AsNeeded => f.write_str("PRN"),
        }
    }
}

/// A schedule as stored: the user's text beside its parsed form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Exactly what the user typed.
    pub raw: String,
    /// What it means.
    pub frequency: Frequency,
}

impl Schedule {
    /// Parses `raw`, keeping it verbatim.
    ///
    /// # Errors
    /// [`FrequencyError`] when the notation is not understood.
    pub fn parse(raw: &str) -> Result<Schedule, FrequencyError> {
        Ok(Schedule {
            raw: raw.to_owned(),
            frequency: Frequency::parse(raw)?,
        })
    }
}
