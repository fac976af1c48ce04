//! A person's rights through the server, with two `vigil serve` processes on one store (one
//! Postgres; one SQLite data directory), on both backends:
//! - `changeEmail` moves the account: right after the answer, on the *other* server, the old
//!   address is answered exactly like an unknown one and the new one signs in to the same
//!   account; a taken address is `CONFLICT` naming nobody; a wrong password changes nothing and
//!   counts toward the lockout (five lock the account, login included); the old address is
//!   free for someone else; neither address reaches a server log.
//! - `changeHandle` follows registration's rules (taken in any case is `CONFLICT`, a bad one
//!   names `handle`), and the old handle is free again.
//! - Both are on the person's access log.
//! - `setAiProcessingConsent` is off by default, records each change with its time, and
//!   setting the current state again changes nothing (`changed: false`).

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, cli, leak, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, register};

const OLD: &str = "rect-old@example.org";
const NEW: &str = "rect-new@example.org";
const CHANGE_EMAIL: &str =
    "mutation($e: String!, $p: String!) { changeEmail(newEmail: $e, password: $p) { me { id handle } position } }";
const CHANGE_HANDLE: &str = "mutation($h: String!) { changeHandle(handle: $h) { me { id handle } position } }";
const SET_CONSENT: &str = "mutation($c: Boolean!) { setAiProcessingConsent(consent: $c) { consent { given since history { given at } } changed position } }";
const CONSENT: &str = "{ me { aiConsent aiProcessingConsent { given since history { given at } } } }";

async fn login(server: &Server, email: &str, password: &str) -> Value {
    Client::new(server)
        .raw(LOGIN, json!({ "e": email, "p": password }))
        .await
}

fn error(body: &Value) -> (Value, Value) {
    (
        body["errors"][0]["extensions"]["code"].clone(),
        body["errors"][0]["message"].clone(),
    )
}

/// Waits until the person's access log holds an entry of `kind`.
async fn logged(client: &Client, kind: &str) {
    let mut kinds = Value::Null;
    for _ in 0..100 {
        kinds = client
            .ok("{ accessLog(first: 50) { edges { node { kind } } } }", json!({}))
            .await;
        if kinds.to_string().contains(kind) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {kind} in the access log: {kinds}");
}

async fn email_moves(backend: &Backend, a: &Server, b: &Server) {
    let (client, id, handle) = register(a, OLD).await;
    let (_, other_id, other_handle) = register(a, "rect-taken@example.org").await;
    let unknown = error(&login(b, "rect-nobody@example.org", PASSWORD).await);
    assert_eq!(unknown.0, "UNAUTHENTICATED", "{unknown:?}");
    assert_eq!(login(b, OLD, PASSWORD).await["data"]["login"]["status"], "SIGNED_IN");

    // Refused before anything moves: a malformed address names its argument, a wrong
    // password is UNAUTHENTICATED, a taken address is CONFLICT and says nothing of its owner.
    let bad = client
        .raw(CHANGE_EMAIL, json!({ "e": "not-an-email", "p": PASSWORD }))
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "newEmail", "{bad}");
    let wrong = json!({ "e": NEW, "p": "not-the-password-1" });
    assert_eq!(client.code(CHANGE_EMAIL, wrong).await, "UNAUTHENTICATED");
    let taken = client
        .raw(CHANGE_EMAIL, json!({ "e": "RECT-TAKEN@example.org", "p": PASSWORD }))
        .await;
    assert_eq!(taken["errors"][0]["extensions"]["code"], "CONFLICT", "{taken}");
    let said = taken.to_string();
    assert!(!said.contains(&other_id) && !said.contains(&other_handle), "{said}");
    assert_eq!(login(b, OLD, PASSWORD).await["data"]["login"]["status"], "SIGNED_IN");
    assert_eq!(error(&login(b, NEW, PASSWORD).await), unknown, "nothing moved yet");

    // Moved on A; on B at once, the old address is an unknown one and the new one signs in.
    let moved = client.ok(CHANGE_EMAIL, json!({ "e": NEW, "p": PASSWORD })).await;
    assert_eq!(moved["changeEmail"]["me"], json!({ "id": id, "handle": handle }));
    assert_eq!(error(&login(b, OLD, PASSWORD).await), unknown, "the old address on B");
    let signed = login(b, NEW, PASSWORD).await;
    assert_eq!(signed["data"]["login"]["status"], "SIGNED_IN", "{signed}");
    assert_eq!(signed["data"]["login"]["me"]["id"], id.as_str());
    // On A too, and the session that changed it goes on.
    assert_eq!(error(&login(a, OLD, PASSWORD).await), unknown, "the old address on A");
    client.ok("{ me { id } }", json!({})).await;

    // The same address again changes nothing: the move is one event on the account's stream
    // (the address only in its sealed payload).
    let again = client.ok(CHANGE_EMAIL, json!({ "e": NEW, "p": PASSWORD })).await;
    assert_eq!(again["changeEmail"]["me"]["id"], id.as_str());
    let stream = format!("account-{id}");
    let moves = || {
        cli(backend, &["events", "--stream", &stream])
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).unwrap()["event_type"] == "EmailChanged")
            .count()
    };
    assert_eq!(moves(), 1);
    logged(&client, "email_changed").await;
    // Another spelling of it is a rectification too (recorded as typed); it signs in either way.
    client
        .ok(CHANGE_EMAIL, json!({ "e": NEW.to_uppercase(), "p": PASSWORD }))
        .await;
    assert_eq!(moves(), 2);
    assert_eq!(login(b, NEW, PASSWORD).await["data"]["login"]["me"]["id"], id.as_str());

    // The old address is free: someone else registers it and signs in with it.
    let (_, newcomer, _) = register(b, OLD).await;
    assert_ne!(newcomer, id);
    let back = client.raw(CHANGE_EMAIL, json!({ "e": OLD, "p": PASSWORD })).await;
    assert_eq!(back["errors"][0]["extensions"]["code"], "CONFLICT", "{back}");
}

