//! Signing in: the password step, then the second factor when the account has one, or TOTP
//! enrolment first when a staff account has none.
//!
//! Every failure of the password step answers the same message after the same work: one
//! query that returns one row whether or not an account holds the email, one argon2
//! verification (a dummy hash when there is no account) and one counted failure, so an
//! unknown, a wrong-password, a locked, a disabled and an erased account cannot be told apart
//! by answer or by time (`vigil bench login` measures it).
//! Must not say which check failed, to the client or in a log line.

use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::access::{AccessEvent, SignInMethod};
use vigil_domain::credentials::{Credentials, CredentialsCommand, PasswordSetReason};
use vigil_domain::values::EmailAddress;
use vigil_eventstore::Metadata;
use vigil_projections::{read, streams};
use zeroize::Zeroizing;

use super::challenge::{Issued, Purpose};
use super::lockout::{self, ThrottleKey};
use super::totp::SecondFactorProof;
use crate::service::{ApiError, ApiResult, Service, Tokens};

/// Same answer for every failed password step.
pub const LOGIN_FAILED: &str = "invalid email or password";
/// Counters of unknown emails are pruned once per this many failures.
const PRUNE_EVERY: u64 = 256;
static FAILURES: AtomicU64 = AtomicU64::new(0);

/// What the password step earned.
pub enum SignIn {
    /// Signed in.
    Tokens(Tokens),
    /// The account has TOTP: complete with `completeLogin`.
    SecondFactorRequired(Issued),
    /// A staff account without TOTP: enrol with this challenge, then sign in.
    EnrolmentRequired(Issued),
}

impl Service {
    /// The password step.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` with one message for every failure.
    pub async fn login(&self, email: &str, password: Zeroizing<String>) -> ApiResult<SignIn> {
        let now = OffsetDateTime::now_utc();
        let db = self.db();
        // One query whatever the email: an unknown or malformed one looks up a blind index
        // no account holds, and its failures are counted under that index.
        let (index, unknown) = match EmailAddress::parse(email) {
            Ok(email) => {
                let index = self.index().email(&email);
                (index.clone(), ThrottleKey::UnknownEmail(index))
            }
            Err(_) => (String::from("-"), ThrottleKey::Malformed),
        };
        let facts = read::sign_in_facts(db, &index, &unknown.key()).await?;
        let key = facts.user.map_or(unknown, ThrottleKey::Account);
        let locked = facts.locked_until.is_some_and(|until| until > read::micros(now));
        let verification = self
            .passwords()
            .verify(password.clone(), facts.password_hash.clone())
            .await
            .map_err(ApiError::internal)?;
        let (Some(user), Some(role), false, true, false) =
            (facts.user, facts.role, facts.barred, verification.matched, locked)
        else {
            self.count_failure(&key, now).await?;
            return Err(ApiError::Unauthenticated(LOGIN_FAILED));
        };
        if self.awaiting_verification(user).await? {
            self.send_verification(user, now).await?;
            return Err(ApiError::Forbidden(crate::mail::verification::UNVERIFIED));
        }
        let mut position = self.store().head_position().await?;
        if verification.needs_rehash {
            let hash = self.passwords().hash(password).await.map_err(ApiError::internal)?;
            let metadata = Metadata::actor(format!("user:{user}"));
            position = self
                .execute::<Credentials>(&streams::credentials(user), user, metadata, |_| {
                    Ok(CredentialsCommand::SetPassword {
                        password_hash: hash.clone(),
                        reason: PasswordSetReason::Rehashed,
                        at: now,
                    })
                })
                .await?;
        }
        if facts.second_factor {
            return Ok(SignIn::SecondFactorRequired(
                self.issue_challenge(user, Purpose::SignIn, now).await?,
            ));
        }
        if role.is_staff() {
            return Ok(SignIn::EnrolmentRequired(
                self.issue_challenge(user, Purpose::Enrol, now).await?,
            ));
        }
        // Failures are forgotten only once a sign-in is complete: a password step that
        // leads to a second factor must not reset the count of wrong codes.
        lockout::clear_failures(db, &key, now).await?;
        let tokens = self.issue_new_session(user, now, position, false).await?;
        self.record_or_warn(
            user,
            AccessEvent::SignedIn {
                method: SignInMethod::Password,
                at: now,
            },
        )
        .await;
        Ok(SignIn::Tokens(tokens))
    }

    /// The second step: a TOTP code or a recovery code for a `sign_in` challenge. Wrong codes
    /// count toward the account's lockout; a locked account's codes are refused unchecked.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a bad challenge or code.
    pub async fn complete_login(&self, challenge: &str, proof: SecondFactorProof) -> ApiResult<Tokens> {
        let now = OffsetDateTime::now_utc();
        let user = self.challenge_user(challenge, Purpose::SignIn, now).await?;
        let method = self
            .under_lockout(user, now, self.check_second_factor(user, &proof, now))
            .await?;
        self.spend_challenge(challenge, now).await?;
        lockout::clear_failures(self.db(), &ThrottleKey::Account(user), now).await?;
        self.signed_in_with_second_factor(user, now, method).await
    }

