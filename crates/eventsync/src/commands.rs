//! The commands that work on a configured connection and the workspace.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use engine::{Config, ConfigError, Progress, RunKind, RunOptions, RunReport, RunStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipeline::DataType;
use store::Store;

use crate::exit;

pub struct Global {
    pub config: PathBuf,
    /// Whether the configuration's path was given (`--config` or `EVENTSYNC_CONFIG`) rather
    /// than the default `eventsync.toml`.
    pub config_given: bool,
    pub database: Option<String>,
    pub json: bool,
    /// Every store a command opened, closed by [`Global::close_stores`] however it ended.
    pub stores: std::sync::Mutex<Vec<Store>>,
}

impl Global {
    pub(crate) fn load(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.config)?)
    }

    /// The configuration of a command that needs only the workspace (`runs`, `export`,
    /// `outbox`, `token create`). A configuration that fails to load is an error, as for every
    /// command: carrying on without it would open some other, empty workspace. The one case
    /// that goes without is no configuration at the default path with `--database` given,
    /// which names the workspace itself; a `--config` given and missing is an error.
    pub(crate) fn load_for_workspace(&self) -> anyhow::Result<Option<Config>> {
        if self.database.is_some() && !self.config_given && !self.config.exists() {
            return Ok(None);
        }
        if !self.config_given && !self.config.exists() {
            return Err(ConfigError(format!(
                "there is no {} here: pass --config FILE, or --database URL to open a workspace \
                 without a configuration",
                self.config.display()
            ))
            .into());
        }
        self.load().map(Some)
    }

    /// The database URL: `--database`, else the config's `database`, else a SQLite file beside it.
    fn database_url(&self, config: Option<&Config>) -> String {
        if let Some(url) = &self.database {
            return url.clone();
        }
        let base = self.config.parent().map(PathBuf::from).unwrap_or_default();
        match config.and_then(|c| c.database.clone()) {
            Some(url) if url.contains("://") || url.starts_with("sqlite:") => url,
            Some(path) => base.join(path).display().to_string(),
            None => base.join("eventsync.sqlite").display().to_string(),
        }
    }

    pub(crate) async fn store(&self, config: Option<&Config>) -> anyhow::Result<Store> {
        let url = self.database_url(config);
        let store = Store::open(&url).await?;
        // Every process on one PostgreSQL workspace — servers, and syncs started here — spends
        // each vendor account's rate together.
        server::share_rate_budgets(&store);
        self.stores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(store.clone());
        Ok(store)
    }

    /// Closes the stores the command opened, whether it succeeded or not: SQLite then copies
    /// its write-ahead log into the database file and removes it, so the file alone is the
    /// whole workspace (a copy of it loses nothing).
    pub(crate) async fn close_stores(&self) {
        let stores = std::mem::take(&mut *self.stores.lock().unwrap_or_else(|p| p.into_inner()));
        for store in stores {
            store.close().await;
        }
    }
}

/// The configured connection of that name; a name the configuration does not hold is
/// `not_found`, as the API answers it, and still exits with USAGE.
pub(crate) fn connection<'a>(
    config: &'a Config,
    name: &str,
) -> anyhow::Result<&'a engine::Connection> {
    config.connection(name).map_err(|error| {
        if config.connections.iter().any(|c| c.name == name) {
            anyhow::Error::new(error)
        } else {
            anyhow::Error::new(crate::failure::Refusal::not_found(error.0))
        }
    })
}

#[derive(Args)]
pub struct CheckArgs {
    /// The connection's name in the configuration.
    connection: String,
}

