//! The metrics listener (`--metrics-listen`): after a registration, a sign-in, a failed one, a
//! write and a read, a scrape of `/metrics` shows the counters and histograms moved; the public
//! port does not serve `/metrics`; no label carries the person's email, handle or any UUID;
//! promtool accepts the scrape and the alert rules; every metric the alert rules and the
//! dashboard name is in a scrape.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::{LOGIN, register};

const EMAIL: &str = "metrics-dora@example.org";

/// promtool from `ops/ci/ensure-promtool.sh` (`VIGIL_TEST_PROMTOOL` from `ops/test.sh`), or
/// `None` outside CI when it cannot be had.
fn promtool() -> Option<PathBuf> {
    static PROMTOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PROMTOOL
        .get_or_init(|| vigil_tests::outside_tool("VIGIL_TEST_PROMTOOL", "ops/ci/ensure-promtool.sh", "promtool"))
        .clone()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub async fn scrape(server: &Server) -> String {
    let url = server.metrics.as_ref().expect("started with --metrics-listen");
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    response.text().await.unwrap()
}

/// The sum of the samples of `name` whose labels include `labels` (0 when there is none).
pub fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, sample) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
                .then(|| sample.parse::<f64>().unwrap())
        })
        .sum()
}

fn has(text: &str, name: &str) -> bool {
    text.lines()
        .any(|l| !l.starts_with('#') && (l.starts_with(&format!("{name} ")) || l.starts_with(&format!("{name}{{"))))
}

/// Every label value of the scrape.
fn label_values(text: &str) -> Vec<String> {
    let mut values = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (Some(open), Some(close)) = (line.find('{'), line.rfind('}')) else {
            continue;
        };
        for pair in line[open + 1..close].split("\",") {
            if let Some((_, v)) = pair.split_once("=\"") {
                values.push(v.trim_end_matches('"').to_owned());
            }
        }
    }
    values
}

fn looks_like_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(35)).any(|i| {
        let window = &text[i..i + 36];
        window.char_indices().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
    })
}

