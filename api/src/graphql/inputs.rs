//! Parsing GraphQL arguments into domain values, each failure naming its field.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};
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

pub fn instant(field: &str, text: &str) -> ApiResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| ApiError::bad(field, "expected an RFC 3339 date-time"))
}

pub fn date(field: &str, text: &str) -> ApiResult<Date> {
    Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| ApiError::bad(field, "expected a date like 2026-03-01"))
}

pub fn time_of_day(field: &str, text: &str) -> ApiResult<Time> {
    Time::parse(text, time::macros::format_description!("[hour]:[minute]"))
        .map_err(|_| ApiError::bad(field, "expected a time like 09:00"))
}

/// A catalog compound by key (`testosterone_enanthate`) or, failing that, a custom one.
pub fn compound(text: &str) -> ApiResult<Compound> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 100 {
        return Err(ApiError::bad("compound", "must be 1 to 100 characters"));
    }
    match serde_json::from_value::<CompoundKey>(serde_json::Value::String(text.to_lowercase())) {
        Ok(key) => Ok(Compound::Catalog(key)),
        Err(_) => Ok(Compound::Custom {
            name: text.to_owned(),
            ester: None,
        }),
    }
}

pub fn route(text: &str) -> ApiResult<Route> {
    named("route", text)
}

pub fn vital(text: &str) -> ApiResult<VitalKind> {
    named("vital", text)
}

pub fn dose(amount: &str, unit: &str) -> ApiResult<Dose> {
    let unit = DoseUnit::parse(unit).ok_or_else(|| ApiError::bad("unit", "expected mg, mcg, IU or mL"))?;
    Ok(Dose {
        amount: decimal("amount", amount)?,
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
