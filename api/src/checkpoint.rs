//! Signed checkpoints, the server's side: the log's checkpoint key, the signer, and the
//! periodic checkpoint job ([`job`]) that signs each Merkle root and records it.
//! Formats live in `vigil_proofs::note`; `docs/checkpoints.md` says why each choice.
//!
//! The key is a secret of its own (`VIGIL_CHECKPOINT_KEY` / `_FILE`, a signer key line
//! `PRIVATE+KEY+<origin>+<keyid>+<base64>`), never stored in a database, generated into the
//! data dir only by `serve --dev` ([`key`]). Must not log or print the secret: only the
//! verifier key line, the origin and the key id leave this module.

pub mod job;
pub mod key;

use vigil_proofs::note::{Algorithm, Checkpoint, NoteError, SignerKey, VerifierKey, open_checkpoint, sign_checkpoint};

/// The origin a dev key is generated for when `--checkpoint-origin` is not given. A real
/// deployment names its own host (`vigil.example.org/vigil/1`) in the key it provisions.
pub const DEFAULT_DEV_ORIGIN: &str = "localhost/vigil/1";

/// What can be wrong with the checkpoint key or its configuration. The secret itself never
/// appears in a message.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Production (no `--dev`) and neither variable set.
    #[error(
        "production mode needs VIGIL_CHECKPOINT_KEY or VIGIL_CHECKPOINT_KEY_FILE (a signer key line; \
         create one with `vigil checkpoint new-key --name <host>/vigil/1`); use --dev for a local trial"
    )]
    Missing,
    /// `--dev` with `--database-url`: a dev key is generated only in a SQLite data dir.
    #[error(
        "--dev generates a checkpoint key only in a SQLite data dir; with --database-url set \
         VIGIL_CHECKPOINT_KEY or VIGIL_CHECKPOINT_KEY_FILE (create one with `vigil checkpoint new-key --name <host>/vigil/1`)"
    )]
    MissingOnPostgres,
    /// Both `VIGIL_CHECKPOINT_KEY` and `VIGIL_CHECKPOINT_KEY_FILE` are set.
    #[error("set only one of VIGIL_CHECKPOINT_KEY and VIGIL_CHECKPOINT_KEY_FILE")]
    BothSet,
    /// The key file cannot be read.
    #[error("cannot read checkpoint key file {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The key does not parse as a signer key line; `source` says which part (never the
    /// key's text).
    #[error("{origin} is not a checkpoint signer key (PRIVATE+KEY+<name>+<keyid>+<base64>)")]
    Malformed {
        /// Where it came from: the variable or the file.
        origin: String,
        /// Why.
        #[source]
        source: NoteError,
    },
    /// A witness (cosigner, type 0x04) key where the log's Ed25519 key (type 0x01) belongs.
    #[error("{origin} holds a key of type {found:#04x}; a log signs checkpoints with an Ed25519 (0x01) key")]
    NotALogKey {
        /// Where it came from.
        origin: String,
        /// The key's type byte.
        found: u8,
    },
    /// The configured origin is not the key's name. The origin is the log's identity and the
    /// key is named after it; a new origin needs a new key (that is how keys rotate).
    #[error(
        "--checkpoint-origin {origin:?} is not the checkpoint key's name {name:?}; a key belongs to one \
         origin: create one for it with `vigil checkpoint new-key --name {origin}`"
    )]
    OriginMismatch {
        /// The configured origin.
        origin: String,
        /// The key's name.
        name: String,
    },
    /// A name (origin) a key cannot have.
    #[error(
        "{0:?} cannot name a checkpoint key: it must be non-empty, without spaces or '+' (such as vigil.example.org/vigil/1)"
    )]
    InvalidName(String),
    /// The checkpoint key's secret is the master or the token key's, or a placeholder.
    #[error("refusing the checkpoint key: {0}")]
    Refused(&'static str),
    /// No key could be found for a command that must not make one (`checkpoint public-key`).
    #[error(
        "no checkpoint key: set VIGIL_CHECKPOINT_KEY or VIGIL_CHECKPOINT_KEY_FILE, or run `vigil serve --dev` \
         once to generate a dev key in the data dir"
    )]
    NotFound,
    /// Writing a generated dev key failed, or the system's randomness did.
    #[error("cannot generate the dev checkpoint key: {0}")]
    Generate(String),
}

