//! Dose amounts and units, shared by protocol items and the dose log.

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
    fn units_parse_as_typed_and_suit_their_compounds() {
        assert_eq!(DoseUnit::parse("µg"), Some(DoseUnit::Mcg));
        assert_eq!(DoseUnit::parse("ML"), Some(DoseUnit::Ml));
        assert_eq!(DoseUnit::parse("g"), None);
        assert!(DoseUnit::Iu.suits(DoseKind::InternationalUnits));
        assert!(!DoseUnit::Mg.suits(DoseKind::InternationalUnits));
        assert!(DoseUnit::Ml.suits(DoseKind::Mass));
    }
}
