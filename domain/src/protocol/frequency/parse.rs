//! The notation grammar. Input is normalised (trimmed, lower-cased, `×` read as `x`,
//! runs of spaces collapsed) before matching, so `E3.5D`, `e3.5d` and ` E3.5D ` agree.

use super::{Cadence, Frequency, FrequencyError, WeekdaySet};
use crate::protocol::dose::DoseUnit;
use crate::values::Decimal;

const MAX_INTERVAL_DAYS: i64 = 365;
const MAX_PLACES: u8 = 2;

pub(super) fn parse(text: &str) -> Result<Frequency, FrequencyError> {
    let normalised = normalise(text);
    let unrecognised = || FrequencyError::Unrecognised(text.trim().to_owned());
    if normalised.is_empty() {
        return Err(unrecognised());
    }
    if matches!(normalised.as_str(), "prn" | "as needed") {
        return Ok(Frequency::AsNeeded);
    }
    if let Some((total, cadence)) = normalised.split_once(" split ") {
        let (weekly_total, unit) = parse_weekly_total(total)?;
        if cadence.contains("split") || matches!(cadence, "prn" | "as needed") {
            return Err(FrequencyError::InvalidSplitCadence);
        }
        let cadence = parse_cadence(cadence)?.ok_or_else(unrecognised)?;
        return Ok(Frequency::SplitWeekly {
            weekly_total,
            unit,
            cadence,
        });
    }
    let cadence = parse_cadence(&normalised)?.ok_or_else(unrecognised)?;
    Ok(Frequency::Scheduled { cadence })
}

fn normalise(text: &str) -> String {
    text.to_lowercase()
        .replace('×', "x")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `Ok(None)` means "not a cadence", so the caller reports the whole text.
fn parse_cadence(text: &str) -> Result<Option<Cadence>, FrequencyError> {
    let every = |days: i64| {
        Ok(Some(Cadence::EveryNDays {
            days: Decimal::from_int(days),
        }))
    };
    match text {
        "ed" | "daily" | "every day" | "qd" => return every(1),
        "eod" | "every other day" => return every(2),
        "weekly" | "/wk" | "once a week" | "e1w" => return every(7),
        _ => {}
    }
    if let Some(number) = text.strip_prefix('e').and_then(|t| t.strip_suffix('d'))
        && let Ok(days) = Decimal::parse(number)
    {
        return every_n_days(days).map(Some);
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some((number, per)) = compact.split_once('x')
        && matches!(per, "/wk" | "/week" | "perweek" | "weekly" | "aweek" | "pw")
        && let Ok(times) = number.parse::<u32>()
    {
        return match times {
            0 => Err(FrequencyError::Zero),
            1..=7 => Ok(Some(Cadence::TimesPerWeek {
                times: u8::try_from(times).map_err(|_| FrequencyError::TooManyPerWeek)?,
            })),
            _ => Err(FrequencyError::TooManyPerWeek),
        };
    }
    Ok(WeekdaySet::parse(text)?.map(|days| Cadence::Weekdays { days }))
}

fn every_n_days(days: Decimal) -> Result<Cadence, FrequencyError> {
    let days = days.normalize();
    if !days.is_positive() {
        return Err(FrequencyError::Zero);
    }
    if days.numeric_cmp(Decimal::from_int(MAX_INTERVAL_DAYS)).is_gt() {
        return Err(FrequencyError::IntervalTooLong);
    }
    if days.scale() > MAX_PLACES {
        return Err(FrequencyError::IntervalTooPrecise);
    }
    Ok(Cadence::EveryNDays { days })
}

/// `250 mg/wk`, `250mg/week`, `1.5 ml per week`.
fn parse_weekly_total(text: &str) -> Result<(Decimal, DoseUnit), FrequencyError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let amount_and_unit = ["/wk", "/week", "perweek", "weekly", "pw"]
        .iter()
        .find_map(|suffix| compact.strip_suffix(suffix))
        .ok_or(FrequencyError::InvalidSplitTotal)?;
    let split_at = amount_and_unit
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or(FrequencyError::InvalidSplitTotal)?;
    let (amount, unit) = amount_and_unit.split_at(split_at);
    let amount = Decimal::parse(amount).map_err(|_| FrequencyError::InvalidSplitTotal)?;
    let unit = DoseUnit::parse(unit).ok_or(FrequencyError::InvalidSplitTotal)?;
    if !amount.is_positive() {
        return Err(FrequencyError::InvalidSplitTotal);
    }
    Ok((amount, unit))
}
