//! The bundle's members as serde types, each spelled exactly one way: lowercase hex, hyphenated
//! lowercase UUIDs, standard padded base64. Anything else is refused while parsing (a malformed
//! bundle, not a failed check). Must not check anything beyond the spelling: `check` does.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::chain::LinkHeader;

/// Lowercase hex of exactly `N` bytes.
fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

struct StrVisitor<T>(fn(&str) -> Option<T>, &'static str);

impl<T> Visitor<'_> for StrVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).ok_or_else(|| E::custom(format!("{v:?} is not {}", self.1)))
    }
}

/// A 32-byte hash written as 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexHash(pub [u8; 32]);

impl Serialize for HexHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for HexHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor(
            |t| parse_hex::<32>(t).map(HexHash),
            "64 lowercase hex digits",
        ))
    }
}

/// An AES-GCM nonce: 12 bytes as 24 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonce(pub [u8; 12]);

impl Serialize for Nonce {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Nonce {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor(|t| parse_hex::<12>(t).map(Nonce), "24 lowercase hex digits"))
    }
}

/// A UUID's 16 bytes, written hyphenated and lowercase (`8-4-4-4-12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uuid16(pub [u8; 16]);

impl Uuid16 {
    fn parse(text: &str) -> Option<Uuid16> {
        let b = text.as_bytes();
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return None;
        }
        let digits: String = text.chars().filter(|&c| c != '-').collect();
        parse_hex::<16>(&digits).map(Uuid16)
    }
}

impl fmt::Display for Uuid16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

impl Serialize for Uuid16 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Uuid16 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor(Uuid16::parse, "a hyphenated lowercase UUID"))
    }
}

/// Ciphertext bytes, written as standard padded base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ciphertext(pub Vec<u8>);

impl Serialize for Ciphertext {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Ciphertext {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor(
            |t| STANDARD.decode(t).ok().map(Ciphertext),
            "standard padded base64",
        ))
    }
}

/// What stands for the first `A` events (`docs/audit-bundle.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prefix {
    /// The perfect subtrees covering leaves `[0, A)`, largest first.
    pub edge: Vec<HexHash>,
    /// The chain hash of event `A` (the genesis when `A = 0`).
    pub last_hash: HexHash,
    /// Inclusion proof of leaf `A - 1` in tree `A`.
    pub last_proof: Vec<HexHash>,
}

/// One event of the bundle: its chained header, nonce, ciphertext and links. No plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleEvent {
    /// Global position.
    pub position: u64,
    /// The event's id.
    pub event_id: Uuid16,
    /// Its stream.
    pub stream_id: String,
    /// Its version in the stream.
    pub stream_version: u64,
    /// The data subject.
    pub subject: Uuid16,
    /// Its type.
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: u32,
    /// When it was recorded (µs since the epoch).
    pub recorded_at_micros: i64,
    /// Who wrote it.
    pub actor: String,
    /// Correlation id.
    pub correlation_id: Option<Uuid16>,
    /// Causation id.
    pub causation_id: Option<Uuid16>,
    /// Command id.
    pub command_id: Option<Uuid16>,
    /// The data key's id.
    pub key_id: Uuid16,
    /// AES-GCM nonce.
    pub nonce: Nonce,
    /// The sealed payload.
    pub ciphertext: Ciphertext,
    /// The previous event's chain hash.
    pub prev_hash: HexHash,
    /// This event's chain hash, as stored.
    pub hash: HexHash,
}

impl BundleEvent {
    /// The chain link this event's content gives from `prev` (encoding `VGL1`).
    pub fn link_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        LinkHeader {
            position: self.position,
            event_id: self.event_id.0,
            stream_id: &self.stream_id,
            stream_version: self.stream_version,
            subject: self.subject.0,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            recorded_at_micros: self.recorded_at_micros,
            actor: &self.actor,
            correlation_id: self.correlation_id.map(|u| u.0),
            causation_id: self.causation_id.map(|u| u.0),
            command_id: self.command_id.map(|u| u.0),
            key_id: self.key_id.0,
        }
        .link_hash(prev, &self.nonce.0, &self.ciphertext.0)
    }
}

/// Every member before `events`, in the doc's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `format`.
    pub format: String,
    /// `origin`.
    pub origin: String,
    /// `from_size` (A).
    pub from_size: u64,
    /// `to_size` (B).
    pub to_size: u64,
    /// `checkpoints`: signed notes as served, ascending by size.
    pub checkpoints: Vec<String>,
    /// `prefix`.
    pub prefix: Prefix,
    /// `consistency_proof`.
    pub consistency_proof: Vec<HexHash>,
}
