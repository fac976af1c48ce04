//! The marker catalog (`docs/bloodwork-catalog.md`): many LOINC codes → one canonical marker,
//! and unit conversion keyed by marker, never by unit string.
//!
//! Owns: the 27 marker rows, LOINC and report-name lookup, the units each marker accepts,
//! conversion to the canonical (conventional) unit and to SI, and the plausibility window of
//! each marker. Must not: guess. A unit a marker does not list is refused rather than
//! converted by a factor that belongs to another analyte ("mg/dL → mmol/L" is 0.02586 for
//! cholesterol but 0.0555 for glucose; `docs/bloodwork-catalog.md`, pitfalls).
//!
//! Ranges are typical adult-male ranges from the cited source; where a source gives
//! several bands, the widest adult band is used so the catalog does not over-flag. A lab's
//! own range always wins when the report gives one.

mod names;
pub mod plausible;
mod rows;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use super::flag::Range;
use crate::values::Decimal;
pub use plausible::Plausible;
pub use rows::MARKERS;

/// A catalogued marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // Each variant is named for its analyte; the rows document them.
pub enum Marker {
    TotalTestosterone,
    FreeTestosterone,
    Shbg,
    Estradiol,
    Lh,
    Fsh,
    Prolactin,
    Hematocrit,
    Hemoglobin,
    RbcCount,
    Psa,
    Alt,
    Ast,
    Ggt,
    Creatinine,
    Egfr,
    TotalCholesterol,
    HdlCholesterol,
    LdlCholesterol,
    Triglycerides,
    Hba1c,
    Glucose,
    Tsh,
    FreeT4,
    Igf1,
    Ferritin,
    VitaminD,
}

/// How the canonical (conventional) value converts to SI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiConversion {
    /// Multiply by the factor (divide to go back).
    Factor(Decimal),
    /// HbA1c: mmol/mol = (% − 2.15) × 10.929.
    Hba1c,
    /// No SI unit (eGFR).
    None,
}

/// One catalog row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarkerDef {
    /// The marker.
    pub marker: Marker,
    /// Display name.
    pub name: &'static str,
    /// Primary LOINC code.
    pub loinc: &'static str,
    /// Other codes labs send for the same analyte.
    pub alternate_loincs: &'static [&'static str],
    /// Canonical (conventional) UCUM unit.
    pub unit: &'static str,
    /// Other spellings of the canonical unit.
    pub unit_aliases: &'static [&'static str],
    /// SI unit, if any.
    pub si_unit: Option<&'static str>,
    /// Other spellings of the SI unit.
    pub si_aliases: &'static [&'static str],
    /// Canonical → SI.
    pub si: SiConversion,
    /// Further units this marker is reported in, with the factor to the canonical unit.
    pub other_units: &'static [(&'static str, Decimal)],
    /// Typical range (and critical limits) in the canonical unit.
    pub range: Range,
    /// Where the code, unit, factor and range come from.
    pub source: &'static str,
}

/// Which unit of the marker a value was entered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnteredUnit {
    /// The canonical unit.
    Canonical,
    /// The SI unit.
    Si,
    /// Another listed unit, with its factor to canonical.
    Other(Decimal),
}

/// Places kept in derived (converted) values.
pub const DERIVED_PLACES: u8 = 4;

const HBA1C_OFFSET: Decimal = Decimal::from_parts(215, 2);
const HBA1C_FACTOR: Decimal = Decimal::from_parts(10_929, 3);

/// Unit spelling for comparison: case, spaces, micro signs, UCUM brackets and
/// exponent styles do not matter (`µIU/mL` = `uiu/ml`, `10*6/uL` = `10^6/ul`).
pub fn normalise_unit(unit: &str) -> String {
    unit.trim()
        .to_lowercase()
        .replace(['µ', 'μ'], "u")
        .replace("10*", "10^")
        .replace(['[', ']', '{', '}', '_', ' '], "")
}

