//! `parta-bench`: Parta's benchmarks, run against a local data directory.
//!
//! Each subcommand measures one thing end to end through the same `storage::Store`
//! methods the server uses and prints a table; BENCHMARKS.md records the figures
//! and the command lines. Nothing is sent anywhere but the local database file.

mod provision;
mod stats;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "parta-bench", version, about = "Benchmarks of Parta against a local data directory")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Automatic chats at region scale: link everyone, reconcile every
    /// organisation from scratch, again (a no-op), then time single changes.
    Provision(provision::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // RUST_LOG=storage=debug shows where each reconciliation spends its time.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result: Result<()> = runtime.block_on(async {
        match cli.command {
            Command::Provision(args) => provision::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
