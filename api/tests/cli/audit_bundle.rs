//! `vigil audit export` / `vigil audit verify` against attacks on the stored log, on SQLite
//! always and on Postgres when `VIGIL_TEST_PG_URL` is set (with `CI=true` it must be). Each
//! attack is made behind the database's back (append-only triggers dropped or disabled), after
//! the auditor pinned a checkpoint; the bundle exported afterwards must fail verification with
//! exit 3 and name the first failure as `docs/audit-bundle.md` does. Good bundles verify.

use std::path::{Path, PathBuf};

use sqlx::Executor;
use uuid::Uuid;
use vigil_proofs::bundle::BundleEvent;
use vigil_proofs::note::SignerKey;

use crate::{CHECKPOINT_KEY, KEY_A, Run, vigil};

/// One store under test: its directory (cwd, and the SQLite data dir inside) and, on
/// Postgres, its database.
struct Log {
    dir: tempfile::TempDir,
    pg: Option<String>,
}

enum Conn {
    Lite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

macro_rules! on {
    ($c:expr, $p:ident => $e:expr) => {
        match $c {
            $crate::audit_bundle::Conn::Lite($p) => $e,
            $crate::audit_bundle::Conn::Pg($p) => $e,
        }
    };
}

fn public_key() -> String {
    SignerKey::parse(CHECKPOINT_KEY).unwrap().verifier().to_string()
}

impl Log {
    async fn new(pg: bool) -> Option<Log> {
        let pg = if pg {
            Some(vigil_tests::fresh_pg_database().await?)
        } else {
            None
        };
        Some(Log {
            dir: tempfile::tempdir().unwrap(),
            pg,
        })
    }

