//! The rare events the alert rules watch, each made to happen and seen in a scrape: an account
//! locked after five wrong passwords (and the five failures), a request refused by a rate
//! limit, the read-only switch turned on from the CLI, and a person's erasure. The common
//! traffic is `metrics.rs`'s.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Backend, Client, Server, cli, sqlite_dir};
use crate::metrics::{scrape, value};
use crate::signin::{LOGIN, PASSWORD, register};

const DELETE: &str = "mutation($p: String!) { deleteMyAccount(password: $p) { subject } }";

/// The scrape once `name` reaches `at_least`, or a failure after ten seconds.
async fn until(server: &Server, name: &str, labels: &[(&str, &str)], at_least: f64) -> String {
    let started = Instant::now();
    loop {
        let text = scrape(server).await;
        if value(&text, name, labels) >= at_least {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name} stayed below {at_least}: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockouts_rate_limits_read_only_and_erasures_are_counted() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    let server = Server::start_with(
        &backend,
        &["--metrics-listen", "127.0.0.1:0"],
        &[("VIGIL_LIMIT_CHECKPOINTS", "1/1m")],
    );
    let first = scrape(&server).await;
    for name in [
        "vigil_account_lockouts_total",
        "vigil_erasures_total",
        "vigil_read_only",
    ] {
        assert_eq!(value(&first, name, &[]), 0.0, "{name}: {first}");
    }

    // Five wrong passwords lock the account (`lockout.rs` has the rule).
    let email = "metrics-rare@example.org";
    register(&server, email).await;
    for _ in 0..5 {
        let code = Client::new(&server)
            .code(LOGIN, json!({ "e": email, "p": "not-the-password-7" }))
            .await;
        assert_eq!(code, "UNAUTHENTICATED");
    }
    let text = until(&server, "vigil_account_lockouts_total", &[], 1.0).await;
    assert_eq!(value(&text, "vigil_account_lockouts_total", &[]), 1.0, "{text}");
    assert_eq!(value(&text, "vigil_sign_in_failures_total", &[]), 5.0, "{text}");

    // The checkpoint endpoints' bucket holds one request a minute here.
    for _ in 0..2 {
        reqwest::get(format!("{}/checkpoint/key", server.url)).await.unwrap();
    }
    let text = scrape(&server).await;
    assert_eq!(
        value(&text, "vigil_rate_limited_total", &[("limit", "checkpoints")]),
        1.0,
        "{text}"
    );

    // A second person erases themselves.
    let (client, _, _) = register(&server, "metrics-rare-2@example.org").await;
    client.ok(DELETE, json!({ "p": PASSWORD })).await;
    until(&server, "vigil_erasures_total", &[], 1.0).await;

    // The read-only switch, from the server's shell, reaches the running server's gauge.
    cli(
        &backend,
        &["maintenance", "read-only", "on", "--reason", "metrics test"],
    );
    until(&server, "vigil_read_only", &[], 1.0).await;
    cli(&backend, &["maintenance", "read-only", "off"]);
    let started = Instant::now();
    while value(&scrape(&server).await, "vigil_read_only", &[]) != 0.0 {
        assert!(started.elapsed() < Duration::from_secs(10), "read-only stayed on");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop();
}
