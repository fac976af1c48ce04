//! Rectification: `changeEmail` (after the password again) and `changeHandle`.
//!
//! How an email moves, and why a crash at any point is safe:
//! 1. The new address's blind index is reserved for the account, *pending*
//!    (`identity_claims.event_version` null). A pending claim signs nobody in and keeps
//!    everybody else off the address. Taken by someone else: `CONFLICT`, without saying whose.
//! 2. `EmailChanged` is appended to the account's stream, within `CLAIM_DEADLINE` of step 1.
//! 3. The claim is settled as of the event's stream version, and in the same transaction the
//!    account's older email claim is deleted (`vigil_projections::claims::settle`). From that
//!    commit on, the new address signs in and the old one answers like an unknown email, on
//!    every server (they share the read database; sign-in reads it on every attempt).
//!
//! - A crash between 1 and 2 leaves a pending claim and no event: the old address still signs
//!   in (no lost account) and the new one signs nobody in. The reservation goes stale after
//!   `STALE_CLAIM`, and the next person who asks for that address takes it over, after the
//!   log confirms the account does not hold it (no stolen address). Asking again reuses it.
//! - A crash between 2 and 3 leaves the event in the log: the accounts projection, on any
//!   server, applies it with the same settle, so the move completes without the api (until
//!   then the old address still signs in; nothing is lost). Should the reservation have been
//!   taken over meanwhile (only possible past the deadline), the settle leaves the other
//!   holder's claim alone and so keeps the account's old claim: it still signs in.
//! - The api and the projection may settle in either order, twice, or during a rebuild: the
//!   claim of the highest version wins (see `vigil_projections::claims`).
//!
//! A handle moves the same way (handles sign nobody in; only uniqueness is at stake).
//! Must not log an address, or say who holds a taken one.

use time::OffsetDateTime;
use vigil_domain::access::AccessEvent;
use vigil_domain::account::{Account, AccountCommand};
use vigil_domain::values::{EmailAddress, Handle};
use vigil_projections::streams;
use zeroize::Zeroizing;

use crate::service::claims::{CLAIM_DEADLINE, ClaimKind};
use crate::service::{ApiError, ApiResult, Caller, Committed, Service};

/// A taken address, answered without saying whose.
const EMAIL_TAKEN: &str = "this email cannot be used";
/// A taken handle (as registration answers).
const HANDLE_TAKEN: &str = "this handle is taken";

impl Service {
    /// Moves the caller's account to `new_email` after checking their password (a sign-in
    /// attempt: it counts toward the lockout). The old address stops signing in and the new
    /// one starts when this returns, also when it returns `PROJECTION_LAG`. The same address
    /// again changes nothing.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` (`newEmail`), `UNAUTHENTICATED` (wrong password, or locked),
    /// `CONFLICT` (the address is taken).
    pub async fn change_email(&self, caller: &Caller, new_email: &str, password: Zeroizing<String>) -> ApiResult<u64> {
        let email = EmailAddress::parse(new_email).map_err(|e| ApiError::bad("newEmail", e))?;
        self.reauthenticate(caller.user, password).await?;
        let now = OffsetDateTime::now_utc();
        let index = self.index().email(&email);
        let command = AccountCommand::ChangeEmail {
            email: email.expose_secret().to_owned(),
            changed_at: now,
        };
        let committed = self
            .move_claim(caller, ClaimKind::Email, &index, EMAIL_TAKEN, now, command)
            .await?;
        if committed.appended {
            self.record_or_warn(caller.user, AccessEvent::EmailChanged { at: now })
                .await;
        }
        self.settled(&committed).await?;
        Ok(committed.position)
    }

    /// Gives the caller another public handle, under registration's rules (3–24 letters,
    /// digits or underscores starting with a letter, no reserved word, unique whatever the
    /// case). The same handle
    /// again changes nothing.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` (`handle`), `CONFLICT` (taken).
    pub async fn change_handle(&self, caller: &Caller, handle: &str) -> ApiResult<u64> {
        let handle = Handle::parse(handle).map_err(|e| ApiError::bad("handle", e))?;
        let now = OffsetDateTime::now_utc();
        let index = self.index().handle(handle.as_str());
        let command = AccountCommand::ChangeHandle {
            handle: handle.as_str().to_owned(),
            changed_at: now,
        };
        let committed = self
            .move_claim(caller, ClaimKind::Handle, &index, HANDLE_TAKEN, now, command)
            .await?;
        if committed.appended {
            self.record_or_warn(caller.user, AccessEvent::HandleChanged { at: now })
                .await;
        }
        self.settled(&committed).await?;
        Ok(committed.position)
    }

    /// Steps 1–3 of the module doc for `command`, whose event gives the account `index`.
    /// The read models are not waited for: the caller records what it must, then waits.
    async fn move_claim(
        &self,
        caller: &Caller,
        kind: ClaimKind,
        index: &str,
        taken: &str,
        now: OffsetDateTime,
        command: AccountCommand,
    ) -> ApiResult<Committed> {
        let user = caller.user;
        let deadline = tokio::time::Instant::now() + CLAIM_DEADLINE;
        self.claim(kind, index, user, now, taken).await?;
        let appended = self
            .commit::<Account>(&streams::account(user), user, Service::metadata_for(caller), |_| {
                // Checked before every attempt to append: past it, the reservation may be
                // taken over by someone else (see `service::claims`).
                if tokio::time::Instant::now() > deadline {
                    return Err(ApiError::Conflict("the change took too long; try again".into()));
                }
                Ok(command.clone())
            })
            .await;
        let committed = match appended {
            Ok(committed) => committed,
            Err(e) => {
                self.release_claim(kind, index, user).await;
                return Err(e);
            }
        };
        self.settle_claim(kind, index, user, committed.version, now).await?;
        Ok(committed)
    }
}
