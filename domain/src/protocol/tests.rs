use proptest::prelude::*;
use time::macros::{date, datetime, time};
use time::{Date, OffsetDateTime, UtcOffset};

use super::dose::{Concentration, Dose, DoseError, DoseUnit};
use super::frequency::FrequencyError;
use super::*;
use crate::compounds::{Compound, CompoundKey, Route};
use crate::dec;
use crate::test_support::{assert_events_round_trip, assert_replay_is_deterministic, uuid};
use crate::testing::given;
use crate::values::{ItemId, ProtocolId, UserId};

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const DAY1: Date = date!(2026 - 03 - 02);

fn item_id() -> ItemId {
    ItemId::from_uuid(uuid(10))
}

fn spec(schedule: &str, dose: Option<Dose>) -> ItemSpec {
    ItemSpec {
        item_id: item_id(),
        origin: ItemOrigin::New,
        compound: Compound::Catalog(CompoundKey::TestosteroneEnanthate),
        dose,
        route: Route::Im,
        schedule: schedule.into(),
        time_of_day: time!(08:00),
        start: DAY1,
        end: None,
    }
}

fn mg(amount: &str) -> Option<Dose> {
    Some(Dose {
        amount: crate::values::Decimal::parse(amount).unwrap(),
        unit: DoseUnit::Mg,
        concentration: None,
    })
}

fn define(items: Vec<ItemSpec>) -> ProtocolCommand {
    ProtocolCommand::Define {
        protocol_id: ProtocolId::from_uuid(uuid(1)),
        owner: UserId::from_uuid(uuid(2)),
        name: "TRT".into(),
        items,
        effective_from: DAY1,
        recorded_at: NOW,
    }
}

fn defined() -> ProtocolEvent {
    let events = given::<Protocol>([])
        .when(define(vec![spec("250 mg/wk split E3.5D", None)]))
        .then_accepted();
    events[0].clone()
}

/// The defined item, kept under its id.
fn kept(schedule: &str, dose: Option<Dose>) -> ItemSpec {
    ItemSpec {
        origin: ItemOrigin::Kept,
        ..spec(schedule, dose)
    }
}

fn amend(schedule: &str, effective_from: Date) -> ProtocolCommand {
    ProtocolCommand::Amend {
        name: "TRT".into(),
        items: vec![kept(schedule, mg("100"))],
        effective_from,
        reason: Some("smoother levels".into()),
        recorded_at: NOW,
    }
}

fn amended(effective_from: Date) -> ProtocolEvent {
    given::<Protocol>([defined()])
        .when(amend("ED", effective_from))
        .then_accepted()
        .remove(0)
}

fn paused(on: Date) -> ProtocolEvent {
    ProtocolEvent::ProtocolPaused {
        on,
        reason: None,
        recorded_at: NOW,
    }
}

#[test]
fn defining_a_protocol_records_version_one_with_the_split_dose_derived() {
    let event = defined();
    let ProtocolEvent::ProtocolDefined { items, name, .. } = &event else {
        panic!("{event:?}");
    };
    assert_eq!(name, "TRT");
    assert_eq!(items[0].dose.amount, dec!("125"));
    assert_eq!(items[0].dose.unit, DoseUnit::Mg);
    assert_eq!(items[0].schedule.raw, "250 mg/wk split E3.5D");
    let state = given::<Protocol>([event]).state().clone();
    assert_eq!(state.current().map(|v| v.version), Some(1));
}

#[test]
fn defining_twice_is_rejected() {
    given::<Protocol>([defined()])
        .when(define(vec![spec("ED", mg("10"))]))
        .then_rejected(ProtocolError::AlreadyDefined);
}

#[test]
fn a_protocol_needs_a_name_and_items() {
    let mut command = define(vec![spec("ED", mg("10"))]);
    if let ProtocolCommand::Define { name, .. } = &mut command {
        *name = "  ".into();
    }
    given::<Protocol>([])
        .when(command)
        .then_rejected(ProtocolError::InvalidName);
    given::<Protocol>([])
        .when(define(vec![]))
        .then_rejected(ProtocolError::NoItems);
}

#[test]
fn the_same_item_twice_is_rejected() {
    given::<Protocol>([])
        .when(define(vec![spec("ED", mg("10")), spec("EOD", mg("10"))]))
        .then_rejected(ProtocolError::DuplicateItem(item_id()));
}

