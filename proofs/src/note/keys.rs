//! Note keys (C2SP `signed-note`, "Verifier keys"): key names, key ids, and the two text forms
//! of an Ed25519 key, the public verifier key `name+hex8(keyid)+base64(type || pubkey)` and the
//! secret signer key `PRIVATE+KEY+name+hex8(keyid)+base64(type || seed)` (the form Go's
//! `golang.org/x/mod/sumdb/note` reads and writes).
//!
//! Must not draw randomness or read files: a key is made from a seed the caller brings, and
//! a signer key's secret text is only handed out wrapped in `Zeroizing`, never through
//! `Debug` or `Display`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature as EdSignature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::NoteError;

/// A signature type (C2SP `signed-note`, "Signature types"), the byte before the key material
/// in a key line and in the key id's hash input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `0x01`: Ed25519 over the note text (RFC 8032). A log signs its checkpoints with it.
    Ed25519,
    /// `0x04`: timestamped Ed25519 checkpoint cosignature, `cosignature/v1` (C2SP
    /// `tlog-cosignature`). A witness signs with it.
    CosignatureV1,
}

impl Algorithm {
    /// The type byte.
    pub const fn byte(self) -> u8 {
        match self {
            Algorithm::Ed25519 => 0x01,
            Algorithm::CosignatureV1 => 0x04,
        }
    }

    fn from_byte(byte: u8) -> Result<Algorithm, NoteError> {
        match byte {
            0x01 => Ok(Algorithm::Ed25519),
            0x04 => Ok(Algorithm::CosignatureV1),
            other => Err(NoteError::WrongAlgorithm(other)),
        }
    }
}

/// Whether `name` may name a key: non-empty, no Unicode space, no `+` (the key line's
/// separator), and no control character (a note may not hold one).
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

/// The key id: the first four bytes, big-endian, of SHA-256(name || 0x0A || type || public key).
pub fn key_id(name: &str, algorithm: Algorithm, public_key: &[u8; 32]) -> u32 {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', algorithm.byte()])
        .chain_update(public_key)
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A public key that checks signatures: what a verifier of our checkpoints (or of a
/// witness's cosignatures) is configured with.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    algorithm: Algorithm,
    key_id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// A verifier key for `key` under `name`.
    ///
    /// # Errors
    /// [`NoteError::InvalidKeyName`].
    pub fn new(name: &str, algorithm: Algorithm, key: VerifyingKey) -> Result<VerifierKey, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName);
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            algorithm,
            key_id: key_id(name, algorithm, key.as_bytes()),
            key,
        })
    }

    /// Parses `name+hex8+base64(type || 32-byte public key)`, checking that the key id is
    /// the one the name and key give.
    ///
    /// # Errors
    /// [`NoteError::MalformedKey`], [`NoteError::InvalidKeyName`], [`NoteError::WrongAlgorithm`].
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let (name, algorithm, id, material) = split_key_line(text)?;
        let bytes: [u8; 32] = material
            .as_slice()
            .try_into()
            .map_err(|_| NoteError::MalformedKey("an Ed25519 public key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| NoteError::MalformedKey("not an Ed25519 public key"))?;
        let parsed = VerifierKey::new(name, algorithm, key)?;
        if parsed.key_id != id {
            return Err(NoteError::MalformedKey("the key id does not match the name and key"));
        }
        Ok(parsed)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Whether `signature` is this key's over `message`. Strict verification (RFC 8032
    /// §5.1.7 with canonical encodings and no small-order keys), so a signature cannot be
    /// reshaped into another valid one.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &EdSignature::from_bytes(signature))
            .is_ok()
    }
}

impl std::fmt::Display for VerifierKey {
    /// The verifier key line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut material = Vec::with_capacity(33);
        material.push(self.algorithm.byte());
        material.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, STANDARD.encode(material))
    }
}

impl std::fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

/// A secret key that signs notes (or, with [`Algorithm::CosignatureV1`], cosigns
/// checkpoints). Its bytes are wiped when dropped.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    algorithm: Algorithm,
    key_id: u32,
    key: SigningKey,
}

/// The prefix of a signer key line.
const PRIVATE: &str = "PRIVATE+KEY+";

impl SignerKey {
    /// The key whose RFC 8032 seed (private key) is `seed`, under `name`.
    ///
    /// # Errors
    /// [`NoteError::InvalidKeyName`].
    pub fn from_seed(name: &str, algorithm: Algorithm, seed: &[u8; 32]) -> Result<SignerKey, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName);
        }
        let key = SigningKey::from_bytes(seed);
        Ok(SignerKey {
            name: name.to_owned(),
            algorithm,
            key_id: key_id(name, algorithm, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// Parses `PRIVATE+KEY+name+hex8+base64(type || 32-byte seed)`, checking the key id.
    ///
    /// # Errors
    /// [`NoteError::MalformedKey`], [`NoteError::InvalidKeyName`], [`NoteError::WrongAlgorithm`].
    pub fn parse(text: &str) -> Result<SignerKey, NoteError> {
        let rest = text
            .strip_prefix(PRIVATE)
            .ok_or(NoteError::MalformedKey("a signer key starts with PRIVATE+KEY+"))?;
        let (name, algorithm, id, material) = split_key_line(rest)?;
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            material
                .as_slice()
                .try_into()
                .map_err(|_| NoteError::MalformedKey("an Ed25519 seed is 32 bytes"))?,
        );
        let parsed = SignerKey::from_seed(name, algorithm, &seed)?;
        if parsed.key_id != id {
            return Err(NoteError::MalformedKey("the key id does not match the name and key"));
        }
        Ok(parsed)
    }

    /// The signer key line: a secret, to be written only where secrets go.
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        let mut material = Zeroizing::new(Vec::with_capacity(33));
        material.push(self.algorithm.byte());
        material.extend_from_slice(self.key.as_bytes());
        Zeroizing::new(format!(
            "{PRIVATE}{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(material.as_slice())
        ))
    }

    /// The matching public key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            algorithm: self.algorithm,
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The 32-byte seed, for the caller's checks that one secret is not reused for two
    /// purposes or a placeholder. Never to be logged or printed.
    pub fn expose_seed(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// The Ed25519 signature of `message` (deterministic, RFC 8032 §5.1.6).
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for SignerKey {
    /// Names the key, never its secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignerKey({}+{:08x}, secret redacted)", self.name, self.key_id)
    }
}

/// A key line's parts: name, type, key id, key material (wiped when dropped).
type KeyLine<'a> = (&'a str, Algorithm, u32, Zeroizing<Vec<u8>>);

