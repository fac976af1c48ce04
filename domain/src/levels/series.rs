//! Superposition of single-dose curves into a level series.

use time::{Duration, OffsetDateTime};

use super::model::{ModelSettings, Rates, clean};
use crate::compounds::{ActiveSubstance, Compound};
use crate::dose::DoseLogState;
use crate::values::Decimal;

/// One dose as the model sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDose {
    /// What was taken.
    pub compound: Compound,
    /// Amount of drug (mg of ester, or IU).
    pub amount: Decimal,
    /// When.
    pub at: OffsetDateTime,
}

/// One point of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LevelPoint {
    /// When.
    pub at: OffsetDateTime,
    /// Estimated level: relative, or calibrated units when a scale was applied.
    pub value: f64,
}

/// An estimated level curve for one active substance.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelSeries {
    /// What the curve is of.
    pub substance: ActiveSubstance,
    /// The points, ascending.
    pub points: Vec<LevelPoint>,
    /// Doses of this substance left out because no parameters are known for them.
    pub unmodelled_doses: usize,
}

/// Most points one series returns, so a tiny step over years stays bounded.
pub const MAX_POINTS: usize = 10_000;

/// A dose's contribution is ignored after this many slow half-lives (< 1e-12 of its peak).
const NEGLIGIBLE_AFTER_HALF_LIVES: f64 = 40.0;

/// The live taken doses of a dose log, oldest first.
pub fn doses_from_log(log: &DoseLogState) -> Vec<ModelDose> {
    log.taken_doses()
        .into_iter()
        .map(|(compound, active, at)| ModelDose {
            compound,
            amount: active.amount,
            at,
        })
        .collect()
}

/// A dose prepared for summing: scale (amount × free-base fraction) and rates.
struct Term {
    at: OffsetDateTime,
    scale: f64,
    rates: Rates,
}

/// Resolves the doses of `substance`; returns the terms and how many could not be modelled.
fn terms(doses: &[ModelDose], settings: &ModelSettings, substance: ActiveSubstance) -> (Vec<Term>, usize) {
    let mut terms = Vec::new();
    let mut unmodelled = 0;
    for dose in doses {
        let params = settings.params(&dose.compound);
        match params.filter(|p| p.active == substance) {
            Some(params) => {
                let scale = clean(dose.amount.to_f64() * params.free_base_fraction);
                match Rates::for_params(&params) {
                    Some(rates) => terms.push(Term {
                        at: dose.at,
                        scale,
                        rates,
                    }),
                    None => unmodelled += 1,
                }
            }
            // A custom compound without parameters may be of this substance; count it.
            None if params.is_none() => unmodelled += 1,
            None => {}
        }
    }
    (terms, unmodelled)
}

fn sum_at(terms: &[Term], at: OffsetDateTime) -> f64 {
    let total: f64 = terms
        .iter()
        .filter(|term| term.at <= at)
        .map(|term| {
            let days = (at - term.at).as_seconds_f64() / 86_400.0;
            let horizon = NEGLIGIBLE_AFTER_HALF_LIVES * std::f64::consts::LN_2 / term.rates.slow;
            if days > horizon {
                0.0
            } else {
                term.scale * term.rates.unit_dose(days)
            }
        })
        .sum();
    clean(total)
}

/// The estimated level of `substance` at one instant.
pub fn level_at(doses: &[ModelDose], settings: &ModelSettings, substance: ActiveSubstance, at: OffsetDateTime) -> f64 {
    sum_at(&terms(doses, settings, substance).0, at)
}

/// The estimated level of `substance` from `from` to `to` (inclusive) every `step`,
/// multiplied by `scale` (a calibration factor; pass 1.0 for relative units).
pub fn estimate_series(
    doses: &[ModelDose],
    settings: &ModelSettings,
    substance: ActiveSubstance,
    from: OffsetDateTime,
    to: OffsetDateTime,
    step: Duration,
    scale: f64,
) -> LevelSeries {
    let (terms, unmodelled_doses) = terms(doses, settings, substance);
    let scale = clean(scale);
    let mut points = Vec::new();
    if step.is_positive() {
        let mut at = from;
        while at <= to && points.len() < MAX_POINTS {
            points.push(LevelPoint {
                at,
                value: clean(sum_at(&terms, at) * scale),
            });
            match at.checked_add(step) {
                Some(next) => at = next,
                None => break,
            }
        }
    }
    LevelSeries {
        substance,
        points,
        unmodelled_doses,
    }
}
