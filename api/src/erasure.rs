//! Erasing a person: one flow for every cause (the person's own `deleteMyAccount`, an
//! operator's `vigil keys shred`, the inactivity check, a resumed erasure after a crash), so
//! each gets the same guarantees.
//!
//! Steps, each safe to repeat, in an order where a crash between any two leaves either a
//! person untouched but signed out, or one who cannot sign in and whose erasure finishes at the
//! next start (`resume`):
//! 1. every session ends, on every server (as a revocation, see `cluster::revocations`);
//! 2. the request is recorded on the account (`ErasureRequested`): from here sign-in answers as
//!    for an unknown account, and `resume` will find the person;
//! 3. the data key is shredded: the erasure ledger gets its entry (who asked is the entry's
//!    actor, and so the reason: `user:<id>` for the person's own request, `system:cli` for an
//!    operator, `system:inactivity` for an account nobody used for the inactivity period,
//!    `system:resume` for an erasure finished after a crash, whose first cause stays readable as
//!    the actor of the account's `ErasureRequested` envelope, kept in clear), and every version
//!    of the key is destroyed, so the person's events read as erased in every copy of the log;
//! 4. the read models apply the ledger entry: the person's rows, sessions, refresh tokens and
//!    identity claims (the email's blind index: the address can register again) are deleted,
//!    and every server's caches forget them as their projections pass the entry.
//!
//! For inactivity the request of step 2 is the domain's `RequestErasureForInactivity`, which
//! refuses a person who used the account since their notice, atomically with its append; the
//! same rule is checked once before step 1, so such a person is not even signed out.
//!
//! Owns: the order of those steps and the receipt. Must not: decide who may erase whom (the
//! caller proves it: the person re-authenticated, or an operator holds the keys), or keep
//! anything about the person (the receipt names the ledger position, not the person's data).

pub mod inactivity;
pub mod resume;

use time::{Date, OffsetDateTime};
use uuid::Uuid;
use vigil_domain::account::{Account, AccountCommand, InactivityPolicy};
use vigil_domain::aggregate::Aggregate;
use vigil_eventstore::Metadata;
use vigil_projections::{read, streams};
use zeroize::Zeroizing;

use crate::access::SecondFactorProof;

/// How long a job waits for the read models to reach the log's head before it looks at them.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(300);

/// Waits until the read models include everything the log held when called, so the jobs
/// (`resume`, `inactivity`) decide on what the log says, not on a read side still replaying.
///
/// # Errors
/// Store errors; `PROJECTION_LAG` after [`CATCH_UP`].
async fn caught_up(service: &Service) -> ApiResult<()> {
    let head = service.store().head_position().await?;
    service.runner().wait_for(head, CATCH_UP).await.map_err(ApiError::from)
}
use crate::service::{ApiError, ApiResult, Caller, Service, sessions};

/// Who set an erasure going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The person, re-authenticated.
    Requested,
    /// An operator, from the command line.
    Operator,
    /// A server finishing an erasure that a crash interrupted.
    Resumed,
    /// A backup restore re-applying the erasure ledger kept apart from the backups.
    Restored,
    /// The inactivity check (`inactivity`): nobody used the account for the policy's period
    /// as of `on`, and a notice named `on` or an earlier day.
    Inactivity {
        /// The period in force.
        policy: InactivityPolicy,
        /// Today, as the check reads it.
        on: Date,
    },
}

impl Cause {
    fn actor(self, person: Uuid) -> String {
        match self {
            Cause::Requested => format!("user:{person}"),
            Cause::Operator => "system:cli".to_owned(),
            Cause::Resumed => "system:resume".to_owned(),
            Cause::Restored => "system:restore".to_owned(),
            Cause::Inactivity { .. } => inactivity::ACTOR.to_owned(),
        }
    }

    /// The request recorded on the account (step 2).
    fn request(self, now: OffsetDateTime) -> AccountCommand {
        match self {
            Cause::Inactivity { policy, on } => AccountCommand::RequestErasureForInactivity {
                policy,
                on,
                requested_at: now,
            },
            _ => AccountCommand::RequestErasure { requested_at: now },
        }
    }
}

impl Service {
    /// The address and handle an erasure confirmation goes to, when this server sends mail
    /// and the person has an account whose stream still opens.
    async fn farewell_address(&self, person: Uuid) -> Option<(Zeroizing<String>, String)> {
        self.mail()?;
        let (state, _) = self.catch_up::<Account>(&streams::account(person), None).await.ok()?;
        let email = state.email?;
        let handle = state.handle?;
        Some((
            Zeroizing::new(email.expose_secret().to_owned()),
            handle.as_str().to_owned(),
        ))
    }
}

