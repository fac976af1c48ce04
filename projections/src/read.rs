//! Read-model queries for the API. Every query of health data takes a [`Subject`] (proof that
//! the caller's right to that person was checked, see `subject`) and filters by it, so a
//! caller can never reach another person's rows by guessing an id (they get `None`).
//! Rows come back as domain types where the domain has them, so the API computes adherence,
//! next due, in-force versions and level estimates with the domain's own rules.
//! Must not write.

mod access;
mod accounts;
mod bloodwork;
mod doses;
mod health;
mod page;
mod protocols;
mod subject;

pub use access::{
    AccessEntry, AccountMetadata, SignInFacts, access_events, access_log, account_metadata, sign_in_facts,
};
pub use accounts::{
    AccountView, ClaimHolder, ConsentChange, InactiveAccount, account, ai_consent_changes, claim_owner, email_index_of,
    inactive_accounts, password_hash, pending_erasures,
};
pub use bloodwork::{MarkerPoint, PanelView, latest_panel, marker_series, panel, panel_history, panels};
pub use doses::{DoseView, dose, dose_log_state, doses};
pub use health::{HealthLogView, health_log, health_log_history, health_logs, latest_vitals};
pub use page::{Cursor, Page, PageRequest};
pub use protocols::{ProtocolView, protocol, protocol_state, protocols};
pub(crate) use subject::MintSlot;
pub use subject::{Subject, SubjectMint};

use crate::error::{ProjectionError, Result};

fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| ProjectionError::decode(what, e))
}

fn from_name<T: serde::de::DeserializeOwned>(what: &'static str, name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|e| ProjectionError::decode(what, e))
}

fn at(micros: i64) -> Result<time::OffsetDateTime> {
    at_micros(micros)
}

/// The instant `micros` microseconds after the epoch, as read models read time back.
pub(crate) fn at_micros(micros: i64) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|e| ProjectionError::decode("timestamp", e))
}

/// A day as read models store it (ISO text).
fn date(text: &str) -> Result<time::Date> {
    time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| ProjectionError::decode("date", e))
}

fn uuid(what: &'static str, text: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(text).map_err(|e| ProjectionError::decode(what, e))
}

/// Microseconds since the epoch of an instant (how read models store time).
pub fn micros(at: time::OffsetDateTime) -> i64 {
    crate::apply::micros(at)
}
