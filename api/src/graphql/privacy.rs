//! A person's rights through the API: `changeEmail`, `changeHandle`, `setAiProcessingConsent`,
//! and the consent read back as `me { aiProcessingConsent }`. The rules and their safety are
//! `privacy`'s; this module only maps arguments and answers.
//! Must not answer or log an email: no type here has one.

use async_graphql::{ComplexObject, Context, Object, SimpleObject};

use super::error::{GqlResult, IntoGql};
use super::inputs::rfc3339;
use super::mutation::{MePayload, me_payload, secret};
use super::query::{caller, owner, service};
use super::types::Me;
use crate::privacy::AiConsent;
use crate::service::ApiError;

#[derive(Default)]
pub struct PrivacyMutations;

/// Consent to AI processing of the person's data: off until they give it. Nothing processes
/// data yet; the consent is recorded so that what comes later honours it.
#[derive(SimpleObject)]
pub struct AiProcessingConsent {
    /// Whether it is given now.
    pub given: bool,
    /// When the current state began (RFC 3339); null while it was never given.
    pub since: Option<String>,
    /// Every change, oldest first.
    pub history: Vec<ConsentChange>,
}

/// One change of a consent.
#[derive(SimpleObject)]
pub struct ConsentChange {
    /// Given (true) or withdrawn (false).
    pub given: bool,
    /// When (RFC 3339).
    pub at: String,
}

/// The consent after `setAiProcessingConsent`.
#[derive(SimpleObject)]
pub struct AiProcessingConsentPayload {
    /// The consent as it now stands.
    pub consent: AiProcessingConsent,
    /// False when it already was as asked (nothing was recorded).
    pub changed: bool,
    /// Event position it reflects.
    pub position: u64,
}

impl From<AiConsent> for AiProcessingConsent {
    fn from(c: AiConsent) -> Self {
        AiProcessingConsent {
            given: c.given,
            since: c.since.map(rfc3339),
            history: c
                .history
                .into_iter()
                .map(|h| ConsentChange {
                    given: h.given,
                    at: rfc3339(h.at),
                })
                .collect(),
        }
    }
}

#[ComplexObject]
impl Me {
    /// The person's consent to AI processing, with its history (users only: staff hold no
    /// data to process, and get `FORBIDDEN` on this field).
    async fn ai_processing_consent(&self, ctx: &Context<'_>) -> GqlResult<AiProcessingConsent> {
        let c = owner(ctx)?;
        // `Me` is always the caller's own profile; this keeps it so should it ever be reused.
        if c.caller.user.to_string() != self.id {
            return Err(ApiError::Forbidden("only its owner reads a consent")).gql();
        }
        let consent = service(ctx)?.ai_consent(&c.me).await.gql()?;
        Ok(consent.into())
    }
}

#[Object]
impl PrivacyMutations {
    /// Moves the account to another email address, after the password again (counted like a
    /// sign-in attempt, toward the lockout and the sign-in limit). From the answer on, the new
    /// address signs in and the old one is answered like any unknown email, on every server.
    /// A taken address is `CONFLICT` (whose, it does not say); the same address again changes
    /// nothing. The address is never readable back.
    async fn change_email(&self, ctx: &Context<'_>, new_email: String, password: String) -> GqlResult<MePayload> {
        let c = caller(ctx)?;
        let password = secret("password", password)?;
        let position = service(ctx)?.change_email(&c, &new_email, password).await.gql()?;
        me_payload(ctx, c.user, position).await
    }

    /// Chooses another public handle, under registration's rules (3–24 letters, digits or
    /// underscores, starting with a letter; unique whatever the case: a taken one is
    /// `CONFLICT`). The same handle again changes nothing.
    async fn change_handle(&self, ctx: &Context<'_>, handle: String) -> GqlResult<MePayload> {
        let c = caller(ctx)?;
        let position = service(ctx)?.change_handle(&c, &handle).await.gql()?;
        me_payload(ctx, c.user, position).await
    }

    /// Gives (`true`) or withdraws (`false`) consent to AI processing of the caller's data
    /// (off until given). Asking for the state it is already in is no error: nothing is
    /// recorded and the answer says `changed: false`. Users only (`FORBIDDEN` for staff).
    async fn set_ai_processing_consent(
        &self,
        ctx: &Context<'_>,
        consent: bool,
    ) -> GqlResult<AiProcessingConsentPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let (position, changed) = svc.set_ai_consent(&c.me, c.metadata(), consent).await.gql()?;
        let consent = svc.ai_consent(&c.me).await.gql()?;
        Ok(AiProcessingConsentPayload {
            consent: consent.into(),
            changed,
            position,
        })
    }
}
