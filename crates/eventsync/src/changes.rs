//! `eventsync changes`: the workspace's change feed, oldest first, from a position on — the
//! same entries `GET /v1/changes` serves.

use std::time::Duration;

use clap::Args;
use serde_json::Value;
use store::{FeedChange, FeedQuery, MAX_FEED_PAGE};

use crate::commands::Global;
use crate::exit;

#[derive(Args)]
pub struct ChangesArgs {
    /// Only changes after this position (the last one printed before); 0 from the start.
    #[arg(long, default_value_t = 0)]
    after: i64,
    /// Only these data types, comma separated (people,sessions,…).
    #[arg(long, value_delimiter = ',')]
    types: Vec<String>,
    /// Only this connection's changes.
    #[arg(long)]
    connection: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Keep printing new changes as they are applied, until interrupted.
    #[arg(long)]
    follow: bool,
}

pub async fn changes(global: &Global, args: ChangesArgs) -> anyhow::Result<u8> {
    let mut data_types = Vec::new();
    for name in &args.types {
        let data_type: pipeline::DataType = name.trim().parse().map_err(|_| {
            engine::ConfigError(format!(
                "--types: '{name}' is not a data type; known: {}",
                pipeline::DataType::ALL
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        data_types.push(data_type.as_str().to_string());
    }
    if !(1..=MAX_FEED_PAGE).contains(&args.limit) && !args.follow {
        return Err(
            engine::ConfigError(format!("--limit must be from 1 to {MAX_FEED_PAGE}")).into(),
        );
    }
    let config = global.load_for_workspace()?;
    let store = global.store(config.as_ref()).await?;
    let mut after = args.after;
    let mut left = args.limit;
    loop {
        let page = store
            .changes(&FeedQuery {
                after,
                data_types: data_types.clone(),
                connection: args.connection.clone(),
                limit: if args.follow {
                    MAX_FEED_PAGE
                } else {
                    left.min(MAX_FEED_PAGE)
                },
            })
            .await?;
        for change in &page {
            print_change(change, global.json);
            after = change.position;
        }
        if !args.follow {
            left = left.saturating_sub(page.len() as u32);
            if page.is_empty() || left == 0 {
                break;
            }
            continue;
        }
        if page.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Ok(exit::SUCCESS)
}

/// One line per change: JSON Lines under `--json`, else position, time, stream, id, action and
/// the fields changed.
fn print_change(change: &FeedChange, json: bool) {
    let shown = engine::changes::change_json(change);
    if json {
        println!("{shown}");
        return;
    }
    let fields: Vec<String> = engine::changes::changed_fields(change)
        .iter()
        .map(|field| {
            let side = |name: &str| match shown[name].get(field) {
                None | Some(Value::Null) => "(empty)".to_string(),
                Some(value) => value.to_string(),
            };
            match change.action {
                store::FeedAction::Create => format!("{field}={}", side("after")),
                _ => format!("{field}: {} → {}", side("before"), side("after")),
            }
        })
        .collect();
    println!(
        "{:>8}  {}  {}/{}  {}  {}{}",
        change.position,
        change.at,
        change.connection,
        change.data_type,
        change.external_id,
        change.action.as_str(),
        if fields.is_empty() || change.action == store::FeedAction::Create {
            String::new()
        } else {
            format!("  {}", fields.join(", "))
        }
    );
}
