//! Appending to a person's access log. These are facts, not decisions: appended without a
//! version check (many nodes may record sign-ins of one person at once), sealed under the
//! person's key like everything else of theirs.

use uuid::Uuid;
use vigil_domain::access::{AccessEvent, Actor};
use vigil_domain::aggregate::DomainEvent;
use vigil_eventstore::{ExpectedVersion, Metadata, NewEvent};
use vigil_projections::{read, streams};

use crate::service::{ApiError, ApiResult, Caller, Service};

impl Service {
    /// Appends `event` to `subject`'s access log and returns its position. Durable when it
    /// returns; the read model follows (not awaited).
    ///
    /// # Errors
    /// The store's (an erased subject is `FORBIDDEN`).
    pub(crate) async fn record(&self, subject: Uuid, event: AccessEvent, metadata: Metadata) -> ApiResult<u64> {
        let new = NewEvent::json(event.event_type(), event.schema_version(), &event)?;
        let started = std::time::Instant::now();
        let appended = self
            .store()
            .append_to(
                &streams::access(subject),
                subject,
                ExpectedVersion::Any,
                vec![new],
                metadata,
            )
            .await;
        crate::metrics::record::append(started, 1, appended.is_ok());
        let outcome = appended?;
        // The fact is durable; the message it calls for follows (see `mail::enqueue`).
        if let Some(notice) = crate::mail::enqueue::for_access(&event) {
            self.mail_notice(subject, notice).await;
        }
        Ok(outcome.last_position)
    }

    /// Like [`Service::record`] for events the person's own action caused: a failure is logged
    /// (without the event) and the action stands.
    pub(crate) async fn record_or_warn(&self, subject: Uuid, event: AccessEvent) {
        let kind = event.event_type();
        if let Err(e) = self
            .record(subject, event, Metadata::actor(format!("user:{subject}")))
            .await
        {
            tracing::warn!(kind, error = %e, "could not append to an access log");
        }
    }

    /// The caller as the access log names them: role and public handle.
    ///
    /// # Errors
    /// Read-model errors.
    pub(crate) async fn actor_of(&self, caller: &Caller) -> ApiResult<Actor> {
        let handle = read::account(self.db(), caller.user)
            .await?
            .map(|a| a.handle)
            .ok_or(ApiError::Unauthenticated("sign in first"))?;
        Ok(Actor {
            user: Some(caller.user),
            role: caller.role,
            handle,
        })
    }
}
