//! Export through a real server, on both backends: one of everything written (a protocol with
//! two versions, doses with a skip, blood pressure and weight, a panel with a flagged value),
//! then `exportMyData` in JSON, CSV and FHIR. Each link downloads once and needs no bearer, a
//! second use, an expired link and another person's session are refused, the access log shows
//! every export, the raw events carry the positions and hashes the store has, and the
//! documents pass outside validators (the committed JSON Schema, FHIR R4 models, Python's zip
//! and CSV readers) besides the checks here. The token never reaches the server log.

pub mod contents;
pub mod formats;

use serde_json::{Value, json};

use contents::{check_csv, check_fhir, check_json};

use crate::harness::{Backend, Client, Server, leak, sqlite_dir};
use crate::protocols::start_protocol;
use crate::signin::register;

const EXPORT: &str = "mutation($f: ExportFormat!) { exportMyData(format: $f) { url expiresAt format position } }";

/// Writes one of everything: a protocol amended once, two doses and a skip, a blood pressure
/// and a weight, a panel whose testosterone is high.
pub async fn write_history(client: &Client) {
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
pub async fn ask(client: &Client, server: &Server, format: &str) -> (String, String) {
    let data = client.ok(EXPORT, json!({ "f": format })).await;
    let offer = &data["exportMyData"];
    assert_eq!(offer["format"], format);
    let path = offer["url"].as_str().unwrap();
    let token = path.strip_prefix("/export/").expect("a path under /export/").to_owned();
    assert!(token.starts_with("vgx_") && token.len() == 47, "{path}");
    (format!("{}{path}", server.url), token)
}

/// GETs a link, with a bearer or none: the status, the headers and the body.
pub async fn get(url: &str, bearer: Option<&str>) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
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
pub async fn download(url: &str, content_type: &str) -> Vec<u8> {
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
