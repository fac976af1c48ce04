//! `vigil backup` end to end, on SQLite always and on Postgres when `VIGIL_TEST_PG_URL` is set
//! (with `CI=true` it must be): a set is taken, listed, opened with the Debian `age` CLI, drilled
//! and restored; a person erased after the set was taken stays erased in the restored store;
//! tampering, wrong identities, a shared recipient, a non-empty target and a missing erasure
//! ledger are each refused with one clear line.

use std::path::Path;
use std::process::Command;

use crate::{CHECKPOINT_KEY, KEY_A, Run, assert_refused, json_lines, vigil};

struct Store {
    dir: tempfile::TempDir,
    pg: Option<String>,
}

impl Store {
    async fn new(pg: bool) -> Option<Store> {
        let pg = if pg {
            Some(vigil_tests::fresh_pg_database().await?)
        } else {
            None
        };
        Some(Store {
            dir: tempfile::tempdir().unwrap(),
            pg,
        })
    }

    fn cwd(&self) -> &Path {
        self.dir.path()
    }

    /// The live store's flags: a dev SQLite data dir (its master key generated into it and
    /// carried in the vault archive), or Postgres with the master key from the environment.
    fn env(&self) -> Vec<(&str, &str)> {
        match &self.pg {
            Some(url) => vec![
                ("VIGIL_DATABASE_URL", url.as_str()),
                ("VIGIL_MASTER_KEY", KEY_A),
                ("VIGIL_CHECKPOINT_KEY", CHECKPOINT_KEY),
            ],
            None => vec![("VIGIL_DATA_DIR", "live")],
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        vigil(self.cwd(), args, &self.env())
    }
}

/// `backup drill` of the test's backup dir with both identities.
const DRILL: &[&str] = &[
    "backup",
    "drill",
    "--dir",
    "sets",
    "--identity",
    "log.key",
    "--identity",
    "vault.key",
];

fn keygen(cwd: &Path, name: &str) -> String {
    let run = vigil(cwd, &["backup", "keygen"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(cwd.join(name), &run.stdout).unwrap();
    run.stderr.trim().trim_start_matches("Public key: ").to_owned()
}

fn only_set(dir: &Path) -> std::path::PathBuf {
    let sets: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.path())
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    sets[0].clone()
}

/// `age -d -i KEY FILE | zstd -d | tar t`, as an operator without vigil would.
fn age_listing(age: &Path, key: &Path, archive: &Path) -> Result<String, String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" -d -i "$1" "$2" | zstd -d | tar t"#)
        .arg(age)
        .arg(key)
        .arg(archive)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

async fn round_trip(pg: bool) {
    let Some(live) = Store::new(pg).await else { return };
    let cwd = live.cwd();
    let seeded = live.run(&["seed", "--subjects", "8", "--events-per-subject", "25"]);
    assert_eq!(seeded.code, 0, "{}", seeded.stderr);
    let signed = live.run(&["checkpoint", "sign"]);
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    let log_r = keygen(cwd, "log.key");
    let vault_r = keygen(cwd, "vault.key");

    let create = |vault: &str| {
        live.run(&[
            "backup",
            "create",
            "--to",
            "sets",
            "--recipient",
            &log_r,
            "--vault-recipient",
            vault,
        ])
    };
    assert_refused(&create(&log_r), "recipient of both archives");
    let created = create(&vault_r);
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(created.stdout.contains("200 events"), "{}", created.stdout);
    let set = only_set(&cwd.join("sets"));
    let id = set.file_name().unwrap().to_string_lossy().into_owned();
    let listed = live.run(&["backup", "list", "--dir", "sets"]);
    assert!(
        listed.stdout.contains(&id) && listed.stdout.contains("none"),
        "{}",
        listed.stdout
    );

    // Each archive opens with the stock age CLI and its own identity only.
    if let Some(age) = vigil_tests::outside_tool("VIGIL_TEST_AGE", "ops/ci/ensure-age.sh", "the age CLI") {
        let log = age_listing(&age, &cwd.join("log.key"), &set.join("log.tar.zst.age")).unwrap();
        let vault = age_listing(&age, &cwd.join("vault.key"), &set.join("vault.tar.zst.age")).unwrap();
        if pg {
            assert!(
                log.contains("vigil.events.copy") && !log.contains("vigil_vault"),
                "{log}"
            );
            assert!(
                vault.contains("vigil_vault.data_keys.copy") && !vault.contains("vigil.events"),
                "{vault}"
            );
        } else {
            assert_eq!(log.trim(), "events.db");
            assert!(
                vault.contains("keys.db") && vault.contains("master.key") && !vault.contains("events.db"),
                "{vault}"
            );
        }
        let crossed = age_listing(&age, &cwd.join("vault.key"), &set.join("log.tar.zst.age")).unwrap_err();
        assert!(crossed.contains("no identity matched"), "{crossed}");
    }

    // A person erased after the set was taken.
    let events = json_lines(&live.run(&["events"]).stdout);
    let erased = events[0]["subject"].as_str().unwrap().to_owned();
    let shred = live.run(&["keys", "shred", "--subject", &erased]);
    assert_eq!(shred.code, 0, "{}", shred.stderr);

    let drill = live.run(DRILL);
    assert_eq!(drill.code, 0, "{}\n{}", drill.stdout, drill.stderr);
    for check in [
        "restore",
        "tables",
        "chain",
        "tree",
        "checkpoints",
        "read models",
        "erasures",
    ] {
        assert!(
            drill.stdout.contains(&format!("ok   {check}:")),
            "{check}: {}",
            drill.stdout
        );
    }
    assert!(
        drill
            .stdout
            .contains("1 subject(s) in the erasure ledger, 1 erased again"),
        "{}",
        drill.stdout
    );
    assert!(live.run(&["backup", "list", "--dir", "sets"]).stdout.contains("passed"));

    // Restore into an empty store: the erased person stays erased, the chain verifies.
    let Some(target) = Store::new(pg).await else { return };
    let target_env: Vec<(&str, &str)> = match &target.pg {
        Some(url) => vec![("VIGIL_DATABASE_URL", url.as_str()), ("VIGIL_MASTER_KEY", KEY_A)],
        None => vec![("VIGIL_DATA_DIR", "restored")],
    };
    let set_arg = set.to_string_lossy().into_owned();
    let wrong = vigil(
        cwd,
        &["backup", "restore", "--from", &set_arg, "--identity", "log.key"],
        &target_env,
    );
    assert_refused(&wrong, "wrong identity");
    let no_ledger_dir = tempfile::tempdir().unwrap();
    let copy = no_ledger_dir.path().join(&id);
    std::fs::create_dir(&copy).unwrap();
    for f in std::fs::read_dir(&set).unwrap().flatten() {
        std::fs::copy(f.path(), copy.join(f.file_name())).unwrap();
    }
    let copy_arg = copy.to_string_lossy().into_owned();
    let without = vigil(
        cwd,
        &[
            "backup",
            "restore",
            "--from",
            &copy_arg,
            "--identity",
            "log.key",
            "--identity",
            "vault.key",
        ],
        &target_env,
    );
    assert_refused(&without, "no erasure ledger");
    let args = [
        "backup",
        "restore",
        "--from",
        &set_arg,
        "--identity",
        "log.key",
        "--identity",
        "vault.key",
    ];
    let restored = vigil(cwd, &args, &target_env);
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert!(
        restored.stdout.contains("1 subject(s), 1 erased again"),
        "{}",
        restored.stdout
    );
    let verified = vigil(cwd, &["verify"], &target_env);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    let replay = json_lines(&vigil(cwd, &["events"], &target_env).stdout);
    let theirs: Vec<_> = replay.iter().filter(|e| e["subject"] == erased.as_str()).collect();
    assert!(
        !theirs.is_empty() && theirs.iter().all(|e| e["erased"] == true),
        "{theirs:?}"
    );
    let others = replay
        .iter()
        .filter(|e| e["subject"] != erased.as_str() && e["stream_id"].as_str().is_some_and(|s| s.starts_with("seed-")))
        .count();
    assert_eq!(others, 200 - theirs.len(), "every other seeded event restored readable");
    assert_refused(&vigil(cwd, &args, &target_env), "not empty");

    // Checkpoints signed by another key than this log's: the restored log is not ours.
    let other = vigil(
        cwd,
        &["checkpoint", "new-key", "--name", "test.vigil.invalid/vigil/1"],
        &[],
    );
    let mut env = live.env();
    env.push(("VIGIL_CHECKPOINT_KEY", other.stdout.trim()));
    let forged = vigil(cwd, DRILL, &env);
    assert_eq!(forged.code, 3, "{}\n{}", forged.stdout, forged.stderr);
    assert!(
        forged
            .stdout
            .contains("FAIL checkpoints: not signed by this log's checkpoint key at sizes [200]"),
        "{}",
        forged.stdout
    );

    // A flipped byte in an archive: the drill fails, names it, and says so in the list.
    let archive = set.join("log.tar.zst.age");
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&archive, bytes).unwrap();
    let tampered = live.run(DRILL);
    assert_eq!(tampered.code, 3, "{}\n{}", tampered.stdout, tampered.stderr);
    assert!(
        tampered.stdout.contains("FAIL restore") && tampered.stdout.contains("does not match the manifest"),
        "{}",
        tampered.stdout
    );
    assert!(live.run(&["backup", "list", "--dir", "sets"]).stdout.contains("FAILED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_set_is_taken_opened_drilled_and_restored_with_erasures_kept() {
    round_trip(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_set_is_taken_opened_drilled_and_restored_with_erasures_kept() {
    round_trip(true).await;
}

#[test]
fn bad_backup_input_is_refused_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let env = [("VIGIL_DATA_DIR", "live")];
    let vault_r = keygen(cwd, "vault.key");
    let bad = vigil(
        cwd,
        &[
            "backup",
            "create",
            "--to",
            "sets",
            "--recipient",
            "age1nope",
            "--vault-recipient",
            &vault_r,
        ],
        &env,
    );
    assert_refused(&bad, "not an age X25519 recipient");
    let none = vigil(
        cwd,
        &["backup", "create", "--to", "sets", "--vault-recipient", &vault_r],
        &env,
    );
    assert_refused(&none, "no recipient for the log archive");
    std::fs::write(cwd.join("secret.key"), "AGE-SECRET-KEY-1NOTAKEYATALL\n").unwrap();
    let identity = vigil(
        cwd,
        &["backup", "drill", "--dir", ".", "--identity", "secret.key"],
        &env,
    );
    assert_refused(&identity, "not an age X25519 identity");
    assert!(!identity.stderr.contains("NOTAKEYATALL"), "{}", identity.stderr);
    let missing = vigil(
        cwd,
        &["backup", "restore", "--from", "nowhere", "--identity", "vault.key"],
        &env,
    );
    assert_refused(&missing, "manifest.json");
    std::fs::create_dir(cwd.join("sets")).unwrap();
    let empty = vigil(
        cwd,
        &["backup", "drill", "--dir", "sets", "--identity", "vault.key"],
        &env,
    );
    assert_refused(&empty, "no backup set in");
    let unknown = vigil(
        cwd,
        &[
            "backup",
            "drill",
            "--dir",
            "sets",
            "--set",
            "2026",
            "--identity",
            "vault.key",
        ],
        &env,
    );
    assert_refused(&unknown, "no backup set 2026");
    let nothing = vigil(
        cwd,
        &[
            "backup",
            "create",
            "--to",
            "sets",
            "--recipient",
            &keygen(cwd, "l.key"),
            "--vault-recipient",
            &vault_r,
        ],
        &env,
    );
    assert_refused(&nothing, "holds no events.db");
}
