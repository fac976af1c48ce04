//! Transactional mail end to end, against a real SMTP server on loopback (PyPI's aiosmtpd,
//! `smtp_sink.py`, installed by `ops/ci/ensure-smtp.sh`). Two servers share one store and one
//! SMTP server: people register on either (a verification code each, and a fresh one when
//! they try to sign in before using it), verify on the other, sign in, turn two-factor sign-in
//! on and off, get locked out, erase themselves; every message arrives exactly once, to its
//! person's address, with their handle and without their health values; a recipient the
//! SMTP server refuses for good is given up without holding back the others; no address
//! reaches a log or (SQLite) the read database's files. In `--dev` without SMTP, the same
//! messages are `.eml` files in `<data-dir>/outbox`, readable by the owner alone.

mod shell;
mod sink;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use sink::{Received, Sink};

use crate::harness::{Backend, Client, Server, leak, sqlite_dir};
use crate::metrics::{scrape, value};
use crate::signin::{LOGIN, next_step, totp_code, unix_now};

const PASSWORD: &str = "violet-lantern-orbit-42";
const WEIGHT: &str = "87.3";

fn start(backend: &Backend, args: &[String]) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_with(backend, &args, &[("VIGIL_NO_MAIL", "false")])
}

async fn register(server: &Server, email: &str, handle: &str) {
    Client::new(server)
        .ok(
            "mutation($e: String!, $p: String!, $h: String) { register(email: $e, password: $p, handle: $h) { accepted next } }",
            json!({ "e": email, "p": PASSWORD, "h": handle }),
        )
        .await;
}

/// The code in a verification message.
fn token_in(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let at = lines.iter().position(|l| l.contains("enter this code")).unwrap();
    lines[at + 2].trim().to_owned()
}

async fn signed_in(server: &Server, email: &str) -> Client {
    let mut client = Client::new(server);
    let data = client.ok(LOGIN, json!({ "e": email, "p": PASSWORD })).await;
    assert_eq!(data["login"]["status"], "SIGNED_IN", "{data}");
    client.token = Some(data["login"]["accessToken"].as_str().unwrap().to_owned());
    client
}

fn count(messages: &[Received], subject: &str) -> usize {
    messages.iter().filter(|m| m.subject == subject).count()
}