/// Every `vigil_…` identifier in `text` (alert expressions, dashboard queries).
fn referenced(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("vigil_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let before = rest[..at].chars().last();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.push(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names.sort();
    names.dedup();
    names
}

fn promtool_check(promtool: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(promtool)
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed: {text}");
    text
}

async fn metrics_move(backend: Backend) {
    let server = Server::start_with(&backend, &["--metrics-listen", "127.0.0.1:0"], &[]);
    let before = scrape(&server).await;

    let (client, id, handle) = register(&server, EMAIL).await;
    let failed = Client::new(&server)
        .code(LOGIN, json!({ "e": EMAIL, "p": "not-the-password-7" }))
        .await;
    assert_eq!(failed, "UNAUTHENTICATED");
    client
        .ok(
            "mutation { recordHealthLog(input: {vital: \"blood_pressure\", systolic: \"128\", diastolic: \"82\"}) { position } }",
            json!({}),
        )
        .await;
    client.ok("{ dashboard { activeProtocols { name } } }", json!({})).await;
    let after = scrape(&server).await;

    let moved = |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);
    assert_eq!(moved("vigil_sign_in_failures_total", &[]), 1.0, "{after}");
    assert!(
        moved("vigil_events_appended_total", &[]) >= 3.0,
        "register, sign-in, reading: {after}"
    );
    let login = [("operation", "mutation"), ("field", "login")];
    assert_eq!(
        moved("vigil_graphql_request_duration_seconds_count", &login),
        2.0,
        "{after}"
    );
    assert_eq!(
        moved(
            "vigil_graphql_request_duration_seconds_bucket",
            &[login[0], login[1], ("le", "+Inf")]
        ),
        2.0
    );
    let dashboard = [("operation", "query"), ("field", "dashboard")];
    assert_eq!(moved("vigil_graphql_request_duration_seconds_count", &dashboard), 1.0);
    assert_eq!(
        moved(
            "vigil_graphql_request_duration_seconds_count",
            &[("field", "recordHealthLog")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "vigil_graphql_responses_total",
            &[("code", "UNAUTHENTICATED"), ("status", "200")]
        ),
        1.0
    );
    assert!(moved("vigil_graphql_responses_total", &[("code", "none"), ("status", "200")]) >= 4.0);
    assert!(moved("vigil_http_responses_total", &[("status", "200")]) >= 5.0);
    assert!(moved("vigil_append_duration_seconds_count", &[]) >= 3.0);
    assert!(moved("vigil_append_events_sum", &[]) >= 3.0);
    let (commits, appends) = (
        moved("vigil_group_commits_total", &[]),
        moved("vigil_group_commit_appends_total", &[]),
    );
    assert!(
        commits >= 1.0 && appends >= commits,
        "{commits} group commits, {appends} appends"
    );
    assert_eq!(value(&after, "vigil_read_only", &[]), 0.0);
    assert!(value(&after, "vigil_process_resident_memory_bytes", &[]) > 1e6);
    assert!(has(&after, "vigil_projection_lag_events"), "{after}");
    assert!(has(&after, "vigil_projection_lag_seconds"), "{after}");
    assert!(has(&after, "vigil_open_connections"), "{after}");
    for zero in [
        "vigil_account_lockouts_total",
        "vigil_erasures_total",
        "vigil_rate_limited_total",
    ] {
        assert!(has(&after, zero), "{zero} is exported from the start: {after}");
    }

    // Bounded labels: nothing of the person, no id of anything.
    for v in label_values(&after) {
        assert!(!v.contains(EMAIL) && !v.contains(&handle) && !v.contains(&id), "{v}");
        assert!(!looks_like_uuid(&v), "a UUID in a label: {v}");
        assert!(v.len() <= 32, "a long label value: {v}");
    }
    // A field the schema lacks is `other`, whatever its name (the schema refuses it).
    let body = Client::new(&server).raw("{ metricsDoraHandle }", json!({})).await;
    assert!(body.get("errors").is_some());
    let third = scrape(&server).await;
    assert!(!third.contains("metricsDoraHandle"));
    assert!(
        value(
            &third,
            "vigil_graphql_request_duration_seconds_count",
            &[("field", "other")]
        ) >= 1.0
    );

    // An open WebSocket is counted while it is open.
    let url = format!("{}/graphql/ws", server.url.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let websocket = [("kind", "websocket")];
    assert_eq!(value(&scrape(&server).await, "vigil_open_connections", &websocket), 1.0);
    drop(socket);
    let mut open = 1.0;
    for _ in 0..50 {
        open = value(&scrape(&server).await, "vigil_open_connections", &websocket);
        if open == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(open, 0.0, "a closed socket is no longer counted");

    // Never on the public port; nothing but /metrics on the metrics port.
    let public = reqwest::get(format!("{}/metrics", server.url)).await.unwrap();
    assert_eq!(public.status().as_u16(), 404);
    let metrics_url = server.metrics.clone().unwrap();
    let elsewhere = reqwest::get(metrics_url.replace("/metrics", "/graphql")).await.unwrap();
    assert_eq!(elsewhere.status().as_u16(), 404);

    if let Some(promtool) = promtool() {
        let out = promtool_check(&promtool, &["check", "metrics"], Some(&third));
        eprintln!("promtool check metrics: {out}");
    }
    let logs = server.stop();
    assert!(!logs.contains("unknown environment variable"), "{logs}");
}

#[tokio::test]
async fn a_scrape_shows_what_happened_without_personal_data_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    metrics_move(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn a_scrape_shows_what_happened_without_personal_data_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    metrics_move(Backend::Postgres(url)).await;
}

#[tokio::test]
async fn the_alert_rules_and_the_dashboard_name_only_exported_metrics() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    // Off by default: no metrics listener, and the public port has no /metrics.
    let plain = Server::start(&backend);
    assert!(plain.metrics.is_none());
    let public = reqwest::get(format!("{}/metrics", plain.url)).await.unwrap();
    assert_eq!(public.status().as_u16(), 404);
    plain.stop();
    // Set by the variable this time.
    let server = Server::start_with(&backend, &[], &[("VIGIL_METRICS_LISTEN", "127.0.0.1:0")]);
    // Requests and appends, so the histograms have series.
    register(&server, "metrics-eve@example.org").await;
    let text = scrape(&server).await;
    let rules = std::fs::read_to_string(repo().join("ops/prometheus/alerts.yml")).unwrap();
    let dashboard = std::fs::read_to_string(repo().join("ops/grafana/vigil.json")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| !p.is_empty()));
    for (file, names) in [
        ("alerts.yml", referenced(&rules)),
        ("vigil.json", referenced(&dashboard)),
    ] {
        assert!(!names.is_empty(), "{file} names no metric");
        for name in names {
            assert!(has(&text, &name), "{file} names {name}, which a scrape lacks:\n{text}");
        }
    }
    if let Some(promtool) = promtool() {
        let out = promtool_check(&promtool, &["check", "rules", "ops/prometheus/alerts.yml"], None);
        eprintln!("promtool check rules: {out}");
    }
    let logs = server.stop();
    assert!(!logs.contains("unknown environment variable"), "{logs}");
}

#[test]
fn the_helpers_find_uuids_and_names() {
    assert!(looks_like_uuid("x-0190f3a2-7b1c-7d4e-9f00-aabbccddeeff"));
    assert!(!looks_like_uuid("recordHealthLog"));
    assert_eq!(
        referenced("sum(rate(vigil_a_total[5m])) / vigil_b{x=\"y\"} not_vigil_c"),
        ["vigil_a_total", "vigil_b"]
    );
}

/// Read models held back (as `lag.rs` does): the lag gauges show the projection behind, in
/// events and in the age of its oldest unapplied event, and go back to 0 once it catches up.
#[tokio::test]
async fn projection_lag_is_exported_while_the_read_models_are_held_back() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    let server = Server::start_with(
        &backend,
        &["--metrics-listen", "127.0.0.1:0", "--lag-timeout-ms", "100"],
        &[],
    );
    let (client, _, _) = register(&server, "metrics-fay@example.org").await;
    let held = crate::lag::hold_back_projections(&backend, std::time::Duration::from_millis(2_500)).await;
    let body = client
        .raw(
            "mutation { recordHealthLog(input: {vital: \"heart_rate\", value: \"61\", unit: \"bpm\"}) { position } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "PROJECTION_LAG", "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let text = scrape(&server).await;
    let health = [("projection", "health_logs")];
    assert!(value(&text, "vigil_projection_lag_events", &health) >= 1.0, "{text}");
    assert!(value(&text, "vigil_projection_lag_seconds", &health) >= 0.3, "{text}");
    assert!(
        value(&text, "vigil_graphql_responses_total", &[("code", "PROJECTION_LAG")]) >= 1.0,
        "{text}"
    );
    held.await.unwrap();
    let mut behind = f64::MAX;
    for _ in 0..100 {
        behind = value(&scrape(&server).await, "vigil_projection_lag_seconds", &health);
        if behind == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(behind, 0.0, "caught up, no lag");
    server.stop();
}
