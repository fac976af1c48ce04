//! The vital-sign catalog: LOINC codes, canonical UCUM units, accepted input units and
//! plausibility bounds.
//!
//! Codes, units, conversion factors and bounds, each with its source, are in `docs/vitals.md`;
//! every code is a member of the FHIR vital-signs value set (source 22 there). Plausibility
//! bounds are product rules that catch typos (a weight of 8 kg, a pulse of 900); they are
//! deliberately wide and are not reference ranges.

use serde::{Deserialize, Serialize};

use crate::values::Decimal;

/// A catalogued vital sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalKind {
    /// Blood pressure panel: systolic and diastolic together.
    BloodPressure,
    /// Heart rate.
    HeartRate,
    /// Body weight.
    BodyWeight,
    /// Body temperature.
    BodyTemperature,
    /// Body height.
    BodyHeight,
    /// Body-mass index.
    Bmi,
    /// Respiratory rate.
    RespiratoryRate,
    /// Oxygen saturation.
    OxygenSaturation,
}

/// How an accepted input unit maps to the canonical unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitConversion {
    /// Already canonical.
    Identity,
    /// Multiply by an exact factor (lb → kg is 0.45359237 by definition).
    Factor(Decimal),
    /// Fahrenheit to Celsius: (°F − 32) × 5/9.
    FahrenheitToCelsius,
}

/// One measured quantity: a whole vital, or one component of the BP panel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantitySpec {
    /// Label used in messages.
    pub label: &'static str,
    /// LOINC code of the quantity.
    pub loinc: &'static str,
    /// Canonical UCUM unit.
    pub canonical_unit: &'static str,
    /// Accepted spellings (compared case-insensitively) and how each converts.
    pub units: &'static [(&'static str, UnitConversion)],
    /// Lowest plausible canonical value (inclusive).
    pub min: Decimal,
    /// Highest plausible canonical value (inclusive).
    pub max: Decimal,
    /// Places kept in the derived canonical value.
    pub places: u8,
}

/// A catalog row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VitalSpec {
    /// The kind.
    pub kind: VitalKind,
    /// LOINC code of the observation (the panel code for BP).
    pub loinc: &'static str,
    /// The quantities: one, or systolic + diastolic for BP.
    pub quantities: &'static [QuantitySpec],
    /// Where the code and bounds come from.
    pub source: &'static str,
}

const MM_HG: &[(&str, UnitConversion)] = &[("mm[Hg]", UnitConversion::Identity), ("mmHg", UnitConversion::Identity)];
const PER_MIN: &[(&str, UnitConversion)] = &[
    ("/min", UnitConversion::Identity),
    ("bpm", UnitConversion::Identity),
    ("{beats}/min", UnitConversion::Identity),
    ("{breaths}/min", UnitConversion::Identity),
];

/// Systolic component of the BP panel.
pub const SYSTOLIC: QuantitySpec = QuantitySpec {
    label: "systolic blood pressure",
    loinc: "8480-6",
    canonical_unit: "mm[Hg]",
    units: MM_HG,
    min: Decimal::from_int(50),
    max: Decimal::from_int(300),
    places: 0,
};

/// Diastolic component of the BP panel.
pub const DIASTOLIC: QuantitySpec = QuantitySpec {
    label: "diastolic blood pressure",
    loinc: "8462-4",
    canonical_unit: "mm[Hg]",
    units: MM_HG,
    min: Decimal::from_int(20),
    max: Decimal::from_int(200),
    places: 0,
};

