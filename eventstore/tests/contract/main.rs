//! The event-store contract: every case runs against SQLite and against PostgreSQL.

// A test crate: a failed expectation should panic with the value in the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cases;
mod harness;
mod sqlite_files;

harness::contract!(
    appended_events_read_back_with_their_envelopes,
    a_wrong_expected_version_is_a_typed_conflict,
    retrying_a_command_id_writes_nothing_twice,
    reusing_a_command_id_for_another_stream_is_refused,
    a_stream_belongs_to_one_subject,
    invalid_input_is_refused_before_anything_is_written,
    positions_are_gapless_and_recorded_at_is_monotonic,
    the_database_refuses_update_and_delete_on_events,
    the_key_vault_is_kept_apart_from_the_log,
    a_ciphertext_moved_to_another_event_fails_to_open,
    verify_names_the_position_of_an_edited_ciphertext_byte,
    verify_detects_a_removed_tail_and_a_rewritten_link,
    a_reopened_store_continues_the_chain,
    shredding_erases_one_subject_and_keeps_the_chain_verifiable,
    appending_to_an_erased_subject_is_refused,
    shredding_destroys_every_key_version,
    rotating_the_master_key_rewraps_keys_without_touching_events,
    a_wrong_master_key_is_refused_at_open,
    old_schema_versions_are_upcast_on_read,
    a_subscription_delivers_history_then_live_events_in_order,
    a_tailing_reader_sees_every_event_once_while_64_writers_append,
    a_subscription_delivers_exactly_what_the_log_holds,
    two_store_instances_on_one_database_keep_one_gapless_chain,
    an_instance_sees_what_another_instance_wrote_to_its_streams,
    shred_cost_is_independent_of_event_count,
    a_long_read_answers_exactly_what_short_pages_answer,
    a_hole_in_the_log_reads_like_a_sequential_read_and_verify_names_it,
    every_event_gets_its_own_nonce_and_a_v7_id_of_its_recorded_time,
    the_stored_tree_answers_every_size_as_a_tree_built_in_memory,
    two_instances_on_one_database_keep_one_tree,
    a_log_without_a_tree_gets_it_built_when_the_store_opens,
    shredding_changes_no_node_and_earlier_proofs_still_verify,
    verify_tree_names_the_first_altered_node_and_proofs_refuse_bad_sizes,
    checkpoints_are_recorded_once_per_size_and_never_rewritten,
);
