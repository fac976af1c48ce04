//! A protocol's life through the server, on both backends: paused, resumed and ended on dated
//! days, each change visible in `status`, `inForceAt` and the dashboard; what the rules refuse
//! (a second pause, a resume while active, a date before the last change, anything after the
//! end) is `CONFLICT` and changes nothing; someone else's protocol is `NOT_FOUND`.

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::register;

/// Starts a protocol from 2026-01-01: testosterone enanthate E3.5D and anastrozole daily at
/// 08:00. Returns its id and the two items' ids.
pub async fn start_protocol(client: &Client, name: &str) -> (String, String, String) {
    let data = client
        .ok(
            "mutation($n: String!) { startProtocol(name: $n, effectiveFrom: \"2026-01-01\", items: [
                {compound: \"testosterone_enanthate\", amount: \"125\", unit: \"mg\", route: \"im\", schedule: \"E3.5D\", start: \"2026-01-01\"},
                {compound: \"anastrozole\", amount: \"0.5\", unit: \"mg\", route: \"oral\", schedule: \"ED\", timeOfDay: \"08:00\", start: \"2026-01-01\"}])
              { protocol { id status versions { items { id compound } } } position } }",
            json!({ "n": name }),
        )
        .await;
    let protocol = &data["startProtocol"]["protocol"];
    assert_eq!(protocol["status"], "active", "{data}");
    let items = &protocol["versions"][0]["items"];
    assert_eq!(items[0]["compound"], "testosterone_enanthate");
    assert_eq!(items[1]["compound"], "anastrozole");
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    (text(&protocol["id"]), text(&items[0]["id"]), text(&items[1]["id"]))
}

const PAUSE: &str = "mutation($id: String!, $on: String) { pauseProtocol(id: $id, on: $on, reason: \"travelling\") { protocol { status } position } }";
const RESUME: &str =
    "mutation($id: String!, $on: String) { resumeProtocol(id: $id, on: $on) { protocol { status } position } }";
const END: &str =
    "mutation($id: String!, $on: String) { endProtocol(id: $id, on: $on) { protocol { status } position } }";
const AMEND: &str = "mutation($id: String!) { amendProtocol(id: $id, name: \"Cycle\", effectiveFrom: \"2026-11-01\", items: [
    {compound: \"testosterone_enanthate\", amount: \"100\", unit: \"mg\", route: \"im\", schedule: \"E3.5D\", start: \"2026-01-01\"}]) { position } }";

/// The protocol as the read side has it: status today, what is in force on three days, and
/// whether the dashboard lists it as active.
async fn read_back(client: &Client, id: &str) -> Value {
    let data = client
        .ok(
            "query($id: String!) {
               protocol(id: $id) { status
                 jan: inForceAt(date: \"2026-01-15\") { version }
                 feb: inForceAt(date: \"2026-02-15\") { version }
                 apr: inForceAt(date: \"2026-04-15\") { version } }
               dashboard { activeProtocols { id } nextDue { protocolId } } }",
            json!({ "id": id }),
        )
        .await;
    let listed = |list: &Value, key: &str| list.as_array().unwrap().iter().any(|p| p[key] == id);
    json!({
        "status": data["protocol"]["status"],
        "jan": data["protocol"]["jan"]["version"],
        "feb": data["protocol"]["feb"]["version"],
        "apr": data["protocol"]["apr"]["version"],
        "active": listed(&data["dashboard"]["activeProtocols"], "id"),
        "due": listed(&data["dashboard"]["nextDue"], "protocolId"),
    })
}

async fn lifecycle(backend: Backend) {
    let server = Server::start(&backend);
    let (client, _, _) = register(&server, "cycle@example.org").await;
    let (id, _, _) = start_protocol(&client, "Cycle").await;
    let vars = |on: &str| json!({ "id": id, "on": on });
    assert_eq!(
        read_back(&client, &id).await,
        json!({ "status": "active", "jan": 1, "feb": 1, "apr": 1, "active": true, "due": true })
    );

    // Paused from February: nothing is in force from then on, and nothing is due.
    let paused = client.ok(PAUSE, vars("2026-02-01")).await;
    assert_eq!(paused["pauseProtocol"]["protocol"]["status"], "paused");
    assert_eq!(
        read_back(&client, &id).await,
        json!({ "status": "paused", "jan": 1, "feb": null, "apr": null, "active": false, "due": false })
    );
    // A second pause, a resume dated before the pause: refused, nothing recorded.
    assert_eq!(client.code(PAUSE, vars("2026-02-10")).await, "CONFLICT");
    assert_eq!(client.code(RESUME, vars("2026-01-20")).await, "CONFLICT");

    // Resumed in March: February stays a gap, April is in force again.
    let resumed = client.ok(RESUME, vars("2026-03-01")).await;
    assert_eq!(resumed["resumeProtocol"]["protocol"]["status"], "active");
    assert!(
        resumed["resumeProtocol"]["position"].as_u64().unwrap() > paused["pauseProtocol"]["position"].as_u64().unwrap()
    );
    assert_eq!(
        read_back(&client, &id).await,
        json!({ "status": "active", "jan": 1, "feb": null, "apr": 1, "active": true, "due": true })
    );
    assert_eq!(client.code(RESUME, vars("2026-03-05")).await, "CONFLICT", "not paused");

    // Someone else can neither pause, resume nor end it; a malformed date names `on`.
    let (other, _, _) = register(&server, "someone.else@example.org").await;
    for op in [PAUSE, RESUME, END] {
        assert_eq!(other.code(op, vars("2026-06-01")).await, "NOT_FOUND", "{op}");
    }
    let bad = client.raw(END, vars("June")).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "on", "{bad}");

    // Ended in May (before today): ended, off the dashboard, and final.
    let ended = client.ok(END, vars("2026-05-01")).await;
    assert_eq!(ended["endProtocol"]["protocol"]["status"], "ended");
    assert_eq!(
        read_back(&client, &id).await,
        json!({ "status": "ended", "jan": 1, "feb": null, "apr": 1, "active": false, "due": false })
    );
    for op in [PAUSE, RESUME, END] {
        assert_eq!(
            client.code(op, vars("2026-06-01")).await,
            "CONFLICT",
            "{op} after the end"
        );
    }
    assert_eq!(client.code(AMEND, json!({ "id": id })).await, "CONFLICT");
    let listed = client
        .ok(
            "{ protocols(first: 5) { edges { node { id status currentVersion } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["protocols"]["edges"],
        json!([{ "node": { "id": id, "status": "ended", "currentVersion": 1 } }])
    );
    server.stop();
}

#[tokio::test]
async fn a_protocol_is_paused_resumed_and_ended_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    lifecycle(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn a_protocol_is_paused_resumed_and_ended_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    lifecycle(Backend::Postgres(url)).await;
}
