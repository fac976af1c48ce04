//! Parsing GraphQL arguments into domain values, each failure naming its field.
//!
//! Also the one place where dates and instants are held to a plausible window: the domain has
//! no clock, so "not before 1900, not more than ten years ahead" is decided here, where now is
//! known. Rules that depend on the record (a dose not taken in the future, a resume not before
//! the pause) stay in the domain.

use time::format_description::well_known::Rfc3339;
use time::macros::date;
use time::{Date, Duration, OffsetDateTime, Time};
use uuid::Uuid;
use vigil_domain::compounds::{Compound, CompoundKey, Route};
use vigil_domain::health::VitalKind;
use vigil_domain::protocol::dose::{Dose, DoseUnit};
use vigil_domain::values::Decimal;

use crate::service::{ApiError, ApiResult};

pub fn id(field: &str, text: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| ApiError::bad(field, "not a valid id"))
}

pub fn decimal(field: &str, text: &str) -> ApiResult<Decimal> {
    Decimal::parse(text).map_err(|e| ApiError::bad(field, e))
}

/// The earliest day any date or instant may name: before it, nothing this service records
/// can have happened (year 0 and 1066 are typos).
pub const EARLIEST: Date = date!(1900 - 01 - 01);

/// How far ahead a date or instant may reach: a protocol planned years ahead, no further
/// (`9999-12-31` would leave a protocol that can no longer be ended).
pub const HORIZON: Duration = Duration::days(3_653);

/// The last day allowed when today is `today`: ten years ahead.
pub fn latest(today: Date) -> Date {
    today.checked_add(HORIZON).unwrap_or(Date::MAX)
}

/// Refuses a day outside [`EARLIEST`] ..= [`latest`], naming the field and the window.
fn within_window(field: &str, day: Date, today: Date) -> ApiResult<()> {
    let last = latest(today);
    if day < EARLIEST || day > last {
        return Err(ApiError::bad(
            field,
            format!("must be between {EARLIEST} and {last} (ten years from today)"),
        ));
    }
    Ok(())
}

pub fn instant(field: &str, text: &str) -> ApiResult<OffsetDateTime> {
    instant_at(field, text, OffsetDateTime::now_utc())
}

/// [`instant`] as of `now`.
pub fn instant_at(field: &str, text: &str, now: OffsetDateTime) -> ApiResult<OffsetDateTime> {
    let at =
        OffsetDateTime::parse(text, &Rfc3339).map_err(|_| ApiError::bad(field, "expected an RFC 3339 date-time"))?;
    // Judged by the UTC day, so an offset cannot move an instant in or out of the window.
    within_window(field, at.to_offset(time::UtcOffset::UTC).date(), now.date())?;
    Ok(at)
}

pub fn date(field: &str, text: &str) -> ApiResult<Date> {
    date_at(field, text, OffsetDateTime::now_utc().date())
}

/// [`date`] as of `today`.
pub fn date_at(field: &str, text: &str, today: Date) -> ApiResult<Date> {
    let day = Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| ApiError::bad(field, "expected a date like 2026-03-01"))?;
    within_window(field, day, today)?;
    Ok(day)
}

pub fn time_of_day(field: &str, text: &str) -> ApiResult<Time> {
    Time::parse(text, time::macros::format_description!("[hour]:[minute]"))
        .map_err(|_| ApiError::bad(field, "expected a time like 09:00"))
}

/// A catalog compound by key (`testosterone_enanthate`) or, failing that, a custom one.
pub fn compound(field: &str, text: &str) -> ApiResult<Compound> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 100 {
        return Err(ApiError::bad(field, "must be 1 to 100 characters"));
    }
    match serde_json::from_value::<CompoundKey>(serde_json::Value::String(text.to_lowercase())) {
        Ok(key) => Ok(Compound::Catalog(key)),
        Err(_) => Ok(Compound::Custom {
            name: text.to_owned(),
            ester: None,
        }),
    }
}

pub fn route(field: &str, text: &str) -> ApiResult<Route> {
    named(field, text)
}

pub fn vital(text: &str) -> ApiResult<VitalKind> {
    named("vital", text)
}

/// A dose from its amount and unit, each failure naming the field it came from (`amount` of
/// `logDose`, `items.amount` of a protocol item). Bounds are the domain's.
pub fn dose(amount_field: &str, amount: &str, unit_field: &str, unit: &str) -> ApiResult<Dose> {
    let unit = DoseUnit::parse(unit).ok_or_else(|| ApiError::bad(unit_field, "expected mg, mcg, IU or mL"))?;
    Ok(Dose {
        amount: decimal(amount_field, amount)?,
        unit,
        concentration: None,
    })
}

/// A unit-like enum by its snake_case name.
pub fn named<T: serde::de::DeserializeOwned>(field: &str, text: &str) -> ApiResult<T> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_lowercase())).map_err(|_| {
        ApiError::bad(
            field,
            format!("unknown value {:?}", text.chars().take(40).collect::<String>()),
        )
    })
}

/// The serde name of a unit-like enum.
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// RFC 3339 text of an instant.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// Optional free text (notes, reasons) with a length bound.
pub fn text(field: &str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::bad(field, format!("at most {max} characters"))),
        Some(v) if v.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn field_of(result: ApiResult<impl std::fmt::Debug>) -> String {
        match result {
            Err(ApiError::BadInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn dates_are_held_between_1900_and_ten_years_ahead() {
        let today = date!(2026 - 05 - 01);
        for bad in ["0000-01-01", "1899-12-31", "2036-05-03", "9999-12-31"] {
            assert_eq!(field_of(date_at("on", bad, today)), "on", "{bad}");
        }
        for good in ["1900-01-01", "2026-05-01", "2036-05-01"] {
            assert!(date_at("on", good, today).is_ok(), "{good}");
        }
        assert_eq!(latest(today), date!(2036 - 05 - 01));
    }

    #[test]
    fn instants_are_held_to_the_same_window_by_their_utc_day() {
        let now = datetime!(2026-05-01 12:00 UTC);
        for bad in [
            "0000-01-01T00:00:00Z",
            "1899-12-31T23:59:59Z",
            "1900-01-01T00:30:00+01:00",
            "2036-05-02T00:00:00Z",
        ] {
            assert_eq!(field_of(instant_at("takenAt", bad, now)), "takenAt", "{bad}");
        }
        for good in [
            "1900-01-01T00:00:00Z",
            "2026-05-01T08:00:00+02:00",
            "2036-05-01T23:59:59Z",
        ] {
            assert!(instant_at("takenAt", good, now).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_dose_names_the_fields_it_was_given() {
        assert_eq!(field_of(dose("items.amount", "x", "items.unit", "mg")), "items.amount");
        assert_eq!(field_of(dose("amount", "5", "unit", "grams")), "unit");
    }
}
