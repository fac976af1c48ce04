//! The signed note itself (C2SP `signed-note`): a text ending in a newline, a blank line, then
//! signature lines `— <key name> <base64(key id || signature)>` (U+2014, the em dash).
//!
//! Parsing checks syntax only and keeps every signature, known or not; [`Note::verify`] then
//! checks the one key the caller trusts. Signatures by other keys are ignored, as the spec
//! requires, so a note can carry a witness's cosignature beside the log's own.
//! Must not decide which keys to trust: callers bring them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::keys::{Algorithm, SignerKey, VerifierKey, is_valid_key_name};
use super::{MAX_NOTE_BYTES, MAX_SIGNATURES, NoteError};

/// The start of every signature line: em dash, space.
const DASH: &str = "\u{2014} ";

/// One signature line, parsed but not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The key name.
    pub name: String,
    /// The key id (the first four bytes, big-endian).
    pub key_id: u32,
    /// What follows the key id: the signature proper (64 bytes for Ed25519; 8 + 64 for a
    /// `cosignature/v1`).
    pub bytes: Vec<u8>,
}

impl Signature {
    /// The signature line, without its newline.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.bytes.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.bytes);
        format!("{DASH}{} {}", self.name, STANDARD.encode(raw))
    }

    fn parse(line: &str, number: usize) -> Result<Signature, NoteError> {
        let malformed = NoteError::MalformedSignatureLine { line: number };
        let rest = line.strip_prefix(DASH).ok_or(malformed.clone())?;
        let (name, b64) = rest.split_once(' ').ok_or(malformed.clone())?;
        if !is_valid_key_name(name) {
            return Err(malformed);
        }
        let raw = STANDARD.decode(b64).map_err(|_| malformed.clone())?;
        if raw.len() < 5 {
            return Err(malformed);
        }
        let (id, bytes) = raw.split_at(4);
        Ok(Signature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            bytes: bytes.to_vec(),
        })
    }
}

/// A signed note: its text and its signature lines, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<Signature>,
}

/// What a successful [`Note::verify`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// For a `cosignature/v1`, the time the witness signed (POSIX seconds); `None` for a
    /// plain Ed25519 note signature.
    pub timestamp: Option<u64>,
}

