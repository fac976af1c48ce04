//! Model parameters, the single-dose curve and steady state.

use std::f64::consts::LN_2;

use crate::compounds::{ActiveSubstance, Compound};

/// Which catalog half-life to use (`docs/compounds.md` keeps both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HalfLifeBasis {
    /// Terminal half-life from labels and literature.
    #[default]
    Clinical,
    /// The longer "active life" values of enthusiast calculators.
    Calculator,
}

/// A user's override of catalog values for one compound; `None` keeps the catalog value.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct PkOverride {
    /// Half-life in days.
    pub half_life_days: Option<f64>,
    /// Time to peak in days.
    pub tmax_days: Option<f64>,
    /// Parent ÷ ester mass.
    pub free_base_fraction: Option<f64>,
    /// What the compound delivers (needed for custom compounds; defaults to testosterone).
    pub active: Option<ActiveSubstance>,
}

/// Model settings for one user.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ModelSettings {
    /// Which half-life column to use.
    pub basis: HalfLifeBasis,
    /// Per-compound overrides (custom compounds are modelled only through an override).
    pub overrides: Vec<(Compound, PkOverride)>,
}

/// Resolved, validated parameters for one compound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PkParams {
    /// What it delivers.
    pub active: ActiveSubstance,
    /// Half-life in days (> 0).
    pub half_life_days: f64,
    /// Time to peak in days (> 0), when known.
    pub tmax_days: Option<f64>,
    /// Parent ÷ ester mass, in (0, 1].
    pub free_base_fraction: f64,
}

/// When Tmax is unknown, the fast rate is `ln 2 / 1 day`: the value of the worked TE example
/// in `docs/pharmacokinetics.md` (see "Why 1 day when Tmax is unknown" there).
const FALLBACK_FAST_HALF_LIFE_DAYS: f64 = 1.0;

fn positive(x: f64) -> Option<f64> {
    (x.is_finite() && x > 0.0).then_some(x)
}

impl ModelSettings {
    /// Parameters for `compound`: catalog values, then the user's override. `None` when no
    /// usable half-life is known (e.g. a custom compound without an override).
    pub fn params(&self, compound: &Compound) -> Option<PkParams> {
        let overrides = self
            .overrides
            .iter()
            .find(|(c, _)| c == compound)
            .map(|(_, o)| *o)
            .unwrap_or_default();
        let (active, catalog_half_life, catalog_tmax, catalog_fraction) = match compound {
            Compound::Catalog(key) => {
                let info = key.info();
                let (preferred, other) = match self.basis {
                    HalfLifeBasis::Clinical => (info.half_life_clinical_days, info.half_life_calculator_days),
                    HalfLifeBasis::Calculator => (info.half_life_calculator_days, info.half_life_clinical_days),
                };
                (
                    Some(info.active),
                    preferred.or(other),
                    info.tmax_days,
                    Some(info.free_base_fraction),
                )
            }
            Compound::Custom { .. } => (None, None, None, None),
        };
        let free_base_fraction = overrides.free_base_fraction.or(catalog_fraction).unwrap_or(1.0);
        Some(PkParams {
            active: overrides.active.or(active).unwrap_or(ActiveSubstance::Testosterone),
            half_life_days: positive(overrides.half_life_days.or(catalog_half_life)?)?,
            tmax_days: overrides.tmax_days.or(catalog_tmax).and_then(positive),
            free_base_fraction: positive(free_base_fraction).filter(|f| *f <= 1.0)?,
        })
    }
}

/// The two first-order rates, per day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    /// The slow (terminal) rate, `ln 2 / t½`.
    pub slow: f64,
    /// The fast rate (≥ slow).
    pub fast: f64,
}

impl Rates {
    /// Rates from half-lives in days.
    pub fn from_half_lives(slow_days: f64, fast_days: f64) -> Option<Rates> {
        let a = LN_2 / positive(slow_days)?;
        let b = LN_2 / positive(fast_days)?;
        Some(Rates {
            slow: a.min(b),
            fast: a.max(b),
        })
    }

