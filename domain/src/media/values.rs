//! Media value types.

use serde::{Deserialize, Serialize};

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// Body or progress photo.
    ProgressPhoto,
    /// Photo of an injection site.
    InjectionSitePhoto,
    /// Scan or photo of a lab report.
    LabReport,
    /// A report vigil generated (PDF export).
    GeneratedReport,
}

impl MediaKind {
    /// Whether the record is a photograph (faces may be in it).
    pub fn is_photo(self) -> bool {
        matches!(self, MediaKind::ProgressPhoto | MediaKind::InjectionSitePhoto)
    }
}

/// Where the sanitised bytes are stored: an opaque key, 1–256 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlobRef(String);

impl BlobRef {
    /// Accepts 1–256 printable ASCII characters; `None` otherwise.
    pub fn parse(text: &str) -> Option<BlobRef> {
        let ok = !text.is_empty() && text.len() <= 256 && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| BlobRef(text.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 256-bit content digest (SHA-256 or BLAKE3) as 64 lower-case hex characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentHash(String);

impl ContentHash {
    /// Accepts 64 hex characters in either case, stored lower-case; `None` otherwise.
    pub fn parse(text: &str) -> Option<ContentHash> {
        let ok = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| ContentHash(text.to_ascii_lowercase()))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
