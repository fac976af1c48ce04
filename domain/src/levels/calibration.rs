//! Per-user calibration: turning relative model units into lab units from lab draws.
//!
//! Following the HormoneLevels approach (`docs/pharmacokinetics.md`, "Calibration to lab
//! values", source 53): the scale is the mean ratio of lab value to modelled level at the draw
//! times; the residual standard deviation gives a confidence band.

/// A fitted calibration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    /// Lab units per model unit.
    pub scale: f64,
    /// Sample standard deviation of `lab − scale × model`, with two or more draws.
    pub residual_sd: Option<f64>,
    /// Draws used.
    pub draws: usize,
}

/// Modelled levels below this are too close to "no drug" to calibrate against.
const MIN_MODELLED: f64 = 1e-9;

impl Calibration {
    /// Fits from `(lab value, modelled level)` pairs, skipping unusable ones (non-finite,
    /// negative, or a modelled level of about zero). `None` without any usable pair.
    pub fn fit(pairs: &[(f64, f64)]) -> Option<Calibration> {
        let usable: Vec<(f64, f64)> = pairs
            .iter()
            .copied()
            .filter(|(lab, model)| lab.is_finite() && *lab >= 0.0 && model.is_finite() && *model > MIN_MODELLED)
            .collect();
        if usable.is_empty() {
            return None;
        }
        let n = usable.len() as f64;
        let scale = usable.iter().map(|(lab, model)| lab / model).sum::<f64>() / n;
        let residual_sd = (usable.len() >= 2).then(|| {
            let sum_sq: f64 = usable.iter().map(|(lab, model)| (lab - scale * model).powi(2)).sum();
            (sum_sq / (n - 1.0)).sqrt()
        });
        scale.is_finite().then_some(Calibration {
            scale,
            residual_sd: residual_sd.filter(|sd| sd.is_finite()),
            draws: usable.len(),
        })
    }
}
