//! Registration, login, token refresh and logout, password change and settings.
//!
//! The email exists only inside the person's sealed `AccountRegistered` event and as a keyed
//! blind index in `identity_claims`. Login answers the same error after the same work
//! (a dummy argon2 verification) whether or not the account exists.

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::access::AccessEvent;
use vigil_domain::account::{Account, AccountCommand, AccountState, Role, Settings};
use vigil_domain::credentials::{Credentials, CredentialsCommand, PasswordSetReason};
use vigil_domain::values::{EmailAddress, UserId};
use vigil_eventstore::Metadata;
use vigil_projections::read;
use vigil_projections::read::micros;
use vigil_projections::streams;
use zeroize::Zeroizing;

use super::sessions::{self, Redeemed};
use super::{ApiError, ApiResult, Caller, Service};
use crate::auth::{AuthError, RefreshToken, check_password_policy};

/// A claim with no account behind it after this long was left by a failed registration.
const STALE_CLAIM_MICROS: i64 = 10 * 60 * 1_000_000;

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
    /// Registers a person and logs them in.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` (email, password, handle), `CONFLICT` (email or handle taken).
    pub async fn register(
        &self,
        email: &str,
        password: Zeroizing<String>,
        handle: Option<String>,
    ) -> ApiResult<Tokens> {
        let now = OffsetDateTime::now_utc();
        let (user, position) = self.create_account(email, password, handle, Role::User, now).await?;
        let tokens = self.issue_new_session(user, now, position, false).await?;
        self.record_or_warn(
            user,
            AccessEvent::SignedIn {
                method: vigil_domain::access::SignInMethod::Password,
                at: now,
            },
        )
        .await;
        Ok(tokens)
    }

    /// Opens an account with `role` (a staff account from the command line, or a user) and
    /// returns its id and the position of its registration.
    ///
    /// # Errors
    /// As [`Service::register`].
    pub async fn create_account(
        &self,
        email: &str,
        password: Zeroizing<String>,
        handle: Option<String>,
        role: Role,
        now: OffsetDateTime,
    ) -> ApiResult<(Uuid, u64)> {
        check_password_policy(&password).map_err(|e| ApiError::bad("password", e))?;
        let email = EmailAddress::parse(email).map_err(|e| ApiError::bad("email", e))?;
        let user = Uuid::now_v7();
        let email_index = self.inner.index.email(&email);
        self.claim("email", &email_index, user, now, "this email cannot be registered")
            .await?;
        let result = self.register_claimed(user, &email, password, handle, role, now).await;
        if result.is_err() {
            self.release_claims(user).await;
        }
        result.map(|position| (user, position))
    }

    async fn register_claimed(
        &self,
        user: Uuid,
        email: &EmailAddress,
        password: Zeroizing<String>,
        handle: Option<String>,
        role: Role,
        now: OffsetDateTime,
    ) -> ApiResult<u64> {
        // Decide first (pure) to learn the handle, generated or typed, and claim it.
        let mut chosen = None;
        for _ in 0..5 {
            let command = AccountCommand::Register {
                user_id: UserId::from_uuid(user),
                handle: handle.clone(),
                handle_seed: random_u64()?,
                email: email.expose_secret().to_owned(),
                role,
                registered_at: now,
            };
            let events =
                <Account as vigil_domain::aggregate::Aggregate>::decide(&AccountState::default(), command.clone())?;
            let state = events.iter().fold(
                AccountState::default(),
                <Account as vigil_domain::aggregate::Aggregate>::evolve,
            );
            let Some(h) = state.handle.clone() else {
                return Err(ApiError::internal(anyhow::anyhow!("registration produced no handle")));
            };
            let index = self.inner.index.handle(h.as_str());
            match self.claim("handle", &index, user, now, "this handle is taken").await {
                Ok(()) => {
                    chosen = Some(command);
                    break;
                }
                Err(e) if handle.is_some() => return Err(e),
                Err(_) => continue, // a generated handle collided: draw another
            }
        }
        let command = chosen.ok_or_else(|| ApiError::Conflict("could not find a free handle; choose one".into()))?;
        let hash = self.inner.passwords.hash(password).await.map_err(ApiError::internal)?;
        let metadata = Metadata::actor(format!("user:{user}"));
        // Credentials first: an account is only visible once it can also log in.
        self.execute::<Credentials>(&streams::credentials(user), user, metadata.clone(), |_| {
            Ok(CredentialsCommand::SetPassword {
                password_hash: hash.clone(),
                reason: PasswordSetReason::Registered,
                at: now,
            })
        })
        .await?;
        self.execute::<Account>(&streams::account(user), user, metadata, |_| Ok(command.clone()))
            .await
    }

    /// Reserves a blind index for `user`; a stale reservation of a failed registration is
    /// taken over.
    async fn claim(&self, kind: &str, index: &str, user: Uuid, now: OffsetDateTime, taken: &str) -> ApiResult<()> {
        let db = &self.inner.db;
        let inserted = sqlx::query(
            "insert into identity_claims (kind, claim, user_id, claimed_at) values ($1, $2, $3, $4) \
             on conflict (kind, claim) do nothing",
        )
        .bind(kind.to_owned())
        .bind(index.to_owned())
        .bind(user.to_string())
        .bind(micros(now))
        .execute(db.pool())
        .await
        .map_err(ApiError::internal)?;
        if inserted.rows_affected() == 1 {
            return Ok(());
        }
        let Some((owner, claimed_at)) = read::claim_owner(db, kind, index).await? else {
            return Err(ApiError::Conflict(taken.into()));
        };
        let abandoned = read::account(db, owner).await?.is_none() && micros(now) - claimed_at > STALE_CLAIM_MICROS;
        if abandoned {
            let moved = sqlx::query(
                "update identity_claims set user_id = $3, claimed_at = $4 where kind = $1 and claim = $2 and user_id = $5",
            )
            .bind(kind.to_owned())
            .bind(index.to_owned())
            .bind(user.to_string())
            .bind(micros(now))
            .bind(owner.to_string())
            .execute(db.pool())
            .await
            .map_err(ApiError::internal)?;
            if moved.rows_affected() == 1 {
                return Ok(());
            }
        }
        Err(ApiError::Conflict(taken.into()))
    }

    async fn release_claims(&self, user: Uuid) {
        let released = sqlx::query("delete from identity_claims where user_id = $1")
            .bind(user.to_string())
            .execute(self.inner.db.pool())
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release the claims of a failed registration");
        }
    }

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
        let Some(role) = sessions::live_role(&self.inner.db, &self.inner.live, claims.session, claims.subject).await?
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
        let position = self
            .execute::<Credentials>(
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
        sessions::revoke_others(&self.inner.db, &self.inner.live, caller.user, caller.session, now).await?;
        self.record_or_warn(caller.user, AccessEvent::PasswordChanged { at: now })
            .await;
        Ok(position)
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

fn random_u64() -> ApiResult<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(u64::from_le_bytes(bytes))
}
