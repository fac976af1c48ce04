//! Witness cosignatures (C2SP `tlog-cosignature`, the Ed25519 `cosignature/v1`, type 0x04): a
//! note signature whose bytes are `u64 timestamp (big-endian) || Ed25519 signature`, the
//! signature covering
//!
//! ```text
//! cosignature/v1
//! time <timestamp>
//! <the checkpoint's note text, extension lines included>
//! ```
//!
//! It states that, as of that time, the witness has seen no checkpoint of this log larger than
//! this one and that this one is consistent with all it has seen. Checking consistency is the
//! witness's job (with the Merkle proofs); this module only signs and verifies the statement.
//! Must not read the clock: the witness passes its time in.

use super::NoteError;
use super::keys::{Algorithm, SignerKey, VerifierKey};
use super::signed::{Note, Signature, Verified};

/// The largest timestamp the spec allows (2^63 − 1).
const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The message a `cosignature/v1` signs.
fn message(timestamp: u64, text: &str) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// A witness's cosignature of `note` at `timestamp` (POSIX seconds), to be added to the note
/// with [`Note::add_signature`].
///
/// # Errors
/// [`NoteError::WrongAlgorithm`] for a key that is not a cosigner key,
/// [`NoteError::TimestampOutOfRange`].
pub fn cosign(note: &Note, key: &SignerKey, timestamp: u64) -> Result<Signature, NoteError> {
    if key.algorithm() != Algorithm::CosignatureV1 {
        return Err(NoteError::WrongAlgorithm(key.algorithm().byte()));
    }
    if timestamp > MAX_TIMESTAMP {
        return Err(NoteError::TimestampOutOfRange);
    }
    let signature = key.sign_bytes(message(timestamp, note.text()).as_bytes());
    let mut bytes = Vec::with_capacity(72);
    bytes.extend_from_slice(&timestamp.to_be_bytes());
    bytes.extend_from_slice(&signature);
    Ok(Signature {
        name: key.name().to_owned(),
        key_id: key.key_id(),
        bytes,
    })
}

/// Checks one cosignature line's bytes against `text`; `None` when they do not verify.
pub(super) fn verify(text: &str, key: &VerifierKey, bytes: &[u8]) -> Result<Option<Verified>, NoteError> {
    let Some((time, signature)) = bytes.split_first_chunk::<8>() else {
        return Ok(None);
    };
    let Ok(signature) = <&[u8; 64]>::try_from(signature) else {
        return Ok(None);
    };
    let timestamp = u64::from_be_bytes(*time);
    if timestamp > MAX_TIMESTAMP {
        return Err(NoteError::TimestampOutOfRange);
    }
    Ok(key
        .verifies(message(timestamp, text).as_bytes(), signature)
        .then_some(Verified {
            timestamp: Some(timestamp),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::sign;

    const TEXT: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    fn keys() -> (SignerKey, SignerKey) {
        (
            SignerKey::from_seed("example.com/behind-the-sofa", Algorithm::Ed25519, &[1; 32]).unwrap(),
            SignerKey::from_seed("witness.example.com/w1", Algorithm::CosignatureV1, &[2; 32]).unwrap(),
        )
    }

    #[test]
    fn the_signed_message_is_the_specs() {
        // tlog-cosignature, "Ed25519 signed message": the example message for this checkpoint.
        assert_eq!(
            message(1679315147, TEXT),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n\
             CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn a_cosigned_checkpoint_carries_both_signatures() {
        let (log, witness) = keys();
        let mut note = Note::parse(sign(TEXT, &log).unwrap().as_bytes()).unwrap();
        let line = cosign(&note, &witness, 1679315147).unwrap();
        note.add_signature(line);
        let note = Note::parse(note.to_string().as_bytes()).unwrap();
        assert_eq!(note.verify(&log.verifier()).unwrap().timestamp, None);
        assert_eq!(note.verify(&witness.verifier()).unwrap().timestamp, Some(1679315147));
    }

    #[test]
    fn a_cosignature_binds_its_time_and_the_text() {
        let (log, witness) = keys();
        let note = Note::parse(sign(TEXT, &log).unwrap().as_bytes()).unwrap();
        let mut line = cosign(&note, &witness, 1000).unwrap();
        // Another time, same signature.
        line.bytes[7] ^= 1;
        let mut moved = note.clone();
        moved.add_signature(line);
        assert!(matches!(
            moved.verify(&witness.verifier()),
            Err(NoteError::BadSignature { .. })
        ));
        // Another text, same cosignature.
        let line = cosign(&note, &witness, 1000).unwrap();
        let mut other = Note::unsigned(&TEXT.replace("20852163", "20852164")).unwrap();
        other.add_signature(line);
        assert!(matches!(
            other.verify(&witness.verifier()),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn keys_are_not_interchangeable() {
        let (log, witness) = keys();
        let note = Note::unsigned(TEXT).unwrap();
        assert_eq!(cosign(&note, &log, 1), Err(NoteError::WrongAlgorithm(0x01)));
        assert_eq!(cosign(&note, &witness, 1 << 63), Err(NoteError::TimestampOutOfRange));
        // A plain Ed25519 signature by the witness's seed does not pass as a cosignature: the
        // type byte is in the key id, so the line is not even the cosigner's.
        let same_seed = SignerKey::from_seed(witness.name(), Algorithm::Ed25519, &[2; 32]).unwrap();
        let mut plain = note.clone();
        plain.sign_with(&same_seed).unwrap();
        assert!(matches!(
            plain.verify(&witness.verifier()),
            Err(NoteError::Unsigned { .. })
        ));
    }

    #[test]
    fn the_specs_example_cosignature_line_decodes_to_its_time() {
        // tlog-cosignature's example checkpoint carries this line by witness.example.com/w1
        // (its public key is not published, so only the layout can be checked): key id,
        // then the timestamp of the spec's example message.
        let note = Note::parse(
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
             \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
             \u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
                .as_bytes(),
        )
        .unwrap();
        let witness = &note.signatures()[1];
        assert_eq!(witness.key_id, 0x8d66_cf3f);
        assert_eq!(witness.bytes.len(), 72);
        let time = u64::from_be_bytes(witness.bytes[..8].try_into().unwrap());
        assert_eq!(time, 1679315147);
        assert_eq!(note.signatures()[0].key_id, 0x033d_e0ae);
        assert_eq!(note.signatures()[0].bytes.len(), 64);
    }
}
