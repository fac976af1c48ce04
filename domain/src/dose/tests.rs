use proptest::prelude::*;
use time::macros::{date, datetime, time};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::*;
use crate::compounds::{Compound, CompoundKey, Route};
use crate::dec;
use crate::protocol::dose::{Concentration, Dose, DoseError, DoseUnit};
use crate::protocol::{ItemOrigin, ItemSpec, Protocol, ProtocolCommand, ProtocolEvent};
use crate::test_support::{assert_events_round_trip, assert_replay_is_deterministic, uuid};
use crate::testing::given;
use crate::values::{DoseId, ItemId, ProtocolId};

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);
const TAKEN: OffsetDateTime = datetime!(2026-03-09 08:10 UTC);

fn dose_id(n: u128) -> DoseId {
    DoseId::from_uuid(uuid(100 + n))
}
fn item() -> ItemId {
    ItemId::from_uuid(uuid(10))
}
fn protocol_id() -> ProtocolId {
    ProtocolId::from_uuid(uuid(1))
}
fn te() -> Compound {
    Compound::Catalog(CompoundKey::TestosteroneEnanthate)
}
fn mg(amount: &str) -> Dose {
    Dose {
        amount: crate::values::Decimal::parse(amount).unwrap(),
        unit: DoseUnit::Mg,
        concentration: None,
    }
}
fn glute() -> Option<InjectionSite> {
    Some(InjectionSite {
        area: SiteArea::Glute,
        side: Some(BodySide::Left),
    })
}

fn take(n: u128, dose: Dose, taken_at: OffsetDateTime, slot: Option<OffsetDateTime>) -> DoseCommand {
    DoseCommand::LogDoseTaken {
        dose_id: dose_id(n),
        protocol_id: protocol_id(),
        item_id: item(),
        compound: te(),
        dose,
        route: Route::Im,
        site: glute(),
        taken_at,
        scheduled_for: slot,
        note: None,
        recorded_at: NOW,
    }
}

fn taken(n: u128, taken_at: OffsetDateTime, slot: Option<OffsetDateTime>) -> DoseEvent {
    given::<DoseLog>([])
        .when(take(n, mg("125"), taken_at, slot))
        .then_accepted()
        .remove(0)
}

fn skipped(n: u128, slot: OffsetDateTime) -> DoseEvent {
    DoseEvent::DoseSkipped {
        dose_id: dose_id(n),
        protocol_id: protocol_id(),
        item_id: item(),
        scheduled_for: slot,
        reason: Some("travel".into()),
        recorded_at: NOW,
    }
}

#[test]
fn logging_a_taken_dose_records_the_derived_active_amount() {
    let dose = Dose {
        amount: dec!("0.5"),
        unit: DoseUnit::Ml,
        concentration: Some(Concentration {
            amount: dec!("250"),
            unit: DoseUnit::Mg,
        }),
    };
    given::<DoseLog>([])
        .when(take(1, dose, TAKEN, None))
        .then_events([DoseEvent::DoseTaken {
            dose_id: dose_id(1),
            protocol_id: protocol_id(),
            item_id: item(),
            compound: te(),
            dose,
            active: ActiveAmount {
                amount: dec!("125.0"),
                unit: DoseUnit::Mg,
            },
            route: Route::Im,
            site: glute(),
            taken_at: TAKEN,
            scheduled_for: None,
            note: None,
            recorded_at: NOW,
        }]);
}

#[test]
fn logging_an_id_twice_is_rejected() {
    given::<DoseLog>([taken(1, TAKEN, None)])
        .when(take(1, mg("125"), TAKEN, None))
        .then_rejected(DoseLogError::DuplicateDose(dose_id(1)));
    given::<DoseLog>([taken(1, TAKEN, None)])
        .when(DoseCommand::LogDoseSkipped {
            dose_id: dose_id(1),
            protocol_id: protocol_id(),
            item_id: item(),
            scheduled_for: TAKEN,
            reason: None,
            recorded_at: NOW,
        })
        .then_rejected(DoseLogError::DuplicateDose(dose_id(1)));
}

#[test]
fn an_invalid_amount_is_rejected() {
    given::<DoseLog>([])
        .when(take(1, mg("0"), TAKEN, None))
        .then_rejected(DoseLogError::InvalidDose(DoseError::NotPositive));
    given::<DoseLog>([])
        .when(take(1, mg("999999"), TAKEN, None))
        .then_rejected(DoseLogError::InvalidDose(DoseError::TooLarge {
            unit: "mg",
            max: dec!("10000"),
        }));
}