/// A password tried by `changeEmail` is a sign-in attempt: five wrong ones lock the account,
/// and while locked even the right one is refused, by `changeEmail` and by `login` alike.
async fn wrong_passwords_lock(a: &Server, b: &Server) {
    let email = "rect-locked@example.org";
    let (client, _, _) = register(a, email).await;
    let wrong = json!({ "e": "rect-elsewhere@example.org", "p": "not-the-password-1" });
    for _ in 0..5 {
        assert_eq!(client.code(CHANGE_EMAIL, wrong.clone()).await, "UNAUTHENTICATED");
    }
    let right = json!({ "e": "rect-elsewhere@example.org", "p": PASSWORD });
    assert_eq!(client.code(CHANGE_EMAIL, right.clone()).await, "UNAUTHENTICATED");
    let locked = login(b, email, PASSWORD).await;
    assert_eq!(
        error(&locked),
        error(&login(b, email, "not-the-password-1").await),
        "locked answers as a wrong password"
    );
    logged(&client, "account_locked").await;
}

async fn handles(a: &Server, b: &Server) {
    let (client, id, _) = register(a, "rect-handle@example.org").await;
    let (other, _, other_handle) = register(b, "rect-handle-2@example.org").await;

    let short = client.raw(CHANGE_HANDLE, json!({ "h": "ab" })).await;
    assert_eq!(short["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{short}");
    assert_eq!(short["errors"][0]["extensions"]["field"], "handle", "{short}");
    let taken = json!({ "h": other_handle.to_uppercase() });
    assert_eq!(client.code(CHANGE_HANDLE, taken).await, "CONFLICT");

    let changed = client.ok(CHANGE_HANDLE, json!({ "h": "RectifiedOtter7" })).await;
    assert_eq!(
        changed["changeHandle"]["me"],
        json!({ "id": id, "handle": "RectifiedOtter7" })
    );
    let mut seen = Client::new(b);
    seen.token.clone_from(&client.token);
    assert_eq!(
        seen.ok("{ me { handle } }", json!({})).await["me"]["handle"],
        "RectifiedOtter7"
    );
    // Taken now, whatever the case; the same handle again changes nothing.
    assert_eq!(
        other.code(CHANGE_HANDLE, json!({ "h": "rectifiedotter7" })).await,
        "CONFLICT"
    );
    client.ok(CHANGE_HANDLE, json!({ "h": "RectifiedOtter7" })).await;
    logged(&client, "handle_changed").await;

    // The other person moves to a third handle; theirs is free for us.
    other.ok(CHANGE_HANDLE, json!({ "h": "SomeoneElse42" })).await;
    let freed = client.ok(CHANGE_HANDLE, json!({ "h": other_handle })).await;
    assert_eq!(freed["changeHandle"]["me"]["handle"], other_handle.as_str());
}

async fn consent(a: &Server) {
    let (client, _, _) = register(a, "rect-consent@example.org").await;
    let off = json!({ "aiConsent": false, "aiProcessingConsent": { "given": false, "since": null, "history": [] } });
    assert_eq!(client.ok(CONSENT, json!({})).await["me"], off);

    let given = client.ok(SET_CONSENT, json!({ "c": true })).await["setAiProcessingConsent"].clone();
    assert_eq!(given["changed"], true, "{given}");
    assert_eq!(given["consent"]["given"], true);
    let history = given["consent"]["history"].as_array().unwrap().clone();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["given"], true);
    assert_eq!(given["consent"]["since"], history[0]["at"]);

    // The same again: no error, nothing recorded, the same position.
    let same = client.ok(SET_CONSENT, json!({ "c": true })).await["setAiProcessingConsent"].clone();
    assert_eq!(same["changed"], false, "{same}");
    assert_eq!(same["consent"], given["consent"]);
    assert!(same["position"].as_u64().unwrap() >= given["position"].as_u64().unwrap());

    let withdrawn = client.ok(SET_CONSENT, json!({ "c": false })).await["setAiProcessingConsent"].clone();
    assert_eq!(withdrawn["changed"], true);
    let read = client.ok(CONSENT, json!({})).await["me"].clone();
    assert_eq!(read["aiConsent"], false);
    assert_eq!(read["aiProcessingConsent"], withdrawn["consent"]);
    let steps: Vec<Value> = read["aiProcessingConsent"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["given"].clone())
        .collect();
    assert_eq!(steps, [json!(true), json!(false)]);
    assert_eq!(
        read["aiProcessingConsent"]["since"],
        read["aiProcessingConsent"]["history"][1]["at"]
    );
}

async fn rights(backend: Backend) {
    let a = Server::start(&backend);
    let b = Server::start(&backend);
    email_moves(&backend, &a, &b).await;
    wrong_passwords_lock(&a, &b).await;
    handles(&a, &b).await;
    consent(&a).await;
    let logs = a.stop() + &b.stop();
    for email in [OLD, NEW, "RECT-NEW@EXAMPLE.ORG", "rect-taken@example.org"] {
        assert_eq!(leak(&logs, email), None, "{email} reached a log");
    }
}

#[tokio::test]
async fn rectification_and_consent_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    rights(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn rectification_and_consent_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    rights(Backend::Postgres(url)).await;
}
