//! The inactivity check against a real SQLite store, read database and runner, with the clock
//! injected: accounts are registered on a chosen day (their events appended as registration
//! would), activity is recorded on chosen days, and each run names its "today".

use std::sync::Mutex;
use std::time::Duration;

use time::macros::{date, datetime};
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;
use vigil_domain::account::{AccountEvent, InactivityPolicy, Role};
use vigil_domain::aggregate::DomainEvent;
use vigil_domain::health::{HealthCommand, HealthLog, VitalKind, VitalReading};
use vigil_domain::values::{Decimal, EmailAddress, EntryId, Handle, UserId};
use vigil_eventstore::{EventStore, ExpectedVersion, Metadata, NewEvent, Payload};
use vigil_projections::{read, streams};

use super::{InactivityNotice, Outcome, Report, run_once};
use crate::service::Service;
use crate::service::tests::service;

/// Remembers every notice it is handed.
#[derive(Default)]
struct Notices(Mutex<Vec<(Uuid, Date)>>);

impl InactivityNotice for Notices {
    fn notify(&self, person: Uuid, erase_on: Date) {
        self.0.lock().unwrap().push((person, erase_on));
    }
}

impl Notices {
    fn taken(&self) -> Vec<(Uuid, Date)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn two_years() -> InactivityPolicy {
    InactivityPolicy::after_days(730).unwrap()
}

/// Registers `person` with `role` at `at`, as the registration flow's event would.
async fn register(store: &EventStore, service: &Service, role: Role, at: OffsetDateTime) -> Uuid {
    let person = Uuid::now_v7();
    let event = AccountEvent::AccountRegistered {
        user_id: UserId::from_uuid(person),
        handle: Handle::generate(person.as_u128() as u64),
        handle_generated: true,
        email: EmailAddress::parse(&format!("{}@example.org", person.simple())).unwrap(),
        role,
        registered_at: at,
    };
    let new = NewEvent::json(event.event_type(), event.schema_version(), &event).unwrap();
    let outcome = store
        .append_to(
            &streams::account(person),
            person,
            ExpectedVersion::NoStream,
            vec![new],
            Metadata::actor("test"),
        )
        .await
        .unwrap();
    service.settle(outcome.last_position).await.unwrap();
    person
}

async fn run(service: &Service, today: Date, notices: &Notices) -> Report {
    match run_once(service, today, two_years(), notices).await.unwrap() {
        Outcome::Ran(report) => report,
        other => panic!("the check did not run: {other:?}"),
    }
}

fn report(noticed: usize, erased: usize) -> Report {
    Report {
        noticed,
        erased,
        ..Report::default()
    }
}

async fn exists(service: &Service, person: Uuid) -> bool {
    read::account(service.db(), person).await.unwrap().is_some()
}

#[tokio::test]
async fn an_account_nobody_uses_is_noticed_thirty_days_ahead_then_erased_on_that_day() {
    let dir = tempfile::tempdir().unwrap();
    let (store, service) = service(dir.path()).await;
    let notices = Notices::default();
    let person = register(&store, &service, Role::User, datetime!(2024-01-10 23:30 UTC)).await;
    // 730 days after 2024-01-10.
    let erase_on = date!(2026 - 01 - 09);

    assert_eq!(run(&service, date!(2025 - 12 - 09), &notices).await, report(0, 0));
    assert_eq!(run(&service, date!(2025 - 12 - 10), &notices).await, report(1, 0));
    assert_eq!(notices.taken(), [(person, erase_on)]);
    let head = store.head_position().await.unwrap();
    service.settle(head).await.unwrap();
    assert_eq!(
        read::account(service.db(), person)
            .await
            .unwrap()
            .unwrap()
            .inactivity_erase_on,
        Some(erase_on)
    );
    // Once per inactive period, however often the check runs.
    assert_eq!(run(&service, date!(2025 - 12 - 11), &notices).await, report(0, 0));
    assert_eq!(run(&service, date!(2026 - 01 - 08), &notices).await, report(0, 0));
    assert!(notices.taken().is_empty());
    assert!(exists(&service, person).await);

    assert_eq!(run(&service, erase_on, &notices).await, report(0, 1));
    assert!(!exists(&service, person).await, "the read models dropped the person");
    // Ledger entries are sealed under the system's key and name the subject inside.
    let ledger = store.read_stream("erasure-ledger", 1, 100).await.unwrap();
    let entries: Vec<_> = ledger
        .iter()
        .filter(|e| matches!(&e.payload, Payload::Json { json, .. } if String::from_utf8_lossy(json).contains(&person.to_string())))
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].envelope.actor, "system:inactivity");
    assert_eq!(run(&service, date!(2026 - 01 - 10), &notices).await, report(0, 0));
    service.shutdown().await;
}

#[tokio::test]
async fn a_first_run_over_old_accounts_notices_and_erases_thirty_days_later() {
    let dir = tempfile::tempdir().unwrap();
    let (store, service) = service(dir.path()).await;
    let notices = Notices::default();
    let person = register(&store, &service, Role::User, datetime!(2020-01-01 09:00 UTC)).await;
    assert_eq!(run(&service, date!(2026 - 01 - 01), &notices).await, report(1, 0));
    assert_eq!(notices.taken(), [(person, date!(2026 - 01 - 31))]);
    assert_eq!(run(&service, date!(2026 - 01 - 30), &notices).await, report(0, 0));
    assert_eq!(run(&service, date!(2026 - 01 - 31), &notices).await, report(0, 1));
    service.shutdown().await;
}

