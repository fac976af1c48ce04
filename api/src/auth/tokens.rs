//! Session tokens: the server's token key, and the opaque refresh tokens whose keyed hashes the
//! session store keeps. Access tokens (JWT) live in [`access`].
//!
//! This module mints and checks tokens; it must not decide session policy (rotation, reuse
//! detection, revocation), which belongs to whoever stores the hashes.

mod access;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use super::AuthError;
use super::secret_key::SecretKey;

/// blake3 `derive_key` context for the refresh-token hash key. Versioned so the derivation can
/// change without a stored hash ever matching a token under the wrong scheme.
const REFRESH_HASH_CONTEXT: &str = "vigil refresh token hash v1";
/// The same for second-factor challenge tokens, so one can never stand in for the other.
const CHALLENGE_HASH_CONTEXT: &str = "vigil mfa challenge hash v1";
/// Context of the key that hashes one-time export download tokens.
const EXPORT_HASH_CONTEXT: &str = "vigil export token hash v1";

/// Why 32 bytes cannot have come from a random generator, if they cannot: all one value
/// (an all-zero key, say), or fewer than 8 distinct byte values (random keys have about 30;
/// the chance of fewer than 8 is far below 2^-100). Catches placeholders and typed patterns,
/// not every poor key.
pub fn weak_key(bytes: &[u8; 32]) -> Option<&'static str> {
    let mut seen = [false; 256];
    for b in bytes {
        seen[usize::from(*b)] = true;
    }
    match seen.iter().filter(|s| **s).count() {
        1 => Some("every byte is the same (a placeholder, not a random key)"),
        n if n < 8 => Some("too few distinct bytes to be random"),
        _ => None,
    }
}

/// The server's token secret (`VIGIL_TOKEN_KEY`): it signs access tokens and, through a derived
/// key, hashes refresh tokens. Replacing it logs every session out.
#[derive(Clone)]
pub struct TokenKey {
    signing: SecretKey,
    /// Derived rather than configured separately so there is one secret to provision, and
    /// independent of the signing use by blake3's domain separation.
    refresh_hash: SecretKey,
    challenge_hash: SecretKey,
    export_hash: SecretKey,
}

impl TokenKey {
    /// Wraps 32 bytes of key material.
    #[cfg(test)]
    pub fn new(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self::from_secret(SecretKey::new(bytes))
    }

    /// Parses standard base64 of exactly 32 bytes (`head -c 32 /dev/urandom | base64`).
    ///
    /// # Errors
    /// [`AuthError::InvalidKey`] saying what is wrong, without the key.
    pub fn from_base64(text: &str) -> Result<Self, AuthError> {
        Ok(Self::from_secret(SecretKey::from_base64(text, "the token key")?))
    }

    /// A fresh random key, for throwaway servers (`vigil bench api`) that nobody signs in to
    /// again after they stop.
    ///
    /// # Errors
    /// [`AuthError::Randomness`] when the OS generator fails.
    pub fn generate() -> Result<Self, AuthError> {
        Ok(Self::from_secret(SecretKey::new(super::random_bytes()?)))
    }

    /// Whether the signing secret is `bytes` (a key reused for two purposes).
    pub fn is_the_same_secret_as(&self, bytes: &[u8; 32]) -> bool {
        self.signing.bytes() == bytes
    }

