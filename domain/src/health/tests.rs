use proptest::prelude::*;
use time::OffsetDateTime;
use time::macros::datetime;

use super::vitals::{UnitConversion, VITALS};
use super::*;
use crate::dec;
use crate::test_support::{assert_events_round_trip, assert_replay_is_deterministic, uuid};
use crate::testing::given;
use crate::values::{Decimal, EntryId};

const MEASURED: OffsetDateTime = datetime!(2026-03-01 07:30 UTC);
const NOW: OffsetDateTime = datetime!(2026-03-01 08:00 UTC);

fn entry() -> EntryId {
    EntryId::from_uuid(uuid(1))
}

fn record(reading: VitalReading) -> HealthCommand {
    HealthCommand::RecordVital {
        entry_id: entry(),
        reading,
        measured_at: MEASURED,
        note: None,
        recorded_at: NOW,
    }
}

fn quantity(kind: VitalKind, value: &str, unit: &str) -> VitalReading {
    VitalReading::Quantity {
        kind,
        value: Decimal::parse(value).unwrap(),
        unit: unit.into(),
    }
}

fn bp(systolic: &str, diastolic: &str) -> VitalReading {
    VitalReading::BloodPressure {
        systolic: Decimal::parse(systolic).unwrap(),
        diastolic: Decimal::parse(diastolic).unwrap(),
    }
}

fn weight_recorded() -> HealthEvent {
    given::<HealthLog>([])
        .when(record(quantity(VitalKind::BodyWeight, "87.3", "kg")))
        .then_accepted()
        .remove(0)
}

fn component(loinc: &str, value: &str, unit: &str, canonical: &str, canonical_unit: &str) -> VitalComponent {
    VitalComponent {
        loinc: loinc.into(),
        value: Decimal::parse(value).unwrap(),
        unit: unit.into(),
        canonical_value: Decimal::parse(canonical).unwrap(),
        canonical_unit: canonical_unit.into(),
    }
}

#[test]
fn blood_pressure_is_recorded_as_one_panel_with_two_components() {
    given::<HealthLog>([])
        .when(record(bp("128", "82")))
        .then_events([HealthEvent::VitalRecorded {
            entry_id: entry(),
            kind: VitalKind::BloodPressure,
            loinc: "85354-9".into(),
            components: vec![
                component("8480-6", "128", "mm[Hg]", "128", "mm[Hg]"),
                component("8462-4", "82", "mm[Hg]", "82", "mm[Hg]"),
            ],
            measured_at: MEASURED,
            note: None,
            recorded_at: NOW,
        }]);
}

#[test]
fn a_weight_of_87_3_kg_stays_87_3_through_storage() {
    let event = weight_recorded();
    let json = serde_json::to_string(&event).unwrap();
    assert!(json.contains("\"87.3\""), "{json}");
    let back: HealthEvent = serde_json::from_str(&json).unwrap();
    let HealthEvent::VitalRecorded { components, .. } = back else {
        panic!("{back:?}");
    };
    assert_eq!(components[0].value.to_string(), "87.3");
    assert_eq!(components[0].canonical_value.to_string(), "87.3");
}

#[test]
fn trailing_zeros_as_entered_are_kept() {
    let events = given::<HealthLog>([])
        .when(record(quantity(VitalKind::BodyWeight, "87.30", "kg")))
        .then_accepted();
    let HealthEvent::VitalRecorded { components, .. } = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(components[0].value.to_string(), "87.30");
}

#[test]
fn pounds_are_kept_as_entered_with_an_exact_kilogram_value_derived() {
    let events = given::<HealthLog>([])
        .when(record(quantity(VitalKind::BodyWeight, "192.5", "lb")))
        .then_accepted();
    let HealthEvent::VitalRecorded { components, .. } = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(components[0], component("29463-7", "192.5", "lb", "87.317", "kg"));
}

#[test]
fn fahrenheit_is_converted_to_celsius() {
    let events = given::<HealthLog>([])
        .when(record(quantity(VitalKind::BodyTemperature, "98.6", "°F")))
        .then_accepted();
    let HealthEvent::VitalRecorded { components, .. } = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(components[0].canonical_value, dec!("37"));
    assert_eq!(components[0].canonical_unit, "Cel");
}

#[test]
fn recording_an_id_twice_is_rejected() {
    given::<HealthLog>([weight_recorded()])
        .when(record(quantity(VitalKind::HeartRate, "60", "bpm")))
        .then_rejected(HealthError::DuplicateEntry(entry()));
}

#[test]
fn systolic_must_be_above_diastolic() {
    given::<HealthLog>([])
        .when(record(bp("80", "120")))
        .then_rejected(HealthError::SystolicNotAboveDiastolic);
    given::<HealthLog>([])
        .when(record(bp("90", "90")))
        .then_rejected(HealthError::SystolicNotAboveDiastolic);
}

