//! `eventsync config …`: the configuration file's schema, and one connection's configuration
//! as a workbook (`config_workbook.rs`).

use crate::commands::Global;
use crate::exit;

#[derive(clap::Subcommand)]
pub enum ConfigCommand {
    /// Prints the JSON schema of eventsync.toml: every setting with its default and meaning,
    /// for editors (Taplo, Even Better TOML) and validators.
    Schema(SchemaArgs),
    /// Writes a connection's configuration to an XLSX workbook, one sheet per data type;
    /// secrets are never written.
    Export(crate::config_workbook::ExportArgs),
    /// Reads a workbook from `config export`, checks it and shows what it changes; with
    /// --apply, writes the changes into the configuration file.
    Import(crate::config_workbook::ImportArgs),
}

#[derive(clap::Args)]
pub struct SchemaArgs {
    /// List the settings one by one (key, default, meaning) instead of printing the schema.
    #[arg(long)]
    list: bool,
}

pub fn config(global: &Global, command: ConfigCommand) -> anyhow::Result<u8> {
    match command {
        ConfigCommand::Export(args) => crate::config_workbook::export(global, args),
        ConfigCommand::Import(args) => crate::config_workbook::import(global, args),
        ConfigCommand::Schema(args) => {
            let schema = engine::config::schema::document();
            if !args.list {
                println!("{}", serde_json::to_string_pretty(&schema)?);
                return Ok(exit::SUCCESS);
            }
            let settings = engine::config::schema::settings(&schema);
            if global.json {
                println!("{}", serde_json::to_string_pretty(&settings)?);
                return Ok(exit::SUCCESS);
            }
            for setting in settings {
                let default = match &setting.default {
                    Some(serde_json::Value::String(text)) => text.clone(),
                    Some(value) => value.to_string(),
                    None if setting.required => "(required)".to_string(),
                    None => "none".to_string(),
                };
                println!(
                    "{}\n    default: {default}\n    {}",
                    setting.key, setting.meaning
                );
            }
            Ok(exit::SUCCESS)
        }
    }
}
