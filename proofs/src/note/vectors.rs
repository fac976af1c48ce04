//! Interoperability: known keys, notes and signatures published by others, checked against
//! this implementation. Data only, copied verbatim with its source:
//!
//! - Go's `golang.org/x/mod/sumdb/note` tests (`sumdb/note/note_test.go`, golang/mod at
//!   fe2ec04; BSD-3-Clause, Copyright 2019 The Go Authors): the PeterNeumann and EnochRoot
//!   keys, the Peter Neumann quote and its two signatures.
//! - C2SP `signed-note.md` (C2SP/C2SP at 5ba5ee8; CC BY 4.0), "Verifier keys" example.
//!
//! Ed25519 signing is deterministic (RFC 8032 §5.1.6), so signing the same text with the
//! same key must give Go's signature byte for byte.

use super::NoteError;
use super::keys::{Algorithm, SignerKey, VerifierKey};
use super::signed::{Note, sign};

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str =
    "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

#[test]
fn gos_keys_parse_with_their_ids() {
    let peter = VerifierKey::parse(PETER_VKEY).unwrap();
    assert_eq!((peter.name(), peter.key_id()), ("PeterNeumann", 0xc74f_20a3));
    assert_eq!(peter.algorithm(), Algorithm::Ed25519);
    assert_eq!(peter.to_string(), PETER_VKEY);
    let signer = SignerKey::parse(PETER_SKEY).unwrap();
    assert_eq!(signer.verifier(), peter);
    assert_eq!(signer.to_secret_text().as_str(), PETER_SKEY);
    assert_eq!(VerifierKey::parse(ENOCH_VKEY).unwrap().key_id(), 0xaf0c_fe78);
}

#[test]
fn signing_gos_text_gives_gos_signature() {
    let signer = SignerKey::parse(PETER_SKEY).unwrap();
    assert_eq!(sign(TEXT, &signer).unwrap(), format!("{TEXT}\n{PETER_SIG}"));
}

#[test]
fn gos_note_verifies_with_each_key_and_ignores_the_other() {
    let message = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    let note = Note::parse(message.as_bytes()).unwrap();
    assert_eq!(note.text(), TEXT);
    assert_eq!(note.signatures().len(), 2);
    assert!(note.verify(&VerifierKey::parse(PETER_VKEY).unwrap()).is_ok());
    assert!(note.verify(&VerifierKey::parse(ENOCH_VKEY).unwrap()).is_ok());
    // Only Enoch's line: Peter's key finds nothing of its own.
    let enoch_only = Note::parse(format!("{TEXT}\n{ENOCH_SIG}").as_bytes()).unwrap();
    assert!(matches!(
        enoch_only.verify(&VerifierKey::parse(PETER_VKEY).unwrap()),
        Err(NoteError::Unsigned { .. })
    ));
}

#[test]
fn gos_altered_signature_fails() {
    // As Go's TestOpen: "ABCD" inserted into Peter's signature.
    let altered = format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let note = Note::parse(format!("{TEXT}\n{altered}").as_bytes()).unwrap();
    assert!(matches!(
        note.verify(&VerifierKey::parse(PETER_VKEY).unwrap()),
        Err(NoteError::BadSignature { .. })
    ));
}

#[test]
fn gos_malformed_messages_are_refused() {
    let bad = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\u{1}{TEXT}\n{PETER_SIG}"),
        format!(
            "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
        format!("{TEXT}\n{}", PETER_SIG.repeat(101)),
    ];
    for message in bad {
        assert!(Note::parse(message.as_bytes()).is_err(), "{message:?}");
    }
    let mut invalid_utf8 = vec![0xff];
    invalid_utf8.extend_from_slice(format!("{TEXT}\n{PETER_SIG}").as_bytes());
    assert_eq!(Note::parse(&invalid_utf8), Err(NoteError::NotUtf8));
}

#[test]
fn gos_mangled_keys_are_refused() {
    // As Go's TestNewVerifier and TestNewSigner: every proper substring, and every single
    // byte incremented, must fail.
    for key in [PETER_VKEY, PETER_SKEY] {
        let parse = |k: &str| {
            if key == PETER_VKEY {
                VerifierKey::parse(k).is_ok()
            } else {
                SignerKey::parse(k).is_ok()
            }
        };
        assert!(parse(key));
        let b = key.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len()) {
                    let part = std::str::from_utf8(&b[i..j]).unwrap();
                    assert!(!parse(part), "{part:?}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            if let Ok(m) = std::str::from_utf8(&m) {
                assert!(!parse(m), "{m:?}");
            }
        }
    }
    // Wrong key length and unknown type, each with a key id adjusted to match (from Go).
    assert!(VerifierKey::parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").is_err());
    assert!(VerifierKey::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err());
}

#[test]
fn the_c2sp_example_verifies() {
    // signed-note.md, "Verifier keys", "Example".
    let key = VerifierKey::parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").unwrap();
    let note = Note::parse(
        "This is an example message.\n\n\
         \u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
            .as_bytes(),
    )
    .unwrap();
    assert!(note.verify(&key).is_ok());
    let altered = Note::unsigned("This is an example message!\n").map(|mut n| {
        n.add_signature(note.signatures()[0].clone());
        n
    });
    assert!(matches!(
        altered.unwrap().verify(&key),
        Err(NoteError::BadSignature { .. })
    ));
}