/// The catalog, one row per kind.
pub const VITALS: &[VitalSpec] = &[
    VitalSpec {
        kind: VitalKind::BloodPressure,
        loinc: "85354-9",
        quantities: &[SYSTOLIC, DIASTOLIC],
        source: "docs/vitals.md #1: FHIR vital-signs value set (BP panel 85354-9, components 8480-6/8462-4) [22]; bounds: product rule",
    },
    VitalSpec {
        kind: VitalKind::HeartRate,
        loinc: "8867-4",
        quantities: &[QuantitySpec {
            label: "heart rate",
            loinc: "8867-4",
            canonical_unit: "/min",
            units: PER_MIN,
            min: Decimal::from_int(20),
            max: Decimal::from_int(300),
            places: 0,
        }],
        source: "docs/vitals.md #2: FHIR vital-signs value set (8867-4) [22]; bounds 20–300 bpm: product rule",
    },
    VitalSpec {
        kind: VitalKind::BodyWeight,
        loinc: "29463-7",
        quantities: &[QuantitySpec {
            label: "body weight",
            loinc: "29463-7",
            canonical_unit: "kg",
            units: &[
                ("kg", UnitConversion::Identity),
                ("lb", UnitConversion::Factor(Decimal::from_parts(45_359_237, 8))),
                ("[lb_av]", UnitConversion::Factor(Decimal::from_parts(45_359_237, 8))),
                ("lbs", UnitConversion::Factor(Decimal::from_parts(45_359_237, 8))),
            ],
            min: Decimal::from_int(20),
            max: Decimal::from_int(400),
            places: 3,
        }],
        source: "docs/vitals.md #3: FHIR vital-signs value set (29463-7, kg) [22]; bounds 20–400 kg: product rule; 1 lb = 0.45359237 kg exactly [V2]",
    },
    VitalSpec {
        kind: VitalKind::BodyTemperature,
        loinc: "8310-5",
        quantities: &[QuantitySpec {
            label: "body temperature",
            loinc: "8310-5",
            canonical_unit: "Cel",
            units: &[
                ("Cel", UnitConversion::Identity),
                ("°C", UnitConversion::Identity),
                ("C", UnitConversion::Identity),
                ("[degF]", UnitConversion::FahrenheitToCelsius),
                ("°F", UnitConversion::FahrenheitToCelsius),
                ("F", UnitConversion::FahrenheitToCelsius),
            ],
            min: Decimal::from_int(30),
            max: Decimal::from_int(45),
            places: 2,
        }],
        source: "docs/vitals.md #4: FHIR vital-signs value set (8310-5) [22]; bounds 30–45 °C: product rule",
    },
    VitalSpec {
        kind: VitalKind::BodyHeight,
        loinc: "8302-2",
        quantities: &[QuantitySpec {
            label: "body height",
            loinc: "8302-2",
            canonical_unit: "cm",
            units: &[
                ("cm", UnitConversion::Identity),
                ("m", UnitConversion::Factor(Decimal::from_int(100))),
                ("[in_i]", UnitConversion::Factor(Decimal::from_parts(254, 2))),
                ("in", UnitConversion::Factor(Decimal::from_parts(254, 2))),
            ],
            min: Decimal::from_int(50),
            max: Decimal::from_int(260),
            places: 1,
        }],
        source: "docs/vitals.md #5: FHIR vital-signs value set (8302-2, cm) [22]; bounds: product rule; 1 in = 2.54 cm exactly [V2]",
    },
    VitalSpec {
        kind: VitalKind::Bmi,
        loinc: "39156-5",
        quantities: &[QuantitySpec {
            label: "body-mass index",
            loinc: "39156-5",
            canonical_unit: "kg/m2",
            units: &[("kg/m2", UnitConversion::Identity), ("kg/m²", UnitConversion::Identity)],
            min: Decimal::from_int(8),
            max: Decimal::from_int(100),
            places: 1,
        }],
        source: "docs/vitals.md #6: FHIR vital-signs value set (39156-5, kg/m2) [22]; bounds: product rule",
    },
    VitalSpec {
        kind: VitalKind::RespiratoryRate,
        loinc: "9279-1",
        quantities: &[QuantitySpec {
            label: "respiratory rate",
            loinc: "9279-1",
            canonical_unit: "/min",
            units: PER_MIN,
            min: Decimal::from_int(4),
            max: Decimal::from_int(80),
            places: 0,
        }],
        source: "docs/vitals.md #7: FHIR vital-signs value set (9279-1) [22]; bounds: product rule",
    },
    VitalSpec {
        kind: VitalKind::OxygenSaturation,
        loinc: "2708-6",
        quantities: &[QuantitySpec {
            label: "oxygen saturation",
            loinc: "2708-6",
            canonical_unit: "%",
            units: &[("%", UnitConversion::Identity)],
            min: Decimal::from_int(50),
            max: Decimal::from_int(100),
            places: 1,
        }],
        source: "docs/vitals.md #8: FHIR vital-signs value set (2708-6) [22]; bounds: product rule",
    },
];

impl VitalKind {
    /// This kind's catalog row.
    pub fn spec(self) -> &'static VitalSpec {
        // Each kind has one row (pinned by a unit test); the fallback is unreachable.
        VITALS.iter().find(|s| s.kind == self).unwrap_or(&VITALS[0])
    }

    /// The kind whose observation code is `loinc`, if catalogued.
    pub fn from_loinc(loinc: &str) -> Option<VitalKind> {
        VITALS.iter().find(|s| s.loinc == loinc).map(|s| s.kind)
    }
}

impl QuantitySpec {
    /// Finds how `unit` (as typed) converts, comparing case-insensitively after trimming.
    pub fn conversion(&self, unit: &str) -> Option<UnitConversion> {
        let unit = unit.trim();
        self.units
            .iter()
            .find(|(spelling, _)| spelling.eq_ignore_ascii_case(unit))
            .map(|(_, conversion)| *conversion)
    }

    /// Converts `value` in `conversion`'s unit to the canonical unit, exactly where the
    /// factor is exact, rounded to `places` otherwise.
    pub fn to_canonical(&self, value: Decimal, conversion: UnitConversion) -> Option<Decimal> {
        // An identity keeps the value exactly as entered (87.30 stays 87.30); derived
        // values are rounded, then lose trailing zeros.
        let derived = match conversion {
            UnitConversion::Identity => return Some(value),
            UnitConversion::Factor(factor) => value.checked_mul(factor)?.round_dp(self.places),
            UnitConversion::FahrenheitToCelsius => value
                .checked_sub(Decimal::from_int(32))?
                .checked_mul(Decimal::from_int(5))?
                .checked_div(Decimal::from_int(9), self.places)?,
        };
        Some(derived.normalize())
    }

    /// Whether a canonical value lies within the plausibility bounds.
    pub fn is_plausible(&self, canonical: Decimal) -> bool {
        canonical.numeric_cmp(self.min).is_ge() && canonical.numeric_cmp(self.max).is_le()
    }
}
