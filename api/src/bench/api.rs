//! `vigil bench api`: the GraphQL API under N concurrent clients, each signed in as its own
//! person, served in-process on loopback (client and server share the machine's cores, as
//! the targets assume), beside a bare axum handler that runs the same dashboard
//! queries in the same process and the same run. Per run: bare and GraphQL dashboard reads in
//! alternating one-second windows (`load::interleaved`), then the mixed GraphQL workload
//! (dashboard reads plus health-log writes that wait for their read models).

mod bare;
mod load;
pub(super) mod seed;
mod wire;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use vigil_eventstore::EventStore;

use super::{BenchDb, median, percentile};
use crate::auth::TokenKey;
use crate::cli::ApiBenchArgs;
use crate::server::Stack;
use load::{Load, Outcome, Target};

/// The production defaults of `vigil serve`.
const LAG_TIMEOUT: Duration = Duration::from_secs(2);
const BODY_LIMIT: u64 = 262_144;
const WARMUP: Duration = Duration::from_secs(1);

/// One phase's figures across runs.
#[derive(Default)]
struct Figures {
    throughput: Vec<f64>,
    p50: Vec<f64>,
    p95: Vec<f64>,
    p99: Vec<f64>,
}

impl Figures {
    fn add(&mut self, throughput: f64, sorted: &[Duration]) {
        let ms = |p| percentile(sorted, p).as_secs_f64() * 1e3;
        self.throughput.push(throughput);
        self.p50.push(ms(0.50));
        self.p95.push(ms(0.95));
        self.p99.push(ms(0.99));
    }

    fn print(&self, label: &str, target: &str) {
        println!(
            "  {label:<44} {:>8.0} req/s   p50 {:>6.2} ms   p95 {:>6.2} ms   p99 {:>6.2} ms   {target}",
            median(self.throughput.clone()),
            median(self.p50.clone()),
            median(self.p95.clone()),
            median(self.p99.clone()),
        );
    }
}

/// Production's HTTP surface, rate limits included (every request pays their checks), with
/// rates no bench client reaches: what is measured is their cost, not refusals.
fn measured_surface() -> crate::server::Surface {
    let never = crate::limits::Rate::per(std::num::NonZeroU32::MAX, 1);
    crate::server::Surface {
        limits: Some(crate::limits::RateLimits {
            sign_in: never,
            public: never,
            checkpoints: never,
            reads: never,
            writes: never,
            trusted_proxies: crate::limits::TrustedProxies::default(),
        }),
        ..crate::server::Surface::internal(BODY_LIMIT)
    }
}

