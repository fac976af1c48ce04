//! The inactivity check: an account nobody used for the policy's period (730 days unless
//! `--erase-inactive-after` says otherwise) is erased through the one erasure flow
//! (`Cause::Inactivity`; its ledger entry's actor, [`ACTOR`], is the recorded reason), after
//! a notice recorded at least 30 days before: `InactivityNoticeRecorded` on the account, then
//! [`InactivityNotice::notify`] and the e-mail (`mail`). Activity is what
//! `service::activity` records (a sign-in, a refresh, a person's own write); any activity
//! withdraws a notice, and the period starts again.
//!
//! Who: accounts of role `user`, disabled ones included (a person staff disabled is not kept
//! forever either). Staff accounts are exempt, here and in the domain: admins manage them,
//! and an automatic erasure would take away the actor that staff actions and audit entries
//! name. Nobody is erased without a notice whose day has come, so a first run over old
//! accounts, a check that did not run for weeks, or a shorter period notices first and
//! erases 30 days later at the earliest.
//!
//! One runner at a time among the processes sharing the store ([`lock`]); a node finding it
//! taken skips the round. The check is idempotent besides: the domain records one notice per
//! inactive period and refuses an erasure the account is not due for, and a shredded key
//! stays shredded, so runs that overlap or follow a crash notice and erase each account once.
//! Nothing runs while the read-only switch is on.
//!
//! Must not: decide what counts as activity, read the clock inside a run ("today" is given,
//! so an operator and the tests can name the day), or log anything but ids, days and counts.

pub mod lock;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::{Date, OffsetDateTime};
use uuid::Uuid;
use vigil_domain::account::{Account, AccountCommand, InactivityPolicy};
use vigil_eventstore::Metadata;
use vigil_projections::read::{self, InactiveAccount};
use vigil_projections::streams;

use super::Cause;
use crate::service::{ApiError, ApiResult, Service};

/// The actor of the ledger entries, erasure requests and notices the check writes.
pub const ACTOR: &str = "system:inactivity";
/// Default period, in days (about 24 months).
pub const DEFAULT_DAYS: u32 = 730;
/// Accounts looked at per read-model query.
const PAGE: u32 = 500;

/// Where a recorded notice goes next. The notice is an event already when this is called; a
/// crash in between loses the call, not the notice, so a sender that must not miss one
/// should follow `InactivityNoticeRecorded` in the log instead.
pub trait InactivityNotice: Send + Sync {
    /// `person` was told their account is erased on `erase_on` unless they use it before.
    fn notify(&self, person: Uuid, erase_on: Date);
}

/// Logs each notice (ids and days only); the e-mail is queued beside it (`mail`).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotice;

impl InactivityNotice for LogNotice {
    fn notify(&self, person: Uuid, erase_on: Date) {
        tracing::info!(
            subject = %person,
            erase_on = %erase_on,
            "inactivity notice recorded: the account is erased on that day unless used before"
        );
    }
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Notices recorded.
    pub noticed: usize,
    /// Accounts erased.
    pub erased: usize,
    /// Accounts due that the domain refused (used again, or made staff, since they were listed).
    pub kept: usize,
    /// Accounts that failed (logged; the next run tries again).
    pub failed: usize,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// This process ran the check.
    Ran(Report),
    /// Another runner holds the lock; nothing done.
    Busy,
    /// The read-only switch is on; nothing done.
    ReadOnly,
}

enum Look {
    Nothing,
    Noticed,
    Erased,
    Kept,
    Failed,
}

/// Runs the check once as of `today` (see the module).
///
/// # Errors
/// Store and database errors before or between accounts (an account's own failure is
/// counted in the report instead).
pub async fn run_once(
    service: &Service,
    today: Date,
    policy: InactivityPolicy,
    notice: &dyn InactivityNotice,
) -> ApiResult<Outcome> {
    if service.maintenance().read_only().is_some() {
        return Ok(Outcome::ReadOnly);
    }
    let Some(lock) = lock::RunLock::try_take(service.db()).await? else {
        return Ok(Outcome::Busy);
    };
    let report = look_at_everyone(service, today, policy, notice).await;
    lock.release().await;
    report.map(Outcome::Ran)
}

