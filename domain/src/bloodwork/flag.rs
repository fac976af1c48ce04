//! Reference ranges and HL7 interpretation flags (N, L, H, LL, HH).

use serde::{Deserialize, Serialize};

use crate::values::Decimal;

/// HL7 v3 ObservationInterpretation subset (`docs/bloodwork-catalog.md`, source 23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Flag {
    /// Within range.
    N,
    /// Below range.
    L,
    /// Above range.
    H,
    /// Critically low.
    LL,
    /// Critically high.
    HH,
}

/// Which range a flag was judged against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeBasis {
    /// The range printed on the user's report (preferred: ranges are assay-specific).
    Lab,
    /// The catalog's typical range, in the canonical unit.
    Catalog,
}

/// One side of a range: `value` itself is acceptable when `inclusive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// The boundary.
    pub value: Decimal,
    /// Whether the boundary itself is within range.
    pub inclusive: bool,
}

impl Limit {
    /// An inclusive limit ("300–1080" accepts 300 and 1080).
    pub const fn at(value: Decimal) -> Limit {
        Limit { value, inclusive: true }
    }

    /// An exclusive limit ("<200 desirable" does not accept 200).
    pub const fn before(value: Decimal) -> Limit {
        Limit {
            value,
            inclusive: false,
        }
    }

    fn is_below_low(self, value: Decimal) -> bool {
        let ordering = value.numeric_cmp(self.value);
        ordering.is_lt() || (ordering.is_eq() && !self.inclusive)
    }

    fn is_above_high(self, value: Decimal) -> bool {
        let ordering = value.numeric_cmp(self.value);
        ordering.is_gt() || (ordering.is_eq() && !self.inclusive)
    }
}

/// A normal range with optional critical limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Range {
    /// Lowest normal value.
    pub low: Option<Limit>,
    /// Highest normal value.
    pub high: Option<Limit>,
    /// Below this is critical (LL).
    pub critical_low: Option<Limit>,
    /// Above this is critical (HH).
    pub critical_high: Option<Limit>,
}

impl Range {
    /// Whether there is a normal range to judge against.
    pub fn has_normal_bounds(&self) -> bool {
        self.low.is_some() || self.high.is_some()
    }

    /// The flag for `value` (in this range's unit); critical limits win.
    pub fn flag(&self, value: Decimal) -> Flag {
        if self.critical_low.is_some_and(|l| l.is_below_low(value)) {
            Flag::LL
        } else if self.critical_high.is_some_and(|h| h.is_above_high(value)) {
            Flag::HH
        } else if self.low.is_some_and(|l| l.is_below_low(value)) {
            Flag::L
        } else if self.high.is_some_and(|h| h.is_above_high(value)) {
            Flag::H
        } else {
            Flag::N
        }
    }

    /// Only the critical limits of this range.
    pub fn critical_only(&self) -> Range {
        Range {
            low: None,
            high: None,
            ..*self
        }
    }
}

/// The range printed on a lab report, in the unit the value was reported in. Its bounds
/// are inclusive, as printed ranges are read.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LabRange {
    /// Low end.
    pub low: Option<Decimal>,
    /// High end.
    pub high: Option<Decimal>,
    /// Critical low, if the report gives one.
    pub critical_low: Option<Decimal>,
    /// Critical high, if the report gives one.
    pub critical_high: Option<Decimal>,
    /// The range text as printed (`"<200"`, `"see note"`).
    pub text: Option<String>,
}

impl LabRange {
    /// As a [`Range`] with inclusive limits.
    pub fn to_range(&self) -> Range {
        Range {
            low: self.low.map(Limit::at),
            high: self.high.map(Limit::at),
            critical_low: self.critical_low.map(Limit::at),
            critical_high: self.critical_high.map(Limit::at),
        }
    }

    /// Whether each low end is at or below its high end.
    pub fn is_consistent(&self) -> bool {
        let ordered = |low: Option<Decimal>, high: Option<Decimal>| match (low, high) {
            (Some(low), Some(high)) => low.numeric_cmp(high).is_le(),
            _ => true,
        };
        ordered(self.low, self.high)
            && ordered(self.critical_low, self.low)
            && ordered(self.high, self.critical_high)
            && ordered(self.critical_low, self.critical_high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dec;

    #[test]
    fn inclusive_and_exclusive_limits_treat_the_boundary_differently() {
        let inclusive = Range {
            high: Some(Limit::at(dec!("200"))),
            ..Range::default()
        };
        let exclusive = Range {
            high: Some(Limit::before(dec!("200"))),
            ..Range::default()
        };
        assert_eq!(inclusive.flag(dec!("200")), Flag::N);
        assert_eq!(exclusive.flag(dec!("200")), Flag::H);
        assert_eq!(exclusive.flag(dec!("199.9")), Flag::N);
    }

    #[test]
    fn critical_limits_take_precedence_over_normal_ones() {
        let range = Range {
            low: Some(Limit::at(dec!("38.5"))),
            high: Some(Limit::at(dec!("52.0"))),
            critical_low: None,
            critical_high: Some(Limit::at(dec!("54"))),
        };
        assert_eq!(range.flag(dec!("45")), Flag::N);
        assert_eq!(range.flag(dec!("53")), Flag::H);
        assert_eq!(range.flag(dec!("54")), Flag::H);
        assert_eq!(range.flag(dec!("54.1")), Flag::HH);
        assert_eq!(range.flag(dec!("38.4")), Flag::L);
    }

    #[test]
    fn lab_ranges_must_be_ordered() {
        let range = LabRange {
            low: Some(dec!("10")),
            high: Some(dec!("5")),
            ..LabRange::default()
        };
        assert!(!range.is_consistent());
        let range = LabRange {
            low: Some(dec!("5")),
            high: Some(dec!("10")),
            critical_high: Some(dec!("8")),
            ..LabRange::default()
        };
        assert!(!range.is_consistent());
    }
}