fn rejected_item(spec: ItemSpec, problem: ItemProblem) {
    given::<Protocol>([])
        .when(define(vec![spec]))
        .then_rejected(ProtocolError::InvalidItem {
            item_id: item_id(),
            problem,
        });
}

#[test]
fn an_unreadable_schedule_is_rejected_with_the_notation_error() {
    rejected_item(
        spec("sometimes", mg("10")),
        ItemProblem::Schedule(FrequencyError::Unrecognised("sometimes".into())),
    );
}

#[test]
fn a_dose_is_required_unless_the_schedule_splits_a_weekly_total() {
    rejected_item(spec("E3.5D", None), ItemProblem::MissingDose);
}

#[test]
fn a_dose_that_disagrees_with_the_split_is_rejected() {
    rejected_item(
        spec("250 mg/wk split E3.5D", mg("100")),
        ItemProblem::DoseConflictsWithSplit { split: "125 mg".into() },
    );
}

#[test]
fn a_dose_that_matches_the_split_is_kept_as_typed() {
    let events = given::<Protocol>([])
        .when(define(vec![spec("250 mg/wk split E3.5D", mg("125.0"))]))
        .then_accepted();
    let ProtocolEvent::ProtocolDefined { items, .. } = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(items[0].dose.amount.to_string(), "125.0");
}

#[test]
fn invalid_doses_are_rejected() {
    rejected_item(spec("ED", mg("0")), ItemProblem::Dose(DoseError::NotPositive));
    let ml_without_strength = Some(Dose {
        amount: dec!("0.5"),
        unit: DoseUnit::Ml,
        concentration: None,
    });
    rejected_item(
        spec("ED", ml_without_strength),
        ItemProblem::Dose(DoseError::MissingConcentration),
    );
}

#[test]
fn a_dose_above_its_unit_bound_is_rejected() {
    rejected_item(
        spec("ED", mg("999999")),
        ItemProblem::Dose(DoseError::TooLarge {
            unit: "mg",
            max: dec!("10000"),
        }),
    );
    // A split weekly total is checked per dose: 140 g a week is 20 g a day.
    rejected_item(
        spec("140000 mg/wk split ED", None),
        ItemProblem::Dose(DoseError::TooLarge {
            unit: "mg",
            max: dec!("10000"),
        }),
    );
    given::<Protocol>([])
        .when(define(vec![spec("ED", mg("10000"))]))
        .then_accepted();
}

#[test]
fn an_amendment_may_keep_only_items_the_protocol_has() {
    let stranger = ItemId::from_uuid(uuid(99));
    let mut unknown = kept("ED", mg("100"));
    unknown.item_id = stranger;
    given::<Protocol>([defined()])
        .when(ProtocolCommand::Amend {
            name: "TRT".into(),
            items: vec![unknown],
            effective_from: DAY1,
            reason: None,
            recorded_at: NOW,
        })
        .then_rejected(ProtocolError::UnknownItem(stranger));
    // A definition has nothing to keep.
    given::<Protocol>([])
        .when(define(vec![kept("ED", mg("100"))]))
        .then_rejected(ProtocolError::UnknownItem(item_id()));
    // A new item beside a kept one is fine; an item dropped by one amendment can come back.
    let mut added = spec("EOD", mg("1"));
    added.item_id = stranger;
    added.compound = Compound::Catalog(CompoundKey::Anastrozole);
    let state = given::<Protocol>([defined()])
        .when(ProtocolCommand::Amend {
            name: "TRT".into(),
            items: vec![added.clone()],
            effective_from: DAY1,
            reason: None,
            recorded_at: NOW,
        })
        .then_accepted();
    given::<Protocol>([defined(), state[0].clone()])
        .when(ProtocolCommand::Amend {
            name: "TRT".into(),
            items: vec![
                kept("ED", mg("100")),
                ItemSpec {
                    origin: ItemOrigin::Kept,
                    ..added
                },
            ],
            effective_from: DAY1,
            reason: None,
            recorded_at: NOW,
        })
        .then_accepted();
}

#[test]
fn a_dose_in_millilitres_with_a_concentration_is_accepted() {
    let dose = Some(Dose {
        amount: dec!("0.5"),
        unit: DoseUnit::Ml,
        concentration: Some(Concentration {
            amount: dec!("250"),
            unit: DoseUnit::Mg,
        }),
    });
    given::<Protocol>([])
        .when(define(vec![spec("E3.5D", dose)]))
        .then_accepted();
}

