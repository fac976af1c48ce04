//! Export through a real server, on both backends: one of everything written (a protocol with
//! two versions, doses with a skip, blood pressure and weight, a panel with a flagged value),
//! then `exportMyData` in JSON, CSV and FHIR. Each link downloads once and needs no bearer, a
//! second use, an expired link and another person's session are refused, the access log shows
//! every export, the raw events carry the positions and hashes the store has, and the
//! documents pass outside validators (the committed JSON Schema, FHIR R4 models, Python's zip
//! and CSV readers) besides the checks here. The token never reaches the server log.

mod formats;

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, cli, leak, sqlite_dir};
use crate::protocols::start_protocol;
use crate::signin::register;

const EXPORT: &str = "mutation($f: ExportFormat!) { exportMyData(format: $f) { url expiresAt format position } }";

/// Writes one of everything: a protocol amended once, two doses and a skip, a blood pressure
/// and a weight, a panel whose testosterone is high.
async fn write_history(client: &Client) {
    let (protocol, te, ai) = start_protocol(client, "Cycle").await;
    client
        .ok(
            "mutation($id: String!, $te: String!) { amendProtocol(id: $id, name: \"Cycle\", effectiveFrom: \"2026-03-10\", reason: \"lower dose\", items: [
                {id: $te, compound: \"testosterone_enanthate\", amount: \"100\", unit: \"mg\", route: \"im\", schedule: \"E3.5D\", start: \"2026-01-01\"}]) { position } }",
            json!({ "id": protocol, "te": te }),
        )
        .await;
    for (item, at) in [(&te, "2026-03-01T08:30:00Z"), (&ai, "2026-03-02T08:10:00Z")] {
        client
            .ok(
                "mutation($p: String!, $i: String!, $t: String!) { logDose(protocolId: $p, itemId: $i, takenAt: $t, note: \"=1+1 left glute\") { position } }",
                json!({ "p": protocol, "i": item, "t": at }),
            )
            .await;
    }
    client
        .ok(
            "mutation($p: String!, $i: String!) { skipDose(protocolId: $p, itemId: $i, scheduledFor: \"2026-03-03T08:00:00Z\", reason: \"nausea, mild\") { position } }",
            json!({ "p": protocol, "i": ai }),
        )
        .await;
    client
        .ok(
            "mutation { bp: recordHealthLog(input: {vital: \"blood_pressure\", systolic: \"128\", diastolic: \"82\", measuredAt: \"2026-03-02T07:00:00Z\"}) { position }
                        kg: recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\", measuredAt: \"2026-03-02T07:05:00Z\"}) { position } }",
            json!({}),
        )
        .await;
    client
        .ok(
            "mutation { recordBloodwork(drawnAt: \"2026-03-05T07:30:00Z\", labName: \"City Lab\", results: [
                {loinc: \"2986-8\", name: \"Testosterone\", value: \"1247\", unit: \"ng/dL\"},
                {loinc: \"4544-3\", name: \"Hematocrit\", value: \"51.2\", unit: \"%\"}]) { position } }",
            json!({}),
        )
        .await;
}

/// Asks for an export; answers the link's absolute URL and the token.
async fn ask(client: &Client, server: &Server, format: &str) -> (String, String) {
    let data = client.ok(EXPORT, json!({ "f": format })).await;
    let offer = &data["exportMyData"];
    assert_eq!(offer["format"], format);
    let path = offer["url"].as_str().unwrap();
    let token = path.strip_prefix("/export/").expect("a path under /export/").to_owned();
    assert!(token.starts_with("vgx_") && token.len() == 47, "{path}");
    (format!("{}{path}", server.url), token)
}

/// GETs a link, with a bearer or none: the status, the headers and the body.
async fn get(url: &str, bearer: Option<&str>) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// Downloads a link once (no bearer): checks the download headers, and that it is spent.
async fn download(url: &str, content_type: &str) -> Vec<u8> {
    let (status, headers, body) = get(url, None).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], content_type);
    assert_eq!(headers["cache-control"], "no-store");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"vigil-export-"),
        "{disposition}"
    );
    let (again, _, body_again) = get(url, None).await;
    assert_eq!(
        again,
        404,
        "a link works once: {}",
        String::from_utf8_lossy(&body_again)
    );
    body
}

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

