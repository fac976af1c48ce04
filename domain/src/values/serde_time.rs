//! Human-readable, sortable serde formats for `time` values inside events.
//!
//! `OffsetDateTime` fields use `time::serde::rfc3339`; dates and times of day use the
//! modules here, so a stored event reads `"2026-03-01"` rather than a tuple. The optional
//! variants are written by hand because `time`'s generated `option` modules do not accept
//! `null` from every deserializer (e.g. `serde_json::Value`).

time::serde::format_description!(pub(crate) date, Date, "[year]-[month]-[day]");
time::serde::format_description!(pub(crate) time_of_day, Time, "[hour]:[minute]:[second]");

/// `Option<Date>` as `"2026-03-01"` or `null`.
pub(crate) mod option_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;
    use time::format_description::BorrowedFormatItem;
    use time::macros::format_description;

    const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

    pub(crate) fn serialize<S: Serializer>(value: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(date) => {
                let text = date.format(FORMAT).map_err(serde::ser::Error::custom)?;
                serializer.serialize_some(&text)
            }
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| Date::parse(&text, FORMAT).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// `Option<OffsetDateTime>` as RFC 3339 or `null`.
pub(crate) mod option_rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub(crate) fn serialize<S: Serializer>(value: &Option<OffsetDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(at) => {
                let text = at.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
                serializer.serialize_some(&text)
            }
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom))
            .transpose()
    }
}