#[test]
fn implausible_values_are_rejected_with_the_bounds() {
    given::<HealthLog>([])
        .when(record(quantity(VitalKind::BodyWeight, "19.9", "kg")))
        .then_rejected(HealthError::Implausible {
            label: "body weight",
            value: "19.9".into(),
            canonical_unit: "kg",
            min: "20".into(),
            max: "400".into(),
        });
    given::<HealthLog>([])
        .when(record(quantity(VitalKind::HeartRate, "301", "/min")))
        .then_rejected(HealthError::Implausible {
            label: "heart rate",
            value: "301".into(),
            canonical_unit: "/min",
            min: "20".into(),
            max: "300".into(),
        });
    assert!(matches!(
        given::<HealthLog>([]).when(record(bp("400", "80"))).into_result(),
        Err(HealthError::Implausible {
            label: "systolic blood pressure",
            ..
        })
    ));
}

#[test]
fn bounds_apply_after_conversion() {
    // 40 lb is 18.1 kg: under the 20 kg bound although 40 > 20.
    assert!(matches!(
        given::<HealthLog>([])
            .when(record(quantity(VitalKind::BodyWeight, "40", "lb")))
            .into_result(),
        Err(HealthError::Implausible { .. })
    ));
}

#[test]
fn an_unknown_unit_is_rejected() {
    given::<HealthLog>([])
        .when(record(quantity(VitalKind::BodyWeight, "87", "stone")))
        .then_rejected(HealthError::UnsupportedUnit {
            label: "body weight",
            unit: "stone".into(),
        });
}

#[test]
fn blood_pressure_as_a_single_quantity_is_rejected() {
    given::<HealthLog>([])
        .when(record(quantity(VitalKind::BloodPressure, "120", "mm[Hg]")))
        .then_rejected(HealthError::BloodPressureNeedsPanel);
}

#[test]
fn a_reading_measured_in_the_future_is_rejected() {
    given::<HealthLog>([])
        .when(HealthCommand::RecordVital {
            entry_id: entry(),
            reading: bp("120", "80"),
            measured_at: NOW + time::Duration::hours(1),
            note: None,
            recorded_at: NOW,
        })
        .then_rejected(HealthError::MeasuredInFuture);
}

#[test]
fn correcting_a_reading_replaces_its_values_and_counts_the_correction() {
    let state = given::<HealthLog>([weight_recorded()])
        .when(HealthCommand::CorrectVital {
            entry_id: entry(),
            reading: quantity(VitalKind::BodyWeight, "83.7", "kg"),
            measured_at: MEASURED,
            reason: Some("typo".into()),
            corrected_at: NOW,
        })
        .then_events([HealthEvent::VitalCorrected {
            entry_id: entry(),
            kind: VitalKind::BodyWeight,
            components: vec![component("29463-7", "83.7", "kg", "83.7", "kg")],
            measured_at: MEASURED,
            reason: Some("typo".into()),
            corrected_at: NOW,
        }]);
    let current = &state.entries[&entry()];
    assert_eq!(current.kind, VitalKind::BodyWeight);
    assert_eq!(current.corrections, 1);
}

#[test]
fn a_correction_must_keep_the_kind_and_the_rules() {
    given::<HealthLog>([weight_recorded()])
        .when(HealthCommand::CorrectVital {
            entry_id: entry(),
            reading: quantity(VitalKind::HeartRate, "60", "bpm"),
            measured_at: MEASURED,
            reason: None,
            corrected_at: NOW,
        })
        .then_rejected(HealthError::KindChanged {
            from: VitalKind::BodyWeight,
            to: VitalKind::HeartRate,
        });
    assert!(matches!(
        given::<HealthLog>([weight_recorded()])
            .when(HealthCommand::CorrectVital {
                entry_id: entry(),
                reading: quantity(VitalKind::BodyWeight, "4000", "kg"),
                measured_at: MEASURED,
                reason: None,
                corrected_at: NOW,
            })
            .into_result(),
        Err(HealthError::Implausible { .. })
    ));
}

#[test]
fn correcting_or_retracting_an_unknown_entry_is_rejected() {
    given::<HealthLog>([])
        .when(HealthCommand::RetractVital {
            entry_id: entry(),
            reason: None,
            retracted_at: NOW,
        })
        .then_rejected(HealthError::UnknownEntry(entry()));
    given::<HealthLog>([])
        .when(HealthCommand::CorrectVital {
            entry_id: entry(),
            reading: bp("120", "80"),
            measured_at: MEASURED,
            reason: None,
            corrected_at: NOW,
        })
        .then_rejected(HealthError::UnknownEntry(entry()));
}

