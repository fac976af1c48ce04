//! Dose amounts and units, shared by protocol items and the dose log.
//!
//! Owns: the unit vocabulary, the amount and concentration rules and their per-unit upper
//! bounds (why each bound is what it is: `docs/input-bounds.md`). Must not: judge whether a
//! dose is advisable; the bounds only catch typos and unit mix-ups (999 999 mg).

use serde::{Deserialize, Serialize};

use crate::compounds::DoseKind;
use crate::values::Decimal;

/// Unit a dose is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseUnit {
    /// Milligrams.
    Mg,
    /// Micrograms.
    Mcg,
    /// International units.
    Iu,
    /// Millilitres of a solution; needs a concentration to know the amount of drug.
    Ml,
}

impl DoseUnit {
    /// The symbol users type and read.
    pub fn symbol(self) -> &'static str {
        match self {
            DoseUnit::Mg => "mg",
            DoseUnit::Mcg => "mcg",
            DoseUnit::Iu => "IU",
            DoseUnit::Ml => "mL",
        }
    }

    /// Reads a unit as typed (`mg`, `mcg`/`µg`/`ug`, `IU`, `mL`/`ml`), ignoring case.
    pub fn parse(text: &str) -> Option<DoseUnit> {
        match text.trim().to_lowercase().as_str() {
            "mg" => Some(DoseUnit::Mg),
            "mcg" | "µg" | "μg" | "ug" => Some(DoseUnit::Mcg),
            "iu" => Some(DoseUnit::Iu),
            "ml" => Some(DoseUnit::Ml),
            _ => None,
        }
    }

    /// The largest amount one administration may be written with in this unit (inclusive).
    ///
    /// Generous on purpose: above the largest real single doses, so only a typo or a unit
    /// mix-up reaches it.
    pub const fn max_per_dose(self) -> Decimal {
        match self {
            // 10 g: above the largest single oral or injected doses (1 000 mg testosterone
            // undecanoate, gram doses of supplements); 999 999 mg is a typo.
            DoseUnit::Mg => Decimal::from_int(10_000),
            // 100 mg: doses written in mcg are small (peptides, B12, T3); larger ones are
            // written in mg, so 100 000+ mcg is a mg/mcg mix-up.
            DoseUnit::Mcg => Decimal::from_int(100_000),
            // 1 000 000 IU: above the largest single vitamin D loading dose (600 000 IU); hCG
            // and growth hormone doses are far below.
            DoseUnit::Iu => Decimal::from_int(1_000_000),
            // 100 mL: one injection is a few mL and an oral solution dose tens of mL; more is
            // an infusion, not a logged dose.
            DoseUnit::Ml => Decimal::from_int(100),
        }
    }

    /// The strongest solution that may be written with this unit per mL (inclusive); `None`
    /// for mL, which is never a concentration's unit.
    pub const fn max_per_ml(self) -> Option<Decimal> {
        match self {
            // 1 g/mL: a solution holds less drug than its own mass (oils are 100–400 mg/mL).
            DoseUnit::Mg => Some(Decimal::from_int(1_000)),
            // The same 1 g/mL, in mcg.
            DoseUnit::Mcg => Some(Decimal::from_int(1_000_000)),
            // 1 000 000 IU/mL: above the strongest ampoules sold (300 000 IU/mL vitamin D).
            DoseUnit::Iu => Some(Decimal::from_int(1_000_000)),
            DoseUnit::Ml => None,
        }
    }

    /// Whether the unit fits a compound dosed by mass or in IU (mL fits both, through
    /// the concentration).
    pub fn suits(self, kind: DoseKind) -> bool {
        match self {
            DoseUnit::Mg | DoseUnit::Mcg => kind == DoseKind::Mass,
            DoseUnit::Iu => kind == DoseKind::InternationalUnits,
            DoseUnit::Ml => true,
        }
    }
}

/// Strength of a solution: `amount` `unit` per mL (e.g. 250 mg/mL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concentration {
    /// Amount of drug per millilitre.
    pub amount: Decimal,
    /// Unit of `amount` (mg, mcg or IU; never mL).
    pub unit: DoseUnit,
}

