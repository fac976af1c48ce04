//! Media rules.

use super::command::MediaCommand;
use super::error::MediaError;
use super::event::MediaEvent;
use super::state::MediaState;
use super::values::{BlobRef, ContentHash};

/// The aggregate's `decide`.
pub(super) fn decide(state: &MediaState, command: MediaCommand) -> Result<Vec<MediaEvent>, MediaError> {
    match command {
        MediaCommand::AddMedia {
            media_id,
            blob_ref,
            content_hash,
            kind,
            taken_at,
            faces_redacted,
            metadata_stripped,
            added_at,
        } => {
            if state.records.contains_key(&media_id) {
                return Err(MediaError::DuplicateMedia(media_id));
            }
            let blob_ref = BlobRef::parse(&blob_ref).ok_or(MediaError::InvalidBlobRef)?;
            let content_hash = ContentHash::parse(&content_hash).ok_or(MediaError::InvalidContentHash)?;
            // Fail closed: EXIF can carry GPS and an unblurred thumbnail (docs/media.md).
            if !metadata_stripped {
                return Err(MediaError::MetadataNotStripped);
            }
            if let Some((existing, _)) = state
                .records
                .iter()
                .find(|(_, r)| !r.removed && r.content_hash == content_hash)
            {
                return Err(MediaError::DuplicateContent(*existing));
            }
            Ok(vec![MediaEvent::MediaAdded {
                media_id,
                blob_ref,
                content_hash,
                kind,
                taken_at,
                faces_redacted,
                added_at,
            }])
        }
        MediaCommand::RemoveMedia { media_id, removed_at } => {
            let record = state.records.get(&media_id).ok_or(MediaError::UnknownMedia(media_id))?;
            if record.removed {
                return Err(MediaError::AlreadyRemoved(media_id));
            }
            Ok(vec![MediaEvent::MediaRemoved {
                media_id,
                blob_ref: record.blob_ref.clone(),
                removed_at,
            }])
        }
    }
}
