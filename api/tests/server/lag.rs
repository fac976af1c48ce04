//! `PROJECTION_LAG` through the server, on both backends. The read models are held back the
//! way it happens in production: another client of the read database holds a lock the
//! projection runner needs (on SQLite the write lock on read.db; on Postgres the checkpoint
//! table every batch locks first), and the operator's `--lag-timeout-ms` is short. A mutation
//! then answers `PROJECTION_LAG` with its position at the timeout, the change saved and
//! readable once the lock goes. What must follow a commit follows it even so: a password
//! change ends the other sessions, a disabled account's sessions end for good (enabled again,
//! it signs in afresh), a registration leaves an account that signs in.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, register, staff};

const RECORD: &str = "mutation { recordHealthLog(input: {vital: \"heart_rate\", value: \"61\", unit: \"bpm\"}) { healthLog { id } position } }";
const READINGS: &str = "{ healthLogs(first: 5) { edges { node { vital components { value } } } } }";
const CHANGE: &str =
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { position } }";
const NEW_PASSWORD: &str = "amber-meadow-quartz-77";

/// Takes the lock and holds it for `hold`; the task ends when it let go.
pub async fn hold_back_projections(backend: &Backend, hold: Duration) -> tokio::task::JoinHandle<()> {
    let (locked, taken) = tokio::sync::oneshot::channel();
    let task = match backend {
        Backend::Sqlite(dir) => {
            let url = format!("sqlite://{}", dir.join("read.db").display());
            tokio::spawn(async move {
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql("begin immediate").execute(&mut conn).await.unwrap();
                locked.send(()).unwrap();
                tokio::time::sleep(hold).await;
                sqlx::raw_sql("rollback").execute(&mut conn).await.unwrap();
            })
        }
        Backend::Postgres(url) => {
            let url = url.clone();
            tokio::spawn(async move {
                let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::raw_sql("begin; lock table vigil_read.projection_checkpoints in exclusive mode")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                locked.send(()).unwrap();
                tokio::time::sleep(hold).await;
                sqlx::raw_sql("rollback").execute(&mut conn).await.unwrap();
            })
        }
    };
    taken.await.unwrap();
    task
}

fn lagged(body: &Value) -> u64 {
    assert_eq!(body["errors"][0]["extensions"]["code"], "PROJECTION_LAG", "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    body["errors"][0]["extensions"]["position"]
        .as_u64()
        .unwrap_or_else(|| panic!("a position: {body}"))
}

/// Polls `check` for up to 10 s (the read models catch up once the lock goes).
async fn eventually<F: AsyncFn() -> bool>(what: &str, check: F) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

async fn signed_in(server: &Server, email: &str, password: &str) -> Option<Client> {
    let mut client = Client::new(server);
    let body = client.raw(LOGIN, json!({ "e": email, "p": password })).await;
    client.token = Some(body["data"]["login"]["accessToken"].as_str()?.to_owned());
    Some(client)
}

async fn lagging(backend: Backend) {
    let server = Server::start_with(&backend, &["--lag-timeout-ms", "200"], &[]);
    let (client, _, _) = register(&server, "lag@example.org").await;
    let other = signed_in(&server, "lag@example.org", PASSWORD).await.unwrap();
    let admin = staff(&server, &backend, "admin@vigil.example", "admin").await;
    let (victim, _, victim_handle) = register(&server, "disabled@example.org").await;
    // Sessions in use, as the server remembers them between requests.
    other.ok("{ me { handle } }", json!({})).await;
    victim.ok("{ me { handle } }", json!({})).await;

    let held = hold_back_projections(&backend, Duration::from_secs(3)).await;
    let started = Instant::now();
    let position = lagged(&client.raw(RECORD, json!({})).await);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at the lag timeout, not when the lock went: {:?}",
        started.elapsed()
    );
    let unseen = client.ok(READINGS, json!({})).await;
    assert_eq!(unseen["healthLogs"]["edges"], json!([]), "behind, as the answer said");

    // Changes with consequences beyond the read models, made at once while they lag (on
    // SQLite those consequences wait for the lock too). Each may answer PROJECTION_LAG, or
    // succeed if it ended after the lock went.
    let anonymous = Client::new(&server);
    let (change, disable, newcomer) = tokio::join!(
        client.raw(CHANGE, json!({ "c": PASSWORD, "n": NEW_PASSWORD })),
        admin.client.raw(
            "mutation($h: String!) { disableAccount(handle: $h, reason: \"abuse report 12\") { position } }",
            json!({ "h": victim_handle }),
        ),
        anonymous.raw(
            "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accepted } }",
            json!({ "e": "newcomer@example.org", "p": PASSWORD }),
        ),
    );
    for body in [&change, &disable, &newcomer] {
        if body.get("errors").is_some() {
            lagged(body);
        }
    }
    held.await.unwrap();

    // Caught up: the reading was saved.
    eventually("the reading is read back", async || {
        client.ok(READINGS, json!({})).await["healthLogs"]["edges"]
            == json!([{ "node": { "vital": "heart_rate", "components": [{ "value": "61" }] } }])
    })
    .await;
    let next = client.ok(RECORD, json!({})).await;
    assert!(next["recordHealthLog"]["position"].as_u64().unwrap() > position);

    // The password change ended the other session and is in force; the disabled account's
    // session ended; the newcomer signs in.
    assert_eq!(other.code("{ me { handle } }", json!({})).await, "UNAUTHENTICATED");
    assert_eq!(victim.code("{ me { handle } }", json!({})).await, "UNAUTHENTICATED");
    // Enabled again, the account signs in afresh: the old session stays ended.
    admin
        .client
        .ok(
            "mutation($h: String!) { enableAccount(handle: $h, reason: \"resolved\") { position } }",
            json!({ "h": victim_handle }),
        )
        .await;
    assert_eq!(victim.code("{ me { handle } }", json!({})).await, "UNAUTHENTICATED");
    client.ok("{ me { handle } }", json!({})).await;
    eventually("the new password signs in", async || {
        signed_in(&server, "lag@example.org", NEW_PASSWORD).await.is_some()
    })
    .await;
    assert!(signed_in(&server, "lag@example.org", PASSWORD).await.is_none());
    eventually("the newcomer signs in", async || {
        signed_in(&server, "newcomer@example.org", PASSWORD).await.is_some()
    })
    .await;
    server.stop();
}

#[tokio::test]
async fn a_mutation_answers_projection_lag_when_read_models_are_held_back_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    lagging(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn a_mutation_answers_projection_lag_when_read_models_are_held_back_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    lagging(Backend::Postgres(url)).await;
}
