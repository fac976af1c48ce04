//! `vigil verify` on an auditor's copy holding nothing but `events.db`: it needs no key and
//! writes nothing into what it verifies (no dev key, no vault, no lock file, no `-wal`), for a
//! good copy and for a tampered one, even in a directory nobody may write.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{assert_refused, vigil};

/// Every file in `dir` with its bytes and mode: what must not change.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let meta = std::fs::metadata(&path).unwrap();
            #[cfg(unix)]
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
            #[cfg(not(unix))]
            let mode = 0;
            (path.clone(), (std::fs::read(&path).unwrap(), mode))
        })
        .collect()
}

/// A dev store made the way a new user makes one, and a copy of its log alone.
fn audit_copy(root: &Path, name: &str) -> PathBuf {
    let live = root.join("vigil-data");
    if !live.join("events.db").exists() {
        let run = vigil(root, &["seed", "--subjects", "3", "--events-per-subject", "20"], &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let copy = root.join(name);
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(live.join("events.db"), copy.join("events.db")).unwrap();
    copy
}

fn verify(root: &Path, copy: &Path, env: &[(&str, &str)]) -> crate::Run {
    vigil(root, &["--data-dir", copy.to_str().unwrap(), "verify"], env)
}

#[test]
fn verify_on_a_copy_of_the_log_alone_needs_no_key_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let copy = audit_copy(root.path(), "audit");
    let before = snapshot(&copy);
    assert_eq!(before.len(), 1);

    let run = verify(root.path(), &copy, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("chain intact: 60 events, head "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\nmerkle tree intact: 60 leaves, root "),
        "the tree is checked too: {}",
        run.stdout
    );
    assert!(!run.stderr.contains("generated"), "no key is generated: {}", run.stderr);
    assert_eq!(snapshot(&copy), before, "verify changed the directory it verified");

    // A master key in the environment is not read, not even to be checked.
    let run = verify(root.path(), &copy, &[("VIGIL_MASTER_KEY", "not base64!")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(snapshot(&copy), before);
}

#[test]
fn verify_works_where_nothing_may_be_written() {
    let root = tempfile::tempdir().unwrap();
    let copy = audit_copy(root.path(), "sealed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(copy.join("events.db"), std::fs::Permissions::from_mode(0o400)).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o500)).unwrap();
    }
    let before = snapshot(&copy);
    let run = verify(root.path(), &copy, &[]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("chain intact: 60 events"), "{}", run.stdout);
    assert_eq!(snapshot(&copy), before);
}

#[test]
fn a_tampered_copy_is_reported_and_left_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let copy = audit_copy(root.path(), "tampered");
    {
        let conn = rusqlite::Connection::open(copy.join("events.db")).unwrap();
        conn.execute_batch(
            "drop trigger events_refuse_update;
             update events set ciphertext = zeroblob(length(ciphertext)) where position = 42;",
        )
        .unwrap();
    }
    // Closing the tampering connection folded its write-ahead log back: the copy is one file.
    let before = snapshot(&copy);
    assert_eq!(before.len(), 1, "{:?}", before.keys());

    let run = verify(root.path(), &copy, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("chain broken at position 42: hash mismatch"),
        "{}",
        run.stdout
    );
    assert_eq!(snapshot(&copy), before);
}

#[test]
fn a_tampered_merkle_node_is_named_and_the_copy_left_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let copy = audit_copy(root.path(), "tree");
    {
        let conn = rusqlite::Connection::open(copy.join("events.db")).unwrap();
        conn.execute_batch(
            "drop trigger merkle_nodes_refuse_update;
             update merkle_nodes set hash = zeroblob(32) where level = 4 and idx = 1;",
        )
        .unwrap();
    }
    let before = snapshot(&copy);
    let run = verify(root.path(), &copy, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("chain intact: 60 events"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("merkle tree broken at position 17 (level 4, index 1): a stored Merkle subtree"),
        "{}",
        run.stdout
    );
    assert_eq!(snapshot(&copy), before);
}

#[test]
fn verify_of_a_directory_without_a_log_creates_nothing() {
    let root = tempfile::tempdir().unwrap();
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_refused(&verify(root.path(), &empty, &[]), "holds no event log");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    let missing = root.path().join("missing");
    assert_refused(&verify(root.path(), &missing, &[]), "holds no event log");
    assert!(!missing.exists());
}
