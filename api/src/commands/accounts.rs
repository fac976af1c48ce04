//! `vigil accounts erase-inactive`: the inactivity check (see `erasure::inactivity`) run once
//! from the server's shell, through the same stack and lock as the servers' hourly run, so it
//! is safe beside running servers (and beside another copy of itself). `--today` names the
//! day it judges by: an operator's "what happens on that day, now", and the tests' clock.
//! Must not hold rules of its own: it prints what the check did.

use std::process::ExitCode;

use time::OffsetDateTime;

use crate::cli::{AccountsCommand, StoreArgs};
use crate::erasure::inactivity::{self, LogNotice, Outcome};

pub async fn run(args: &StoreArgs, cmd: AccountsCommand) -> anyhow::Result<ExitCode> {
    let AccountsCommand::EraseInactive(cmd) = cmd;
    let policy = cmd.inactivity.policy()?;
    let today = cmd.today.unwrap_or_else(|| OffsetDateTime::now_utc().date());
    let (store, stack) = super::open_stack(args).await?;
    if cmd.queue_mail {
        stack.service.set_mail(crate::mail::Mail::for_commands(&store).await?);
    }
    let outcome = inactivity::run_once(&stack.service, today, policy, &LogNotice).await;
    stack.close().await;
    store.close().await;
    let outcome = outcome.map_err(|e| match e {
        // The operator is told the cause a client would only get an id for.
        crate::service::ApiError::Internal(cause) => cause,
        other => anyhow::anyhow!("{other}"),
    })?;
    match outcome {
        Outcome::Ran(report) => {
            println!(
                "inactivity check as of {today} (erase after {} days): {} noticed, {} erased, {} kept, {} failed",
                policy.days(),
                report.noticed,
                report.erased,
                report.kept,
                report.failed
            );
            if report.failed > 0 {
                eprintln!("error: some accounts failed (see the log); run the check again");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Busy => {
            println!("another process is running the inactivity check; nothing done");
            Ok(ExitCode::SUCCESS)
        }
        Outcome::ReadOnly => {
            eprintln!("error: the read-only switch is on; nothing done");
            Ok(ExitCode::FAILURE)
        }
    }
}