    fn env(&self) -> Vec<(&str, &str)> {
        let mut env = vec![("VIGIL_CHECKPOINT_KEY", CHECKPOINT_KEY)];
        if let Some(url) = &self.pg {
            env.push(("VIGIL_DATABASE_URL", url.as_str()));
            env.push(("VIGIL_MASTER_KEY", KEY_A));
        }
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Run {
        vigil(self.dir.path(), args, &self.env())
    }

    fn seed(&self, seed: u64) {
        let seed = seed.to_string();
        let run = self.run(&["seed", "--subjects", "3", "--events-per-subject", "20", "--seed", &seed]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    /// Signs the head and keeps the note as a pin named `name`.
    fn sign(&self, name: &str) -> PathBuf {
        let run = self.run(&["checkpoint", "sign"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.starts_with("test.vigil.invalid/vigil/1\n"), "{}", run.stdout);
        let path = self.path(name);
        std::fs::write(&path, &run.stdout).unwrap();
        path
    }

    fn export(&self, args: &[&str], name: &str) -> PathBuf {
        let out = self.path(name);
        let mut all = vec!["audit", "export", "-o", out.to_str().unwrap()];
        all.extend_from_slice(args);
        let run = self.run(&all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        out
    }

    fn verify(&self, bundle: &Path, pin: Option<&Path>) -> Run {
        verify_in(self.dir.path(), bundle, pin)
    }

    /// The events of a bundle, parsed.
    fn events(bundle: &Path) -> Vec<BundleEvent> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
        serde_json::from_value(v["events"].clone()).unwrap()
    }

    /// A connection with the append-only triggers out of the way (the attacker's).
    async fn tamper(&self) -> Conn {
        match &self.pg {
            None => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(self.path("vigil-data/events.db"));
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await
                    .unwrap();
                for table in ["events", "merkle_nodes", "checkpoints", "cosignatures"] {
                    for what in ["update", "delete"] {
                        pool.execute(sqlx::AssertSqlSafe(format!(
                            "drop trigger if exists {table}_refuse_{what}"
                        )))
                        .await
                        .unwrap();
                    }
                }
                Conn::Lite(pool)
            }
            Some(url) => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|c, _| {
                        Box::pin(async move { c.execute("set search_path to vigil").await.map(|_| ()) })
                    })
                    .connect(url)
                    .await
                    .unwrap();
                for table in ["events", "merkle_nodes", "checkpoints", "cosignatures"] {
                    pool.execute(sqlx::AssertSqlSafe(format!("alter table {table} disable trigger user")))
                        .await
                        .unwrap();
                }
                Conn::Pg(pool)
            }
        }
    }
}

/// `vigil audit verify`, and the independent `ops/audit/verify_bundle.py` on the same input,
/// which must reach the same verdict: the same exit code and, for a failure, the same name
/// (`position 42`, `pinned 60`, …). Every bundle the tests verify is checked by both.
fn verify_in(cwd: &Path, bundle: &Path, pin: Option<&Path>) -> Run {
    let key = public_key();
    let mut args = vec!["audit", "verify", bundle.to_str().unwrap(), "--key", key.as_str()];
    if let Some(pin) = pin {
        args.extend_from_slice(&["--pinned", pin.to_str().unwrap()]);
    }
    let run = vigil(cwd, &args, &[]);
    if let Some(python) = second_verifier() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/audit/verify_bundle.py");
        let out = std::process::Command::new(python)
            .arg(script)
            .args(&args[2..])
            .current_dir(cwd)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let code = out.status.code().unwrap_or(-1);
        assert_eq!(
            code,
            run.code,
            "the Python verifier disagrees with vigil's: {stdout}{}\nvigil: {}{}",
            String::from_utf8_lossy(&out.stderr),
            run.stdout,
            run.stderr
        );
        if code == 3 {
            assert_eq!(
                failure_name(&stdout),
                failure_name(&run.stdout),
                "{stdout}\nvigil: {}",
                run.stdout
            );
        }
    }
    run
}

/// The name of the first failure (`position 42`) in a verifier's `NOT PROVED: <name>: …`.
fn failure_name(stdout: &str) -> String {
    let after = stdout.split("NOT PROVED: ").nth(1).unwrap_or("");
    after.split(':').next().unwrap_or("").to_owned()
}

/// The virtualenv python of `ops/ci/ensure-audit-verifier.sh` (`VIGIL_TEST_AUDIT_PYTHON` from
/// `ops/test.sh`), or `None` outside CI when it cannot be installed.
fn second_verifier() -> Option<PathBuf> {
    static PYTHON: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PYTHON
        .get_or_init(|| {
            vigil_tests::outside_tool(
                "VIGIL_TEST_AUDIT_PYTHON",
                "ops/ci/ensure-audit-verifier.sh",
                "the Python bundle verifier",
            )
        })
        .clone()
}

#[track_caller]
fn assert_fails(run: &Run, needle: &str) {
    assert_eq!(run.code, 3, "expected exit 3: {}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(needle), "expected {needle:?} in: {}", run.stdout);
}

#[track_caller]
fn assert_proves(run: &Run) {
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

async fn exec(conn: &Conn, sql: &str) {
    on!(conn, p => { p.execute(sqlx::AssertSqlSafe(sql.to_owned())).await.unwrap(); });
}

async fn close(conn: Conn) {
    on!(conn, p => p.close().await);
}

async fn insert_event(conn: &Conn, e: &BundleEvent) {
    const SQL: &str = "insert into events (position, event_id, stream_id, stream_version, subject_id, event_type, \
        schema_version, recorded_at, actor, correlation_id, causation_id, command_id, key_id, nonce, ciphertext, \
        prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
    let id = |u: vigil_proofs::bundle::Uuid16| Uuid::from_bytes(u.0);
    on!(conn, p => {
        sqlx::query(SQL)
            .bind(e.position as i64)
            .bind(id(e.event_id))
            .bind(&e.stream_id)
            .bind(e.stream_version as i64)
            .bind(id(e.subject))
            .bind(&e.event_type)
            .bind(e.schema_version as i32)
            .bind(e.recorded_at_micros)
            .bind(&e.actor)
            .bind(e.correlation_id.map(id))
            .bind(e.causation_id.map(id))
            .bind(e.command_id.map(id))
            .bind(id(e.key_id))
            .bind(e.nonce.0.to_vec())
            .bind(e.ciphertext.0.clone())
            .bind(e.prev_hash.0.to_vec())
            .bind(e.hash.0.to_vec())
            .execute(p)
            .await
            .unwrap();
    });
}

async fn set_head(conn: &Conn, position: u64, hash: &[u8; 32]) {
    on!(conn, p => {
        sqlx::query("update chain_head set last_position = $1, last_hash = $2 where id = 1")
            .bind(position as i64)
            .bind(hash.to_vec())
            .execute(p)
            .await
            .unwrap();
    });
}

mod cases;
