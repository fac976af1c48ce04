//! A mutation retried with the same `Idempotency-Key` writes nothing twice and answers as the
//! first attempt did, even where the rules would now refuse it, even when the retries race
//! and when the retry reaches another server; a different request, another person or no key
//! writes as usual; a malformed key is refused before anything runs.

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::register;

const WEIGHT: &str = "mutation($v: String!) { recordHealthLog(input: {vital: \"body_weight\", value: $v, unit: \"kg\"}) \
                      { healthLog { id } position } }";
const START: &str = "mutation { startProtocol(name: \"TRT\", effectiveFrom: \"2026-01-01\", items: [
    {compound: \"testosterone_enanthate\", amount: \"125\", unit: \"mg\", route: \"im\", schedule: \"E3.5D\", start: \"2026-01-01\"}])
    { protocol { id versions { items { id } } } position } }";
const PAUSE: &str =
    "mutation($id: String!) { pauseProtocol(id: $id, on: \"2026-02-01\") { protocol { status } position } }";
const COUNT: &str =
    "{ healthLogs(first: 50) { edges { node { id } } } protocols(first: 50) { edges { node { id } } } }";

async fn keyed(client: &Client, query: &str, variables: Value, key: &str) -> Value {
    let (status, body) = client.with_headers(query, variables, &[("idempotency-key", key)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{query} failed: {body}");
    body["data"].clone()
}

async fn counts(client: &Client) -> (usize, usize) {
    let data = client.ok(COUNT, json!({})).await;
    let n = |v: &Value| v["edges"].as_array().map_or(0, Vec::len);
    (n(&data["healthLogs"]), n(&data["protocols"]))
}

async fn retries(a: &Server, b: &Server) {
    let (client, _, _) = register(a, "ivy@example.org").await;
    let mut on_b = Client::new(b);
    on_b.token = client.token.clone();

    // A retry (here through the other server) answers as the first attempt, writes nothing.
    let first = keyed(&client, WEIGHT, json!({"v": "87.3"}), "weigh-1").await;
    let again = keyed(&on_b, WEIGHT, json!({"v": "87.3"}), "weigh-1").await;
    assert_eq!(first, again, "a retry answers as the first attempt");
    assert_eq!(counts(&client).await, (1, 0));

    // Racing retries land once.
    let racing: Vec<_> = (0..6)
        .map(|i| {
            let client = if i % 2 == 0 { client.clone() } else { on_b.clone() };
            tokio::spawn(async move { keyed(&client, WEIGHT, json!({"v": "88.0"}), "weigh-2").await })
        })
        .collect();
    let mut answers = Vec::new();
    for r in racing {
        answers.push(r.await.expect("task"));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(counts(&client).await, (2, 0));

    // The same key with other variables, or no key at all, is a new request.
    let other = keyed(&client, WEIGHT, json!({"v": "87.3"}), "weigh-3").await;
    assert_ne!(other, first);
    client.ok(WEIGHT, json!({"v": "87.3"})).await;
    client.ok(WEIGHT, json!({"v": "87.3"})).await;
    assert_eq!(counts(&client).await, (5, 0));
    let changed = keyed(&client, WEIGHT, json!({"v": "90.1"}), "weigh-1").await;
    assert_ne!(changed, first, "the same key with another request is another request");
    assert_eq!(counts(&client).await, (6, 0));

    // A created protocol keeps its ids (and its items' ids) across a retry.
    let started = keyed(&client, START, json!({}), "start-1").await;
    assert_eq!(keyed(&on_b, START, json!({}), "start-1").await, started);
    assert_eq!(counts(&client).await, (6, 1));
    let id = started["startProtocol"]["protocol"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // A retried pause is not refused as "already paused"; a second pause without a key is.
    let paused = keyed(&client, PAUSE, json!({"id": id}), "pause-1").await;
    assert_eq!(paused["pauseProtocol"]["protocol"]["status"], "paused", "{paused}");
    assert_eq!(keyed(&on_b, PAUSE, json!({"id": id}), "pause-1").await, paused);
    assert_eq!(client.code(PAUSE, json!({"id": id})).await, "CONFLICT");

    // Another person sending the very same request and key writes their own record.
    let (someone, _, _) = register(b, "ned@example.org").await;
    let theirs = keyed(&someone, WEIGHT, json!({"v": "87.3"}), "weigh-1").await;
    assert_ne!(
        theirs["recordHealthLog"]["healthLog"]["id"],
        first["recordHealthLog"]["healthLog"]["id"]
    );
    assert_eq!(counts(&someone).await, (1, 0));
    assert_eq!(counts(&client).await, (6, 1));

    // Malformed keys: 400, named, nothing written.
    for bad in ["", "has space", &"k".repeat(129)] {
        let (status, body) = client
            .with_headers(WEIGHT, json!({"v": "87.3"}), &[("idempotency-key", bad)])
            .await;
        assert_eq!(status, 400, "{bad:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "Idempotency-Key");
    }
    assert_eq!(counts(&client).await, (6, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_mutation_writes_nothing_twice_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    let a = Server::start(&backend);
    let b = Server::start(&backend);
    retries(&a, &b).await;
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_mutation_writes_nothing_twice_across_two_servers_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let backend = Backend::Postgres(url);
    let a = Server::start(&backend);
    let b = Server::start(&backend);
    retries(&a, &b).await;
    a.stop();
    b.stop();
}
