use crate::{KEY_A, KEY_B, assert_refused, vigil};

#[test]
fn unknown_flags_and_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = vigil(dir.path(), &["verify", "--frobnicate"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unexpected argument '--frobnicate'"),
        "{}",
        run.stderr
    );
    let run = vigil(
        dir.path(),
        &["seed", "--subjects", "0", "--events-per-subject", "1"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = vigil(dir.path(), &["keys", "shred", "--subject", "not-a-uuid"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for args in [
        &["accounts", "erase-inactive", "--today", "2026-13-01"][..],
        &["accounts", "erase-inactive", "--erase-inactive-after", "30"],
        &["serve", "--inactivity-check", "0m"],
        &["serve", "--inactivity-check", "1d"],
    ] {
        let run = vigil(dir.path(), args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
    assert!(!dir.path().join("vigil-data").exists(), "usage errors write nothing");
}

#[test]
fn a_malformed_database_url_is_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        &vigil(dir.path(), &["migrate", "--database-url", "mysql://x@y/z"], &[]),
        "must be a postgres:// URL",
    );
    assert_refused(
        &vigil(
            dir.path(),
            &["migrate", "--database-url", "postgres://u:secret@host:notaport/db"],
            &[],
        ),
        "malformed database URL",
    );
    let run = vigil(
        dir.path(),
        &["migrate", "--database-url", "postgres://u:secret@host:notaport/db"],
        &[],
    );
    assert!(!run.stderr.contains("secret"), "passwords never print: {}", run.stderr);
}

#[test]
fn a_postgres_store_refuses_to_start_without_an_explicit_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = vigil(
        dir.path(),
        &["events", "--limit", "1"],
        &[("VIGIL_DATABASE_URL", "postgres://vigil@127.0.0.1:1/vigil")],
    );
    assert_refused(&run, "needs an explicit master key");
}

#[test]
fn corrupt_and_conflicting_key_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        &vigil(
            dir.path(),
            &["events", "--limit", "1"],
            &[("VIGIL_MASTER_KEY", "not base64!")],
        ),
        "not valid base64",
    );
    assert_refused(
        &vigil(dir.path(), &["events", "--limit", "1"], &[("VIGIL_MASTER_KEY", "AAEC")]),
        "a master key is exactly 32 bytes",
    );
    let file = dir.path().join("key.txt");
    std::fs::write(&file, "garbage\n").unwrap();
    assert_refused(
        &vigil(
            dir.path(),
            &["events", "--limit", "1"],
            &[("VIGIL_MASTER_KEY_FILE", file.to_str().unwrap())],
        ),
        "not valid base64",
    );
    assert_refused(
        &vigil(
            dir.path(),
            &["events", "--limit", "1"],
            &[("VIGIL_MASTER_KEY_FILE", "/nonexistent/key")],
        ),
        "cannot read master key file",
    );
    assert_refused(
        &vigil(
            dir.path(),
            &["events", "--limit", "1"],
            &[
                ("VIGIL_MASTER_KEY", KEY_A),
                ("VIGIL_MASTER_KEY_FILE", file.to_str().unwrap()),
            ],
        ),
        "set only one of",
    );
}

#[test]
fn a_wrong_master_key_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = vigil(
        dir.path(),
        &["seed", "--subjects", "2", "--events-per-subject", "5"],
        &[("VIGIL_MASTER_KEY", KEY_A)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = vigil(
        dir.path(),
        &["seed", "--subjects", "2", "--events-per-subject", "5"],
        &[("VIGIL_MASTER_KEY", KEY_B)],
    );
    assert_refused(&run, "does not match this key vault");
    let run = vigil(dir.path(), &["verify"], &[("VIGIL_MASTER_KEY", KEY_A)]);
    assert!(
        run.stdout.starts_with("chain intact: 10 events"),
        "nothing was written: {}",
        run.stdout
    );
    // Without any key, a data dir that already has a vault is not given a fresh dev key.
    assert_refused(
        &vigil(dir.path(), &["events", "--limit", "1"], &[]),
        "holds a key vault but no master key",
    );
    assert!(!dir.path().join("vigil-data/master.key").exists());
}

#[test]
fn weak_or_reused_keys_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    let run = vigil(
        dir.path(),
        &serve,
        &[("VIGIL_MASTER_KEY", KEY_A), ("VIGIL_TOKEN_KEY", zero)],
    );
    assert_refused(&run, "refusing VIGIL_TOKEN_KEY: every byte is the same");
    let run = vigil(
        dir.path(),
        &serve,
        &[("VIGIL_MASTER_KEY", KEY_A), ("VIGIL_TOKEN_KEY", KEY_A)],
    );
    assert_refused(&run, "VIGIL_TOKEN_KEY equals the master key");
    assert!(!run.stderr.contains(KEY_A), "keys never print: {}", run.stderr);
}

#[test]
fn a_database_nobody_answers_at_fails_within_seconds_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let run = vigil(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            "postgres://vigil:hunter2@127.0.0.1:1/vigil",
        ],
        &[("VIGIL_MASTER_KEY", KEY_A)],
    );
    assert_refused(
        &run,
        "cannot connect to the database at postgres://vigil:***@127.0.0.1:1/vigil",
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    // Bounded by the 10 s connect timeout, not sqlx's 30 s default.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn listen_accepts_host_names_and_refuses_what_is_not_host_port() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["local host:80", "localhost", "localhost:http", ":80"] {
        let run = vigil(dir.path(), &["serve", "--dev", "--listen", bad], &[]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("expected HOST:PORT"), "{}", run.stderr);
    }
}