#[test]
fn a_unit_that_does_not_suit_the_compound_is_rejected() {
    let mut hcg = spec("EOD", mg("500"));
    hcg.compound = Compound::Catalog(CompoundKey::Hcg);
    rejected_item(
        hcg,
        ItemProblem::UnitUnsuitable {
            unit: "mg",
            compound: "hCG",
        },
    );
}

#[test]
fn a_custom_compound_needs_a_name() {
    let mut custom = spec("ED", mg("5"));
    custom.compound = Compound::Custom {
        name: " ".into(),
        ester: None,
    };
    rejected_item(custom, ItemProblem::CustomCompoundName);
}

#[test]
fn an_item_ending_before_it_starts_is_rejected() {
    let mut item = spec("ED", mg("5"));
    item.end = Some(date!(2026 - 03 - 01));
    rejected_item(item, ItemProblem::EndsBeforeStart);
}

#[test]
fn amending_a_protocol_keeps_the_old_version_in_force_for_past_dates() {
    let state = given::<Protocol>([defined()])
        .when(amend("ED", date!(2026 - 04 - 01)))
        .then_events([amended(date!(2026 - 04 - 01))]);
    assert_eq!(state.in_force_at(date!(2026 - 03 - 15)).map(|v| v.version), Some(1));
    assert_eq!(state.in_force_at(date!(2026 - 04 - 01)).map(|v| v.version), Some(2));
    assert_eq!(state.in_force_at(date!(2026 - 03 - 01)), None, "before the start");
    assert_eq!(state.versions.len(), 2);
}

#[test]
fn an_amendment_effective_before_the_current_version_is_rejected() {
    given::<Protocol>([defined(), amended(date!(2026 - 04 - 01))])
        .when(amend("ED", date!(2026 - 03 - 20)))
        .then_rejected(ProtocolError::EffectiveBeforeCurrentVersion {
            current: date!(2026 - 04 - 01),
        });
}

#[test]
fn an_amendment_with_an_invalid_item_is_rejected() {
    given::<Protocol>([defined()])
        .when(amend("E0D", DAY1))
        .then_rejected(ProtocolError::InvalidItem {
            item_id: item_id(),
            problem: ItemProblem::Schedule(FrequencyError::Zero),
        });
}

#[test]
fn commands_before_definition_are_rejected() {
    given::<Protocol>([])
        .when(amend("ED", DAY1))
        .then_rejected(ProtocolError::NotDefined);
}

#[test]
fn pausing_and_resuming_take_the_protocol_out_of_force_in_between() {
    let state = given::<Protocol>([defined()])
        .when(ProtocolCommand::Pause {
            on: date!(2026 - 03 - 10),
            reason: None,
            recorded_at: NOW,
        })
        .then_events([paused(date!(2026 - 03 - 10))]);
    assert_eq!(state.status_at(date!(2026 - 03 - 12)), ProtocolStatus::Paused);
    let resumed = ProtocolEvent::ProtocolResumed {
        on: date!(2026 - 03 - 20),
        recorded_at: NOW,
    };
    let state = given::<Protocol>([defined(), paused(date!(2026 - 03 - 10))])
        .when(ProtocolCommand::Resume {
            on: date!(2026 - 03 - 20),
            recorded_at: NOW,
        })
        .then_events([resumed]);
    assert!(state.in_force_at(date!(2026 - 03 - 09)).is_some());
    assert!(state.in_force_at(date!(2026 - 03 - 15)).is_none());
    assert!(state.in_force_at(date!(2026 - 03 - 20)).is_some());
}

#[test]
fn pausing_twice_is_rejected() {
    given::<Protocol>([defined(), paused(date!(2026 - 03 - 10))])
        .when(ProtocolCommand::Pause {
            on: date!(2026 - 03 - 11),
            reason: None,
            recorded_at: NOW,
        })
        .then_rejected(ProtocolError::AlreadyPaused);
}

#[test]
fn resuming_an_active_protocol_is_rejected() {
    given::<Protocol>([defined()])
        .when(ProtocolCommand::Resume {
            on: date!(2026 - 03 - 11),
            recorded_at: NOW,
        })
        .then_rejected(ProtocolError::NotPaused);
}

