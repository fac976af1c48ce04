//! Transactional mail (ADR 0014): the e-mail a person gets about their own account (the
//! address check at registration, a new sign-in, two-factor sign-in turned on or off, a
//! lock, the confirmation of their erasure, the inactivity notice), queued in the read
//! database's outbox by the flow that causes it and sent by a job every server runs, each
//! message by one server.
//!
//! Owns: the outbox, the sealing of what a row holds, the texts, the transports (SMTP through
//! `lettre`, or `.eml` files in a folder), the sender job and the verification tokens.
//! Must not: hold an address in clear anywhere but in memory while sending, log an address
//! or a message body, put anything about a person's health into a message, or link to
//! anything outside this server's own texts (no tracking, no third party).

pub mod config;
pub mod enqueue;
pub mod message;
pub mod outbox;
pub mod seal;
pub mod sender;
pub mod transport;
pub mod verification;

use std::sync::Arc;

pub use config::{MailArgs, Verification};
pub use message::Notice;
pub use seal::MailKey;

/// Failures of the mail layer. None of them carries an address or a body.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The read database.
    #[error("outbox: {0}")]
    Db(#[from] vigil_projections::ProjectionError),
    /// A row that does not open under this server's mail key, or a payload that does not
    /// parse: another store's row, or a damaged one.
    #[error("an outbox row does not open: {0}")]
    Sealed(&'static str),
    /// Building the message (an address the SMTP layer refuses to parse, say).
    #[error("the message cannot be built: {0}")]
    Build(&'static str),
    /// The transport refused or failed; `permanent` when trying again cannot help.
    #[error("sending failed ({what})")]
    Send {
        /// What failed, without the server's words (they may quote the address).
        what: String,
        /// A 5xx answer or an address the server refused: no retry.
        permanent: bool,
    },
}

impl From<sqlx::Error> for MailError {
    fn from(e: sqlx::Error) -> Self {
        MailError::Db(e.into())
    }
}

/// What a server knows about mail: whether it sends any, whether registration needs the
/// address checked, the key rows are sealed under, and how to wake this server's sender.
/// Cheap to clone.
#[derive(Clone)]
pub struct Mail {
    inner: Arc<Inner>,
}

struct Inner {
    verification: Verification,
    key: MailKey,
    wake: tokio::sync::Notify,
}

impl Mail {
    /// Mail on, with rows sealed under `key`.
    pub fn new(verification: Verification, key: MailKey) -> Mail {
        Mail {
            inner: Arc::new(Inner {
                verification,
                key,
                wake: tokio::sync::Notify::new(),
            }),
        }
    }

    /// For a command run from the server's shell that queues mail for the servers to send
    /// (it sends none itself, and registers nobody).
    ///
    /// # Errors
    /// The vault's.
    pub async fn for_commands(store: &vigil_eventstore::EventStore) -> anyhow::Result<Mail> {
        let key = MailKey::from_bytes(&*store.system_secret(seal::CONTEXT).await?)?;
        Ok(Mail::new(Verification::Off, key))
    }

    /// Whether registration requires the address to be checked before the first sign-in.
    pub fn verification(&self) -> Verification {
        self.inner.verification
    }

    /// The sealing key of outbox rows.
    pub fn key(&self) -> &MailKey {
        &self.inner.key
    }

    /// Tells this server's sender that a row was queued (the others find it when they look).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Resolves when [`Mail::wake`] was called.
    pub async fn woken(&self) {
        self.inner.wake.notified().await;
    }
}
