//! The inactivity check end to end on both backends, its clock injected through `vigil
//! accounts erase-inactive --today` (an operator's "run it now, as of that day"). Two people
//! register and sign in today: a month on, nothing happens; 23.5 months on, each gets a notice
//! (an `InactivityNoticeRecorded` event on their account stream), once however often the
//! check runs; one signs in again on another server, which withdraws their notice; 25 months
//! on the other is erased (sign-in answers as for an unknown address, the address registers
//! again, the one ledger entry's actor is `system:inactivity`) and the one who came back is
//! kept with a new notice. Two processes running the check at once notice and erase each
//! account exactly once.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::deletion::{registers_again, sign_in_answer};
use crate::harness::{Backend, Server, cli, cli_concurrently, leak, sqlite_dir};
use crate::signin::register;

/// The day `days` after today (UTC), as `--today` takes it.
fn day(days: i64) -> String {
    (OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

/// (noticed, erased) from the check's report; `None` when another process held the lock.
fn counts(out: &str) -> Option<(usize, usize)> {
    let line = out.lines().find(|l| l.starts_with("inactivity check as of"))?;
    let (_, tally) = line.split_once("): ")?;
    assert!(tally.ends_with(" 0 kept, 0 failed"), "{line}");
    let count = |word: &str| {
        tally
            .split(", ")
            .find_map(|part| part.strip_suffix(word)?.parse::<usize>().ok())
    };
    Some((count(" noticed")?, count(" erased")?))
}

/// Runs the check as of `days` from today; (noticed, erased).
fn check(backend: &Backend, days: i64) -> (usize, usize) {
    let out = cli(backend, &["accounts", "erase-inactive", "--today", &day(days)]);
    counts(&out).unwrap_or_else(|| panic!("the check did not run: {out}"))
}

fn events(backend: &Backend, stream: &str) -> Vec<Value> {
    cli(backend, &["events", "--stream", stream])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The event types on `person`'s account stream (readable after an erasure too).
fn account_events(backend: &Backend, person: &str) -> Vec<String> {
    events(backend, &format!("account-{person}"))
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect()
}

fn notices(backend: &Backend, person: &str) -> usize {
    account_events(backend, person)
        .iter()
        .filter(|t| *t == "InactivityNoticeRecorded")
        .count()
}

/// The actors of the erasure ledger's entries for `person`.
fn ledger_actors(backend: &Backend, person: &str) -> Vec<String> {
    events(backend, "erasure-ledger")
        .iter()
        .filter(|e| e["payload"]["subject"] == person)
        .map(|e| e["actor"].as_str().unwrap().to_owned())
        .collect()
}

async fn noticed_then_erased_unless_back(backend: &Backend) {
    let a = Server::start(backend);
    let (gone, back) = ("gone@example.org", "back@example.org");
    let (_, gone_id, _) = register(&a, gone).await;
    let (_, back_id, _) = register(&a, back).await;

    assert_eq!(check(backend, 30), (0, 0), "a month on, both were active lately");
    assert_eq!(check(backend, 715), (2, 0), "23.5 months on, both are told");
    assert_eq!(check(backend, 716), (0, 0), "one notice per inactive period");
    for person in [&gone_id, &back_id] {
        assert_eq!(notices(backend, person), 1, "{:?}", account_events(backend, person));
    }

    // Signing in again (here on another server) withdraws the notice.
    let b = Server::start(backend);
    assert_eq!(sign_in_answer(&b, back).await, json!("SIGNED_IN"));
    let started = Instant::now();
    while account_events(backend, &back_id).last().map(String::as_str) != Some("ActiveOn") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no activity recorded: {:?}",
            account_events(backend, &back_id)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 25 months on: erased, and the one who came back gets a new notice instead.
    assert_eq!(check(backend, 760), (1, 1));
    assert_eq!(ledger_actors(backend, &gone_id), ["system:inactivity"]);
    assert!(ledger_actors(backend, &back_id).is_empty());
    assert_eq!(notices(backend, &back_id), 2);
    assert_eq!(
        sign_in_answer(&b, gone).await,
        sign_in_answer(&b, "nobody-ever@example.org").await,
        "an account erased for inactivity answers as an unknown one"
    );
    assert_eq!(sign_in_answer(&a, back).await, json!("SIGNED_IN"));
    let verified = cli(backend, &["verify"]);
    assert!(verified.contains("chain intact"), "{verified}");
    assert!(registers_again(&a, gone).await, "the address cannot register again");
    for logs in [a.stop(), b.stop()] {
        for email in [gone, back] {
            assert_eq!(leak(&logs, email), None, "a server logged an email");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_unused_for_24_months_is_noticed_then_erased_unless_its_owner_comes_back_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    noticed_then_erased_unless_back(&Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_unused_for_24_months_is_noticed_then_erased_unless_its_owner_comes_back_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    noticed_then_erased_unless_back(&Backend::Postgres(url)).await;
}

/// Two `vigil accounts erase-inactive` started together, as of `days` from today; the
/// (noticed, erased) totals of the runs that got the lock.
fn check_twice_at_once(backend: &Backend, days: i64) -> (usize, usize) {
    let outs = cli_concurrently(backend, &["accounts", "erase-inactive", "--today", &day(days)], 2);
    println!("{outs:?}");
    let ran: Vec<(usize, usize)> = outs.iter().filter_map(|out| counts(out)).collect();
    assert!(!ran.is_empty(), "neither process ran the check: {outs:?}");
    ran.iter().fold((0, 0), |(n, e), (dn, de)| (n + dn, e + de))
}

async fn two_runners_notice_and_erase_each_account_once(backend: &Backend) {
    let server = Server::start(backend);
    let mut people = Vec::new();
    for n in 0..3 {
        people.push(register(&server, &format!("twin-{n}@example.org")).await.1);
    }
    server.stop();

    assert_eq!(check_twice_at_once(backend, 715), (3, 0));
    for person in &people {
        assert_eq!(notices(backend, person), 1, "{:?}", account_events(backend, person));
    }
    assert_eq!(check_twice_at_once(backend, 760), (0, 3));
    for person in &people {
        assert_eq!(ledger_actors(backend, person), ["system:inactivity"]);
        let requests = account_events(backend, person)
            .iter()
            .filter(|t| *t == "ErasureRequested")
            .count();
        assert_eq!(requests, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_running_the_check_at_once_erase_each_account_once_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    two_runners_notice_and_erase_each_account_once(&Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_running_the_check_at_once_erase_each_account_once_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    two_runners_notice_and_erase_each_account_once(&Backend::Postgres(url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_runs_the_check_at_start_and_every_interval() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start_with(
        &Backend::Sqlite(dir),
        &[],
        &[("VIGIL_INACTIVITY_CHECK", "1s"), ("VIGIL_ERASE_INACTIVE_AFTER", "365")],
    );
    let runs = || {
        server
            .logs
            .lock()
            .unwrap()
            .matches("inactivity check: nothing to do")
            .count()
    };
    let started = Instant::now();
    while runs() < 3 {
        assert!(started.elapsed() < Duration::from_secs(15), "ran {} times", runs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logs = server.stop();
    assert!(!logs.contains("unknown environment variable"), "{logs}");
}
