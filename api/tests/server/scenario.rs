//! The README's GraphQL tour as a test, on both backends: register → login → protocol →
//! doses → vitals → bloodwork → dashboard → amend → inForceAt → refresh rotation and reuse
//! → logout; another person cannot read any of it; a restart plus a rebuild gives identical
//! read models; and the server's logs never contain what was sent.

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, cli, leak, sqlite_dir};
use crate::ws::Subscription;

const EMAIL: &str = "Tour.Person@Example.org";
const PASSWORD: &str = "violet-lantern-orbit-42";

const AUTH: &str = "accessToken refreshToken me { id handle role }";

/// Registers, then signs in (registration answers no tokens: it must not tell a taken email).
async fn register(client: &mut Client, email: &str) -> Value {
    let data = client
        .ok(
            "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accepted } }",
            json!({ "e": email, "p": PASSWORD }),
        )
        .await;
    assert_eq!(data["register"]["accepted"], true);
    let data = client
        .ok(
            &format!("mutation($e: String!, $p: String!) {{ login(email: $e, password: $p) {{ {AUTH} }} }}"),
            json!({ "e": email, "p": PASSWORD }),
        )
        .await;
    client.token = Some(data["login"]["accessToken"].as_str().unwrap().to_owned());
    data["login"].clone()
}

