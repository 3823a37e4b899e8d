//! The `eventsync` command line: a thin shell over the library crates.

mod demo;
mod simulate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keeps an event's people and agenda in sync between registration platforms and the systems
/// that use them.
#[derive(Parser)]
#[command(name = "eventsync", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a guided tour on the built-in Cvent sandbox, with no setup.
    Demo(demo::DemoArgs),
    /// Runs a vendor sandbox: a local simulator of a vendor API, for tests and rehearsals.
    Simulate(simulate::SimulateArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EVENTSYNC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => demo::run(args).await,
            Command::Simulate(args) => simulate::run(args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
