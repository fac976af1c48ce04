//! Turns a printed result line into a [`RecordedResult`]: marker lookup, unit and
//! plausibility checks, conversion and flag. A catalogued marker is refused in a unit it does
//! not list or at a value no real result reaches; a custom marker keeps its unit and value as
//! entered (nothing is known to check them against).

use super::catalog::{EnteredUnit, Marker, MarkerDef};
use super::command::ResultInput;
use super::error::BloodworkError;
use super::event::{MarkerRef, Quantity, RecordedResult};
use super::flag::{Flag, RangeBasis};
use super::loinc;
use crate::values::Decimal;

const MAX_NAME: usize = 100;

/// Interprets line `line` (1-based, for messages).
pub(super) fn interpret(line: usize, input: ResultInput) -> Result<RecordedResult, BloodworkError> {
    let loinc_code = input.loinc.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if let Some(code) = &loinc_code
        && !loinc::is_valid(code)
    {
        return Err(BloodworkError::InvalidLoinc(code.clone()));
    }
    let unit = input.unit.trim().to_owned();
    if unit.is_empty() {
        return Err(BloodworkError::MissingUnit { line });
    }
    if input.value.is_negative() {
        return Err(BloodworkError::NegativeValue { line });
    }
    if input.lab_range.as_ref().is_some_and(|r| !r.is_consistent()) {
        return Err(BloodworkError::InvalidLabRange { line });
    }
    let given_name = input
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NAME);
    // A code identifies the analyte on its own; only a result without one is recognised by
    // its printed name (see `catalog::names`).
    let catalogued = match loinc_code.as_deref() {
        Some(code) => Marker::from_loinc(code),
        None => given_name.as_deref().and_then(Marker::from_name),
    };

    let Some(marker) = catalogued else {
        // Unknown markers are kept as entered: no conversion, flagged only by the lab range.
        let name = given_name.ok_or(BloodworkError::MissingName { line })?;
        let lab = input.lab_range.as_ref().map(|r| r.to_range());
        let flag = lab
            .filter(|r| r.has_normal_bounds() || r.critical_low.is_some() || r.critical_high.is_some())
            .map(|r| r.flag(input.value));
        return Ok(RecordedResult {
            loinc: loinc_code,
            marker: MarkerRef::Custom { name: name.clone() },
            name,
            value: input.value,
            unit,
            lab_range: input.lab_range,
            canonical: None,
            si: None,
            flag,
            flag_basis: flag.map(|_| RangeBasis::Lab),
        });
    };

    let def = marker.def();
    let (canonical, si) = convert_plausible(line, def, input.value, &unit)?;

    let lab = input.lab_range.as_ref().map(|r| r.to_range());
    let lab_has_normal = lab.is_some_and(|r| r.has_normal_bounds());
    let lab_has_critical = lab.is_some_and(|r| r.critical_low.is_some() || r.critical_high.is_some());
    let (mut flag, basis) = match lab {
        Some(range) if lab_has_normal || lab_has_critical => (range.flag(input.value), RangeBasis::Lab),
        _ => (def.range.flag(canonical), RangeBasis::Catalog),
    };
    // A lab range without critical limits still gets the catalog's (e.g. hematocrit > 54 %).
    if basis == RangeBasis::Lab && !lab_has_critical {
        let critical = def.range.critical_only().flag(canonical);
        if matches!(critical, Flag::LL | Flag::HH) {
            flag = critical;
        }
    }
    Ok(RecordedResult {
        loinc: loinc_code,
        marker: MarkerRef::Catalog { marker },
        name: def.name.to_owned(),
        value: input.value,
        unit,
        lab_range: input.lab_range,
        canonical: Some(Quantity {
            value: canonical,
            unit: def.unit.to_owned(),
        }),
        si: si.and_then(|value| {
            def.si_unit.map(|unit| Quantity {
                value,
                unit: unit.to_owned(),
            })
        }),
        flag: Some(flag),
        flag_basis: Some(basis),
    })
}

/// Converts a catalogued result to its (canonical, SI) values, refusing a unit the marker does
/// not list and a value outside its plausibility window.
fn convert_plausible(
    line: usize,
    def: &MarkerDef,
    value: Decimal,
    unit: &str,
) -> Result<(Decimal, Option<Decimal>), BloodworkError> {
    let entered = def.entered_unit(unit).ok_or_else(|| BloodworkError::UnitNotAccepted {
        line,
        marker: def.name,
        unit: unit.to_owned(),
        accepted: def.accepted_units().join(", "),
    })?;
    let window = def.plausible();
    let implausible = |shown: String| BloodworkError::Implausible {
        line,
        marker: def.name,
        value: shown,
        expected: format!("{}–{} {}", window.min, window.max, def.unit),
    };
    // A value too large to convert is as implausible as one that converts out of the window.
    let (canonical, si) = def
        .convert(value, entered)
        .ok_or_else(|| implausible(format!("{value} {unit}")))?;
    if !window.contains(canonical) {
        return Err(implausible(match entered {
            EnteredUnit::Canonical => format!("{canonical} {}", def.unit),
            _ => format!("{canonical} {} ({value} {unit} as entered)", def.unit),
        }));
    }
    Ok((canonical, si))
}
