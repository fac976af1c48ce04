//! Mail caused from the shell: `vigil accounts erase-inactive --queue-mail` queues the
//! inactivity notices and the erasures' confirmations, and the running server sends them; a
//! confirmation the relay refuses is deleted rather than kept, and the outbox ends empty.

use std::time::{Duration, Instant};

use super::sink::Sink;
use super::{count, register, start};
use crate::harness::{Backend, cli, leak, sqlite_dir};
use crate::metrics::{scrape, value};

/// The inactivity check run from the shell with `--queue-mail`: the notice, then the erasure's
/// confirmation, both sent by the running server.
async fn inactivity_is_mailed(backend: Backend) {
    let Some(sink) = Sink::start() else {
        eprintln!("aiosmtpd unavailable: the SMTP test is skipped (never with CI=true)");
        return;
    };
    let args = sink.serve_args("off");
    let server = start(&backend, &args);
    let email = "sleeper@example.org";
    // The relay refuses this one: its notice is given up, then its erasure confirmation.
    let bounce = "bounce-sleeper@example.org";
    register(&server, email, "SleepyOwl").await;
    register(&server, bounce, "SleepyBounce").await;
    let day = |days: i64| (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string();
    let out = cli(
        &backend,
        &["accounts", "erase-inactive", "--queue-mail", "--today", &day(715)],
    );
    assert!(out.contains("2 noticed"), "{out}");
    let notice = sink
        .until("the notice", |m| count(m, "Your account will be erased") == 1)
        .await;
    let notice = notice
        .iter()
        .find(|m| m.subject == "Your account will be erased")
        .unwrap();
    assert_eq!(notice.to, [email]);
    // The day the policy names: 730 days after the last use, and never sooner than 30 days
    // after the notice.
    assert!(
        notice.body.contains("SleepyOwl") && notice.body.contains(&day(745)),
        "{notice:?}"
    );
    let out = cli(
        &backend,
        &["accounts", "erase-inactive", "--queue-mail", "--today", &day(760)],
    );
    assert!(out.contains("2 erased"), "{out}");
    let all = sink
        .until("the confirmation", |m| count(m, "Your account was erased") == 1)
        .await;
    let confirmation = all.iter().find(|m| m.subject == "Your account was erased").unwrap();
    assert_eq!(confirmation.to, [email]);
    assert!(confirmation.body.contains("SleepyOwl"), "{confirmation:?}");
    let given_up = [("kind", "erasure_confirmed"), ("outcome", "given_up")];
    let started = Instant::now();
    while value(&scrape(&server).await, "vigil_mail_failed_total", &given_up) < 1.0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the refused confirmation was not given up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing is left: sent rows went, the erased person's failed notice went with their
    // erasure, and the refused confirmation (an erased person's sealed address) went too.
    let started = Instant::now();
    while outbox_rows(&backend).await > 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "rows left in the outbox");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logs = server.stop();
    for address in [email, bounce] {
        assert_eq!(leak(&logs, address), None);
    }
}

/// Rows in the outbox, straight from the read database.
async fn outbox_rows(backend: &Backend) -> i64 {
    match backend {
        Backend::Sqlite(dir) => {
            let url = format!("sqlite://{}", dir.join("read.db").display());
            let pool = sqlx::sqlite::SqlitePoolOptions::new().connect(&url).await.unwrap();
            let n = sqlx::query_scalar("select count(*) from mail_outbox")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n
        }
        Backend::Postgres(url) => {
            let pool = sqlx::postgres::PgPoolOptions::new().connect(url).await.unwrap();
            let n = sqlx::query_scalar("select count(*) from vigil_read.mail_outbox")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inactivity_notice_and_the_erasure_confirmation_are_mailed_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    inactivity_is_mailed(Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inactivity_notice_and_the_erasure_confirmation_are_mailed_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    inactivity_is_mailed(Backend::Postgres(url)).await;
}
