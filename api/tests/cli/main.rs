//! End-to-end tests of the `vigil` binary: the README's CLI tour and every bad input the
//! contract names, each answered by one clear line and a non-zero exit, never a panic.

// A test crate: a failed expectation should panic with the value in the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit_bundle;
mod audit_copy;
mod backup;
mod bad_input;
mod checkpoint_key;
mod mail_settings;
mod tour;

use std::path::Path;
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `vigil` with a clean environment (no inherited VIGIL_* variables) in `cwd`.
pub fn vigil(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.current_dir(cwd).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("VIGIL_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let Output { status, stdout, stderr } = cmd.output().expect("run vigil");
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "vigil panicked: {}", run.stderr);
    run
}

/// A refused command: non-zero exit, and the message names the problem on one line.
#[track_caller]
pub fn assert_refused(run: &Run, needle: &str) {
    assert_ne!(run.code, 0, "expected failure, got success: {}", run.stdout);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert!(!errors.is_empty(), "no error line in: {}", run.stderr);
    assert!(
        errors.iter().any(|l| l.contains(needle)),
        "expected {needle:?} in: {}",
        run.stderr
    );
}

pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect()
}

pub const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const KEY_B: &str = "HxAREhMUFRYXGBkaGxwdHh8AAQIDBAUGBwgJCgsMDQ4=";
/// A checkpoint signer key made for the tests (`vigil checkpoint new-key`); a secret nowhere.
pub const CHECKPOINT_KEY: &str =
    "PRIVATE+KEY+test.vigil.invalid/vigil/1+5b8ed5ed+AR5JNcYtui2rtWyFCYNza0OrDSHgK6OG5Tce2cP61EQX";