#[test]
fn a_unit_unsuited_to_the_compound_is_rejected() {
    let mut command = take(1, mg("500"), TAKEN, None);
    if let DoseCommand::LogDoseTaken { compound, .. } = &mut command {
        *compound = Compound::Catalog(CompoundKey::Hcg);
    }
    given::<DoseLog>([])
        .when(command)
        .then_rejected(DoseLogError::UnitUnsuitable {
            unit: "mg",
            compound: "hCG",
        });
}

#[test]
fn an_injection_site_on_an_oral_dose_is_rejected() {
    let mut command = take(1, mg("0.5"), TAKEN, None);
    if let DoseCommand::LogDoseTaken { route, compound, .. } = &mut command {
        *route = Route::Oral;
        *compound = Compound::Catalog(CompoundKey::Anastrozole);
    }
    given::<DoseLog>([])
        .when(command)
        .then_rejected(DoseLogError::SiteNotApplicable);
}

#[test]
fn a_dose_taken_in_the_future_is_rejected() {
    given::<DoseLog>([])
        .when(take(1, mg("125"), NOW + Duration::hours(1), None))
        .then_rejected(DoseLogError::TakenInFuture);
}

#[test]
fn skipping_a_slot_is_recorded() {
    given::<DoseLog>([])
        .when(DoseCommand::LogDoseSkipped {
            dose_id: dose_id(2),
            protocol_id: protocol_id(),
            item_id: item(),
            scheduled_for: TAKEN,
            reason: Some("travel".into()),
            recorded_at: NOW,
        })
        .then_events([skipped(2, TAKEN)]);
}

#[test]
fn correcting_a_dose_replaces_its_details() {
    let state = given::<DoseLog>([taken(1, TAKEN, None)])
        .when(DoseCommand::CorrectDose {
            dose_id: dose_id(1),
            dose: mg("100"),
            route: Route::Subq,
            site: None,
            taken_at: TAKEN,
            scheduled_for: None,
            reason: Some("typo".into()),
            corrected_at: NOW,
        })
        .then_events([DoseEvent::DoseCorrected {
            dose_id: dose_id(1),
            dose: mg("100"),
            active: ActiveAmount {
                amount: dec!("100"),
                unit: DoseUnit::Mg,
            },
            route: Route::Subq,
            site: None,
            taken_at: TAKEN,
            scheduled_for: None,
            reason: Some("typo".into()),
            corrected_at: NOW,
        }]);
    assert_eq!(state.entries[&dose_id(1)].corrections, 1);
}

#[test]
fn a_correction_follows_the_same_rules_as_logging() {
    given::<DoseLog>([taken(1, TAKEN, None)])
        .when(DoseCommand::CorrectDose {
            dose_id: dose_id(1),
            dose: mg("125"),
            route: Route::Im,
            site: None,
            taken_at: NOW + Duration::days(1),
            scheduled_for: None,
            reason: None,
            corrected_at: NOW,
        })
        .then_rejected(DoseLogError::TakenInFuture);
}

#[test]
fn a_skip_cannot_be_corrected_into_a_dose() {
    given::<DoseLog>([skipped(2, TAKEN)])
        .when(DoseCommand::CorrectDose {
            dose_id: dose_id(2),
            dose: mg("125"),
            route: Route::Im,
            site: None,
            taken_at: TAKEN,
            scheduled_for: None,
            reason: None,
            corrected_at: NOW,
        })
        .then_rejected(DoseLogError::NotATakenDose(dose_id(2)));
}

#[test]
fn retracting_keeps_history_and_refuses_further_changes() {
    let retracted = DoseEvent::DoseRetracted {
        dose_id: dose_id(1),
        reason: None,
        retracted_at: NOW,
    };
    let state = given::<DoseLog>([taken(1, TAKEN, None)])
        .when(DoseCommand::RetractDose {
            dose_id: dose_id(1),
            reason: None,
            retracted_at: NOW,
        })
        .then_events([retracted.clone()]);
    assert!(state.taken_doses().is_empty());
    given::<DoseLog>([taken(1, TAKEN, None), retracted])
        .when(DoseCommand::RetractDose {
            dose_id: dose_id(1),
            reason: None,
            retracted_at: NOW,
        })
        .then_rejected(DoseLogError::DoseRetracted(dose_id(1)));
    given::<DoseLog>([])
        .when(DoseCommand::RetractDose {
            dose_id: dose_id(9),
            reason: None,
            retracted_at: NOW,
        })
        .then_rejected(DoseLogError::UnknownDose(dose_id(9)));
}

