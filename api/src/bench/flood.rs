//! `vigil bench flood`: the server under a bounded loopback flood with the production rate
//! limits: `--requests` reads from one signed-in person, then as many requests without a
//! session from one address. Meanwhile a prober asks `/healthz` every 10 ms on its own
//! connection and the process's resident memory is sampled. Prints how many requests were
//! answered and refused, the probe's latency percentiles and the memory before, at its peak
//! and after. Figures only; nothing is asserted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use serde_json::json;
use vigil_eventstore::EventStore;

use super::api::seed::Gql;
use super::{BenchDb, percentile};
use crate::auth::TokenKey;
use crate::cli::FloodBenchArgs;
use crate::limits::RateLimits;
use crate::server::{Stack, Surface};

const PASSWORD: &str = "bench-flood-passphrase-57";

pub async fn flood(db: &BenchDb, store: &EventStore, a: &FloodBenchArgs) -> anyhow::Result<()> {
    let stack = Stack::assemble(
        store,
        &db.location,
        TokenKey::generate()?,
        Duration::from_secs(2),
        Surface {
            limits: Some(RateLimits::default()),
            ..Surface::internal(1 << 20)
        },
    )
    .await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let addr = super::api::listen(stack.app.clone(), stopped).await?;
    let result = measure(addr, a).await;
    let _ = stop.send(true);
    stack.close().await;
    result
}

/// Resident memory of this process, in MiB (Linux; 0 elsewhere).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Counts {
    ok: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
}

async fn measure(addr: SocketAddr, a: &FloodBenchArgs) -> anyhow::Result<()> {
    let base = format!("http://{addr}");
    let gql = Gql {
        http: reqwest::Client::new(),
        url: format!("{base}/graphql"),
    };
    let email = format!("flood-{}@example.org", uuid::Uuid::new_v4().simple());
    gql.call(
        None,
        "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accepted } }",
        json!({ "e": email, "p": PASSWORD }),
    )
    .await?;
    let login = gql
        .call(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            json!({ "e": email, "p": PASSWORD }),
        )
        .await?;
    let token = login["login"]["accessToken"].as_str().unwrap_or_default().to_owned();

    let done = Arc::new(AtomicBool::new(false));
    let prober = tokio::spawn(probe(format!("{base}/healthz"), done.clone()));
    let sampler = tokio::spawn(sample(done.clone()));
    let before = rss_mib();
    println!(
        "flood: {} requests per phase, {} at a time, production limits (ADR 0007), loopback",
        a.requests, a.concurrency
    );
    for (label, token) in [
        ("one person's reads (1000/min)", Some(token.as_str())),
        ("one address without a session (5/min)", None),
    ] {
        let counts = Counts {
            ok: AtomicU64::new(0),
            limited: AtomicU64::new(0),
            other: AtomicU64::new(0),
        };
        let started = Instant::now();
        stream::iter(0..a.requests)
            .for_each_concurrent(a.concurrency as usize, |_| {
                let (gql, counts) = (&gql, &counts);
                async move {
                    let mut req = gql
                        .http
                        .post(&gql.url)
                        .header("content-type", "application/json")
                        .body(r#"{"query":"{ __typename }"}"#);
                    if let Some(t) = token {
                        req = req.bearer_auth(t);
                    }
                    let slot = match req.send().await.map(|r| r.status().as_u16()) {
                        Ok(200) => &counts.ok,
                        Ok(429) => &counts.limited,
                        _ => &counts.other,
                    };
                    slot.fetch_add(1, Ordering::Relaxed);
                }
            })
            .await;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "  {label:<40} answered {:>6}  refused 429 {:>6}  other {:>3}  in {secs:.2} s ({:.0} req/s)",
            counts.ok.load(Ordering::Relaxed),
            counts.limited.load(Ordering::Relaxed),
            counts.other.load(Ordering::Relaxed),
            f64::from(a.requests) / secs.max(1e-9)
        );
    }
    done.store(true, Ordering::Relaxed);
    let mut probes = prober.await?;
    let peak = sampler.await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_mib();
    probes.sort();
    println!(
        "  /healthz during the flood: {} probes  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms (target p99 < 50 ms)",
        probes.len(),
        ms(percentile(&probes, 0.50)),
        ms(percentile(&probes, 0.99)),
        ms(probes.last().copied().unwrap_or_default()),
    );
    println!("  resident memory: before {before:.1} MiB, peak {peak:.1} MiB, 1 s after {after:.1} MiB");
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Asks `/healthz` every 10 ms on its own connection until `done`.
async fn probe(url: String, done: Arc<AtomicBool>) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    while !done.load(Ordering::Relaxed) {
        let started = Instant::now();
        if http.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
            latencies.push(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    latencies
}

/// The highest resident memory seen every 50 ms until `done`.
async fn sample(done: Arc<AtomicBool>) -> f64 {
    let mut peak = rss_mib();
    while !done.load(Ordering::Relaxed) {
        peak = peak.max(rss_mib());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    peak
}
