//! Mail settings of `vigil serve`: where messages go (`--smtp-url` with `VIGIL_SMTP_*`
//! credentials, `--mail-dir`, or nowhere with `--no-mail`) and whether registration needs
//! the address checked (`--email-verification`).
//!
//! Production (no `--dev`) refuses to start without one of `--smtp-url`, `--mail-dir` or
//! `--no-mail`, so a server never drops mail silently; `--dev` on SQLite writes `.eml` files
//! to `<data-dir>/outbox`. Verification is `required` by default in production and `off` in
//! `--dev`; `--no-mail` with `required` is refused (nobody could ever sign in).
//!
//! Must not: log or print a secret (the password, from `VIGIL_SMTP_PASSWORD` or its `_FILE`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use lettre::message::Mailbox;
use vigil_eventstore::Location;
use zeroize::Zeroizing;

use super::transport::Transport;

/// Whether a new account must confirm its address before its first sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Verification {
    /// A token is mailed at registration; the account cannot sign in until `verifyEmail`.
    Required,
    /// No check.
    Off,
}

/// `vigil serve` mail flags.
#[derive(Debug, Args, Clone)]
pub struct MailArgs {
    /// The SMTP server (submission): `smtps://HOST[:PORT]` (implicit TLS, 465),
    /// `smtp://HOST[:PORT]` (STARTTLS required, 587), or `smtp+plain://HOST:PORT` for a relay
    /// on a loopback address only. Credentials come from VIGIL_SMTP_USERNAME and
    /// VIGIL_SMTP_PASSWORD (or VIGIL_SMTP_PASSWORD_FILE), never from the URL.
    #[arg(long, env = "VIGIL_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender, `Name <address>`; an address of your own domain, sent from your own
    /// jurisdiction's relay.
    #[arg(long, env = "VIGIL_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Write each message as a `.eml` file (mode 0600) into this folder instead of sending it
    /// (`--dev` on SQLite does so into `<data-dir>/outbox` when no SMTP server is given).
    #[arg(long, env = "VIGIL_MAIL_DIR")]
    pub mail_dir: Option<PathBuf>,
    /// Send no mail at all (nothing is queued). Needs `--email-verification off`.
    #[arg(long, env = "VIGIL_NO_MAIL")]
    pub no_mail: bool,
    /// Whether a new account must confirm its address before it can sign in: `required`
    /// (the production default) or `off` (the `--dev` default).
    #[arg(long, env = "VIGIL_EMAIL_VERIFICATION", value_enum)]
    pub email_verification: Option<Verification>,
}

/// What the flags resolve to.
pub struct Resolved {
    /// Where messages go and from whom; `None`: no mail.
    pub transport: Option<(Transport, Mailbox)>,
    /// The verification policy.
    pub verification: Verification,
}

impl MailArgs {
    /// Resolves the flags (see the module).
    ///
    /// # Errors
    /// Missing or contradictory settings, an unreadable password file, a bad URL or sender.
    pub fn resolve(&self, dev: bool, location: &Location) -> anyhow::Result<Resolved> {
        let verification =
            self.email_verification
                .unwrap_or(if dev { Verification::Off } else { Verification::Required });
        let from = || -> anyhow::Result<Mailbox> {
            let text = match (&self.smtp_from, dev) {
                (Some(text), _) => text.clone(),
                (None, true) => "vigil <vigil@localhost>".to_owned(),
                (None, false) => {
                    bail!("--smtp-from (VIGIL_SMTP_FROM) is needed to send mail: `vigil <no-reply@example.org>`")
                }
            };
            text.parse::<Mailbox>()
                .map_err(|e| anyhow::anyhow!("--smtp-from {text:?} is not an address: {e}"))
        };
        // Checked here rather than by clap, which counts a variable set to "false" as given.
        if [self.no_mail, self.smtp_url.is_some(), self.mail_dir.is_some()]
            .iter()
            .filter(|given| **given)
            .count()
            > 1
        {
            bail!("give only one of --smtp-url, --mail-dir and --no-mail");
        }
        let transport = if self.no_mail {
            None
        } else if let Some(url) = &self.smtp_url {
            let transport = Transport::smtp(url, credentials()?).map_err(|e| anyhow::anyhow!(e))?;
            Some((transport, from()?))
        } else if let Some(dir) = &self.mail_dir {
            Some((Transport::Folder(dir.clone()), from()?))
        } else {
            match (dev, location) {
                (true, Location::Sqlite(dir)) => {
                    let outbox = dir.join("outbox");
                    eprintln!(
                        "WARNING: dev mode: mail is written to {} (no --smtp-url)",
                        outbox.display()
                    );
                    Some((Transport::Folder(outbox), from()?))
                }
                _ => bail!(
                    "no mail setting: give --smtp-url (VIGIL_SMTP_URL) and --smtp-from, or --mail-dir, \
                     or --no-mail with --email-verification off to run without mail"
                ),
            }
        };
        if transport.is_none() && verification == Verification::Required {
            bail!("--no-mail needs --email-verification off: nobody could confirm an address");
        }
        Ok(Resolved {
            transport,
            verification,
        })
    }
}

/// The SMTP credentials from the environment, when a username is set.
fn credentials() -> anyhow::Result<Option<(String, Zeroizing<String>)>> {
    let user = std::env::var("VIGIL_SMTP_USERNAME").ok().filter(|v| !v.is_empty());
    let direct = std::env::var("VIGIL_SMTP_PASSWORD").ok().filter(|v| !v.is_empty());
    let file = std::env::var("VIGIL_SMTP_PASSWORD_FILE").ok().filter(|v| !v.is_empty());
    let password = match (direct, file) {
        (Some(_), Some(_)) => bail!("set only one of VIGIL_SMTP_PASSWORD and VIGIL_SMTP_PASSWORD_FILE"),
        (Some(text), None) => Some(Zeroizing::new(text)),
        (None, Some(path)) => {
            let text = Zeroizing::new(
                std::fs::read_to_string(&path).with_context(|| format!("cannot read the SMTP password file {path}"))?,
            );
            // An empty file: a relay without login (deployments mount the file either way).
            Some(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned())).filter(|p| !p.is_empty())
        }
        (None, None) => None,
    };
    match (user, password) {
        (Some(user), Some(password)) => Ok(Some((user, password))),
        (None, None) => Ok(None),
        (Some(_), None) => bail!("VIGIL_SMTP_USERNAME is set without VIGIL_SMTP_PASSWORD(_FILE)"),
        (None, Some(_)) => bail!("an SMTP password is set without VIGIL_SMTP_USERNAME"),
    }
}