#[tokio::test]
async fn activity_keeps_an_account_and_withdraws_its_notice() {
    let dir = tempfile::tempdir().unwrap();
    let (store, service) = service(dir.path()).await;
    let notices = Notices::default();
    let active = register(&store, &service, Role::User, datetime!(2024-01-10 09:00 UTC)).await;
    let returning = register(&store, &service, Role::User, datetime!(2024-01-10 09:00 UTC)).await;
    assert!(service.record_activity(active, date!(2025 - 06 - 01)).await.unwrap());
    assert!(
        !service.record_activity(active, date!(2025 - 06 - 01)).await.unwrap(),
        "once per day"
    );
    assert_eq!(run(&service, date!(2025 - 12 - 10), &notices).await, report(1, 0));
    assert_eq!(notices.taken(), [(returning, date!(2026 - 01 - 09))]);

    // Back before the day the notice named: the notice is withdrawn, and a new period starts.
    assert!(service.record_activity(returning, date!(2026 - 01 - 05)).await.unwrap());
    let head = store.head_position().await.unwrap();
    service.settle(head).await.unwrap();
    let row = read::account(service.db(), returning).await.unwrap().unwrap();
    assert_eq!(
        (row.last_active_on, row.inactivity_erase_on),
        (Some(date!(2026 - 01 - 05)), None)
    );
    assert_eq!(run(&service, date!(2026 - 01 - 09), &notices).await, report(0, 0));
    assert!(exists(&service, active).await && exists(&service, returning).await);
    // Each erased only after a notice of its own period.
    assert_eq!(run(&service, date!(2027 - 05 - 02), &notices).await, report(1, 0));
    assert_eq!(notices.taken(), [(active, date!(2027 - 06 - 01))]);
    assert_eq!(run(&service, date!(2027 - 06 - 01), &notices).await, report(0, 1));
    assert!(!exists(&service, active).await && exists(&service, returning).await);
    service.shutdown().await;
}

#[tokio::test]
async fn signing_in_and_writing_ones_own_data_count_as_activity() {
    let dir = tempfile::tempdir().unwrap();
    let (store, service) = service(dir.path()).await;
    let registered = datetime!(2024-01-10 09:00 UTC);
    let (writer, signer) = (
        register(&store, &service, Role::User, registered).await,
        register(&store, &service, Role::User, registered).await,
    );
    let now = OffsetDateTime::now_utc();
    let today = now.to_offset(UtcOffset::UTC).date();
    let reading = VitalReading::Quantity {
        kind: VitalKind::BodyWeight,
        value: Decimal::from_int(80),
        unit: "kg".into(),
    };
    service
        .execute::<HealthLog>(
            &streams::health(writer),
            writer,
            Metadata::actor(format!("user:{writer}")),
            |_| {
                Ok(HealthCommand::RecordVital {
                    entry_id: EntryId::from_uuid(Uuid::now_v7()),
                    reading: reading.clone(),
                    measured_at: now,
                    note: None,
                    recorded_at: now,
                })
            },
        )
        .await
        .unwrap();
    let head = store.head_position().await.unwrap();
    service.issue_new_session(signer, now, head, false).await.unwrap();

    // Recorded off the request path: wait for it.
    for person in [writer, signer] {
        let mut waited = Duration::ZERO;
        loop {
            let head = store.head_position().await.unwrap();
            service.settle(head).await.unwrap();
            let row = read::account(service.db(), person).await.unwrap().unwrap();
            if row.last_active_on == Some(today) {
                break;
            }
            assert!(waited < Duration::from_secs(10), "no activity recorded: {row:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += Duration::from_millis(50);
        }
    }
    // Another write today reads nothing and writes nothing more.
    let before = store.head_position().await.unwrap();
    service.touch(writer, today);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.head_position().await.unwrap(), before);
    service.shutdown().await;
}

#[tokio::test]
async fn staff_accounts_are_never_noticed_or_erased() {
    let dir = tempfile::tempdir().unwrap();
    let (store, service) = service(dir.path()).await;
    let notices = Notices::default();
    let admin = register(&store, &service, Role::Admin, datetime!(2020-01-01 09:00 UTC)).await;
    for today in [date!(2026 - 01 - 01), date!(2026 - 03 - 01)] {
        assert_eq!(run(&service, today, &notices).await, report(0, 0));
    }
    assert!(notices.taken().is_empty());
    assert!(exists(&service, admin).await);
    service.shutdown().await;
}

#[tokio::test]
async fn a_runner_that_finds_the_lock_taken_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, service) = service(dir.path()).await;
    let notices = Notices::default();
    register(&store, &service, Role::User, datetime!(2020-01-01 09:00 UTC)).await;
    let held = super::lock::RunLock::try_take(service.db()).await.unwrap().unwrap();
    let busy = run_once(&service, date!(2026 - 01 - 01), two_years(), &notices)
        .await
        .unwrap();
    assert_eq!(busy, Outcome::Busy);
    held.release().await;
    assert_eq!(run(&service, date!(2026 - 01 - 01), &notices).await, report(1, 0));
    service.shutdown().await;
}
