//! The sender job every server runs: it claims due rows of the outbox (see `outbox` for why
//! each is sent by one server), opens each, finds the address (the account's current one, read
//! from the person's sealed stream, or the one an erasure confirmation captured), sends, and
//! settles the row: sent rows go, passing failures come back later (`outbox::backoff`), and a
//! permanent refusal or the last attempt marks the row `failed`, so one bad message never
//! holds up the others. Nothing is claimed while the read-only switch is on: a maintenance
//! may be working on the read database the outbox lives in.
//!
//! Must not: log an address, a handle or a body (ids, kinds, codes and counts only), or keep
//! an address beyond the send.

use std::time::Duration;

use lettre::message::Mailbox;
use time::OffsetDateTime;
use vigil_domain::account::Account;
use vigil_projections::streams;
use zeroize::Zeroizing;

use super::message::KINDS;
use super::outbox::{self, Claimed};
use super::transport::{self, Transport};
use super::{Mail, MailError};
use crate::service::{ApiError, Service};

/// How often a server looks for due rows when nothing woke it (rows queued on another
/// server, retries coming due).
pub const POLL: Duration = Duration::from_secs(2);
/// Rows claimed at once: a server holds no more than it sends within the lease.
const BATCH: i64 = 10;

/// Starts the job.
pub fn spawn(service: Service, mail: Mail, transport: Transport, from: Mailbox) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if service.maintenance().read_only().is_none() {
                match round(&service, &mail, &transport, &from).await {
                    // A full batch: more may be due at once.
                    Ok(n) if n as i64 == BATCH => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot look at the mail outbox now; trying again later"),
                }
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = mail.woken() => {}
            }
        }
    })
}

/// Claims and sends one batch; returns how many rows it claimed.
///
/// # Errors
/// The claim's database errors (a row's own failure is settled on the row).
pub async fn round(service: &Service, mail: &Mail, transport: &Transport, from: &Mailbox) -> Result<usize, MailError> {
    let claimed = outbox::claim(service.db(), OffsetDateTime::now_utc(), BATCH).await?;
    let n = claimed.len();
    for row in claimed {
        let kind = KINDS.iter().copied().find(|k| *k == row.kind).unwrap_or("other");
        match deliver(service, mail, transport, from, &row).await {
            Ok(Delivered::Sent) => {
                crate::metrics::record::mail_sent(kind);
                if !outbox::done(service.db(), &row).await? {
                    tracing::warn!(id = %row.id, kind, "a sent message's claim had moved on: it may be sent twice");
                }
                if row.user.is_none() {
                    purge_confirmation(service).await;
                }
                tracing::info!(id = %row.id, kind, attempts = row.attempts, "mail sent");
            }
            Ok(Delivered::Nobody) => {
                outbox::done(service.db(), &row).await?;
                tracing::info!(id = %row.id, kind, "mail dropped: the account is gone");
            }
            Err(e) => {
                let permanent = match &e {
                    MailError::Send { permanent, .. } => *permanent,
                    MailError::Sealed(_) | MailError::Build(_) => true,
                    MailError::Db(_) => false,
                };
                let given_up = permanent || row.attempts >= outbox::MAX_ATTEMPTS;
                crate::metrics::record::mail_failed(kind, given_up);
                if given_up && row.user.is_none() {
                    // An erasure confirmation holds an erased person's address, sealed: kept as
                    // `failed`, nothing would ever delete it. It goes, like a sent one.
                    outbox::done(service.db(), &row).await?;
                    purge_confirmation(service).await;
                    tracing::warn!(id = %row.id, kind, attempts = row.attempts, error = %e, "mail given up and deleted");
                } else if given_up {
                    outbox::failed(service.db(), &row).await?;
                    tracing::warn!(id = %row.id, kind, attempts = row.attempts, error = %e, "mail given up");
                } else {
                    let due = OffsetDateTime::now_utc() + outbox::backoff(row.attempts);
                    outbox::retry_at(service.db(), &row, due).await?;
                    tracing::warn!(id = %row.id, kind, attempts = row.attempts, error = %e, "mail not sent; trying again later");
                }
            }
        }
    }
    Ok(n)
}

/// After an erasure confirmation's row went: it held a sealed copy of an erased person's
/// address, so no dead tuple or WAL page of it stays behind (ADR 0008's purge).
async fn purge_confirmation(service: &Service) {
    if let Err(e) = service.db().purge_after_erasure(&["mail_outbox"]).await {
        tracing::warn!(error = %e, "cannot vacuum the outbox after an erasure confirmation");
    }
}

enum Delivered {
    Sent,
    /// The person was erased since the row was queued: nobody to write to.
    Nobody,
}

async fn deliver(
    service: &Service,
    mail: &Mail,
    transport: &Transport,
    from: &Mailbox,
    row: &Claimed,
) -> Result<Delivered, MailError> {
    let sealed = outbox::open(mail.key(), row)?;
    let (to, handle) = match (&sealed.to, &sealed.handle, row.user) {
        (Some(to), Some(handle), _) => (Zeroizing::new(to.clone()), handle.clone()),
        (_, _, Some(user)) => match service.catch_up::<Account>(&streams::account(user), None).await {
            Ok((state, _)) => match (state.email, state.handle) {
                (Some(email), Some(handle)) => (
                    Zeroizing::new(email.expose_secret().to_owned()),
                    handle.as_str().to_owned(),
                ),
                _ => return Ok(Delivered::Nobody),
            },
            Err(ApiError::Forbidden(_) | ApiError::NotFound) => return Ok(Delivered::Nobody),
            Err(_) => {
                return Err(MailError::Send {
                    what: "cannot read the account".into(),
                    permanent: false,
                });
            }
        },
        _ => return Err(MailError::Sealed("no recipient")),
    };
    let (subject, body) = sealed.notice.render(&handle);
    let message = transport::build(from, &to, &row.id, subject, body)?;
    transport.send(&row.id, message).await?;
    Ok(Delivered::Sent)
}
