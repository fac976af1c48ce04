//! The checkpoint key as an operator meets it: `checkpoint new-key` and `checkpoint
//! public-key`, production `serve` refusing a missing, malformed or reused key, and
//! `serve --dev` generating one into the data dir like its other dev secrets.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use vigil_proofs::note::{Algorithm, SignerKey, VerifierKey};

use crate::{KEY_A, KEY_B, assert_refused, vigil};

#[test]
fn new_key_prints_a_secret_and_public_key_prints_its_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let run = vigil(
        dir.path(),
        &["checkpoint", "new-key", "--name", "vigil.example.org/vigil/1"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let secret = run.stdout.trim();
    assert!(secret.starts_with("PRIVATE+KEY+vigil.example.org/vigil/1+"), "{secret}");
    assert_eq!(run.stdout.lines().count(), 1, "the secret alone on stdout");
    let signer = SignerKey::parse(secret).unwrap();
    assert_eq!(signer.algorithm(), Algorithm::Ed25519);

    let run = vigil(
        dir.path(),
        &["checkpoint", "public-key"],
        &[("VIGIL_CHECKPOINT_KEY", secret)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let vkey = VerifierKey::parse(run.stdout.trim()).unwrap();
    assert_eq!(vkey, signer.verifier());
    // The seed's base64 is everything after the fourth '+' (base64 has '+' of its own).
    let seed = secret.splitn(5, '+').nth(4).unwrap();
    assert!(seed.len() >= 40 && !run.stdout.contains(seed), "{seed}");

    // The same through a file.
    let file = dir.path().join("checkpoint.secret");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let run = vigil(
        dir.path(),
        &["checkpoint", "public-key"],
        &[("VIGIL_CHECKPOINT_KEY_FILE", file.to_str().unwrap())],
    );
    assert_eq!(run.stdout.trim(), vkey.to_string());

    assert_refused(
        &vigil(dir.path(), &["checkpoint", "new-key", "--name", "two words"], &[]),
        "cannot name a checkpoint key",
    );
    // Without a key, public-key says how to get one and makes none.
    assert_refused(
        &vigil(dir.path(), &["checkpoint", "public-key"], &[]),
        "no checkpoint key",
    );
    assert!(!dir.path().join("vigil-data").exists(), "key commands write nothing");
}

#[test]
fn production_serve_refuses_a_missing_malformed_or_reused_checkpoint_key() {
    let dir = tempfile::tempdir().unwrap();
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    let keys = [("VIGIL_MASTER_KEY", KEY_A), ("VIGIL_TOKEN_KEY", KEY_B)];
    assert_refused(&vigil(dir.path(), &serve, &keys), "needs VIGIL_CHECKPOINT_KEY");

    let garbage = "PRIVATE+KEY+n+00000000+c2VjcmV0LWJ5dGVz";
    let run = vigil(
        dir.path(),
        &serve,
        &[keys[0], keys[1], ("VIGIL_CHECKPOINT_KEY", garbage)],
    );
    assert_refused(&run, "VIGIL_CHECKPOINT_KEY is not a checkpoint signer key");
    assert!(
        !run.stderr.contains("c2VjcmV0LWJ5dGVz"),
        "keys never print: {}",
        run.stderr
    );

    // The master key's 32 bytes as the checkpoint key's seed.
    let master: [u8; 32] = base64_32(KEY_A);
    let reused = SignerKey::from_seed("n.example/vigil/1", Algorithm::Ed25519, &master).unwrap();
    let run = vigil(
        dir.path(),
        &serve,
        &[
            keys[0],
            keys[1],
            ("VIGIL_CHECKPOINT_KEY", reused.to_secret_text().as_str()),
        ],
    );
    assert_refused(&run, "refusing the checkpoint key: it holds the master key's secret");

    // A witness key is not a log key.
    let witness = SignerKey::from_seed("w.example/w", Algorithm::CosignatureV1, &base64_32(KEY_B)).unwrap();
    let run = vigil(
        dir.path(),
        &serve,
        &[
            keys[0],
            keys[1],
            ("VIGIL_CHECKPOINT_KEY", witness.to_secret_text().as_str()),
        ],
    );
    assert_refused(&run, "a log signs checkpoints with an Ed25519 (0x01) key");

    // An origin that is not the key's name.
    let run = vigil(
        dir.path(),
        &[&serve[..], &["--checkpoint-origin", "other.example/vigil/2"]].concat(),
        &[keys[0], keys[1], ("VIGIL_CHECKPOINT_KEY", crate::CHECKPOINT_KEY)],
    );
    assert_refused(&run, "is not the checkpoint key's name");
    assert!(
        !dir.path().join("vigil-data").exists(),
        "a refused start writes nothing"
    );
}

/// Decodes a base64 test key without another dependency in this crate.
fn base64_32(text: &str) -> [u8; 32] {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn serve_dev_generates_a_checkpoint_key_that_public_key_then_prints() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.current_dir(dir.path())
        .args(["serve", "--dev", "--listen", "127.0.0.1:0"])
        .args(["--checkpoint-origin", "dev.example/vigil/1"]);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VIGIL_")) {
        cmd.env_remove(k);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(line.starts_with("vigil listening on "), "{line}");

    let file = dir.path().join("vigil-data/checkpoint.key");
    let secret = std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let signer = SignerKey::parse(secret.trim()).unwrap();
    assert_eq!(signer.name(), "dev.example/vigil/1");
    let run = vigil(dir.path(), &["checkpoint", "public-key"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), signer.verifier().to_string());
}
