//! AES-256-GCM sealing of payloads under per-subject data keys (DEKs), and wrapping of DEKs
//! under the master key (KEK). Owns key material in memory: every key zeroizes on drop and
//! never prints. Must not touch the database; the vault decides where wrapped keys live.

use std::fmt;

use aes_gcm::aead::{Aead, AeadInOut, KeyInit, Payload as AeadPayload};
use aes_gcm::{Aes256Gcm, Nonce};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};

/// Length of an AES-GCM nonce.
pub const NONCE_LEN: usize = 12;

/// Fills a fresh random nonce from the OS.
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN]> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    Ok(nonce)
}

/// Fills `buf` from the OS CSPRNG in one call.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| StoreError::Corrupt(format!("OS RNG failed: {e}")))
}

/// 32 fresh random bytes, zeroized on drop.
pub fn random_key_bytes() -> Result<Zeroizing<[u8; 32]>> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut()).map_err(|e| StoreError::Corrupt(format!("OS RNG failed: {e}")))?;
    Ok(bytes)
}

/// The master key (KEK). It only ever wraps data keys; it never seals events.
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
    cipher: Aes256Gcm,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// Builds a master key from exactly 32 bytes.
    ///
    /// # Errors
    /// `InvalidInput` when `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::invalid("master key", format!("must be 32 bytes, got {}", bytes.len())))?;
        let bytes = Zeroizing::new(array);
        let cipher = Aes256Gcm::new_from_slice(bytes.as_ref())
            .map_err(|_| StoreError::invalid("master key", "unusable key length"))?;
        Ok(MasterKey { bytes, cipher })
    }

    /// Generates a fresh random master key.
    ///
    /// # Errors
    /// When the OS random source fails.
    pub fn generate() -> Result<Self> {
        Self::from_bytes(random_key_bytes()?.as_ref())
    }

    /// The raw bytes, for writing a key file. Handle with care.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// A value that identifies this key without revealing it: a keyed hash of a constant.
    pub fn check_value(&self) -> [u8; 32] {
        *blake3::keyed_hash(&self.bytes, b"vigil master key check v1").as_bytes()
    }

    /// Wraps a data key. The associated data binds the wrapped key to its id, subject and
    /// versions, so a wrapped key copied onto another row fails to unwrap.
    pub(crate) fn wrap(&self, dek: &DataKey, kek_version: i32) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
        let nonce = random_nonce()?;
        let aad = wrap_aad(dek.key_id, dek.subject, dek.version, kek_version);
        let wrapped = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                AeadPayload {
                    msg: dek.bytes.as_ref(),
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Corrupt("wrapping a data key failed".into()))?;
        Ok((nonce, wrapped))
    }

    /// Unwraps a data key stored by [`MasterKey::wrap`].
    pub(crate) fn unwrap_key(&self, row: &WrappedKey) -> Result<DataKey> {
        let nonce: [u8; NONCE_LEN] = row
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("wrap nonce of key {} has a bad length", row.key_id)))?;
        let aad = wrap_aad(row.key_id, row.subject, row.dek_version, row.kek_version);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    &Nonce::from(nonce),
                    AeadPayload {
                        msg: &row.wrapped,
                        aad: &aad,
                    },
                )
                .map_err(|_| StoreError::WrongMasterKey(format!("data key {} does not unwrap", row.key_id)))?,
        );
        DataKey::from_bytes(row.key_id, row.subject, row.dek_version, &plain)
    }
}

fn wrap_aad(key_id: Uuid, subject: Uuid, dek_version: i32, kek_version: i32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(b"vigil-wrap-v1");
    aad.extend_from_slice(key_id.as_bytes());
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(&dek_version.to_be_bytes());
    aad.extend_from_slice(&kek_version.to_be_bytes());
    aad
}

/// A wrapped data key as stored in the vault.
#[derive(Debug, Clone)]
pub(crate) struct WrappedKey {
    pub key_id: Uuid,
    pub subject: Uuid,
    pub dek_version: i32,
    pub kek_version: i32,
    pub nonce: Vec<u8>,
    pub wrapped: Vec<u8>,
}

/// A subject's data key (DEK), unwrapped in memory.
pub struct DataKey {
    /// Identifies this key (and version) in envelopes and in the vault.
    pub key_id: Uuid,
    /// The data subject the key belongs to.
    pub subject: Uuid,
    /// Version of the subject's key, starting at 1.
    pub version: i32,
    bytes: Zeroizing<[u8; 32]>,
    cipher: Aes256Gcm,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({} v{} <redacted>)", self.key_id, self.version)
    }
}

/// What the associated data of a sealed payload binds it to.
pub(crate) struct SealContext<'a> {
    pub event_id: Uuid,
    pub stream_id: &'a str,
    pub stream_version: u64,
    pub event_type: &'a str,
    pub schema_version: u32,
}

