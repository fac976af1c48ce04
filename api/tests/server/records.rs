//! Corrections and retractions of vitals and bloodwork through the server, on both backends:
//! a correction is what every read returns afterwards (the list, the one-vital filter, the
//! dashboard's latest reading and panel, the marker series), counted in `corrections`; a
//! retraction takes the record out of every list; a retracted record cannot be corrected;
//! someone else's record is `NOT_FOUND`.

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::register;

const CORRECT_VITAL: &str =
    "mutation($id: String!, $v: String!, $u: String!) { correctHealthLog(id: $id, reason: \"scale was off\",
    input: {vital: \"body_weight\", value: $v, unit: $u, measuredAt: \"2026-03-02T08:00:00Z\"})
    { healthLog { value: components { value unit canonicalValue canonicalUnit } corrections } position } }";
const RETRACT_VITAL: &str =
    "mutation($id: String!) { retractHealthLog(id: $id, reason: \"not mine\") { healthLog { retracted } } }";
const CORRECT_PANEL: &str = "mutation($id: String!) { correctBloodwork(id: $id, drawnAt: \"2026-03-05T07:30:00Z\", labName: \"City Lab\", reason: \"misread\",
    results: [{loinc: \"2986-8\", name: \"Testosterone\", value: \"612\", unit: \"ng/dL\"}])
    { panel { results { marker value flag } corrections } } }";
const RETRACT_PANEL: &str =
    "mutation($id: String!) { retractBloodwork(id: $id, reason: \"wrong person\") { panel { retracted } } }";

/// What the read side says about the person's weight: the filtered list, and the dashboard's
/// latest body weight.
async fn weights(client: &Client) -> (Value, Value) {
    let data = client
        .ok(
            "{ healthLogs(vital: \"body_weight\", first: 10) { edges { node { id corrections components { value unit } } } }
               dashboard { latestVitals { id vital components { value } } } }",
            json!({}),
        )
        .await;
    let latest = data["dashboard"]["latestVitals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vital"] == "body_weight")
        .cloned()
        .unwrap_or(Value::Null);
    (data["healthLogs"]["edges"].clone(), latest)
}

async fn vitals(server: &Server) {
    let (client, _, _) = register(server, "vitals@example.org").await;
    let recorded = client
        .ok(
            "mutation { recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\", measuredAt: \"2026-03-02T08:00:00Z\"}) { healthLog { id } } }",
            json!({}),
        )
        .await;
    let id = recorded["recordHealthLog"]["healthLog"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (list, latest) = weights(&client).await;
    assert_eq!(list[0]["node"]["components"][0]["value"], "87.3");
    assert_eq!(latest["components"][0]["value"], "87.3");

    // Corrected in pounds: kept as entered, converted for comparison, and read back so.
    let corrected = client
        .ok(CORRECT_VITAL, json!({ "id": id, "v": "190", "u": "lb" }))
        .await;
    let log = &corrected["correctHealthLog"]["healthLog"];
    assert_eq!(log["corrections"], 1, "{corrected}");
    assert_eq!(
        (&log["value"][0]["value"], &log["value"][0]["unit"]),
        (&json!("190"), &json!("lb"))
    );
    assert_eq!(log["value"][0]["canonicalUnit"], "kg");
    assert!(
        log["value"][0]["canonicalValue"].as_str().unwrap().starts_with("86.18"),
        "{corrected}"
    );
    let (list, latest) = weights(&client).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "a correction is no second reading: {list}"
    );
    assert_eq!(
        (
            &list[0]["node"]["corrections"],
            &list[0]["node"]["components"][0]["value"]
        ),
        (&json!(1), &json!("190"))
    );
    assert_eq!(
        (&latest["id"], &latest["components"][0]["value"]),
        (&json!(id), &json!("190"))
    );

    // Not someone else's to change.
    let (other, _, _) = register(server, "stranger@example.org").await;
    let theirs = json!({ "id": id, "v": "60", "u": "kg" });
    assert_eq!(other.code(CORRECT_VITAL, theirs).await, "NOT_FOUND");
    assert_eq!(other.code(RETRACT_VITAL, json!({ "id": id })).await, "NOT_FOUND");

    // Retracted: gone from the list and the dashboard, and final.
    let retracted = client.ok(RETRACT_VITAL, json!({ "id": id })).await;
    assert_eq!(retracted["retractHealthLog"]["healthLog"]["retracted"], true);
    let (list, latest) = weights(&client).await;
    assert_eq!((list, latest), (json!([]), Value::Null));
    let again = json!({ "id": id, "v": "87.0", "u": "kg" });
    assert_eq!(client.code(CORRECT_VITAL, again).await, "CONFLICT");
    assert_eq!(client.code(RETRACT_VITAL, json!({ "id": id })).await, "CONFLICT");
}

