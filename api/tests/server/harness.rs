//! Starting and stopping a server process and talking GraphQL to it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

pub struct Server {
    child: Child,
    pub url: String,
    /// `http://…/metrics` of the metrics listener, when started with `--metrics-listen`.
    pub metrics: Option<String>,
    pub logs: Arc<Mutex<String>>,
}

pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const TOKEN_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
/// A checkpoint signer key made for the tests (`vigil checkpoint new-key`); a secret nowhere.
pub const CHECKPOINT_KEY: &str =
    "PRIVATE+KEY+test.vigil.invalid/vigil/1+5b8ed5ed+AR5JNcYtui2rtWyFCYNza0OrDSHgK6OG5Tce2cP61EQX";

fn vigil(backend: &Backend) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    match backend {
        Backend::Sqlite(dir) => cmd.arg("--data-dir").arg(dir),
        Backend::Postgres(url) => cmd.arg("--database-url").arg(url),
    };
    // Production mode: explicit keys, as an operator would run it.
    cmd.env("VIGIL_MASTER_KEY", MASTER_KEY)
        .env("VIGIL_TOKEN_KEY", TOKEN_KEY)
        .env("VIGIL_CHECKPOINT_KEY", CHECKPOINT_KEY)
        .env("VIGIL_LOG", "debug")
        // Suites sign in far more often than people do, all from 127.0.0.1: generous limits,
        // except where a test sets its own (`limits.rs`).
        .env("VIGIL_LIMIT_SIGN_IN", "100000/1m")
        .env("VIGIL_LIMIT_PUBLIC", "100000/1m")
        .env("VIGIL_LIMIT_CHECKPOINTS", "100000/1m")
        .env("VIGIL_LIMIT_READS", "100000/1m")
        .env("VIGIL_LIMIT_WRITES", "100000/1m")
        // No mail and no address check, except where a test sets up an SMTP server (`mail.rs`).
        .env("VIGIL_NO_MAIL", "true")
        .env("VIGIL_EMAIL_VERIFICATION", "off")
        .env_remove("VIGIL_DATABASE_URL");
    cmd
}

impl Server {
    pub fn start(backend: &Backend) -> Server {
        Server::start_with(backend, &[], &[])
    }

    /// With extra `serve` flags and environment variables.
    pub fn start_with(backend: &Backend, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::spawn(backend, args, env).ready()
    }

    /// `n` servers launched at the same moment (each process starts before any is waited
    /// for), so their first starts race.
    pub fn start_many(backend: &Backend, n: usize) -> Vec<Server> {
        let launched: Vec<Launched> = (0..n).map(|_| Server::spawn(backend, &[], &[])).collect();
        launched.into_iter().map(Launched::ready).collect()
    }

    fn spawn(backend: &Backend, args: &[&str], env: &[(&str, &str)]) -> Launched {
        let mut cmd = vigil(backend);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vigil serve");
        let logs = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Launched { child, logs }
    }

    /// SIGTERM and wait: a graceful shutdown must exit 0.
    /// The server process's id (to count its file descriptors and memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "graceful shutdown failed: {exit:?}");
        self.logs.lock().unwrap().clone()
    }
}

/// A server process launched but not yet known to listen.
struct Launched {
    child: Child,
    logs: Arc<Mutex<String>>,
}

