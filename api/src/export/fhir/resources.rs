//! One FHIR R4 resource per record (codes and systems as `docs/export.md` cites them). Must
//! not: read anything, or invent a code: a marker without a LOINC code gets text only, a unit
//! that is not the catalog's UCUM unit gets no UCUM code.

use serde_json::{Map, Value, json};
use time::Date;
use uuid::Uuid;
use vigil_domain::bloodwork::catalog::normalise_unit;
use vigil_domain::bloodwork::{MarkerRef, RangeBasis, RecordedResult};
use vigil_domain::dose::DoseOutcome;
use vigil_domain::protocol::{ProtocolItem, ProtocolStatus};
use vigil_domain::values::Decimal;
use vigil_projections::read::{DoseView, HealthLogView, PanelView, ProtocolView};

use super::derived_id;
use crate::export::records::{compound_name, name_of, rfc3339};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const DIAGNOSTIC_SERVICE: &str = "http://terminology.hl7.org/CodeSystem/v2-0074";
/// LOINC "Laboratory report", the code of every panel's report.
const LAB_REPORT: &str = "11502-2";

/// A FHIR decimal from an exact one (a JSON number).
fn number(d: &str) -> Value {
    d.parse::<serde_json::Number>().map_or(Value::Null, Value::Number)
}

/// A Quantity; `ucum` is the UCUM code when the unit is one.
fn quantity(value: &str, unit: &str, ucum: Option<&str>) -> Value {
    let mut q = Map::new();
    q.insert("value".into(), number(value));
    q.insert("unit".into(), Value::String(unit.to_owned()));
    if let Some(code) = ucum {
        q.insert("system".into(), Value::String(UCUM.into()));
        q.insert("code".into(), Value::String(code.to_owned()));
    }
    Value::Object(q)
}

fn category(code: &str, display: &str) -> Value {
    json!([{ "coding": [{ "system": CATEGORY, "code": code, "display": display }] }])
}

/// The status of a record that may have been corrected or withdrawn.
fn record_status(corrections: u32, retracted: bool) -> &'static str {
    if retracted {
        "entered-in-error"
    } else if corrections > 0 {
        "amended"
    } else {
        "final"
    }
}

/// A dose unit's UCUM code.
fn dose_ucum(symbol: &str) -> &'static str {
    match symbol {
        "mcg" => "ug",
        "IU" => "[iU]",
        "mL" => "mL",
        _ => "mg",
    }
}

fn dose_quantity(amount: &str, symbol: &str) -> Value {
    quantity(amount, symbol, Some(dose_ucum(symbol)))
}

/// A statement per item of every version of a protocol: the latest version's items carry
/// the protocol's status today; an earlier version's were replaced on the next one's first day.
pub fn medication_statements(view: &ProtocolView, subject: &Value, today: Date) -> Vec<(Uuid, Value)> {
    let versions = &view.state.versions;
    let mut out = Vec::new();
    for (n, version) in versions.iter().enumerate() {
        let replaced_on = versions.get(n + 1).map(|next| next.effective_from);
        let status = match (replaced_on, view.state.status_at(today)) {
            (Some(_), _) | (None, ProtocolStatus::Ended) => "completed",
            (None, ProtocolStatus::Active) => "active",
            (None, ProtocolStatus::Paused) => "on-hold",
            (None, ProtocolStatus::NotStarted) => "intended",
        };
        for item in &version.items {
            let id = derived_id(&[
                "medication-statement",
                &view.protocol_id.to_string(),
                &version.version.to_string(),
                &item.item_id.as_uuid().to_string(),
            ]);
            let end = item.end.or(replaced_on);
            let mut period = Map::new();
            period.insert(
                "start".into(),
                Value::String(item.start.max(version.effective_from).to_string()),
            );
            if let Some(end) = end {
                period.insert("end".into(), Value::String(end.to_string()));
            }
            let resource = json!({
                "resourceType": "MedicationStatement",
                "id": id.to_string(),
                "status": status,
                "medicationCodeableConcept": { "text": compound_name(&item.compound) },
                "subject": subject,
                "effectivePeriod": period,
                "dateAsserted": rfc3339(version.recorded_at),
                "note": [{ "text": format!("{}, version {}", version.name, version.version) }],
                "dosage": [dosage(item)],
            });
            out.push((id, resource));
        }
    }
    out
}