    /// Starts TOTP enrolment of a staff account that has none, with its `enrol` challenge.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a bad challenge.
    pub async fn start_enrolment_with_challenge(&self, challenge: &str) -> ApiResult<super::Enrolment> {
        let now = OffsetDateTime::now_utc();
        let user = self.challenge_user(challenge, Purpose::Enrol, now).await?;
        let handle = read::account(self.db(), user).await?.ok_or(ApiError::NotFound)?.handle;
        self.start_totp_enrolment(user, &handle).await
    }

    /// Confirms that enrolment with a code and signs in: the recovery codes and the tokens.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a bad challenge or code.
    pub async fn confirm_enrolment_with_challenge(
        &self,
        challenge: &str,
        code: &str,
    ) -> ApiResult<(Vec<String>, Tokens)> {
        let now = OffsetDateTime::now_utc();
        let user = self.challenge_user(challenge, Purpose::Enrol, now).await?;
        let codes = self
            .under_lockout(user, now, self.confirm_totp_enrolment(user, code))
            .await?;
        self.spend_challenge(challenge, now).await?;
        lockout::clear_failures(self.db(), &ThrottleKey::Account(user), now).await?;
        let tokens = self
            .signed_in_with_second_factor(user, now, SignInMethod::PasswordAndTotp)
            .await?;
        Ok((codes, tokens))
    }

    async fn signed_in_with_second_factor(
        &self,
        user: Uuid,
        now: OffsetDateTime,
        method: SignInMethod,
    ) -> ApiResult<Tokens> {
        // Disabled while the second step was pending: no session.
        let usable = read::account(self.db(), user)
            .await?
            .is_some_and(|a| !a.disabled && !a.erasure_requested);
        if !usable {
            return Err(ApiError::Unauthenticated(LOGIN_FAILED));
        }
        let position = self.store().head_position().await?;
        let tokens = self.issue_new_session(user, now, position, true).await?;
        self.record_or_warn(user, AccessEvent::SignedIn { method, at: now })
            .await;
        Ok(tokens)
    }

    /// Checks the password of a signed-in person before a change that needs it again
    /// (`changeEmail`). It is a sign-in attempt like the password step of `login`: a wrong
    /// password counts toward the account's lockout, and while the account is locked even the
    /// right one is refused, with the same answer.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` ("the password is wrong") for a wrong password or a locked account.
    pub(crate) async fn reauthenticate(&self, user: Uuid, password: Zeroizing<String>) -> ApiResult<()> {
        let now = OffsetDateTime::now_utc();
        let key = ThrottleKey::Account(user);
        let locked = lockout::locked(self.db(), &key, now).await?;
        let stored = read::password_hash(self.db(), user).await?;
        let verification = self
            .passwords()
            .verify(password, stored)
            .await
            .map_err(ApiError::internal)?;
        if locked || !verification.matched {
            self.count_failure(&key, now).await?;
            return Err(ApiError::Unauthenticated("the password is wrong"));
        }
        Ok(())
    }

    /// Runs `check` (a code check for `user`) under the account's lockout: refused unchecked
    /// while the account is locked, and a refusal counts as a failed sign-in.
    async fn under_lockout<T>(
        &self,
        user: Uuid,
        now: OffsetDateTime,
        check: impl std::future::Future<Output = ApiResult<T>>,
    ) -> ApiResult<T> {
        let key = ThrottleKey::Account(user);
        if lockout::locked(self.db(), &key, now).await? {
            self.count_failure(&key, now).await?;
            return Err(ApiError::Unauthenticated("the code is not valid"));
        }
        match check.await {
            Err(ApiError::Unauthenticated(message)) => {
                self.count_failure(&key, now).await?;
                Err(ApiError::Unauthenticated(message))
            }
            other => other,
        }
    }

    /// Counts a failure; announces a lock it started on the account's access log.
    async fn count_failure(&self, key: &ThrottleKey, now: OffsetDateTime) -> ApiResult<()> {
        let started = lockout::record_failure(self.db(), key, now).await?;
        crate::metrics::record::sign_in_failed(started.is_some() && matches!(key, ThrottleKey::Account(_)));
        if let (Some(until), ThrottleKey::Account(user)) = (started, key) {
            tracing::warn!("an account was locked after repeated failed sign-ins");
            self.record_or_warn(*user, AccessEvent::AccountLocked { until, at: now })
                .await;
        }
        if FAILURES.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            lockout::prune(self.db(), now).await?;
        }
        Ok(())
    }
}
