//! `vigil staff …`: staff accounts and locks from the server's shell. Opens the same stack
//! `serve` runs (with its own projection runner, safe beside a running server), makes the
//! change through the same service code as an admin's mutation, with actor `system:cli`.
//! Must not print a password or an email.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use time::OffsetDateTime;
use vigil_domain::account::Role;
use zeroize::Zeroizing;

use crate::access::{StaffActor, StaffChange};
use crate::cli::{StaffCommand, StoreArgs};
use crate::service::Service;

pub async fn run(args: &StoreArgs, cmd: StaffCommand) -> anyhow::Result<ExitCode> {
    let (store, stack) = super::open_stack(args).await?;
    let result = act(&stack.service, cmd).await;
    stack.close().await;
    store.close().await;
    result
}

fn role(name: &str) -> anyhow::Result<Role> {
    Role::parse(name.trim()).with_context(|| format!("unknown role {name:?}; use user, support, auditor or admin"))
}

fn read_password() -> anyhow::Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for the new account (one line): ");
        std::io::stderr().flush()?;
    }
    let mut line = Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

async fn act(svc: &Service, cmd: StaffCommand) -> anyhow::Result<ExitCode> {
    // Read models this process serves from must include everything already in the log.
    svc.settle(svc.store().head_position().await?).await?;
    let actor = StaffActor::Cli;
    match cmd {
        StaffCommand::Add {
            email,
            role: name,
            handle,
            reason,
        } => {
            let role = role(&name)?;
            if !role.is_staff() {
                bail!("`staff add` makes staff accounts: use support, auditor or admin");
            }
            let password = read_password()?;
            let (user, _) = svc
                .create_account(&email, password, handle, Role::User, OffsetDateTime::now_utc())
                .await?;
            svc.change_account(&actor, user, StaffChange::Role(role), &reason)
                .await?;
            let account = svc.account_by_handle_or_id(user).await?;
            println!(
                "created {} account {} (id {user}); it must enrol TOTP at its first sign-in",
                role.name(),
                account.handle
            );
        }
        StaffCommand::Role {
            handle,
            role: name,
            reason,
        } => {
            let role = role(&name)?;
            let target = svc.account_by_handle(&handle).await?;
            svc.change_account(&actor, target.user_id, StaffChange::Role(role), &reason)
                .await?;
            println!("{} is now {}; their sessions ended", target.handle, role.name());
        }
        StaffCommand::Disable { handle, reason } => {
            let target = svc.account_by_handle(&handle).await?;
            svc.change_account(&actor, target.user_id, StaffChange::Disable, &reason)
                .await?;
            println!("{} is disabled; their sessions ended", target.handle);
        }
        StaffCommand::Enable { handle, reason } => {
            let target = svc.account_by_handle(&handle).await?;
            svc.change_account(&actor, target.user_id, StaffChange::Enable, &reason)
                .await?;
            println!("{} is enabled", target.handle);
        }
        StaffCommand::Unlock { handle, reason } => {
            let target = svc.account_by_handle(&handle).await?;
            if svc.unlock_account(&actor, target.user_id, &reason).await? {
                println!("{} is unlocked", target.handle);
            } else {
                println!("{} was not locked", target.handle);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