    /// Why the signing secret cannot be random, if it cannot (see [`weak_key`]).
    pub fn weakness(&self) -> Option<&'static str> {
        weak_key(self.signing.bytes())
    }

    fn from_secret(signing: SecretKey) -> Self {
        let refresh_hash = SecretKey::new(Zeroizing::new(blake3::derive_key(
            REFRESH_HASH_CONTEXT,
            signing.bytes(),
        )));
        let challenge_hash = SecretKey::new(Zeroizing::new(blake3::derive_key(
            CHALLENGE_HASH_CONTEXT,
            signing.bytes(),
        )));
        let export_hash = SecretKey::new(Zeroizing::new(blake3::derive_key(EXPORT_HASH_CONTEXT, signing.bytes())));
        TokenKey {
            signing,
            refresh_hash,
            challenge_hash,
            export_hash,
        }
    }

    /// The value the challenge store keeps for a challenge token's random bytes (keyed for the
    /// same reason as [`TokenKey::refresh_token_hash`]).
    pub fn challenge_hash(&self, random: &[u8; 32]) -> [u8; 32] {
        *blake3::keyed_hash(self.challenge_hash.bytes(), random).as_bytes()
    }

    /// The value the export-token table keeps for a download token's random bytes (keyed for
    /// the same reason as [`TokenKey::refresh_token_hash`]; its own key, so a hash from one
    /// table never matches in another).
    pub fn export_hash(&self, random: &[u8; 32]) -> [u8; 32] {
        *blake3::keyed_hash(self.export_hash.bytes(), random).as_bytes()
    }

    /// The value the session store keeps for `token`: a keyed blake3 of its 32 random bytes.
    /// Keyed so that a copy of the database alone cannot be used to test guessed tokens, and
    /// cheap because the tokens are 256-bit random (nothing to brute-force, unlike passwords).
    pub fn refresh_token_hash(&self, token: &RefreshToken) -> [u8; 32] {
        *blake3::keyed_hash(self.refresh_hash.bytes(), token.bytes.as_ref()).as_bytes()
    }

    fn signing_bytes(&self) -> &[u8; 32] {
        self.signing.bytes()
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

/// An opaque refresh token: 256 random bits, shown to the client once as
/// `vgr_<43 base64url characters>` and afterwards known to the server only by its hash.
pub struct RefreshToken {
    bytes: Zeroizing<[u8; RefreshToken::RANDOM_BYTES]>,
}

impl RefreshToken {
    /// Makes the token recognizable (secret scanners, support requests) and keeps an access
    /// token from ever parsing as one.
    pub const PREFIX: &'static str = "vgr_";
    const RANDOM_BYTES: usize = 32;
    /// base64url without padding of 32 bytes.
    const ENCODED_LEN: usize = 43;

    /// A new token from the OS random generator.
    ///
    /// # Errors
    /// [`AuthError::Randomness`] when the OS generator fails.
    pub fn generate() -> Result<Self, AuthError> {
        Ok(RefreshToken {
            bytes: super::random_bytes()?,
        })
    }

    /// Parses the text a client sent back.
    ///
    /// # Errors
    /// [`AuthError::RefreshTokenMalformed`] unless it is the prefix followed by exactly 43
    /// canonical base64url characters.
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let encoded = text
            .strip_prefix(Self::PREFIX)
            .ok_or(AuthError::RefreshTokenMalformed)?;
        // Checked before decoding so an oversized input costs nothing.
        if encoded.len() != Self::ENCODED_LEN {
            return Err(AuthError::RefreshTokenMalformed);
        }
        let mut bytes = Zeroizing::new([0u8; Self::RANDOM_BYTES]);
        // The engine refuses padding and non-zero trailing bits, so each token has exactly
        // one spelling and the hash of a parsed token is the hash of the issued one.
        let written = URL_SAFE_NO_PAD
            .decode_slice(encoded, bytes.as_mut())
            .map_err(|_| AuthError::RefreshTokenMalformed)?;
        if written != Self::RANDOM_BYTES {
            return Err(AuthError::RefreshTokenMalformed);
        }
        Ok(RefreshToken { bytes })
    }

    /// The text to hand to the client. Named loudly: it is a bearer credential.
    pub fn expose_secret(&self) -> Zeroizing<String> {
        crate::auth::bearer_text(Self::PREFIX, self.bytes.as_ref())
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> TokenKey {
        TokenKey::new(Zeroizing::new([byte; 32]))
    }

    #[test]
    fn a_refresh_token_is_the_prefix_and_43_base64url_characters() {
        let token = RefreshToken::generate().unwrap();
        let text = token.expose_secret();
        assert_eq!(text.len(), 47);
        let encoded = text.strip_prefix("vgr_").unwrap();
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{}",
            *text
        );
    }

    #[test]
    fn two_refresh_tokens_differ() {
        let a = RefreshToken::generate().unwrap().expose_secret();
        let b = RefreshToken::generate().unwrap().expose_secret();
        assert_ne!(*a, *b);
    }

    #[test]
    fn a_refresh_token_parses_back_to_the_same_hash() {
        let key = key(3);
        let token = RefreshToken::generate().unwrap();
        let parsed = RefreshToken::parse(&token.expose_secret()).unwrap();
        assert_eq!(key.refresh_token_hash(&parsed), key.refresh_token_hash(&token));
    }

    #[test]
    fn the_refresh_token_hash_is_stable_and_depends_on_the_key() {
        let token = RefreshToken::parse(&format!("vgr_{}", "A".repeat(43))).unwrap();
        assert_eq!(key(1).refresh_token_hash(&token), key(1).refresh_token_hash(&token));
        assert_ne!(key(1).refresh_token_hash(&token), key(2).refresh_token_hash(&token));
        // Not an unkeyed hash, nor keyed with the signing key itself.
        assert_ne!(&key(1).refresh_token_hash(&token), blake3::hash(&[0; 32]).as_bytes());
        assert_ne!(
            &key(1).refresh_token_hash(&token),
            blake3::keyed_hash(&[1; 32], &[0; 32]).as_bytes()
        );
    }

    #[test]
    fn malformed_refresh_tokens_are_rejected() {
        let good = RefreshToken::generate().unwrap().expose_secret();
        let body = good.strip_prefix("vgr_").unwrap().to_owned();
        let cases = [
            String::new(),
            body.clone(),                            // no prefix
            format!("vgx_{body}"),                   // wrong prefix
            format!("VGR_{body}"),                   // prefix is case-sensitive
            format!("vgr_{}", &body[..42]),          // too short
            format!("vgr_{body}A"),                  // too long
            format!("vgr_{}=", &body[..42]),         // padding
            format!("vgr_{}+", &body[..42]),         // standard, not url-safe, alphabet
            format!("vgr_{}.", &body[..42]),         // not base64 at all
            format!("vgr_{}", "A".repeat(42) + "B"), // non-zero trailing bits: not canonical
            format!(" vgr_{body}"),                  // surrounding whitespace is not trimmed
            format!("vgr_{}", "A".repeat(10_000)),
        ];
        for case in cases {
            assert_eq!(
                RefreshToken::parse(&case).unwrap_err(),
                AuthError::RefreshTokenMalformed,
                "{case:?}"
            );
        }
    }

    #[test]
    fn debug_output_never_shows_keys_or_tokens() {
        assert_eq!(format!("{:?}", key(0x41)), "TokenKey(<redacted>)");
        assert_eq!(
            format!("{:?}", RefreshToken::generate().unwrap()),
            "RefreshToken(<redacted>)"
        );
    }

    #[test]
    fn a_token_key_from_base64_must_be_exactly_32_bytes() {
        let err = TokenKey::from_base64("AAAAAAAAAAAAAAAAAAAAAA==").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the token key is invalid: it is 16 bytes long; it must be exactly 32 bytes"
        );
        assert!(TokenKey::from_base64("c2hvcnQ").is_err());
    }
}
