//! GraphQL over HTTP at the edges: media types, methods, batching, request errors, the depth
//! and complexity limits, the health endpoints, and the warning about unknown `VIGIL_*`
//! variables. On SQLite: these are HTTP-layer rules, the same whatever the backend.

use serde_json::{Value, json};

use crate::harness::{Backend, Server, sqlite_dir};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn post(server: &Server, content_type: &str, accept: &str, body: String) -> (u16, String, String) {
    let res = reqwest::Client::new()
        .post(format!("{}/graphql", server.url))
        .header("content-type", content_type)
        .header("accept", accept)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let media = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, res.text().await.unwrap())
}

#[tokio::test]
async fn the_http_edges_answer_as_the_graphql_over_http_spec_says() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start_with(&Backend::Sqlite(dir), &[], &[("VIGIL_LISTN", "0.0.0.0:80")]);
    let http = reqwest::Client::new();
    let query = json!({ "query": "{ me { handle } }" }).to_string();

    // Liveness and readiness.
    for path in ["healthz", "readyz"] {
        let res = http.get(format!("{}/{path}", server.url)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "/{path}");
    }

    // Nothing we can answer with: 406. A body that is not JSON: 415.
    let (status, _, _) = post(&server, "application/json", "text/html", query.clone()).await;
    assert_eq!(status, 406);
    let (status, media, body) = post(&server, "text/plain", GRAPHQL_RESPONSE, query.clone()).await;
    assert_eq!((status, media.as_str()), (415, GRAPHQL_RESPONSE));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "content-type", "{body}");

    // A batch is one request too many, and a body that is not JSON is no request: 400, in
    // the same error shape as every other error.
    let batch = json!([{ "query": "{ me { handle } }" }, { "query": "{ me { id } }" }]).to_string();
    for body in [batch, "{not json".to_string()] {
        let (status, media, body) = post(&server, "application/json", "application/json", body).await;
        assert_eq!((status, media.as_str()), (400, "application/json"));
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "body", "{body}");
    }

    // A request error (unparsable document) under graphql-response+json: 400 without `data`;
    // under application/json: 200 with the error.
    let broken = json!({ "query": "{ me { handle " }).to_string();
    let (status, media, body) = post(&server, "application/json", GRAPHQL_RESPONSE, broken.clone()).await;
    assert_eq!((status, media.as_str()), (400, GRAPHQL_RESPONSE));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(
        body.get("data").is_none() && body["errors"][0]["message"].is_string(),
        "{body}"
    );
    let (status, media, _) = post(&server, "application/json", "application/json", broken).await;
    assert_eq!((status, media.as_str()), (200, "application/json"));

    // No query at all (a misspelt key): 400 under either media type, naming the field.
    for accept in [GRAPHQL_RESPONSE, "application/json"] {
        let misspelt = json!({ "qeury": "{ me { handle } }" }).to_string();
        let (status, media, body) = post(&server, "application/json", accept, misspelt).await;
        assert_eq!((status, media.as_str()), (400, accept), "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "query", "{body}");
    }

    // Mutations never ride on GET.
    let res = http
        .get(format!("{}/graphql?query=mutation%20%7B%20logout%20%7D", server.url))
        .header("accept", GRAPHQL_RESPONSE)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);

    // Sixty aliases of a cheap field exceed the alias limit; refused before any resolver
    // runs, so even the unauthenticated caller gets the limit error.
    let wide: String = (0..60).map(|i| format!("a{i}: me {{ handle }} ")).collect();
    let (status, _, body) = post(
        &server,
        "application/json",
        GRAPHQL_RESPONSE,
        json!({ "query": format!("{{ {wide} }}") }).to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_lowercase().contains("aliases"), "{body}");

    // Production mode: no introspection.
    let (_, _, body) = post(
        &server,
        "application/json",
        GRAPHQL_RESPONSE,
        json!({ "query": "{ __schema { types { name } } }" }).to_string(),
    )
    .await;
    assert!(!body.contains("\"types\""), "{body}");

    let logs = server.stop();
    assert!(
        logs.contains("unknown environment variable VIGIL_LISTN"),
        "a mistyped variable is warned about: {logs}"
    );
}

#[tokio::test]
async fn queries_nested_deeper_than_the_limit_are_refused() {
    // Only introspection nests this deep, and it needs --dev.
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start_with(&Backend::Sqlite(dir), &["--dev"], &[]);
    // __schema, types, fields, type, then eight ofType and a name: depth 13 > 12.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(8),
        "} ".repeat(8)
    );
    let (status, _, body) = post(
        &server,
        "application/json",
        GRAPHQL_RESPONSE,
        json!({ "query": deep }).to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_lowercase().contains("nested too deep"), "{body}");
    let shallow = "{ __schema { types { name } } }";
    let (status, _, body) = post(
        &server,
        "application/json",
        GRAPHQL_RESPONSE,
        json!({ "query": shallow }).to_string(),
    )
    .await;
    assert_eq!(status, 200, "introspection works in --dev: {body}");
    server.stop();
}

