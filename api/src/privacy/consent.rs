//! Consent to AI processing of a person's data: given or withdrawn by the person, off until
//! given, and readable back with every change and its time (`ai_consent_changes`, kept by the
//! accounts projection from the account's events). Nothing processes data yet; the consent is
//! recorded now so that what comes later can only run on data whose owner said yes.
//!
//! Setting the state the consent is already in is not an error: nothing is appended, and the
//! answer is the current state with `changed: false`. A client that lost an answer can send
//! the same request again, and a toggle showing a stale state does no harm.
//!
//! Must not read or change the consent without the read proof of its owner (`Subject`, which
//! the access gate gives a user for their own data only; staff hold no health data to process).

use time::OffsetDateTime;
use vigil_domain::account::{Account, AccountCommand};
use vigil_eventstore::Metadata;
use vigil_projections::read::{self, ConsentChange, Subject};
use vigil_projections::streams;

use crate::service::{ApiResult, Service};

/// The consent as it stands, with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiConsent {
    /// Given now.
    pub given: bool,
    /// When the current state began; `None` while it was never given (the default).
    pub since: Option<OffsetDateTime>,
    /// Every change, oldest first.
    pub history: Vec<ConsentChange>,
}

impl Service {
    /// The consent of `owner`'s person.
    ///
    /// # Errors
    /// Read-model errors.
    pub async fn ai_consent(&self, owner: &Subject) -> ApiResult<AiConsent> {
        let history = read::ai_consent_changes(self.db(), owner).await?;
        let last = history.last().copied();
        Ok(AiConsent {
            given: last.is_some_and(|c| c.given),
            since: last.map(|c| c.at),
            history,
        })
    }

    /// Gives (`true`) or withdraws (`false`) the consent of `owner`'s person; returns the
    /// position it reflects and whether it changed (see the module doc).
    ///
    /// # Errors
    /// Domain rejections (an account whose erasure is pending accepts nothing);
    /// `PROJECTION_LAG`.
    pub async fn set_ai_consent(&self, owner: &Subject, metadata: Metadata, consent: bool) -> ApiResult<(u64, bool)> {
        let user = owner.id();
        let at = OffsetDateTime::now_utc();
        let committed = self
            .commit::<Account>(&streams::account(user), user, metadata, |_| {
                Ok(if consent {
                    AccountCommand::GiveAiProcessingConsent { at }
                } else {
                    AccountCommand::WithdrawAiProcessingConsent { at }
                })
            })
            .await?;
        self.settled(&committed).await?;
        Ok((committed.position, committed.appended))
    }
}
