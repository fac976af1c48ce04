//! Sign-in mutations: the password step, the second step, and TOTP enrolment and removal.

use async_graphql::{Context, Enum, Object, SimpleObject};
use vigil_projections::read;
use zeroize::Zeroizing;

use super::error::{GqlResult, IntoGql, found};
use super::inputs;
use super::mutation::{AuthPayload, payload, secret};
use super::query::{caller, service};
use super::types::Me;
use crate::access::{SecondFactorProof, SignIn};
use crate::service::ApiError;

#[derive(Default)]
pub struct SignInMutations;

/// Where a sign-in stands after the password step.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LoginStatus {
    /// Tokens are in the payload.
    SignedIn,
    /// Send a TOTP or recovery code with the challenge to `completeLogin`.
    SecondFactorRequired,
    /// A staff account without TOTP: enrol with the challenge (`startTotpEnrolment`,
    /// `confirmTotpEnrolment`), which signs in.
    EnrolmentRequired,
}

/// The answer to the password step.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// What happens next.
    pub status: LoginStatus,
    /// Bearer token (`SIGNED_IN` only), valid 15 minutes.
    pub access_token: Option<String>,
    /// Single-use token for `refresh` (`SIGNED_IN` only).
    pub refresh_token: Option<String>,
    /// When the access token expires.
    pub expires_at: Option<String>,
    /// The profile (`SIGNED_IN` only).
    pub me: Option<Me>,
    /// Event position the profile reflects.
    pub position: Option<u64>,
    /// The challenge for the next step (not an access token; five minutes, once).
    pub challenge: Option<String>,
    /// When the challenge expires.
    pub challenge_expires_at: Option<String>,
}

/// A TOTP enrolment to show the person once.
#[derive(SimpleObject)]
pub struct TotpEnrolment {
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code (`data:image/svg+xml;base64,…`).
    pub qr_code: String,
    /// The secret in base32, to type in by hand.
    pub secret: String,
}

/// TOTP turned on.
#[derive(SimpleObject)]
pub struct TotpConfirmation {
    /// Ten one-time recovery codes, shown this once.
    pub recovery_codes: Vec<String>,
    /// Tokens when enrolment completed a staff sign-in (with `challenge`).
    pub auth: Option<AuthPayload>,
}

fn proof(code: Option<String>, recovery_code: Option<String>) -> GqlResult<SecondFactorProof> {
    match (code, recovery_code) {
        (Some(code), None) => Ok(SecondFactorProof::Code(secret("code", code)?)),
        (None, Some(code)) => Ok(SecondFactorProof::RecoveryCode(secret("recoveryCode", code)?)),
        _ => Err(ApiError::bad("code", "give exactly one of code and recoveryCode")).gql(),
    }
}

#[Object]
impl SignInMutations {
    /// Signs in with email and password. Every failure answers the same `UNAUTHENTICATED`
    /// message; accounts with two-factor sign-in answer `SECOND_FACTOR_REQUIRED` and a
    /// challenge, staff accounts without it `ENROLMENT_REQUIRED`.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> GqlResult<LoginPayload> {
        let password = secret("password", password)?;
        let signed = service(ctx)?.login(&email, password).await.gql()?;
        let (status, issued) = match signed {
            SignIn::Tokens(tokens) => {
                let auth = payload(ctx, tokens).await?;
                return Ok(LoginPayload {
                    status: LoginStatus::SignedIn,
                    access_token: Some(auth.access_token),
                    refresh_token: Some(auth.refresh_token),
                    expires_at: Some(auth.expires_at),
                    me: Some(auth.me),
                    position: Some(auth.position),
                    challenge: None,
                    challenge_expires_at: None,
                });
            }
            SignIn::SecondFactorRequired(issued) => (LoginStatus::SecondFactorRequired, issued),
            SignIn::EnrolmentRequired(issued) => (LoginStatus::EnrolmentRequired, issued),
        };
        Ok(LoginPayload {
            status,
            access_token: None,
            refresh_token: None,
            expires_at: None,
            me: None,
            position: None,
            challenge: Some(issued.token.to_string()),
            challenge_expires_at: Some(inputs::rfc3339(issued.expires_at)),
        })
    }

    /// The second step: the challenge from `login` and a TOTP `code` or a `recoveryCode`.
    async fn complete_login(
        &self,
        ctx: &Context<'_>,
        challenge: String,
        code: Option<String>,
        recovery_code: Option<String>,
    ) -> GqlResult<AuthPayload> {
        let proof = proof(code, recovery_code)?;
        let tokens = service(ctx)?.complete_login(&challenge, proof).await.gql()?;
        payload(ctx, tokens).await
    }

    /// Starts TOTP enrolment: signed in, or with the `ENROLMENT_REQUIRED` challenge.
    async fn start_totp_enrolment(&self, ctx: &Context<'_>, challenge: Option<String>) -> GqlResult<TotpEnrolment> {
        let svc = service(ctx)?;
        let enrolment = match challenge {
            Some(challenge) => svc.start_enrolment_with_challenge(&challenge).await.gql()?,
            None => {
                let c = caller(ctx)?;
                let handle = found(read::account(svc.db(), c.user).await.gql()?)?.handle;
                svc.start_totp_enrolment(c.user, &handle).await.gql()?
            }
        };
        Ok(TotpEnrolment {
            uri: enrolment.uri.to_string(),
            qr_code: enrolment.qr_svg.to_string(),
            secret: enrolment.secret.to_string(),
        })
    }

    /// Turns TOTP on with a code from the app; with the enrolment challenge it also signs in.
    async fn confirm_totp_enrolment(
        &self,
        ctx: &Context<'_>,
        code: String,
        challenge: Option<String>,
    ) -> GqlResult<TotpConfirmation> {
        let svc = service(ctx)?;
        let code: Zeroizing<String> = secret("code", code)?;
        match challenge {
            Some(challenge) => {
                let (codes, tokens) = svc.confirm_enrolment_with_challenge(&challenge, &code).await.gql()?;
                Ok(TotpConfirmation {
                    recovery_codes: codes,
                    auth: Some(payload(ctx, tokens).await?),
                })
            }
            None => {
                let c = caller(ctx)?;
                let codes = svc.confirm_totp_enrolment(c.user, &code).await.gql()?;
                Ok(TotpConfirmation {
                    recovery_codes: codes,
                    auth: None,
                })
            }
        }
    }

    /// Turns TOTP off with a current code. Staff cannot: their second factor is mandatory.
    async fn disable_totp(&self, ctx: &Context<'_>, code: String) -> GqlResult<bool> {
        let c = caller(ctx)?;
        if c.role.is_staff() {
            return Err(ApiError::Forbidden("two-factor sign-in is mandatory for staff")).gql();
        }
        let code = secret("code", code)?;
        service(ctx)?.disable_totp(c.user, &code).await.gql()?;
        Ok(true)
    }
}
