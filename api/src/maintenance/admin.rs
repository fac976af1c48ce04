//! An admin flips the read-only switch through the API: only with the admin role and a
//! current TOTP code (the same proof a break-glass grant needs), and never while the
//! session lacks a second factor.

use time::OffsetDateTime;
use vigil_domain::account::Role;

use crate::access::SecondFactorProof;
use crate::service::{ApiError, ApiResult, Caller, Service};

impl Service {
    /// Switches read-only mode on or off for `caller`, an admin who presents a current
    /// TOTP code; returns the flip's log position.
    ///
    /// # Errors
    /// `FORBIDDEN` for anyone but an admin; `BAD_USER_INPUT` without a TOTP code or with a bad
    /// reason; `UNAUTHENTICATED` for a wrong code; `CONFLICT` when already in that position.
    pub async fn set_read_only(
        &self,
        caller: &Caller,
        on: bool,
        reason: &str,
        code: &SecondFactorProof,
    ) -> ApiResult<u64> {
        if caller.role != Role::Admin {
            return Err(ApiError::Forbidden("only an admin may switch read-only mode"));
        }
        if !matches!(code, SecondFactorProof::Code(_)) {
            return Err(ApiError::bad("totpCode", "a current TOTP code is required"));
        }
        self.check_second_factor(caller.user, code, OffsetDateTime::now_utc())
            .await?;
        super::flip(self, on, format!("user:{}", caller.user), reason).await
    }
}
