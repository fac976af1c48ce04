//! What staff and auditors ask and do: the access log (everyone sees their own; auditors see
//! everyone's), account metadata (support and admins: never health data, never the email),
//! the log's envelopes (auditors: no payloads), role and account changes and unlocking
//! (admins, for accounts below admin), and break-glass grants (admins, with a TOTP code).
//! Each resolver checks the role first; a wrong role is `FORBIDDEN` for that field alone.

use async_graphql::{Context, MergedObject, Object, SimpleObject};
use vigil_domain::account::Role;
use vigil_projections::read::{self, AccessEntry, AccountMetadata};

use super::audit::EnvelopeOut;
use super::error::{GqlResult, IntoGql};
use super::inputs::{self, name_of, rfc3339};
use super::mutation::secret;
use super::query::{caller, service};
use super::types::{Conn, connection};
use crate::access::{SecondFactorProof, StaffActor, StaffChange};
use crate::service::{ApiError, Caller, Service};

/// Staff queries, merged into the query root.
#[derive(MergedObject, Default)]
pub struct StaffQueries(AccessQueries, super::audit::AuditQueries);

#[derive(Default)]
pub struct AccessQueries;

#[derive(Default)]
pub struct StaffMutations;

/// One access-log entry.
#[derive(SimpleObject)]
pub struct AccessEntryOut {
    /// Position of its event in the log.
    pub position: i64,
    /// When.
    pub at: String,
    /// `signed_in`, `signed_out`, `data_accessed`, `break_glass_opened`, `account_locked`, …
    pub kind: String,
    /// The staff role behind it.
    pub actor_role: Option<String>,
    /// The staff handle behind it.
    pub actor_handle: Option<String>,
    /// The query of a data access.
    pub query: Option<String>,
    /// The fields it selected.
    pub fields: Vec<String>,
    /// The break-glass grant.
    pub grant_id: Option<String>,
    /// Why (the justification or reason staff wrote).
    pub reason: Option<String>,
    /// Kind-specific detail (sign-in method, change made, request id).
    pub detail: Option<String>,
    /// Whose log (auditors only).
    pub subject: Option<String>,
    /// The staff account (auditors only).
    pub actor_id: Option<String>,
}

fn entry(e: AccessEntry, for_auditor: bool) -> AccessEntryOut {
    AccessEntryOut {
        position: e.position,
        at: rfc3339(e.at),
        kind: e.kind,
        actor_role: e.actor_role.map(|r| r.name().to_owned()),
        actor_handle: e.actor_handle,
        query: e.query,
        fields: e.fields,
        grant_id: e.grant_id,
        reason: e.reason,
        detail: e.detail,
        subject: for_auditor.then(|| e.user_id.to_string()),
        actor_id: if for_auditor {
            e.actor_user.map(|u| u.to_string())
        } else {
            None
        },
    }
}

/// What support and admins see of an account.
#[derive(SimpleObject)]
pub struct AccountOut {
    pub id: String,
    pub handle: String,
    pub role: String,
    pub tier: String,
    pub registered_at: String,
    pub last_seen_at: Option<String>,
    pub disabled: bool,
    pub erasure_requested: bool,
    pub two_factor: bool,
    pub recovery_codes_left: i64,
    /// Until when sign-in is locked, if it is.
    pub locked_until: Option<String>,
}

impl From<AccountMetadata> for AccountOut {
    fn from(a: AccountMetadata) -> Self {
        AccountOut {
            id: a.user_id.to_string(),
            handle: a.handle,
            role: a.role.name().to_owned(),
            tier: name_of(&a.tier),
            registered_at: rfc3339(a.registered_at),
            last_seen_at: a.last_seen_at.map(rfc3339),
            disabled: a.disabled,
            erasure_requested: a.erasure_requested,
            two_factor: a.second_factor,
            recovery_codes_left: a.recovery_codes_left,
            locked_until: a
                .locked_until
                .filter(|u| *u > time::OffsetDateTime::now_utc())
                .map(rfc3339),
        }
    }
}

/// A staff change made.
#[derive(SimpleObject)]
pub struct AccountChangePayload {
    /// The account after it (as the read model has it now).
    pub account: Option<AccountOut>,
    /// Position of the change's event.
    pub position: u64,
}

/// A break-glass grant.
#[derive(SimpleObject)]
pub struct BreakGlassGrant {
    pub id: String,
    /// The person.
    pub subject: String,
    pub expires_at: String,
    /// Position of the grant's event.
    pub position: u64,
}

pub(super) fn require(c: &Caller, roles: &[Role], what: &'static str) -> GqlResult<()> {
    if roles.contains(&c.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(what)).gql()
    }
}

async fn account_of(svc: &Service, handle: &str) -> GqlResult<AccountMetadata> {
    if handle.len() > 64 {
        return Err(ApiError::bad("handle", "at most 64 characters")).gql();
    }
    svc.account_by_handle(handle).await.gql()
}

