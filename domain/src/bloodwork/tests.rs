use proptest::prelude::*;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::dec;
use crate::test_support::{assert_events_round_trip, assert_replay_is_deterministic, uuid};
use crate::testing::given;
use crate::values::{Decimal, PanelId};

mod units_and_bounds;

const DRAWN: OffsetDateTime = datetime!(2026-03-04 08:00 UTC);
const NOW: OffsetDateTime = datetime!(2026-03-05 10:00 UTC);

fn panel() -> PanelId {
    PanelId::from_uuid(uuid(1))
}

fn line(loinc: &str, value: &str, unit: &str) -> ResultInput {
    ResultInput {
        loinc: Some(loinc.into()),
        name: None,
        value: Decimal::parse(value).unwrap(),
        unit: unit.into(),
        lab_range: None,
    }
}

fn with_range(mut input: ResultInput, low: &str, high: &str) -> ResultInput {
    input.lab_range = Some(LabRange {
        low: Some(Decimal::parse(low).unwrap()),
        high: Some(Decimal::parse(high).unwrap()),
        ..LabRange::default()
    });
    input
}

fn record(results: Vec<ResultInput>) -> BloodworkCommand {
    BloodworkCommand::RecordPanel {
        panel_id: panel(),
        drawn_at: DRAWN,
        lab_name: Some("Quest".into()),
        results,
        recorded_at: NOW,
    }
}

fn recorded_results(results: Vec<ResultInput>) -> Vec<RecordedResult> {
    let mut events = given::<Bloodwork>([]).when(record(results)).then_accepted();
    match events.remove(0) {
        BloodworkEvent::BloodworkRecorded { results, .. } => results,
        other => panic!("{other:?}"),
    }
}

fn recorded() -> BloodworkEvent {
    given::<Bloodwork>([])
        .when(record(vec![line("2986-8", "650", "ng/dL")]))
        .then_accepted()
        .remove(0)
}

#[test]
fn a_catalogued_result_carries_canonical_and_si_values_and_its_flag() {
    let results = recorded_results(vec![line("2986-8", "650", "ng/dL")]);
    assert_eq!(
        results,
        vec![RecordedResult {
            loinc: Some("2986-8".into()),
            marker: MarkerRef::Catalog {
                marker: Marker::TotalTestosterone
            },
            name: "Total testosterone".into(),
            value: dec!("650"),
            unit: "ng/dL".into(),
            lab_range: None,
            canonical: Some(Quantity {
                value: dec!("650"),
                unit: "ng/dL".into()
            }),
            si: Some(Quantity {
                value: dec!("22.555"),
                unit: "nmol/L".into()
            }),
            flag: Some(Flag::N),
            flag_basis: Some(RangeBasis::Catalog),
        }]
    );
}

#[test]
fn an_si_result_is_converted_back_to_the_conventional_unit() {
    let results = recorded_results(vec![line("2986-8", "8.5", "nmol/L")]);
    assert_eq!(results[0].canonical.as_ref().unwrap().value, dec!("244.9568"));
    assert_eq!(results[0].si.as_ref().unwrap().value, dec!("8.5"));
    assert_eq!(results[0].flag, Some(Flag::L));
}

#[test]
fn an_alternate_code_lands_on_the_same_marker() {
    let results = recorded_results(vec![line("20567-4", "120", "ng/mL")]);
    assert_eq!(
        results[0].marker,
        MarkerRef::Catalog {
            marker: Marker::Ferritin
        }
    );
}

#[test]
fn the_lab_range_wins_over_the_catalog_range() {
    // 950 ng/dL is within the catalog's 300–1080 but above this lab's 264–916.
    let results = recorded_results(vec![with_range(line("2986-8", "950", "ng/dL"), "264", "916")]);
    assert_eq!(results[0].flag, Some(Flag::H));
    assert_eq!(results[0].flag_basis, Some(RangeBasis::Lab));
}

#[test]
fn the_lab_range_is_read_in_the_unit_the_value_was_reported_in() {
    let results = recorded_results(vec![with_range(line("2986-8", "8.5", "nmol/L"), "8.64", "29")]);
    assert_eq!(results[0].flag, Some(Flag::L));
    assert_eq!(results[0].flag_basis, Some(RangeBasis::Lab));
}

