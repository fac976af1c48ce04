//! The read-only switch over GraphQL: staff see whether it is on, since when, by whom and
//! why; admins flip it with a current TOTP code. Ordinary users learn of it from the
//! `READ_ONLY` answer to a mutation (and `/readyz`).

use async_graphql::{Context, Object, SimpleObject};
use vigil_domain::account::Role;

use super::error::{GqlResult, IntoGql};
use super::inputs::rfc3339;
use super::mutation::secret;
use super::query::{caller, service};
use crate::access::SecondFactorProof;
use crate::service::ApiError;

#[derive(Default)]
pub struct MaintenanceQueries;

#[derive(Default)]
pub struct MaintenanceMutations;

/// The read-only switch.
#[derive(SimpleObject)]
pub struct MaintenanceMode {
    /// Whether mutations are refused (`READ_ONLY`).
    pub read_only: bool,
    /// Since when (read-only only).
    pub since: Option<String>,
    /// Who switched it on (`system:cli` or `user:<id>`).
    pub by: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

#[Object]
impl MaintenanceQueries {
    /// Staff: the read-only switch as this server sees it.
    async fn maintenance_mode(&self, ctx: &Context<'_>) -> GqlResult<MaintenanceMode> {
        let c = caller(ctx)?;
        if !c.role.is_staff() {
            return Err(ApiError::Forbidden("staff only")).gql();
        }
        Ok(mode(service(ctx)?.maintenance().read_only()))
    }
}

#[Object]
impl MaintenanceMutations {
    /// Admins: switches read-only mode on (`on: true`, every other mutation then answers
    /// `READ_ONLY` on every server) or off, with a reason (1–500 characters) and a current
    /// TOTP code. Sign-in, refresh, logout and this mutation keep working while it is on.
    async fn set_read_only(
        &self,
        ctx: &Context<'_>,
        on: bool,
        reason: String,
        totp_code: String,
    ) -> GqlResult<MaintenanceMode> {
        let c = caller(ctx)?;
        if c.role != Role::Admin {
            return Err(ApiError::Forbidden("only an admin may switch read-only mode")).gql();
        }
        let code = SecondFactorProof::Code(secret("totpCode", totp_code)?);
        let svc = service(ctx)?;
        svc.set_read_only(&c, on, &reason, &code).await.gql()?;
        Ok(mode(svc.maintenance().read_only()))
    }
}

fn mode(read_only: Option<vigil_domain::maintenance::ReadOnly>) -> MaintenanceMode {
    match read_only {
        Some(r) => MaintenanceMode {
            read_only: true,
            since: Some(rfc3339(r.since)),
            by: Some(r.by),
            reason: Some(r.reason),
        },
        None => MaintenanceMode {
            read_only: false,
            since: None,
            by: None,
            reason: None,
        },
    }
}
