//! `vigil maintenance …`: the read-only switch from the server's shell. Opens the same stack
//! `serve` runs and flips the switch through the same code as an admin's mutation, with
//! actor `system:cli`; running servers see it within a second (at once on Postgres).

use std::process::ExitCode;

use anyhow::bail;

use crate::cli::{MaintenanceCommand, StoreArgs};
use crate::maintenance::flip;
use crate::server::Stack;

/// The reason recorded when switching off without one.
const OFF_REASON: &str = "switched off from the server's command line";

pub async fn run(args: &StoreArgs, cmd: MaintenanceCommand) -> anyhow::Result<ExitCode> {
    let (store, stack) = super::open_stack(args).await?;
    let result = act(&stack, cmd).await;
    stack.close().await;
    store.close().await;
    result
}

async fn act(stack: &Stack, cmd: MaintenanceCommand) -> anyhow::Result<ExitCode> {
    let svc = &stack.service;
    match cmd {
        MaintenanceCommand::ReadOnly { state, reason } => {
            let on = state == "on";
            let reason = match (on, reason) {
                (_, Some(reason)) => reason,
                (false, None) => OFF_REASON.to_owned(),
                (true, None) => bail!("say why with --reason (it is recorded)"),
            };
            let position = flip(svc, on, "system:cli".into(), &reason)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "read-only mode {} (log position {position}); every server follows within a second",
                if on {
                    "ON: mutations are refused"
                } else {
                    "OFF: mutations are accepted"
                }
            );
        }
        MaintenanceCommand::Status => match svc.maintenance().read_only() {
            Some(r) => println!(
                "read-only since {} by {}: {}",
                r.since
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                r.by,
                r.reason
            ),
            None => println!("accepting writes (read-only mode is off)"),
        },
    }
    Ok(ExitCode::SUCCESS)
}
