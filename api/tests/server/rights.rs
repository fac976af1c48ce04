//! Every right of a person, in one life, through two `vigil serve` processes on one store (one
//! Postgres; one SQLite data directory), on both backends: register, write one of everything,
//! consent to AI processing, export in JSON, CSV and FHIR (each validated by outside tools),
//! change the email and the handle, then delete the account. Afterwards: signing in answers as
//! for an unknown address, every token the person held is refused on both servers, their events
//! read as erased, `vigil verify` passes, the plaintext sweep finds none of what the erasure
//! guarantees to remove (ADR 0008), and the same address registers again.

use serde_json::{Value, json};

use crate::deletion::{registers_again, sign_in_answer};
use crate::export::contents::{check_csv, check_fhir, check_json};
use crate::export::{ask, download, formats, get, write_history};
use crate::harness::{Backend, Client, Server, cli, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, register};

const FIRST: &str = "rights-first@example.org";
const SECOND: &str = "rights-second@example.org";
const NOTE: &str = "mutation($n: String!) { recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\", note: $n}) { position } }";
const CONSENT: &str =
    "mutation { setAiProcessingConsent(consent: true) { consent { given history { given } } changed } }";
const CHANGE_EMAIL: &str =
    "mutation($e: String!, $p: String!) { changeEmail(newEmail: $e, password: $p) { me { id } position } }";
const CHANGE_HANDLE: &str = "mutation($h: String!) { changeHandle(handle: $h) { me { handle } } }";
const DELETE: &str =
    "mutation($p: String!) { deleteMyAccount(password: $p) { subject ledgerPosition readModelsPurged } }";
const ME: &str = "{ me { id handle aiConsent } }";

fn bearing(server: &Server, token: &str) -> Client {
    let mut client = Client::new(server);
    client.token = Some(token.to_owned());
    client
}

/// Signs in on `server`: a client holding the new access token.
async fn signed_in(server: &Server, email: &str) -> Client {
    let mut client = Client::new(server);
    let data = client.ok(LOGIN, json!({ "e": email, "p": PASSWORD })).await;
    client.token = Some(data["login"]["accessToken"].as_str().unwrap().to_owned());
    client
}

/// The three exports, each downloaded once and checked here and by the outside validators.
async fn exports_everything(client: &Client, server: &Server, user: &str, backend: &Backend) {
    let python = formats::validators();
    let (url, _) = ask(client, server, "JSON").await;
    let body = download(&url, "application/json").await;
    let doc: Value = serde_json::from_slice(&body).unwrap();
    check_json(&doc, user, backend);
    assert_eq!(doc["profile"]["aiConsent"], true, "the consent is in the profile");
    let (url, _) = ask(client, server, "CSV").await;
    let zip = download(&url, "application/zip").await;
    check_csv(&zip);
    let (url, _) = ask(client, server, "FHIR").await;
    let (status, _, fhir) = get(&url, None).await;
    assert_eq!(status, 200);
    check_fhir(&serde_json::from_slice(&fhir).unwrap(), user);
    if let Some(python) = &python {
        formats::validate(python, "json", &body);
        formats::validate(python, "zip", &zip);
        formats::validate(python, "fhir", &fhir);
    }
}

/// Every event of `subject` in `vigil events`: `(count, erased count)`.
fn events_of(backend: &Backend, subject: &str) -> (usize, usize) {
    let out = cli(backend, &["events"]);
    let mine: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["subject"] == subject)
        .collect();
    let erased = mine.iter().filter(|e| e["erased"] == true).count();
    (mine.len(), erased)
}

