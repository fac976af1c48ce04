//! Media state.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::event::MediaEvent;
use super::values::{BlobRef, ContentHash, MediaKind};
use crate::values::MediaId;

/// One record as it currently stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRecord {
    /// Storage key.
    pub blob_ref: BlobRef,
    /// Digest.
    pub content_hash: ContentHash,
    /// What it is.
    pub kind: MediaKind,
    /// When taken.
    pub taken_at: Option<OffsetDateTime>,
    /// Whether faces were redacted.
    pub faces_redacted: bool,
    /// Whether removed.
    pub removed: bool,
}

/// Every record of the log.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MediaState {
    /// Records by id.
    pub records: BTreeMap<MediaId, MediaRecord>,
}

impl MediaState {
    /// Applies one accepted event (the aggregate's `evolve`).
    pub fn apply(mut self, event: &MediaEvent) -> MediaState {
        match event {
            MediaEvent::MediaAdded {
                media_id,
                blob_ref,
                content_hash,
                kind,
                taken_at,
                faces_redacted,
                ..
            } => {
                self.records.insert(
                    *media_id,
                    MediaRecord {
                        blob_ref: blob_ref.clone(),
                        content_hash: content_hash.clone(),
                        kind: *kind,
                        taken_at: *taken_at,
                        faces_redacted: *faces_redacted,
                        removed: false,
                    },
                );
            }
            MediaEvent::MediaRemoved { media_id, .. } => {
                if let Some(record) = self.records.get_mut(media_id) {
                    record.removed = true;
                }
            }
        }
        self
    }
}
