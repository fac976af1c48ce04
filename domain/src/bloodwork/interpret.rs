//! Turns a printed result line into a [`RecordedResult`]: marker lookup, conversion and flag.

use super::catalog::Marker;
use super::command::ResultInput;
use super::error::BloodworkError;
use super::event::{MarkerRef, Quantity, RecordedResult};
use super::flag::{Flag, RangeBasis};
use super::loinc;

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
    let catalogued = loinc_code.as_deref().and_then(Marker::from_loinc);
    let given_name = input
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NAME);

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
    let converted = def
        .entered_unit(&unit)
        .and_then(|entered| def.convert(input.value, entered));
    let canonical = converted.map(|(value, _)| value);
    let si = converted.and_then(|(_, si)| si);

    let lab = input.lab_range.as_ref().map(|r| r.to_range());
    let lab_has_normal = lab.is_some_and(|r| r.has_normal_bounds());
    let lab_has_critical = lab.is_some_and(|r| r.critical_low.is_some() || r.critical_high.is_some());
    let (mut flag, basis) = match (lab, canonical) {
        (Some(range), _) if lab_has_normal || lab_has_critical => {
            (Some(range.flag(input.value)), Some(RangeBasis::Lab))
        }
        (_, Some(value)) => (Some(def.range.flag(value)), Some(RangeBasis::Catalog)),
        _ => (None, None),
    };
    // A lab range without critical limits still gets the catalog's (e.g. hematocrit > 54 %).
    if basis == Some(RangeBasis::Lab)
        && !lab_has_critical
        && let Some(value) = canonical
    {
        let critical = def.range.critical_only().flag(value);
        if matches!(critical, Flag::LL | Flag::HH) {
            flag = Some(critical);
        }
    }
    Ok(RecordedResult {
        loinc: loinc_code,
        marker: MarkerRef::Catalog { marker },
        name: def.name.to_owned(),
        value: input.value,
        unit,
        lab_range: input.lab_range,
        canonical: canonical.map(|value| Quantity {
            value,
            unit: def.unit.to_owned(),
        }),
        si: si.and_then(|value| {
            def.si_unit.map(|unit| Quantity {
                value,
                unit: unit.to_owned(),
            })
        }),
        flag,
        flag_basis: basis,
    })
}