#[test]
fn a_status_change_dated_before_the_last_one_is_rejected() {
    given::<Protocol>([defined(), paused(date!(2026 - 03 - 10))])
        .when(ProtocolCommand::Resume {
            on: date!(2026 - 03 - 05),
            recorded_at: NOW,
        })
        .then_rejected(ProtocolError::DateBeforeLastChange {
            last: date!(2026 - 03 - 10),
        });
    given::<Protocol>([defined()])
        .when(ProtocolCommand::Pause {
            on: date!(2026 - 02 - 01),
            reason: None,
            recorded_at: NOW,
        })
        .then_rejected(ProtocolError::DateBeforeLastChange { last: DAY1 });
}

#[test]
fn ending_a_protocol_stops_everything_after_it() {
    let ended = ProtocolEvent::ProtocolEnded {
        on: date!(2026 - 05 - 01),
        recorded_at: NOW,
    };
    let state = given::<Protocol>([defined()])
        .when(ProtocolCommand::End {
            on: date!(2026 - 05 - 01),
            recorded_at: NOW,
        })
        .then_events([ended.clone()]);
    assert_eq!(state.status_at(date!(2026 - 05 - 02)), ProtocolStatus::Ended);
    assert!(state.in_force_at(date!(2026 - 04 - 30)).is_some());
    given::<Protocol>([defined(), ended])
        .when(amend("ED", date!(2026 - 06 - 01)))
        .then_rejected(ProtocolError::Ended);
}

#[test]
fn scheduled_doses_follow_each_version_and_skip_paused_days() {
    let history = [
        defined(),
        paused(date!(2026 - 03 - 09)),
        ProtocolEvent::ProtocolResumed {
            on: date!(2026 - 03 - 12),
            recorded_at: NOW,
        },
        amended(date!(2026 - 03 - 16)),
    ];
    let state = given::<Protocol>(history).state().clone();
    let doses = state.scheduled_doses(
        item_id(),
        UtcOffset::UTC,
        datetime!(2026-03-01 00:00 UTC),
        datetime!(2026-03-18 00:00 UTC),
    );
    assert_eq!(
        doses,
        vec![
            // Version 1, E3.5D from Monday 08:00.
            datetime!(2026-03-02 08:00 UTC),
            datetime!(2026-03-05 20:00 UTC),
            // 03-09 08:00 is paused; 03-12 20:00 is the first after resuming.
            datetime!(2026-03-12 20:00 UTC),
            // Version 2, ED from 03-16.
            datetime!(2026-03-16 08:00 UTC),
            datetime!(2026-03-17 08:00 UTC),
        ]
    );
}

#[test]
fn every_protocol_event_round_trips_through_serde() {
    assert_events_round_trip(
        &[
            defined(),
            amended(date!(2026 - 04 - 01)),
            paused(date!(2026 - 04 - 05)),
            ProtocolEvent::ProtocolResumed {
                on: date!(2026 - 04 - 06),
                recorded_at: NOW,
            },
            ProtocolEvent::ProtocolEnded {
                on: date!(2026 - 04 - 07),
                recorded_at: NOW,
            },
        ],
        5,
    );
}

fn any_command() -> impl Strategy<Value = ProtocolCommand> {
    let day = (0_i64..120).prop_map(|n| DAY1 + time::Duration::days(n - 10));
    let schedule = prop::sample::select(vec!["ED", "E3.5D", "MWF", "PRN", "junk", "250 mg/wk split E3.5D"]);
    prop_oneof![
        schedule.clone().prop_map(|s| define(vec![spec(s, mg("100"))])),
        (schedule, day.clone()).prop_map(|(s, d)| amend(s, d)),
        day.clone().prop_map(|on| ProtocolCommand::Pause {
            on,
            reason: None,
            recorded_at: NOW
        }),
        day.clone()
            .prop_map(|on| ProtocolCommand::Resume { on, recorded_at: NOW }),
        day.prop_map(|on| ProtocolCommand::End { on, recorded_at: NOW }),
    ]
}

proptest! {
    #[test]
    fn replaying_any_accepted_protocol_history_is_deterministic(commands in prop::collection::vec(any_command(), 0..25)) {
        let history = assert_replay_is_deterministic::<Protocol>(commands);
        let state = crate::aggregate::replay::<Protocol>(&history);
        // Effective dates never go backwards, so every past date has one answer.
        for pair in state.versions.windows(2) {
            prop_assert!(pair[0].effective_from <= pair[1].effective_from);
        }
    }
}
