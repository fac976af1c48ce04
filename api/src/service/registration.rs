//! Registration, without telling anyone whether an email is taken: a taken email answers
//! exactly as a free one (`accepted`), after the same work (the password is hashed either way)
//! and no earlier than a fixed floor, so neither the answer nor its time says which. The
//! owner of the taken email learns of the attempt in their access log.
//!
//! The email exists only inside the person's sealed `AccountRegistered` event and as a keyed
//! blind index in `identity_claims`, reserved before anything is appended so two
//! registrations cannot both win (`claims`); the projection settles the reservation when it
//! applies the registration.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::access::AccessEvent;
use vigil_domain::account::{Account, AccountCommand, AccountState, Role};
use vigil_domain::credentials::{Credentials, CredentialsCommand, PasswordSetReason};
use vigil_domain::values::{EmailAddress, Handle, UserId};
use vigil_eventstore::Metadata;
use vigil_projections::read;
use vigil_projections::streams;
use zeroize::Zeroizing;

use super::claims::{CLAIM_DEADLINE, ClaimKind};
use super::{ApiError, ApiResult, Service};
use crate::auth::check_password_policy;

/// The claim's refusal inside `create_account` (never answered to a registration).
const EMAIL_TAKEN: &str = "this email cannot be registered";
/// No registration answers sooner than this after it arrived, whichever way it went. The
/// work itself (argon2 plus two appends) takes 40–80 ms here; the floor hides its variation.
pub const REGISTER_FLOOR: Duration = Duration::from_millis(300);

impl Service {
    /// Registers a person; they sign in with `login` afterwards. A taken email is answered
    /// exactly like a free one (see the module doc).
    ///
    /// # Errors
    /// `BAD_USER_INPUT` (email, password, handle), `CONFLICT` (a chosen handle is taken).
    pub async fn register(&self, email: &str, password: Zeroizing<String>, handle: Option<String>) -> ApiResult<()> {
        let deadline = tokio::time::Instant::now() + REGISTER_FLOOR;
        let result = self.register_or_notify(email, password, handle).await;
        tokio::time::sleep_until(deadline).await;
        result
    }

    async fn register_or_notify(
        &self,
        email: &str,
        password: Zeroizing<String>,
        handle: Option<String>,
    ) -> ApiResult<()> {
        // Everything the input alone decides is decided first, the same for either case.
        check_password_policy(&password).map_err(|e| ApiError::bad("password", e))?;
        let parsed = EmailAddress::parse(email).map_err(|e| ApiError::bad("email", e))?;
        if let Some(h) = &handle {
            Handle::parse(h).map_err(|e| ApiError::bad("handle", e))?;
        }
        let now = OffsetDateTime::now_utc();
        let index = self.index().email(&parsed);
        let owner = match read::claim_owner(self.db(), "email", &index).await? {
            // A claim an account holds; any other (a failed registration's or change's, or one
            // under way) is for `create_account`, which takes it over once it is abandoned.
            Some(holder) if holder.settled && read::account(self.db(), holder.user).await?.is_some() => holder.user,
            _ => match self
                .create_account(email, password.clone(), handle.clone(), Role::User, now)
                .await
            {
                Err(ApiError::Conflict(message)) if message == EMAIL_TAKEN => {
                    // Claimed by a registration running at the same moment.
                    let Some(holder) = read::claim_owner(self.db(), "email", &index).await? else {
                        return Err(ApiError::Conflict(message));
                    };
                    holder.user
                }
                other => return other.map(|_| ()),
            },
        };
        if let Some(h) = &handle
            && read::claim_owner(self.db(), "handle", &self.index().handle(h))
                .await?
                .is_some()
        {
            return Err(ApiError::Conflict("this handle is taken".into()));
        }
        // The work a new account costs, then the owner is told.
        self.passwords().hash(password).await.map_err(ApiError::internal)?;
        self.record_or_warn(owner, AccessEvent::RegistrationAttempted { at: now })
            .await;
        Ok(())
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
        let email_index = self.index().email(&email);
        // A reservation is good for `CLAIM_DEADLINE` from here (see `claims`).
        let deadline = tokio::time::Instant::now() + CLAIM_DEADLINE;
        self.claim(ClaimKind::Email, &email_index, user, now, EMAIL_TAKEN)
            .await?;
        // The address check is recorded before the account exists, so no moment sees an
        // account that could sign in unverified (see `mail::verification`).
        // Its message is queued once the account is in the log.
        let verify = role == Role::User && self.verification_required();
        let notice = match verify {
            true => match self.expect_verification(user, now).await {
                Ok(notice) => Some(notice),
                Err(e) => {
                    self.release_claims(user).await;
                    return Err(e);
                }
            },
            false => None,
        };
        let result = self
            .register_claimed(user, &email, password, handle, role, now, deadline)
            .await;
        // A lag means the registration is in the log: its claims stay (the projection settles
        // them). Any other failure wrote no account, and its reservations go.
        if result.is_err() && !matches!(result, Err(ApiError::ProjectionLag { .. })) {
            self.release_claims(user).await;
            if notice.is_some() {
                self.forget_verification(user).await;
            }
        } else if let Some(notice) = notice {
            self.mail_notice(user, notice).await;
        }
        result.map(|position| (user, position))
    }

    #[allow(clippy::too_many_arguments)]
    async fn register_claimed(
        &self,
        user: Uuid,
        email: &EmailAddress,
        password: Zeroizing<String>,
        handle: Option<String>,
        role: Role,
        now: OffsetDateTime,
        deadline: tokio::time::Instant,
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
            let index = self.index().handle(h.as_str());
            match self
                .claim(ClaimKind::Handle, &index, user, now, "this handle is taken")
                .await
            {
                Ok(()) => {
                    chosen = Some(command);
                    break;
                }
                Err(e) if handle.is_some() => return Err(e),
                Err(_) => continue, // a generated handle collided: draw another
            }
        }
        let command = chosen.ok_or_else(|| ApiError::Conflict("could not find a free handle; choose one".into()))?;
        let hash = self.passwords().hash(password).await.map_err(ApiError::internal)?;
        let metadata = Metadata::actor(format!("user:{user}"));
        // Credentials first: an account is only visible once it can also log in. Not waited
        // for: on a lag the account must still follow, or the email would stay taken by a
        // password that never signs in.
        self.commit::<Credentials>(&streams::credentials(user), user, metadata.clone(), |_| {
            Ok(CredentialsCommand::SetPassword {
                password_hash: hash.clone(),
                reason: PasswordSetReason::Registered,
                at: now,
            })
        })
        .await?;
        self.execute::<Account>(&streams::account(user), user, metadata, |_| {
            if tokio::time::Instant::now() > deadline {
                return Err(ApiError::Conflict("the registration took too long; try again".into()));
            }
            Ok(command.clone())
        })
        .await
    }
}

fn random_u64() -> ApiResult<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(u64::from_le_bytes(bytes))
}
