//! `vigil bench export`: one person with `--events` events (default 100 000; a tenth of them
//! first), the time and peak memory of downloading their JSON export through the real server
//! (in-process, on loopback, the body read and dropped chunk by chunk), beside the raw
//! baseline of reading the same events from the store (decrypted, a page at a time). Memory:
//! the process's VmHWM, reset before each phase (`/proc/self/clear_refs`), and the peak of
//! its anonymous memory (RssAnon, sampled), which leaves out file pages; the two history
//! sizes show whether memory grows with the history.
//! The person registers over GraphQL; their history is appended to the store directly (health
//! readings, a blood pressure and a weight in turn), then the read models catch up.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::aggregate::DomainEvent;
use vigil_domain::health::{HealthEvent, VitalComponent, VitalKind};
use vigil_domain::values::{Decimal, EntryId};
use vigil_eventstore::{EventStore, ExpectedVersion, Metadata, NewEvent};

use super::BenchDb;
use super::api::listen;
use super::api::seed::Gql;
use crate::auth::TokenKey;
use crate::cli::BenchArgs;
use crate::server::{Stack, Surface};

const BATCH: u64 = 1_000;

pub async fn export(db: &BenchDb, store: &EventStore, a: &BenchArgs) -> anyhow::Result<()> {
    let total = super::args_events(a, 100_000);
    let stack = Stack::assemble(
        store,
        &db.location,
        TokenKey::generate()?,
        Duration::from_secs(600),
        Surface::internal(262_144),
    )
    .await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let addr = listen(stack.app.clone(), stopped).await?;
    let gql = Gql {
        http: reqwest::Client::new(),
        url: format!("http://{addr}/graphql"),
    };
    let (user, token) = person(&gql).await?;
    println!("export: one person; JSON export downloaded over loopback vs reading their events from the store");
    let mut written = 0;
    for target in [(total / 10).max(1), total] {
        let started = Instant::now();
        append_history(store, user, written, target - written).await?;
        written = target;
        stack.service.settle(store.head_position().await?).await?;
        db.raw.analyze().await?;
        let events = count_events(store, user).await?;
        println!(
            "  {events} events of the person (history written and projected in {:.1} s)",
            started.elapsed().as_secs_f64()
        );
        for _ in 0..a.runs {
            let (read_time, read) = measured(raw_read(store, user)).await?;
            let ((bytes, export_time), export) = measured(download(&gql, &token, addr)).await?;
            let rate = |secs: f64| events as f64 / secs.max(1e-9);
            println!(
                "    JSON export {:>7.2} s {:>9.0} ev/s {:>7.1} MiB | raw read_subject {:>6.2} s {:>9.0} ev/s | ratio {:.2}",
                export_time,
                rate(export_time),
                bytes as f64 / 1_048_576.0,
                read_time,
                rate(read_time),
                rate(export_time) / rate(read_time),
            );
            println!(
                "      export: peak RSS (VmHWM) {:>6.1} MiB, heap (RssAnon) {:>6.1} -> peak {:>6.1} MiB | raw read: VmHWM {:>6.1} MiB, RssAnon {:>6.1} -> {:>6.1} MiB",
                mib(export.hwm),
                mib(export.anon_before),
                mib(export.anon_peak),
                mib(read.hwm),
                mib(read.anon_before),
                mib(read.anon_peak),
            );
        }
    }
    let _ = stop.send(true);
    stack.close().await;
    Ok(())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Memory of one phase (KiB): the process's peak RSS (VmHWM, reset as the phase starts) and
/// the peak of its anonymous memory (RssAnon, sampled every 2 ms: the heap, without file
/// pages), beside the anonymous memory when the phase started.
struct Memory {
    hwm: u64,
    anon_peak: u64,
    anon_before: u64,
}

/// Runs `work` and measures its [`Memory`].
async fn measured<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<(T, Memory)> {
    // "5" resets the peak to the current RSS (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5").context("cannot reset VmHWM through /proc/self/clear_refs")?;
    let anon_before = status_kib("RssAnon:")?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_kib("RssAnon:").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    let out = work.await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let anon_peak = sampler.join().unwrap_or(0).max(status_kib("RssAnon:")?);
    Ok((
        out?,
        Memory {
            hwm: status_kib("VmHWM:")?,
            anon_peak,
            anon_before,
        },
    ))
}

fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/self/status"))
}

