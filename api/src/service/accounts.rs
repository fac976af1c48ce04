//! Sessions (issuing, refresh, logout, authentication), password change and settings.
//! Registration is in `registration`; signing in, in `access::signin`.

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::access::AccessEvent;
use vigil_domain::account::{Account, AccountCommand, Settings};
use vigil_domain::credentials::{Credentials, CredentialsCommand, PasswordSetReason};
use vigil_projections::read;
use vigil_projections::streams;
use zeroize::Zeroizing;

use super::sessions::{self, Redeemed};
use super::{ApiError, ApiResult, Caller, Service};
use crate::auth::{AuthError, RefreshToken, check_password_policy};

/// A fresh access token and refresh token.
pub struct Tokens {
    /// JWT, 15 minutes.
    pub access_token: String,
    /// Opaque, single use.
    pub refresh_token: Zeroizing<String>,
    /// When the access token expires.
    pub expires_at: OffsetDateTime,
    /// The person.
    pub user: Uuid,
    /// Position of the last event written on the way (for read-your-writes).
    pub position: u64,
}

impl Service {
    pub(crate) async fn issue_new_session(
        &self,
        user: Uuid,
        now: OffsetDateTime,
        position: u64,
        second_factor: bool,
    ) -> ApiResult<Tokens> {
        let family = sessions::start(&self.inner.db, user, now, second_factor).await?;
        self.issue(user, family, now, position).await
    }

    /// Tokens for `user`'s session `family`. Every sign-in and refresh comes here, so this is
    /// where signing in counts as activity (see `activity`).
    async fn issue(&self, user: Uuid, family: Uuid, now: OffsetDateTime, position: u64) -> ApiResult<Tokens> {
        let refresh = RefreshToken::generate().map_err(ApiError::internal)?;
        sessions::store_refresh(
            &self.inner.db,
            self.inner.tokens.refresh_token_hash(&refresh),
            family,
            user,
            now,
        )
        .await?;
        let access = self
            .inner
            .tokens
            .issue_access_token(user, family, now)
            .map_err(ApiError::internal)?;
        sessions::honour_only(&self.inner.db, &self.inner.live, family, access.claims.token_id).await?;
        self.touch(user, now.to_offset(time::UtcOffset::UTC).date());
        Ok(Tokens {
            access_token: access.expose_secret().to_owned(),
            refresh_token: refresh.expose_secret(),
            expires_at: access.claims.expires_at,
            user,
            position,
        })
    }

    /// Exchanges a refresh token for a new pair; a reused token revokes its whole family.
    ///
    /// # Errors
    /// `UNAUTHENTICATED`.
    pub async fn refresh(&self, token: &str) -> ApiResult<Tokens> {
        let now = OffsetDateTime::now_utc();
        let token = RefreshToken::parse(token).map_err(|_| ApiError::Unauthenticated("invalid refresh token"))?;
        match sessions::redeem(
            &self.inner.db,
            &self.inner.live,
            self.inner.tokens.refresh_token_hash(&token),
            now,
        )
        .await?
        {
            Redeemed::Fresh { user, family } => {
                let position = self.inner.store.head_position().await?;
                self.issue(user, family, now, position).await
            }
            Redeemed::Invalid => Err(ApiError::Unauthenticated("invalid refresh token")),
            Redeemed::Reused { user } => {
                tracing::warn!("a used refresh token was presented again; its session was revoked");
                self.record_or_warn(user, AccessEvent::RefreshTokenReuseDetected { at: now })
                    .await;
                Err(ApiError::Unauthenticated(
                    "refresh token already used; the session was revoked",
                ))
            }
        }
    }

    /// Ends the caller's session (every token of its family).
    ///
    /// # Errors
    /// Database errors.
    pub async fn logout(&self, caller: &Caller) -> ApiResult<()> {
        let now = OffsetDateTime::now_utc();
        sessions::revoke(&self.inner.db, &self.inner.live, caller.session, "logout", now).await?;
        self.record_or_warn(caller.user, AccessEvent::SignedOut { at: now })
            .await;
        Ok(())
    }

    /// Checks an access token and that its session is still live.
    ///
    /// # Errors
    /// `UNAUTHENTICATED`.
    pub async fn authenticate(&self, token: &str) -> ApiResult<Caller> {
        let claims = self
            .inner
            .tokens
            .verify_access_token(token, OffsetDateTime::now_utc())
            .map_err(|e| match e {
                AuthError::TokenExpired => ApiError::Unauthenticated("access token expired"),
                _ => ApiError::Unauthenticated("invalid access token"),
            })?;
        let Some(role) = sessions::live_role(
            &self.inner.db,
            &self.inner.live,
            claims.session,
            claims.subject,
            claims.token_id,
        )
        .await?
        else {
            return Err(ApiError::Unauthenticated("session ended"));
        };
        Ok(Caller {
            user: claims.subject,
            session: claims.session,
            role,
        })
    }

    /// Changes the caller's password after checking the current one; other sessions end.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a wrong current password, `BAD_USER_INPUT` for a weak new one.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: Zeroizing<String>,
        new: Zeroizing<String>,
    ) -> ApiResult<u64> {
        check_password_policy(&new).map_err(|e| ApiError::bad("newPassword", e))?;
        let stored = read::password_hash(&self.inner.db, caller.user).await?;
        let verification = self
            .inner
            .passwords
            .verify(current, stored)
            .await
            .map_err(ApiError::internal)?;
        if !verification.matched {
            return Err(ApiError::Unauthenticated("the current password is wrong"));
        }
        let hash = self.inner.passwords.hash(new).await.map_err(ApiError::internal)?;
        let now = OffsetDateTime::now_utc();
        let committed = self
            .commit::<Credentials>(
                &streams::credentials(caller.user),
                caller.user,
                caller.metadata(),
                |_| {
                    Ok(CredentialsCommand::SetPassword {
                        password_hash: hash.clone(),
                        reason: PasswordSetReason::Changed,
                        at: now,
                    })
                },
            )
            .await?;
        // The new password is the one from the commit on: the other sessions end, and the
        // person's log says so, even when the read models lag behind it.
        sessions::revoke_others(&self.inner.db, &self.inner.live, caller.user, caller.session, now).await?;
        self.record_or_warn(caller.user, AccessEvent::PasswordChanged { at: now })
            .await;
        self.settled(&committed).await?;
        Ok(committed.position)
    }

    /// Changes the caller's display settings.
    ///
    /// # Errors
    /// Domain rejections.
    pub async fn update_settings(&self, caller: &Caller, settings: Settings) -> ApiResult<u64> {
        let now = OffsetDateTime::now_utc();
        let position = self
            .execute::<Account>(&streams::account(caller.user), caller.user, caller.metadata(), |_| {
                Ok(AccountCommand::ChangeSettings {
                    settings,
                    changed_at: now,
                })
            })
            .await?;
        Ok(position)
    }
}
