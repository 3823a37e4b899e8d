//! `eventsync import`: a test import of a CSV export of the vendor's registration report. A
//! preview always comes first; only `--apply` (or `--yes`) stores the records.

use std::path::PathBuf;

use clap::Args;
use engine::ConfigError;
use engine::import::{ImportError, ImportOptions, ImportReport};

use crate::commands::{Global, print_report, split_report};
use crate::exit;

#[derive(Args)]
pub struct ImportArgs {
    /// The connection whose mapping, data labels and rules the file goes through.
    connection: String,
    /// The data type the rows are (one; default people).
    #[arg(long, default_value = "people")]
    types: String,
    /// The CSV file: a heading row (a registration report's headings, vendor paths, data labels
    /// or their questions' texts, workspace fields), then a row per record.
    #[arg(long)]
    csv: PathBuf,
    /// Write the preview's CSV report: one row per record with its action and reason.
    #[arg(long)]
    report: Option<PathBuf>,
    /// After the preview, store the records in the workspace.
    #[arg(long, visible_alias = "yes")]
    apply: bool,
}

pub async fn import(global: &Global, args: ImportArgs) -> anyhow::Result<u8> {
    let config = global.load()?;
    let connection = crate::commands::connection(&config, &args.connection)?;
    let types: Vec<String> = args.types.split(',').map(str::to_string).collect();
    let data_types =
        engine::config::parse_data_types(&types, &connection.data_types, &connection.name)?;
    let [data_type] = data_types.as_slice() else {
        return Err(ConfigError(format!(
            "--types takes one data type for a CSV file, not '{}'",
            args.types
        ))
        .into());
    };
    let store = global.store(Some(&config)).await?;
    let mut options = ImportOptions {
        data_type: *data_type,
        csv: args.csv.clone(),
        report: args.report.clone(),
        apply: false,
    };
    let preview = run(&store, connection, &options).await?;
    split_report(args.report.as_deref(), preview.run.report_rows)?;
    let mut outcomes = vec![preview];
    if args.apply {
        options.apply = true;
        options.report = None;
        outcomes.push(run(&store, connection, &options).await?);
    }
    store.close().await;
    if global.json {
        // Each run's report as `preview --json` and `sync --json` print it.
        let mut shown = Vec::new();
        for outcome in &outcomes {
            let mut one = serde_json::to_value(outcome)?;
            one["run"] = crate::commands::run_report_json(&outcome.run);
            shown.push(one);
        }
        println!("{}", serde_json::Value::Array(shown));
    } else {
        for outcome in &outcomes {
            print(outcome, &connection.name, &args);
        }
    }
    Ok(exit::SUCCESS)
}

async fn run(
    store: &store::Store,
    connection: &engine::Connection,
    options: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    engine::import::import(store, connection, options)
        .await
        .map_err(|error| match error {
            // The file is the user's to fix, as a configuration is.
            ImportError::Read { .. } | ImportError::Unusable { .. } => {
                anyhow::Error::new(ConfigError(error.to_string()))
            }
            ImportError::Engine(engine::EngineError::Config(message)) => {
                anyhow::Error::new(ConfigError(message))
            }
            other => anyhow::Error::new(other),
        })
}

fn print(outcome: &ImportReport, connection: &str, args: &ImportArgs) {
    if !outcome.run.kind.ends_with("preview") {
        print_report(&outcome.run, connection, None);
        return;
    }
    println!("{}: {} rows", args.csv.display(), outcome.rows);
    for column in &outcome.columns {
        println!("  column {:?}: {}", column.heading, column.matched);
    }
    if outcome.ids_made > 0 {
        println!(
            "  {} rows without an id were given one made from their confirmation number or \
             email (file-confirmation-…, file-email-…): importing the file again updates them",
            outcome.ids_made
        );
    }
    for warning in &outcome.warnings {
        println!("  warning: {warning}");
    }
    print_report(&outcome.run, connection, args.report.as_deref());
}
