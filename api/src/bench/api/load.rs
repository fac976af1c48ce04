//! Concurrent clients for `vigil bench api`: each client is one signed-in person issuing
//! requests back to back (closed loop) for a warm-up and then a measured window, recording
//! each request's latency by kind. A failed request is counted and its first message kept:
//! a benchmark that hides errors would measure the wrong thing.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::HeaderValue;
use serde_json::json;
use time::OffsetDateTime;

use super::seed::{Person, rfc3339};
use super::wire::Conn;

/// The dashboard as the bench asks GraphQL for it; the bare baseline answers the same facts.
const DASHBOARD: &str = "{ dashboard { activeProtocols { id name currentVersion }
  latestVitals { id vital measuredAt components { value unit canonicalValue canonicalUnit } }
  latestPanel { id drawnAt results { marker value unit siValue siUnit flag } }
  nextDue { protocolId itemId compound dueAt } } }";

const RECORD_WEIGHT: &str = "mutation($at: String!, $w: String!) {
  recordHealthLog(input: {vital: \"body_weight\", value: $w, unit: \"kg\", measuredAt: $at}) { healthLog { id } position } }";

/// The dashboard request's JSON body, built once.
fn dashboard_body() -> Bytes {
    static BODY: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    BODY.get_or_init(|| Bytes::from(json!({ "query": DASHBOARD, "variables": {} }).to_string()))
        .clone()
}

/// Who answers.
#[derive(Clone, Copy)]
pub enum Target {
    /// The GraphQL API (`POST /graphql`), with the whole middleware stack and token checks.
    Vigil(SocketAddr),
    /// The bare handler (`GET /dashboard`, person in `x-person`).
    Bare(SocketAddr),
}

/// The shape of one phase.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub clients: u32,
    pub warmup: Duration,
    pub measure: Duration,
    /// Writes per hundred requests (0 for a read-only phase).
    pub write_percent: u32,
}

/// What one phase measured.
#[derive(Debug, Default)]
pub struct Outcome {
    pub reads: Vec<Duration>,
    pub writes: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
}

impl Outcome {
    /// Requests completed per second in the measured window.
    pub fn throughput(&self) -> f64 {
        (self.reads.len() + self.writes.len()) as f64 / self.seconds.max(1e-9)
    }
}

/// Runs one phase: `load.clients` clients, client `i` acting as `people[i % len]`.
pub async fn drive(target: &Target, people: &[Person], load: Load) -> Outcome {
    let started = Instant::now();
    let measure_from = started + load.warmup;
    let until = measure_from + load.measure;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..load.clients {
        let target = *target;
        let person = people[usize::try_from(i).unwrap_or(0) % people.len().max(1)].clone();
        tasks.spawn(async move { client(target, person, i, load.write_percent, measure_from, until).await });
    }
    let mut total = Outcome::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(part) => {
                total.reads.extend(part.reads);
                total.writes.extend(part.writes);
                total.errors += part.errors;
                total.first_error = total.first_error.or(part.first_error);
            }
            Err(e) => {
                total.errors += 1;
                total
                    .first_error
                    .get_or_insert_with(|| format!("client task failed: {e}"));
            }
        }
    }
    total.seconds = load.measure.as_secs_f64();
    total.reads.sort();
    total.writes.sort();
    total
}

impl Outcome {
    /// Adds another window's requests to this one's (sort the latencies once all are in).
    pub fn absorb(&mut self, other: Outcome) {
        self.reads.extend(other.reads);
        self.writes.extend(other.writes);
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        self.seconds += other.seconds;
    }
}

/// Reads-only windows of `a` and `b` taken in turns (a b b a a b …), one second each after a
/// short warm-up, until each had `load.measure`: a machine whose speed drifts during the run
/// (these are shared 2-core machines) slows both alike, so their ratio holds. Two phases run
/// one after the other read the drift as a difference.
pub async fn interleaved(a: &Target, b: &Target, people: &[Person], load: Load) -> (Outcome, Outcome) {
    const WINDOW: Duration = Duration::from_secs(1);
    const WARMUP: Duration = Duration::from_millis(250);
    let windows = load.measure.as_secs().max(1);
    let window = Load {
        warmup: WARMUP,
        measure: WINDOW,
        ..load
    };
    let (mut first, mut second) = (Outcome::default(), Outcome::default());
    for i in 0..windows {
        let order: [(&Target, bool); 2] = if i % 2 == 0 {
            [(a, true), (b, false)]
        } else {
            [(b, false), (a, true)]
        };
        for (target, is_a) in order {
            let outcome = drive(target, people, window).await;
            if is_a {
                first.absorb(outcome);
            } else {
                second.absorb(outcome);
            }
        }
    }
    for outcome in [&mut first, &mut second] {
        outcome.reads.sort();
        outcome.writes.sort();
    }
    (first, second)
}

async fn client(
    target: Target,
    person: Person,
    index: u32,
    write_percent: u32,
    from: Instant,
    until: Instant,
) -> Outcome {
    let mut out = Outcome::default();
    let (addr, who) = match target {
        Target::Vigil(addr) => (addr, HeaderValue::from_str(&format!("Bearer {}", person.token))),
        Target::Bare(addr) => (addr, HeaderValue::from_str(&person.id.to_string())),
    };
    let connected = match who {
        Ok(who) => Conn::open(addr).await.map(|conn| (conn, who)),
        Err(e) => Err(e.into()),
    };
    let (mut conn, who) = match connected {
        Ok(c) => c,
        Err(e) => {
            out.errors += 1;
            out.first_error = Some(format!("{e:#}"));
            return out;
        }
    };
    // xorshift: a deterministic, per-client mix without an RNG dependency.
    let mut state = u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut n = 0u64;
    while Instant::now() < until {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let write = state % 100 < u64::from(write_percent);
        n += 1;
        let began = Instant::now();
        let result = match (target, write) {
            (Target::Vigil(_), true) => match record_weight_body(n) {
                Ok(body) => conn.graphql(&who, body).await,
                Err(e) => Err(e),
            },
            (Target::Vigil(_), false) => conn.graphql(&who, dashboard_body()).await,
            (Target::Bare(_), false) => conn.bare_dashboard(&who).await,
            (Target::Bare(_), true) => Err(anyhow::anyhow!("the bare baseline serves reads only")),
        };
        let took = began.elapsed();
        if began < from {
            continue;
        }
        match result {
            Ok(()) if write => out.writes.push(took),
            Ok(()) => out.reads.push(took),
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(format!("{e:#}"));
            }
        }
    }
    out
}

/// The n-th weight reading's request body: a minute further back each time, so readings of
/// one person never share an instant.
fn record_weight_body(n: u64) -> anyhow::Result<Bytes> {
    let minutes = i64::try_from(n % 40_000).unwrap_or(0);
    let at = OffsetDateTime::now_utc() - time::Duration::minutes(minutes);
    let vars = json!({
        "at": rfc3339(at)?,
        "w": format!("{}.{}", 84 + n % 5, n % 10),
    });
    Ok(Bytes::from(
        json!({ "query": RECORD_WEIGHT, "variables": vars }).to_string(),
    ))
}