fn slots() -> Vec<OffsetDateTime> {
    vec![
        datetime!(2026-03-02 08:00 UTC),
        datetime!(2026-03-05 20:00 UTC),
        datetime!(2026-03-09 08:00 UTC),
        datetime!(2026-03-12 20:00 UTC),
    ]
}

#[test]
fn adherence_counts_on_time_late_skipped_missed_and_pending_slots() {
    let log = given::<DoseLog>([
        taken(
            1,
            datetime!(2026-03-02 08:30 UTC),
            Some(datetime!(2026-03-02 08:00 UTC)),
        ),
        // Logged without naming its slot: matched to the nearest one, 5 h late.
        taken(2, datetime!(2026-03-06 01:00 UTC), None),
        skipped(3, datetime!(2026-03-09 08:00 UTC)),
    ])
    .state()
    .clone();
    let report = adherence(&slots(), &log, item(), NOW, AdherencePolicy::default());
    let statuses: Vec<SlotStatus> = report.slots.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        vec![
            SlotStatus::OnTime { dose_id: dose_id(1) },
            SlotStatus::Late {
                dose_id: dose_id(2),
                minutes_late: 300
            },
            SlotStatus::Skipped { dose_id: dose_id(3) },
            SlotStatus::Pending,
        ]
    );
    assert_eq!(
        (report.due, report.on_time, report.late, report.skipped, report.missed),
        (3, 1, 1, 1, 0)
    );
    assert_eq!(report.on_time_percent, Some(dec!("33.3")));
}

#[test]
fn a_slot_with_nothing_logged_is_missed_once_its_grace_period_is_over() {
    let report = adherence(
        &slots(),
        &DoseLogState::default(),
        item(),
        NOW,
        AdherencePolicy::default(),
    );
    assert_eq!(report.missed, 3);
    assert_eq!(report.on_time_percent, Some(dec!("0.0")));
    let report = adherence(&[], &DoseLogState::default(), item(), NOW, AdherencePolicy::default());
    assert_eq!(report.on_time_percent, None);
}

#[test]
fn retracted_doses_do_not_count_towards_adherence() {
    let log = given::<DoseLog>([
        taken(
            1,
            datetime!(2026-03-02 08:00 UTC),
            Some(datetime!(2026-03-02 08:00 UTC)),
        ),
        DoseEvent::DoseRetracted {
            dose_id: dose_id(1),
            reason: None,
            retracted_at: NOW,
        },
    ])
    .state()
    .clone();
    let report = adherence(&slots()[..1], &log, item(), NOW, AdherencePolicy::default());
    assert_eq!(report.slots[0].status, SlotStatus::Missed);
}

fn e3_5d_protocol() -> crate::protocol::ProtocolState {
    let events = given::<Protocol>([])
        .when(ProtocolCommand::Define {
            protocol_id: protocol_id(),
            owner: crate::values::UserId::from_uuid(uuid(2)),
            name: "TRT".into(),
            items: vec![ItemSpec {
                item_id: item(),
                origin: ItemOrigin::New,
                compound: te(),
                dose: None,
                route: Route::Im,
                schedule: "250 mg/wk split E3.5D".into(),
                time_of_day: time!(08:00),
                start: date!(2026 - 03 - 02),
                end: None,
            }],
            effective_from: date!(2026 - 03 - 02),
            recorded_at: NOW,
        })
        .then_accepted();
    given::<Protocol>(events).state().clone()
}

#[test]
fn next_due_is_the_first_slot_not_yet_taken() {
    let protocol = e3_5d_protocol();
    let log = given::<DoseLog>([taken(
        1,
        datetime!(2026-03-09 08:05 UTC),
        Some(datetime!(2026-03-09 08:00 UTC)),
    )])
    .state()
    .clone();
    let policy = AdherencePolicy::default();
    assert_eq!(
        next_due(&protocol, &log, item(), UtcOffset::UTC, NOW, policy),
        Some(datetime!(2026-03-12 20:00 UTC))
    );
    // Within the grace period an untaken slot is still the one due.
    let just_after = datetime!(2026-03-09 09:00 UTC);
    assert_eq!(
        next_due(
            &protocol,
            &DoseLogState::default(),
            item(),
            UtcOffset::UTC,
            just_after,
            policy
        ),
        Some(datetime!(2026-03-09 08:00 UTC))
    );
}

/// `next_due` as it was before it learned to look ahead in steps: a year of slots at once.
fn next_due_over_a_whole_year(
    protocol: &crate::protocol::ProtocolState,
    log: &DoseLogState,
    as_of: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let policy = AdherencePolicy::default();
    let from = as_of - policy.on_time_within.max(policy.match_window);
    let slots = protocol.scheduled_doses(item(), UtcOffset::UTC, from, as_of + Duration::days(366));
    adherence(&slots, log, item(), as_of, policy)
        .slots
        .into_iter()
        .find(|s| s.status == SlotStatus::Pending)
        .map(|s| s.scheduled_for)
}

