//! The SMTP server of the mail tests: `smtp_sink.py` (aiosmtpd) on a loopback port, and what
//! it received.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// aiosmtpd on a loopback port, storing what it accepts.
pub struct Sink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub content_type: String,
    pub body: String,
}

impl Sink {
    /// `None` outside CI when aiosmtpd cannot be had (the test then says so and stops).
    pub fn start() -> Option<Sink> {
        Sink::start_on(None)
    }

    /// On `port` when given (a server may have been told of it before it listens).
    pub fn start_on(port: Option<u16>) -> Option<Sink> {
        let python = vigil_tests::outside_tool("VIGIL_TEST_SMTP_PYTHON", "ops/ci/ensure-smtp.sh", "aiosmtpd")?;
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/server/mail/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(dir.path())
            .args(port.map(|p| p.to_string()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        Some(Sink { child, dir, port })
    }

    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                Received {
                    to: v["to"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t.as_str().unwrap().to_owned())
                        .collect(),
                    subject: v["subject"].as_str().unwrap().to_owned(),
                    message_id: v["message_id"].as_str().unwrap().to_owned(),
                    content_type: v["content_type"].as_str().unwrap().to_owned(),
                    body: v["body"].as_str().unwrap().to_owned(),
                }
            })
            .collect()
    }

    /// Waits until `pred` holds for what arrived (30 s at most).
    pub async fn until(&self, what: &str, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.messages();
            if pred(&got) {
                return got;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{what}: {got:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn to(&self, address: &str) -> Vec<Received> {
        self.messages().into_iter().filter(|m| m.to == [address]).collect()
    }

    /// `serve` flags sending to this server, with `verification` (`required` or `off`).
    pub fn serve_args(&self, verification: &str) -> Vec<String> {
        [
            "--smtp-url",
            &format!("smtp+plain://127.0.0.1:{}", self.port),
            "--smtp-from",
            "vigil <vigil@test.invalid>",
            "--email-verification",
            verification,
            "--metrics-listen",
            "127.0.0.1:0",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
