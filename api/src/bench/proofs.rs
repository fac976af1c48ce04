//! `vigil bench proofs`: Merkle roots and proofs served by the store at growing log sizes up to
//! 10 M events, to show they cost O(log n) reads. The log is filled in bulk with synthetic
//! rows (SQL straight into `events`, random chain hashes: the chain itself is not what is
//! measured), then a store opens it, which builds the tree through its real backfill; every
//! root and proof is then served by `EventStore` and verified with `vigil-proofs`.

use std::time::{Duration, Instant};

use vigil_eventstore::tree::{verify_consistency, verify_inclusion};
use vigil_eventstore::{EventStore, leaf_of};

use super::raw::RawDb;
use super::{BenchDb, args_events, percentile};
use crate::cli::BenchArgs;

/// Rows inserted per statement while filling.
const FILL_CHUNK: u64 = 500_000;

const SQLITE_FILL: &str = "insert into events (position, event_id, stream_id, stream_version, subject_id, event_type, \
     schema_version, recorded_at, actor, key_id, nonce, ciphertext, prev_hash, hash) \
     select i, randomblob(16), 'bench-proofs', i, zeroblob(16), 'BenchLeaf', 1, i, 'system:bench', zeroblob(16), \
     zeroblob(12), x'', zeroblob(32), randomblob(32) \
     from (with recursive s(i) as (select $1 union all select i + 1 from s where i < $2) select i from s)";

const PG_FILL: &str = "insert into vigil.events (position, event_id, stream_id, stream_version, subject_id, event_type, \
     schema_version, recorded_at, actor, key_id, nonce, ciphertext, prev_hash, hash) \
     select i, gen_random_uuid(), 'bench-proofs', i, '00000000-0000-0000-0000-000000000000', 'BenchLeaf', 1, i, \
     'system:bench', '00000000-0000-0000-0000-000000000000', '\\x000000000000000000000000', '\\x', \
     sha256(int8send(-i)), sha256(int8send(i)) from generate_series($1::int8, $2::int8) as i";

/// Fills positions 1..=n behind the store's back and moves the head there.
async fn fill(raw: &RawDb, n: u64) -> anyhow::Result<()> {
    let mut first = 1u64;
    while first <= n {
        let last = (first + FILL_CHUNK - 1).min(n);
        let (a, b) = (i64::try_from(first)?, i64::try_from(last)?);
        match raw {
            RawDb::Sqlite(p) => sqlx::query(SQLITE_FILL).bind(a).bind(b).execute(p).await.map(|_| ())?,
            RawDb::Postgres(p) => sqlx::query(PG_FILL).bind(a).bind(b).execute(p).await.map(|_| ())?,
        }
        first = last + 1;
    }
    let n = i64::try_from(n)?;
    match raw {
        RawDb::Sqlite(p) => {
            sqlx::query("update chain_head set last_position = $1 where id = 1")
                .bind(n)
                .execute(p)
                .await?;
        }
        RawDb::Postgres(p) => {
            sqlx::query("update vigil.chain_head set last_position = $1 where id = 1")
                .bind(n)
                .execute(p)
                .await?;
        }
    }
    Ok(())
}

async fn chain_hash(raw: &RawDb, position: u64) -> anyhow::Result<[u8; 32]> {
    let p = i64::try_from(position)?;
    let bytes: Vec<u8> = match raw {
        RawDb::Sqlite(pool) => {
            sqlx::query_scalar("select hash from events where position = $1")
                .bind(p)
                .fetch_one(pool)
                .await?
        }
        RawDb::Postgres(pool) => {
            sqlx::query_scalar("select hash from vigil.events where position = $1")
                .bind(p)
                .fetch_one(pool)
                .await?
        }
    };
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("hash at {position} is not 32 bytes"))
}

/// xorshift64*: sample positions without a dependency on an RNG crate.
struct Sampler(u64);

impl Sampler {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

fn ms(sorted: &mut [Duration]) -> String {
    sorted.sort();
    format!(
        "{:>7.3} / {:>7.3}",
        percentile(sorted, 0.5).as_secs_f64() * 1e3,
        percentile(sorted, 0.99).as_secs_f64() * 1e3
    )
}

pub async fn proofs(db: &BenchDb, a: &BenchArgs) -> anyhow::Result<()> {
    let n = args_events(a, 10_000_000);
    let samples = u64::from(a.runs).max(1) * 100;
    let started = Instant::now();
    fill(&db.raw, n).await?;
    println!(
        "filled {n} synthetic events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let store: EventStore = db.open_store().await?;
    println!(
        "opened the store (backfill built the tree) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("proofs: {samples} samples per size; generation through EventStore, verification by vigil-proofs");
    println!(
        "  {:>10} | {:>5} | {:>19} | {:>19} | {:>5} | {:>19} | {:>19}",
        "size", "path", "inclusion gen ms", "inclusion verify ms", "cons", "consistency gen ms", "consistency ver ms"
    );
    println!(
        "  {:>10} | {:>5} | {:>19} | {:>19} | {:>5} | {:>19} | {:>19}",
        "", "", "p50 / p99", "p50 / p99", "", "p50 / p99", "p50 / p99"
    );
    let mut sampler = Sampler(0x9E37_79B9_7F4A_7C15);
    let mut size = 1_000u64;
    loop {
        let size_now = size.min(n);
        let root = store.tree_root(size_now).await?;
        let (mut gen_i, mut ver_i, mut gen_c, mut ver_c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut path_len, mut cons_len) = (0, 0);
        for _ in 0..samples {
            let index = sampler.below(size_now);
            let leaf = leaf_of(&chain_hash(&db.raw, index + 1).await?);
            let t = Instant::now();
            let proof = store.inclusion_proof(index, size_now).await?;
            gen_i.push(t.elapsed());
            let t = Instant::now();
            verify_inclusion(index, size_now, &leaf, &proof, &root).map_err(|e| anyhow::anyhow!("inclusion: {e}"))?;
            ver_i.push(t.elapsed());
            path_len = path_len.max(proof.len());

            let from = 1 + sampler.below(size_now - 1);
            let old = store.tree_root(from).await?;
            let t = Instant::now();
            let proof = store.consistency_proof(from, size_now).await?;
            gen_c.push(t.elapsed());
            let t = Instant::now();
            verify_consistency(from, size_now, &proof, &old, &root).map_err(|e| anyhow::anyhow!("consistency: {e}"))?;
            ver_c.push(t.elapsed());
            cons_len = cons_len.max(proof.len());
        }
        println!(
            "  {size_now:>10} | {path_len:>5} | {} | {} | {cons_len:>5} | {} | {}",
            ms(&mut gen_i),
            ms(&mut ver_i),
            ms(&mut gen_c),
            ms(&mut ver_c)
        );
        if size_now == n {
            break;
        }
        size *= 10;
    }
    let started = Instant::now();
    let report = store
        .verify_tree(|_, _| {})
        .await?
        .map_err(|b| anyhow::anyhow!("tree broken: {b:?}"))?;
    println!(
        "verify_tree over {} events: {:.1} s",
        report.leaves,
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}