#[test]
fn catalog_critical_limits_still_apply_beside_a_lab_range() {
    let results = recorded_results(vec![with_range(line("4544-3", "55.2", "%"), "40", "52")]);
    assert_eq!(results[0].flag, Some(Flag::HH));
    let results = recorded_results(vec![line("4544-3", "53", "%")]);
    assert_eq!(results[0].flag, Some(Flag::H));
}

#[test]
fn critical_limits_printed_by_the_lab_are_used() {
    let mut input = line("2823-3", "2.4", "mmol/L");
    input.name = Some("Potassium".into());
    input.lab_range = Some(LabRange {
        low: Some(dec!("3.5")),
        high: Some(dec!("5.1")),
        critical_low: Some(dec!("2.5")),
        critical_high: Some(dec!("6.5")),
        text: None,
    });
    let results = recorded_results(vec![input]);
    assert_eq!(results[0].flag, Some(Flag::LL));
}

#[test]
fn an_unknown_marker_is_kept_as_custom_without_conversion() {
    let mut input = line("2823-3", "4.2", "mmol/L");
    input.name = Some("Potassium".into());
    let results = recorded_results(vec![input]);
    assert_eq!(
        results[0].marker,
        MarkerRef::Custom {
            name: "Potassium".into()
        }
    );
    assert_eq!((results[0].canonical.as_ref(), results[0].si.as_ref()), (None, None));
    assert_eq!(results[0].flag, None);
    assert_eq!(results[0].unit, "mmol/L");
}

#[test]
fn a_result_without_a_code_needs_a_name() {
    let mut input = line("2986-8", "1", "x");
    input.loinc = None;
    given::<Bloodwork>([])
        .when(record(vec![input]))
        .then_rejected(BloodworkError::MissingName { line: 1 });
}

#[test]
fn a_mistyped_loinc_code_is_rejected() {
    given::<Bloodwork>([])
        .when(record(vec![line("2968-8", "650", "ng/dL")]))
        .then_rejected(BloodworkError::InvalidLoinc("2968-8".into()));
}

#[test]
fn result_lines_need_a_unit_a_non_negative_value_and_an_ordered_range() {
    given::<Bloodwork>([])
        .when(record(vec![line("2986-8", "650", "ng/dL"), line("718-7", "15", " ")]))
        .then_rejected(BloodworkError::MissingUnit { line: 2 });
    given::<Bloodwork>([])
        .when(record(vec![line("2986-8", "-1", "ng/dL")]))
        .then_rejected(BloodworkError::NegativeValue { line: 1 });
    given::<Bloodwork>([])
        .when(record(vec![with_range(line("2986-8", "650", "ng/dL"), "900", "300")]))
        .then_rejected(BloodworkError::InvalidLabRange { line: 1 });
}

#[test]
fn the_same_marker_twice_in_one_panel_is_rejected() {
    given::<Bloodwork>([])
        .when(record(vec![
            line("2276-4", "100", "ng/mL"),
            line("20567-4", "101", "ng/mL"),
        ]))
        .then_rejected(BloodworkError::DuplicateMarker("Ferritin".into()));
}

#[test]
fn a_panel_needs_results_a_past_draw_and_a_short_lab_name() {
    given::<Bloodwork>([])
        .when(record(vec![]))
        .then_rejected(BloodworkError::NoResults);
    given::<Bloodwork>([])
        .when(BloodworkCommand::RecordPanel {
            panel_id: panel(),
            drawn_at: NOW + time::Duration::days(1),
            lab_name: None,
            results: vec![line("2986-8", "650", "ng/dL")],
            recorded_at: NOW,
        })
        .then_rejected(BloodworkError::DrawnInFuture);
    given::<Bloodwork>([])
        .when(BloodworkCommand::RecordPanel {
            panel_id: panel(),
            drawn_at: DRAWN,
            lab_name: Some("L".repeat(101)),
            results: vec![line("2986-8", "650", "ng/dL")],
            recorded_at: NOW,
        })
        .then_rejected(BloodworkError::LabNameTooLong);
}

#[test]
fn recording_a_panel_id_twice_is_rejected() {
    given::<Bloodwork>([recorded()])
        .when(record(vec![line("2986-8", "650", "ng/dL")]))
        .then_rejected(BloodworkError::DuplicatePanel(panel()));
}

