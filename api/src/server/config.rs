//! Server configuration: flags, `VIGIL_*` variables and `*_FILE` variants for secrets.
//! Production (no `--dev`) refuses to start without an explicit master key, token key and
//! checkpoint key; `--dev` on a local SQLite store may generate them into the data dir, loudly.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, bail};
use clap::Args;
use vigil_eventstore::{Location, MasterKey};

use crate::auth::TokenKey;
use crate::limits::{Network, Rate, RateLimits, TrustedProxies};
use crate::master_key::{self, write_key_file};

/// `vigil serve` flags.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on, `HOST:PORT` with an IP address or a host name (`localhost:8080`,
    /// `[::1]:8080`); port 0 picks a free port and prints it.
    #[arg(long, default_value = "127.0.0.1:8080", env = "VIGIL_LISTEN", value_parser = listen_address)]
    pub listen: String,
    /// Address of a separate listener serving `/metrics` (Prometheus text format), `HOST:PORT`;
    /// off unless given. Never the public address: keep it on a private network.
    #[arg(long, env = "VIGIL_METRICS_LISTEN", value_parser = listen_address)]
    pub metrics_listen: Option<String>,
    /// Development mode: GraphiQL, introspection and suggestions on; keys may be generated
    /// into a SQLite data dir.
    #[arg(long, env = "VIGIL_DEV")]
    pub dev: bool,
    /// Log format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"], env = "VIGIL_LOG_FORMAT")]
    pub log_format: String,
    /// How long a mutation waits for read models before answering PROJECTION_LAG.
    #[arg(long, default_value_t = 2_000, env = "VIGIL_PROJECTION_LAG_TIMEOUT_MS",
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub lag_timeout_ms: u64,
    /// Seconds a connection may stay silent before it is closed: an HTTP connection that
    /// sends no request (first or next), a WebSocket with no subscription that sends nothing.
    #[arg(long, default_value_t = DEFAULT_IDLE_SECS, env = "VIGIL_IDLE_TIMEOUT",
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub idle_timeout: u64,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 262_144, env = "VIGIL_BODY_LIMIT",
          value_parser = clap::value_parser!(u64).range(1_024..=16_777_216))]
    pub body_limit: u64,
    /// Where to report a vulnerability (`mailto:`, `https://` or `tel:`), for
    /// `/.well-known/security.txt`; repeat or separate with commas for several. Without one
    /// the file is not served.
    #[arg(long = "security-contact", env = "VIGIL_SECURITY_CONTACT", value_delimiter = ',')]
    pub security_contacts: Vec<String>,
    /// security.txt `Policy`: an https:// URL of the disclosure policy.
    #[arg(long, env = "VIGIL_SECURITY_POLICY")]
    pub security_policy: Option<String>,
    /// security.txt `Canonical`: the https:// URL the file is published at.
    #[arg(long, env = "VIGIL_SECURITY_CANONICAL")]
    pub security_canonical: Option<String>,
    /// security.txt `Preferred-Languages`.
    #[arg(long, default_value = "en, fr", env = "VIGIL_SECURITY_LANGUAGES")]
    pub security_languages: String,
    /// security.txt `Expires`: this many days after each request (under a year).
    #[arg(long, default_value_t = 180, env = "VIGIL_SECURITY_TXT_DAYS")]
    pub security_txt_days: u16,
    /// Sign-in attempts (password or second factor) per client address and per account,
    /// counted across every server sharing the store.
    #[arg(long, default_value = "5/15m", env = "VIGIL_LIMIT_SIGN_IN")]
    pub limit_sign_in: Rate,
    /// Requests without a session per client address, on each server.
    #[arg(long, default_value = "5/1m", env = "VIGIL_LIMIT_PUBLIC")]
    pub limit_public: Rate,
    /// Requests to the public checkpoint endpoints (`/checkpoint…`) per client address, on
    /// each server: enough for witnesses and auditors polling, not for a flood of proofs.
    #[arg(long, default_value = "120/1m", env = "VIGIL_LIMIT_CHECKPOINTS")]
    pub limit_checkpoints: Rate,
    /// Query and subscription root fields per person, on each server.
    #[arg(long, default_value = "1000/1m", env = "VIGIL_LIMIT_READS")]
    pub limit_reads: Rate,
    /// Mutation root fields per person, on each server.
    #[arg(long, default_value = "100/1m", env = "VIGIL_LIMIT_WRITES")]
    pub limit_writes: Rate,
    /// Proxies (addresses or CIDR networks, comma-separated) whose `X-Forwarded-For` names
    /// the client; without one, the socket's peer is the client.
    #[arg(long = "trusted-proxy", env = "VIGIL_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<Network>,
    /// Web origins (`https://app.example.org`, comma-separated) whose pages may call the API
    /// from a browser; none by default.
    #[arg(long = "cors-origin", env = "VIGIL_CORS_ORIGINS", value_delimiter = ',', value_parser = cors_origin)]
    pub cors_origins: Vec<String>,
    #[command(flatten)]
    pub mail: crate::mail::MailArgs,
    #[command(flatten)]
    pub inactivity: crate::cli::InactivityArgs,
    #[command(flatten)]
    pub checkpoint: crate::cli::CheckpointArgs,
    /// How often this server runs the inactivity check (`30m`, `1h`, `6h`; 1 second to 24
    /// hours); it also runs once at start. One server at a time runs it.
    #[arg(long, default_value = "1h", env = "VIGIL_INACTIVITY_CHECK", value_parser = interval)]
    pub inactivity_check: std::time::Duration,
    /// How often this server signs a checkpoint of the log when events came in (`60s`, `5m`;
    /// 1 second to 24 hours). Judged against the newest recorded checkpoint, so servers
    /// sharing a log take turns.
    #[arg(long, default_value = "60s", env = "VIGIL_CHECKPOINT_EVERY", value_parser = interval)]
    pub checkpoint_every: std::time::Duration,
    /// Sign sooner, as soon as this many events came in since the newest checkpoint.
    #[arg(long, default_value_t = 1000, env = "VIGIL_CHECKPOINT_EVENTS", value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_events: u64,
    /// A witness whose cosignatures this log accepts and serves with its checkpoints: the
    /// witness's verifier key line (`vigil witness new-key` prints it). Repeat the flag, or
    /// separate lines with commas in VIGIL_WITNESS_KEYS.
    #[arg(long = "witness-key", env = "VIGIL_WITNESS_KEYS", value_delimiter = ',', value_parser = witness_key)]
    pub witness_keys: Vec<vigil_proofs::note::VerifierKey>,
    #[command(flatten)]
    pub backup: crate::backup::args::ServeBackupArgs,
}