impl Marker {
    /// This marker's catalog row.
    pub fn def(self) -> &'static MarkerDef {
        // Each marker has exactly one row (pinned by a unit test); the fallback is unreachable.
        MARKERS.iter().find(|m| m.marker == self).unwrap_or(&MARKERS[0])
    }

    /// The marker a report name stands for (`Testosterone`, `HCT`, `IGF-1`), when it names
    /// one unambiguously; for results that carry no LOINC code.
    pub fn from_name(name: &str) -> Option<Marker> {
        names::marker_named(name)
    }

    /// The marker a LOINC code (primary or alternate) stands for.
    pub fn from_loinc(code: &str) -> Option<Marker> {
        let code = code.trim();
        MARKERS
            .iter()
            .find(|m| m.loinc == code || m.alternate_loincs.contains(&code))
            .map(|m| m.marker)
    }
}

impl MarkerDef {
    /// Recognises the unit a value was entered in; `None` when this marker does not list it.
    pub fn entered_unit(&self, unit: &str) -> Option<EnteredUnit> {
        let unit = normalise_unit(unit);
        let matches = |spelling: &str| normalise_unit(spelling) == unit;
        if matches(self.unit) || self.unit_aliases.iter().any(|a| matches(a)) {
            return Some(EnteredUnit::Canonical);
        }
        if self.si_unit.is_some_and(matches) || self.si_aliases.iter().any(|a| matches(a)) {
            return Some(EnteredUnit::Si);
        }
        self.other_units
            .iter()
            .find(|(spelling, _)| matches(spelling))
            .map(|(_, factor)| EnteredUnit::Other(*factor))
    }

    /// The window a canonical value must fall in to be a real result.
    pub const fn plausible(&self) -> Plausible {
        plausible::of(self.marker)
    }

    /// Every unit this marker accepts, one spelling per unit (the first listed), canonical
    /// first: what a refusal of another unit names.
    pub fn accepted_units(&self) -> Vec<&'static str> {
        let spellings = std::iter::once(self.unit)
            .chain(self.unit_aliases.iter().copied())
            .chain(self.si_unit)
            .chain(self.si_aliases.iter().copied())
            .chain(self.other_units.iter().map(|(unit, _)| *unit));
        let mut seen = Vec::new();
        let mut accepted = Vec::new();
        for spelling in spellings {
            let key = normalise_unit(spelling);
            if !seen.contains(&key) {
                seen.push(key);
                accepted.push(spelling);
            }
        }
        accepted
    }

    /// Canonical value → SI value.
    pub fn to_si(&self, canonical: Decimal) -> Option<Decimal> {
        let si = match self.si {
            SiConversion::Factor(factor) => canonical.checked_mul(factor)?,
            SiConversion::Hba1c => canonical.checked_sub(HBA1C_OFFSET)?.checked_mul(HBA1C_FACTOR)?,
            SiConversion::None => return None,
        };
        Some(si.round_dp(DERIVED_PLACES).normalize())
    }

    /// SI value → canonical value.
    pub fn from_si(&self, si: Decimal) -> Option<Decimal> {
        let canonical = match self.si {
            SiConversion::Factor(factor) => si.checked_div(factor, DERIVED_PLACES)?,
            SiConversion::Hba1c => si
                .checked_div(HBA1C_FACTOR, DERIVED_PLACES)?
                .checked_add(HBA1C_OFFSET)?,
            SiConversion::None => return None,
        };
        Some(canonical.normalize())
    }

    /// Converts an entered value to (canonical, SI). The canonical value of a value
    /// entered in the canonical unit is the value exactly as entered.
    pub fn convert(&self, value: Decimal, unit: EnteredUnit) -> Option<(Decimal, Option<Decimal>)> {
        let canonical = match unit {
            EnteredUnit::Canonical => value,
            EnteredUnit::Si => self.from_si(value)?,
            EnteredUnit::Other(factor) => value.checked_mul(factor)?.round_dp(DERIVED_PLACES).normalize(),
        };
        let si = match unit {
            EnteredUnit::Si => Some(value),
            _ => self.to_si(canonical),
        };
        Some((canonical, si))
    }
}
