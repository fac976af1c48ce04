//! `vigil seed`: realistic test data. Each subject gets an account, a protocol, dose logs,
//! vitals and bloodwork, with content fully determined by `--seed` (ids, values, dates). The
//! store still stamps its own event ids, times and nonces. Subjects are written by several
//! tasks at once so the appender's group commit does the batching.
//!
//! Seeded events exercise the store (sizes, streams, subjects, shredding, verification); they
//! are not the application's domain events, so they go to `seed-…` streams that no
//! projection follows. Seeding a server's data dir then adds log entries and nothing the read
//! side would try, and fail, to decode.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use uuid::Uuid;
use vigil_eventstore::{AppendRequest, EventStore, ExpectedVersion, Metadata, NewEvent};

use crate::cli::{SeedArgs, StoreArgs};
use crate::commands::{open, progress};

/// Prefix of every seeded stream: a stream kind no projection follows.
pub const SEED_STREAM_PREFIX: &str = "seed-";

/// SplitMix64: tiny, deterministic, good enough for test content (not for keys).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    pub fn uuid(&mut self) -> Uuid {
        let bits = (u128::from(self.next()) << 64) | u128::from(self.next());
        uuid::Builder::from_random_bytes(bits.to_be_bytes()).into_uuid()
    }
    /// A decimal with one fraction digit, as text (values are kept exactly as entered).
    pub fn tenths(&mut self, lo: u64, hi: u64) -> String {
        let v = self.range(lo * 10, hi * 10);
        format!("{}.{}", v / 10, v % 10)
    }
}

const HANDLES: [&str; 8] = [
    "IronForge",
    "SteadyPulse",
    "QuietOak",
    "NightOwl",
    "BlueRidge",
    "CopperFox",
    "TidalWave",
    "StoneLark",
];

/// The `i`-th event of a subject's life, as (stream suffix, event).
pub fn event(rng: &mut Rng, i: u64) -> anyhow::Result<(&'static str, NewEvent)> {
    let day = time::Date::from_calendar_date(2026, time::Month::January, 1)?
        + time::Duration::days(i64::try_from(i / 4).unwrap_or(0));
    let at = format!("{day}T{:02}:{:02}:00Z", rng.range(6, 22), rng.range(0, 59));
    Ok(match i {
        0 => {
            let handle = format!("{}{}", HANDLES[(rng.next() % 8) as usize], rng.range(10, 99));
            (
                "account",
                NewEvent::json(
                    "AccountRegistered",
                    1,
                    &json!({"handle": handle, "role": "user", "at": at}),
                )?,
            )
        }
        1 => (
            "protocol",
            NewEvent::json(
                "ProtocolStarted",
                1,
                &json!({"name": "TRT", "items": [
                    {"compound": "testosterone", "ester": "enanthate", "dose": "250", "unit": "mg", "route": "IM", "schedule": "250 mg/wk split E3.5D"},
                    {"compound": "anastrozole", "dose": "0.5", "unit": "mg", "route": "oral", "schedule": "E3D"}
                ], "effective": day.to_string()}),
            )?,
        ),
        _ => match rng.range(0, 9) {
            0..=2 => (
                "doses",
                NewEvent::json(
                    "DoseTaken",
                    1,
                    &json!({"item": 0, "amount": "125", "unit": "mg", "route": "IM", "site": "ventroglute-left", "taken_at": at}),
                )?,
            ),
            3..=4 => (
                "health",
                NewEvent::json(
                    "HealthLogRecorded",
                    1,
                    &json!({"vital": "blood_pressure", "loinc": "85354-9", "systolic": rng.range(105, 145), "diastolic": rng.range(65, 95), "at": at}),
                )?,
            ),
            5 => (
                "health",
                NewEvent::json(
                    "HealthLogRecorded",
                    1,
                    &json!({"vital": "body_weight", "loinc": "29463-7", "value": rng.tenths(70, 110), "unit": "kg", "at": at}),
                )?,
            ),
            6 => (
                "health",
                NewEvent::json(
                    "HealthLogRecorded",
                    1,
                    &json!({"vital": "heart_rate", "loinc": "8867-4", "value": rng.range(50, 95), "unit": "/min", "at": at}),
                )?,
            ),
            7 => (
                "doses",
                NewEvent::json("DoseSkipped", 1, &json!({"item": 1, "scheduled_for": at}))?,
            ),
            _ => (
                "bloodwork",
                NewEvent::json(
                    "BloodworkRecorded",
                    1,
                    &json!({"drawn_at": at, "lab": "Synlab", "markers": [
                        {"loinc": "2986-8", "name": "Testosterone", "value": rng.range(450, 1400).to_string(), "unit": "ng/dL"},
                        {"loinc": "4544-3", "name": "Hematocrit", "value": rng.tenths(42, 54), "unit": "%"},
                        {"loinc": "2243-4", "name": "Estradiol", "value": rng.range(15, 60).to_string(), "unit": "pg/mL"}
                    ]}),
                )?,
            ),
        },
    })
}

