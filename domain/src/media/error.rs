//! Media rejections.

use crate::values::MediaId;

/// Why a media command was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// A record id already used.
    #[error("media {0} already exists")]
    DuplicateMedia(MediaId),
    /// The same bytes are already recorded (and not removed).
    #[error("the same content is already stored as media {0}")]
    DuplicateContent(MediaId),
    /// Removing a record that does not exist.
    #[error("media {0} does not exist")]
    UnknownMedia(MediaId),
    /// Removing a record twice.
    #[error("media {0} was already removed")]
    AlreadyRemoved(MediaId),
    /// A blob reference that is empty, too long or not printable ASCII.
    #[error("the blob reference must be 1–256 printable ASCII characters")]
    InvalidBlobRef,
    /// A content hash that is not 64 hex characters.
    #[error("the content hash must be 64 hex characters")]
    InvalidContentHash,
    /// The pipeline did not strip metadata (GPS, device serials, thumbnails): never stored.
    #[error("metadata must be stripped before media is stored")]
    MetadataNotStripped,
}