/// Splits `name+hex8+base64` into its name, type, key id and key material (after the type
/// byte). The name cannot hold `+`, so the first two `+` are the separators; base64 may hold
/// more. The id must be 8 lowercase hex digits, the base64 canonical (standard, padded).
fn split_key_line(text: &str) -> Result<KeyLine<'_>, NoteError> {
    let (name, rest) = text
        .split_once('+')
        .ok_or(NoteError::MalformedKey("expected name+keyid+key"))?;
    let (hex8, b64) = rest
        .split_once('+')
        .ok_or(NoteError::MalformedKey("expected name+keyid+key"))?;
    if !is_valid_key_name(name) {
        return Err(NoteError::InvalidKeyName);
    }
    if hex8.len() != 8 || !hex8.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(NoteError::MalformedKey("the key id is 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(hex8, 16).map_err(|_| NoteError::MalformedKey("the key id is not hex"))?;
    let bytes = Zeroizing::new(
        STANDARD
            .decode(b64)
            .map_err(|_| NoteError::MalformedKey("the key is not canonical base64"))?,
    );
    let (&type_byte, material) = bytes.split_first().ok_or(NoteError::MalformedKey("the key is empty"))?;
    let algorithm = Algorithm::from_byte(type_byte)?;
    Ok((name, algorithm, id, Zeroizing::new(material.to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [7; 32];

    #[test]
    fn names_follow_the_spec() {
        for good in ["example.com/log42", "PeterNeumann", "a", "vigil.example/vigil/1", "é/ü"] {
            assert!(is_valid_key_name(good), "{good:?}");
        }
        for bad in ["", "a b", "a+b", "a\tb", "a\u{00a0}b", "a\u{2003}b", "a\nb", "a\u{7f}b"] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_signer_key_round_trips_and_matches_its_verifier() {
        for algorithm in [Algorithm::Ed25519, Algorithm::CosignatureV1] {
            let signer = SignerKey::from_seed("vigil.example/log", algorithm, &SEED).unwrap();
            let again = SignerKey::parse(&signer.to_secret_text()).unwrap();
            assert_eq!(again.key_id(), signer.key_id());
            assert_eq!(again.verifier(), signer.verifier());
            let verifier = VerifierKey::parse(&signer.verifier().to_string()).unwrap();
            assert_eq!(verifier, signer.verifier());
            assert_eq!(verifier.algorithm(), algorithm);
        }
    }

    #[test]
    fn the_same_key_under_two_types_has_two_ids() {
        let log = SignerKey::from_seed("n", Algorithm::Ed25519, &SEED).unwrap();
        let witness = SignerKey::from_seed("n", Algorithm::CosignatureV1, &SEED).unwrap();
        assert_ne!(log.key_id(), witness.key_id());
    }

    #[test]
    fn secrets_never_print() {
        let signer = SignerKey::from_seed("n", Algorithm::Ed25519, &SEED).unwrap();
        let shown = format!("{signer:?}");
        let secret = signer.to_secret_text();
        let b64 = secret.rsplit('+').next().unwrap();
        assert!(!shown.contains(b64), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }

    #[test]
    fn malformed_key_lines_are_refused() {
        let good = SignerKey::from_seed("n", Algorithm::Ed25519, &SEED)
            .unwrap()
            .verifier()
            .to_string();
        let upper = {
            let (name, rest) = good.split_once('+').unwrap();
            let (id, key) = rest.split_once('+').unwrap();
            format!("{name}+{}+{key}", id.to_uppercase())
        };
        for bad in [
            String::new(),
            "n".into(),
            "n+0000".into(),
            good.replace("n+", "+"),
            upper,
            format!("{good}="),
            format!("{good} "),
        ] {
            assert!(VerifierKey::parse(&bad).is_err(), "{bad:?}");
        }
        // A verifier key is not a signer key, and the other way round.
        assert!(SignerKey::parse(&good).is_err());
        let secret = SignerKey::from_seed("n", Algorithm::Ed25519, &SEED)
            .unwrap()
            .to_secret_text();
        assert!(VerifierKey::parse(&secret).is_err());
        // An unknown type byte.
        let other = format!("n+00000000+{}", STANDARD.encode([0x02; 33]));
        assert_eq!(VerifierKey::parse(&other), Err(NoteError::WrongAlgorithm(0x02)));
    }

    #[test]
    fn the_seed_is_the_one_given() {
        let signer = SignerKey::from_seed("n", Algorithm::Ed25519, &SEED).unwrap();
        assert_eq!(signer.expose_seed(), &SEED);
    }
}