fn dosage(item: &ProtocolItem) -> Value {
    let amount = item.dose.amount.to_string();
    let unit = item.dose.unit.symbol();
    let route = name_of(&item.route);
    json!({
        "text": format!("{amount} {unit} {route} {}", item.schedule.raw),
        "timing": { "code": { "text": item.schedule.raw } },
        "route": { "text": route },
        "doseAndRate": [{ "doseQuantity": dose_quantity(&amount, unit) }],
    })
}

/// A taken dose (a skip administered nothing: it is in the JSON and CSV exports).
pub fn medication_administration(view: &DoseView, subject: &Value) -> Option<Value> {
    let DoseOutcome::Taken {
        dose,
        route,
        site,
        taken_at,
        ..
    } = &view.entry.outcome
    else {
        return None;
    };
    let mut dosage = Map::new();
    dosage.insert("route".into(), json!({ "text": name_of(route) }));
    if let Some(site) = site {
        dosage.insert("site".into(), json!({ "text": name_of(site) }));
    }
    dosage.insert(
        "dose".into(),
        dose_quantity(&dose.amount.to_string(), dose.unit.symbol()),
    );
    let compound = view
        .entry
        .compound
        .as_ref()
        .map_or_else(|| "not recorded".to_owned(), compound_name);
    let status = if view.entry.retracted {
        "entered-in-error"
    } else {
        "completed"
    };
    let mut resource = json!({
        "resourceType": "MedicationAdministration",
        "id": view.dose_id.to_string(),
        "status": status,
        "medicationCodeableConcept": { "text": compound },
        "subject": subject,
        "effectiveDateTime": rfc3339(*taken_at),
        "dosage": dosage,
    });
    if let (Some(note), Some(map)) = (&view.note, resource.as_object_mut()) {
        map.insert("note".into(), json!([{ "text": note }]));
    }
    Some(resource)
}

/// A vital sign in its canonical UCUM unit; blood pressure as a panel with two components.
pub fn vital(view: &HealthLogView, subject: &Value) -> Value {
    let code = |loinc: &str| json!({ "coding": [{ "system": LOINC, "code": loinc }] });
    let value = |c: &vigil_domain::health::VitalComponent| {
        let v = c.canonical_value.to_string();
        quantity(&v, &c.canonical_unit, Some(c.canonical_unit.as_str()))
    };
    let mut resource = json!({
        "resourceType": "Observation",
        "id": view.entry_id.to_string(),
        "status": record_status(view.corrections, view.retracted),
        "category": category("vital-signs", "Vital Signs"),
        "code": code(&view.loinc),
        "subject": subject,
        "effectiveDateTime": rfc3339(view.measured_at),
    });
    let Some(map) = resource.as_object_mut() else {
        return resource;
    };
    match view.components.as_slice() {
        [single] if single.loinc == view.loinc => {
            map.insert("valueQuantity".into(), value(single));
        }
        components => {
            let parts: Vec<Value> = components
                .iter()
                .map(|c| json!({ "code": code(&c.loinc), "valueQuantity": value(c) }))
                .collect();
            map.insert("component".into(), Value::Array(parts));
        }
    }
    if let Some(note) = &view.note {
        map.insert("note".into(), json!([{ "text": note }]));
    }
    resource
}

