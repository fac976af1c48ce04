//! Mutations: accounts and sessions here, health records in `records`. Each returns the
//! resulting read model and the event position it reflects.

use async_graphql::{Context, MergedObject, Object, SimpleObject};
use vigil_domain::account::Settings;
use vigil_projections::read;
use zeroize::Zeroizing;

use super::doses::DoseMutations;
use super::error::{GqlResult, IntoGql, found};
use super::inputs;
use super::logs::LogMutations;
use super::query::{caller, service};
use super::records::RecordMutations;
use super::signin::SignInMutations;
use super::staff::StaffMutations;
use super::types::Me;
use crate::service::{ApiError, Tokens};

/// The mutation root. Text inputs (of mutations and queries alike) are refused, not
/// stripped, when they hold control characters other than tab, line feed and carriage return,
/// or bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
/// U+061C): `BAD_USER_INPUT` naming the argument or variable, before anything runs.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    AuthMutations,
    SignInMutations,
    StaffMutations,
    RecordMutations,
    DoseMutations,
    LogMutations,
    super::maintenance::MaintenanceMutations,
    super::erasure::ErasureMutations,
    super::privacy::PrivacyMutations,
    super::export::ExportMutations,
);

#[derive(Default)]
pub struct AuthMutations;

/// Tokens after register, login or refresh.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Bearer token for `Authorization`, valid 15 minutes.
    pub access_token: String,
    /// Single-use token for `refresh`.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: String,
    /// The profile.
    pub me: Me,
    /// Event position the profile reflects.
    pub position: u64,
}

/// The answer to `register`, the same whether or not the email was free.
#[derive(SimpleObject)]
pub struct RegisterPayload {
    /// Always true: the registration was accepted.
    pub accepted: bool,
    /// What to do next.
    pub next: String,
}

/// A profile after a change.
#[derive(SimpleObject)]
pub struct MePayload {
    /// The profile.
    pub me: Me,
    /// Event position it reflects.
    pub position: u64,
}

pub(super) async fn payload(ctx: &Context<'_>, tokens: Tokens) -> GqlResult<AuthPayload> {
    let account = read::account(service(ctx)?.db(), tokens.user)
        .await
        .gql()?
        .ok_or(ApiError::ProjectionLag {
            position: tokens.position,
        })
        .gql()?;
    Ok(AuthPayload {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token.to_string(),
        expires_at: inputs::rfc3339(tokens.expires_at),
        me: Me::from(account),
        position: tokens.position,
    })
}

pub(super) fn secret(field: &str, value: String) -> GqlResult<Zeroizing<String>> {
    if value.len() > 1024 {
        return Err(ApiError::bad(field, "too long")).gql();
    }
    Ok(Zeroizing::new(value))
}

#[Object]
impl AuthMutations {
    /// Creates an account (handle optional: one is generated); then sign in with `login`.
    /// The answer never says whether the email was already registered: a taken email is
    /// answered the same, at the same time, and its owner finds the attempt in their
    /// `accessLog`.
    async fn register(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        handle: Option<String>,
    ) -> GqlResult<RegisterPayload> {
        let password = secret("password", password)?;
        let service = service(ctx)?;
        service.register(&email, password, handle).await.gql()?;
        let next = if service.verification_required() {
            "confirm the address with the code mailed to it (verifyEmail), then sign in with login"
        } else {
            "sign in with login (the same email and password)"
        };
        Ok(RegisterPayload {
            accepted: true,
            next: next.into(),
        })
    }

    /// Confirms a new account's e-mail address with the code mailed at registration (when the
    /// server requires it, the account cannot sign in before). A code works once, for 48
    /// hours; signing in with the right password before then mails a new one.
    /// `BAD_USER_INPUT` (`token`) for a code unknown, used or expired.
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> GqlResult<bool> {
        service(ctx)?.verify_email(&token).await.gql()?;
        Ok(true)
    }

    /// Exchanges a refresh token (once) for new tokens.
    async fn refresh(&self, ctx: &Context<'_>, refresh_token: String) -> GqlResult<AuthPayload> {
        let tokens = service(ctx)?.refresh(&refresh_token).await.gql()?;
        payload(ctx, tokens).await
    }

    /// Ends the current session.
    async fn logout(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let c = caller(ctx)?;
        service(ctx)?.logout(&c).await.gql()?;
        Ok(true)
    }

    /// Changes the password; every other session ends.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> GqlResult<MePayload> {
        let c = caller(ctx)?;
        let svc = service(ctx)?;
        let position = svc
            .change_password(
                &c,
                secret("currentPassword", current_password)?,
                secret("newPassword", new_password)?,
            )
            .await
            .gql()?;
        me_payload(ctx, c.user, position).await
    }

    /// Changes display settings (`labUnits`: conventional|si, `weightUnit`: kg|lb).
    async fn update_settings(
        &self,
        ctx: &Context<'_>,
        lab_units: Option<String>,
        weight_unit: Option<String>,
    ) -> GqlResult<MePayload> {
        let c = caller(ctx)?;
        let svc = service(ctx)?;
        let current = found(read::account(svc.db(), c.user).await.gql()?)?;
        let settings = Settings {
            lab_units: match lab_units {
                Some(u) => inputs::named("labUnits", &u).gql()?,
                None => current.settings.lab_units,
            },
            weight_unit: match weight_unit {
                Some(u) => inputs::named("weightUnit", &u).gql()?,
                None => current.settings.weight_unit,
            },
        };
        let position = svc.update_settings(&c, settings).await.gql()?;
        me_payload(ctx, c.user, position).await
    }
}

pub(super) async fn me_payload(ctx: &Context<'_>, user: uuid::Uuid, position: u64) -> GqlResult<MePayload> {
    let account = found(read::account(service(ctx)?.db(), user).await.gql()?)?;
    Ok(MePayload {
        me: Me::from(account),
        position,
    })
}