#[derive(Args)]
pub struct RunArgs {
    /// The connection's name in the configuration.
    connection: String,
    /// Data types to run, comma separated (default: every configured one).
    #[arg(long, value_delimiter = ',')]
    types: Vec<String>,
    /// Ignore the saved cursors and list everything, so that every record is mapped again (after
    /// a change to a mapping, say); the first preview or sync of a data type is full anyway.
    #[arg(long)]
    full: bool,
    /// Write a report with one row per record, its workspace values and every vendor field path
    /// as columns: CSV (this file holds every data type, and FILE.<data type>.csv beside it one
    /// each), or an XLSX workbook with a sheet per data type when the name ends in .xlsx.
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The data type to export (people, sessions, speakers, session_registrations, …).
    data_type: String,
    /// Only this connection's records.
    #[arg(long)]
    connection: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Also export sessions hidden from the agenda (cancelled at the vendor).
    #[arg(long)]
    include_hidden: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

#[derive(Args)]
pub struct RunsArgs {
    /// Only this connection's runs.
    #[arg(long)]
    connection: Option<String>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

pub async fn check(global: &Global, args: CheckArgs) -> anyhow::Result<u8> {
    let config = global.load()?;
    let connection = connection(&config, &args.connection)?;
    let report =
        destinations::check_connection(&config, connection, Default::default(), Default::default())
            .await
            .map_err(ConfigError)?;
    if global.json {
        let findings: Vec<_> = report
            .findings
            .iter()
            .map(|f| serde_json::json!({"ok": f.ok, "subject": f.subject, "detail": f.detail}))
            .collect();
        let warnings = &connection.warnings;
        println!(
            "{}",
            serde_json::json!({"connection": connection.name, "ok": report.ok(), "findings": findings, "warnings": warnings})
        );
    } else {
        println!(
            "Checking connection '{}' ({})",
            connection.name,
            connection.kind()
        );
        for finding in &report.findings {
            let mark = if finding.ok { "ok  " } else { "FAIL" };
            println!("  {mark} {:<22} {}", finding.subject, finding.detail);
        }
        for warning in &connection.warnings {
            println!("  warn {warning}");
        }
    }
    Ok(if report.ok() {
        exit::SUCCESS
    } else {
        exit::PARTIAL
    })
}

pub async fn run(global: &Global, args: RunArgs, kind: RunKind) -> anyhow::Result<u8> {
    let config = global.load()?;
    let connection = connection(&config, &args.connection)?;
    let data_types = if args.types.is_empty() {
        connection.data_types.clone()
    } else {
        connection.parse_types(&args.types)?
    };
    let store = global.store(Some(&config)).await?;
    let interrupted = store.interrupt_stale_runs().await?;
    if interrupted > 0 && !global.json {
        println!(
            "Marked {interrupted} run(s) whose process stopped as interrupted; this run resumes their work."
        );
    }
    let options = RunOptions {
        kind,
        data_types,
        full: args.full,
        report: args.report.clone(),
        retry: Default::default(),
    };
    let bars = Bars::new(!global.json);
    // Under the connection's run lease: a second run, from any process, is refused naming this one.
    let timing = engine::LeaseTiming::from_env();
    let report = engine::lease::run(
        &store,
        connection,
        &options,
        &|event| bars.update(event),
        timing,
    )
    .await
    .map_err(|e| match e {
        engine::RunError::Engine(engine::EngineError::Config(message)) => {
            anyhow::Error::new(ConfigError(message))
        }
        other => anyhow::Error::new(other),
    })?;
    bars.clear();
    // Lets the store copy its write-ahead log into the database file before the process ends.
    store.close().await;
    split_report(args.report.as_deref(), report.report_rows)?;
    if global.json {
        println!("{}", run_report_json(&report));
    } else {
        print_report(&report, &connection.name, args.report.as_deref());
    }
    Ok(match report.status {
        RunStatus::Succeeded => exit::SUCCESS,
        RunStatus::PausedQuota => exit::PAUSED,
        RunStatus::Partial => exit::PARTIAL,
        RunStatus::Failed => exit::FAILURE,
    })
}

/// A run's report as `--json` prints it, in the API's vocabulary: every action counted for every
/// data type, zeros included (as `GET /v1/runs/{id}` counts them), and times to the second.
pub fn run_report_json(report: &RunReport) -> serde_json::Value {
    let mut shown = serde_json::json!(report);
    if let Some(types) = shown["types"].as_object_mut() {
        for summary in types.values_mut() {
            let counts = &mut summary["counts"];
            for action in counted_actions() {
                if counts.get(action).is_none() {
                    counts[action] = serde_json::Value::from(0u64);
                }
            }
        }
    }
    if let Some(at) = shown["resets_at"].as_str() {
        shown["resets_at"] = serde_json::Value::String(server::time::seconds(at));
    }
    shown
}

/// The actions a run counts, as the API lists them for every data type of a run.
fn counted_actions() -> impl Iterator<Item = &'static str> {
    pipeline::ActionKind::ALL
        .iter()
        .map(|action| action.as_str())
        .chain([engine::run::SKIPPED, engine::run::FILTERED])
}

/// A data type's monitoring totals, with the time of the count to the second, as the API's
/// `GET /v1/connections/{name}/data-types` shows them.
fn totals_json(totals: &engine::totals::Totals) -> serde_json::Value {
    let mut shown = serde_json::json!(totals);
    if let Some(at) = shown["counted_at"].as_str() {
        shown["counted_at"] = serde_json::Value::String(server::time::seconds(at));
    }
    shown
}

/// Writes each data type's table of a CSV report that a run wrote into a file of its own beside
/// it (`preview.people.csv`); a workbook has a sheet per data type already. The report's index
/// serves the server's viewer, not someone opening the file, so it is not left beside it.
pub fn split_report(report: Option<&std::path::Path>, rows: Option<u64>) -> anyhow::Result<()> {
    if let Some(path) = report {
        let index = engine::report::index_file(path);
        if let Err(error) = std::fs::remove_file(&index)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            anyhow::bail!("removing {}: {error}", index.display());
        }
    }
    match (report, rows) {
        (Some(path), Some(_)) if !engine::report::is_xlsx(path) => {
            engine::report::split_by_type(path).with_context(|| {
                format!("writing the report's tables beside {}", path.display())
            })?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The terminal summary of a run.
pub fn print_report(report: &RunReport, connection: &str, csv: Option<&std::path::Path>) {
    let verb = match report.kind {
        "preview" => "Preview",
        "import-preview" => "Import preview",
        "import" => "Import",
        _ => "Sync",
    };
    println!(
        "{verb} of '{connection}' (run {}): {} in {:.1} s, {} vendor calls",
        report.run_id,
        report.status.as_str().replace('_', " "),
        report.seconds,
        report.api_calls
    );
    println!(
        "  {:<22} {:>11} {:>8} {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6}",
        "data type",
        "mode",
        "create",
        "update",
        "unchanged",
        "cancel",
        "remove",
        "reject",
        "skipped",
        "filtered",
        "calls"
    );
    for (data_type, summary) in &report.types {
        let count = |action: &str| summary.counts.get(action).copied().unwrap_or(0);
        println!(
            "  {:<22} {:>11} {:>8} {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6}",
            data_type,
            summary.mode,
            count("create"),
            count("update"),
            count("unchanged"),
            count("cancel"),
            count("remove"),
            count("reject"),
            count(engine::run::SKIPPED),
            count(engine::run::FILTERED),
            summary.api_calls
        );
        if summary.partitions > 0 {
            println!(
                "      listed in {} parts side by side; the split cost {} calls whose records were listed again",
                summary.partitions, summary.split_calls
            );
        }
        for label in &summary.labels {
            println!("      label {label}");
        }
        for group in &summary.rejected {
            println!("      rejected {group}");
        }
    }
    for warning in &report.warnings {
        println!("  warning: {warning}");
    }
    for error in &report.errors {
        println!("  error: {error}");
    }
    if let Some(at) = &report.resets_at {
        println!("  The vendor's daily quota resets at {at}; run the same command then to resume.");
    }
    if let (Some(path), Some(rows)) = (csv, report.report_rows) {
        if engine::report::is_xlsx(path) {
            println!(
                "  Report: {} ({rows} rows; a sheet per data type)",
                path.display()
            );
        } else {
            println!(
                "  Report: {} ({rows} rows, every data type)",
                path.display()
            );
            for data_type in report.types.keys() {
                let own = engine::report::type_file(path, data_type);
                if own.is_file() {
                    println!("          {} ({data_type} alone)", own.display());
                }
            }
        }
    }
    match report.kind {
        "preview" => println!(
            "  Nothing was written. Run `eventsync sync {connection}` to apply these changes."
        ),
        "import-preview" => println!(
            "  Nothing was written. Run the same command with --apply to import these records."
        ),
        _ => {}
    }
}

/// One progress bar per data type, hidden when output is not a terminal or is JSON.
struct Bars {
    multi: MultiProgress,
    /// Each data type's bar, and its mode, shown again once a wait is over.
    bars: std::sync::Mutex<std::collections::HashMap<DataType, (ProgressBar, &'static str)>>,
}

impl Bars {
    fn new(visible: bool) -> Bars {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            bars: Default::default(),
        }
    }

    fn update(&self, event: Progress) {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Progress::Started { data_type, mode } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {prefix:<22} {wide_bar} {pos}/{len} {per_sec} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(data_type.as_str());
                bar.set_message(mode);
                bar.enable_steady_tick(Duration::from_millis(200));
                bars.insert(data_type, (bar, mode));
            }
            Progress::Page {
                data_type,
                records,
                total,
            } => {
                if let Some((bar, mode)) = bars.get(&data_type) {
                    if let Some(total) = total {
                        bar.set_length(total.max(records));
                    }
                    bar.set_position(records);
                    bar.set_message(*mode);
                }
            }
            Progress::Waiting {
                data_type,
                reason,
                seconds,
            } => {
                if let Some((bar, _)) = bars.get(&data_type) {
                    bar.set_message(format!("waiting {seconds} s: {reason}"));
                }
            }
            Progress::Finished { data_type } => {
                if let Some((bar, mode)) = bars.get(&data_type) {
                    bar.set_message(*mode);
                    bar.finish();
                }
            }
        }
    }

    fn clear(&self) {
        let _ = self.multi.clear();
    }
}

/// A stream's auto sync as `GET /v1/connections/{c}/data-types` shows it: always an object, off
/// when never set, with the account plan's interval unless one was chosen.
fn auto_sync_json(setting: Option<&store::AutoSync>, planned: Option<u64>) -> serde_json::Value {
    let explicit = setting
        .map(|s| s.interval_seconds)
        .filter(|interval| *interval != server::scheduler::PLANNED);
    serde_json::json!({
        "enabled": setting.is_some_and(|s| s.enabled),
        "interval_seconds": explicit.map(u64::from).or(planned),
        "planned": explicit.is_none(),
    })
}

pub async fn status(global: &Global) -> anyhow::Result<u8> {
    let config = global.load()?;
    let store = global.store(Some(&config)).await?;
    let mut rows = Vec::new();
    let mut auto_sync_ends = Vec::new();
    let plans = server::scheduler::account_plans(
        &store,
        &config.connections,
        chrono::Utc::now(),
        &server::scheduler::real_time,
    )
    .await?;
    for connection in &config.connections {
        let account = engine::account_key(connection);
        let plan = plans.iter().find(|plan| plan.account == account);
        let planned = plan.and_then(|plan| {
            plan.events
                .iter()
                .find(|event| event.connection == connection.name)
        });
        let facts = store
            .connection_facts(&connection.name)
            .await?
            .unwrap_or_default();
        let auto_sync = store.auto_sync(Some(&connection.name)).await?;
        if auto_sync.iter().any(|setting| setting.enabled)
            && let Some(end) = server::scheduler::auto_sync_end(&facts, chrono::Utc::now())
        {
            auto_sync_ends.push((connection.name.clone(), end));
        }
        let runs = store.runs(Some(&connection.name), 50).await?;
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let calls_today: u64 = runs
            .iter()
            .filter(|r| r.started_at.starts_with(&today))
            .map(|r| r.api_calls)
            .sum();
        for data_type in &connection.data_types {
            let state = store
                .state(&connection.name, data_type.as_str())
                .await?
                .unwrap_or_default();
            let records = store.count(&connection.name, data_type.as_str()).await?;
            let totals = engine::totals::of(&store, &connection.name, data_type.as_str()).await?;
            let last_run = runs
                .iter()
                .find(|r| r.data_types.iter().any(|t| t == data_type.as_str()));
            rows.push(serde_json::json!({
                "connection": connection.name,
                "data_type": data_type.as_str(),
                "records": records,
                "last_synced_at": state.last_success_at.as_deref().map(server::time::seconds),
                "last_attempt_at": state.last_attempt_at.as_deref().map(server::time::seconds),
                "cursor": state.cursor,
                "resumable": state.checkpoint.is_some(),
                "last_run": last_run.map(|r| serde_json::json!({"id": r.id, "kind": r.kind, "status": r.status})),
                "calls_today": calls_today,
                "auto_sync": auto_sync_json(
                    auto_sync.iter().find(|s| s.data_type == data_type.as_str()),
                    planned.map(|event| event.interval_seconds),
                ),
                "auto_sync_end": server::scheduler::auto_sync_end(&facts, chrono::Utc::now()),
                "account_plan": plan.map(|plan| serde_json::json!({
                    "account": plan.account,
                    "budget": plan.budget,
                    "spent_today": plan.spent_today,
                    "pace": plan.pace,
                    "planned_calls_a_day": plan.planned_calls_a_day,
                    "event": planned,
                    "warnings": plan.warnings,
                })),
                "totals": totals_json(&totals),
            }));
        }
    }
    if global.json {
        println!("{}", serde_json::Value::Array(rows));
        return Ok(exit::SUCCESS);
    }
    println!(
        "{:<14} {:<22} {:>9}  {:<24} {:<24} calls today",
        "connection", "data type", "records", "last sync", "last run"
    );
    for row in &rows {
        let last_run = match &row["last_run"] {
            serde_json::Value::Null => "never".to_string(),
            run => format!(
                "#{} {} {}",
                run["id"],
                run["kind"].as_str().unwrap_or(""),
                run["status"].as_str().unwrap_or("")
            ),
        };
        let mut last_sync = row["last_synced_at"]
            .as_str()
            .unwrap_or("never")
            .to_string();
        if row["resumable"] == true {
            last_sync.push_str(" (resumable)");
        }
        println!(
            "{:<14} {:<22} {:>9}  {:<24} {:<24} {}",
            row["connection"].as_str().unwrap_or(""),
            row["data_type"].as_str().unwrap_or(""),
            row["records"].as_u64().unwrap_or(0),
            last_sync,
            last_run,
            row["calls_today"].as_u64().unwrap_or(0)
        );
        if let Some(explanation) = row["totals"]["explanation"].as_str() {
            println!("{:<14} {:<22} totals: {explanation}", "", "");
        }
    }
    for (connection, end) in &auto_sync_ends {
        println!("{connection}: {}", end.reason);
    }
    for plan in &plans {
        print_account_plan(plan);
    }
    print_destinations(&config, &store).await?;
    Ok(exit::SUCCESS)
}

/// Each iMIS site: how far it has read the change feed, and its deliveries by state.
async fn print_destinations(config: &engine::Config, store: &store::Store) -> anyhow::Result<()> {
    let end = store.feed_position().await?;
    for site in config
        .connections
        .iter()
        .filter(|c| matches!(c.vendor, engine::VendorSettings::Imis(_)))
    {
        let read = store
            .feed_checkpoint(&format!("destination:{}", site.name))
            .await?;
        let mut states = Vec::new();
        for status in [
            store::OutboxStatus::Pending,
            store::OutboxStatus::Sending,
            store::OutboxStatus::Sent,
            store::OutboxStatus::Failed,
        ] {
            let items = store
                .outbox(&store::OutboxQuery {
                    connection: Some(site.name.clone()),
                    status: Some(status),
                    limit: 500,
                    ..store::OutboxQuery::default()
                })
                .await?
                .len();
            let shown = if items == 500 {
                "500+".to_string()
            } else {
                items.to_string()
            };
            states.push(format!("{shown} {}", status.as_str()));
        }
        println!();
        println!(
            "{} (iMIS site): change feed read to {read} of {end}; deliveries: {}",
            site.name,
            states.join(", ")
        );
        if read < end {
            println!("  `eventsync serve` delivers the rest as it runs.");
        }
        println!(
            "  refusals and their reasons: eventsync outbox --connection {} --status failed",
            site.name
        );
    }
    Ok(())
}

/// An account's auto-sync plan: its events, their intervals and calls, and the arithmetic.
fn print_account_plan(plan: &server::scheduler::AccountPlan) {
    let quota = plan
        .daily_quota
        .map_or("no daily quota".to_string(), |quota| {
            format!("quota {quota} a day")
        });
    println!();
    println!(
        "auto sync of account {}: {} events, {} of {} calls a day planned ({quota}, {} a second; {} spent today)",
        plan.account,
        plan.events.len(),
        plan.planned_calls_a_day,
        plan.pace,
        plan.per_second,
        plan.spent_today
    );
    println!(
        "  {:<14} {:>8} {:>7} {:>10} {:>11}  interval",
        "connection", "people", "weight", "syncs/day", "calls/day"
    );
    for event in &plan.events {
        let how = if event.explicit {
            "set by hand"
        } else {
            "planned"
        };
        println!(
            "  {:<14} {:>8} {:>7.2} {:>10} {:>11}  {} s ({how})",
            event.connection,
            event.people,
            event.weight,
            event.syncs_a_day,
            event.calls_a_day,
            event.interval_seconds
        );
    }
    for step in &plan.steps {
        println!("  · {step}");
    }
    for warning in &plan.warnings {
        println!("  warning: {warning}");
    }
}

pub async fn export(global: &Global, args: ExportArgs) -> anyhow::Result<u8> {
    let data_type: DataType = args.data_type.parse().map_err(|_| {
        ConfigError(format!(
            "'{}' is not a data type; choose from: {}",
            args.data_type,
            DataType::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let config = global.load_for_workspace()?;
    let store = global.store(config.as_ref()).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => {
            write!(out, "[")?;
            let mut first = true;
            each_exported(&store, &args, data_type, |fields| {
                if !first {
                    write!(out, ",")?;
                }
                first = false;
                writeln!(out)?;
                serde_json::to_writer(&mut out, &fields)?;
                Ok(())
            })
            .await?;
            writeln!(out, "\n]")?;
        }
        Format::Csv => export_csv(&store, &args, data_type, &mut out).await?,
    }
    out.flush().context("writing the export")?;
    Ok(exit::SUCCESS)
}

/// Hands every exported record's fields to `each`, a page of the workspace at a time.
async fn each_exported(
    store: &Store,
    args: &ExportArgs,
    data_type: DataType,
    mut each: impl FnMut(serde_json::Map<String, serde_json::Value>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut after: Option<String> = None;
    loop {
        let page = store
            .export_page(
                args.connection.as_deref(),
                data_type.as_str(),
                after.as_deref(),
                1000,
            )
            .await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.external_id.clone());
        for record in &page {
            if args.include_hidden || engine::run::shown_in_agenda(data_type, record) {
                each(server::record_fields(record))?;
            }
        }
    }
}

/// The CSV export: the data type's fields in schema order, then every other field a record
/// holds (its `custom.*` fields), sorted by name. Those are known only once every record has
/// been read, so the records wait in a file meanwhile: memory stays flat on large exports, and
/// the export is one reading of the workspace.
async fn export_csv(
    store: &Store,
    args: &ExportArgs,
    data_type: DataType,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let spool = Spool::create()?;
    let mut lines = std::io::BufWriter::new(std::fs::File::create(&spool.0)?);
    let mut columns: Vec<String> = data_type
        .fields()
        .iter()
        .map(|f| f.name.to_string())
        .collect();
    let mut others = std::collections::BTreeSet::new();
    each_exported(store, args, data_type, |fields| {
        for name in fields.keys() {
            if !others.contains(name) && data_type.field(name).is_none() && name != "external_id" {
                others.insert(name.clone());
            }
        }
        serde_json::to_writer(&mut lines, &fields)?;
        lines.write_all(b"\n")?;
        Ok(())
    })
    .await?;
    lines.flush().context("writing the export's spool")?;
    drop(lines);
    columns.extend(others);
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&columns)?;
    let spooled = std::io::BufReader::new(std::fs::File::open(&spool.0)?);
    for line in std::io::BufRead::lines(spooled) {
        let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&line?)?;
        let values = columns.iter().map(|column| match fields.get(column) {
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        });
        writer.write_record(values)?;
    }
    writer.flush()?;
    Ok(())
}

/// A temporary file, removed when dropped.
struct Spool(PathBuf);

impl Spool {
    fn create() -> std::io::Result<Spool> {
        let path = std::env::temp_dir().join(format!(
            "eventsync-export-{}-{}.jsonl",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::File::create(&path)?;
        Ok(Spool(path))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub async fn runs(global: &Global, args: RunsArgs) -> anyhow::Result<u8> {
    let config = global.load_for_workspace()?;
    let store = global.store(config.as_ref()).await?;
    let runs = store.runs(args.connection.as_deref(), args.limit).await?;
    if global.json {
        // As the API shows runs: times to the second, every action counted.
        let shown: Vec<serde_json::Value> = runs.iter().map(server::run_json).collect();
        println!("{}", serde_json::to_string(&shown)?);
        return Ok(exit::SUCCESS);
    }
    println!(
        "{:>5}  {:<14} {:<8} {:<13} {:<24} {:>6}  counts",
        "run", "connection", "kind", "status", "started", "calls"
    );
    for run in runs {
        let counts: Vec<String> = run
            .counts
            .iter()
            .map(|(t, c)| {
                let parts: Vec<String> = c
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(a, n)| format!("{a} {n}"))
                    .collect();
                format!("{t}: {}", parts.join(", "))
            })
            .collect();
        println!(
            "{:>5}  {:<14} {:<8} {:<13} {:<24} {:>6}  {}",
            run.id,
            run.connection,
            run.kind,
            run.status,
            run.started_at,
            run.api_calls,
            counts.join("; ")
        );
        for error in &run.errors {
            println!("         error: {error}");
        }
    }
    Ok(exit::SUCCESS)
}