impl Launched {
    /// Waits for the "listening" line; panics with the logs when the server did not come up.
    fn ready(self) -> Server {
        let Launched { mut child, logs } = self;
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the listening line");
        // With --metrics-listen, its address comes first, on a line of its own.
        let metrics = line.trim().strip_prefix("vigil metrics on ").map(str::to_owned);
        if metrics.is_some() {
            line.clear();
            stdout.read_line(&mut line).expect("read the listening line");
        }
        let Some(base) = line.trim().strip_prefix("vigil listening on ").map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            // Let the stderr reader drain what the process wrote before it died.
            std::thread::sleep(std::time::Duration::from_millis(100));
            panic!("unexpected first line {line:?}; logs: {}", logs.lock().unwrap());
        };
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
        });
        Server {
            child,
            url: base,
            metrics,
            logs,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn cli(backend: &Backend, args: &[&str]) -> String {
    let out = vigil(backend).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "vigil {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `vigil args` in `n` processes started together (each launched before any is waited
/// for); each must succeed. Their standard outputs, in launch order.
pub fn cli_concurrently(backend: &Backend, args: &[&str], n: usize) -> Vec<String> {
    let children: Vec<Child> = (0..n)
        .map(|_| {
            vigil(backend)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "vigil {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect()
}

/// Runs `vigil` with `input` on standard input; must succeed.
pub fn cli_with_input(backend: &Backend, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = vigil(backend)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "vigil {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub url: String,
    pub token: Option<String>,
}

impl Client {
    pub fn new(server: &Server) -> Client {
        Client {
            // The server closes a keep-alive connection silent for 30 s (`--idle-timeout`);
            // reusing one from the pool at that moment is reset by the peer (a CI run saw it in
            // a test that waits for the next TOTP step). Never keep one that long.
            http: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("reqwest client"),
            url: format!("{}/graphql", server.url),
            token: None,
        }
    }

    /// Runs an operation and returns the whole response body.
    pub async fn raw(&self, query: &str, variables: Value) -> Value {
        self.with_headers(query, variables, &[]).await.1
    }

    /// Runs an operation with extra request headers: the HTTP status and the whole body.
    pub async fn with_headers(&self, query: &str, variables: Value, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .json(&json!({ "query": query, "variables": variables }));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let response = req.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Runs an operation that must succeed and returns `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.raw(query, variables).await;
        assert!(body.get("errors").is_none(), "{query} failed: {body}");
        body["data"].clone()
    }

    /// Runs an operation that must fail and returns its first error's code.
    pub async fn code(&self, query: &str, variables: Value) -> String {
        let body = self.raw(query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{query} did not fail with a code: {body}"))
            .to_owned()
    }
}

pub fn sqlite_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path: &Path = dir.path();
    let data = path.join("data");
    (dir, data)
}

/// Where `secret` appears in the server log as a value of its own, with the line it is on.
///
/// Timestamps are dropped and a match must stand apart from neighbouring digits, hex or
/// time separators: "51.2" inside `10:51.234Z` or "1247" inside a uuid is not a leak,
/// while `"hematocrit":51.2,` or `password=…` is.
pub fn leak(logs: &str, secret: &str) -> Option<String> {
    for line in logs.lines() {
        let scanned = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(mut fields)) => {
                fields.remove("timestamp");
                Value::Object(fields).to_string()
            }
            _ => line.to_owned(),
        };
        let mut from = 0;
        while let Some(at) = scanned[from..].find(secret) {
            let start = from + at;
            let end = start + secret.len();
            let before = scanned[..start].chars().next_back();
            let after = scanned[end..].chars().next();
            let glued_before = before.is_some_and(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
            let glued_after = after.is_some_and(|c| c.is_ascii_alphanumeric());
            if !glued_before && !glued_after {
                return Some(line.to_owned());
            }
            from = start + 1;
        }
    }
    None
}

#[test]
fn a_value_in_a_log_field_is_a_leak_but_a_timestamp_or_uuid_digit_run_is_not() {
    let clean = concat!(
        r#"{"timestamp":"2026-11-21T10:51.234Z","level":"INFO","request_id":"0190-1247-abcd"}"#,
        "\n",
        r#"{"timestamp":"x","span":{"id":"a51.2b","n":"751.25"}}"#,
    );
    assert_eq!(leak(clean, "51.2"), None);
    assert_eq!(leak(clean, "1247"), None);
    let leaking = r#"{"timestamp":"x","fields":{"message":"recorded","hematocrit":51.2}}"#;
    assert!(leak(leaking, "51.2").is_some());
    assert!(leak("plain text line: 87.3 kg", "87.3").is_some());
}
