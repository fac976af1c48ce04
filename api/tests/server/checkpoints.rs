//! Signed checkpoints end to end: two real servers on one log (one SQLite data dir, one
//! Postgres database) both run the checkpoint job; what they record is one row per size and
//! the same note from either server, which verifies with the key `/checkpoint/key` serves and
//! commits to the root the store computes. `/checkpoint`, `/checkpoint/<size>` and
//! `/checkpoint/proof` answer unauthenticated, briefly cacheable, with the usual security
//! headers. The auditor's GraphQL fields (`auditEvents`, `inclusionProof`,
//! `consistencyProof`, `checkpoints`) give proofs that verify against a signed root; other
//! roles get `FORBIDDEN`, sizes beyond the tree `BAD_USER_INPUT` naming the argument.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vigil_proofs::merkle::{verify_consistency, verify_inclusion};
use vigil_proofs::note::{VerifierKey, open_checkpoint};

use crate::harness::{Backend, Server, sqlite_dir};
use crate::signin::{register, staff};

const CADENCE: [&str; 4] = ["--checkpoint-every", "1s", "--checkpoint-events", "5"];

async fn get(server: &Server, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let res = reqwest::get(format!("{}{path}", server.url)).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

/// The newest checkpoint `server` serves once it covers at least `size` events.
async fn checkpoint_covering(server: &Server, size: u64, key: &VerifierKey) -> (u64, [u8; 32], String) {
    let started = Instant::now();
    loop {
        let (status, _, body) = get(server, "/checkpoint").await;
        if status == 200 {
            let (cp, _) = open_checkpoint(body.as_bytes(), key, key.name()).unwrap();
            if cp.size() >= size {
                return (cp.size(), *cp.root(), body);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no checkpoint of {size}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn hash(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap()).unwrap().try_into().unwrap()
}

async fn across(backend: &Backend, a: &Server, b: &Server) {
    let (status, _, body) = get(a, "/checkpoint").await;
    assert!(status == 404 || status == 200, "{status} {body}");
    let (status, headers, key_line) = get(a, "/checkpoint/key").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let key = VerifierKey::parse(key_line.trim()).unwrap();
    assert_eq!(key.name(), "test.vigil.invalid/vigil/1");
    assert_eq!(get(b, "/checkpoint/key").await.2, key_line);

    // Events through both servers; each server signs once enough came in.
    register(a, "cora@example.org").await;
    register(b, "dov@example.org").await;
    let auditor = staff(a, backend, "audit@example.org", "auditor").await;
    let (size, root, note) = checkpoint_covering(b, 1, &key).await;
    let (status, headers, same) = get(a, &format!("/checkpoint/{size}")).await;
    assert_eq!(
        (status, same.as_str()),
        (200, note.as_str()),
        "one note per size, whoever signed"
    );
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("strict-transport-security"));
    assert_eq!(get(a, "/checkpoint/0").await.0, 404);
    assert_eq!(get(a, "/checkpoint/01").await.0, 400);
    assert_eq!(get(a, "/checkpoint/-3").await.0, 400);
    assert_eq!(get(a, "/checkpoint/99999999").await.0, 404);

    // The auditor: the signed root is the tree's, and proofs verify against it.
    let client = &auditor.client;
    let q = "query($p: Int!, $n: Int!) { inclusionProof(position: $p, treeSize: $n) { leafIndex treeSize leafHash path root } }";
    let proof = client.ok(q, json!({ "p": 1, "n": size })).await["inclusionProof"].clone();
    assert_eq!(hash(&proof["root"]), root, "{proof}");
    let path: Vec<[u8; 32]> = proof["path"].as_array().unwrap().iter().map(hash).collect();
    verify_inclusion(0, size, &hash(&proof["leafHash"]), &path, &root).unwrap();
    let events = client
        .ok(
            "{ auditEvents(from: 1, first: 2) { position hash leafHash prevHash } }",
            json!({}),
        )
        .await;
    assert_eq!(events["auditEvents"][0]["leafHash"], proof["leafHash"], "{events}");
    let beyond = client.raw(q, json!({ "p": 1, "n": size + 100_000 })).await;
    assert_eq!(beyond["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{beyond}");
    assert_eq!(beyond["errors"][0]["extensions"]["field"], "treeSize", "{beyond}");
    let zero = client.raw(q, json!({ "p": 0, "n": size })).await;
    assert_eq!(zero["errors"][0]["extensions"]["field"], "position", "{zero}");

    // More events, a newer checkpoint, and a consistency proof between the two signed roots.
    register(b, "eli@example.org").await;
    let (later, later_root, _) = checkpoint_covering(a, size + 1, &key).await;
    let c = "query($f: Int!, $t: Int!) { consistencyProof(fromSize: $f, toSize: $t) { fromSize toSize path fromRoot toRoot } }";
    let proof = client.ok(c, json!({ "f": size, "t": later })).await["consistencyProof"].clone();
    let path: Vec<[u8; 32]> = proof["path"].as_array().unwrap().iter().map(hash).collect();
    verify_consistency(size, later, &path, &root, &later_root).unwrap();
    let (status, _, lines) = get(a, &format!("/checkpoint/proof?from={size}&to={later}")).await;
    assert_eq!(status, 200);
    assert_eq!(lines.lines().count(), path.len());
    assert_eq!(
        get(a, &format!("/checkpoint/proof?from={later}&to={size}")).await.0,
        400
    );
    assert_eq!(get(a, "/checkpoint/proof?from=1").await.0, 400);
    let backwards = client.raw(c, json!({ "f": later, "t": size })).await;
    assert_eq!(backwards["errors"][0]["extensions"]["field"], "fromSize", "{backwards}");

    // The list, newest first, paged; sizes unique.
    let list = "query($a: String) { checkpoints(first: 1, after: $a) { edges { cursor node { size root note signedAt } } pageInfo { hasNextPage } } }";
    let first = client.ok(list, json!({ "a": null })).await;
    let edge = &first["checkpoints"]["edges"][0];
    assert!(edge["node"]["size"].as_u64().unwrap() >= later, "{first}");
    assert_eq!(first["checkpoints"]["pageInfo"]["hasNextPage"], true);
    let next = client.ok(list, json!({ "a": edge["cursor"] })).await;
    assert!(
        next["checkpoints"]["edges"][0]["node"]["size"].as_u64() < edge["node"]["size"].as_u64(),
        "{next}"
    );

    // Not for users.
    let (user, _, _) = register(a, "fred@example.org").await;
    for field in [
        "{ checkpoints { edges { cursor } } }",
        "{ auditEvents { position } }",
        "{ inclusionProof(position: 1, treeSize: 1) { root } }",
        "{ consistencyProof(fromSize: 1, toSize: 1) { toRoot } }",
    ] {
        assert_eq!(user.code(field, json!({})).await, "FORBIDDEN", "{field}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_sqlite_dir_sign_one_checkpoint_per_size() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    let a = Server::start_with(&backend, &CADENCE, &[]);
    let b = Server::start_with(&backend, &CADENCE, &[]);
    across(&backend, &a, &b).await;
    for logs in [a.stop(), b.stop()] {
        assert!(!logs.contains("forked"), "{logs}");
        assert!(
            !logs.contains("AR5JNcYtui2rtWyFCYNza0OrDSHgK6OG5Tce2cP61EQX"),
            "the key is never logged"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_sign_one_checkpoint_per_size() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let backend = Backend::Postgres(url);
    let a = Server::start_with(&backend, &CADENCE, &[]);
    let b = Server::start_with(&backend, &CADENCE, &[]);
    across(&backend, &a, &b).await;
    for logs in [a.stop(), b.stop()] {
        assert!(!logs.contains("forked"), "{logs}");
    }
}

/// The public endpoints have a bucket per client address of their own: past it, 429 with
/// `Retry-After`, on every checkpoint route; GraphQL without a session is not charged for it.
#[tokio::test]
async fn checkpoint_requests_are_limited_per_client() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start_with(&Backend::Sqlite(dir), &[], &[("VIGIL_LIMIT_CHECKPOINTS", "3/1m")]);
    for path in ["/checkpoint/key", "/checkpoint", "/checkpoint/1"] {
        let (status, _, body) = get(&server, path).await;
        assert!(status == 200 || status == 404, "{path}: {status} {body}");
    }
    for path in ["/checkpoint/key", "/checkpoint/proof?from=1&to=1"] {
        let (status, headers, body) = get(&server, path).await;
        assert_eq!(status, 429, "{path}: {body}");
        let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=20).contains(&wait), "one request comes back after 20 s: {wait}");
        assert!(body.starts_with("too many checkpoint requests"), "{body}");
    }
    let res = reqwest::Client::new()
        .post(format!("{}/graphql", server.url))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    server.stop();
}
