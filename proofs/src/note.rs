//! Signed checkpoints: the C2SP `tlog-checkpoint` body (origin, tree size, root hash) inside a
//! C2SP `signed-note` with Ed25519 signatures, the verifier key line `name+keyid+base64`, and
//! witness cosignatures (C2SP `tlog-cosignature`, `cosignature/v1`).
//!
//! Pure like the rest of the crate: no clock (a cosignature's time is passed in), no
//! randomness (a key is made from a 32-byte seed the caller draws), no I/O. Formats, key ids
//! and why each limit is what it is: `docs/checkpoints.md`.
//!
//! Layout: [`keys`] (key names, key ids, signer and verifier key lines), [`signed`] (the note
//! itself: parse, sign, verify), [`checkpoint`] (the body), [`cosignature`] (a witness's
//! timestamped signature over a checkpoint).

pub mod checkpoint;
pub mod cosignature;
pub mod keys;
pub mod signed;

#[cfg(test)]
mod props;
#[cfg(test)]
mod vectors;

pub use checkpoint::{Checkpoint, open_checkpoint, sign_checkpoint};
pub use cosignature::cosign;
pub use keys::{Algorithm, SignerKey, VerifierKey, is_valid_key_name, key_id};
pub use signed::{Note, Signature, Verified, sign};

/// Largest signed note accepted, in bytes. The spec asks verifiers to accept at least 16
/// signatures and warns that post-quantum ones approach 5 kB each; 256 KiB holds that many
/// times over, and bounds the work an untrusted note can cause.
pub const MAX_NOTE_BYTES: usize = 256 * 1024;

/// Most signature lines accepted in one note (the spec's floor is 16; Go's `sumdb/note`
/// stops at 100 too).
pub const MAX_SIGNATURES: usize = 100;

/// Everything that can be wrong with a note, a checkpoint, a key or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note is longer than [`MAX_NOTE_BYTES`].
    #[error("the note is longer than {MAX_NOTE_BYTES} bytes")]
    TooLarge,
    /// The note is not valid UTF-8.
    #[error("the note is not valid UTF-8")]
    NotUtf8,
    /// The note holds an ASCII control character other than newline (U+000A).
    #[error("the note holds a control character other than newline")]
    ControlCharacter,
    /// No blank line separates the text from at least one signature line ending in newline.
    #[error("the note has no signature block after a blank line")]
    NoSignatures,
    /// A signature line is not `— <name> <base64 of at least 5 bytes>`; `line` counts the
    /// signature lines from 1.
    #[error("signature line {line} is malformed")]
    MalformedSignatureLine {
        /// Which signature line.
        line: usize,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("the note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// The text to sign is empty or does not end in a newline.
    #[error("the note text must be non-empty and end in a newline")]
    TextNotTerminated,
    /// A key name is empty, or holds a Unicode space or a plus sign.
    #[error("a key name must be non-empty, without spaces or '+'")]
    InvalidKeyName,
    /// A signer or verifier key line does not parse; the reason says which part.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// A key of another signature type than the operation needs (a cosigner key used to sign
    /// a checkpoint, an unknown type byte).
    #[error("key type {0:#04x} is not usable here")]
    WrongAlgorithm(u8),
    /// No signature from the verifier's key (same name and key id) is in the note.
    #[error("the note has no signature by {name}+{key_id:08x}")]
    Unsigned {
        /// The verifier's key name.
        name: String,
        /// The verifier's key id.
        key_id: u32,
    },
    /// A signature by the verifier's key (same name and key id) does not verify: the text
    /// or the signature was altered, or the key is not the one that signed.
    #[error("the signature by {name}+{key_id:08x} does not verify")]
    BadSignature {
        /// The verifier's key name.
        name: String,
        /// The verifier's key id.
        key_id: u32,
    },
    /// A checkpoint body does not follow `tlog-checkpoint`; the reason says which line.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A checkpoint's origin is not the one the verifier expects.
    #[error("the checkpoint's origin {found:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// The origin the caller expects.
        expected: String,
        /// The origin line found.
        found: String,
    },
    /// A cosignature timestamp above 2^63 − 1, which the spec forbids.
    #[error("a cosignature timestamp must not exceed 2^63 - 1")]
    TimestampOutOfRange,
}
