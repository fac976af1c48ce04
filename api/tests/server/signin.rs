//! Signing in for the end-to-end suites: a user registered and signed in, a staff member made
//! with `vigil staff add` and enrolled in TOTP, and the codes an authenticator app would show.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::harness::{Backend, Client, Server, cli_with_input};

pub const PASSWORD: &str = "violet-lantern-orbit-42";

/// The code an authenticator app shows for `secret` at `unix` seconds.
pub fn totp_code(secret: &str, unix: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(0)
        .build_noncompliant()
        .generate(unix)
        .to_string()
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Sleeps into the next 30-second step (a code is accepted once per step).
pub async fn next_step() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let into = now.as_millis() % 30_000;
    tokio::time::sleep(Duration::from_millis(u64::try_from(30_000 - into).unwrap() + 300)).await;
}

pub const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { status accessToken challenge me { id handle role } } }";

/// A signed-in staff member of `role`, created with the CLI and enrolled in TOTP.
pub struct Staff {
    pub client: Client,
    pub secret: String,
    /// The code that confirmed enrolment (its step is spent).
    pub enrol_code: String,
    /// What must never reach a log: the enrolment challenge and the recovery codes.
    pub secrets: Vec<String>,
    pub handle: String,
    pub email: String,
}

pub async fn staff(server: &Server, backend: &Backend, email: &str, role: &str) -> Staff {
    let out = cli_with_input(
        backend,
        &[
            "staff",
            "add",
            "--email",
            email,
            "--role",
            role,
            "--reason",
            "hired for the test",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.contains(&format!("created {role} account")), "{out}");
    let mut client = Client::new(server);
    // No session before a second factor: only an enrolment challenge.
    let login = client.ok(LOGIN, json!({ "e": email, "p": PASSWORD })).await;
    assert_eq!(login["login"]["status"], "ENROLMENT_REQUIRED", "{login}");
    assert!(login["login"]["accessToken"].is_null());
    let challenge = login["login"]["challenge"].as_str().unwrap().to_owned();
    assert!(challenge.starts_with("vgm_"));
    // The challenge is no access token.
    client.token = Some(challenge.clone());
    assert_eq!(client.code("{ me { handle } }", json!({})).await, "UNAUTHENTICATED");
    client.token = None;
    let enrolment = client
        .ok(
            "mutation($c: String) { startTotpEnrolment(challenge: $c) { uri qrCode secret } }",
            json!({ "c": challenge }),
        )
        .await;
    let e = &enrolment["startTotpEnrolment"];
    let secret = e["secret"].as_str().unwrap().to_owned();
    assert!(e["uri"].as_str().unwrap().starts_with("otpauth://totp/vigil:"));
    assert!(e["qrCode"].as_str().unwrap().starts_with("data:image/svg+xml;base64,"));
    let enrol_code = totp_code(&secret, unix_now());
    let confirmed = client
        .ok(
            "mutation($code: String!, $c: String) { confirmTotpEnrolment(code: $code, challenge: $c) { recoveryCodes auth { accessToken me { handle role } } } }",
            json!({ "code": enrol_code, "c": challenge }),
        )
        .await;
    let c = &confirmed["confirmTotpEnrolment"];
    assert_eq!(c["recoveryCodes"].as_array().unwrap().len(), 10);
    let mut secrets: Vec<String> = c["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    secrets.push(challenge.clone());
    secrets.push(secret.clone());
    assert_eq!(c["auth"]["me"]["role"], role);
    client.token = Some(c["auth"]["accessToken"].as_str().unwrap().to_owned());
    Staff {
        client,
        secret,
        enrol_code,
        secrets,
        handle: c["auth"]["me"]["handle"].as_str().unwrap().to_owned(),
        email: email.to_owned(),
    }
}

pub async fn register(server: &Server, email: &str) -> (Client, String, String) {
    let mut client = Client::new(server);
    client
        .ok(
            "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accepted } }",
            json!({ "e": email, "p": PASSWORD }),
        )
        .await;
    let data = client.ok(LOGIN, json!({ "e": email, "p": PASSWORD })).await;
    client.token = Some(data["login"]["accessToken"].as_str().unwrap().to_owned());
    let id = data["login"]["me"]["id"].as_str().unwrap().to_owned();
    let handle = data["login"]["me"]["handle"].as_str().unwrap().to_owned();
    (client, id, handle)
}