#[test]
fn next_due_looking_ahead_in_steps_finds_what_a_year_long_search_finds() {
    let protocol = e3_5d_protocol();
    let log = given::<DoseLog>([
        taken(
            1,
            datetime!(2026-03-02 08:05 UTC),
            Some(datetime!(2026-03-02 08:00 UTC)),
        ),
        taken(2, datetime!(2026-03-05 21:30 UTC), None),
        skipped(3, datetime!(2026-03-09 08:00 UTC)),
        taken(4, datetime!(2026-03-10 09:00 UTC), None),
    ])
    .state()
    .clone();
    // From a month before the protocol starts (its first slot is weeks away) to weeks into it.
    let mut as_of = datetime!(2026-01-20 00:00 UTC);
    let mut checked = 0;
    while as_of < datetime!(2026-04-15 00:00 UTC) {
        for log in [&log, &DoseLogState::default()] {
            assert_eq!(
                next_due(
                    &protocol,
                    log,
                    item(),
                    UtcOffset::UTC,
                    as_of,
                    AdherencePolicy::default()
                ),
                next_due_over_a_whole_year(&protocol, log, as_of),
                "as of {as_of}"
            );
            checked += 1;
        }
        as_of += Duration::minutes(317);
    }
    assert!(checked > 700);
}

#[test]
fn an_ended_protocol_has_nothing_due() {
    let ended = ProtocolEvent::ProtocolEnded {
        on: date!(2026 - 03 - 10),
        recorded_at: NOW,
    };
    let state = e3_5d_protocol().apply(&ended);
    assert_eq!(
        next_due(
            &state,
            &DoseLogState::default(),
            item(),
            UtcOffset::UTC,
            NOW,
            AdherencePolicy::default()
        ),
        None
    );
}

#[test]
fn every_dose_event_round_trips_through_serde() {
    assert_events_round_trip(
        &[
            taken(1, TAKEN, Some(datetime!(2026-03-09 08:00 UTC))),
            taken(4, TAKEN, None),
            skipped(2, TAKEN),
            DoseEvent::DoseCorrected {
                dose_id: dose_id(1),
                dose: mg("100"),
                active: ActiveAmount {
                    amount: dec!("100"),
                    unit: DoseUnit::Mg,
                },
                route: Route::Im,
                site: None,
                taken_at: TAKEN,
                scheduled_for: Some(TAKEN),
                reason: None,
                corrected_at: NOW,
            },
            DoseEvent::DoseRetracted {
                dose_id: dose_id(1),
                reason: Some("duplicate".into()),
                retracted_at: NOW,
            },
        ],
        4,
    );
}

fn any_command() -> impl Strategy<Value = DoseCommand> {
    let id = 0_u128..4;
    let at = (0_i64..400).prop_map(|h| datetime!(2026-03-01 00:00 UTC) + Duration::hours(h));
    prop_oneof![
        (id.clone(), 0_i64..300, at.clone()).prop_map(|(n, amount, at)| take(n, mg(&amount.to_string()), at, None)),
        (id.clone(), at.clone()).prop_map(|(n, at)| DoseCommand::LogDoseSkipped {
            dose_id: dose_id(n),
            protocol_id: protocol_id(),
            item_id: item(),
            scheduled_for: at,
            reason: None,
            recorded_at: NOW,
        }),
        (id.clone(), 0_i64..300, at).prop_map(|(n, amount, at)| DoseCommand::CorrectDose {
            dose_id: dose_id(n),
            dose: mg(&amount.to_string()),
            route: Route::Im,
            site: None,
            taken_at: at,
            scheduled_for: None,
            reason: None,
            corrected_at: NOW,
        }),
        id.prop_map(|n| DoseCommand::RetractDose {
            dose_id: dose_id(n),
            reason: None,
            retracted_at: NOW,
        }),
    ]
}

proptest! {
    #[test]
    fn replaying_any_accepted_dose_history_is_deterministic(commands in prop::collection::vec(any_command(), 0..30)) {
        let history = assert_replay_is_deterministic::<DoseLog>(commands);
        let state = crate::aggregate::replay::<DoseLog>(&history);
        let report = adherence(&slots(), &state, item(), NOW, AdherencePolicy::default());
        prop_assert_eq!(report.slots.len(), slots().len());
        prop_assert_eq!(report.due, report.on_time + report.late + report.skipped + report.missed);
    }
}