#[test]
fn a_retracted_reading_stays_in_history_but_accepts_nothing_more() {
    let retracted = HealthEvent::VitalRetracted {
        entry_id: entry(),
        reason: Some("wrong person".into()),
        retracted_at: NOW,
    };
    let state = given::<HealthLog>([weight_recorded()])
        .when(HealthCommand::RetractVital {
            entry_id: entry(),
            reason: Some("wrong person".into()),
            retracted_at: NOW,
        })
        .then_events([retracted.clone()]);
    assert!(state.entries[&entry()].retracted);
    given::<HealthLog>([weight_recorded(), retracted])
        .when(HealthCommand::RetractVital {
            entry_id: entry(),
            reason: None,
            retracted_at: NOW,
        })
        .then_rejected(HealthError::EntryRetracted(entry()));
}

#[test]
fn every_vital_row_has_a_checked_loinc_code_a_source_and_sane_bounds() {
    for row in VITALS {
        assert!(crate::bloodwork::loinc::is_valid(row.loinc), "{}", row.loinc);
        assert_eq!(row.kind.spec().loinc, row.loinc);
        assert_eq!(VitalKind::from_loinc(row.loinc), Some(row.kind));
        assert!(row.source.starts_with("docs/vitals.md #"), "{:?}", row.kind);
        for q in row.quantities {
            assert!(crate::bloodwork::loinc::is_valid(q.loinc), "{}", q.loinc);
            assert!(q.min.numeric_cmp(q.max).is_lt());
            assert_eq!(q.conversion(q.canonical_unit), Some(UnitConversion::Identity));
        }
    }
    assert_eq!(VITALS.len(), 8);
}

#[test]
fn every_health_event_round_trips_through_serde() {
    assert_events_round_trip(
        &[
            weight_recorded(),
            HealthEvent::VitalCorrected {
                entry_id: entry(),
                kind: VitalKind::BodyWeight,
                components: vec![component("29463-7", "83.7", "kg", "83.7", "kg")],
                measured_at: MEASURED,
                reason: None,
                corrected_at: NOW,
            },
            HealthEvent::VitalRetracted {
                entry_id: entry(),
                reason: None,
                retracted_at: NOW,
            },
        ],
        3,
    );
}

fn any_reading() -> impl Strategy<Value = VitalReading> {
    prop_oneof![
        (0_i64..350, 0_i64..250).prop_map(|(s, d)| VitalReading::BloodPressure {
            systolic: Decimal::from_int(s),
            diastolic: Decimal::from_int(d),
        }),
        (0_i64..5000, prop::sample::select(vec!["kg", "lb", "g"])).prop_map(|(tenths, unit)| {
            VitalReading::Quantity {
                kind: VitalKind::BodyWeight,
                value: Decimal::new(tenths, 1).unwrap(),
                unit: unit.into(),
            }
        }),
    ]
}

fn any_command() -> impl Strategy<Value = HealthCommand> {
    let id = (0_u128..4).prop_map(|n| EntryId::from_uuid(uuid(n)));
    prop_oneof![
        (id.clone(), any_reading()).prop_map(|(entry_id, reading)| HealthCommand::RecordVital {
            entry_id,
            reading,
            measured_at: MEASURED,
            note: None,
            recorded_at: NOW,
        }),
        (id.clone(), any_reading()).prop_map(|(entry_id, reading)| HealthCommand::CorrectVital {
            entry_id,
            reading,
            measured_at: MEASURED,
            reason: None,
            corrected_at: NOW,
        }),
        id.prop_map(|entry_id| HealthCommand::RetractVital {
            entry_id,
            reason: None,
            retracted_at: NOW,
        }),
    ]
}

proptest! {
    #[test]
    fn replaying_any_accepted_health_history_is_deterministic(commands in prop::collection::vec(any_command(), 0..30)) {
        assert_replay_is_deterministic::<HealthLog>(commands);
    }

    #[test]
    fn any_entered_weight_in_kg_round_trips_exactly(
        (mantissa, scale) in prop_oneof![
            (20_i64..=400).prop_map(|m| (m, 0_u8)),
            (200_i64..=4000).prop_map(|m| (m, 1_u8)),
            (2000_i64..=40000).prop_map(|m| (m, 2_u8)),
        ]
    ) {
        let value = Decimal::new(mantissa, scale).unwrap();
        let events = given::<HealthLog>([])
            .when(record(VitalReading::Quantity { kind: VitalKind::BodyWeight, value, unit: "kg".into() }))
            .then_accepted();
        let back: HealthEvent = serde_json::from_str(&serde_json::to_string(&events[0]).unwrap()).unwrap();
        prop_assert_eq!(&back, &events[0]);
        let HealthEvent::VitalRecorded { components, .. } = back else { panic!() };
        prop_assert_eq!(components[0].value, value);
    }
}