async fn series(client: &Client, marker: &str) -> Value {
    let data = client
        .ok(
            "query($m: String!) { markerSeries(marker: $m) { panelId value unit flag } }",
            json!({ "m": marker }),
        )
        .await;
    data["markerSeries"].clone()
}

async fn bloodwork(server: &Server) {
    let (client, _, _) = register(server, "panels@example.org").await;
    let recorded = client
        .ok(
            "mutation { recordBloodwork(drawnAt: \"2026-03-05T07:30:00Z\", labName: \"City Lab\", results: [
                {loinc: \"2986-8\", name: \"Testosterone\", value: \"1247\", unit: \"ng/dL\"},
                {loinc: \"4544-3\", name: \"Hematocrit\", value: \"51.2\", unit: \"%\"}]) { panel { id } } }",
            json!({}),
        )
        .await;
    let id = recorded["recordBloodwork"]["panel"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        series(&client, "total_testosterone").await,
        json!([{ "panelId": id, "value": "1247", "unit": "ng/dL", "flag": "H" }])
    );
    assert_eq!(series(&client, "hematocrit").await.as_array().unwrap().len(), 1);

    // The correction replaces the results: one testosterone point at the new value, and the
    // hematocrit the lab never measured is no longer in its series.
    let corrected = client.ok(CORRECT_PANEL, json!({ "id": id })).await;
    let panel = &corrected["correctBloodwork"]["panel"];
    assert_eq!(panel["corrections"], 1);
    assert_eq!(
        panel["results"],
        json!([{ "marker": "total_testosterone", "value": "612", "flag": "N" }])
    );
    assert_eq!(
        series(&client, "total_testosterone").await,
        json!([{ "panelId": id, "value": "612", "unit": "ng/dL", "flag": "N" }])
    );
    assert_eq!(series(&client, "hematocrit").await, json!([]));
    let read = client
        .ok(
            "{ bloodwork(first: 5) { edges { node { id corrections results { value } } } } dashboard { latestPanel { id results { value } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        read["bloodwork"]["edges"],
        json!([{ "node": { "id": id, "corrections": 1, "results": [{ "value": "612" }] } }])
    );
    assert_eq!(read["dashboard"]["latestPanel"]["results"], json!([{ "value": "612" }]));

    let (other, _, _) = register(server, "curious@example.org").await;
    assert_eq!(other.code(CORRECT_PANEL, json!({ "id": id })).await, "NOT_FOUND");

    // Retracted: no panel, no series, no latest panel; and final.
    let retracted = client.ok(RETRACT_PANEL, json!({ "id": id })).await;
    assert_eq!(retracted["retractBloodwork"]["panel"]["retracted"], true);
    assert_eq!(series(&client, "total_testosterone").await, json!([]));
    let read = client
        .ok(
            "{ bloodwork(first: 5) { edges { node { id } } } dashboard { latestPanel { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        read,
        json!({ "bloodwork": { "edges": [] }, "dashboard": { "latestPanel": null } })
    );
    assert_eq!(client.code(CORRECT_PANEL, json!({ "id": id })).await, "CONFLICT");
    assert_eq!(client.code(RETRACT_PANEL, json!({ "id": id })).await, "CONFLICT");
}

async fn corrections_and_retractions(backend: Backend) {
    let server = Server::start(&backend);
    vitals(&server).await;
    bloodwork(&server).await;
    server.stop();
}

#[tokio::test]
async fn vitals_and_panels_are_corrected_and_retracted_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    corrections_and_retractions(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn vitals_and_panels_are_corrected_and_retracted_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    corrections_and_retractions(Backend::Postgres(url)).await;
}