async fn look_at_everyone(
    service: &Service,
    today: Date,
    policy: InactivityPolicy,
    notice: &dyn InactivityNotice,
) -> ApiResult<Report> {
    super::caught_up(service).await?;
    let mut report = Report::default();
    let Some(by) = policy.notice_due_for_last_active_by(today) else {
        return Ok(report);
    };
    let mut after = None;
    loop {
        let page = read::inactive_accounts(service.db(), by, after, PAGE).await?;
        for account in &page {
            match look_at(service, account, today, policy, notice).await {
                Look::Nothing => {}
                Look::Noticed => report.noticed += 1,
                Look::Erased => report.erased += 1,
                Look::Kept => report.kept += 1,
                Look::Failed => report.failed += 1,
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = Some(last.user_id),
            _ => return Ok(report),
        }
    }
}

async fn look_at(
    service: &Service,
    account: &InactiveAccount,
    today: Date,
    policy: InactivityPolicy,
    notice: &dyn InactivityNotice,
) -> Look {
    let person = account.user_id;
    let due = policy
        .erasure_due_for_last_active_by(today)
        .is_some_and(|by| account.last_active_on <= by);
    match account.erase_on {
        Some(erase_on) if erase_on <= today && due => erase(service, person, today, policy).await,
        // A notice is pending and its day has not come (or a longer period now applies).
        Some(_) => Look::Nothing,
        None => record_notice(service, person, today, policy, notice).await,
    }
}

async fn erase(service: &Service, person: Uuid, today: Date, policy: InactivityPolicy) -> Look {
    match service.erase(person, Cause::Inactivity { policy, on: today }).await {
        Ok(receipt) => {
            tracing::info!(
                subject = %person,
                ledger_position = receipt.ledger_position,
                "erased an account nobody used for the inactivity period"
            );
            Look::Erased
        }
        // The domain's refusal: used since the notice, or made staff.
        Err(ApiError::Conflict(_)) => Look::Kept,
        // Erased meanwhile (by the person, an operator or another run).
        Err(ApiError::Forbidden(_) | ApiError::NotFound) => Look::Nothing,
        Err(e) => {
            tracing::warn!(subject = %person, error = e.detail(), "cannot erase an inactive account now; the next run tries again");
            Look::Failed
        }
    }
}

async fn record_notice(
    service: &Service,
    person: Uuid,
    today: Date,
    policy: InactivityPolicy,
    notice: &dyn InactivityNotice,
) -> Look {
    let at = OffsetDateTime::now_utc();
    // The last active day the domain decided on, for the day the notice names.
    let decided_on = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&decided_on);
    let committed = service
        .commit::<Account>(
            &streams::account(person),
            person,
            Metadata::actor(ACTOR),
            move |state| {
                if let Ok(mut seen) = seen.lock() {
                    *seen = state.last_active_on;
                }
                Ok(AccountCommand::RecordInactivityNotice { policy, on: today, at })
            },
        )
        .await;
    match committed {
        Ok(committed) if committed.appended => {
            let last = decided_on.lock().ok().and_then(|last| *last);
            if let Some(erase_on) = last.and_then(|last| policy.erase_on(last, today)) {
                notice.notify(person, erase_on);
                service
                    .mail_notice(person, crate::mail::Notice::Inactivity { erase_on })
                    .await;
            }
            Look::Noticed
        }
        // Used again since the list was read, or a notice already pending.
        Ok(_) => Look::Nothing,
        Err(ApiError::Conflict(_) | ApiError::Forbidden(_) | ApiError::NotFound) => Look::Nothing,
        Err(e) => {
            tracing::warn!(subject = %person, error = e.detail(), "cannot record an inactivity notice now; the next run tries again");
            Look::Failed
        }
    }
}

/// Runs the check now and then every `every` until the service stops.
pub fn spawn(
    service: Service,
    policy: InactivityPolicy,
    every: Duration,
    notice: Arc<dyn InactivityNotice>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let today = OffsetDateTime::now_utc().date();
            match run_once(&service, today, policy, notice.as_ref()).await {
                Ok(Outcome::Ran(report)) if report == Report::default() => {
                    tracing::debug!("inactivity check: nothing to do");
                }
                Ok(Outcome::Ran(report)) => tracing::info!(
                    noticed = report.noticed,
                    erased = report.erased,
                    kept = report.kept,
                    failed = report.failed,
                    "inactivity check"
                ),
                Ok(outcome) => tracing::debug!(?outcome, "inactivity check skipped"),
                Err(e) => tracing::warn!(error = e.detail(), "the inactivity check failed; trying again later"),
            }
            tokio::time::sleep(every).await;
        }
    })
}
