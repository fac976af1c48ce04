//! Operational metrics in the Prometheus text format, served on a listener of their own
//! (`--metrics-listen`), never on the public port. Metrics are per process: each server of a
//! cluster is scraped on its own, so nothing is shared between nodes.
//!
//! Owns: installing the recorder (`install`), the names, units and help of every metric
//! (`record`), the labels' bounded value sets, and the metrics listener (`http`).
//! Must not: put an id, an email, a handle, a token or any other user input in a label (every
//! label value comes from a fixed list, anything else is `other`), or cost the request path
//! anything when the listener is off (no recorder is installed then, and the helpers in
//! `record` return before computing labels).

pub mod http;
pub mod record;

use std::sync::OnceLock;

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Set once, when the recorder is installed; `None` means metrics are off.
static INSTALLED: OnceLock<record::Known> = OnceLock::new();

/// Whether metrics are being recorded in this process (the helpers check it first).
pub fn on() -> Option<&'static record::Known> {
    INSTALLED.get()
}

/// Installs the process-wide recorder, describes every metric and remembers the schema's root
/// fields (`schema_sdl`), the only values the `field` label may take besides `other`.
///
/// # Errors
/// A recorder is already installed, or the bucket configuration is refused.
pub fn install(schema_sdl: &str) -> anyhow::Result<PrometheusHandle> {
    let mut builder = PrometheusBuilder::new();
    // Without buckets the exporter renders histograms as summaries, which cannot be
    // aggregated across nodes or turned into p95 alerts with `histogram_quantile`.
    for (name, buckets) in record::BUCKETS {
        builder = builder
            .set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets)
            .context("metric buckets")?;
    }
    let handle = builder
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let known = record::Known::from_sdl(schema_sdl);
    record::describe();
    record::zero();
    let _ = INSTALLED.set(known);
    Ok(handle)
}
