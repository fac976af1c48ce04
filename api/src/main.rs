//! The `vigil` binary. Thin: parse the command line, set up logging, run the command, and turn
//! any failure into one clear line on stderr and a non-zero exit (never a panic).

mod access;
mod audit;
mod auth;
mod backup;
mod bench;
mod checkpoint;
mod cli;
mod cluster;
mod commands;
mod erasure;
mod export;
mod failpoint;
mod feed;
mod graphql;
mod idempotency;
mod limits;
mod mail;
mod maintenance;
mod master_key;
mod metrics;
mod privacy;
mod server;
mod service;
mod witness;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // A server logs its lifecycle at info; one-shot commands stay quiet unless asked.
    let (default_level, json) = match &cli.command {
        cli::Command::Serve(args) => ("info", args.log_format == "json"),
        _ => ("warn", false),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG").unwrap_or_else(|_| default_level.into());
    // Colour codes only on a terminal: redirected to a file they are noise in every line.
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter);
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without duplicates.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace('\n', " ")
}
