//! The export's records: read-model views and raw events in the shapes the JSON document
//! (`docs/export/vigil-export-v1.schema.json`) and the CSV files share. Decimals stay strings
//! (exact, with a decimal point, as entered), instants are RFC 3339 in UTC, dates ISO 8601.
//! Must not: read anything (the writers hand rows in), or drop a field the schema documents.

mod history;
mod measures;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vigil_domain::compounds::Compound;
use vigil_domain::dose::DoseOutcome;
use vigil_domain::protocol::{ProtocolItem, ProtocolVersion, StatusChange};
use vigil_projections::read::{AccountView, DoseView, ProtocolView};

pub use history::{Access, Event, Media};
pub use measures::{HealthLog, LabRangeOut, Panel};

/// RFC 3339 text of an instant, in UTC.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

/// The serde name of a unit enum variant (`blood_pressure`, `im`).
pub fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A compound as people read it: the catalog key, or the custom name.
pub fn compound_name(c: &Compound) -> String {
    match c {
        Compound::Catalog(key) => name_of(key),
        Compound::Custom { name, .. } => name.clone(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub handle: String,
    pub role: String,
    pub tier: String,
    pub registered_at: String,
    pub settings: ProfileSettings,
    pub ai_consent: bool,
    pub erasure_requested: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSettings {
    pub lab_units: String,
    pub weight_unit: String,
}

impl From<&AccountView> for Profile {
    fn from(a: &AccountView) -> Self {
        Profile {
            id: a.user_id.to_string(),
            handle: a.handle.clone(),
            role: name_of(&a.role),
            tier: name_of(&a.tier),
            registered_at: rfc3339(a.registered_at),
            settings: ProfileSettings {
                lab_units: name_of(&a.settings.lab_units),
                weight_unit: name_of(&a.settings.weight_unit),
            },
            ai_consent: a.ai_consent,
            erasure_requested: a.erasure_requested,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Protocol {
    pub id: String,
    pub name: String,
    pub status: String,
    pub created_at: String,
    pub current_version: u32,
    pub versions: Vec<Version>,
    pub status_changes: Vec<Status>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub version: u32,
    pub name: String,
    pub effective_from: String,
    pub reason: Option<String>,
    pub recorded_at: String,
    pub items: Vec<Item>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: String,
    pub compound: String,
    pub amount: String,
    pub unit: String,
    pub route: String,
    pub schedule: String,
    pub time_of_day: String,
    pub start: String,
    pub end: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub on: String,
    pub status: String,
}

impl From<&ProtocolView> for Protocol {
    fn from(p: &ProtocolView) -> Self {
        Protocol {
            id: p.protocol_id.to_string(),
            name: p.name.clone(),
            status: name_of(&p.status),
            created_at: rfc3339(p.created_at),
            current_version: p.current_version,
            versions: p.state.versions.iter().map(Version::from).collect(),
            status_changes: p.state.status_changes.iter().map(Status::from).collect(),
        }
    }
}

impl From<&ProtocolVersion> for Version {
    fn from(v: &ProtocolVersion) -> Self {
        Version {
            version: v.version,
            name: v.name.clone(),
            effective_from: v.effective_from.to_string(),
            reason: v.reason.clone(),
            recorded_at: rfc3339(v.recorded_at),
            items: v.items.iter().map(Item::from).collect(),
        }
    }
}

impl From<&ProtocolItem> for Item {
    fn from(i: &ProtocolItem) -> Self {
        Item {
            id: i.item_id.as_uuid().to_string(),
            compound: compound_name(&i.compound),
            amount: i.dose.amount.to_string(),
            unit: i.dose.unit.symbol().to_owned(),
            route: name_of(&i.route),
            schedule: i.schedule.raw.clone(),
            time_of_day: format!("{:02}:{:02}", i.time_of_day.hour(), i.time_of_day.minute()),
            start: i.start.to_string(),
            end: i.end.map(|d| d.to_string()),
        }
    }
}

impl From<&StatusChange> for Status {
    fn from(s: &StatusChange) -> Self {
        Status {
            on: s.on.to_string(),
            status: name_of(&s.status),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dose {
    pub id: String,
    pub protocol_id: String,
    pub item_id: String,
    /// `taken` or `skipped`.
    pub outcome: String,
    pub compound: Option<String>,
    pub amount: Option<String>,
    pub unit: Option<String>,
    pub route: Option<String>,
    pub site: Option<String>,
    pub taken_at: Option<String>,
    pub scheduled_for: Option<String>,
    pub note: Option<String>,
    pub corrections: u32,
    pub retracted: bool,
    pub recorded_at: String,
}

impl From<&DoseView> for Dose {
    fn from(d: &DoseView) -> Self {
        let (outcome, amount, unit, route, site, taken_at) = match &d.entry.outcome {
            DoseOutcome::Taken {
                dose,
                route,
                site,
                taken_at,
                ..
            } => (
                "taken",
                Some(dose.amount.to_string()),
                Some(dose.unit.symbol().to_owned()),
                Some(name_of(route)),
                site.as_ref().map(name_of),
                Some(rfc3339(*taken_at)),
            ),
            DoseOutcome::Skipped => ("skipped", None, None, None, None, None),
        };
        Dose {
            id: d.dose_id.to_string(),
            protocol_id: d.entry.protocol_id.as_uuid().to_string(),
            item_id: d.entry.item_id.as_uuid().to_string(),
            outcome: outcome.to_owned(),
            compound: d.entry.compound.as_ref().map(compound_name),
            amount,
            unit,
            route,
            site,
            taken_at,
            scheduled_for: d.entry.scheduled_for.map(rfc3339),
            note: d.note.clone(),
            corrections: d.entry.corrections,
            retracted: d.entry.retracted,
            recorded_at: rfc3339(d.recorded_at),
        }
    }
}
