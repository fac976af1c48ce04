//! The read-only switch across servers: an admin (with a fresh TOTP code) switches it on
//! through one server; the other refuses mutations within 2 s (`READ_ONLY`, HTTP 503 with
//! `Retry-After`), while queries, sign-in and `/readyz` keep answering; the CLI switches it
//! off and both accept writes again. On Postgres with two servers, on SQLite with a server
//! and the CLI sharing the data directory. Prints the measured propagation times.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, cli, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, next_step, register, staff, totp_code, unix_now};

const WRITE: &str = "mutation { recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\", measuredAt: \"2026-03-02T08:05:00Z\"}) { healthLog { id } } }";
const SET: &str = "mutation($on: Boolean!, $r: String!, $c: String!) { setReadOnly(on: $on, reason: $r, totpCode: $c) { readOnly since by reason } }";
/// The issue's bound on propagation.
const WITHIN: Duration = Duration::from_secs(2);

/// Sends the write through `client` as raw HTTP: (status, Retry-After, body).
async fn write(client: &Client) -> (u16, Option<String>, Value) {
    let res = reqwest::Client::new()
        .post(&client.url)
        .bearer_auth(client.token.as_deref().unwrap())
        .json(&json!({ "query": WRITE }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry, res.json().await.unwrap())
}

/// Polls `client` with writes until `refused` says the answer is the awaited one.
async fn until(client: &Client, refused: bool) -> Duration {
    let started = Instant::now();
    loop {
        let (status, retry, body) = write(client).await;
        let is_refused = body["errors"][0]["extensions"]["code"] == "READ_ONLY";
        if is_refused == refused {
            if refused {
                assert_eq!(status, 503, "{body}");
                assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok()), "Retry-After");
                assert!(body.get("data").is_none(), "refused whole: {body}");
            } else {
                assert_eq!(status, 200, "{body}");
                assert!(body.get("errors").is_none(), "{body}");
            }
            return started.elapsed();
        }
        assert!(
            started.elapsed() < WITHIN * 3,
            "still {body} after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn readyz(server: &Server) -> String {
    reqwest::get(format!("{}/readyz", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn switch_across(backend: &Backend, a: &Server, b: &Server, label: &str) {
    let (on_a, _, _) = register(a, "fay@example.org").await;
    let mut on_b = Client::new(b);
    on_b.token.clone_from(&on_a.token);
    until(&on_b, false).await;
    let admin = staff(a, backend, "ops@example.org", "admin").await;

    // A user cannot flip it; an admin needs a current code.
    let forbidden = on_a
        .code(SET, json!({ "on": true, "r": "incident", "c": "000000" }))
        .await;
    assert_eq!(forbidden, "FORBIDDEN");
    next_step().await;
    let code = totp_code(&admin.secret, unix_now());
    let set = admin
        .client
        .ok(
            SET,
            json!({ "on": true, "r": "restoring last night's backup", "c": code }),
        )
        .await;
    let flipped = Instant::now();
    assert_eq!(set["setReadOnly"]["readOnly"], true, "{set}");
    until(&on_b, true).await;
    let seen = flipped.elapsed();
    assert!(seen < WITHIN, "server B refused writes only after {seen:?}");

    // Reads, sign-in and readiness keep working; the switch says who and why.
    on_b.ok("{ me { id } }", json!({})).await;
    let signed_in = Client::new(b)
        .ok(LOGIN, json!({ "e": "fay@example.org", "p": PASSWORD }))
        .await;
    assert_eq!(signed_in["login"]["status"], "SIGNED_IN");
    assert!(readyz(b).await.contains("read-only"), "readyz says so");
    let mode = admin
        .client
        .ok("{ maintenanceMode { readOnly by reason } }", json!({}))
        .await;
    assert_eq!(mode["maintenanceMode"]["reason"], "restoring last night's backup");
    assert_eq!(
        on_a.code("{ maintenanceMode { readOnly } }", json!({})).await,
        "FORBIDDEN"
    );
    // Aliases cannot smuggle a write past the switch next to an allowed field.
    let smuggled = format!("mutation {{ logout w: {} }}", &WRITE[11..WRITE.len() - 2]);
    let res = reqwest::Client::new()
        .post(&on_a.url)
        .bearer_auth(on_a.token.as_deref().unwrap())
        .json(&json!({ "query": smuggled }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (status, &body["errors"][0]["extensions"]["code"]),
        (503, &json!("READ_ONLY")),
        "{body}"
    );
    // Moving an email checks a password as sign-in does, but it is a write: refused whole.
    let moved = on_a
        .raw(
            "mutation { changeEmail(newEmail: \"fay.elsewhere@example.org\", password: \"violet-lantern-orbit-42\") { position } }",
            json!({}),
        )
        .await;
    assert_eq!(moved["errors"][0]["extensions"]["code"], "READ_ONLY", "{moved}");

    // Off from the command line (a third process): both accept writes again.
    let out = cli(backend, &["maintenance", "read-only", "off"]);
    assert!(out.contains("OFF"), "{out}");
    let off = Instant::now();
    until(&on_b, false).await;
    until(&on_a, false).await;
    let back = off.elapsed();
    assert!(back < WITHIN, "writes accepted again only after {back:?}");
    assert_eq!(readyz(b).await, "ready");
    let status = cli(backend, &["maintenance", "status"]);
    assert!(status.contains("accepting writes"), "{status}");
    println!(
        "read-only switch on {label}: on through A, refused on B after {:.1} ms; \
         off from the CLI, accepted on both after {:.1} ms",
        seen.as_secs_f64() * 1000.0,
        back.as_secs_f64() * 1000.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_only_switch_reaches_the_other_server_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let backend = Backend::Postgres(url);
    let a = Server::start(&backend);
    let b = Server::start(&backend);
    switch_across(&backend, &a, &b, "Postgres").await;
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_only_switch_reaches_every_process_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    let a = Server::start(&backend);
    let b = Server::start(&backend);
    switch_across(&backend, &a, &b, "SQLite").await;
    a.stop();
    b.stop();
}
