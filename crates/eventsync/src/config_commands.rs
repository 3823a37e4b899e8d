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

#[derive(clap::Subcommand)]
pub enum SecretsCommand {
    /// Encrypts every secret stored in the configuration (`enc:v1:` values) again under a new
    /// key, read from --new-key-file (a new random key is written there when the file does
    /// not exist). The current key comes from EVENTSYNC_SECRET_KEY or
    /// EVENTSYNC_SECRET_KEY_FILE.
    Rotate(RotateArgs),
}

#[derive(clap::Args)]
pub struct RotateArgs {
    /// The new key: 32 bytes in base64. Created, readable by its owner only, when missing.
    #[arg(long, value_name = "FILE")]
    new_key_file: std::path::PathBuf,
}

pub fn secrets(global: &Global, command: SecretsCommand) -> anyhow::Result<u8> {
    use engine::config::secrets::{KEY_FILE_VARIABLE, KEY_VARIABLE, SecretKey};

    let SecretsCommand::Rotate(args) = command;
    let created = !args.new_key_file.exists();
    let key = if created {
        let key = SecretKey::generate();
        write_key_file(&args.new_key_file, &key)?;
        key
    } else {
        SecretKey::from_file(&args.new_key_file)?
    };
    let (count, _) =
        engine::config::edit::rotate(&global.config, &key, &|name| std::env::var(name).ok())
            .map_err(|error| engine::ConfigError(error.to_string()))?;
    if global.json {
        println!(
            "{}",
            serde_json::json!({"rotated": count, "config": global.config, "new_key_file": args.new_key_file, "created": created})
        );
    } else {
        if created {
            println!(
                "Wrote a new key to {} (readable by its owner only).",
                args.new_key_file.display()
            );
        }
        println!(
            "Encrypted {count} stored secret(s) of {} again under the new key.",
            global.config.display()
        );
        println!(
            "From now on, run eventsync with {KEY_FILE_VARIABLE}={} (or {KEY_VARIABLE} set to its contents), and restart `eventsync serve`.",
            args.new_key_file.display()
        );
    }
    Ok(exit::SUCCESS)
}

/// Writes a key file that only its owner can read.
fn write_key_file(
    path: &std::path::Path,
    key: &engine::config::secrets::SecretKey,
) -> anyhow::Result<()> {
    use std::io::Write;

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        engine::ConfigError(format!(
            "cannot create the key file {}: {e}",
            path.display()
        ))
    })?;
    writeln!(file, "{}", key.to_base64())?;
    Ok(())
}
