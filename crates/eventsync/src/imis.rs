//! `eventsync imis …`: what goes to an association's iMIS site on request rather than through
//! the change feed. `import-event` previews the connection's event as an iMIS Event with its
//! sessions as Functions and, with `--apply`, writes it.

use clap::{Args, Subcommand};
use destinations::imis::meeting::{
    Action, MeetingError, MeetingImport, MeetingOutcome, MeetingPlan,
};
use engine::ConfigError;

use crate::commands::Global;
use crate::exit;

#[derive(Subcommand)]
pub enum ImisCommand {
    /// Previews the connection's event as an iMIS Event with its sessions as Functions, read
    /// from the workspace (sync first); with --apply, creates or updates it in iMIS.
    ImportEvent(ImportEventArgs),
}

#[derive(Args)]
pub struct ImportEventArgs {
    /// The source connection, whose [connections.imis] names the iMIS site.
    connection: String,
    /// Write the event to iMIS after showing what changes.
    #[arg(long)]
    apply: bool,
}

pub async fn run(global: &Global, command: ImisCommand) -> anyhow::Result<u8> {
    match command {
        ImisCommand::ImportEvent(args) => import_event(global, args).await,
    }
}

async fn import_event(global: &Global, args: ImportEventArgs) -> anyhow::Result<u8> {
    let config = global.load()?;
    crate::commands::connection(&config, &args.connection)?;
    let import =
        MeetingImport::new(&config, &args.connection, Default::default()).map_err(to_anyhow)?;
    let store = global.store(Some(&config)).await?;
    let plan = import.plan(&store).await.map_err(to_anyhow)?;
    let outcome = if args.apply {
        Some(import.apply(&plan).await.map_err(to_anyhow)?)
    } else {
        None
    };
    if global.json {
        println!("{}", serde_json::json!({"plan": plan, "outcome": outcome}));
    } else {
        print_plan(&plan);
        match outcome {
            Some(outcome) => print_outcome(&plan, &outcome),
            None if plan.is_unchanged() => {
                println!("iMIS holds the event as the workspace has it: nothing to write.")
            }
            None => println!(
                "Nothing was written. Run `eventsync imis import-event {} --apply` to write it to iMIS.",
                plan.connection
            ),
        }
    }
    Ok(exit::SUCCESS)
}

/// Configuration mistakes exit with USAGE, as for every command; the rest with FAILURE.
fn to_anyhow(error: MeetingError) -> anyhow::Error {
    match error {
        MeetingError::Config(message) => ConfigError(message).into(),
        other => other.into(),
    }
}

fn print_plan(plan: &MeetingPlan) {
    println!(
        "iMIS event {} on site '{}', from connection '{}': {}",
        plan.event_id,
        plan.site,
        plan.connection,
        plan.action.as_str()
    );
    println!("  name   {}", plan.event.name);
    println!(
        "  dates  {} to {}",
        plan.event.start.as_deref().unwrap_or("(none)"),
        plan.event.end.as_deref().unwrap_or("(none)")
    );
    println!("         {}", plan.dates.note);
    if !plan.changes.is_empty() {
        println!("  changed: {}", plan.changes.join(", "));
    }
    let counts = &plan.counts;
    println!(
        "  functions: {} to create, {} to update, {} unchanged, {} kept in iMIS",
        counts.create, counts.update, counts.unchanged, counts.kept_in_imis
    );
    if plan.left_out.hidden > 0 {
        println!(
            "  {} session(s) left out: hidden from the agenda (cancelled at the vendor)",
            plan.left_out.hidden
        );
    }
    for function in &plan.functions {
        if function.action == Action::Unchanged {
            continue;
        }
        let changes = if function.changes.is_empty() {
            String::new()
        } else {
            format!(" ({})", function.changes.join(", "))
        };
        println!(
            "  {:<9} {:<32} {} to {}  {}{changes}",
            function.action.as_str(),
            function.function_id,
            function.start.as_deref().unwrap_or("(no start)         "),
            function.end.as_deref().unwrap_or("(no end)           "),
            function.name,
        );
        if let Some(note) = &function.code_note {
            println!(
                "            session {}: {note}",
                function.session_external_id
            );
        }
    }
    for kept in &plan.kept_in_imis {
        println!(
            "  kept in iMIS {:<32} {} (no session of the workspace has its code)",
            kept.function_id, kept.name
        );
    }
    for warning in &plan.warnings {
        println!("  warning: {warning}");
    }
}

fn print_outcome(plan: &MeetingPlan, outcome: &MeetingOutcome) {
    match outcome.event {
        Action::Create => println!(
            "Created iMIS event {} with {} function(s).",
            plan.event_id, outcome.functions_created
        ),
        Action::Update => println!(
            "Updated iMIS event {}: {} function(s) created, {} updated.",
            plan.event_id, outcome.functions_created, outcome.functions_updated
        ),
        Action::Unchanged => println!(
            "iMIS already held event {} as the workspace has it: nothing was written.",
            plan.event_id
        ),
    }
}