impl DataKey {
    pub(crate) fn from_bytes(key_id: Uuid, subject: Uuid, version: i32, bytes: &[u8]) -> Result<Self> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("data key {key_id} has a bad length")))?;
        let bytes = Zeroizing::new(array);
        let cipher =
            Aes256Gcm::new_from_slice(bytes.as_ref()).map_err(|_| StoreError::Corrupt("unusable data key".into()))?;
        Ok(DataKey {
            key_id,
            subject,
            version,
            bytes,
            cipher,
        })
    }

    /// A 256-bit secret derived from this key for one purpose (blake3 `derive_key`), so the
    /// key itself never leaves this module.
    pub(crate) fn derive(&self, context: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(blake3::derive_key(context, self.bytes.as_ref()))
    }

    pub(crate) fn generate(key_id: Uuid, subject: Uuid, version: i32) -> Result<Self> {
        Self::from_bytes(key_id, subject, version, random_key_bytes()?.as_ref())
    }

    /// Seals `plaintext` with a fresh random nonce.
    #[cfg(test)]
    pub(crate) fn seal(&self, ctx: &SealContext<'_>, plaintext: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
        let nonce = random_nonce()?;
        Ok((nonce, self.seal_with_nonce(ctx, plaintext, nonce)?))
    }

    /// Seals `plaintext` under `nonce`, which must be fresh from the OS CSPRNG (`fill_random`)
    /// and never used before: a repeated nonce under one key breaks AES-GCM.
    pub(crate) fn seal_with_nonce(
        &self,
        ctx: &SealContext<'_>,
        plaintext: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> Result<Vec<u8>> {
        let aad = self.aad(ctx);
        let ciphertext = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                AeadPayload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Corrupt("sealing a payload failed".into()))?;
        Ok(ciphertext)
    }

    /// Opens a payload sealed by [`DataKey::seal`], in the ciphertext's own buffer (readers
    /// open every event of a scan; a second buffer per event showed in their profiles);
    /// `None` when authentication fails.
    pub(crate) fn open(&self, ctx: &SealContext<'_>, nonce: &[u8], mut ciphertext: Vec<u8>) -> Option<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let aad = self.aad(ctx);
        self.cipher
            .decrypt_in_place(&Nonce::from(nonce), &aad, &mut ciphertext)
            .ok()?;
        Some(ciphertext)
    }

    /// AAD v1: event id, stream id, stream version, event type, schema version and key id,
    /// length-prefixed, so a ciphertext moved to another event or user fails to open.
    fn aad(&self, ctx: &SealContext<'_>) -> Vec<u8> {
        let mut aad = Vec::with_capacity(96 + ctx.stream_id.len() + ctx.event_type.len());
        aad.extend_from_slice(b"vigil-aad-v1");
        aad.extend_from_slice(ctx.event_id.as_bytes());
        push_str(&mut aad, ctx.stream_id);
        aad.extend_from_slice(&ctx.stream_version.to_be_bytes());
        push_str(&mut aad, ctx.event_type);
        aad.extend_from_slice(&ctx.schema_version.to_be_bytes());
        aad.extend_from_slice(self.key_id.as_bytes());
        aad
    }
}

pub(crate) fn push_str(buf: &mut Vec<u8>, s: &str) {
    // Names are validated to at most a few hundred bytes, so u16 cannot overflow; saturate anyway.
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(event_id: Uuid) -> SealContext<'static> {
        SealContext {
            event_id,
            stream_id: "health-1",
            stream_version: 3,
            event_type: "HealthLogRecorded",
            schema_version: 1,
        }
    }

    #[test]
    fn a_sealed_payload_opens_only_with_its_own_envelope() {
        let key = DataKey::generate(Uuid::now_v7(), Uuid::now_v7(), 1).unwrap();
        let id = Uuid::now_v7();
        let (nonce, ct) = key.seal(&ctx(id), b"{\"bp\":\"128/82\"}").unwrap();
        assert_eq!(key.open(&ctx(id), &nonce, ct.clone()).unwrap(), b"{\"bp\":\"128/82\"}");
        assert!(
            key.open(&ctx(Uuid::now_v7()), &nonce, ct.clone()).is_none(),
            "moved to another event"
        );
        let mut other_version = ctx(id);
        other_version.stream_version = 4;
        assert!(key.open(&other_version, &nonce, ct.clone()).is_none());
        let other_key = DataKey::generate(Uuid::now_v7(), Uuid::now_v7(), 1).unwrap();
        assert!(
            other_key.open(&ctx(id), &nonce, ct.clone()).is_none(),
            "another user's key"
        );
    }

    #[test]
    fn a_wrapped_key_unwraps_only_under_the_same_master_key_and_row() {
        let kek = MasterKey::generate().unwrap();
        let dek = DataKey::generate(Uuid::now_v7(), Uuid::now_v7(), 1).unwrap();
        let (nonce, wrapped) = kek.wrap(&dek, 1).unwrap();
        let row = WrappedKey {
            key_id: dek.key_id,
            subject: dek.subject,
            dek_version: 1,
            kek_version: 1,
            nonce: nonce.to_vec(),
            wrapped,
        };
        assert_eq!(kek.unwrap_key(&row).unwrap().bytes.as_ref(), dek.bytes.as_ref());
        assert!(MasterKey::generate().unwrap().unwrap_key(&row).is_err());
        let mut moved = row.clone();
        moved.subject = Uuid::now_v7();
        assert!(kek.unwrap_key(&moved).is_err());
    }

    #[test]
    fn keys_never_print_their_bytes() {
        let kek = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(format!("{kek:?}"), "MasterKey(<redacted>)");
        let dek = DataKey::from_bytes(Uuid::nil(), Uuid::nil(), 1, &[7u8; 32]).unwrap();
        assert!(!format!("{dek:?}").contains('7'.to_string().repeat(2).as_str()));
    }
}