impl Note {
    /// Parses a signed note. Checks the size, UTF-8, control characters, the blank line
    /// before the signatures (the last one in the note) and each signature line's syntax;
    /// verifies nothing.
    ///
    /// # Errors
    /// [`NoteError::TooLarge`], [`NoteError::NotUtf8`], [`NoteError::ControlCharacter`],
    /// [`NoteError::NoSignatures`], [`NoteError::MalformedSignatureLine`],
    /// [`NoteError::TooManySignatures`].
    pub fn parse(message: &[u8]) -> Result<Note, NoteError> {
        if message.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge);
        }
        let message = std::str::from_utf8(message).map_err(|_| NoteError::NotUtf8)?;
        check_controls(message)?;
        let split = message.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let (text, block) = (&message[..=split], &message[split + 2..]);
        let Some(block) = block.strip_suffix('\n') else {
            return Err(NoteError::NoSignatures);
        };
        let mut signatures = Vec::new();
        for (i, line) in block.split('\n').enumerate() {
            if i >= MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(Signature::parse(line, i + 1)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// A note of `text` without signatures yet.
    ///
    /// # Errors
    /// [`NoteError::TextNotTerminated`], [`NoteError::ControlCharacter`], [`NoteError::TooLarge`].
    pub fn unsigned(text: &str) -> Result<Note, NoteError> {
        check_text(text)?;
        Ok(Note {
            text: text.to_owned(),
            signatures: Vec::new(),
        })
    }

    /// The signed text, with its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every signature line, known or not, in order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// Adds `signature`, replacing any earlier one by the same key (name and id), so that
    /// signing again never leaves two lines for one key.
    pub fn add_signature(&mut self, signature: Signature) {
        self.signatures
            .retain(|s| !(s.name == signature.name && s.key_id == signature.key_id));
        self.signatures.push(signature);
    }

    /// Adds this key's signature of the text (Ed25519 keys only; a witness uses
    /// [`super::cosign`]).
    ///
    /// # Errors
    /// [`NoteError::WrongAlgorithm`] for a cosigner key.
    pub fn sign_with(&mut self, key: &SignerKey) -> Result<(), NoteError> {
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(NoteError::WrongAlgorithm(key.algorithm().byte()));
        }
        let signature = key.sign_bytes(self.text.as_bytes());
        self.add_signature(Signature {
            name: key.name().to_owned(),
            key_id: key.key_id(),
            bytes: signature.to_vec(),
        });
        Ok(())
    }

    /// Checks the note against the one key the caller trusts. Lines by other keys (another
    /// name or id) are ignored; every line by this key must verify, and there must be one.
    ///
    /// # Errors
    /// [`NoteError::Unsigned`] when no line is by this key, [`NoteError::BadSignature`] when
    /// one does not verify, [`NoteError::TimestampOutOfRange`] for a cosignature dated past
    /// 2^63 − 1.
    pub fn verify(&self, key: &VerifierKey) -> Result<Verified, NoteError> {
        let bad = || NoteError::BadSignature {
            name: key.name().to_owned(),
            key_id: key.key_id(),
        };
        let mut found = None;
        for sig in self
            .signatures
            .iter()
            .filter(|s| s.name == key.name() && s.key_id == key.key_id())
        {
            let verified = match key.algorithm() {
                Algorithm::Ed25519 => {
                    let bytes: &[u8; 64] = sig.bytes.as_slice().try_into().map_err(|_| bad())?;
                    key.verifies(self.text.as_bytes(), bytes)
                        .then_some(Verified { timestamp: None })
                }
                Algorithm::CosignatureV1 => super::cosignature::verify(&self.text, key, &sig.bytes)?,
            };
            found = Some(verified.ok_or_else(bad)?);
        }
        found.ok_or_else(|| NoteError::Unsigned {
            name: key.name().to_owned(),
            key_id: key.key_id(),
        })
    }
}

impl std::fmt::Display for Note {
    /// The note as it travels: text, blank line, one line per signature.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for sig in &self.signatures {
            writeln!(f, "{}", sig.to_line())?;
        }
        Ok(())
    }
}

/// Signs `text` (which must end in a newline) with `key` and returns the signed note.
///
/// # Errors
/// As [`Note::unsigned`] and [`Note::sign_with`].
pub fn sign(text: &str, key: &SignerKey) -> Result<String, NoteError> {
    let mut note = Note::unsigned(text)?;
    note.sign_with(key)?;
    Ok(note.to_string())
}

/// A text that can be signed: non-empty, newline-terminated, within the size limit, no
/// control characters but newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::TextNotTerminated);
    }
    if text.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge);
    }
    check_controls(text)
}

