//! Lockout and TOTP replay where they matter: two `vigil serve` processes on one Postgres
//! (one process on SQLite). Failed sign-ins on either node count toward one lock, announced
//! once; while locked the right password answers like a wrong one; a TOTP code accepted on
//! one node is refused on the other, also when both are sent at once; a recovery code works
//! once; wrong codes count toward the lock too.

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, cli, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, next_step, register, totp_code, unix_now};

const EMAIL: &str = "carol@example.org";
const COMPLETE: &str = "mutation($c: String!, $code: String, $r: String) { completeLogin(challenge: $c, code: $code, recoveryCode: $r) { accessToken } }";

async fn login(client: &Client, password: &str) -> Value {
    client.raw(LOGIN, json!({ "e": EMAIL, "p": password })).await
}

async fn challenge(client: &Client) -> String {
    let body = login(client, PASSWORD).await;
    assert_eq!(body["data"]["login"]["status"], "SECOND_FACTOR_REQUIRED", "{body}");
    body["data"]["login"]["challenge"].as_str().unwrap().to_owned()
}

async fn lockout_and_replay(backend: &Backend, a: &Server, b: &Server) {
    let (carol, carol_id, carol_handle) = register(a, EMAIL).await;
    let (on_a, on_b) = (Client::new(a), Client::new(b));

    // Five failures, sent at once to both nodes, lock the account exactly once.
    let failures = (0..5).map(|i| {
        let client = if i % 2 == 0 { &on_a } else { &on_b };
        login(client, "not-the-password-1")
    });
    let answers = futures_util::future::join_all(failures).await;
    let wrong_message = answers[0]["errors"][0]["message"].clone();
    for answer in &answers {
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{answer}");
        assert_eq!(answer["errors"][0]["message"], wrong_message);
    }
    for client in [&on_a, &on_b] {
        let locked = login(client, PASSWORD).await;
        assert_eq!(
            locked["errors"][0]["message"], wrong_message,
            "locked answers as wrong: {locked}"
        );
    }
    let stream = format!("access-{carol_id}");
    let locks = cli(backend, &["events", "--stream", &stream])
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["event_type"] == "AccountLocked")
        .count();
    assert_eq!(locks, 1, "the lock is announced once");

    // Lifted early from the server's shell, with a reason on record.
    let out = cli(
        backend,
        &[
            "staff",
            "unlock",
            "--handle",
            &carol_handle,
            "--reason",
            "verified by phone",
        ],
    );
    assert!(out.contains("is unlocked"), "{out}");
    let back = login(&on_b, PASSWORD).await;
    assert_eq!(back["data"]["login"]["status"], "SIGNED_IN", "{back}");

    // Carol turns TOTP on (optional for users).
    let enrolment = carol.ok("mutation { startTotpEnrolment { secret } }", json!({})).await;
    let secret = enrolment["startTotpEnrolment"]["secret"].as_str().unwrap().to_owned();
    let codes = carol
        .ok(
            "mutation($c: String!) { confirmTotpEnrolment(code: $c) { recoveryCodes } }",
            json!({ "c": totp_code(&secret, unix_now()) }),
        )
        .await;
    let recovery: Vec<String> = codes["confirmTotpEnrolment"]["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();

    // A code accepted on one node is refused on the other.
    next_step().await;
    let code = totp_code(&secret, unix_now());
    let first = on_a
        .raw(COMPLETE, json!({ "c": challenge(&on_a).await, "code": code }))
        .await;
    assert!(first["data"]["completeLogin"]["accessToken"].is_string(), "{first}");
    let replay = on_b
        .raw(COMPLETE, json!({ "c": challenge(&on_b).await, "code": code }))
        .await;
    assert_eq!(replay["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{replay}");

    // The same fresh code on both nodes at once: exactly one wins.
    next_step().await;
    let code = totp_code(&secret, unix_now());
    let (ca, cb) = (challenge(&on_a).await, challenge(&on_b).await);
    let (ra, rb) = tokio::join!(
        on_a.raw(COMPLETE, json!({ "c": ca, "code": code })),
        on_b.raw(COMPLETE, json!({ "c": cb, "code": code })),
    );
    let wins = [&ra, &rb]
        .iter()
        .filter(|r| r["data"]["completeLogin"]["accessToken"].is_string())
        .count();
    assert_eq!(wins, 1, "{ra} {rb}");

    // A recovery code works once (typed in lower case, without dashes), then never again.
    let typed = recovery[0].to_lowercase().replace('-', "");
    let used = on_b
        .raw(COMPLETE, json!({ "c": challenge(&on_b).await, "r": typed }))
        .await;
    assert!(used["data"]["completeLogin"]["accessToken"].is_string(), "{used}");
    let again = on_a
        .raw(COMPLETE, json!({ "c": challenge(&on_a).await, "r": recovery[0] }))
        .await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{again}");
    // A spent challenge is spent.
    let ch = challenge(&on_a).await;
    let ok = on_a.raw(COMPLETE, json!({ "c": ch, "r": recovery[1] })).await;
    assert!(ok["data"]["completeLogin"]["accessToken"].is_string(), "{ok}");
    let reused = on_b.raw(COMPLETE, json!({ "c": ch, "r": recovery[2] })).await;
    assert_eq!(reused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{reused}");

    // Wrong codes count toward the lock, on either node, and a correct password in between
    // does not reset the count: five lock the account.
    for i in 0..5 {
        let client = if i % 2 == 0 { &on_a } else { &on_b };
        let wrong = client
            .raw(COMPLETE, json!({ "c": challenge(client).await, "code": "000000" }))
            .await;
        assert_eq!(wrong["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{wrong}");
    }
    let locked = login(&on_a, PASSWORD).await;
    assert_eq!(locked["errors"][0]["message"], wrong_message, "{locked}");

    // Turning TOTP off needs a current code (a session opened before the lock still works).
    let disable = "mutation($c: String!) { disableTotp(code: $c) }";
    assert_eq!(carol.code(disable, json!({ "c": "000000" })).await, "UNAUTHENTICATED");
    next_step().await;
    let off = carol.ok(disable, json!({ "c": totp_code(&secret, unix_now()) })).await;
    assert_eq!(off["disableTotp"], true);

    // Carol's access log tells the whole story.
    let mut kinds = String::new();
    for _ in 0..100 {
        kinds = carol
            .ok("{ accessLog(first: 100) { edges { node { kind } } } }", json!({}))
            .await
            .to_string();
        if kinds.contains("second_factor_disabled") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for kind in [
        "signed_in",
        "account_locked",
        "account_unlocked",
        "second_factor_enabled",
        "second_factor_disabled",
    ] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_and_totp_replay_hold_across_two_servers_on_one_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let backend = Backend::Postgres(url);
    let a = Server::start(&backend);
    let b = Server::start(&backend);
    lockout_and_replay(&backend, &a, &b).await;
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_and_totp_replay_hold_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    let server = Server::start(&backend);
    lockout_and_replay(&backend, &server, &server).await;
    server.stop();
}