async fn mail_arrives_once(backend: Backend, dir: Option<PathBuf>) {
    let Some(sink) = Sink::start() else {
        eprintln!("aiosmtpd unavailable: the SMTP test is skipped (never with CI=true)");
        return;
    };
    let args = sink.serve_args("required");
    let a = start(&backend, &args);
    let b = start(&backend, &args);
    let people: Vec<(String, String)> = (0..4)
        .map(|i| (format!("mailtest-{i}@example.org"), format!("MailHeron{i}")))
        .collect();
    let bounce = "bounce-mailtest@example.org";

    // Registration: a code each; signing in before using it is refused and sends another.
    register(&a, bounce, "MailBounce").await;
    for (i, (email, handle)) in people.iter().enumerate() {
        register(if i % 2 == 0 { &a } else { &b }, email, handle).await;
    }
    for (email, _) in &people {
        let refused = Client::new(&b).raw(LOGIN, json!({ "e": email, "p": PASSWORD })).await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("confirm your e-mail address"),
            "{refused}"
        );
    }
    sink.until("two codes each", |m| {
        count(m, "Confirm your e-mail address") == 2 * people.len()
    })
    .await;
    // Only the newer code works, once, on any server.
    for (email, _) in &people {
        let outcomes: Vec<bool> = {
            let mut outcomes = Vec::new();
            for m in sink.to(email) {
                let body = Client::new(&a)
                    .raw(
                        "mutation($t: String!) { verifyEmail(token: $t) }",
                        json!({ "t": token_in(&m.body) }),
                    )
                    .await;
                outcomes.push(body["data"]["verifyEmail"] == true);
            }
            outcomes
        };
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{email}: {outcomes:?}");
    }
    // A code works once.
    let used = token_in(&sink.to(&people[0].0)[0].body);
    for _ in 0..2 {
        let again = Client::new(&b)
            .raw("mutation($t: String!) { verifyEmail(token: $t) }", json!({ "t": used }))
            .await;
        assert_eq!(again["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{again}");
    }
    let mut clients = Vec::new();
    for (i, (email, _)) in people.iter().enumerate() {
        clients.push(signed_in(if i % 2 == 0 { &b } else { &a }, email).await);
    }

    // Person 0: a health value, then two-factor sign-in on and off.
    clients[0]
        .ok(
            &format!("mutation {{ recordHealthLog(input: {{vital: \"body_weight\", value: \"{WEIGHT}\", unit: \"kg\"}}) {{ position }} }}"),
            json!({}),
        )
        .await;
    let enrolment = clients[0]
        .ok("mutation { startTotpEnrolment { secret } }", json!({}))
        .await;
    let secret = enrolment["startTotpEnrolment"]["secret"].as_str().unwrap().to_owned();
    clients[0]
        .ok(
            "mutation($c: String!) { confirmTotpEnrolment(code: $c) { recoveryCodes } }",
            json!({ "c": totp_code(&secret, unix_now()) }),
        )
        .await;
    next_step().await;
    clients[0]
        .ok(
            "mutation($c: String!) { disableTotp(code: $c) }",
            json!({ "c": totp_code(&secret, unix_now()) }),
        )
        .await;
    // Person 1: locked out by five wrong passwords.
    for _ in 0..5 {
        Client::new(&a)
            .raw(LOGIN, json!({ "e": people[1].0, "p": "not-the-password-7" }))
            .await;
    }
    // Person 2: erased.
    clients[2]
        .ok(
            "mutation($p: String!) { deleteMyAccount(password: $p) { subject } }",
            json!({ "p": PASSWORD }),
        )
        .await;

    let expected = 2 * people.len() + people.len() + 2 + 1 + 1;
    let all = sink.until("every message", |m| m.len() >= expected).await;
    // Nothing more comes: every server looked again meanwhile (they poll every 2 s).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let all_after = sink.messages();
    assert_eq!(all_after.len(), expected, "{all_after:#?}");
    let ids: HashSet<&str> = all.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "a message arrived twice");

    let by_person: BTreeMap<&str, Vec<String>> = people
        .iter()
        .map(|(email, _)| (email.as_str(), sink.to(email).into_iter().map(|m| m.subject).collect()))
        .collect();
    let has = |who: usize, subject: &str| {
        by_person[people[who].0.as_str()]
            .iter()
            .filter(|s| *s == subject)
            .count()
    };
    for who in 0..people.len() {
        assert_eq!(has(who, "New sign-in to your account"), 1, "{by_person:#?}");
    }
    assert_eq!(has(0, "Two-factor sign-in turned on"), 1, "{by_person:#?}");
    assert_eq!(has(0, "Two-factor sign-in turned off"), 1, "{by_person:#?}");
    assert_eq!(has(1, "Your account is locked for now"), 1, "{by_person:#?}");
    assert_eq!(has(2, "Your account was erased"), 1, "{by_person:#?}");
    for (email, handle) in &people {
        for m in sink.to(email) {
            assert_eq!(m.content_type, "text/plain");
            assert!(m.body.contains(handle.as_str()), "{m:?}");
            assert!(!m.body.contains(WEIGHT), "a health value in a message: {m:?}");
            assert!(!m.body.contains("http"), "a link in a message: {m:?}");
            assert!(!m.body.contains(email.as_str()), "the address in a body: {m:?}");
        }
    }
    assert!(sink.to(bounce).is_empty());

    // The refused recipient is given up, once, and counted; the rest is counted as sent.
    let (sa, sb) = (scrape(&a).await, scrape(&b).await);
    let total = |name: &str, labels: &[(&str, &str)]| value(&sa, name, labels) + value(&sb, name, labels);
    assert_eq!(total("vigil_mail_sent_total", &[]), expected as f64, "{sa}\n{sb}");
    assert_eq!(
        total(
            "vigil_mail_failed_total",
            &[("kind", "verify_email"), ("outcome", "given_up")]
        ),
        1.0
    );

    for logs in [a.stop(), b.stop()] {
        for email in people.iter().map(|(e, _)| e.as_str()).chain([bounce]) {
            assert_eq!(leak(&logs, email), None, "a server logged an address");
        }
        for m in &all {
            if m.subject == "Confirm your e-mail address" {
                assert_eq!(leak(&logs, &token_in(&m.body)), None, "a server logged a code");
            }
        }
    }
    if let Some(dir) = dir {
        for (email, _) in &people {
            assert!(
                !vigil_tests::in_sqlite_files(&dir, "read.db", email.as_bytes()),
                "{email} in the read database's files"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_reaches_a_real_smtp_server_once_from_two_servers_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    mail_arrives_once(Backend::Sqlite(dir.clone()), Some(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_reaches_a_real_smtp_server_once_from_two_servers_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    mail_arrives_once(Backend::Postgres(url), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_mode_without_smtp_writes_private_eml_files_into_the_data_dir() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir.clone());
    let server = Server::start_with(&backend, &["--dev"], &[("VIGIL_NO_MAIL", "false")]);
    let email = "devmail@example.org";
    register(&server, email, "DevWren").await;
    signed_in(&server, email).await;
    let outbox = dir.join("outbox");
    let started = Instant::now();
    let file = loop {
        let found: Vec<PathBuf> = std::fs::read_dir(&outbox)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(file) = found.into_iter().next() {
            break file;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no .eml in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("Subject: New sign-in to your account"), "{text}");
    assert!(text.contains(&format!("To: {email}")), "{text}");
    assert!(text.contains("DevWren"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    assert_eq!(leak(&server.stop(), email), None);
}

/// A relay that is down when a message is queued gets it once it is up: the failed attempt is
/// counted as a retry and the message comes 30 s later (the first backoff), once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_waits_for_a_relay_that_was_down_and_arrives_once() {
    if vigil_tests::outside_tool("VIGIL_TEST_SMTP_PYTHON", "ops/ci/ensure-smtp.sh", "aiosmtpd").is_none() {
        eprintln!("aiosmtpd unavailable: the SMTP test is skipped (never with CI=true)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir);
    let args: Vec<String> = [
        "--smtp-url",
        &format!("smtp+plain://127.0.0.1:{port}"),
        "--smtp-from",
        "vigil <vigil@test.invalid>",
        "--metrics-listen",
        "127.0.0.1:0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let server = start(&backend, &args);
    let email = "patient@example.org";
    register(&server, email, "PatientLynx").await;
    signed_in(&server, email).await;
    let started = Instant::now();
    while value(
        &scrape(&server).await,
        "vigil_mail_failed_total",
        &[("outcome", "retry")],
    ) < 1.0
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no failed attempt counted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sink = Sink::start_on(Some(port)).unwrap();
    let started = Instant::now();
    loop {
        let got = sink.to(email);
        if !got.is_empty() {
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].subject, "New sign-in to your account");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the retry never came");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.messages().len(), 1, "sent more than once");
    let scraped = scrape(&server).await;
    assert_eq!(
        value(&scraped, "vigil_mail_sent_total", &[("kind", "new_sign_in")]),
        1.0
    );
    assert_eq!(
        value(&scraped, "vigil_mail_failed_total", &[("outcome", "given_up")]),
        0.0
    );
    assert_eq!(leak(&server.stop(), email), None);
}
