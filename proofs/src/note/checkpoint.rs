//! The checkpoint body (C2SP `tlog-checkpoint`): the origin line naming the log, the tree size
//! in decimal, the base64 of the 32-byte Merkle root, and optional extension lines, each ending
//! in a newline. The parser is strict (no leading zeros, no `+`, canonical padded base64, no
//! empty line), so one checkpoint has exactly one text and a signature over it means one thing.
//! Must not compute roots: the Merkle tree brings them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::NoteError;
use super::keys::{SignerKey, VerifierKey};
use super::signed::{Note, Verified};

/// A log's tree head at one size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: [u8; 32],
    extensions: Vec<String>,
}

impl Checkpoint {
    /// The checkpoint of the tree of `size` leaves with root `root`, for the log `origin`.
    ///
    /// # Errors
    /// [`NoteError::MalformedCheckpoint`] for an empty origin, or one holding a newline or
    /// another control character.
    pub fn new(origin: &str, size: u64, root: [u8; 32]) -> Result<Checkpoint, NoteError> {
        check_line(origin, "the origin line is empty or holds a control character")?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// The same checkpoint with extension lines (opaque; the spec advises against them, as
    /// monitors cannot audit them, and witnesses make no statement about them).
    ///
    /// # Errors
    /// [`NoteError::MalformedCheckpoint`] for an empty line or one with a control character.
    pub fn with_extensions(mut self, lines: Vec<String>) -> Result<Checkpoint, NoteError> {
        for line in &lines {
            check_line(line, "an extension line is empty or holds a control character")?;
        }
        self.extensions = lines;
        Ok(self)
    }

    /// Parses a note text as a checkpoint.
    ///
    /// # Errors
    /// [`NoteError::MalformedCheckpoint`], saying which line is wrong.
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(NoteError::MalformedCheckpoint("the text does not end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        check_line(origin, "the origin line is empty or holds a control character")?;
        let size = lines
            .next()
            .ok_or(NoteError::MalformedCheckpoint("the tree size line is missing"))?;
        let size = parse_size(size)?;
        let root = lines
            .next()
            .ok_or(NoteError::MalformedCheckpoint("the root hash line is missing"))?;
        let root = parse_root(root)?;
        let extensions = lines.map(str::to_owned).collect::<Vec<_>>();
        for line in &extensions {
            check_line(line, "an extension line is empty or holds a control character")?;
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The note text: each line ending in a newline.
    pub fn to_text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root));
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The log's identity.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The Merkle root of the first `size` leaves.
    pub fn root(&self) -> &[u8; 32] {
        &self.root
    }

    /// The extension lines, if any.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }
}

/// Signs `checkpoint` as a note with the log's key and returns the signed note. The key's
/// name should be the origin (the spec's advice); callers choose both.
///
/// # Errors
/// As [`super::sign`].
pub fn sign_checkpoint(checkpoint: &Checkpoint, key: &SignerKey) -> Result<String, NoteError> {
    super::sign(&checkpoint.to_text(), key)
}

/// Opens a signed checkpoint: parses the note, checks the log's signature with `key`, parses
/// the body and checks that it is the log the caller expects (`origin`). Other signatures
/// (witnesses') are left in the note for the caller to check against its own policy.
///
/// # Errors
/// Any [`NoteError`] of parsing and [`Note::verify`], [`NoteError::MalformedCheckpoint`],
/// [`NoteError::OriginMismatch`].
pub fn open_checkpoint(message: &[u8], key: &VerifierKey, origin: &str) -> Result<(Checkpoint, Note), NoteError> {
    let note = Note::parse(message)?;
    let Verified { .. } = note.verify(key)?;
    let checkpoint = Checkpoint::parse(note.text())?;
    if checkpoint.origin != origin {
        return Err(NoteError::OriginMismatch {
            expected: origin.to_owned(),
            found: checkpoint.origin,
        });
    }
    Ok((checkpoint, note))
}

fn check_line(line: &str, why: &'static str) -> Result<(), NoteError> {
    if line.is_empty() || line.chars().any(char::is_control) {
        return Err(NoteError::MalformedCheckpoint(why));
    }
    Ok(())
}

/// ASCII decimal without sign or leading zeros (`0` alone for the empty tree), within u64.
fn parse_size(line: &str) -> Result<u64, NoteError> {
    let bad = NoteError::MalformedCheckpoint("the tree size is not a decimal number without leading zeros");
    if line.is_empty() || !line.bytes().all(|b| b.is_ascii_digit()) || (line.len() > 1 && line.starts_with('0')) {
        return Err(bad);
    }
    line.parse().map_err(|_| bad)
}

/// Standard padded base64 of exactly 32 bytes, in its one canonical spelling.
fn parse_root(line: &str) -> Result<[u8; 32], NoteError> {
    let bad = NoteError::MalformedCheckpoint("the root hash is not the base64 of 32 bytes");
    let bytes = STANDARD.decode(line).map_err(|_| bad.clone())?;
    let root: [u8; 32] = bytes.as_slice().try_into().map_err(|_| bad.clone())?;
    if STANDARD.encode(root) != line {
        return Err(bad);
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::keys::Algorithm;

    /// tlog-checkpoint's example body.
    const EXAMPLE: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_specs_example_parses_and_prints_back() {
        let cp = Checkpoint::parse(EXAMPLE).unwrap();
        assert_eq!(cp.origin(), "example.com/behind-the-sofa");
        assert_eq!(cp.size(), 20852163);
        assert_eq!(
            STANDARD.encode(cp.root()),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        assert!(cp.extensions().is_empty());
        assert_eq!(cp.to_text(), EXAMPLE);
    }

    #[test]
    fn extension_lines_round_trip() {
        let cp = Checkpoint::new("vigil.example/vigil/1", 0, [0; 32])
            .unwrap()
            .with_extensions(vec!["ext one".into(), "two".into()])
            .unwrap();
        assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
        assert!(cp.to_text().starts_with("vigil.example/vigil/1\n0\nAAAA"));
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        let cases = [
            "".to_owned(),
            "o\n1\n".to_owned(),
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n 1\n{root}\n"),
            format!("o\n1.0\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n1\n\n".to_owned(),
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".to_owned(),
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".to_owned(),
            "o\n1\nAAAA\n".to_owned(),
            "o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n".to_owned(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\n\n"),
            format!("o\u{7f}\n1\n{root}\n"),
        ];
        for text in cases {
            assert!(
                matches!(Checkpoint::parse(&text), Err(NoteError::MalformedCheckpoint(_))),
                "{text:?}"
            );
        }
        assert!(Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\n")).is_ok());
        assert!(Checkpoint::new("", 1, [0; 32]).is_err());
        assert!(Checkpoint::new("a\nb", 1, [0; 32]).is_err());
    }

    #[test]
    fn a_signed_checkpoint_opens_only_for_its_log() {
        let key = SignerKey::from_seed("vigil.example/vigil/1", Algorithm::Ed25519, &[9; 32]).unwrap();
        let cp = Checkpoint::new("vigil.example/vigil/1", 42, [5; 32]).unwrap();
        let signed = sign_checkpoint(&cp, &key).unwrap();
        let (opened, note) = open_checkpoint(signed.as_bytes(), &key.verifier(), "vigil.example/vigil/1").unwrap();
        assert_eq!(opened, cp);
        assert_eq!(note.signatures().len(), 1);
        assert!(matches!(
            open_checkpoint(signed.as_bytes(), &key.verifier(), "vigil.example/vigil/2"),
            Err(NoteError::OriginMismatch { .. })
        ));
        // A signed note that is not a checkpoint.
        let prose = crate::note::sign("hello\n", &key).unwrap();
        assert!(matches!(
            open_checkpoint(prose.as_bytes(), &key.verifier(), "hello"),
            Err(NoteError::MalformedCheckpoint(_))
        ));
    }
}