/// What an erasure leaves to prove it happened.
#[derive(Debug, Clone, Copy)]
pub struct Receipt {
    /// The erased person (their id is not personal data once their key is gone).
    pub subject: Uuid,
    /// The erasure ledger's entry for them.
    pub ledger_position: u64,
    /// Versions of their data key destroyed by this run (0 when an earlier run had).
    pub keys_destroyed: u64,
    /// When the flow finished.
    pub erased_at: OffsetDateTime,
    /// Whether the read models had applied the entry when the flow answered (they do so at
    /// their own pace when they lag; the log and keys are erased either way).
    pub read_models_purged: bool,
}

impl Service {
    /// The person's own erasure: their password again, and their second factor when they have
    /// one, then the whole flow.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a wrong password or a missing or wrong second factor (nothing is
    /// erased); the flow's errors.
    pub async fn delete_my_account(
        &self,
        caller: &Caller,
        password: Zeroizing<String>,
        second_factor: Option<SecondFactorProof>,
    ) -> ApiResult<Receipt> {
        let stored = read::password_hash(self.db(), caller.user).await?;
        let verification = self
            .passwords()
            .verify(password, stored)
            .await
            .map_err(ApiError::internal)?;
        if !verification.matched {
            return Err(ApiError::Unauthenticated("the password is wrong"));
        }
        if self.has_second_factor(caller.user).await? {
            let Some(proof) = second_factor else {
                return Err(ApiError::Unauthenticated(
                    "two-factor sign-in is on: give a current code or a recovery code",
                ));
            };
            self.check_second_factor(caller.user, &proof, OffsetDateTime::now_utc())
                .await?;
        }
        self.erase(caller.user, Cause::Requested).await
    }

    /// Erases `person` (see the module). Repeating it is harmless: a shredded person answers
    /// with their original ledger entry.
    ///
    /// # Errors
    /// `NOT_FOUND` for someone who never had an account when the person asked (an operator may
    /// shred any subject); `CONFLICT` for an inactivity erasure the account is not due for
    /// (nothing is erased); store and database errors (the flow is then resumed at the next start
    /// when its request was recorded).
    pub async fn erase(&self, person: Uuid, cause: Cause) -> ApiResult<Receipt> {
        let now = OffsetDateTime::now_utc();
        let metadata = Metadata::actor(cause.actor(person));
        let stream = streams::account(person);
        if let Cause::Inactivity { .. } = cause {
            let (state, _) = self.catch_up::<Account>(&stream, None).await?;
            Account::decide(&state, cause.request(now))?;
        }
        // The confirmation's address and handle, read while the person's key still opens
        // them (a resumed erasure has lost them with its first run; a restore's re-applied
        // erasure was confirmed when it first happened).
        let farewell = match cause {
            Cause::Resumed | Cause::Restored => None,
            _ => self.farewell_address(person).await,
        };
        sessions::revoke_all(self.db(), self.live(), person, "erasure", now).await?;
        let requested = self
            .commit::<Account>(&stream, person, metadata.clone(), |_| Ok(cause.request(now)))
            .await;
        match requested {
            Ok(_) => {}
            // Already shredded: its events read as erased; the steps below answer from the ledger.
            Err(ApiError::Forbidden(_)) => {}
            // Not an account (an operator shredding some other subject).
            Err(ApiError::NotFound) if matches!(cause, Cause::Operator | Cause::Resumed | Cause::Restored) => {}
            Err(e) => return Err(e),
        }
        crate::failpoint::hit("erasure-after-request");
        let report = self.store().shred(person, metadata).await?;
        crate::metrics::record::erased();
        if report.keys_destroyed > 0
            && let Some((to, handle)) = farewell
        {
            self.mail_erasure_confirmation(to, handle).await;
        }
        crate::failpoint::hit("erasure-after-shred");
        let read_models_purged = match self.settle(report.ledger_position).await {
            // The runner that applied the entry may be another server's, still vacuuming when
            // this one sees the rows gone: the answer waits for a purge of its own, so "purged"
            // also means no table or index file keeps the deleted rows (ADR 0008).
            Ok(()) => {
                self.db().purge_erased_files().await?;
                true
            }
            Err(ApiError::ProjectionLag { .. }) => false,
            Err(e) => return Err(e),
        };
        Ok(Receipt {
            subject: person,
            ledger_position: report.ledger_position,
            keys_destroyed: report.keys_destroyed,
            erased_at: OffsetDateTime::now_utc(),
            read_models_purged,
        })
    }
}
