//! `INTERNAL` through the server, on both backends, from a real failure of the event log: on
//! SQLite another client holds the log's write lock past the server's busy timeout; on
//! Postgres the log writer's INSERT grant is revoked (a botched grant change). The answer
//! says "internal error" and nothing of the cause; its `requestId` is the request's
//! `x-request-id` (the one the client sent, or the one the server minted and sent back when
//! none or an unacceptable one came), and the server's log line with the cause carries the
//! same id. Once the log takes writes again, so does the server.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::harness::{Backend, Server, sqlite_dir};
use crate::signin::register;

const RECORD: &str =
    "mutation { recordHealthLog(input: {vital: \"heart_rate\", value: \"58\", unit: \"bpm\"}) { position } }";

/// Makes the log refuse appends; `release` lets them through again.
struct Refusal {
    release: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

async fn refuse_appends(backend: &Backend) -> Refusal {
    let (locked, taken) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let done = match backend {
        Backend::Sqlite(dir) => {
            let url = format!("sqlite://{}", dir.join("events.db").display());
            tokio::spawn(async move {
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql("begin immediate").execute(&mut conn).await.unwrap();
                locked.send(()).unwrap();
                let _ = released.await;
                sqlx::raw_sql("rollback").execute(&mut conn).await.unwrap();
            })
        }
        Backend::Postgres(url) => {
            let url = url.clone();
            tokio::spawn(async move {
                let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::raw_sql("revoke insert on vigil.events from vigil_log_writer")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                locked.send(()).unwrap();
                let _ = released.await;
                sqlx::raw_sql("grant insert on vigil.events to vigil_log_writer")
                    .execute(&mut conn)
                    .await
                    .unwrap();
            })
        }
    };
    taken.await.unwrap();
    Refusal { release, done }
}

/// Sends `RECORD` with `request_id` as `x-request-id` (none when `None`): the id the response
/// header carries, and the body.
async fn record(server: &Server, token: &str, request_id: Option<&str>) -> (String, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", server.url))
        .bearer_auth(token)
        .json(&json!({ "query": RECORD }));
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let echoed = response
        .headers()
        .get("x-request-id")
        .expect("every response names its request")
        .to_str()
        .unwrap()
        .to_owned();
    (echoed, response.json().await.unwrap())
}

/// The server's "internal error" log lines, as (request id, cause).
fn logged(server: &Server) -> Vec<(String, String)> {
    let logs = server.logs.lock().unwrap().clone();
    logs.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "internal error")
        .map(|line| {
            let text = |key: &str| line["fields"][key].as_str().unwrap_or_default().to_owned();
            (text("request_id"), text("error"))
        })
        .collect()
}

async fn internal(backend: Backend) {
    let server = Server::start(&backend);
    let (client, _, _) = register(&server, "internal@example.org").await;
    let token = client.token.clone().unwrap();
    let refusal = refuse_appends(&backend).await;

    // An id the client sent, none, and one the edge refuses. On SQLite a refused append
    // waits out the busy timeout (10 s) on each of its two paths, so there only the first:
    // which id a request gets is the edge's doing, the same whatever the store.
    let sent = "client-report-4711.b";
    let cases = match backend {
        Backend::Sqlite(_) => vec![Some(sent)],
        Backend::Postgres(_) => vec![Some(sent), None, Some("<script>")],
    };
    let mut answers = Vec::new();
    for id in &cases {
        answers.push(record(&server, &token, *id).await);
    }
    refusal.release.send(()).unwrap();
    refusal.done.await.unwrap();

    assert_eq!(answers[0].0, sent, "an acceptable id is echoed as sent");
    for (echoed, _) in &answers[1..] {
        assert!(uuid::Uuid::parse_str(echoed).is_ok(), "a minted id: {echoed}");
        assert_ne!(echoed, "<script>");
    }
    for (echoed, body) in &answers {
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "INTERNAL", "{body}");
        assert_eq!(error["message"], "internal error", "{body}");
        assert_eq!(error["extensions"]["requestId"], echoed.as_str(), "{body}");
        assert_eq!(body["data"], Value::Null, "{body}");
        for cause in ["locked", "permission", "events", "sqlite", "postgres"] {
            assert!(!body.to_string().to_lowercase().contains(cause), "{cause} in {body}");
        }
    }

    // The server's log has each failure under the id the client got, with its cause.
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = logged(&server);
        if lines.len() >= answers.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (echoed, _) in &answers {
        let (_, cause) = lines
            .iter()
            .find(|(id, _)| id == echoed)
            .unwrap_or_else(|| panic!("no internal error logged under {echoed}: {lines:?}"));
        assert!(!cause.is_empty(), "the log says why");
    }

    // The log takes writes again, and so does the server.
    let (_, body) = record(&server, &token, None).await;
    assert!(body.get("errors").is_none(), "{body}");
    server.stop();
}

#[tokio::test]
async fn an_internal_error_answers_the_request_id_of_its_request_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    internal(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn an_internal_error_answers_the_request_id_of_its_request_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    internal(Backend::Postgres(url)).await;
}
