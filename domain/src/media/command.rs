//! Media commands.

use time::OffsetDateTime;

use super::values::MediaKind;
use crate::values::MediaId;

/// Requests a media log can receive.
#[derive(Clone, Debug, PartialEq)]
pub enum MediaCommand {
    /// Record a sanitised upload.
    AddMedia {
        /// Minted by the caller.
        media_id: MediaId,
        /// Storage key of the sanitised bytes.
        blob_ref: String,
        /// Digest of the sanitised bytes, hex.
        content_hash: String,
        /// What it is.
        kind: MediaKind,
        /// When the photo was taken or the report issued, if known.
        taken_at: Option<OffsetDateTime>,
        /// Whether the pipeline redacted detected faces (photos).
        faces_redacted: bool,
        /// Whether the pipeline removed EXIF/XMP/IPTC metadata.
        metadata_stripped: bool,
        /// Now.
        added_at: OffsetDateTime,
    },
    /// Remove a record (the bytes are deleted by the storage layer on this event).
    RemoveMedia {
        /// The record.
        media_id: MediaId,
        /// Now.
        removed_at: OffsetDateTime,
    },
}
