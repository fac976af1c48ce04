//! The mail key: AES-256-GCM over what an outbox row holds, under a key derived from the
//! vault's system secret (so from key material the master key wraps, and never a person's
//! data key: the erasure confirmation must open after that key is destroyed). The row's id
//! and kind are the associated data, so a sealed payload moved to another row does not open.
//!
//! Must not: keep a plaintext beyond the call, or be used for anything but outbox rows (its
//! derivation context is its own).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::MailError;

/// The derivation context of the key (a new version means a new key and unreadable old rows).
pub const CONTEXT: &str = "vigil mail outbox v1";
const NONCE_LEN: usize = 12;

/// Seals and opens outbox payloads.
#[derive(Clone)]
pub struct MailKey {
    cipher: Aes256Gcm,
}

impl MailKey {
    /// The key from its 32 bytes (`EventStore::system_secret(CONTEXT)`).
    ///
    /// # Errors
    /// Never for 32 bytes; the cipher's own refusal otherwise.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<MailKey, MailError> {
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| MailError::Sealed("unusable mail key"))?;
        Ok(MailKey { cipher })
    }

    /// `plain` sealed for the row `id` of `kind`, as base64 of nonce and ciphertext.
    ///
    /// # Errors
    /// No randomness, or the cipher failed.
    pub fn seal(&self, id: &str, kind: &str, plain: &[u8]) -> Result<String, MailError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| MailError::Sealed("no randomness for a nonce"))?;
        let aad = aad(id, kind);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plain, aad: &aad })
            .map_err(|_| MailError::Sealed("sealing failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// Opens what [`MailKey::seal`] sealed for the same row.
    ///
    /// # Errors
    /// `Sealed` for anything that does not open.
    pub fn open(&self, id: &str, kind: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, MailError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| MailError::Sealed("not base64"))?;
        if bytes.len() < NONCE_LEN {
            return Err(MailError::Sealed("too short"));
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| MailError::Sealed("bad nonce"))?;
        let aad = aad(id, kind);
        self.cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: body, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| MailError::Sealed("does not open under this server's mail key"))
    }
}

fn aad(id: &str, kind: &str) -> Vec<u8> {
    let mut aad = b"vigil-mail-v1\0".to_vec();
    aad.extend_from_slice(id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(kind.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::MailKey;

    #[test]
    fn a_payload_opens_only_on_its_own_row() {
        let key = MailKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = key.seal("row-1", "new_sign_in", b"secret@example.org").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(
            &key.open("row-1", "new_sign_in", &sealed).unwrap()[..],
            b"secret@example.org"
        );
        assert!(key.open("row-2", "new_sign_in", &sealed).is_err());
        assert!(key.open("row-1", "account_locked", &sealed).is_err());
        let other = MailKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("row-1", "new_sign_in", &sealed).is_err());
    }
}
