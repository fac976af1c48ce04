//! Estimated serum levels: a pure function of dose events and the compound catalog.
//!
//! Owns: the one-compartment (Bateman) model with first-order absorption and elimination
//! (`docs/pharmacokinetics.md`), superposition over doses, the equal-rate limit, steady-state
//! peak:trough, per-user calibration from lab draws, and per-draw context (days since the
//! last dose, modelled level at the draw). Must not: present anything as a lab value. Without
//! calibration the output is *relative* (model units: mg of parent hormone per unit volume),
//! and every number that reaches a user must be labelled an estimate.
//!
//! Parameterisation follows the flip-flop section of `docs/pharmacokinetics.md`: the slow
//! rate is `ln 2 / t½` of the ester (the terminal slope users know as "half-life"); the fast
//! rate is solved from the catalog's Tmax. The Bateman curve is symmetric in the two rates, so
//! which one is "absorption" does not change the shape. Numerics are guarded: no NaN, no infinity, no negative values.

mod calibration;
mod draws;
mod model;
mod series;
#[cfg(test)]
mod tests;

pub use calibration::Calibration;
pub use draws::{DrawContext, draw_contexts};
pub use model::{HalfLifeBasis, ModelSettings, PkOverride, PkParams, Rates, SteadyState, steady_state};
pub use series::{LevelPoint, LevelSeries, MAX_POINTS, ModelDose, doses_from_log, estimate_series, level_at};
