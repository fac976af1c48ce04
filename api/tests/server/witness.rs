//! A witness as a real second process: `vigil witness new-key` makes its key, a log server
//! accepts its cosignatures (`--witness-key`), `vigil witness --once` trusts the first
//! checkpoint, cosigns, and the served checkpoint then carries a cosignature that verifies
//! ("witnessed"); the next round checks consistency with what it saw. A forked or shrunk
//! history and a checkpoint signed by another key are refused (exit 1, nothing cosigned),
//! and the log refuses a note no configured witness cosigned.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use vigil_proofs::note::{Note, VerifierKey};

use crate::harness::{Backend, Server, sqlite_dir};
use crate::signin::register;

/// `(stdout, stderr, exit code)` of the binary.
fn vigil(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil")).args(args).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// A new key by `vigil <what> new-key`: the secret written to `file`, the verifier line.
fn new_key(what: &str, name: &str, file: &Path) -> String {
    let (secret, stderr, code) = vigil(&[what, "new-key", "--name", name]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(file, secret).unwrap();
    stderr.lines().last().unwrap().trim().to_owned()
}

async fn get(server: &Server, path: &str) -> (u16, String) {
    let res = reqwest::get(format!("{}{path}", server.url)).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The size of the newest checkpoint once it is at least `size`.
async fn signed(server: &Server, size: u64) -> u64 {
    let started = Instant::now();
    loop {
        let (status, body) = get(server, "/checkpoint").await;
        let got = body.lines().nth(1).and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
        if status == 200 && got >= size {
            return got;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no checkpoint of {size}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_cosigns_what_is_consistent_and_refuses_a_fork_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    witness(&Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_cosigns_what_is_consistent_and_refuses_a_fork_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    witness(&Backend::Postgres(url)).await;
}

async fn witness(backend: &Backend) {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("witness.key");
    let witness_line = new_key("witness", "witness.test.invalid", &key_file);
    let witness_key = VerifierKey::parse(&witness_line).unwrap();
    let server = Server::start_with(
        backend,
        &["--checkpoint-every", "1s", "--witness-key", &witness_line],
        &[],
    );
    register(&server, "gil@example.org").await;
    let first = signed(&server, 1).await;
    let log_key = get(&server, "/checkpoint/key").await.1.trim().to_owned();
    let state = keys.path().join("state");
    let run = |state: &Path, log_key: &str| {
        vigil(&[
            "witness",
            "--log-url",
            &server.url,
            "--log-key",
            log_key,
            "--witness-key-file",
            key_file.to_str().unwrap(),
            "--state-file",
            state.to_str().unwrap(),
            "--once",
        ])
    };

    let (out, err, code) = run(&state, &log_key);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("trusting on first use"), "{out}");
    let cosigned: u64 = out.trim().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(cosigned >= first, "{out}");
    let (_, served) = get(&server, &format!("/checkpoint/{cosigned}")).await;
    let note = Note::parse(served.as_bytes()).unwrap();
    assert!(note.verify(&witness_key).is_ok(), "witnessed: {served}");

    // More events, a newer checkpoint: consistent with the last one, cosigned again.
    register(&server, "hal@example.org").await;
    let next = signed(&server, cosigned + 1).await;
    assert!(next > cosigned);
    let (out, err, code) = run(&state, &log_key);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("consistent with tree size {cosigned}")), "{out}");
    assert!(out.contains("cosigned tree size "), "{out}");

    // A state claiming another root at a size: the log forked. One claiming more: it shrank.
    let forked = keys.path().join("forked");
    let latest = signed(&server, next).await;
    std::fs::write(&forked, format!("{latest} {}\n", "A".repeat(43) + "=")).unwrap();
    let (out, _, code) = run(&forked, &log_key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused:"), "{out}");
    let ahead = keys.path().join("ahead");
    std::fs::write(&ahead, format!("{} {}\n", latest + 1_000, "A".repeat(43) + "=")).unwrap();
    let (out, _, code) = run(&ahead, &log_key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("shrank"), "{out}");
    // A checkpoint that is not signed by the key the witness was given.
    let other = new_key("checkpoint", "test.vigil.invalid/vigil/1", &keys.path().join("other"));
    let (out, _, code) = run(&keys.path().join("fresh"), &other);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not verify"), "{out}");
    assert!(
        !keys.path().join("fresh").exists(),
        "nothing recorded for a refused checkpoint"
    );

    // The log takes only cosignatures of configured witnesses.
    let (_, plain) = get(&server, &format!("/checkpoint/{first}")).await;
    let res = reqwest::Client::new()
        .post(format!("{}/checkpoint/cosign", server.url))
        .body(plain.lines().take(5).collect::<Vec<_>>().join("\n") + "\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let logs = server.stop();
    let secret = std::fs::read_to_string(&key_file).unwrap();
    assert!(!logs.contains(secret.trim()), "the witness key is never logged");
}