/// A panel: an observation per result, and the report grouping them.
pub fn panel(view: &PanelView, subject: &Value) -> (Vec<(Uuid, Value)>, Value) {
    let status = record_status(view.corrections, view.retracted);
    let drawn = rfc3339(view.drawn_at);
    let panel_id = view.panel_id.to_string();
    let results: Vec<(Uuid, Value)> = view
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = derived_id(&["lab-result", &panel_id, &i.to_string()]);
            (id, lab_result(r, id, status, &drawn, subject))
        })
        .collect();
    let references: Vec<Value> = results
        .iter()
        .map(|(id, _)| json!({ "reference": format!("urn:uuid:{id}") }))
        .collect();
    let mut report = json!({
        "resourceType": "DiagnosticReport",
        "id": panel_id,
        "status": status,
        "category": [{ "coding": [{ "system": DIAGNOSTIC_SERVICE, "code": "LAB", "display": "Laboratory" }] }],
        "code": { "coding": [{ "system": LOINC, "code": LAB_REPORT, "display": "Laboratory report" }] },
        "subject": subject,
        "effectiveDateTime": drawn,
        "result": references,
    });
    if let (Some(lab), Some(map)) = (&view.lab_name, report.as_object_mut()) {
        map.insert("performer".into(), json!([{ "display": lab }]));
    }
    (results, report)
}

/// The UCUM code of `unit` when it is the marker's catalogued (UCUM) unit or SI unit.
fn lab_ucum(r: &RecordedResult, unit: &str) -> Option<&'static str> {
    let MarkerRef::Catalog { marker } = &r.marker else {
        return None;
    };
    let def = marker.def();
    let unit = normalise_unit(unit);
    [Some(def.unit), def.si_unit]
        .into_iter()
        .flatten()
        .find(|u| normalise_unit(u) == unit)
}

fn lab_result(r: &RecordedResult, id: Uuid, status: &str, drawn: &str, subject: &Value) -> Value {
    let mut code = Map::new();
    if let Some(loinc) = &r.loinc {
        code.insert(
            "coding".into(),
            json!([{ "system": LOINC, "code": loinc, "display": r.name }]),
        );
    }
    code.insert("text".into(), Value::String(r.name.clone()));
    let value = r.value.to_string();
    let mut resource = json!({
        "resourceType": "Observation",
        "id": id.to_string(),
        "status": status,
        "category": category("laboratory", "Laboratory"),
        "code": code,
        "subject": subject,
        "effectiveDateTime": drawn,
        "valueQuantity": quantity(&value, &r.unit, lab_ucum(r, &r.unit)),
    });
    let Some(map) = resource.as_object_mut() else {
        return resource;
    };
    if let Some(flag) = &r.flag {
        let flag = name_of(flag);
        map.insert(
            "interpretation".into(),
            json!([{ "coding": [{ "system": INTERPRETATION, "code": flag }] }]),
        );
    }
    if let Some(range) = reference_range(r) {
        map.insert("referenceRange".into(), json!([range]));
    }
    resource
}

/// The range the flag was judged against: the lab's (in the reported unit) or the catalog's
/// (in the marker's canonical unit).
fn reference_range(r: &RecordedResult) -> Option<Value> {
    let mut range = Map::new();
    let bound = |d: Option<Decimal>, unit: &str, ucum: Option<&str>| d.map(|d| quantity(&d.to_string(), unit, ucum));
    match (&r.lab_range, r.flag_basis, &r.marker) {
        (Some(lab), _, _) => {
            let ucum = lab_ucum(r, &r.unit);
            if let Some(low) = bound(lab.low, &r.unit, ucum) {
                range.insert("low".into(), low);
            }
            if let Some(high) = bound(lab.high, &r.unit, ucum) {
                range.insert("high".into(), high);
            }
            if let Some(text) = &lab.text {
                range.insert("text".into(), Value::String(text.clone()));
            }
        }
        (None, Some(RangeBasis::Catalog), MarkerRef::Catalog { marker }) => {
            let def = marker.def();
            if let Some(low) = bound(def.range.low.map(|l| l.value), def.unit, Some(def.unit)) {
                range.insert("low".into(), low);
            }
            if let Some(high) = bound(def.range.high.map(|l| l.value), def.unit, Some(def.unit)) {
                range.insert("high".into(), high);
            }
        }
        _ => {}
    }
    (!range.is_empty()).then_some(Value::Object(range))
}
