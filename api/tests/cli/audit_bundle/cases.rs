//! The cases: each attack on a stored log behind the database's back after the auditor's pin,
//! then export and verify; good bundles; malformed input; an export from a copy of the log.

use std::path::{Path, PathBuf};

use sqlx::Executor;
use uuid::Uuid;
use vigil_proofs::bundle::{BundleEvent, HexHash};
use vigil_proofs::chain::genesis;
use vigil_proofs::merkle::{CompactRange, leaf_hash};

use super::{Conn, Log, assert_fails, assert_proves, close, exec, insert_event, set_head, verify_in};
use crate::vigil;

/// 60 events signed (the auditor's pin), 60 more signed again.
async fn two_checkpoints(log: &Log) -> (PathBuf, PathBuf) {
    log.seed(1);
    let pin60 = log.sign("pin60");
    log.seed(2);
    let pin120 = log.sign("pin120");
    (pin60, pin120)
}

async fn good_bundles_verify(log: Log) {
    let (pin60, pin120) = two_checkpoints(&log).await;
    let full = log.export(&[], "full.json");
    assert_proves(&log.verify(&full, None));
    let run = log.verify(&full, Some(&pin60));
    assert_proves(&run);
    for line in [
        "proved: test.vigil.invalid/vigil/1 from size 0 to size 120\n",
        "events: 120 (positions 1..=120)",
        "checkpoints: 2 signed by test.vigil.invalid/vigil/1+",
        "pinned 60: the bundle gives the pinned root",
    ] {
        assert!(run.stdout.contains(line), "{line:?} in {}", run.stdout);
    }
    let tail = log.export(&["--from-size", "60"], "tail.json");
    let run = log.verify(&tail, Some(&pin60));
    assert_proves(&run);
    assert!(run.stdout.contains("consistency 60->120: proved"), "{}", run.stdout);
    assert!(run.stdout.contains("events: 60 (positions 61..=120)"), "{}", run.stdout);
    assert_proves(&log.verify(&tail, Some(&pin120)));
    let head = log.export(&["--to-size", "60"], "head.json");
    assert_proves(&log.verify(&head, Some(&pin60)));
    // Sizes that are not recorded checkpoints are refused, naming the nearest.
    for (flag, size) in [("--from-size", "61"), ("--to-size", "100")] {
        let out = log.path("refused.json");
        let run = log.run(&["audit", "export", flag, size, "-o", out.to_str().unwrap()]);
        crate::assert_refused(&run, "is not a recorded checkpoint size (nearest recorded: 60 and 120)");
        assert!(!out.exists(), "no partial bundle is left");
    }
    // The bundle holds no plaintext and no key: only what the chain covers.
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(!text.contains("PRIVATE"), "no key in a bundle");
}

async fn an_altered_ciphertext_is_named(log: Log) {
    let (_, pin120) = two_checkpoints(&log).await;
    let conn = log.tamper().await;
    let ct: Vec<u8> = on!(&conn, p => sqlx::query_scalar("select ciphertext from events where position = 42")
        .fetch_one(p).await.unwrap());
    let mut ct = ct;
    ct[3] ^= 1;
    on!(&conn, p => { sqlx::query("update events set ciphertext = $1 where position = 42").bind(ct).execute(p).await.unwrap(); });
    close(conn).await;
    let bundle = log.export(&[], "b.json");
    assert_fails(&log.verify(&bundle, Some(&pin120)), "position 42: hash mismatch");
}

