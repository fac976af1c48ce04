//! A catalogued marker only in a unit it lists and within its plausibility window; a custom
//! marker as entered; a result without a code recognised by its report name.

use super::*;

fn named(name: &str, value: &str, unit: &str) -> ResultInput {
    ResultInput {
        loinc: None,
        name: Some(name.into()),
        ..line("2986-8", value, unit)
    }
}

fn unit_refused(line: usize, marker: &'static str, unit: &str, accepted: &str) -> BloodworkError {
    BloodworkError::UnitNotAccepted {
        line,
        marker,
        unit: unit.into(),
        accepted: accepted.into(),
    }
}

fn implausible(line: usize, marker: &'static str, value: &str, expected: &str) -> BloodworkError {
    BloodworkError::Implausible {
        line,
        marker,
        value: value.into(),
        expected: expected.into(),
    }
}

#[test]
fn a_catalogued_marker_in_a_unit_it_does_not_list_is_refused_naming_the_units_it_accepts() {
    for unit in ["%", "kg", "mmol/L"] {
        given::<Bloodwork>([])
            .when(record(vec![line("2986-8", "650", unit)]))
            .then_rejected(unit_refused(1, "Total testosterone", unit, "ng/dL, nmol/L, ng/mL"));
    }
    given::<Bloodwork>([])
        .when(record(vec![
            line("2986-8", "650", "ng/dL"),
            line("4544-3", "45", "ng/dL"),
        ]))
        .then_rejected(unit_refused(2, "Hematocrit", "ng/dL", "%, L/L"));
    // Spellings of a listed unit are still that unit.
    let results = recorded_results(vec![line("3016-3", "1.9", "µIU/mL")]);
    assert_eq!(results[0].canonical.as_ref().map(|q| q.value), Some(dec!("1.9")));
}

#[test]
fn a_custom_marker_keeps_whatever_unit_and_value_it_was_given() {
    let mut input = line("2823-3", "4200", "furlongs");
    input.name = Some("Potassium".into());
    let results = recorded_results(vec![input]);
    assert_eq!(results[0].unit, "furlongs");
    assert_eq!(results[0].value, dec!("4200"));
}

#[test]
fn a_result_without_a_code_is_recognised_by_its_report_name() {
    let results = recorded_results(vec![named("Hematocrit", "45", "%")]);
    assert_eq!(
        (results[0].marker.clone(), results[0].loinc.clone()),
        (
            MarkerRef::Catalog {
                marker: Marker::Hematocrit
            },
            None
        )
    );
    assert_eq!(results[0].si.as_ref().map(|q| q.value), Some(dec!("0.45")));
    given::<Bloodwork>([])
        .when(record(vec![named("Testosterone", "50", "%")]))
        .then_rejected(unit_refused(1, "Total testosterone", "%", "ng/dL, nmol/L, ng/mL"));
    // A code wins over the name: an uncatalogued code stays custom, whatever it is called.
    let mut coded = named("Hematocrit", "45", "ng/dL");
    coded.loinc = Some("2823-3".into());
    let results = recorded_results(vec![coded]);
    assert_eq!(
        results[0].marker,
        MarkerRef::Custom {
            name: "Hematocrit".into()
        }
    );
}

#[test]
fn a_named_and_a_coded_line_for_one_marker_are_the_same_marker_twice() {
    given::<Bloodwork>([])
        .when(record(vec![
            line("2986-8", "650", "ng/dL"),
            named("testosterone", "640", "ng/dL"),
        ]))
        .then_rejected(BloodworkError::DuplicateMarker("Total testosterone".into()));
}

#[test]
fn a_value_outside_the_plausibility_window_is_refused() {
    given::<Bloodwork>([])
        .when(record(vec![line("4544-3", "150", "%")]))
        .then_rejected(implausible(1, "Hematocrit", "150 %", "3–85 %"));
    given::<Bloodwork>([])
        .when(record(vec![line("2986-8", "1000000000000", "ng/dL")]))
        .then_rejected(implausible(
            1,
            "Total testosterone",
            "1000000000000 ng/dL",
            "0–30000 ng/dL",
        ));
    // Judged in the canonical unit, whatever unit it was entered in.
    given::<Bloodwork>([])
        .when(record(vec![line("4544-3", "1.5", "L/L")]))
        .then_rejected(implausible(1, "Hematocrit", "150 % (1.5 L/L as entered)", "3–85 %"));
    // Too large even to convert.
    given::<Bloodwork>([])
        .when(record(vec![line("2986-8", "900000000000000000", "ng/mL")]))
        .then_rejected(implausible(
            1,
            "Total testosterone",
            "900000000000000000 ng/mL",
            "0–30000 ng/dL",
        ));
}

#[test]
fn the_window_is_inclusive_and_holds_real_extremes() {
    for (code, value, unit) in [
        ("4544-3", "3", "%"),
        ("4544-3", "85", "%"),
        ("2986-8", "30000", "ng/dL"),
        ("2986-8", "0", "ng/dL"),
        ("2986-8", "3000", "ng/dL"),
        ("2276-4", "250000", "ng/mL"),
        ("2857-1", "21380", "ng/mL"),
        ("1558-6", "5600", "mg/dL"),
    ] {
        recorded_results(vec![line(code, value, unit)]);
    }
    for (code, value, unit) in [
        ("4544-3", "2.9", "%"),
        ("4544-3", "85.1", "%"),
        ("2986-8", "30001", "ng/dL"),
    ] {
        let command = record(vec![line(code, value, unit)]);
        let rejected = <Bloodwork as crate::aggregate::Aggregate>::decide(&BloodworkState::default(), command);
        assert!(
            matches!(rejected, Err(BloodworkError::Implausible { .. })),
            "{value} {unit}: {rejected:?}"
        );
    }
}

#[test]
fn every_catalog_range_lies_inside_its_plausibility_window() {
    for def in catalog::MARKERS {
        let window = def.plausible();
        assert!(window.min.numeric_cmp(window.max).is_lt(), "{:?}", def.marker);
        let range = def.range;
        for limit in [range.low, range.high, range.critical_low, range.critical_high]
            .into_iter()
            .flatten()
        {
            assert!(window.contains(limit.value), "{:?}: {:?}", def.marker, limit);
        }
    }
}
