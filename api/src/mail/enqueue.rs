//! Queueing from the flows that cause mail, right after the event that records the cause:
//! an access-log fact (sign-in, two-factor change, lock), the inactivity notice, an erasure.
//! The event is durable first; a crash between it and the queueing loses the message, not the
//! fact (ADR 0014 says why this is the trade).
//!
//! Must not: fail or slow the action that caused the message (a queueing failure is logged
//! and the action stands), or queue anything on a server without mail.

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::access::{AccessEvent, SignInMethod};
use zeroize::Zeroizing;

use super::message::{Notice, Sealed};
use super::outbox;
use crate::service::Service;

/// The message an access-log fact calls for, if any.
pub fn for_access(event: &AccessEvent) -> Option<Notice> {
    match event {
        AccessEvent::SignedIn { method, at } => Some(Notice::NewSignIn {
            second_factor: !matches!(method, SignInMethod::Password),
            at: *at,
        }),
        AccessEvent::SecondFactorEnabled { at } => Some(Notice::SecondFactorEnabled { at: *at }),
        AccessEvent::SecondFactorDisabled { at } => Some(Notice::SecondFactorDisabled { at: *at }),
        AccessEvent::AccountLocked { until, .. } => Some(Notice::AccountLocked { until: *until }),
        _ => None,
    }
}

impl Service {
    /// Queues `notice` for `user`'s current address (found when it is sent).
    pub(crate) async fn mail_notice(&self, user: Uuid, notice: Notice) {
        self.queue_mail(
            Some(user),
            Sealed {
                notice,
                to: None,
                handle: None,
            },
        )
        .await;
    }

    /// Queues the confirmation of an erasure to the address and handle captured before it.
    pub(crate) async fn mail_erasure_confirmation(&self, to: Zeroizing<String>, handle: String) {
        self.queue_mail(
            None,
            Sealed {
                notice: Notice::ErasureConfirmed {
                    at: OffsetDateTime::now_utc(),
                },
                to: Some(to.to_string()),
                handle: Some(handle),
            },
        )
        .await;
    }

    async fn queue_mail(&self, user: Option<Uuid>, sealed: Sealed) {
        let Some(mail) = self.mail() else { return };
        let kind = sealed.notice.kind();
        match outbox::queue(self.db(), mail.key(), user, &sealed, OffsetDateTime::now_utc()).await {
            Ok(id) => {
                tracing::debug!(%id, kind, "mail queued");
                mail.wake();
            }
            Err(e) => tracing::warn!(kind, error = %e, "cannot queue a message; it will not be sent"),
        }
    }
}