async fn person(gql: &Gql) -> anyhow::Result<(Uuid, String)> {
    let run = Uuid::new_v4().simple().to_string();
    let credentials =
        serde_json::json!({ "e": format!("export-{run}@example.org"), "p": format!("bench-passphrase-{run}") });
    gql.call(
        None,
        "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accepted } }",
        credentials.clone(),
    )
    .await?;
    let data = gql
        .call(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken me { id } } }",
            credentials,
        )
        .await?;
    let token = data["login"]["accessToken"]
        .as_str()
        .context("no access token")?
        .to_owned();
    let id = data["login"]["me"]["id"].as_str().context("no id")?.parse()?;
    Ok((id, token))
}

/// Appends `n` readings to the person's health log, after the `done` already there.
async fn append_history(store: &EventStore, user: Uuid, done: u64, n: u64) -> anyhow::Result<()> {
    let stream = vigil_projections::streams::health(user);
    let start = OffsetDateTime::now_utc() - time::Duration::days(400);
    let mut i = done;
    while i < done + n {
        let end = (i + BATCH).min(done + n);
        let batch = (i..end)
            .map(|k| {
                let at = start + time::Duration::seconds(i64::try_from(k).unwrap_or(0) * 60);
                let e = reading(k, at);
                NewEvent::json(e.event_type(), e.schema_version(), &e)
            })
            .collect::<Result<Vec<_>, _>>()?;
        store
            .append_to(
                &stream,
                user,
                ExpectedVersion::Any,
                batch,
                Metadata::actor("system:bench"),
            )
            .await?;
        i = end;
    }
    Ok(())
}

fn reading(k: u64, at: OffsetDateTime) -> HealthEvent {
    let component = |loinc: &str, value: Decimal, unit: &str| VitalComponent {
        loinc: loinc.into(),
        value,
        unit: unit.into(),
        canonical_value: value,
        canonical_unit: unit.into(),
    };
    let small = i64::try_from(k % 20).unwrap_or(0);
    let (kind, loinc, components) = if k.is_multiple_of(2) {
        (
            VitalKind::BloodPressure,
            "85354-9",
            vec![
                component("8480-6", Decimal::from_int(118 + small), "mm[Hg]"),
                component("8462-4", Decimal::from_int(76 + small / 2), "mm[Hg]"),
            ],
        )
    } else {
        (
            VitalKind::BodyWeight,
            "29463-7",
            vec![component("29463-7", Decimal::from_parts(850 + small, 1), "kg")],
        )
    };
    HealthEvent::VitalRecorded {
        entry_id: EntryId::from_uuid(Uuid::now_v7()),
        kind,
        loinc: loinc.into(),
        components,
        measured_at: at,
        note: None,
        recorded_at: at,
    }
}

async fn count_events(store: &EventStore, user: Uuid) -> anyhow::Result<u64> {
    let (mut from, mut count) = (1, 0);
    loop {
        let page = store.read_subject(user, from, 5_000).await?;
        let Some(last) = page.last() else { return Ok(count) };
        from = last.envelope.position + 1;
        count += page.len() as u64;
    }
}

/// The baseline: every event of the person, decrypted, a page at a time (the export reads its
/// raw history the same way); answers the seconds taken.
async fn raw_read(store: &EventStore, user: Uuid) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut from = 1;
    let mut bytes = 0usize;
    loop {
        let page = store.read_subject(user, from, 1_000).await?;
        let Some(last) = page.last() else { break };
        from = last.envelope.position + 1;
        for e in &page {
            if let vigil_eventstore::Payload::Json { json, .. } = &e.payload {
                bytes += json.len();
            }
        }
    }
    std::hint::black_box(bytes);
    Ok(started.elapsed().as_secs_f64())
}

/// Asks for a JSON export and downloads it, dropping each chunk: (bytes, seconds).
async fn download(gql: &Gql, token: &str, addr: std::net::SocketAddr) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let data = gql
        .call(
            Some(token),
            "mutation { exportMyData(format: JSON) { url } }",
            serde_json::json!({}),
        )
        .await?;
    let path = data["exportMyData"]["url"].as_str().context("no url")?;
    let mut response = gql.http.get(format!("http://{addr}{path}")).send().await?;
    if !response.status().is_success() {
        bail!("the download answered {}", response.status());
    }
    let mut bytes = 0u64;
    let mut tail = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
        tail = chunk.slice(chunk.len().saturating_sub(64)..).to_vec();
    }
    if !String::from_utf8_lossy(&tail).trim_end().ends_with('}') {
        bail!("the export ended early");
    }
    Ok((bytes, started.elapsed().as_secs_f64()))
}
