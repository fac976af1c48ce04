//! `vigil witness`: a second process that checks the log only grows, then cosigns (ADR 0010).
//! Each round it fetches `/checkpoint`, verifies the log's signature with the configured
//! verifier key, and compares with the last checkpoint it cosigned (its state file: size and
//! base64 root). The first time it trusts on first use and says so; after that it fetches
//! `/checkpoint/proof?from=<last>&to=<size>` and verifies the consistency proof. A smaller
//! tree, another root for the same size or a proof that does not verify is refused: it prints
//! why and exits 1, cosigning nothing. Otherwise it adds its `cosignature/v1` line, posts the
//! note to `/checkpoint/cosign` and records the new state.
//! Must not print or log the witness key's secret, and must not move its state backwards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{Args, Subcommand};
use vigil_proofs::merkle::verify_consistency;
use vigil_proofs::note::{Algorithm, SignerKey, VerifierKey, cosign, open_checkpoint};
use zeroize::Zeroizing;

/// `vigil witness …`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WitnessArgs {
    #[command(subcommand)]
    pub command: Option<WitnessCommand>,
    /// The log's base URL, `http://` (this build has no TLS client: put a TLS-terminating
    /// proxy in front of an https log).
    #[arg(long)]
    pub log_url: Option<String>,
    /// The log's checkpoint verifier key line (`vigil checkpoint public-key`, or
    /// `/checkpoint/key` compared with the published one).
    #[arg(long)]
    pub log_key: Option<String>,
    /// The file holding this witness's signer key line (`vigil witness new-key`).
    #[arg(long)]
    pub witness_key_file: Option<PathBuf>,
    /// Where the witness keeps the last checkpoint it cosigned.
    #[arg(long)]
    pub state_file: Option<PathBuf>,
    /// One round, then exit (the default).
    #[arg(long, conflicts_with = "every")]
    pub once: bool,
    /// A round every this many seconds until stopped.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub every: Option<u64>,
}

/// Subcommands of `vigil witness`.
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Generate a witness key (`cosignature/v1`) and print it on stdout (a secret: keep it in
    /// the file `--witness-key-file` names); its verifier key line, for the log's
    /// `--witness-key`, goes to stderr.
    NewKey {
        /// The witness's name (`witness.example.org`; no spaces, no `+`).
        #[arg(long)]
        name: String,
    },
}