#[test]
fn correcting_a_panel_reinterprets_the_results() {
    let state = given::<Bloodwork>([recorded()])
        .when(BloodworkCommand::CorrectPanel {
            panel_id: panel(),
            drawn_at: DRAWN,
            lab_name: None,
            results: vec![line("2986-8", "250", "ng/dL")],
            reason: Some("misread".into()),
            corrected_at: NOW,
        })
        .then_accepted();
    let BloodworkEvent::BloodworkCorrected { results, .. } = &state[0] else {
        panic!("{state:?}");
    };
    assert_eq!(results[0].flag, Some(Flag::L));
}

#[test]
fn correcting_or_retracting_an_unknown_or_retracted_panel_is_rejected() {
    given::<Bloodwork>([])
        .when(BloodworkCommand::RetractPanel {
            panel_id: panel(),
            reason: None,
            retracted_at: NOW,
        })
        .then_rejected(BloodworkError::UnknownPanel(panel()));
    let retracted = BloodworkEvent::BloodworkRetracted {
        panel_id: panel(),
        reason: None,
        retracted_at: NOW,
    };
    let state = given::<Bloodwork>([recorded()])
        .when(BloodworkCommand::RetractPanel {
            panel_id: panel(),
            reason: None,
            retracted_at: NOW,
        })
        .then_events([retracted.clone()]);
    assert_eq!(state.live_panels().count(), 0);
    given::<Bloodwork>([recorded(), retracted])
        .when(BloodworkCommand::CorrectPanel {
            panel_id: panel(),
            drawn_at: DRAWN,
            lab_name: None,
            results: vec![line("2986-8", "250", "ng/dL")],
            reason: None,
            corrected_at: NOW,
        })
        .then_rejected(BloodworkError::PanelRetracted(panel()));
}

#[test]
fn every_bloodwork_event_round_trips_through_serde() {
    let mut custom = line("2823-3", "4.2", "mmol/L");
    custom.name = Some("Potassium".into());
    let rich = given::<Bloodwork>([])
        .when(record(vec![
            with_range(line("2986-8", "650", "ng/dL"), "264", "916"),
            line("4548-4", "5.4", "%"),
            custom,
        ]))
        .then_accepted()
        .remove(0);
    assert_events_round_trip(
        &[
            rich,
            BloodworkEvent::BloodworkCorrected {
                panel_id: panel(),
                drawn_at: DRAWN,
                lab_name: None,
                results: vec![],
                reason: Some("typo".into()),
                corrected_at: NOW,
            },
            BloodworkEvent::BloodworkRetracted {
                panel_id: panel(),
                reason: None,
                retracted_at: NOW,
            },
        ],
        3,
    );
}

fn any_line() -> impl Strategy<Value = ResultInput> {
    (
        prop::sample::select(vec!["2986-8", "4544-3", "2093-3", "2823-3", "1111-1"]),
        0_i64..20_000,
        prop::sample::select(vec!["ng/dL", "%", "mg/dL", "mmol/L", ""]),
    )
        .prop_map(|(code, tenths, unit)| ResultInput {
            loinc: Some(code.into()),
            name: Some("Marker".into()),
            value: Decimal::new(tenths, 1).unwrap(),
            unit: unit.into(),
            lab_range: None,
        })
}

fn any_command() -> impl Strategy<Value = BloodworkCommand> {
    let id = (0_u128..3).prop_map(|n| PanelId::from_uuid(uuid(n)));
    prop_oneof![
        (id.clone(), prop::collection::vec(any_line(), 0..4)).prop_map(|(panel_id, results)| {
            BloodworkCommand::RecordPanel {
                panel_id,
                drawn_at: DRAWN,
                lab_name: None,
                results,
                recorded_at: NOW,
            }
        }),
        (id.clone(), prop::collection::vec(any_line(), 0..4)).prop_map(|(panel_id, results)| {
            BloodworkCommand::CorrectPanel {
                panel_id,
                drawn_at: DRAWN,
                lab_name: None,
                results,
                reason: None,
                corrected_at: NOW,
            }
        }),
        id.prop_map(|panel_id| BloodworkCommand::RetractPanel {
            panel_id,
            reason: None,
            retracted_at: NOW,
        }),
    ]
}

proptest! {
    #[test]
    fn replaying_any_accepted_bloodwork_history_is_deterministic(commands in prop::collection::vec(any_command(), 0..20)) {
        assert_replay_is_deterministic::<Bloodwork>(commands);
    }
}