const READ_MODELS: &str = "{ me { handle role settings { labUnits } }
  protocols(first: 10) { edges { node { id name currentVersion versions { version effectiveFrom items { compound amount unit schedule } } } } }
  doses(first: 10) { edges { node { id outcome amount unit takenAt } } }
  healthLogs(first: 10) { edges { node { id vital components { value unit canonicalValue } } } }
  bloodwork(first: 10) { edges { node { id results { marker value siValue siUnit flag } } } }
  markerSeries(marker: \"total_testosterone\") { value siValue flag } }";

async fn tour(backend: Backend) {
    let server = Server::start(&backend);
    let mut client = Client::new(&server);

    let registered = register(&mut client, EMAIL).await;
    assert_eq!(registered["me"]["role"], "user");
    let handle = registered["me"]["handle"].as_str().unwrap().to_owned();

    // Same email in another case: answered as accepted (never "taken"), and nothing changes:
    // the other password does not sign in. Wrong password and unknown email: same answer.
    let dup = client
        .ok(
            "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accepted } }",
            json!({ "e": EMAIL.to_uppercase(), "p": "another-passphrase-77" }),
        )
        .await;
    assert_eq!(dup["register"]["accepted"], true);
    let other = client
        .code(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            json!({ "e": EMAIL, "p": "another-passphrase-77" }),
        )
        .await;
    assert_eq!(other, "UNAUTHENTICATED");
    // The owner learns of the attempt in their access log.
    let mut told = false;
    for _ in 0..100 {
        let log = client
            .ok("{ accessLog(first: 20) { edges { node { kind } } } }", json!({}))
            .await;
        if log.to_string().contains("registration_attempted") {
            told = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(told, "the owner's access log shows the registration attempt");
    let login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }";
    let wrong = client
        .raw(login, json!({ "e": EMAIL, "p": "not-the-password-1" }))
        .await;
    let unknown = client
        .raw(login, json!({ "e": "nobody@example.org", "p": PASSWORD }))
        .await;
    assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"]);
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let tokens = client.ok(login, json!({ "e": EMAIL, "p": PASSWORD })).await;
    client.token = Some(tokens["login"]["accessToken"].as_str().unwrap().to_owned());
    let refresh = tokens["login"]["refreshToken"].as_str().unwrap().to_owned();

    let started = client
        .ok(
            "mutation { startProtocol(name: \"TRT\", effectiveFrom: \"2026-01-01\", items: [
                {compound: \"testosterone_enanthate\", amount: \"125\", unit: \"mg\", route: \"im\", schedule: \"E3.5D\", start: \"2026-01-01\"},
                {compound: \"anastrozole\", amount: \"0.5\", unit: \"mg\", route: \"oral\", schedule: \"E3D\", start: \"2026-01-01\"}])
              { protocol { id items: versions { items { id compound } } } position } }",
            json!({}),
        )
        .await;
    let protocol = started["startProtocol"]["protocol"]["id"].as_str().unwrap().to_owned();
    let item = started["startProtocol"]["protocol"]["items"][0]["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut dose_id = String::new();
    for taken in ["2026-03-01T09:00:00Z", "2026-03-04T21:00:00Z"] {
        let d = client
            .ok(
                "mutation($p: String!, $i: String!, $t: String!) { logDose(protocolId: $p, itemId: $i, takenAt: $t) { dose { id amount unit route } position } }",
                json!({ "p": protocol, "i": item, "t": taken }),
            )
            .await;
        assert_eq!(d["logDose"]["dose"]["amount"], "125");
        dose_id = d["logDose"]["dose"]["id"].as_str().unwrap().to_owned();
    }
    // The dashboard before any reading or panel; read again below after both were recorded,
    // it must not be served from a stale cache.
    let early = client
        .ok(
            "{ dashboard { latestVitals { vital } latestPanel { id } nextDue { compound } } }",
            json!({}),
        )
        .await;
    assert_eq!(early["dashboard"]["latestVitals"], json!([]));
    assert_eq!(early["dashboard"]["latestPanel"], Value::Null);

    // Without a token the subscription socket is refused; with one, the caller's own changes
    // arrive once the read models have them.
    let refused = Subscription::my_events(&server.url, None)
        .await
        .err()
        .expect("refused without a token");
    assert_ne!(refused["type"], "connection_ack");
    let mut events = Subscription::my_events(&server.url, client.token.as_deref())
        .await
        .expect("subscribed");
    // Give the server a moment to register the subscription before writing.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let bp = client
        .ok(
            "mutation { recordHealthLog(input: {vital: \"blood_pressure\", systolic: \"128\", diastolic: \"82\", measuredAt: \"2026-03-02T08:00:00Z\"}) { healthLog { id components { value } } } }",
            json!({}),
        )
        .await;
    let bp_id = bp["recordHealthLog"]["healthLog"]["id"].as_str().unwrap().to_owned();
    let event = events.next().await;
    assert_eq!(event["kind"], "health", "{event}");
    assert_eq!(event["eventType"], "VitalRecorded");
    client
        .ok(
            "mutation { recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\", measuredAt: \"2026-03-02T08:05:00Z\"}) { healthLog { id } } }",
            json!({}),
        )
        .await;
    let panel = client
        .ok(
            "mutation { recordBloodwork(drawnAt: \"2026-03-05T07:30:00Z\", labName: \"City Lab\", results: [
                {loinc: \"2986-8\", name: \"Testosterone\", value: \"1247\", unit: \"ng/dL\"},
                {loinc: \"4544-3\", name: \"Hematocrit\", value: \"51.2\", unit: \"%\"}]) { panel { id } } }",
            json!({}),
        )
        .await;
    let panel_id = panel["recordBloodwork"]["panel"]["id"].as_str().unwrap().to_owned();

    let dash = client
        .ok(
            "{ dashboard { activeProtocols { name } latestVitals { vital } latestPanel { results { marker value unit siValue siUnit flag } } nextDue { compound dueAt } } }",
            json!({}),
        )
        .await;
    let results = &dash["dashboard"]["latestPanel"]["results"];
    assert_eq!(results[0]["marker"], "total_testosterone");
    assert_eq!(results[0]["siUnit"], "nmol/L");
    assert!(
        results[0]["siValue"].as_str().unwrap().starts_with("43.27"),
        "{results}"
    );
    assert_eq!(results[0]["flag"], "H");
    assert_eq!(dash["dashboard"]["latestVitals"].as_array().unwrap().len(), 2);
    assert_eq!(dash["dashboard"]["activeProtocols"][0]["name"], "TRT");
    // A misspelt marker is an error, not an empty series.
    assert_eq!(
        client
            .code("{ markerSeries(marker: \"testosterone_totl\") { value } }", json!({}))
            .await,
        "BAD_USER_INPUT"
    );

    // Amend from April: a March date still answers version 1.
    client
        .ok(
            "mutation($id: String!, $i: String!) { amendProtocol(id: $id, name: \"TRT\", effectiveFrom: \"2026-04-01\", reason: \"lower dose\", items: [
                {id: $i, compound: \"testosterone_enanthate\", amount: \"100\", unit: \"mg\", route: \"im\", schedule: \"E3.5D\", start: \"2026-01-01\"}]) { protocol { currentVersion } } }",
            json!({ "id": protocol, "i": item }),
        )
        .await;
    let history = client
        .ok(
            "query($id: String!) { protocol(id: $id) { currentVersion march: inForceAt(date: \"2026-03-15\") { version items { amount } } may: inForceAt(date: \"2026-05-01\") { version items { amount } } } }",
            json!({ "id": protocol }),
        )
        .await;
    assert_eq!(history["protocol"]["currentVersion"], 2);
    assert_eq!(history["protocol"]["march"]["version"], 1);
    assert_eq!(history["protocol"]["march"]["items"][0]["amount"], "125");
    assert_eq!(history["protocol"]["may"]["items"][0]["amount"], "100");

    // Another person sees none of it, even by id.
    let mut other = Client::new(&server);
    register(&mut other, "someone.else@example.org").await;
    for (q, id) in [
        ("query($id: String!) { protocol(id: $id) { name } }", &protocol),
        (
            "mutation($id: String!) { retractHealthLog(id: $id) { position } }",
            &bp_id,
        ),
        (
            "mutation($id: String!) { retractBloodwork(id: $id) { position } }",
            &panel_id,
        ),
        ("mutation($id: String!) { retractDose(id: $id) { position } }", &dose_id),
    ] {
        assert_eq!(other.code(q, json!({ "id": id })).await, "NOT_FOUND", "{q}");
    }
    let theirs = other
        .ok("{ bloodwork(first: 5) { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(theirs["bloodwork"]["edges"].as_array().unwrap().len(), 0);

    // Refresh rotates; the old token then revokes the family.
    let refresh_op = "mutation($r: String!) { refresh(refreshToken: $r) { accessToken refreshToken } }";
    let rotated = client.ok(refresh_op, json!({ "r": refresh })).await;
    let next = rotated["refresh"]["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(next, refresh);
    assert_eq!(
        client.code(refresh_op, json!({ "r": refresh })).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        client.code(refresh_op, json!({ "r": next })).await,
        "UNAUTHENTICATED",
        "family revoked"
    );

    // A fresh login, then logout ends that session's access token at once.
    let tokens = client.ok(login, json!({ "e": EMAIL, "p": PASSWORD })).await;
    client.token = Some(tokens["login"]["accessToken"].as_str().unwrap().to_owned());
    let before = client.ok(READ_MODELS, json!({})).await;
    assert_eq!(before["me"]["handle"], handle.as_str());
    client.ok("mutation { logout }", json!({})).await;
    assert_eq!(client.code("{ me { handle } }", json!({})).await, "UNAUTHENTICATED");

    // The person's access log holds the sign-ins, the refresh token's reuse and the sign-out.
    let tokens = client.ok(login, json!({ "e": EMAIL, "p": PASSWORD })).await;
    client.token = Some(tokens["login"]["accessToken"].as_str().unwrap().to_owned());
    let mut kinds = String::new();
    for _ in 0..100 {
        kinds = client
            .ok("{ accessLog(first: 50) { edges { node { kind } } } }", json!({}))
            .await
            .to_string();
        if kinds.contains("signed_out") && kinds.contains("refresh_token_reuse_detected") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for kind in [
        "signed_in",
        "signed_out",
        "refresh_token_reuse_detected",
        "registration_attempted",
    ] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds}");
    }

    let logs = server.stop();
    for secret in [
        EMAIL,
        &EMAIL.to_lowercase(),
        PASSWORD,
        "1247",
        "51.2",
        "87.3",
        &refresh,
        &next,
    ] {
        if let Some(line) = leak(&logs, secret) {
            panic!("the server log contains {secret:?}: {line}");
        }
    }
    assert!(
        !logs.contains(client.token.as_deref().unwrap()),
        "the server log contains an access token"
    );

    // Rebuild every projection offline, restart: the read models are identical.
    let rebuilt = cli(&backend, &["projections", "rebuild"]);
    assert!(rebuilt.contains("events/s"), "{rebuilt}");
    let status = cli(&backend, &["projections", "status"]);
    assert!(status.contains("bloodwork"), "{status}");
    let server = Server::start(&backend);
    let mut client = Client::new(&server);
    let tokens = client.ok(login, json!({ "e": EMAIL, "p": PASSWORD })).await;
    client.token = Some(tokens["login"]["accessToken"].as_str().unwrap().to_owned());
    let after = client.ok(READ_MODELS, json!({})).await;
    assert_eq!(before, after);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_tour_works_end_to_end_on_sqlite() {
    let (_guard, dir) = sqlite_dir();
    tour(Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_tour_works_end_to_end_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    tour(Backend::Postgres(url)).await;
}
