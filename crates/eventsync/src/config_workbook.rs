//! `eventsync config export` and `eventsync config import`: one connection's configuration as
//! an XLSX workbook, to read and edit in a spreadsheet and bring back.

use std::path::PathBuf;

use clap::Args;
use engine::workbook::{self, ImportPlan};

use crate::commands::Global;
use crate::exit;

#[derive(Args)]
pub struct ExportArgs {
    /// The connection's name in the configuration.
    connection: String,
    /// The workbook to write: a `connection` sheet (never secrets) and one sheet per data type.
    #[arg(long, value_name = "FILE")]
    xlsx: PathBuf,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The connection's name in the configuration.
    connection: String,
    /// A workbook written by `eventsync config export`, edited or not.
    #[arg(long, value_name = "FILE")]
    xlsx: PathBuf,
    /// Rewrite the configuration file with the changes (without it, only show them).
    #[arg(long)]
    apply: bool,
}

pub fn export(global: &Global, args: ExportArgs) -> anyhow::Result<u8> {
    let config = global.load()?;
    crate::commands::connection(&config, &args.connection)?;
    workbook::export(&config, &args.connection, &args.xlsx)?;
    if global.json {
        println!(
            "{}",
            serde_json::json!({"connection": args.connection, "workbook": args.xlsx})
        );
    } else {
        println!(
            "Wrote the configuration of '{}' to {}: one sheet per data type and a connection sheet; secrets stay in {}.",
            args.connection,
            args.xlsx.display(),
            config.path.display()
        );
        println!(
            "Edit it, then run `eventsync config import {} --xlsx {}` to see what changes.",
            args.connection,
            args.xlsx.display()
        );
    }
    Ok(exit::SUCCESS)
}

pub fn import(global: &Global, args: ImportArgs) -> anyhow::Result<u8> {
    let config = global.load()?;
    crate::commands::connection(&config, &args.connection)?;
    let plan = workbook::plan_import(&config, &args.connection, &args.xlsx, &|name| {
        std::env::var(name).ok()
    })?;
    if args.apply {
        workbook::apply(&plan, &config.path)?;
    }
    if global.json {
        println!(
            "{}",
            serde_json::json!({
                "connection": args.connection,
                "changes": plan.changes,
                "applied": args.apply && !plan.changes.is_empty(),
                "warnings": plan.warnings,
            })
        );
    } else {
        print_plan(&plan, &args, &config.path);
    }
    Ok(exit::SUCCESS)
}

fn print_plan(plan: &ImportPlan, args: &ImportArgs, path: &std::path::Path) {
    if plan.changes.is_empty() {
        println!(
            "{} holds the configuration of '{}' as {} has it: nothing to change.",
            args.xlsx.display(),
            args.connection,
            path.display()
        );
        return;
    }
    println!(
        "Changes from {} to connection '{}':",
        args.xlsx.display(),
        args.connection
    );
    for change in &plan.changes {
        println!("  {change}");
    }
    for warning in &plan.warnings {
        println!("  warning: {warning}");
    }
    if args.apply {
        println!(
            "Wrote {} ({} change(s)); comments and secrets are kept.",
            path.display(),
            plan.changes.len()
        );
    } else {
        println!(
            "Nothing was written. Run the same command with --apply to write {}.",
            path.display()
        );
    }
}