fn check_controls(text: &str) -> Result<(), NoteError> {
    if text.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::ControlCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, seed: u8) -> SignerKey {
        SignerKey::from_seed(name, Algorithm::Ed25519, &[seed; 32]).unwrap()
    }

    #[test]
    fn a_signed_note_verifies_and_prints_as_parsed() {
        let log = key("vigil.example/log", 1);
        let signed = sign("hello\n\nworld\n", &log).unwrap();
        let note = Note::parse(signed.as_bytes()).unwrap();
        // The last blank line separates: the text may hold blank lines of its own.
        assert_eq!(note.text(), "hello\n\nworld\n");
        assert_eq!(note.to_string(), signed);
        assert_eq!(note.verify(&log.verifier()), Ok(Verified { timestamp: None }));
    }

    #[test]
    fn another_key_is_ignored_and_the_note_still_needs_ours() {
        let ours = key("vigil.example/log", 1);
        let theirs = key("other.example/log", 2);
        let mut note = Note::unsigned("text\n").unwrap();
        note.sign_with(&theirs).unwrap();
        assert!(matches!(note.verify(&ours.verifier()), Err(NoteError::Unsigned { .. })));
        note.sign_with(&ours).unwrap();
        assert!(note.verify(&ours.verifier()).is_ok());
        // Same name, another key: a different id, so ignored rather than failed.
        let impostor = key("vigil.example/log", 3);
        assert!(matches!(
            note.verify(&impostor.verifier()),
            Err(NoteError::Unsigned { .. })
        ));
    }

    #[test]
    fn signing_again_replaces_the_line() {
        let log = key("n", 1);
        let mut note = Note::unsigned("text\n").unwrap();
        note.sign_with(&log).unwrap();
        note.sign_with(&log).unwrap();
        assert_eq!(note.signatures().len(), 1);
    }

    #[test]
    fn a_bad_signature_by_the_trusted_key_fails_the_note() {
        let log = key("n", 1);
        let mut note = Note::parse(sign("text\n", &log).unwrap().as_bytes()).unwrap();
        let mut forged = note.signatures()[0].clone();
        forged.bytes[0] ^= 1;
        // A valid line and a forged one by the same key: the forged one fails the note.
        note.signatures.push(forged);
        assert!(matches!(
            note.verify(&log.verifier()),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn malformed_notes_are_refused() {
        let log = key("n", 1);
        let good = sign("text\n", &log).unwrap();
        let sig_line = good.lines().last().unwrap().to_owned();
        let cases: Vec<(String, NoteError)> = vec![
            ("text\n".into(), NoteError::NoSignatures),
            ("text\n\n".into(), NoteError::NoSignatures),
            (good.trim_end().into(), NoteError::NoSignatures),
            (format!("\u{1}{good}"), NoteError::ControlCharacter),
            (good.replace('\n', "\r\n"), NoteError::ControlCharacter),
            (
                format!("{good}Unexpected line.\n"),
                NoteError::MalformedSignatureLine { line: 2 },
            ),
            (
                good.replace("\u{2014} n ", "\u{2014} a b "),
                NoteError::MalformedSignatureLine { line: 1 },
            ),
            (
                good.replace("\u{2014}", "-"),
                NoteError::MalformedSignatureLine { line: 1 },
            ),
            (
                "text\n\n\u{2014} n AAAA\n".to_owned(),
                NoteError::MalformedSignatureLine { line: 1 },
            ),
            (
                format!("text\n\n{}", format!("{sig_line}\n").repeat(MAX_SIGNATURES + 1)),
                NoteError::TooManySignatures,
            ),
            (
                format!("{}\n\n{sig_line}\n", "a".repeat(MAX_NOTE_BYTES)),
                NoteError::TooLarge,
            ),
        ];
        for (message, want) in cases {
            assert_eq!(Note::parse(message.as_bytes()), Err(want), "{message:?}");
        }
        assert_eq!(Note::parse(b"\xfftext\n\n"), Err(NoteError::NotUtf8));
        // Up to the limit is fine.
        let many = format!("text\n\n{}", format!("{sig_line}\n").repeat(MAX_SIGNATURES));
        assert!(Note::parse(many.as_bytes()).unwrap().verify(&log.verifier()).is_ok());
    }

    #[test]
    fn only_newline_terminated_text_is_signed() {
        let log = key("n", 1);
        assert_eq!(sign("text", &log), Err(NoteError::TextNotTerminated));
        assert_eq!(sign("", &log), Err(NoteError::TextNotTerminated));
        assert_eq!(sign("a\tb\n", &log), Err(NoteError::ControlCharacter));
        let witness = SignerKey::from_seed("w", Algorithm::CosignatureV1, &[1; 32]).unwrap();
        assert_eq!(sign("text\n", &witness), Err(NoteError::WrongAlgorithm(0x04)));
    }
}
