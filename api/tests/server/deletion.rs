//! A person erases themselves through the app (`deleteMyAccount`), on two servers sharing one
//! store: a wrong password erases nothing; afterwards their token is refused on both servers,
//! sign-in answers exactly as for an address nobody registered, the chain still verifies, their
//! note is gone from the read database, and the address can register again. An erasure
//! interrupted by a crash (the process aborted right after the request was recorded, or right
//! after the key was shredded) finishes when a server starts again, and the person never
//! signs in meanwhile.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, cli, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, register};

const NOTE: &str = "mutation($n: String!) { recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\", note: $n}) { position } }";
const DELETE: &str =
    "mutation($p: String!) { deleteMyAccount(password: $p) { subject ledgerPosition erasedAt readModelsPurged } }";
const ME: &str = "{ me { id } }";

fn on(server: &Server, token: &str) -> Client {
    let mut client = Client::new(server);
    client.token = Some(token.to_owned());
    client
}

/// What signing in with `email` answers (the error, or the status).
pub async fn sign_in_answer(server: &Server, email: &str) -> Value {
    let body = Client::new(server)
        .raw(LOGIN, json!({ "e": email, "p": PASSWORD }))
        .await;
    match body.get("errors") {
        Some(errors) => json!({ "code": errors[0]["extensions"]["code"], "message": errors[0]["message"] }),
        None => body["data"]["login"]["status"].clone(),
    }
}

/// Whether `email` can register and sign in again: its old claim is gone.
pub async fn registers_again(server: &Server, email: &str) -> bool {
    let client = Client::new(server);
    client
        .ok(
            "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accepted } }",
            json!({ "e": email, "p": PASSWORD }),
        )
        .await;
    sign_in_answer(server, email).await == json!("SIGNED_IN")
}

fn note_in_read_db(backend: &Backend, note: &str) -> Option<bool> {
    match backend {
        Backend::Sqlite(dir) => Some(vigil_tests::in_sqlite_files(dir, "read.db", note.as_bytes())),
        Backend::Postgres(_) => None,
    }
}

async fn erases_themselves(backend: &Backend) {
    let a = Server::start(backend);
    let b = Server::start(backend);
    let email = "leaving@example.org";
    let (client, id, _) = register(&a, email).await;
    let token = client.token.clone().expect("token");
    let note = format!("note-{}", uuid::Uuid::new_v4().simple());
    client.ok(NOTE, json!({ "n": note })).await;
    on(&b, &token).ok(ME, json!({})).await;

    let wrong = client.raw(DELETE, json!({ "p": "not-the-password" })).await;
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{wrong}");
    client.ok(ME, json!({})).await;

    let receipt = client.ok(DELETE, json!({ "p": PASSWORD })).await["deleteMyAccount"].clone();
    assert_eq!(receipt["subject"], id.as_str());
    assert!(receipt["ledgerPosition"].as_u64().is_some_and(|p| p > 0), "{receipt}");
    assert_eq!(receipt["readModelsPurged"], true, "{receipt}");

    for server in [&a, &b] {
        let body = on(server, &token).raw(ME, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    }
    assert_eq!(
        sign_in_answer(&b, email).await,
        sign_in_answer(&b, "nobody-ever@example.org").await,
        "an erased account answers as an unknown one"
    );
    if let Some(found) = note_in_read_db(backend, &note) {
        assert!(!found, "the erased person's note is still in read.db");
    }
    let verified = cli(backend, &["verify"]);
    assert!(verified.contains("chain intact"), "{verified}");
    assert!(registers_again(&b, email).await, "the address cannot register again");
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_erases_themselves_and_both_servers_forget_them_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    erases_themselves(&Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_erases_themselves_and_both_servers_forget_them_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    erases_themselves(&Backend::Postgres(url)).await;
}

/// The server aborts at `failpoint` during `deleteMyAccount`; a server started afterwards
/// finishes the erasure.
async fn crash_then_finish(backend: &Backend, failpoint: &str) {
    let crashing = Server::start_with(backend, &[], &[("VIGIL_FAILPOINT", failpoint)]);
    let email = format!("crash-{failpoint}@example.org");
    let (client, _, _) = register(&crashing, &email).await;
    let note = format!("note-{}", uuid::Uuid::new_v4().simple());
    client.ok(NOTE, json!({ "n": note })).await;
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        reqwest::Client::new()
            .post(&client.url)
            .bearer_auth(client.token.as_deref().expect("token"))
            .json(&json!({ "query": DELETE, "variables": { "p": PASSWORD } }))
            .send()
            .await
    })
    .await
    .expect("the request ends");
    assert!(
        answer.is_err(),
        "{failpoint}: the server answered instead of crashing: {answer:?}"
    );
    drop(crashing);

    let server = Server::start(backend);
    assert_ne!(
        sign_in_answer(&server, &email).await,
        json!("SIGNED_IN"),
        "{failpoint}: the half-erased person signed in"
    );
    let started = Instant::now();
    while !registers_again(&server, &email).await {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{failpoint}: the erasure did not finish after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if let Some(found) = note_in_read_db(backend, &note) {
        assert!(!found, "{failpoint}: the note is still in read.db");
    }
    println!(
        "{failpoint}: erasure finished {:?} after the restart",
        started.elapsed()
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_interrupted_by_a_crash_finishes_at_the_next_start_on_sqlite() {
    for failpoint in ["erasure-after-request", "erasure-after-shred"] {
        let (_tmp, dir) = sqlite_dir();
        crash_then_finish(&Backend::Sqlite(dir), failpoint).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_interrupted_by_a_crash_finishes_at_the_next_start_on_postgres() {
    for failpoint in ["erasure-after-request", "erasure-after-shred"] {
        let Some(url) = vigil_tests::fresh_pg_database().await else {
            return;
        };
        crash_then_finish(&Backend::Postgres(url), failpoint).await;
    }
}