async fn a_whole_life(backend: Backend) {
    let a = Server::start(&backend);
    let b = Server::start(&backend);
    let (client, user, first_handle) = register(&a, FIRST).await;
    let note = format!("rights-note-{}", uuid::Uuid::new_v4().simple());
    write_history(&client).await;
    client.ok(NOTE, json!({ "n": note })).await;
    let consent = client.ok(CONSENT, json!({})).await;
    assert_eq!(consent["setAiProcessingConsent"]["changed"], true, "{consent}");
    exports_everything(&client, &a, &user, &backend).await;

    client.ok(CHANGE_EMAIL, json!({ "e": SECOND, "p": PASSWORD })).await;
    assert_eq!(
        sign_in_answer(&b, FIRST).await,
        sign_in_answer(&b, "rights-nobody@example.org").await,
        "the old address answers as an unknown one on the other server"
    );
    let on_b = signed_in(&b, SECOND).await;
    let handle = format!("r{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let changed = on_b.ok(CHANGE_HANDLE, json!({ "h": handle })).await;
    assert_eq!(changed["changeHandle"]["me"]["handle"], handle.as_str());
    let me = client.ok(ME, json!({})).await["me"].clone();
    assert_eq!(
        (&me["id"], &me["handle"], &me["aiConsent"]),
        (&json!(user), &json!(handle), &json!(true)),
        "{me}"
    );
    let (events_before, erased_before) = events_of(&backend, &user);
    assert!(
        events_before > 10 && erased_before == 0,
        "{events_before} {erased_before}"
    );

    let receipt = on_b.ok(DELETE, json!({ "p": PASSWORD })).await["deleteMyAccount"].clone();
    assert_eq!(
        (&receipt["subject"], &receipt["readModelsPurged"]),
        (&json!(user), &json!(true)),
        "{receipt}"
    );
    assert!(receipt["ledgerPosition"].as_u64().is_some_and(|p| p > 0), "{receipt}");

    let tokens = [client.token.clone().unwrap(), on_b.token.clone().unwrap()];
    for server in [&a, &b] {
        for token in &tokens {
            let body = bearing(server, token).raw(ME, json!({})).await;
            assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
        }
        assert_eq!(
            sign_in_answer(server, SECOND).await,
            sign_in_answer(server, "rights-nobody@example.org").await,
            "the erased account answers as an unknown one"
        );
    }
    let (events_after, erased_after) = events_of(&backend, &user);
    assert!(events_after >= events_before, "nothing left the log");
    assert_eq!(erased_after, events_after, "every event of theirs reads as erased");
    let verified = cli(&backend, &["verify"]);
    assert!(verified.contains("chain intact"), "{verified}");
    sweep(&backend, &[&note, &handle, &first_handle], &[FIRST, SECOND]).await;
    assert!(registers_again(&a, SECOND).await, "the last address registers again");
    assert!(registers_again(&b, FIRST).await, "the first address registers again");
    a.stop();
    b.stop();
}

/// The plaintext sweep of ADR 0008: on SQLite the read database (and its WAL) holds none of the
/// person's texts; on Postgres no table or index file does, and the addresses (only ever
/// stored encrypted or as a keyed hash) are nowhere in the cluster, WAL included.
async fn sweep(backend: &Backend, texts: &[&str], emails: &[&str]) {
    match backend {
        Backend::Sqlite(dir) => {
            for needle in texts.iter().chain(emails) {
                for file in ["read.db", "events.db", "keys.db"] {
                    assert!(
                        !vigil_tests::in_sqlite_files(dir, file, needle.as_bytes()),
                        "{needle} is still in {file}"
                    );
                }
            }
        }
        Backend::Postgres(_) => {
            let Some(data) = vigil_tests::pg_data_directory().await else {
                return;
            };
            for needle in texts {
                let found = vigil_tests::files_containing(&data.join("base"), needle.as_bytes());
                assert!(found.is_empty(), "{needle} is still in {found:?}");
            }
            for email in emails {
                let found = vigil_tests::files_containing(&data, email.as_bytes());
                assert!(found.is_empty(), "{email} is in {found:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_exercises_every_right_across_two_servers_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    a_whole_life(Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_exercises_every_right_across_two_servers_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    a_whole_life(Backend::Postgres(url)).await;
}