/// A witness's verifier key line: a `cosignature/v1` key.
fn witness_key(text: &str) -> Result<vigil_proofs::note::VerifierKey, String> {
    let key = vigil_proofs::note::VerifierKey::parse(text.trim())
        .map_err(|e| format!("{text:?} is not a verifier key line: {e}"))?;
    if key.algorithm() != vigil_proofs::note::Algorithm::CosignatureV1 {
        return Err(format!("{text:?} is not a witness (cosignature/v1) key"));
    }
    Ok(key)
}

/// An interval written as a count and a unit: `90s`, `30m`, `1h`.
fn interval(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{text:?}: write an interval as a number and s, m or h, such as 30m or 1h");
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (amount, unit) = text.split_at(split);
    let amount: u64 = amount.parse().map_err(|_| bad())?;
    let seconds = crate::limits::rate::span_seconds(amount, unit).ok_or_else(bad)?;
    if seconds == 0 || seconds > 86_400 {
        return Err(format!("{text:?}: the interval must be 1 second to 24 hours"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// An origin as browsers send it: scheme and host (and port), nothing else.
fn cors_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| format!("{text:?}: an origin starts with https:// (or http://)"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '*', ' ']) {
        return Err(format!(
            "{text:?}: an origin is scheme://host[:port], without a path or wildcard"
        ));
    }
    Ok(text.to_owned())
}

/// The HTTP surface `args` describe.
///
/// # Errors
/// An unusable security.txt field.
pub fn surface(args: &ServeArgs) -> anyhow::Result<super::Surface> {
    let security_txt = super::SecurityTxt::from_config(
        &args.security_contacts,
        args.security_policy.as_deref(),
        args.security_canonical.as_deref(),
        &args.security_languages,
        args.security_txt_days,
    )?;
    if security_txt.is_none() && !args.dev {
        tracing::warn!("no --security-contact: /.well-known/security.txt is not served");
    }
    Ok(super::Surface {
        dev: args.dev,
        body_limit: args.body_limit,
        security_txt: security_txt.map(std::sync::Arc::new),
        cors_origins: args.cors_origins.clone(),
        idle: std::time::Duration::from_secs(args.idle_timeout),
        limits: Some(RateLimits {
            sign_in: args.limit_sign_in,
            public: args.limit_public,
            checkpoints: args.limit_checkpoints,
            reads: args.limit_reads,
            writes: args.limit_writes,
            trusted_proxies: TrustedProxies::new(args.trusted_proxies.clone()),
        }),
        // Set by `run` from the checkpoint key it resolves.
        checkpoint_key: None,
        witness_keys: args.witness_keys.clone(),
    })
}

/// Checks `HOST:PORT` (the host is resolved when binding).
fn listen_address(text: &str) -> Result<String, String> {
    if text.parse::<SocketAddr>().is_ok() {
        return Ok(text.to_owned());
    }
    let bad = || format!("{text:?}: expected HOST:PORT, such as 127.0.0.1:8080, localhost:8080 or [::1]:8080");
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    port.parse::<u16>().map_err(|_| bad())?;
    let name_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if name_ok { Ok(text.to_owned()) } else { Err(bad()) }
}

/// Seconds a silent connection stays open by default: longer than a client's pause between
/// requests, shorter than the minute a slow trickle of idle sockets needs to add up.
pub const DEFAULT_IDLE_SECS: u64 = 30;

/// Every variable vigil reads; anything else starting with `VIGIL_` is probably a typo.
const KNOWN: &[&str] = &[
    "VIGIL_DATA_DIR",
    "VIGIL_DATABASE_URL",
    "VIGIL_MASTER_KEY",
    "VIGIL_MASTER_KEY_FILE",
    "VIGIL_NEW_MASTER_KEY",
    "VIGIL_NEW_MASTER_KEY_FILE",
    "VIGIL_TOKEN_KEY",
    "VIGIL_TOKEN_KEY_FILE",
    "VIGIL_CHECKPOINT_KEY",
    "VIGIL_CHECKPOINT_KEY_FILE",
    "VIGIL_CHECKPOINT_ORIGIN",
    "VIGIL_LISTEN",
    "VIGIL_METRICS_LISTEN",
    "VIGIL_DEV",
    "VIGIL_LOG",
    "VIGIL_LOG_FORMAT",
    "VIGIL_PROJECTION_LAG_TIMEOUT_MS",
    "VIGIL_BODY_LIMIT",
    "VIGIL_IDLE_TIMEOUT",
    "VIGIL_FAILPOINT",
    "VIGIL_SECURITY_CONTACT",
    "VIGIL_SECURITY_POLICY",
    "VIGIL_SECURITY_CANONICAL",
    "VIGIL_SECURITY_LANGUAGES",
    "VIGIL_SECURITY_TXT_DAYS",
    "VIGIL_LIMIT_SIGN_IN",
    "VIGIL_LIMIT_PUBLIC",
    "VIGIL_LIMIT_CHECKPOINTS",
    "VIGIL_LIMIT_READS",
    "VIGIL_LIMIT_WRITES",
    "VIGIL_TRUSTED_PROXIES",
    "VIGIL_CORS_ORIGINS",
    "VIGIL_ERASE_INACTIVE_AFTER",
    "VIGIL_INACTIVITY_CHECK",
    "VIGIL_CHECKPOINT_EVERY",
    "VIGIL_CHECKPOINT_EVENTS",
    "VIGIL_WITNESS_KEYS",
    "VIGIL_SMTP_URL",
    "VIGIL_SMTP_FROM",
    "VIGIL_SMTP_USERNAME",
    "VIGIL_SMTP_PASSWORD",
    "VIGIL_SMTP_PASSWORD_FILE",
    "VIGIL_MAIL_DIR",
    "VIGIL_NO_MAIL",
    "VIGIL_EMAIL_VERIFICATION",
    "VIGIL_BACKUP_EVERY",
    "VIGIL_BACKUP_DIR",
    "VIGIL_BACKUP_RECIPIENTS_FILE",
    "VIGIL_BACKUP_VAULT_RECIPIENTS_FILE",
    "VIGIL_BACKUP_KEEP_DAILY",
    "VIGIL_BACKUP_KEEP_MONTHLY",
    "VIGIL_BACKUP_SCRATCH_DATABASE_URL",
    // The test suite's own settings (`ops/test.sh` and the `ops/ci` scripts it runs), which
    // servers started by the tests inherit: setting one must not draw the warning, which
    // several tests assert is absent.
    "VIGIL_TEST_PG_URL",
    "VIGIL_TEST_PG_PORT",
    "VIGIL_DEPLOY_PG_PORT",
    "VIGIL_DEPLOY_MAX_EXPOSURE",
    "VIGIL_DEPLOY_VALIDATORS",
    "VIGIL_EXPORT_VALIDATORS",
    "VIGIL_AUDIT_VERIFIER_ENV",
    "VIGIL_SMTP_SINK_ENV",
    "VIGIL_TEST_EXPORT_PYTHON",
    "VIGIL_TEST_AUDIT_PYTHON",
    "VIGIL_TEST_PROMTOOL",
    "VIGIL_TEST_SMTP_PYTHON",
    "VIGIL_TEST_AGE",
];

/// Warns about unknown `VIGIL_*` variables (names only; values may be secrets).
pub fn warn_unknown_env() {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("VIGIL_") && !KNOWN.contains(&name) {
            tracing::warn!(variable = name, "unknown VIGIL_* environment variable ignored (typo?)");
            eprintln!("warning: unknown environment variable {name} ignored");
        }
    }
}

/// The secrets a server needs.
pub struct Keys {
    /// Wraps every data key.
    pub master: MasterKey,
    /// Signs access tokens and keys refresh-token hashes.
    pub token: TokenKey,
    /// Signs the log's checkpoints.
    pub checkpoint: crate::checkpoint::CheckpointSigner,
}

fn set(var: &str) -> bool {
    [var.to_owned(), format!("{var}_FILE")]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// Resolves the three keys; production requires them explicitly.
pub async fn resolve_keys(location: &Location, dev: bool, origin: Option<&str>) -> anyhow::Result<Keys> {
    if !dev {
        let missing: Vec<&str> = ["VIGIL_MASTER_KEY", "VIGIL_TOKEN_KEY"]
            .into_iter()
            .filter(|v| !set(v))
            .collect();
        if !missing.is_empty() {
            bail!(
                "production mode needs {} (or the *_FILE variants), each 32 random bytes in base64 \
                 (`head -c 32 /dev/urandom | base64`); use --dev for a local trial",
                missing.join(" and ")
            );
        }
    }
    let (master, _) = master_key::resolve(location).await?;
    let token = token_key(location)?;
    if let Some(why) = crate::auth::weak_key(master.expose_bytes()) {
        bail!("refusing the master key: {why}; generate one with `head -c 32 /dev/urandom | base64`");
    }
    if let Some(why) = token.weakness() {
        bail!("refusing VIGIL_TOKEN_KEY: {why}; generate one with `head -c 32 /dev/urandom | base64`");
    }
    if token.is_the_same_secret_as(master.expose_bytes()) {
        bail!("VIGIL_TOKEN_KEY equals the master key: use two different random keys");
    }
    let checkpoint = crate::checkpoint::key::for_serve(location, dev, origin, &master, &token)?;
    Ok(Keys {
        master,
        token,
        checkpoint,
    })
}

fn token_key(location: &Location) -> anyhow::Result<TokenKey> {
    let direct = std::env::var("VIGIL_TOKEN_KEY").ok().filter(|v| !v.is_empty());
    let file = std::env::var("VIGIL_TOKEN_KEY_FILE").ok().filter(|v| !v.is_empty());
    let text = match (direct, file) {
        (Some(_), Some(_)) => bail!("set only one of VIGIL_TOKEN_KEY and VIGIL_TOKEN_KEY_FILE"),
        (Some(text), None) => zeroize::Zeroizing::new(text),
        (None, Some(path)) => zeroize::Zeroizing::new(
            std::fs::read_to_string(&path).with_context(|| format!("cannot read token key file {path}"))?,
        ),
        (None, None) => match location {
            Location::Sqlite(dir) => return dev_token_key(dir),
            Location::Postgres(_) => bail!("a Postgres server needs VIGIL_TOKEN_KEY or VIGIL_TOKEN_KEY_FILE"),
        },
    };
    TokenKey::from_base64(text.trim()).map_err(|e| anyhow::anyhow!("VIGIL_TOKEN_KEY: {e}"))
}

fn dev_token_key(dir: &Path) -> anyhow::Result<TokenKey> {
    let path = dir.join("token.key");
    if !path.exists() {
        write_key_file(&path, &MasterKey::generate()?)?;
        eprintln!(
            "WARNING: dev mode: generated token-signing key {} (mode 0600); production needs VIGIL_TOKEN_KEY.",
            path.display()
        );
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    TokenKey::from_base64(text.trim()).map_err(|e| anyhow::anyhow!("token key file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::{KNOWN, interval};

    /// Every variable a flag of any command reads is known, so setting one never draws the
    /// "unknown environment variable" warning (three checkpoint settings once did).
    #[test]
    fn every_flag_variable_is_known() {
        fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if let Some(env) = arg.get_env() {
                    out.push(env.to_string_lossy().into_owned());
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, out);
            }
        }
        let mut names = Vec::new();
        walk(&<crate::cli::Cli as clap::CommandFactory>::command(), &mut names);
        assert!(names.len() > 20, "{names:?}");
        let unknown: Vec<_> = names.iter().filter(|n| !KNOWN.contains(&n.as_str())).collect();
        assert!(
            unknown.is_empty(),
            "flags read variables missing from KNOWN: {unknown:?}"
        );
    }

    #[test]
    fn intervals_parse_as_operators_write_them() {
        assert_eq!(interval("90s").unwrap().as_secs(), 90);
        assert_eq!(interval("30m").unwrap().as_secs(), 1_800);
        assert_eq!(interval(" 1h ").unwrap().as_secs(), 3_600);
        for bad in ["", "1", "h", "0m", "25h", "1d", "-1h", "1.5h"] {
            assert!(interval(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