/// Deletes event 30 and re-chains, re-trees and re-signs everything after it with the key.
async fn a_full_rewrite_fails_the_pin(log: Log) {
    let (pin60, _) = two_checkpoints(&log).await;
    let before = log.export(&[], "before.json");
    let mut events = Log::events(&before);
    events.remove(29);
    let mut prev = genesis();
    let mut range = CompactRange::new();
    let mut nodes = Vec::new();
    for (i, e) in events.iter_mut().enumerate() {
        e.position = i as u64 + 1;
        e.prev_hash = HexHash(prev);
        e.hash = HexHash(e.link_hash(&prev));
        prev = e.hash.0;
        range.push(leaf_hash(&e.hash.0), |node, hash| {
            if node.level >= 4 {
                nodes.push((node.level, node.index, *hash));
            }
        });
    }
    let conn = log.tamper().await;
    exec(&conn, "delete from events where position >= 30").await;
    exec(&conn, "delete from merkle_nodes").await;
    exec(&conn, "delete from cosignatures").await;
    exec(&conn, "delete from checkpoints").await;
    for e in &events[29..] {
        insert_event(&conn, e).await;
    }
    for (level, index, hash) in &nodes {
        let (level, index) = (i64::from(*level) as i32, *index as i64);
        match &conn {
            // SQLite keys its nodes by the size that completes them (migration 0005).
            Conn::Lite(p) => {
                sqlx::query("insert into merkle_nodes (done, level, idx, hash) values ($1, $2, $3, $4)")
                    .bind((index + 1) << level)
                    .bind(level)
                    .bind(index)
                    .bind(hash.to_vec())
                    .execute(p)
                    .await
                    .unwrap();
            }
            Conn::Pg(p) => {
                sqlx::query("insert into merkle_nodes (level, idx, hash) values ($1, $2, $3)")
                    .bind(level)
                    .bind(index)
                    .bind(hash.to_vec())
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
    }
    set_head(&conn, events.len() as u64, &prev).await;
    close(conn).await;
    log.sign("resigned");
    let bundle = log.export(&[], "after.json");
    // The rewritten log is consistent with itself and signed: only the pin tells.
    assert_proves(&log.verify(&bundle, None));
    let run = log.run(&["verify"]);
    assert_eq!(
        run.code, 0,
        "the store's own check sees nothing: {}{}",
        run.stdout, run.stderr
    );
    assert_fails(&log.verify(&bundle, Some(&pin60)), "pinned 60: root mismatch");
}

async fn a_dropped_tail_fails_the_pin(log: Log) {
    let (pin60, pin120) = two_checkpoints(&log).await;
    let before = Log::events(&log.export(&[], "before.json"));
    let conn = log.tamper().await;
    exec(&conn, "delete from events where position > 90").await;
    for level in 4..=40u32 {
        on!(&conn, p => {
            sqlx::query("delete from merkle_nodes where level = $1 and idx >= $2")
                .bind(level as i32).bind((90u64 >> level) as i64).execute(p).await.unwrap();
        });
    }
    exec(&conn, "delete from cosignatures where size > 90").await;
    exec(&conn, "delete from checkpoints where size > 90").await;
    set_head(&conn, 90, &before[89].hash.0).await;
    close(conn).await;
    log.sign("pin90");
    let bundle = log.export(&[], "after.json");
    assert_proves(&log.verify(&bundle, Some(&pin60)));
    assert_fails(
        &log.verify(&bundle, Some(&pin120)),
        "pinned 120: beyond the bundle's to_size 90",
    );
}

async fn a_reorder_is_named(log: Log) {
    let (_, pin120) = two_checkpoints(&log).await;
    let before = Log::events(&log.export(&[], "before.json"));
    let conn = log.tamper().await;
    exec(&conn, "delete from events where position in (10, 11)").await;
    let (a, b) = (before[9].clone(), before[10].clone());
    insert_event(&conn, &BundleEvent { position: 10, ..b }).await;
    insert_event(&conn, &BundleEvent { position: 11, ..a }).await;
    close(conn).await;
    let bundle = log.export(&[], "after.json");
    assert_fails(&log.verify(&bundle, Some(&pin120)), "position 10: broken link");
}

/// Two logs from one prefix and one key, each extended its own way to the same size.
async fn a_fork_fails_the_pin(log: Log) {
    log.seed(1);
    let pin60 = log.sign("pin60");
    let pg = match &log.pg {
        None => None,
        Some(url) => Some(pg_copy(url).await),
    };
    let other = Log {
        dir: tempfile::tempdir().unwrap(),
        pg,
    };
    if log.pg.is_none() {
        copy_dir(&log.path("vigil-data"), &other.path("vigil-data"));
    }
    log.seed(2);
    let pin = log.sign("pin120");
    other.seed(3);
    other.sign("other120");
    let bundle = other.export(&[], "fork.json");
    assert_proves(&other.verify(&bundle, None));
    assert_proves(&other.verify(&bundle, Some(&pin60)));
    assert_fails(&other.verify(&bundle, Some(&pin)), "pinned 120: root mismatch");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A new database holding a copy of the one at `url` (Postgres's `template`).
async fn pg_copy(url: &str) -> String {
    use sqlx::ConnectOptions;
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let source = options.get_database().unwrap().to_owned();
    let name = format!("vigil_t_{}", Uuid::new_v4().simple());
    let admin_url = vigil_tests::pg_url().unwrap();
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin_url)
        .await
        .unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!("create database {name} template {source}")))
        .await
        .unwrap();
    admin.close().await;
    options.database(&name).to_url_lossy().to_string()
}

async fn an_erasure_changes_nothing(log: Log) {
    log.seed(1);
    let pin = log.sign("pin60");
    let events = Log::events(&log.export(&[], "before.json"));
    let subject = events
        .iter()
        .find(|e| e.stream_id.starts_with("seed-"))
        .map(|e| Uuid::from_bytes(e.subject.0))
        .unwrap();
    let run = log.run(&["keys", "shred", "--subject", &subject.to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    log.sign("after");
    let bundle = log.export(&[], "after.json");
    assert_proves(&log.verify(&bundle, Some(&pin)));
    let from_pin = log.export(&["--from-size", "60"], "from-pin.json");
    assert_proves(&log.verify(&from_pin, Some(&pin)));
}

macro_rules! both {
    ($case:ident, $lite:ident, $pg:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $lite() {
            $case(Log::new(false).await.unwrap()).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            if let Some(log) = Log::new(true).await {
                $case(log).await;
            }
        }
    };
}

both!(
    good_bundles_verify,
    good_bundles_verify_sqlite,
    good_bundles_verify_postgres
);
both!(
    an_altered_ciphertext_is_named,
    altered_ciphertext_sqlite,
    altered_ciphertext_postgres
);
both!(a_full_rewrite_fails_the_pin, full_rewrite_sqlite, full_rewrite_postgres);
both!(a_dropped_tail_fails_the_pin, dropped_tail_sqlite, dropped_tail_postgres);
both!(a_reorder_is_named, reorder_sqlite, reorder_postgres);
both!(a_fork_fails_the_pin, fork_sqlite, fork_postgres);
both!(an_erasure_changes_nothing, erasure_sqlite, erasure_postgres);

#[test]
fn malformed_input_exits_4_and_verify_touches_no_data_dir() {
    let log = Log {
        dir: tempfile::tempdir().unwrap(),
        pg: None,
    };
    log.seed(1);
    let pin = log.sign("pin");
    let bundle = log.export(&[], "b.json");
    let text = std::fs::read_to_string(&bundle).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let p = elsewhere.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let truncated = write("truncated.json", &text[..text.len() / 2]);
    let reordered = write(
        "reordered.json",
        &text.replacen("{\"format\"", "{\"extra\":1,\"format\"", 1),
    );
    let garbage = write("garbage.json", "not json");
    for file in [&truncated, &reordered, &garbage, &elsewhere.path().join("missing.json")] {
        let run = verify_in(elsewhere.path(), file, None);
        assert_eq!(run.code, 4, "{}: {}{}", file.display(), run.stdout, run.stderr);
    }
    let bad_pin = write("pin.txt", "not a note");
    assert_eq!(verify_in(elsewhere.path(), &bundle, Some(&bad_pin)).code, 4);
    let run = vigil(
        elsewhere.path(),
        &["audit", "verify", bundle.to_str().unwrap(), "--key", "nonsense"],
        &[],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    let run = vigil(elsewhere.path(), &["audit", "verify", bundle.to_str().unwrap()], &[]);
    assert_eq!(run.code, 2, "clap's usage error: {}", run.stderr);
    // The good bundle verifies from a directory with nothing in it, and leaves it empty.
    let run = verify_in(elsewhere.path(), &bundle, Some(&pin));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let names: Vec<_> = std::fs::read_dir(elsewhere.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        4,
        "verify created nothing (no vigil-data, no key): {names:?}"
    );
    assert!(!elsewhere.path().join("vigil-data").exists());
}

#[test]
fn export_from_a_copy_of_the_log_alone_needs_no_key_and_writes_nothing() {
    let log = Log {
        dir: tempfile::tempdir().unwrap(),
        pg: None,
    };
    log.seed(1);
    let pin = log.sign("pin");
    let copy = log.path("audit");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(log.path("vigil-data/events.db"), copy.join("events.db")).unwrap();
    let before = std::fs::read(copy.join("events.db")).unwrap();
    let out = log.path("b.json");
    let run = vigil(
        log.dir.path(),
        &[
            "--data-dir",
            copy.to_str().unwrap(),
            "audit",
            "export",
            "-o",
            out.to_str().unwrap(),
        ],
        &[("VIGIL_MASTER_KEY", "not base64!")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_dir(&copy).unwrap().count(), 1, "nothing beside events.db");
    assert_eq!(std::fs::read(copy.join("events.db")).unwrap(), before);
    assert_proves(&log.verify(&out, Some(&pin)));
    // To standard output too.
    let run = vigil(
        log.dir.path(),
        &["--data-dir", copy.to_str().unwrap(), "audit", "export", "-o", "-"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.as_bytes(), std::fs::read(&out).unwrap().as_slice());
}

/// A witness's cosignature line recorded beside a checkpoint rides along in the bundle, as
/// `/checkpoint/{size}` serves it, and is reported, and checked when its key is given.
async fn witness_lines_ride_along(log: Log) {
    use vigil_proofs::note::{Algorithm, Note, SignerKey, cosign};
    log.seed(1);
    let pin = log.sign("pin60");
    let witness = SignerKey::from_seed("witness.test.invalid", Algorithm::CosignatureV1, &[4; 32]).unwrap();
    let note = Note::parse(&std::fs::read(&pin).unwrap()).unwrap();
    let line = cosign(&note, &witness, 1_800_000_000).unwrap().to_line();
    let conn = log.tamper().await;
    on!(&conn, p => {
        sqlx::query("insert into cosignatures (size, key_id, line, added_at) values (60, $1, $2, 0)")
            .bind(i64::from(witness.key_id()))
            .bind(&line)
            .execute(p)
            .await
            .unwrap();
    });
    close(conn).await;
    let bundle = log.export(&[], "b.json");
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(text.contains(&line), "the line is in the bundle's note");
    let run = log.verify(&bundle, Some(&pin));
    assert_proves(&run);
    let seen = format!(
        "witness witness.test.invalid+{:08x}: cosigned 1 checkpoint(s), not checked",
        witness.key_id()
    );
    assert!(run.stdout.contains(&seen), "{}", run.stdout);
    let wkey = witness.verifier().to_string();
    let key = super::public_key();
    let args = [
        "audit",
        "verify",
        bundle.to_str().unwrap(),
        "--key",
        &key,
        "--witness",
        &wkey,
    ];
    let run = vigil(log.dir.path(), &args, &[]);
    assert_proves(&run);
    assert!(
        run.stdout.contains("cosigned 1 checkpoint(s), verified"),
        "{}",
        run.stdout
    );
}

both!(witness_lines_ride_along, witness_lines_sqlite, witness_lines_postgres);