/// One administration's amount, exactly as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dose {
    /// Amount, exactly as entered.
    pub amount: Decimal,
    /// Unit of `amount`.
    pub unit: DoseUnit,
    /// Solution strength; required when `unit` is mL.
    pub concentration: Option<Concentration>,
}

/// Why a dose is not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DoseError {
    /// Zero or negative amount.
    #[error("a dose must be greater than zero")]
    NotPositive,
    /// A mL dose without a concentration.
    #[error("a dose in mL needs a concentration (e.g. 250 mg/mL)")]
    MissingConcentration,
    /// A concentration that is zero, negative, or itself in mL.
    #[error("a concentration must be a positive amount of mg, mcg or IU per mL")]
    InvalidConcentration,
    /// An amount above [`DoseUnit::max_per_dose`] (for mL, also the drug it holds).
    #[error("a dose may be at most {max} {unit}")]
    TooLarge {
        /// Unit symbol of the bound broken.
        unit: &'static str,
        /// The bound.
        max: Decimal,
    },
    /// A concentration above [`DoseUnit::max_per_ml`].
    #[error("a concentration may be at most {max} {unit}/mL")]
    ConcentrationTooHigh {
        /// Unit symbol of the concentration.
        unit: &'static str,
        /// The bound.
        max: Decimal,
    },
}

impl Dose {
    /// Checks the amount and concentration rules.
    ///
    /// # Errors
    /// [`DoseError`] naming the broken rule.
    pub fn validate(&self) -> Result<(), DoseError> {
        if !self.amount.is_positive() {
            return Err(DoseError::NotPositive);
        }
        if let Some(c) = self.concentration
            && (!c.amount.is_positive() || c.unit == DoseUnit::Ml)
        {
            return Err(DoseError::InvalidConcentration);
        }
        if self.unit == DoseUnit::Ml && self.concentration.is_none() {
            return Err(DoseError::MissingConcentration);
        }
        within_bound(self.amount, self.unit)?;
        if let Some(c) = self.concentration
            && let Some(max) = c.unit.max_per_ml()
            && c.amount.numeric_cmp(max).is_gt()
        {
            return Err(DoseError::ConcentrationTooHigh {
                unit: c.unit.symbol(),
                max,
            });
        }
        // A plausible volume of a plausible solution can still hold an implausible amount.
        // Weighed in mg or IU (as the levels model reads it), so 1 mL of 500 000 mcg/mL is
        // the 500 mg it is, not an overly large number of mcg.
        if self.unit == DoseUnit::Ml
            && let Some((drug, unit)) = self.active_amount()
        {
            within_bound(drug, unit)?;
        }
        Ok(())
    }

    /// The amount of drug: mL are multiplied out by the concentration, mcg become mg.
    /// Returns the amount in mg (mass compounds) or IU, or `None` if it cannot be known.
    pub fn active_amount(&self) -> Option<(Decimal, DoseUnit)> {
        let (amount, unit) = match (self.unit, self.concentration) {
            (DoseUnit::Ml, Some(c)) => (self.amount.checked_mul(c.amount)?, c.unit),
            (DoseUnit::Ml, None) => return None,
            (unit, _) => (self.amount, unit),
        };
        match unit {
            DoseUnit::Mcg => Some((
                amount.checked_div(Decimal::from_int(1000), 6)?.normalize(),
                DoseUnit::Mg,
            )),
            DoseUnit::Ml => None,
            unit => Some((amount, unit)),
        }
    }
}

