use std::path::Path;

use crate::{KEY_A, KEY_B, json_lines, vigil};

/// The README's five-minute tour, checked: migrate, seed, verify, events, shred, rotate.
fn tour(dir: &Path, env: &[(&str, &str)], rotate_env: &[(&str, &str)]) {
    let run = vigil(dir, &["migrate"], env);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let run = vigil(
        dir,
        &["seed", "--subjects", "5", "--events-per-subject", "40", "--seed", "3"],
        env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("log head is now position 200"), "{}", run.stdout);

    let run = vigil(dir, &["verify"], env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("chain intact: 200 events, head "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("merkle tree intact: 200 leaves, root "),
        "{}",
        run.stdout
    );

    let events = json_lines(&vigil(dir, &["events", "--limit", "3"], env).stdout);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["position"], 1);
    assert!(events[0]["payload"].is_object());
    for field in [
        "event_id",
        "stream_id",
        "stream_version",
        "subject",
        "event_type",
        "schema_version",
        "recorded_at",
        "key_id",
        "prev_hash",
        "hash",
    ] {
        assert!(!events[0][field].is_null(), "missing {field}");
    }
    let subject = events[0]["subject"].as_str().unwrap().to_string();

    let mine = json_lines(&vigil(dir, &["events", "--subject", &subject], env).stdout);
    assert_eq!(mine.len(), 40);
    let stream = mine[0]["stream_id"].as_str().unwrap().to_string();
    let one_stream = json_lines(&vigil(dir, &["events", "--stream", &stream, "--from", "1"], env).stdout);
    assert!(one_stream.iter().all(|e| e["stream_id"] == stream.as_str()));

    let run = vigil(dir, &["keys", "shred", "--subject", &subject], env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("1 key version(s) destroyed"), "{}", run.stdout);
    let erased = json_lines(&vigil(dir, &["events", "--subject", &subject], env).stdout);
    assert_eq!(erased.len(), 40);
    assert!(erased.iter().all(|e| e["erased"] == true && e.get("payload").is_none()));

    let run = vigil(dir, &["verify"], env);
    assert!(
        run.stdout.starts_with("chain intact: 201 events"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("merkle tree intact: 201 leaves"), "{}", run.stdout);

    let run = vigil(dir, &["keys", "rotate-master"], rotate_env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("4 data key(s) re-wrapped") || run.stdout.contains("5 data key(s) re-wrapped"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_cli_tour_works_on_the_sqlite_default() {
    let dir = tempfile::tempdir().unwrap();
    tour(dir.path(), &[], &[]);
    let key = dir.path().join("vigil-data/master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        let data = dir.path().join("vigil-data");
        assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    }
    // After rotation the replaced dev key still opens the store.
    let run = vigil(dir.path(), &["verify"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_tour_works_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = [("VIGIL_DATABASE_URL", url.as_str()), ("VIGIL_MASTER_KEY", KEY_A)];
    let rotate = [
        ("VIGIL_DATABASE_URL", url.as_str()),
        ("VIGIL_MASTER_KEY", KEY_A),
        ("VIGIL_NEW_MASTER_KEY", KEY_B),
    ];
    tour(dir.path(), &env, &rotate);
    // The old key is refused from now on; the new one works.
    let run = vigil(dir.path(), &["events", "--limit", "1"], &env);
    crate::assert_refused(&run, "retired");
    let run = vigil(
        dir.path(),
        &["verify"],
        &[("VIGIL_DATABASE_URL", url.as_str()), ("VIGIL_MASTER_KEY", KEY_B)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Verifying needs no key at all: the chain covers ciphertext.
    let run = vigil(dir.path(), &["verify"], &[("VIGIL_DATABASE_URL", url.as_str())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("chain intact: "), "{}", run.stdout);
    assert!(
        !dir.path().join("vigil-data").exists(),
        "a Postgres store writes nothing locally"
    );
}

#[test]
fn verify_names_the_position_of_a_tampered_event() {
    let dir = tempfile::tempdir().unwrap();
    let run = vigil(
        dir.path(),
        &["seed", "--subjects", "3", "--events-per-subject", "30"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let db = dir.path().join("vigil-data/events.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::{ConnectOptions, Executor};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(&db).connect().await.unwrap();
        conn.execute("drop trigger events_refuse_update").await.unwrap();
        conn.execute("update events set ciphertext = substr(ciphertext, 1, 4) || (case when substr(ciphertext, 5, 1) = x'00' then x'01' else x'00' end) || substr(ciphertext, 6) where position = 57").await.unwrap();
    });
    let run = vigil(dir.path(), &["verify"], &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("chain broken at position 57: hash mismatch"),
        "{}",
        run.stdout
    );
}
