//! Rate limits from a client's side: a request over its bucket is refused whole before any
//! field runs (`RATE_LIMITED`, HTTP 429, `Retry-After`), aliases count once each (six aliased
//! wrong-password `login`s are six attempts, and refused as a whole they lock nothing); the
//! sign-in limit holds per client and per account across two servers on one Postgres; behind
//! a trusted proxy the right-most untrusted `X-Forwarded-For` entry is the client and a
//! malformed one is a 400; reads and writes per person; over WebSocket the refusal is the
//! operation's answer (a `next` with no data and the error, then `complete`).

use serde_json::{Value, json};

use crate::harness::{Backend, Server, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, register};
use crate::ws::first_answer;

/// Sends `query` to `server` from `forwarded` (an X-Forwarded-For value) with `token`:
/// (status, Retry-After, body).
async fn send(
    server: &Server,
    token: Option<&str>,
    forwarded: Option<&str>,
    query: &str,
    variables: Value,
) -> (u16, Option<u64>, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/graphql", server.url))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    (status, retry, res.json().await.unwrap())
}

fn assert_limited((status, retry, body): &(u16, Option<u64>, Value)) {
    assert_eq!(*status, 429, "{body}");
    assert!(retry.is_some_and(|r| r >= 1), "Retry-After: {retry:?}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
    assert!(body.get("data").is_none(), "refused whole: {body}");
}

fn aliased_logins(n: usize) -> String {
    let fields: Vec<String> = (0..n)
        .map(|i| format!("a{i}: login(email: $e, password: \"wrong-password-{i}\") {{ status }}"))
        .collect();
    format!("mutation($e: String!) {{ {} }}", fields.join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_their_bucket_are_refused_whole() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    // Set up with generous limits, then restart with tight ones on the same store.
    let server = Server::start(&backend);
    let (person, _, _) = register(&server, "gus@example.org").await;
    drop(person);
    server.stop();
    let server = Server::start_with(
        &backend,
        &[],
        &[
            ("VIGIL_LIMIT_SIGN_IN", "5/15m"),
            ("VIGIL_LIMIT_PUBLIC", "20/1m"),
            ("VIGIL_LIMIT_READS", "3/1m"),
            ("VIGIL_LIMIT_WRITES", "2/1m"),
        ],
    );
    let vars = json!({ "e": "gus@example.org" });

    // Six aliased attempts at once: more than five, refused whole: none ran, nothing locked.
    assert_limited(&send(&server, None, None, &aliased_logins(6), vars.clone()).await);
    let (status, _, body) = send(
        &server,
        None,
        None,
        LOGIN,
        json!({ "e": "gus@example.org", "p": PASSWORD }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["login"]["status"], "SIGNED_IN",
        "the refused document ran nothing: {body}"
    );
    let token = body["data"]["login"]["accessToken"].as_str().unwrap().to_owned();
    // Four more attempts fit (one was spent above); the next is refused.
    let (_, _, four) = send(&server, None, None, &aliased_logins(4), vars.clone()).await;
    assert_eq!(
        four["errors"].as_array().unwrap().len(),
        4,
        "each ran and failed: {four}"
    );
    assert_limited(
        &send(
            &server,
            None,
            None,
            LOGIN,
            json!({ "e": "gus@example.org", "p": PASSWORD }),
        )
        .await,
    );

    // Reads and writes per person: the bucket counts root fields.
    let me = "{ me { id } }";
    assert_eq!(
        send(&server, Some(&token), None, "{ a: me { id } b: me { id } }", json!({}))
            .await
            .0,
        200
    );
    assert_eq!(send(&server, Some(&token), None, me, json!({})).await.0, 200);
    assert_limited(&send(&server, Some(&token), None, me, json!({})).await);
    let settings = "updateSettings(weightUnit: \"kg\") { position }";
    let first = send(
        &server,
        Some(&token),
        None,
        &format!("mutation {{ {settings} }}"),
        json!({}),
    )
    .await;
    assert_eq!(first.0, 200, "{}", first.2);
    assert!(first.2.get("errors").is_none(), "{}", first.2);
    let two = format!("mutation {{ a: {settings} b: {settings} }}");
    assert_limited(&send(&server, Some(&token), None, &two, json!({})).await);
    // Over WebSocket, the same reads bucket answers the operation with the refusal.
    let answer = first_answer(&server.url, &token, me).await;
    assert_eq!(answer["type"], "next", "{answer}");
    assert!(answer["payload"]["data"].is_null(), "refused whole: {answer}");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{answer}"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_limit_holds_across_two_servers_per_client_and_per_account() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let backend = Backend::Postgres(url);
    let tight = [("VIGIL_LIMIT_SIGN_IN", "5/15m"), ("VIGIL_TRUSTED_PROXIES", "127.0.0.1")];
    let a = Server::start_with(&backend, &[], &tight);
    let b = Server::start_with(&backend, &[], &tight);
    register(&a, "hana@example.org").await;
    let wrong = |i: usize| json!({ "e": "hana@example.org", "p": format!("wrong-{i}") });

    // Per client: five attempts from one address, spread over both servers; the sixth fails
    // on either.
    let client = Some("198.51.100.1");
    for i in 0..5 {
        let server = if i % 2 == 0 { &a } else { &b };
        let other_email = json!({ "e": format!("nobody{i}@example.org"), "p": "x-wrong-password" });
        let (status, _, body) = send(server, None, client, LOGIN, if i == 0 { wrong(0) } else { other_email }).await;
        assert_eq!(status, 200, "attempt {i}: {body}");
    }
    assert_limited(&send(&b, None, client, LOGIN, wrong(9)).await);
    assert_limited(&send(&a, None, client, LOGIN, wrong(9)).await);

    // Per account: hana's account has had two attempts (the sign-in after registering and
    // one above); from fresh addresses it takes three more, and the next, from yet another
    // address, is refused on either server.
    for i in 0..3 {
        let forwarded = format!("203.0.113.{i}");
        let server = if i % 2 == 0 { &b } else { &a };
        let (status, _, body) = send(server, None, Some(&forwarded), LOGIN, wrong(i)).await;
        assert_eq!(status, 200, "account attempt {i}: {body}");
    }
    assert_limited(&send(&a, None, Some("203.0.113.50"), LOGIN, wrong(5)).await);
    // Someone else's account from a fresh address is not affected.
    let (status, _, _) = send(
        &b,
        None,
        Some("203.0.113.51"),
        LOGIN,
        json!({ "e": "ivy@example.org", "p": "nope-nope-1" }),
    )
    .await;
    assert_eq!(status, 200);

    // A password asked again inside a session (deleteMyAccount, changePassword) counts
    // against the person: a stolen token cannot guess its way to erasing the account, even
    // from fresh addresses, and the account survives.
    let (client, _, _) = register(&b, "jun@example.org").await;
    let token = client.token.clone().expect("token");
    let delete = "mutation($p: String!) { deleteMyAccount(password: $p) { ledgerPosition } }";
    for i in 0..5 {
        let server = if i % 2 == 0 { &a } else { &b };
        let (status, _, body) = send(
            server,
            Some(&token),
            Some(&format!("192.0.2.{i}")),
            delete,
            json!({ "p": format!("guess-{i}") }),
        )
        .await;
        assert_eq!(status, 200, "guess {i}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    }
    assert_limited(&send(&a, Some(&token), Some("192.0.2.99"), delete, json!({ "p": PASSWORD })).await);
    client.ok("{ me { id } }", json!({})).await;

    // The client is the right-most address no trusted proxy vouches for; a forged one to
    // its left changes nothing, a malformed header is a 400.
    assert_limited(&send(&a, None, Some("10.9.9.9, 198.51.100.1"), LOGIN, wrong(7)).await);
    let (status, _, body) = send(&a, None, Some("198.51.100.1, <script>"), LOGIN, wrong(8)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "x-forwarded-for");
    a.stop();
    b.stop();
}

#[tokio::test]
async fn without_a_trusted_proxy_the_forwarded_header_is_ignored() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start_with(&Backend::Sqlite(dir), &[], &[("VIGIL_LIMIT_PUBLIC", "2/1m")]);
    let typename = "{ __typename }";
    for forwarded in ["198.51.100.1", "198.51.100.2"] {
        assert_eq!(send(&server, None, Some(forwarded), typename, json!({})).await.0, 200);
    }
    // Both counted against the socket's peer (127.0.0.1), whatever the header said; a
    // malformed header from an untrusted peer is not even read.
    assert_limited(&send(&server, None, Some("not an address"), typename, json!({})).await);
    server.stop();
}
