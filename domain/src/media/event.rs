//! Media events.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::values::{BlobRef, ContentHash, MediaKind};
use crate::aggregate::DomainEvent;
use crate::values::MediaId;
use crate::values::serde_time;

/// Facts about a media log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum MediaEvent {
    /// A sanitised photo or report was recorded.
    MediaAdded {
        /// The record.
        media_id: MediaId,
        /// Storage key.
        blob_ref: BlobRef,
        /// Digest of the stored bytes.
        content_hash: ContentHash,
        /// What it is.
        kind: MediaKind,
        /// When taken, if known.
        #[serde(with = "serde_time::option_rfc3339")]
        taken_at: Option<OffsetDateTime>,
        /// Whether faces were redacted.
        faces_redacted: bool,
        /// When added.
        #[serde(with = "time::serde::rfc3339")]
        added_at: OffsetDateTime,
    },
    /// A record was removed.
    MediaRemoved {
        /// The record.
        media_id: MediaId,
        /// Storage key, so the storage layer can delete the bytes without a lookup.
        blob_ref: BlobRef,
        /// When removed.
        #[serde(with = "time::serde::rfc3339")]
        removed_at: OffsetDateTime,
    },
}

impl DomainEvent for MediaEvent {
    fn event_type(&self) -> &'static str {
        match self {
            MediaEvent::MediaAdded { .. } => "MediaAdded",
            MediaEvent::MediaRemoved { .. } => "MediaRemoved",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }
}