pub async fn api(db: &BenchDb, store: &EventStore, a: &ApiBenchArgs) -> anyhow::Result<()> {
    // The recorder `serve --metrics-listen` installs, so every layer records as in production.
    let metrics = if a.metrics {
        Some(crate::metrics::install(&crate::graphql::build(None, false).sdl())?)
    } else {
        None
    };
    let stack = Stack::assemble(
        store,
        &db.location,
        TokenKey::generate()?,
        LAG_TIMEOUT,
        measured_surface(),
    )
    .await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let vigil_addr = listen(stack.app.clone(), stopped.clone()).await?;
    let bare_addr = listen(bare::router(stack.service.clone()), stopped).await?;
    let gql = seed::Gql {
        http: reqwest::Client::new(),
        url: format!("http://{vigil_addr}/graphql"),
    };
    let seeding = Instant::now();
    let people = seed::people(&gql, a.clients).await.context("seeding people")?;
    println!(
        "api: {} clients, each its own person (a 2-item protocol, {} doses, {} readings, {} panels; seeded over \
         GraphQL in {:.1} s); {} s measured per phase after {} s warm-up; {} runs",
        a.clients,
        seed::DOSES,
        2 * seed::READINGS,
        seed::PANELS,
        seeding.elapsed().as_secs_f64(),
        a.seconds,
        WARMUP.as_secs(),
        a.runs
    );
    let phase = |write_percent| Load {
        clients: a.clients,
        warmup: WARMUP,
        measure: Duration::from_secs(u64::from(a.seconds)),
        write_percent,
    };
    let vigil = Target::Vigil(vigil_addr);
    let bare = Target::Bare(bare_addr);
    let (mut bare_reads, mut vigil_reads, mut mixed_reads, mut mixed_writes) = (
        Figures::default(),
        Figures::default(),
        Figures::default(),
        Figures::default(),
    );
    let mut ratios = Vec::new();
    // Idle means at rest after having served this traffic: a short unmeasured run of the
    // mixed load opens the pools and prepares the write path's statements, then the process
    // rests. Measured before it, "idle" would hold the seeding's 64 password hashes (argon2,
    // 19 MiB each, freed but not all handed back yet) and none of the write path.
    let cold_rss = rss_mib();
    let settle = Load {
        measure: WARMUP,
        ..phase(a.write_percent)
    };
    checked(load::drive(&vigil, &people, settle).await)?;
    tokio::time::sleep(REST).await;
    let idle_rss = rss_mib();
    let mut peak_rss = idle_rss;
    for _ in 0..a.runs {
        let (b, v) = load::interleaved(&bare, &vigil, &people, phase(0)).await;
        let (b, v) = (checked(b)?, checked(v)?);
        let sampler = RssPeak::start();
        let m = checked(load::drive(&vigil, &people, phase(a.write_percent)).await)?;
        peak_rss = peak_rss.max(sampler.stop().await);
        ratios.push(v.throughput() / b.throughput().max(1e-9));
        bare_reads.add(b.throughput(), &b.reads);
        vigil_reads.add(v.throughput(), &v.reads);
        let seconds = m.seconds.max(1e-9);
        mixed_reads.add(m.reads.len() as f64 / seconds, &m.reads);
        mixed_writes.add(m.writes.len() as f64 / seconds, &m.writes);
    }
    bare_reads.print("baseline: bare axum, same dashboard queries", "");
    vigil_reads.print(
        "GraphQL dashboard (reads only)",
        &format!("ratio {:.2} (target ≥ 0.70)", median(ratios)),
    );
    println!("  mixed: {}% health-log writes", a.write_percent);
    let write_target = match db.location {
        vigil_eventstore::Location::Sqlite(_) => "p99 target ≤ 15 ms",
        vigil_eventstore::Location::Postgres(_) => "p99 target ≤ 20 ms",
    };
    mixed_reads.print("  GraphQL dashboard", "p99 target ≤ 8 ms");
    mixed_writes.print("  recordHealthLog (read-your-writes)", write_target);
    // Connections closed and the runner idle: what the process keeps once the load is gone.
    tokio::time::sleep(REST).await;
    let after_rss = rss_mib();
    println!(
        "  RSS of the whole bench process (server and clients): idle {idle_rss:.1} MiB (after seeding {cold_rss:.1}), \
         peak under the mixed load {peak_rss:.1} MiB, 2 s after it {after_rss:.1} MiB = {:+.0} % of idle \
         (targets: under load < 150 MiB, after within 10 % of idle); {}",
        100.0 * (after_rss / idle_rss.max(1e-9) - 1.0),
        rss_split()
    );
    match &metrics {
        // Proof the recorder saw the load: the series a scrape would return now.
        Some(handle) => {
            let rendered = handle.render();
            let requests = rendered
                .lines()
                .filter(|l| l.starts_with("vigil_http_responses_total"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>();
            println!(
                "  metrics: recorded ({} lines in a scrape, {requests:.0} HTTP responses counted)",
                rendered.lines().count()
            );
        }
        None => println!("  metrics: off (--metrics records them as serve --metrics-listen does)"),
    }
    let _ = stop.send(true);
    stack.close().await;
    Ok(())
}

/// Serves `app` on a loopback port until `stop` turns true.
pub(super) async fn listen(
    app: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        // The server's own accept loop, so the bench measures what production runs.
        let idle = crate::server::Surface::internal(BODY_LIMIT).idle;
        crate::server::listen::serve(listener, app, idle, Some("http"), shutdown).await;
    });
    Ok(addr)
}

/// A phase with failed requests measured something else: refuse to report it.
fn checked(outcome: Outcome) -> anyhow::Result<Outcome> {
    if outcome.errors > 0 {
        bail!(
            "{} requests failed during the bench; first: {}",
            outcome.errors,
            outcome.first_error.as_deref().unwrap_or("?")
        );
    }
    Ok(outcome)
}

/// How long the process rests before its idle and after-load resident sets are read.
const REST: Duration = Duration::from_secs(2);

/// The resident set's anonymous (heap, stacks) and file-backed (the binary, mapped files)
/// parts.
fn rss_split() -> String {
    format!(
        "anonymous {:.1} MiB, file-backed {:.1} MiB",
        status_mib("RssAnon:"),
        status_mib("RssFile:")
    )
}

/// This process's resident set in MiB (`VmRSS`; 0 where /proc is not there).
fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// A kB line of `/proc/self/status` (`key` with its colon) in MiB; 0 where there is none.
fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with(key))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The highest resident set seen every 50 ms until stopped.
struct RssPeak {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<f64>,
}

impl RssPeak {
    fn start() -> RssPeak {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut peak = rss_mib();
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tokio::select! {
                    _ = &mut stopped => return peak.max(rss_mib()),
                    _ = tick.tick() => peak = peak.max(rss_mib()),
                }
            }
        });
        RssPeak { stop, task }
    }

    async fn stop(self) -> f64 {
        let _ = self.stop.send(());
        self.task.await.unwrap_or(0.0)
    }
}