/// A recorded note as `/checkpoint/{size}` serves it and a bundle carries it: the note with the
/// witnesses' cosignature lines recorded for it appended, one a line.
pub fn served_note(note: &str, cosignatures: &[String]) -> String {
    let mut text = note.to_owned();
    for line in cosignatures {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Signs checkpoints of this log: the key and the origin line it signs for.
#[derive(Debug, Clone)]
pub struct CheckpointSigner {
    key: SignerKey,
}

impl CheckpointSigner {
    /// A signer with `key`, checked to be a log key, and named `origin` when one is given.
    ///
    /// # Errors
    /// [`KeyError::NotALogKey`], [`KeyError::OriginMismatch`].
    pub fn new(key: SignerKey, origin: Option<&str>, came_from: &str) -> Result<CheckpointSigner, KeyError> {
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(KeyError::NotALogKey {
                origin: came_from.to_owned(),
                found: key.algorithm().byte(),
            });
        }
        if let Some(origin) = origin
            && origin != key.name()
        {
            return Err(KeyError::OriginMismatch {
                origin: origin.to_owned(),
                name: key.name().to_owned(),
            });
        }
        Ok(CheckpointSigner { key })
    }

    /// The origin line of every checkpoint this signer signs (the key's name).
    pub fn origin(&self) -> &str {
        self.key.name()
    }

    /// The public key auditors and witnesses verify with.
    pub fn verifier(&self) -> VerifierKey {
        self.key.verifier()
    }

    /// The signed note of the checkpoint `origin / size / base64(root)`, ready to record and
    /// serve.
    ///
    /// # Errors
    /// None in practice (the origin was checked when the key was); typed for the caller.
    pub fn sign(&self, size: u64, root: [u8; 32]) -> Result<String, NoteError> {
        sign_checkpoint(&Checkpoint::new(self.origin(), size, root)?, &self.key)
    }

    /// Opens a signed checkpoint of this log (one recorded earlier, say), checking this key's
    /// signature and the origin.
    ///
    /// # Errors
    /// Any [`NoteError`] of parsing or verification.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the periodic checkpoint job and the witness call it")
    )]
    pub fn verify(&self, note: &[u8]) -> Result<Checkpoint, NoteError> {
        open_checkpoint(note, &self.verifier(), self.origin()).map(|(checkpoint, _)| checkpoint)
    }

    /// The secret, for the checks that it is not another key's.
    fn seed(&self) -> &[u8; 32] {
        self.key.expose_seed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> CheckpointSigner {
        let seed: [u8; 32] = core::array::from_fn(|i| i as u8 * 7 + 1);
        let key = SignerKey::from_seed("vigil.example/vigil/1", Algorithm::Ed25519, &seed).unwrap();
        CheckpointSigner::new(key, None, "test").unwrap()
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_the_printed_public_key() {
        let s = signer();
        let note = s.sign(1_000, [3; 32]).unwrap();
        let cp = s.verify(note.as_bytes()).unwrap();
        assert_eq!(
            (cp.origin(), cp.size(), cp.root()),
            ("vigil.example/vigil/1", 1_000, &[3; 32])
        );
        // What an auditor does with the `vigil checkpoint public-key` line.
        let vkey = VerifierKey::parse(&s.verifier().to_string()).unwrap();
        assert!(open_checkpoint(note.as_bytes(), &vkey, "vigil.example/vigil/1").is_ok());
        assert!(note.starts_with("vigil.example/vigil/1\n1000\n"));
    }

    #[test]
    fn an_altered_checkpoint_does_not_verify() {
        let s = signer();
        let note = s.sign(7, [1; 32]).unwrap().replacen("\n7\n", "\n8\n", 1);
        assert!(matches!(s.verify(note.as_bytes()), Err(NoteError::BadSignature { .. })));
    }

    #[test]
    fn the_origin_must_be_the_keys_name_and_the_key_a_log_key() {
        let seed = [5; 32];
        let key = SignerKey::from_seed("a.example/vigil/1", Algorithm::Ed25519, &seed).unwrap();
        assert!(CheckpointSigner::new(key.clone(), Some("a.example/vigil/1"), "t").is_ok());
        let err = CheckpointSigner::new(key, Some("a.example/vigil/2"), "t").unwrap_err();
        assert!(err.to_string().contains("new-key --name a.example/vigil/2"), "{err}");
        let witness = SignerKey::from_seed("w", Algorithm::CosignatureV1, &seed).unwrap();
        assert!(matches!(
            CheckpointSigner::new(witness, None, "t"),
            Err(KeyError::NotALogKey { found: 0x04, .. })
        ));
    }
}
