use proptest::prelude::*;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::test_support::{assert_events_round_trip, assert_replay_is_deterministic, uuid};
use crate::testing::given;
use crate::values::MediaId;

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const TAKEN: OffsetDateTime = datetime!(2026-02-28 18:30 UTC);
const HASH: &str = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";

fn id(n: u128) -> MediaId {
    MediaId::from_uuid(uuid(n))
}

fn add(n: u128, hash: &str) -> MediaCommand {
    MediaCommand::AddMedia {
        media_id: id(n),
        blob_ref: format!("blobs/{n}"),
        content_hash: hash.into(),
        kind: MediaKind::ProgressPhoto,
        taken_at: Some(TAKEN),
        faces_redacted: true,
        metadata_stripped: true,
        added_at: NOW,
    }
}

fn added(n: u128) -> MediaEvent {
    MediaEvent::MediaAdded {
        media_id: id(n),
        blob_ref: BlobRef::parse(&format!("blobs/{n}")).unwrap(),
        content_hash: ContentHash::parse(HASH).unwrap(),
        kind: MediaKind::ProgressPhoto,
        taken_at: Some(TAKEN),
        faces_redacted: true,
        added_at: NOW,
    }
}

fn removed(n: u128) -> MediaEvent {
    MediaEvent::MediaRemoved {
        media_id: id(n),
        blob_ref: BlobRef::parse(&format!("blobs/{n}")).unwrap(),
        removed_at: NOW,
    }
}

#[test]
fn adding_a_sanitised_photo_records_its_metadata_with_a_lower_case_hash() {
    let state = given::<Media>([]).when(add(1, HASH)).then_events([added(1)]);
    assert_eq!(state.records[&id(1)].content_hash.as_str(), HASH.to_lowercase());
    assert!(MediaKind::ProgressPhoto.is_photo());
    assert!(!MediaKind::LabReport.is_photo());
}

#[test]
fn media_whose_metadata_was_not_stripped_is_refused() {
    let mut command = add(1, HASH);
    if let MediaCommand::AddMedia { metadata_stripped, .. } = &mut command {
        *metadata_stripped = false;
    }
    given::<Media>([])
        .when(command)
        .then_rejected(MediaError::MetadataNotStripped);
}

#[test]
fn malformed_references_and_hashes_are_rejected() {
    let mut command = add(1, HASH);
    if let MediaCommand::AddMedia { blob_ref, .. } = &mut command {
        *blob_ref = "has space".into();
    }
    given::<Media>([])
        .when(command)
        .then_rejected(MediaError::InvalidBlobRef);
    given::<Media>([])
        .when(add(1, "abc"))
        .then_rejected(MediaError::InvalidContentHash);
}

#[test]
fn the_same_id_or_the_same_bytes_twice_are_rejected() {
    given::<Media>([added(1)])
        .when(add(1, &"0".repeat(64)))
        .then_rejected(MediaError::DuplicateMedia(id(1)));
    given::<Media>([added(1)])
        .when(add(2, HASH))
        .then_rejected(MediaError::DuplicateContent(id(1)));
}

#[test]
fn removed_content_may_be_added_again() {
    given::<Media>([added(1), removed(1)])
        .when(add(2, HASH))
        .then_accepted();
}

#[test]
fn removing_names_the_blob_so_storage_can_delete_it() {
    let state = given::<Media>([added(1)])
        .when(MediaCommand::RemoveMedia {
            media_id: id(1),
            removed_at: NOW,
        })
        .then_events([removed(1)]);
    assert!(state.records[&id(1)].removed);
}

#[test]
fn removing_unknown_or_removed_media_is_rejected() {
    given::<Media>([])
        .when(MediaCommand::RemoveMedia {
            media_id: id(1),
            removed_at: NOW,
        })
        .then_rejected(MediaError::UnknownMedia(id(1)));
    given::<Media>([added(1), removed(1)])
        .when(MediaCommand::RemoveMedia {
            media_id: id(1),
            removed_at: NOW,
        })
        .then_rejected(MediaError::AlreadyRemoved(id(1)));
}

#[test]
fn every_media_event_round_trips_through_serde() {
    let undated = MediaEvent::MediaAdded {
        media_id: id(3),
        blob_ref: BlobRef::parse("r/3").unwrap(),
        content_hash: ContentHash::parse(&"a".repeat(64)).unwrap(),
        kind: MediaKind::GeneratedReport,
        taken_at: None,
        faces_redacted: false,
        added_at: NOW,
    };
    assert_events_round_trip(&[added(1), undated, removed(1)], 2);
}

fn any_command() -> impl Strategy<Value = MediaCommand> {
    let hash = prop::sample::select(vec![HASH.to_owned(), "b".repeat(64), "bad".to_owned()]);
    prop_oneof![
        (0_u128..4, hash, any::<bool>()).prop_map(|(n, hash, stripped)| {
            let mut command = add(n, &hash);
            if let MediaCommand::AddMedia { metadata_stripped, .. } = &mut command {
                *metadata_stripped = stripped;
            }
            command
        }),
        (0_u128..4).prop_map(|n| MediaCommand::RemoveMedia {
            media_id: id(n),
            removed_at: NOW
        }),
    ]
}

proptest! {
    #[test]
    fn replaying_any_accepted_media_history_is_deterministic(commands in prop::collection::vec(any_command(), 0..20)) {
        assert_replay_is_deterministic::<Media>(commands);
    }
}