/// Runs the command.
pub async fn run(args: WitnessArgs) -> anyhow::Result<ExitCode> {
    if let Some(WitnessCommand::NewKey { name }) = args.command {
        let seed = vigil_eventstore::random_key_bytes().context("no randomness")?;
        let key = SignerKey::from_seed(&name, Algorithm::CosignatureV1, &seed)
            .with_context(|| format!("{name:?} cannot name a key (no spaces or '+')"))?;
        println!("{}", key.to_secret_text().as_str());
        eprintln!(
            "new witness key {name}; keep the line above secret. Its verifier key, for the log's --witness-key:\n{}",
            key.verifier()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(url), Some(log_key), Some(key_file), Some(state)) =
        (args.log_url, args.log_key, args.witness_key_file, args.state_file)
    else {
        bail!("give --log-url, --log-key, --witness-key-file and --state-file (or `witness new-key`)");
    };
    if !url.starts_with("http://") {
        bail!(
            "--log-url must be an http:// URL: this build has no TLS client; reach an https log \
             through a local TLS-terminating proxy"
        );
    }
    let log_key = VerifierKey::parse(log_key.trim()).context("--log-key is not a verifier key line")?;
    let text = Zeroizing::new(
        std::fs::read_to_string(&key_file).with_context(|| format!("cannot read {}", key_file.display()))?,
    );
    let key = SignerKey::parse(text.trim()).context("the witness key file holds no signer key line")?;
    if key.algorithm() != Algorithm::CosignatureV1 {
        bail!("the witness key must be a cosignature/v1 key (`vigil witness new-key`)");
    }
    let witness = Witness {
        url: url.trim_end_matches('/').to_owned(),
        log_key,
        key,
        state,
        http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
    };
    loop {
        match witness.round().await {
            Ok(message) => println!("{message}"),
            Err(Refusal::Refused(why)) => {
                println!("refused: {why}");
                return Ok(ExitCode::from(1));
            }
            Err(Refusal::Failed(e)) if args.every.is_some() => eprintln!("round failed, trying again: {e:#}"),
            Err(Refusal::Failed(e)) => return Err(e),
        }
        match args.every {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}

struct Witness {
    url: String,
    log_key: VerifierKey,
    key: SignerKey,
    state: PathBuf,
    http: reqwest::Client,
}

/// Why a round did not cosign: the log misbehaved (refuse for good), or something failed.
enum Refusal {
    Refused(String),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Self {
        Refusal::Failed(e)
    }
}

impl Witness {
    async fn get(&self, path: &str) -> anyhow::Result<String> {
        let res = self.http.get(format!("{}{path}", self.url)).send().await?;
        let status = res.status();
        let body = res.text().await?;
        if !status.is_success() {
            bail!("GET {path}: {status}: {}", body.trim());
        }
        Ok(body)
    }

    async fn round(&self) -> Result<String, Refusal> {
        let text = self.get("/checkpoint").await?;
        let (checkpoint, mut note) = open_checkpoint(text.as_bytes(), &self.log_key, self.log_key.name())
            .map_err(|e| Refusal::Refused(format!("the checkpoint does not verify with the log's key: {e}")))?;
        let (size, root) = (checkpoint.size(), *checkpoint.root());
        let mut said = String::new();
        match read_state(&self.state)? {
            None => said = format!("trusting on first use: tree size {size}; "),
            Some((last, _)) if size < last => {
                return Err(Refusal::Refused(format!("the tree shrank from {last} to {size}")));
            }
            Some((last, last_root)) if size == last => {
                if root != last_root {
                    return Err(Refusal::Refused(format!("two roots for tree size {size}: a fork")));
                }
            }
            Some((last, last_root)) => {
                let body = self.get(&format!("/checkpoint/proof?from={last}&to={size}")).await?;
                let proof = body
                    .lines()
                    .map(|l| STANDARD.decode(l).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Refusal::Refused("the consistency proof is malformed".into()))?;
                verify_consistency(last, size, &proof, &last_root, &root).map_err(|e| {
                    Refusal::Refused(format!(
                        "tree size {size} is not consistent with {last} seen before: {e}"
                    ))
                })?;
                said = format!("consistent with tree size {last}; ");
            }
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = cosign(&note, &self.key, u64::try_from(now).unwrap_or(0)).context("cannot cosign")?;
        note.add_signature(signature);
        let res = self
            .http
            .post(format!("{}/checkpoint/cosign", self.url))
            .body(note.to_string())
            .send()
            .await
            .context("cannot submit the cosignature")?;
        if !res.status().is_success() {
            let status = res.status();
            return Err(Refusal::Failed(anyhow::anyhow!(
                "the log did not take the cosignature: {status}: {}",
                res.text().await.unwrap_or_default().trim()
            )));
        }
        write_state(&self.state, size, &root)?;
        Ok(format!("{said}cosigned tree size {size}"))
    }
}

/// The last cosigned size and root: `<size> <base64 root>`.
fn read_state(path: &Path) -> anyhow::Result<Option<(u64, [u8; 32])>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let bad = || {
        anyhow::anyhow!(
            "{} is not a witness state file (`<size> <base64 root>`)",
            path.display()
        )
    };
    let (size, root) = text.trim().split_once(' ').ok_or_else(bad)?;
    let root = STANDARD.decode(root).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
    Ok(Some((size.parse().map_err(|_| bad())?, root.ok_or_else(bad)?)))
}

/// Replaces the state file whole (a temporary file renamed over it).
fn write_state(path: &Path, size: u64, root: &[u8; 32]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{size} {}\n", STANDARD.encode(root)))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