async fn seed_subject(store: &EventStore, subject: Uuid, rng: &mut Rng, events: u64) -> anyhow::Result<()> {
    let mut pending: Vec<(&'static str, Vec<NewEvent>)> = Vec::new();
    for i in 0..events {
        let (stream, event) = event(rng, i)?;
        match pending.iter_mut().find(|(s, _)| *s == stream) {
            Some((_, list)) => list.push(event),
            None => pending.push((stream, vec![event])),
        }
    }
    for (stream, list) in pending {
        for chunk in list.chunks(1_000) {
            store
                .append(AppendRequest {
                    stream: format!("{SEED_STREAM_PREFIX}{stream}-{subject}"),
                    subject,
                    expected: ExpectedVersion::Any,
                    events: chunk.to_vec(),
                    metadata: Metadata::actor("system:seed"),
                })
                .await?;
        }
    }
    Ok(())
}

pub async fn run(args: &StoreArgs, cmd: SeedArgs) -> anyhow::Result<ExitCode> {
    let (store, _) = open(args).await?;
    let bar = Arc::new(progress(cmd.subjects * cmd.events_per_subject, "seeding"));
    let mut master = Rng::new(cmd.seed);
    let plans: Vec<(Uuid, u64)> = (0..cmd.subjects).map(|_| (master.uuid(), master.next())).collect();
    let workers = 8usize;
    let plans = Arc::new(plans);
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (store, bar, plans) = (store.clone(), bar.clone(), plans.clone());
            let per = cmd.events_per_subject;
            tokio::spawn(async move {
                for (subject, seed) in plans.iter().skip(w).step_by(workers) {
                    seed_subject(&store, *subject, &mut Rng::new(*seed), per).await?;
                    bar.inc(per);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await.context("seeding task failed")??;
    }
    bar.finish_and_clear();
    let head = store.head_position().await?;
    store.close().await;
    println!(
        "seeded {} subjects x {} events (seed {}); log head is now position {head}",
        cmd.subjects, cmd.events_per_subject, cmd.seed
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_content() {
        let generate = |seed| {
            let mut rng = Rng::new(seed);
            (0..50)
                .map(|i| event(&mut rng, i).unwrap().1.payload)
                .collect::<Vec<_>>()
        };
        assert_eq!(generate(7), generate(7));
        assert_ne!(generate(7), generate(8));
    }

    #[test]
    fn seeded_streams_are_followed_by_no_projection() {
        use vigil_projections::streams::{StreamKind, kind_of};
        let mut rng = Rng::new(7);
        for i in 0..50 {
            let (stream, _) = event(&mut rng, i).unwrap();
            let name = format!("{SEED_STREAM_PREFIX}{stream}-{}", Uuid::nil());
            assert_eq!(kind_of(&name), StreamKind::Other, "{name}");
        }
    }
}
