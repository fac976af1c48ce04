//! HTTP hardening seen from a client: every response (the GraphQL endpoint, the health
//! endpoints, an error, a 404, an oversized body) carries HSTS, the API's
//! Content-Security-Policy, nosniff, no-referrer, no-store, the cross-origin policies and a
//! Permissions-Policy denying everything; an oversized body is a JSON `BAD_USER_INPUT`; only a
//! bounded `x-request-id` is echoed; GraphiQL (dev only) gets its own narrow policy;
//! `/.well-known/security.txt` parses as RFC 9116 says, with an `Expires` less than a year
//! ahead, and is absent when no contact is configured.

use reqwest::header::HeaderMap;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::harness::{Backend, Server, sqlite_dir};

const EXPECTED: &[(&str, &str)] = &[
    ("strict-transport-security", "max-age=63072000; includeSubDomains"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("x-frame-options", "DENY"),
];

fn assert_hardened(headers: &HeaderMap, what: &str) {
    for (name, value) in EXPECTED {
        assert_eq!(
            headers.get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{what}: header {name}"
        );
    }
    let permissions = headers
        .get("permissions-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{what}: no permissions-policy"));
    for feature in ["camera=()", "geolocation=()", "microphone=()", "payment=()", "usb=()"] {
        assert!(
            permissions.contains(feature),
            "{what}: {feature} not denied in {permissions}"
        );
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start_with(
        &Backend::Sqlite(dir),
        &["--body-limit", "2048"],
        &[
            (
                "VIGIL_SECURITY_CONTACT",
                "mailto:security@vigil.example,https://vigil.example/report",
            ),
            ("VIGIL_SECURITY_POLICY", "https://vigil.example/disclosure"),
            (
                "VIGIL_SECURITY_CANONICAL",
                "https://vigil.example/.well-known/security.txt",
            ),
        ],
    );
    let http = reqwest::Client::new();
    let graphql = format!("{}/graphql", server.url);

    let ok = http
        .post(&graphql)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_hardened(ok.headers(), "POST /graphql");
    let error = http
        .post(&graphql)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    let headers = error.headers().clone();
    let body: serde_json::Value = error.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    assert_hardened(&headers, "an error response");
    let too_big = http
        .post(&graphql)
        .header("content-type", "application/json")
        .body(format!("{{\"query\": \"{}\"}}", "x".repeat(4096)))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status().as_u16(), 413);
    assert_hardened(too_big.headers(), "413");
    assert_eq!(too_big.headers()["content-type"], "application/json");
    let body: serde_json::Value = too_big.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "body", "{body}");

    // x-request-id: a bounded token is echoed; markup or 5000 characters are replaced.
    for (sent, kept) in [
        ("client-req.42_a", true),
        ("<script>alert(1)</script>", false),
        (&*"x".repeat(5000), false),
    ] {
        let res = http
            .post(&graphql)
            .header("x-request-id", sent)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        let echoed = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        if kept {
            assert_eq!(echoed, sent);
        } else {
            assert_ne!(echoed, sent);
            assert!(echoed.len() <= 64 && !echoed.contains('<'), "{echoed}");
        }
    }
    for path in ["healthz", "readyz", "no-such-path", "graphiql"] {
        let res = http.get(format!("{}/{path}", server.url)).send().await.unwrap();
        assert_hardened(res.headers(), path);
    }

    // security.txt: fields as configured, Expires in the future but within a year.
    let res = http
        .get(format!("{}/.well-known/security.txt", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_hardened(res.headers(), "security.txt");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
        "security.txt is text/plain"
    );
    let text = res.text().await.unwrap();
    let fields: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once(": ").unwrap_or_else(|| panic!("not a field line: {l:?}")))
        .collect();
    let values = |name: &str| -> Vec<&str> { fields.iter().filter(|(n, _)| *n == name).map(|(_, v)| *v).collect() };
    assert_eq!(
        values("Contact"),
        ["mailto:security@vigil.example", "https://vigil.example/report"]
    );
    assert_eq!(values("Policy"), ["https://vigil.example/disclosure"]);
    assert_eq!(values("Canonical"), ["https://vigil.example/.well-known/security.txt"]);
    assert_eq!(values("Preferred-Languages"), ["en, fr"]);
    let expires = values("Expires");
    assert_eq!(expires.len(), 1, "exactly one Expires");
    let expires = OffsetDateTime::parse(expires[0], &Rfc3339).expect("Expires is RFC 3339");
    let now = OffsetDateTime::now_utc();
    assert!(expires > now && expires < now + time::Duration::days(365), "{expires}");
    server.stop();
}

#[tokio::test]
async fn graphiql_gets_its_own_narrow_policy_and_no_contact_means_no_security_txt() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start_with(&Backend::Sqlite(dir), &["--dev"], &[]);
    let http = reqwest::Client::new();
    let res = http.get(format!("{}/graphiql", server.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("'sha256-"), "inline scripts allowed by hash: {csp}");
    let script_src = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
    assert!(!script_src.contains("unsafe"), "{script_src}");
    let res = http
        .get(format!("{}/.well-known/security.txt", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    server.stop();
}

#[tokio::test]
async fn cors_is_off_by_default_and_an_allow_list_when_configured() {
    let preflight = |server: &Server, origin: &str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", server.url))
            .header("origin", origin.to_owned())
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&Backend::Sqlite(dir.clone()));
    let res = preflight(&server, "https://app.vigil.example").await.unwrap();
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "no CORS by default"
    );
    server.stop();

    let server = Server::start_with(
        &Backend::Sqlite(dir),
        &[],
        &[("VIGIL_CORS_ORIGINS", "https://app.vigil.example")],
    );
    let res = preflight(&server, "https://app.vigil.example").await.unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.vigil.example"
    );
    let methods = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("POST") && !methods.contains("DELETE"), "{methods}");
    let res = preflight(&server, "https://evil.example").await.unwrap();
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "other origins get nothing"
    );
    server.stop();
}
