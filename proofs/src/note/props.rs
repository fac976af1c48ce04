//! Properties over generated notes: whatever the text and key, a signed note (and a
//! checkpoint) verifies with its key, and any change to one byte of the text or of the
//! signature makes it fail, whether the result still parses or not.

use proptest::prelude::*;

use super::checkpoint::{Checkpoint, open_checkpoint, sign_checkpoint};
use super::cosignature::cosign;
use super::keys::{Algorithm, SignerKey};
use super::signed::{Note, sign};

/// Note texts: printable lines (any Unicode but controls), each ending in a newline.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec("[^\\p{Cc}]{0,40}", 1..6).prop_map(|lines| {
        let mut t = lines.join("\n");
        t.push('\n');
        t
    })
}

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9./_-]{1,30}"
}

/// Whether `message` still opens as a note that `key` verifies.
fn still_verifies(message: &[u8], key: &super::keys::VerifierKey) -> bool {
    Note::parse(message).and_then(|n| n.verify(key)).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_signed_note_verifies(text in text(), name in name(), seed in any::<[u8; 32]>()) {
        let key = SignerKey::from_seed(&name, Algorithm::Ed25519, &seed).unwrap();
        let signed = sign(&text, &key).unwrap();
        let note = Note::parse(signed.as_bytes()).unwrap();
        prop_assert_eq!(note.text(), text.as_str());
        prop_assert!(note.verify(&key.verifier()).is_ok());
    }

    #[test]
    fn any_changed_byte_fails(text in text(), seed in any::<[u8; 32]>(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let key = SignerKey::from_seed("vigil.example/vigil/1", Algorithm::Ed25519, &seed).unwrap();
        let mut message = sign(&text, &key).unwrap().into_bytes();
        let i = at.index(message.len());
        message[i] ^= 1 << bit;
        prop_assert!(!still_verifies(&message, &key.verifier()), "byte {} bit {} still verifies", i, bit);
    }

    #[test]
    fn any_checkpoint_round_trips_and_verifies(size in any::<u64>(), root in any::<[u8; 32]>(), seed in any::<[u8; 32]>(), at in any::<prop::sample::Index>()) {
        let origin = "vigil.example/vigil/1";
        let key = SignerKey::from_seed(origin, Algorithm::Ed25519, &seed).unwrap();
        let cp = Checkpoint::new(origin, size, root).unwrap();
        prop_assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp.clone());
        let signed = sign_checkpoint(&cp, &key).unwrap();
        let (opened, _) = open_checkpoint(signed.as_bytes(), &key.verifier(), origin).unwrap();
        prop_assert_eq!(opened, cp);
        let mut bytes = signed.into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = bytes[i].wrapping_add(1);
        prop_assert!(open_checkpoint(&bytes, &key.verifier(), origin).is_err());
    }

    #[test]
    fn any_cosignature_verifies_and_binds_its_bytes(text in text(), seed in any::<[u8; 32]>(), time in 0u64..=i64::MAX as u64, at in any::<prop::sample::Index>()) {
        let witness = SignerKey::from_seed("witness.example/w", Algorithm::CosignatureV1, &seed).unwrap();
        let mut note = Note::unsigned(&text).unwrap();
        note.add_signature(cosign(&note, &witness, time).unwrap());
        prop_assert_eq!(note.verify(&witness.verifier()).unwrap().timestamp, Some(time));
        let mut message = note.to_string().into_bytes();
        let i = at.index(message.len());
        message[i] ^= 0x01;
        prop_assert!(!still_verifies(&message, &witness.verifier()));
    }
}