fn check_json(doc: &Value, user: &str, backend: &Backend) {
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

fn check_csv(zip: &[u8]) {
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

fn check_fhir(bundle: &Value, user: &str) {
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

async fn exports(backend: Backend) {
    let server = Server::start(&backend);
    let (client, user, _) = register(&server, "export@example.org").await;
    write_history(&client).await;
    let python = formats::validators();
    let mut tokens = Vec::new();

    let (url, token) = ask(&client, &server, "JSON").await;
    tokens.push(token);
    let body = download(&url, "application/json").await;
    let doc: Value = serde_json::from_slice(&body).unwrap();
    check_json(&doc, &user, &backend);
    if let Some(python) = &python {
        formats::validate(python, "json", &body);
    }

    let (url, token) = ask(&client, &server, "CSV").await;
    tokens.push(token);
    let zip = download(&url, "application/zip").await;
    check_csv(&zip);
    if let Some(python) = &python {
        formats::validate(python, "zip", &zip);
    }

    let (url, token) = ask(&client, &server, "FHIR").await;
    tokens.push(token);
    // The owner's own bearer is welcome (the link alone is enough).
    let (status, _, body) = get(&url, client.token.as_deref()).await;
    assert_eq!(status, 200);
    let bundle: Value = serde_json::from_slice(&body).unwrap();
    check_fhir(&bundle, &user);
    if let Some(python) = &python {
        formats::validate(python, "fhir", &body);
    }

    // Someone else's session cannot use the link, and spends it.
    let (other, _, _) = register(&server, "not-the-owner@example.org").await;
    let (url, token) = ask(&client, &server, "JSON").await;
    tokens.push(token);
    let (status, _, _) = get(&url, other.token.as_deref()).await;
    assert_eq!(status, 403);
    assert_eq!(get(&url, None).await.0, 404);
    // A made-up or malformed token is the same 404.
    let fake = format!("{}/export/vgx_{}", server.url, "A".repeat(43));
    assert_eq!(get(&fake, None).await.0, 404);
    assert_eq!(get(&format!("{}/export/nonsense", server.url), None).await.0, 404);

    // An expired link is refused (the expiry is moved into the past behind the server's back).
    let (url, token) = ask(&client, &server, "CSV").await;
    tokens.push(token);
    expire_every_token(&backend).await;
    assert_eq!(get(&url, None).await.0, 404);

    // Every export is on the access log, with its format.
    let log = client
        .ok("{ accessLog(first: 50) { edges { node { kind detail } } } }", json!({}))
        .await;
    let recorded: Vec<&str> = log["accessLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["kind"] == "export_requested")
        .map(|e| e["node"]["detail"].as_str().unwrap())
        .collect();
    assert_eq!(recorded, ["csv", "json", "fhir", "csv", "json"], "newest first");

    let logs = server.stop();
    for token in &tokens {
        assert_eq!(leak(&logs, token), None, "an export token reached the log");
        assert_eq!(leak(&logs, &token[4..]), None, "an export token reached the log");
    }
    assert_eq!(leak(&logs, "1247"), None, "a lab value reached the log");
}

/// Moves every export token's expiry into the past, straight in the read database.
async fn expire_every_token(backend: &Backend) {
    use sqlx::Executor;
    match backend {
        Backend::Sqlite(dir) => {
            let url = format!("sqlite://{}", dir.join("read.db").display());
            let pool = sqlx::sqlite::SqlitePoolOptions::new().connect(&url).await.unwrap();
            pool.execute("update export_tokens set expires_at = 0").await.unwrap();
            pool.close().await;
        }
        Backend::Postgres(url) => {
            let pool = sqlx::postgres::PgPoolOptions::new().connect(url).await.unwrap();
            pool.execute("update vigil_read.export_tokens set expires_at = 0")
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

#[tokio::test]
async fn a_person_exports_everything_in_json_csv_and_fhir_once_per_link_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    exports(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn a_person_exports_everything_in_json_csv_and_fhir_once_per_link_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    exports(Backend::Postgres(url)).await;
}
