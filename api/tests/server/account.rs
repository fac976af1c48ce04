//! The person's own account through the server, on both backends: a password change makes the
//! old password fail and the new one work, keeps the session that made it and ends every
//! other (its access token and its refresh token), and is in the access log; a wrong current
//! password or a weak new one changes nothing. Settings are read back as changed, one at a
//! time, and an unknown unit names its argument.

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::{PASSWORD, register};

const EMAIL: &str = "account@example.org";
const NEW_PASSWORD: &str = "amber-meadow-quartz-77";
const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { me { handle } position } }";
const SIGN_IN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }";
const REFRESH: &str = "mutation($r: String!) { refresh(refreshToken: $r) { accessToken } }";
const SETTINGS: &str = "mutation($l: String, $w: String) { updateSettings(labUnits: $l, weightUnit: $w) { me { settings { labUnits weightUnit } } position } }";

/// Another session of `email`: a client with its access token, and its refresh token.
async fn another_session(server: &Server, password: &str) -> (Client, String) {
    let mut client = Client::new(server);
    let data = client.ok(SIGN_IN, json!({ "e": EMAIL, "p": password })).await;
    client.token = Some(data["login"]["accessToken"].as_str().unwrap().to_owned());
    (client, data["login"]["refreshToken"].as_str().unwrap().to_owned())
}

async fn password_change(server: &Server) {
    let (client, _, handle) = register(server, EMAIL).await;
    let (other, other_refresh) = another_session(server, PASSWORD).await;

    // Refused without the current password, or for a weak new one: nothing changes.
    let wrong = json!({ "c": "not-the-password-1", "n": NEW_PASSWORD });
    assert_eq!(client.code(CHANGE, wrong).await, "UNAUTHENTICATED");
    let weak = client.raw(CHANGE, json!({ "c": PASSWORD, "n": "short" })).await;
    assert_eq!(weak["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{weak}");
    assert_eq!(weak["errors"][0]["extensions"]["field"], "newPassword", "{weak}");
    other.ok("{ me { handle } }", json!({})).await;

    let changed = client.ok(CHANGE, json!({ "c": PASSWORD, "n": NEW_PASSWORD })).await;
    assert_eq!(changed["changePassword"]["me"]["handle"], handle.as_str());
    assert!(changed["changePassword"]["position"].as_u64().unwrap() > 0);

    // This session goes on; the other one is over, refresh token included.
    client.ok("{ me { handle } }", json!({})).await;
    assert_eq!(other.code("{ me { handle } }", json!({})).await, "UNAUTHENTICATED");
    assert_eq!(
        other.code(REFRESH, json!({ "r": other_refresh })).await,
        "UNAUTHENTICATED"
    );

    // The old password no longer signs in; the new one does.
    let anonymous = Client::new(server);
    let old = json!({ "e": EMAIL, "p": PASSWORD });
    assert_eq!(anonymous.code(SIGN_IN, old).await, "UNAUTHENTICATED");
    let (fresh, _) = another_session(server, NEW_PASSWORD).await;
    fresh.ok("{ me { handle } }", json!({})).await;

    // The person can see it happened.
    let mut kinds = Value::Null;
    for _ in 0..100 {
        kinds = fresh
            .ok("{ accessLog(first: 20) { edges { node { kind } } } }", json!({}))
            .await;
        if kinds.to_string().contains("password_changed") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no password_changed in the access log: {kinds}");
}

async fn read(client: &Client) -> Value {
    client
        .ok("{ me { settings { labUnits weightUnit } } }", json!({}))
        .await["me"]["settings"]
        .clone()
}

async fn settings(server: &Server) {
    let (client, _, _) = register(server, "settings@example.org").await;
    let (bystander, _, _) = register(server, "bystander@example.org").await;
    let defaults = json!({ "labUnits": "conventional", "weightUnit": "kg" });
    assert_eq!(read(&client).await, defaults);

    // One at a time: the other setting is kept.
    let si = client.ok(SETTINGS, json!({ "l": "si" })).await;
    assert_eq!(
        si["updateSettings"]["me"]["settings"],
        json!({ "labUnits": "si", "weightUnit": "kg" })
    );
    let lb = client.ok(SETTINGS, json!({ "w": "lb" })).await;
    let both = json!({ "labUnits": "si", "weightUnit": "lb" });
    assert_eq!(lb["updateSettings"]["me"]["settings"], both);
    assert!(lb["updateSettings"]["position"].as_u64().unwrap() > si["updateSettings"]["position"].as_u64().unwrap());
    assert_eq!(read(&client).await, both);

    // Unknown units name their argument and change nothing.
    for (vars, field) in [
        (json!({ "l": "metric" }), "labUnits"),
        (json!({ "w": "stone" }), "weightUnit"),
    ] {
        let body = client.raw(SETTINGS, vars).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(read(&client).await, both);
    assert_eq!(read(&bystander).await, defaults, "nobody else's settings change");
}

async fn own_account(backend: Backend) {
    let server = Server::start(&backend);
    password_change(&server).await;
    settings(&server).await;
    server.stop();
}

#[tokio::test]
async fn a_password_change_and_settings_are_in_force_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    own_account(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn a_password_change_and_settings_are_in_force_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    own_account(Backend::Postgres(url)).await;
}