#[Object]
impl AccessQueries {
    /// Every access to the caller's account and data, newest first: sign-ins, security
    /// changes, and each read of their data by staff with the staff role, handle and reason.
    #[graphql(complexity = "crate::graphql::page_weight(first, 20) * child_complexity")]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Conn<AccessEntryOut>> {
        let c = caller(ctx)?;
        let page = super::query::page(first, after)?;
        let p = read::access_log(service(ctx)?.db(), c.user, &page).await.gql()?;
        Ok(connection(p, |e| entry(e, false)))
    }

    /// Auditors: access events across people, newest first (optionally one `kind`).
    #[graphql(complexity = "crate::graphql::page_weight(first, 20) * child_complexity")]
    async fn access_events(
        &self,
        ctx: &Context<'_>,
        kind: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Conn<AccessEntryOut>> {
        let c = caller(ctx)?;
        require(&c, &[Role::Auditor], "only auditors list access events")?;
        if kind.as_ref().is_some_and(|k| k.len() > 64) {
            return Err(ApiError::bad("kind", "at most 64 characters")).gql();
        }
        let page = super::query::page(first, after)?;
        let p = read::access_events(service(ctx)?.db(), kind.as_deref(), &page)
            .await
            .gql()?;
        Ok(connection(p, |e| entry(e, true)))
    }

    /// Support and admins: an account's metadata by handle (never health data or the email).
    async fn account(&self, ctx: &Context<'_>, handle: String) -> GqlResult<AccountOut> {
        let c = caller(ctx)?;
        require(
            &c,
            &[Role::Support, Role::Admin],
            "only support and admins look accounts up",
        )?;
        Ok(account_of(service(ctx)?, &handle).await?.into())
    }

    /// Auditors: the log's envelopes from position `after` + 1 (no payloads). The same list
    /// as `auditEvents(from: after + 1)`, which is the documented name.
    #[graphql(
        complexity = "crate::graphql::page_weight(first, 100) * child_complexity",
        deprecation = "use auditEvents(from, first)"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<u64>,
    ) -> GqlResult<Vec<EnvelopeOut>> {
        super::audit::envelopes(ctx, after.unwrap_or(0).saturating_add(1), first).await
    }
}

async fn change(
    ctx: &Context<'_>,
    handle: String,
    what: StaffChange,
    reason: String,
) -> GqlResult<AccountChangePayload> {
    let c = caller(ctx)?;
    require(&c, &[Role::Admin], "only admins change accounts")?;
    let svc = service(ctx)?;
    let target = account_of(svc, &handle).await?;
    let position = svc
        .change_account(&StaffActor::Admin(c), target.user_id, what, &reason)
        .await
        .gql()?;
    let account = read::account_metadata(svc.db(), Some(target.user_id), None)
        .await
        .gql()?;
    Ok(AccountChangePayload {
        account: account.map(AccountOut::from),
        position,
    })
}

#[Object]
impl StaffMutations {
    /// Admins: gives an account a role below admin (`user`, `support`, `auditor`). Its
    /// sessions end; staff roles then need two-factor sign-in.
    async fn change_role(
        &self,
        ctx: &Context<'_>,
        handle: String,
        role: String,
        reason: String,
    ) -> GqlResult<AccountChangePayload> {
        let role = Role::parse(role.trim())
            .ok_or_else(|| ApiError::bad("role", "one of user, support, auditor, admin"))
            .gql()?;
        change(ctx, handle, StaffChange::Role(role), reason).await
    }

    /// Admins: disables an account (no sign-in; its sessions end).
    async fn disable_account(
        &self,
        ctx: &Context<'_>,
        handle: String,
        reason: String,
    ) -> GqlResult<AccountChangePayload> {
        change(ctx, handle, StaffChange::Disable, reason).await
    }

    /// Admins: enables a disabled account.
    async fn enable_account(
        &self,
        ctx: &Context<'_>,
        handle: String,
        reason: String,
    ) -> GqlResult<AccountChangePayload> {
        change(ctx, handle, StaffChange::Enable, reason).await
    }

    /// Admins: lifts a sign-in lock early; answers whether there was one.
    async fn unlock_account(&self, ctx: &Context<'_>, handle: String, reason: String) -> GqlResult<bool> {
        let c = caller(ctx)?;
        require(&c, &[Role::Admin], "only admins unlock accounts")?;
        let svc = service(ctx)?;
        let target = account_of(svc, &handle).await?;
        svc.unlock_account(&StaffActor::Admin(c), target.user_id, &reason)
            .await
            .gql()
    }

    /// Admins: opens a break-glass grant on one person's health data: a justification of at
    /// least 20 characters, 1–60 minutes, and a current TOTP code. Every read under it is on
    /// the person's access log.
    async fn open_break_glass(
        &self,
        ctx: &Context<'_>,
        subject: String,
        justification: String,
        minutes: i32,
        totp_code: String,
    ) -> GqlResult<BreakGlassGrant> {
        let c = caller(ctx)?;
        require(&c, &[Role::Admin], "only admins open break-glass grants")?;
        let subject = inputs::id("subject", &subject).gql()?;
        let code = SecondFactorProof::Code(secret("totpCode", totp_code)?);
        let grant = service(ctx)?
            .open_break_glass(&c, subject, &justification, i64::from(minutes), &code)
            .await
            .gql()?;
        Ok(BreakGlassGrant {
            id: grant.id.to_string(),
            subject: grant.subject.to_string(),
            expires_at: rfc3339(grant.expires_at),
            position: grant.position,
        })
    }
}