fn within_bound(amount: Decimal, unit: DoseUnit) -> Result<(), DoseError> {
    let max = unit.max_per_dose();
    if amount.numeric_cmp(max).is_gt() {
        return Err(DoseError::TooLarge {
            unit: unit.symbol(),
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dec;

    fn dose(amount: &str, unit: DoseUnit, concentration: Option<Concentration>) -> Dose {
        Dose {
            amount: Decimal::parse(amount).unwrap(),
            unit,
            concentration,
        }
    }

    #[test]
    fn millilitres_are_converted_through_the_concentration() {
        let c = Concentration {
            amount: dec!("250"),
            unit: DoseUnit::Mg,
        };
        let d = dose("0.5", DoseUnit::Ml, Some(c));
        assert_eq!(d.validate(), Ok(()));
        assert_eq!(d.active_amount(), Some((dec!("125.0"), DoseUnit::Mg)));
    }

    #[test]
    fn micrograms_are_expressed_in_milligrams() {
        let d = dose("500", DoseUnit::Mcg, None);
        assert_eq!(d.active_amount(), Some((dec!("0.5"), DoseUnit::Mg)));
    }

    #[test]
    fn dose_rules_reject_bad_amounts_and_concentrations() {
        assert_eq!(dose("0", DoseUnit::Mg, None).validate(), Err(DoseError::NotPositive));
        assert_eq!(
            dose("1", DoseUnit::Ml, None).validate(),
            Err(DoseError::MissingConcentration)
        );
        let in_ml = Concentration {
            amount: dec!("1"),
            unit: DoseUnit::Ml,
        };
        assert_eq!(
            dose("1", DoseUnit::Ml, Some(in_ml)).validate(),
            Err(DoseError::InvalidConcentration)
        );
    }

    #[test]
    fn each_unit_has_an_inclusive_upper_bound_per_dose() {
        for (unit, max, over) in [
            (DoseUnit::Mg, "10000", "10000.01"),
            (DoseUnit::Mcg, "100000", "100001"),
            (DoseUnit::Iu, "1000000", "1000001"),
        ] {
            assert_eq!(dose(max, unit, None).validate(), Ok(()), "{unit:?} {max}");
            assert_eq!(
                dose(over, unit, None).validate(),
                Err(DoseError::TooLarge {
                    unit: unit.symbol(),
                    max: Decimal::parse(max).unwrap(),
                }),
                "{unit:?} {over}"
            );
        }
        assert_eq!(
            dose("999999", DoseUnit::Mg, None).validate(),
            Err(DoseError::TooLarge {
                unit: "mg",
                max: dec!("10000"),
            })
        );
        let oil = Concentration {
            amount: dec!("250"),
            unit: DoseUnit::Mg,
        };
        assert_eq!(dose("2", DoseUnit::Ml, Some(oil)).validate(), Ok(()));
        assert_eq!(
            dose("100.5", DoseUnit::Ml, Some(oil)).validate(),
            Err(DoseError::TooLarge {
                unit: "mL",
                max: dec!("100"),
            })
        );
    }

    #[test]
    fn a_concentration_and_the_drug_a_volume_holds_are_bounded_too() {
        let strong = |amount: &str, unit| Concentration {
            amount: Decimal::parse(amount).unwrap(),
            unit,
        };
        assert_eq!(
            dose("1", DoseUnit::Ml, Some(strong("1000.1", DoseUnit::Mg))).validate(),
            Err(DoseError::ConcentrationTooHigh {
                unit: "mg",
                max: dec!("1000"),
            })
        );
        assert_eq!(
            dose("1", DoseUnit::Ml, Some(strong("300000", DoseUnit::Iu))).validate(),
            Ok(())
        );
        // 20 mL of 600 mg/mL: each number plausible, 12 g of drug is not.
        assert_eq!(
            dose("20", DoseUnit::Ml, Some(strong("600", DoseUnit::Mg))).validate(),
            Err(DoseError::TooLarge {
                unit: "mg",
                max: dec!("10000"),
            })
        );
        // 1 mL of 500 000 mcg/mL is 500 mg: weighed in mg, so accepted.
        assert_eq!(
            dose("1", DoseUnit::Ml, Some(strong("500000", DoseUnit::Mcg))).validate(),
            Ok(())
        );
    }

    #[test]
    fn units_parse_as_typed_and_suit_their_compounds() {
        assert_eq!(DoseUnit::parse("µg"), Some(DoseUnit::Mcg));
        assert_eq!(DoseUnit::parse("ML"), Some(DoseUnit::Ml));
        assert_eq!(DoseUnit::parse("g"), None);
        assert!(DoseUnit::Iu.suits(DoseKind::InternationalUnits));
        assert!(!DoseUnit::Mg.suits(DoseKind::InternationalUnits));
        assert!(DoseUnit::Ml.suits(DoseKind::Mass));
    }
}