    /// Rates for a compound: slow from its half-life, fast solved from Tmax.
    pub fn for_params(params: &PkParams) -> Option<Rates> {
        let slow = LN_2 / positive(params.half_life_days)?;
        let fast = match params.tmax_days {
            Some(tmax) => solve_fast_rate(slow, tmax),
            None => (LN_2 / FALLBACK_FAST_HALF_LIFE_DAYS).max(slow),
        };
        positive(fast).map(|fast| Rates { slow, fast })
    }

    /// True when the rates are close enough that the Bateman quotient would lose precision.
    fn nearly_equal(self) -> bool {
        (self.fast - self.slow).abs() <= 1e-9 * self.fast.max(self.slow)
    }

    /// Relative level `t_days` after a unit dose (0 before the dose).
    pub fn unit_dose(self, t_days: f64) -> f64 {
        if !t_days.is_finite() || t_days < 0.0 {
            return 0.0;
        }
        let value = if self.nearly_equal() {
            // Limit of the Bateman function when both rates equal k: k·t·e^(−k·t).
            let k = self.slow;
            k * t_days * (-k * t_days).exp()
        } else {
            self.fast / (self.fast - self.slow) * ((-self.slow * t_days).exp() - (-self.fast * t_days).exp())
        };
        clean(value)
    }
}

/// Finite and non-negative, else 0 (rounding can push a tiny level below zero).
pub(super) fn clean(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// Solves `tmax = ln(fast/slow) / (fast − slow)` for `fast` by bisection. Tmax falls from
/// `1/slow` (equal rates) towards 0 as `fast` grows, so a Tmax at or beyond `1/slow` means
/// equal rates.
fn solve_fast_rate(slow: f64, tmax: f64) -> f64 {
    if tmax * slow >= 1.0 {
        return slow;
    }
    let tmax_of = |fast: f64| (fast / slow).ln() / (fast - slow);
    let (mut lo, mut hi) = (slow * (1.0 + 1e-9), slow * 1e7);
    for _ in 0..200 {
        let mid = (lo * hi).sqrt();
        if tmax_of(mid) > tmax {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo * hi).sqrt()
}

/// Steady-state figures for equal doses every `interval_days`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SteadyState {
    /// Highest ÷ lowest level within an interval at steady state; `None` when the trough
    /// is indistinguishable from zero (interval far longer than the half-life).
    pub peak_to_trough: Option<f64>,
    /// Accumulation factor `1 / (1 − e^(−k·τ))` with the slow rate.
    pub accumulation: f64,
    /// Days after a dose at which the peak falls.
    pub peak_after_days: f64,
}

/// Steady state by the closed-form sum of the Bateman curve over infinitely many doses
/// (`docs/pharmacokinetics.md`), sampled across one interval. `None` for a non-positive interval.
pub fn steady_state(rates: Rates, interval_days: f64) -> Option<SteadyState> {
    let interval = positive(interval_days)?;
    let geometric = |k: f64| 1.0 / (1.0 - (-k * interval).exp());
    let level = |tau: f64| {
        if rates.nearly_equal() {
            let k = rates.slow;
            let q = (-k * interval).exp();
            clean(k * (-k * tau).exp() * (tau / (1.0 - q) + interval * q / ((1.0 - q) * (1.0 - q))))
        } else {
            clean(
                rates.fast / (rates.fast - rates.slow)
                    * ((-rates.slow * tau).exp() * geometric(rates.slow)
                        - (-rates.fast * tau).exp() * geometric(rates.fast)),
            )
        }
    };
    const SAMPLES: u32 = 4000;
    let (mut peak, mut peak_at, mut trough) = (0.0_f64, 0.0_f64, f64::INFINITY);
    for i in 0..=SAMPLES {
        let tau = interval * f64::from(i) / f64::from(SAMPLES);
        let value = level(tau);
        if value > peak {
            peak = value;
            peak_at = tau;
        }
        trough = trough.min(value);
    }
    let ratio = peak / trough;
    Some(SteadyState {
        peak_to_trough: (trough > 0.0 && ratio.is_finite()).then_some(ratio.max(1.0)),
        accumulation: clean(geometric(rates.slow)),
        peak_after_days: peak_at,
    })
}
