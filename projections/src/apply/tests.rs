//! Buffered writes must leave exactly the read models that applying events one by one did:
//! an update or delete after an insert of the same batch sees it, the first of two inserts of
//! one key wins, and batch boundaries change nothing. Every case runs on SQLite and, when
//! `VIGIL_TEST_PG_URL` is set (always under `CI=true`), on Postgres.

mod events;
mod kit;

use std::time::Duration;

use time::macros::date;
use uuid::Uuid;
use vigil_domain::values::{DoseId, EntryId, PanelId};

use events::{account, bloodwork, dose, health, protocol};
use kit::Env;

#[tokio::test]
async fn a_correction_in_the_same_batch_as_its_record_is_applied_after_it() {
    for env in Env::all().await {
        let user = Uuid::now_v7();
        let (entry, dose_id, panel) = (
            EntryId::from(Uuid::now_v7()),
            DoseId::from(Uuid::now_v7()),
            PanelId::from(Uuid::now_v7()),
        );
        env.append_each(vec![
            health::recorded(user, entry, "87.3"),
            dose::taken(user, dose_id, "125"),
            bloodwork::recorded(user, panel, &["610", "14.2"]),
            health::corrected(user, entry, "86.1"),
            dose::corrected(user, dose_id, "100"),
            bloodwork::corrected(user, panel, &["590"]),
        ])
        .await;
        env.rebuild_in_one_batch().await;

        let row = env
            .row(
                "select components, corrections from health_logs where entry_id = $1",
                entry.as_uuid(),
            )
            .await;
        assert!(
            row[0].contains("86.1") && !row[0].contains("87.3"),
            "{} {row:?}",
            env.name
        );
        assert_eq!(row[1], "1", "{}", env.name);
        let row = env
            .row(
                "select dose, corrections from doses where dose_id = $1",
                dose_id.as_uuid(),
            )
            .await;
        assert!(row[0].contains("100"), "{} {row:?}", env.name);
        assert_eq!(row[1], "1", "{}", env.name);
        let results = env
            .rows(
                "select value from marker_results where panel_id = $1 order by idx",
                panel.as_uuid(),
            )
            .await;
        assert_eq!(results, vec![vec!["590".to_string()]], "{}", env.name);
        env.close().await;
    }
}

#[tokio::test]
async fn a_retraction_in_the_same_batch_as_its_record_wins() {
    for env in Env::all().await {
        let user = Uuid::now_v7();
        let (entry, dose_id, panel) = (
            EntryId::from(Uuid::now_v7()),
            DoseId::from(Uuid::now_v7()),
            PanelId::from(Uuid::now_v7()),
        );
        env.append_each(vec![
            health::recorded(user, entry, "87.3"),
            bloodwork::recorded(user, panel, &["610", "14.2"]),
            dose::taken(user, dose_id, "125"),
            health::retracted(user, entry),
            bloodwork::retracted(user, panel),
            dose::retracted(user, dose_id),
        ])
        .await;
        env.rebuild_in_one_batch().await;

        let health = env
            .row("select retracted from health_logs where entry_id = $1", entry.as_uuid())
            .await;
        let panel_row = env
            .row(
                "select retracted from bloodwork_panels where panel_id = $1",
                panel.as_uuid(),
            )
            .await;
        let dose_row = env
            .row("select retracted from doses where dose_id = $1", dose_id.as_uuid())
            .await;
        assert_eq!(
            [&health[0], &panel_row[0], &dose_row[0]],
            ["1", "1", "1"],
            "{}",
            env.name
        );
        let results = env
            .rows("select value from marker_results where panel_id = $1", panel.as_uuid())
            .await;
        assert!(
            results.is_empty(),
            "{}: retracted results stay out of the series: {results:?}",
            env.name
        );
        env.close().await;
    }
}

#[tokio::test]
async fn rows_beyond_one_statement_are_all_written_and_the_first_of_one_id_wins() {
    for env in Env::all().await {
        let user = Uuid::now_v7();
        let entries: Vec<EntryId> = (0..250).map(|_| EntryId::from(Uuid::now_v7())).collect();
        let mut events: Vec<_> = entries.iter().map(|e| health::recorded(user, *e, "80")).collect();
        // A second record of the first entry, more than one statement later: ignored, as the
        // one-by-one `on conflict do nothing` ignored it.
        events.insert(180, health::recorded(user, entries[0], "99"));
        events.push(health::corrected(user, entries[1], "81"));
        env.append_each(events).await;
        env.rebuild_in_one_batch().await;

        let count = env
            .rows("select entry_id from health_logs where user_id = $1", user)
            .await
            .len();
        assert_eq!(count, 250, "{}", env.name);
        let first = env
            .row(
                "select components from health_logs where entry_id = $1",
                entries[0].as_uuid(),
            )
            .await;
        assert!(
            first[0].contains("\"80\"") && !first[0].contains("99"),
            "{} {first:?}",
            env.name
        );
        let second = env
            .row(
                "select corrections from health_logs where entry_id = $1",
                entries[1].as_uuid(),
            )
            .await;
        assert_eq!(second[0], "1", "{}", env.name);
        env.close().await;
    }
}

#[tokio::test]
async fn rebuilding_twice_gives_identical_read_models() {
    for env in Env::all().await {
        env.append_each(mixed_log(Uuid::now_v7())).await;
        env.rebuild_in_one_batch().await;
        let first = env.dump().await;
        env.rebuild_in_one_batch().await;
        assert_eq!(env.dump().await, first, "{}", env.name);
        assert!(
            first.values().all(|rows| !rows.is_empty()),
            "{}: every table has rows: {first:?}",
            env.name
        );
        env.close().await;
    }
}

