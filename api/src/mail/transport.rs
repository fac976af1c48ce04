//! Where a built message goes: an SMTP server through `lettre` (implicit TLS, STARTTLS, or
//! plain on a loopback address only), or, for development, a folder of `.eml` files
//! readable by the server's user alone.
//!
//! Must not: log an address or a body, or repeat an SMTP server's words (they may quote the
//! address): failures are described by their code and kind.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use zeroize::Zeroizing;

use super::MailError;

/// One SMTP exchange at most this long (under the outbox lease, see `outbox::LEASE`).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How messages leave this server.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// A folder of `.eml` files (development).
    Folder(PathBuf),
}

/// How to reach the SMTP server, parsed from `--smtp-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte (port 465 by default).
    Implicit,
    /// `smtp://`: STARTTLS, required (port 587 by default).
    StartTls,
    /// `smtp+plain://`: no TLS; only to a loopback address (a relay on the same host, tests).
    Plain,
}

/// `--smtp-url` taken apart: security, host, port.
///
/// # Errors
/// A message for the operator (the URL holds no secret: credentials are refused in it).
pub fn parse_url(url: &str) -> Result<(Security, String, u16), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?}: write smtps://HOST[:PORT] or smtp://HOST[:PORT]"))?;
    let security = match scheme {
        "smtps" => Security::Implicit,
        "smtp" => Security::StartTls,
        "smtp+plain" => Security::Plain,
        _ => {
            return Err(format!(
                "{url:?}: the scheme is smtps, smtp (STARTTLS) or smtp+plain (loopback only)"
            ));
        }
    };
    let rest = rest.trim_end_matches('/');
    if rest.contains('@') {
        return Err(
            "--smtp-url must not hold credentials: use VIGIL_SMTP_USERNAME and VIGIL_SMTP_PASSWORD(_FILE)".into(),
        );
    }
    if rest.contains(['/', '?', '#']) {
        return Err(format!("{url:?}: only scheme, host and port"));
    }
    let default_port = match security {
        Security::Implicit => 465,
        Security::StartTls => 587,
        Security::Plain => 25,
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
            (host, port.parse::<u16>().map_err(|_| format!("{url:?}: bad port"))?)
        }
        _ => (rest, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{url:?}: no host"));
    }
    if security == Security::Plain && !is_loopback(host) {
        return Err(format!(
            "{url:?}: plain SMTP is allowed only to a loopback address; use smtps:// or smtp:// (STARTTLS)"
        ));
    }
    Ok((security, host.to_owned(), port))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Transport {
    /// An SMTP transport to `url`, with `credentials` when given.
    ///
    /// # Errors
    /// An unusable URL or TLS setup, for the operator.
    pub fn smtp(url: &str, credentials: Option<(String, Zeroizing<String>)>) -> Result<Transport, String> {
        let (security, host, port) = parse_url(url)?;
        let builder = match security {
            Security::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host),
            Security::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())),
        }
        .map_err(|e| format!("--smtp-url: {e}"))?;
        let mut builder = builder.port(port).timeout(Some(TIMEOUT));
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user, password.to_string()));
        }
        Ok(Transport::Smtp(builder.build()))
    }

    /// Sends `message`, whose id (the outbox row's) names its file in a folder.
    ///
    /// # Errors
    /// `Send`, permanent for a 5xx answer.
    pub async fn send(&self, id: &str, message: Message) -> Result<(), MailError> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                let code = e.status().map(|c| c.to_string());
                let what = match (&code, e.is_timeout(), e.is_tls()) {
                    (Some(code), _, _) => format!("the SMTP server answered {code}"),
                    (None, true, _) => "time-out".to_owned(),
                    (None, _, true) => "TLS".to_owned(),
                    (None, _, _) if e.is_client() => "client".to_owned(),
                    _ => "connection".to_owned(),
                };
                MailError::Send {
                    what,
                    permanent: e.is_permanent(),
                }
            }),
            Transport::Folder(dir) => {
                let bytes = message.formatted();
                let dir = dir.clone();
                let name = format!("{id}.eml");
                tokio::task::spawn_blocking(move || write_private(&dir, &name, &bytes))
                    .await
                    .map_err(|_| MailError::Send {
                        what: "the writer stopped".into(),
                        permanent: false,
                    })?
                    .map_err(|e| MailError::Send {
                        what: format!("cannot write the outbox folder: {}", e.kind()),
                        permanent: false,
                    })
            }
        }
    }
}

/// Writes `dir/name` with mode 0600 (through a temporary name, so a reader never sees half).
fn write_private(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let partial = dir.join(format!(".{name}.part"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, dir.join(name))
}

/// The message for `to`, from `from`, plain text, with the outbox row's id in its Message-ID
/// (so a receiver can drop the one duplicate a crash may cause).
///
/// # Errors
/// `Build` for an address lettre does not accept.
pub fn build(from: &Mailbox, to: &str, id: &str, subject: String, body: String) -> Result<Message, MailError> {
    let to: Mailbox = to.parse().map_err(|_| MailError::Build("the recipient address"))?;
    let domain = from.email.domain().to_owned();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{id}@{domain}>")))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|_| MailError::Build("the message"))
}

#[cfg(test)]
mod tests {
    use super::{Security, parse_url};

    #[test]
    fn urls_say_how_to_reach_the_server() {
        assert_eq!(
            parse_url("smtps://mail.example.org").unwrap(),
            (Security::Implicit, "mail.example.org".into(), 465)
        );
        assert_eq!(
            parse_url("smtp://mail.example.org:2587").unwrap(),
            (Security::StartTls, "mail.example.org".into(), 2587)
        );
        assert_eq!(
            parse_url("smtp+plain://127.0.0.1:2525").unwrap(),
            (Security::Plain, "127.0.0.1".into(), 2525)
        );
        assert_eq!(
            parse_url("smtp+plain://[::1]:25").unwrap(),
            (Security::Plain, "::1".into(), 25)
        );
        for bad in [
            "smtp+plain://mail.example.org:25",
            "smtps://user:pw@mail.example.org",
            "http://mail.example.org",
            "smtps://",
            "smtp://host/path",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
