//! The `eventsync` command line: a thin shell over the library crates.

mod changes;
mod commands;
mod config_commands;
mod config_workbook;
mod demo;
mod exit;
mod failure;
mod imis;
mod import;
mod serve;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Syncs allocate and free many small JSON nodes per record; glibc's allocator spends a third of
// the CPU on that churn, mimalloc a fraction of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps an event's people and agenda in sync between registration platforms and the systems
/// that use them.
#[derive(Parser)]
#[command(name = "eventsync", version, about, after_help = exit::HELP)]
struct Cli {
    /// The configuration file [default: eventsync.toml].
    #[arg(long, global = true, env = "EVENTSYNC_CONFIG")]
    config: Option<PathBuf>,
    /// The workspace database: a SQLite file path or a postgres:// URL (default: the config's
    /// `database`, else eventsync.sqlite beside the config file).
    #[arg(
        long,
        global = true,
        env = "EVENTSYNC_DATABASE",
        hide_env_values = true
    )]
    database: Option<String>,
    /// Print machine-readable JSON instead of text; a failure is then the API's error body,
    /// {"error": {"code", "message"}}, on stderr.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the whole job on the built-in Cvent sandbox: check, preview, sync, changes, incremental sync.
    Demo(demo::DemoArgs),
    /// Verifies a connection: credentials, scopes per data type, event code and quota left.
    Check(commands::CheckArgs),
    /// Shows what a sync would change, writing nothing.
    Preview(commands::RunArgs),
    /// Pulls changes from the vendor into the workspace.
    Sync(commands::RunArgs),
    /// Per connection and data type: last sync, records, last run result, calls used today, and
    /// the vendor's total against the workspace's with the difference explained.
    Status,
    /// Test-imports a CSV export of the vendor's registration report: a preview, then with
    /// --apply the records.
    Import(import::ImportArgs),
    /// Prints workspace records of one data type.
    Export(commands::ExportArgs),
    /// Lists past runs, newest first.
    Runs(commands::RunsArgs),
    /// Serves the REST API, sends writes back to vendors, takes webhooks in, runs auto syncs.
    Serve(serve::ServeArgs),
    /// Lists the writes waiting for, sent to or refused by vendors.
    Outbox(serve::OutboxArgs),
    /// Prints the workspace's change feed: every change applied, oldest first, from a position.
    Changes(changes::ChangesArgs),
    /// Works with an association's iMIS site: imports the event with its sessions.
    #[command(subcommand)]
    Imis(imis::ImisCommand),
    /// Manages API bearer tokens.
    #[command(subcommand)]
    Token(serve::TokenCommand),
    /// Runs a vendor sandbox: a local simulator of a vendor API, for tests and rehearsals.
    Simulate(simulate::SimulateArgs),
    /// Describes the configuration file.
    #[command(subcommand)]
    Config(config_commands::ConfigCommand),
    /// Manages the secrets stored encrypted in the configuration file.
    #[command(subcommand)]
    Secrets(config_commands::SecretsCommand),
}

/// What is logged unless `EVENTSYNC_LOG` says otherwise: warnings, but not sqlx's notes of
/// statements that took over a second. In a sync those are commits waiting while the WAL is
/// copied into the database file, which is expected and asks nothing of whoever reads them.
const DEFAULT_LOG: &str = "warn,sqlx::query=error";

/// What the demo logs: it prints what the server it runs does, refusals included.
const DEMO_LOG: &str = "error";

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Read from the words themselves: clap has not parsed them when it refuses them, and
    // `simulate` has a `--json` of its own.
    let json = failure::json_requested(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => return refuse_command_line(&error, json),
    };
    // The demo explains what happens itself: the server it runs inside logs errors only.
    let default_log = match cli.command {
        Command::Demo(_) => DEMO_LOG,
        _ => DEFAULT_LOG,
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EVENTSYNC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_log)),
        )
        .with_writer(std::io::stderr);
    // Under `--json` a log line is a JSON object too, so stderr stays one object a line.
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
    if matches!(
        cli.command,
        Command::Status
            | Command::Export(_)
            | Command::Runs(_)
            | Command::Config(_)
            | Command::Changes(_)
            | Command::Imis(_)
    ) {
        end_quietly_when_stdout_closes();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            let failure = failure::Failure::of(
                &anyhow::Error::new(error).context("could not start the async runtime"),
            );
            failure.print(json);
            return ExitCode::from(failure.exit);
        }
    };
    let global = commands::Global {
        config_given: cli.config.is_some(),
        config: cli
            .config
            .unwrap_or_else(|| PathBuf::from("eventsync.toml")),
        database: cli.database,
        json: cli.json,
        stores: Default::default(),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => demo::run(args).await,
            Command::Check(args) => commands::check(&global, args).await,
            Command::Preview(args) => commands::run(&global, args, engine::RunKind::Preview).await,
            Command::Sync(args) => commands::run(&global, args, engine::RunKind::Sync).await,
            Command::Status => commands::status(&global).await,
            Command::Import(args) => import::import(&global, args).await,
            Command::Export(args) => commands::export(&global, args).await,
            Command::Runs(args) => commands::runs(&global, args).await,
            Command::Serve(args) => serve::serve(&global, args).await,
            Command::Outbox(args) => serve::outbox(&global, args).await,
            Command::Changes(args) => changes::changes(&global, args).await,
            Command::Imis(command) => imis::run(&global, command).await,
            Command::Token(command) => serve::token(&global, command).await,
            Command::Simulate(args) => simulate::run(args).await.map(|()| exit::SUCCESS),
            Command::Config(command) => config_commands::config(&global, command),
            Command::Secrets(command) => config_commands::secrets(&global, command),
        }
    });
    runtime.block_on(global.close_stores());
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let failure = failure::Failure::of(&error);
            failure.print(json);
            ExitCode::from(failure.exit)
        }
    }
}

/// A command line clap cannot read. Help and the version are printed as asked, whatever else the
/// line holds; a mistake is explained as clap explains it, or under `--json` as the API's error
/// body, and exits with USAGE (2) either way.
fn refuse_command_line(error: &clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;

    let shown = matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    if shown || !json {
        let _ = error.print();
        return ExitCode::from(if shown { exit::SUCCESS } else { exit::USAGE });
    }
    let failure = failure::Failure::usage(error);
    failure.print(true);
    ExitCode::from(failure.exit)
}

/// Lets SIGPIPE end the process, as it ends other command-line tools, for the commands whose
/// output is data to pipe on (`eventsync export people | head`): when the reader goes away they
/// stop quietly instead of panicking in `println!` or reporting a write error. Rust ignores the
/// signal by default, which the commands that talk to vendors or serve keep: there a closed
/// connection must be an error handled, not the end of the process.
fn end_quietly_when_stdout_closes() {
    #[cfg(unix)]
    // SAFETY: called before the runtime starts, while the process has a single thread;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