#[tokio::test]
async fn one_event_per_batch_and_one_batch_give_identical_read_models() {
    for env in Env::all().await {
        let (kept, erased) = (Uuid::now_v7(), Uuid::now_v7());
        // Live: the runner applies each event in its own batch before the next is appended.
        let runner = env.runner().await;
        for event in mixed_log(kept).into_iter().chain(mixed_log(erased)) {
            let position = env.append(event).await;
            runner.wait_for(position, Duration::from_secs(10)).await.unwrap();
        }
        let position = env.shred(erased).await;
        runner.wait_for(position, Duration::from_secs(10)).await.unwrap();
        runner.stop_in_place().await;
        let live = env.dump().await;
        env.rebuild_in_one_batch().await;
        assert_eq!(env.dump().await, live, "{}", env.name);
        let left = env
            .rows("select user_id from accounts where user_id = $1", erased)
            .await;
        assert!(left.is_empty(), "{}: an erased person's rows are gone", env.name);
        env.close().await;
    }
}

#[tokio::test]
async fn an_account_keeps_only_the_claims_of_its_last_moves_and_the_history_of_its_consent() {
    for env in Env::all().await {
        let user = Uuid::now_v7();
        env.append_each(vec![
            account::registered(user),
            account::email_changed(user),
            account::handle_changed(user),
            account::consent_given(user),
            account::consent_withdrawn(user),
        ])
        .await;
        let claims = "select kind, event_version from identity_claims where user_id = $1 order by kind";
        let moved = vec![vec!["email".to_owned(), "2".into()], vec!["handle".into(), "3".into()]];
        env.rebuild_in_one_batch().await;
        assert_eq!(env.rows(claims, user).await, moved, "{}", env.name);
        // Replayed over the claims a rebuild keeps: the registration's old claims come back
        // for a moment inside the batch and go again, and the moves stay.
        env.rebuild_in_one_batch().await;
        assert_eq!(env.rows(claims, user).await, moved, "{}", env.name);
        let history = env
            .rows(
                "select seq, given from ai_consent_changes where user_id = $1 order by seq",
                user,
            )
            .await;
        let expected = vec![vec!["4".to_owned(), "1".into()], vec!["5".into(), "0".into()]];
        assert_eq!(history, expected, "{}", env.name);
        let now = env
            .row("select ai_consent from accounts where user_id = $1", user)
            .await;
        assert_eq!(now, vec!["0".to_owned()], "{}", env.name);
        env.close().await;
    }
}

#[tokio::test]
async fn the_last_active_day_only_moves_forward_and_activity_withdraws_a_notice() {
    for env in Env::all().await {
        let (active, noticed) = (Uuid::now_v7(), Uuid::now_v7());
        // Both registered on 2026-01-01 (`events::at`).
        env.append_each(vec![
            account::registered(active),
            account::registered(noticed),
            account::noticed(active, date!(2027 - 12 - 01)),
            account::active_on(active, date!(2026 - 02 - 01)),
            // Another server, just before midnight, recorded its day late.
            account::active_on(active, date!(2026 - 01 - 31)),
            account::noticed(noticed, date!(2027 - 12 - 02)),
        ])
        .await;
        env.rebuild_in_one_batch().await;
        let sql = "select last_active_on, inactivity_erase_on from accounts where user_id = $1";
        assert_eq!(env.row(sql, active).await, ["2026-02-01", "null"], "{}", env.name);
        assert_eq!(
            env.row(sql, noticed).await,
            ["2026-01-01", "2027-12-02"],
            "{}",
            env.name
        );
        env.close().await;
    }
}

/// One person's history touching every table and every statement the apply functions run.
fn mixed_log(user: Uuid) -> Vec<events::Event> {
    let (e1, e2) = (EntryId::from(Uuid::now_v7()), EntryId::from(Uuid::now_v7()));
    let (d1, d2, d3) = (
        DoseId::from(Uuid::now_v7()),
        DoseId::from(Uuid::now_v7()),
        DoseId::from(Uuid::now_v7()),
    );
    let (p1, p2) = (PanelId::from(Uuid::now_v7()), PanelId::from(Uuid::now_v7()));
    let proto = Uuid::now_v7();
    vec![
        account::registered(user),
        account::noticed(user, date!(2027 - 12 - 01)),
        account::password_set(user, "$argon2id$v=19$first"),
        protocol::defined(user, proto),
        health::recorded(user, e1, "87.3"),
        dose::taken(user, d1, "125"),
        health::recorded(user, e2, "87.0"),
        dose::skipped(user, d2),
        bloodwork::recorded(user, p1, &["610", "14.2"]),
        account::handle_changed(user),
        protocol::amended(user, proto),
        health::corrected(user, e1, "86.1"),
        dose::corrected(user, d1, "100"),
        bloodwork::recorded(user, p2, &["5.1"]),
        account::password_set(user, "$argon2id$v=19$second"),
        account::email_changed(user),
        protocol::paused(user, proto),
        bloodwork::corrected(user, p1, &["590"]),
        health::retracted(user, e2),
        dose::retracted(user, d2),
        account::settings_changed(user),
        protocol::resumed(user, proto),
        bloodwork::retracted(user, p2),
        dose::taken(user, d3, "125"),
        account::consent_given(user),
        account::active_on(user, date!(2026 - 02 - 01)),
        account::tier_changed(user),
        protocol::ended(user, proto),
    ]
}