#[tokio::test]
async fn a_document_that_fails_validation_fails_it_every_time_and_a_valid_one_answers_the_same_each_time() {
    // Documents that passed full validation run on the fast-validation schema afterwards
    // (`server::documents`): a failed one must never be taken for passed.
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&Backend::Sqlite(dir));
    let invalid = json!({ "query": "{ me { handle nonsense } }" }).to_string();
    for attempt in 1..=3 {
        let (status, _, body) = post(&server, "application/json", GRAPHQL_RESPONSE, invalid.clone()).await;
        assert_eq!(status, 400, "attempt {attempt}: {body}");
        assert!(
            body.contains("nonsense"),
            "attempt {attempt} names the unknown field: {body}"
        );
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (
                &body["errors"][0]["extensions"]["code"],
                &body["errors"][0]["extensions"]["field"]
            ),
            (&json!("BAD_USER_INPUT"), &json!("query")),
            "a validation error carries a code like every other error"
        );
    }
    let valid = json!({ "query": "{ me { handle } }" }).to_string();
    let first = post(&server, "application/json", GRAPHQL_RESPONSE, valid.clone()).await;
    assert_eq!(first.0, 200, "{}", first.2);
    for _ in 0..2 {
        assert_eq!(
            post(&server, "application/json", GRAPHQL_RESPONSE, valid.clone()).await,
            first
        );
    }
    server.stop();
}

#[tokio::test]
async fn too_many_aliases_a_too_long_query_or_a_huge_page_are_refused_before_running() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&Backend::Sqlite(dir));
    let refused = |body: &str| {
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "query", "{body}");
        assert!(body.get("data").is_none(), "{body}");
    };
    let aliases: Vec<String> = (0..51).map(|i| format!("a{i}: __typename")).collect();
    let many = json!({ "query": format!("{{ {} }}", aliases.join(" ")) }).to_string();
    let (status, _, body) = post(&server, "application/json", "application/json", many).await;
    assert_eq!(status, 400, "{body}");
    refused(&body);
    let fifty: Vec<String> = (0..50).map(|i| format!("a{i}: __typename")).collect();
    let allowed = json!({ "query": format!("{{ {} }}", fifty.join(" ")) }).to_string();
    let (status, _, body) = post(&server, "application/json", "application/json", allowed).await;
    assert_eq!(status, 200, "fifty aliases are fine: {body}");

    let long = json!({ "query": format!("{{ __typename }} # {}", "x".repeat(17 * 1024)) }).to_string();
    let (status, _, body) = post(&server, "application/json", "application/json", long).await;
    assert_eq!(status, 400, "{body}");
    refused(&body);

    // A list field weighs its page size: a million rows exceed the complexity limit before
    // any resolver runs (no token needed to be refused).
    let huge = json!({ "query": "{ healthLogs(first: 1000000) { edges { node { id } } } }" }).to_string();
    let (status, _, body) = post(&server, "application/json", GRAPHQL_RESPONSE, huge).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_lowercase().contains("complex"), "{body}");
    server.stop();
}

#[tokio::test]
async fn control_characters_and_bidi_overrides_are_refused_naming_the_input() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&Backend::Sqlite(dir));
    let (client, _, _) = crate::signin::register(&server, "kim@example.org").await;
    let record = "mutation($n: String) { recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\", note: $n}) { healthLog { id } } }";
    for (note, field) in [
        ("red \u{1b}[31malert", "n"),
        ("nul \u{0} here", "n"),
        ("evil \u{202E}gnp.exe", "n"),
    ] {
        let body = client.raw(record, json!({ "n": note })).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        assert!(body.get("data").is_none(), "refused before running: {body}");
    }
    // The same in a literal argument names the argument.
    let literal = "mutation { startProtocol(name: \"TRT\\u202E\", items: []) { position } }";
    let body = client.raw(literal, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "name", "{body}");
    // Line breaks and tabs are text.
    let body = client.raw(record, json!({ "n": "first line\n\tsecond line" })).await;
    assert!(body.get("errors").is_none(), "{body}");
    server.stop();
}

#[tokio::test]
async fn a_bad_page_argument_is_named_as_itself() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&Backend::Sqlite(dir));
    let (client, _, _) = crate::signin::register(&server, "lee@example.org").await;
    for (query, field) in [
        ("{ protocols(first: 500) { edges { cursor } } }", "first"),
        ("{ protocols(first: 0) { edges { cursor } } }", "first"),
        ("{ protocols(after: \"not-a-cursor\") { edges { cursor } } }", "after"),
        ("{ accessLog(first: 101) { edges { cursor } } }", "first"),
    ] {
        let body = client.raw(query, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{query}: {body}");
    }
    server.stop();
}
