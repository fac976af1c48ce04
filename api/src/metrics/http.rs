//! The metrics listener: `GET /metrics` in the Prometheus text format, and 404 for anything
//! else. It runs on its own address (`--metrics-listen`), so the public port never serves it.
//! Values that describe a state (projection lag, the read-only switch, resident memory, the
//! store's group-commit counts) are read when scraped rather than kept up to date on every
//! change: a scrape every few seconds is cheaper than touching them on the request path.
//!
//! Owns: the router and the scrape. Must not: answer anything but `/metrics`, or read anyone's
//! data (the lag is read from envelopes, payloads stay sealed).

use std::time::Duration;

use ::metrics::{counter, gauge};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use super::record;
use crate::service::Service;

/// The content type of the text exposition format, version 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    service: Service,
}

/// Serves `/metrics` on `listener` until the task is aborted; connections idle for `idle` close.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, service: Service, idle: Duration) {
    // The exporter's histograms need upkeep now and then (its own listener would do it).
    let upkeep = handle.clone();
    let keeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(Scrape { handle, service });
    crate::server::listen::serve(listener, app, idle, None, std::future::pending()).await;
    keeper.abort();
}

async fn metrics(State(scrape): State<Scrape>) -> Response {
    refresh(&scrape.service).await;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, TEXT_FORMAT)],
        scrape.handle.render(),
    )
        .into_response()
}

/// Sets the gauges read at scrape time. A failure to read one leaves its last value and is
/// logged: a scrape must not fail because the database hiccups.
async fn refresh(service: &Service) {
    gauge!(record::READ_ONLY).set(if service.maintenance().read_only().is_some() {
        1.0
    } else {
        0.0
    });
    if let Some(bytes) = resident_bytes() {
        #[allow(clippy::cast_precision_loss)] // bytes of memory: exact below 2^53
        gauge!(record::RESIDENT_MEMORY).set(bytes as f64);
    }
    let store = service.store();
    backups(store).await;
    let groups = store.group_commits();
    counter!(record::GROUP_COMMITS).absolute(groups.groups);
    counter!(record::GROUP_COMMIT_APPENDS).absolute(groups.appends);
    let status = match vigil_projections::runner::status(store, service.db()).await {
        Ok(status) => status,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the projections' checkpoints");
            return;
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let now_micros = i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX);
    for s in status {
        let name = s.projection.name();
        #[allow(clippy::cast_precision_loss)] // an event count: exact below 2^53
        gauge!(record::PROJECTION_LAG_EVENTS, "projection" => name).set(s.lag as f64);
        let seconds = if s.lag == 0 {
            0.0
        } else {
            // The oldest event it has not applied: its envelope says when it was recorded.
            match store.read_envelopes(s.position + 1, 1).await {
                Ok(envelopes) => envelopes.first().map_or(0.0, |e| {
                    #[allow(clippy::cast_precision_loss)] // microseconds of lag: small
                    let age = now_micros.saturating_sub(e.recorded_at_micros).max(0) as f64;
                    age / 1e6
                }),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: cannot read the log's envelopes");
                    continue;
                }
            }
        };
        gauge!(record::PROJECTION_LAG_SECONDS, "projection" => name).set(seconds);
    }
}

/// The backup gauges, from the `system-backups` stream every node follows.
async fn backups(store: &vigil_eventstore::EventStore) {
    static FOLLOWER: std::sync::LazyLock<crate::backup::record::Follower> =
        std::sync::LazyLock::new(crate::backup::record::Follower::default);
    let state = match FOLLOWER.refresh(store).await {
        Ok(state) => state,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the backup records");
            return;
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let age =
        |at: Option<time::OffsetDateTime>| at.map_or(f64::INFINITY, |at| crate::backup::record::age_seconds(at, now));
    gauge!(record::BACKUP_AGE).set(age(state.last_created.as_ref().map(|c| c.at)));
    gauge!(record::BACKUP_DRILL_AGE).set(age(state.last_drill.as_ref().map(|d| d.at)));
    gauge!(record::BACKUP_DRILL_FAILED).set(if state.last_drill.is_some_and(|d| !d.passed) {
        1.0
    } else {
        0.0
    });
}

/// The process's resident set size. Read from `/proc/self/status` (`VmRSS`, in KiB) rather
/// than `/proc/self/statm`, whose pages would need the page size, which safe Rust without libc
/// cannot ask for (it is not 4 KiB on every Linux). `None` elsewhere than Linux.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
