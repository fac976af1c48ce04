//! What each export must hold, field by field: the values written (as entered, with SI
//! values and flags), every version of the protocol, the skip, blood pressure as two
//! components, and the person's events with the positions and hashes the store has.

use serde_json::{Value, json};

use super::formats;
use crate::harness::{Backend, cli};

/// The store's own view of the person's events: position -> hash (`vigil events`).
fn store_hashes(backend: &Backend, user: &str) -> std::collections::BTreeMap<u64, String> {
    cli(backend, &["events", "--subject", user])
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let envelope = if v.get("envelope").is_some() {
                &v["envelope"]
            } else {
                &v
            };
            (
                envelope["position"].as_u64().unwrap(),
                envelope["hash"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub fn check_json(doc: &Value, user: &str, backend: &Backend) {
    assert_eq!((&doc["format"], &doc["version"]), (&json!("vigil-export"), &json!(1)));
    assert_eq!((&doc["subject"], &doc["profile"]["id"]), (&json!(user), &json!(user)));
    let protocol = &doc["protocols"][0];
    assert_eq!(protocol["versions"].as_array().unwrap().len(), 2, "{protocol}");
    assert_eq!(protocol["versions"][1]["items"][0]["amount"], "100");
    assert_eq!(protocol["versions"][1]["reason"], "lower dose");
    let doses = doc["doses"].as_array().unwrap();
    let outcomes: Vec<&str> = doses.iter().map(|d| d["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "taken").count(), 2, "{outcomes:?}");
    let skip = doses.iter().find(|d| d["outcome"] == "skipped").unwrap();
    assert_eq!(skip["note"], "nausea, mild");
    let bp = doc["healthLogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["vital"] == "blood_pressure")
        .unwrap();
    let parts: Vec<(&str, &str)> = bp["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["loinc"].as_str().unwrap(), c["value"].as_str().unwrap()))
        .collect();
    assert_eq!(parts, [("8480-6", "128"), ("8462-4", "82")]);
    let results = doc["bloodwork"][0]["results"].as_array().unwrap();
    let t = results.iter().find(|r| r["marker"] == "total_testosterone").unwrap();
    assert_eq!(
        (&t["value"], &t["unit"], &t["flag"]),
        (&json!("1247"), &json!("ng/dL"), &json!("H"))
    );
    assert_eq!(t["siUnit"], "nmol/L");
    assert!(t["siValue"].as_str().unwrap().starts_with("43."), "{t}");
    assert!(
        doc["accessLog"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "export_requested")
    );

    let events = doc["events"].as_array().unwrap();
    assert_eq!(doc["eventCount"], events.len());
    let store = store_hashes(backend, user);
    let mut last = 0;
    for e in events {
        let position = e["position"].as_u64().unwrap();
        assert!(position > last, "events in position order");
        last = position;
        assert_eq!(
            store.get(&position),
            e["hash"].as_str().map(str::to_owned).as_ref(),
            "hash of {position}"
        );
        assert_eq!(e["hash"].as_str().unwrap().len(), 64);
        assert_eq!(e["prevHash"].as_str().unwrap().len(), 64);
    }
    assert_eq!(events.len(), store.len(), "every event of the person, and only theirs");
    let types: Vec<&str> = events.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
    for t in [
        "ProtocolDefined",
        "DoseSkipped",
        "VitalRecorded",
        "BloodworkRecorded",
        "ExportRequested",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    let password = events
        .iter()
        .find(|e| e["streamId"].as_str().unwrap().starts_with("credentials-"))
        .unwrap();
    assert_eq!(
        (&password["payload"], &password["withheld"]),
        (&Value::Null, &json!("secret"))
    );
    let vital = events.iter().find(|e| e["eventType"] == "VitalRecorded").unwrap();
    assert_eq!(vital["payload"]["type"], "VitalRecorded");
}

pub fn check_csv(zip: &[u8]) {
    let files = formats::csv_files(zip);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "access_log.csv",
            "bloodwork.csv",
            "doses.csv",
            "events.csv",
            "health_logs.csv",
            "media.csv",
            "profile.csv",
            "protocol_status_changes.csv",
            "protocols.csv"
        ]
    );
    let t = files["bloodwork.csv"]
        .iter()
        .find(|r| r["marker"] == "total_testosterone")
        .unwrap();
    assert_eq!(
        (t["value"].as_str(), t["unit"].as_str(), t["flag"].as_str()),
        ("1247", "ng/dL", "H")
    );
    assert!(t["si_value"].starts_with("43.") && t["si_unit"] == "nmol/L", "{t:?}");
    assert!(t["drawn_at"] == "2026-03-05T07:30:00Z");
    let bp: Vec<_> = files["health_logs.csv"]
        .iter()
        .filter(|r| r["vital"] == "blood_pressure")
        .collect();
    assert_eq!(
        bp.iter().map(|r| r["value"].as_str()).collect::<Vec<_>>(),
        ["128", "82"]
    );
    let weight = files["health_logs.csv"]
        .iter()
        .find(|r| r["vital"] == "body_weight")
        .unwrap();
    assert_eq!(weight["value"], "87.3", "a decimal point, as entered");
    let doses = &files["doses.csv"];
    assert!(
        doses
            .iter()
            .any(|r| r["outcome"] == "skipped" && r["note"] == "nausea, mild")
    );
    // Free text that a spreadsheet would run as a formula is defused.
    assert!(doses.iter().any(|r| r["note"] == "'=1+1 left glute"), "{doses:?}");
    assert_eq!(files["protocols.csv"].iter().filter(|r| r["version"] == "2").count(), 1);
    assert_eq!(files["profile.csv"].len(), 1);
    let positions: Vec<u64> = files["events.csv"]
        .iter()
        .map(|r| r["position"].parse().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]) && !positions.is_empty());
    assert!(
        files["access_log.csv"]
            .iter()
            .any(|r| r["kind"] == "export_requested" && r["detail"] == "csv")
    );
}

pub fn check_fhir(bundle: &Value, user: &str) {
    assert_eq!(
        (&bundle["resourceType"], &bundle["type"]),
        (&json!("Bundle"), &json!("collection"))
    );
    let entries = bundle["entry"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> {
        entries
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == kind)
            .collect()
    };
    let patients = of("Patient");
    assert_eq!(patients.len(), 1);
    let patient = patients[0];
    assert!(patient.get("name").is_none() && patient.get("telecom").is_none());
    assert_ne!(patient["id"], user, "a pseudonym, not the account id");
    let subject = format!("urn:uuid:{}", patient["id"].as_str().unwrap());
    let observations = of("Observation");
    assert!(observations.iter().all(|o| o["subject"]["reference"] == subject));
    let bp = observations
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "85354-9")
        .unwrap();
    let components: Vec<(&str, f64, &str)> = bp["component"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let q = &c["valueQuantity"];
            (
                c["code"]["coding"][0]["code"].as_str().unwrap(),
                q["value"].as_f64().unwrap(),
                q["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(components, [("8480-6", 128.0, "mm[Hg]"), ("8462-4", 82.0, "mm[Hg]")]);
    assert_eq!(bp["category"][0]["coding"][0]["code"], "vital-signs");
    let t = observations
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "2986-8")
        .unwrap();
    assert_eq!(t["valueQuantity"]["value"], 1247);
    assert_eq!(
        (&t["valueQuantity"]["code"], &t["valueQuantity"]["system"]),
        (&json!("ng/dL"), &json!("http://unitsofmeasure.org"))
    );
    assert_eq!(t["interpretation"][0]["coding"][0]["code"], "H");
    assert!(t["referenceRange"][0]["high"]["value"].is_number(), "{t}");
    let reports = of("DiagnosticReport");
    assert_eq!(reports.len(), 1);
    let results: Vec<&str> = reports[0]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reference"].as_str().unwrap())
        .collect();
    assert_eq!(results.len(), 2);
    for reference in results {
        let target = entries
            .iter()
            .find(|e| e["fullUrl"] == reference)
            .expect("a result the bundle holds");
        assert_eq!(target["resource"]["resourceType"], "Observation");
    }
    // Version 1 had two items, version 2 one; two doses were taken (the skip is no administration).
    assert_eq!(of("MedicationStatement").len(), 3);
    let given = of("MedicationAdministration");
    assert_eq!(given.len(), 2);
    assert!(
        given
            .iter()
            .all(|g| g["status"] == "completed" && g["dosage"]["dose"]["system"] == "http://unitsofmeasure.org")
    );
}
