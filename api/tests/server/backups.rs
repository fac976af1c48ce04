//! `serve --backup-every`: two real servers on one store (a SQLite data dir, a Postgres
//! database) both run the backup job, and between them take one set per interval, each recorded
//! once in the log, and rotation keeps the day's newest; the metrics then show a fresh backup
//! age. A schedule without a backup dir or
//! recipients is refused at start.

use std::path::Path;
use std::time::Duration;

use crate::harness::{Backend, Server, sqlite_dir};
use crate::signin::register;

fn keygen(dir: &Path, name: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["backup", "keygen"])
        .output()
        .unwrap();
    std::fs::write(dir.join(name), &out.stdout).unwrap();
    String::from_utf8_lossy(&out.stderr)
        .trim()
        .trim_start_matches("Public key: ")
        .to_owned()
}

/// The `BackupCreated` records in the log: (set id, when), in log order.
fn recorded(backend: &Backend) -> Vec<(String, time::OffsetDateTime)> {
    crate::harness::cli(backend, &["events"])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event_type"] == "BackupCreated")
        .map(|e| {
            let p = &e["payload"];
            let at = time::OffsetDateTime::parse(
                p["at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            (p["id"].as_str().unwrap().to_owned(), at)
        })
        .collect()
}

async fn one_set_per_interval(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let log_r = keygen(keys.path(), "log.key");
    let vault_r = keygen(keys.path(), "vault.key");
    let sets = keys.path().join("sets");
    let sets_arg = sets.to_string_lossy().into_owned();
    let schedule = [
        "--backup-every",
        "3s",
        "--backup-dir",
        &sets_arg,
        "--recipient",
        &log_r,
        "--vault-recipient",
        &vault_r,
    ];
    let mut with_metrics = schedule.to_vec();
    with_metrics.extend(["--metrics-listen", "127.0.0.1:0"]);
    let a = Server::start_with(&backend, &with_metrics, &[]);
    let b = Server::start_with(&backend, &schedule, &[]);
    register(&a, "bea@example.org").await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let scrape = crate::metrics::scrape(&a).await;
    let logs = format!("{}\n{}", a.stop(), b.stop());

    let records = recorded(&backend);
    let on_disk: Vec<String> = std::fs::read_dir(&sets)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(records.len() >= 2, "{records:?}\n{logs}");
    assert!(records.len() <= 4, "more sets than 11 s / 3 s allows: {records:?}");
    let mut ids: Vec<&String> = records.iter().map(|(id, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), records.len(), "a set recorded twice: {records:?}");
    // Rotation keeps the newest set of each day: of these, the last one.
    assert_eq!(on_disk, vec![records.last().unwrap().0.clone()], "{records:?}");
    for pair in records.windows(2) {
        assert!(
            pair[1].1 - pair[0].1 >= Duration::from_secs(3),
            "two sets within one interval: {records:?}"
        );
    }
    assert!(sets.join("erasure-ledger.json").is_file());
    let age: f64 = scrape
        .lines()
        .find_map(|l| l.strip_prefix("vigil_backup_age_seconds "))
        .unwrap_or_else(|| panic!("no backup age in {scrape}"))
        .trim()
        .parse()
        .unwrap();
    assert!(age < 10.0, "backup age {age}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_sqlite_dir_take_one_set_per_interval() {
    let (_tmp, dir) = sqlite_dir();
    one_set_per_interval(Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_take_one_set_per_interval() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    one_set_per_interval(Backend::Postgres(url)).await;
}

#[test]
fn a_schedule_without_a_dir_or_recipients_is_refused_at_start() {
    let (_tmp, dir) = sqlite_dir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("--data-dir")
        .arg(&dir)
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--backup-every", "1h"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--backup-every needs --backup-dir"));
}
