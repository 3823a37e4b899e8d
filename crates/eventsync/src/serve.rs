//! `serve`, `outbox` and `token create|list|revoke`: the long-running server and its
//! companions.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use server::{AllowList, AppState, Settings};
use store::{OutboxQuery, OutboxStatus};

use crate::commands::Global;
use crate::exit;

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Networks or addresses allowed to call the API and the webhooks, comma separated
    /// (for example 10.0.0.0/8,192.168.1.7); everyone when absent.
    #[arg(long, value_delimiter = ',')]
    allow: Vec<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    body_limit: usize,
    /// Where preview reports are written (default: a folder beside the configuration).
    #[arg(long)]
    report_dir: Option<PathBuf>,
    /// Do not start auto syncs (API, outbox and webhooks still run).
    #[arg(long)]
    no_scheduler: bool,
    /// Seconds a request may take before it is answered 503 with a JSON error.
    #[arg(long, default_value_t = 30)]
    request_timeout: u64,
}

pub async fn serve(global: &Global, args: ServeArgs) -> anyhow::Result<u8> {
    let config = global.load()?;
    let store = global.store(Some(&config)).await?;
    store.interrupt_stale_runs().await?;
    // A SQLite store has one serving process: whatever is claimed was left by one that died, and
    // need not wait for its lease to run out.
    if store.backend() == store::Backend::Sqlite {
        let released = store.release_claims().await?;
        if released > 0 {
            tracing::info!(released, "took back work a stopped server had claimed");
        }
    }
    let allow = AllowList::parse(&args.allow).map_err(engine::ConfigError)?;
    // The static token Cvent sends with each webhook; read from the environment so that it is
    // never on a command line or in a process listing.
    let webhook_token = std::env::var("EVENTSYNC_WEBHOOK_TOKEN")
        .ok()
        .filter(|token| !token.trim().is_empty())
        .map(engine::Secret::new);
    let report_dir = args.report_dir.unwrap_or_else(|| {
        global
            .config
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default()
            .join("eventsync-reports")
    });
    let settings = Settings {
        allow,
        webhook_token,
        body_limit: args.body_limit,
        report_dir,
        scheduler: !args.no_scheduler,
        config_path: Some(config.path.clone()),
        request_timeout: std::time::Duration::from_secs(args.request_timeout.max(1)),
        ..Settings::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}: is the port taken?", args.listen))?;
    let address = listener.local_addr()?;
    if global.json {
        println!(
            "{}",
            serde_json::json!({"listening": format!("http://{address}")})
        );
    } else {
        println!("eventsync serving on http://{address} (OpenAPI at /openapi.json)");
    }
    let state = AppState::new(store, config, settings);
    server::serve(state, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the server stopped")?;
    Ok(exit::SUCCESS)
}

#[derive(Args)]
pub struct OutboxArgs {
    /// Only items in this state: pending, sending, sent, failed or local.
    #[arg(long)]
    status: Option<String>,
    /// Only this connection's items.
    #[arg(long)]
    connection: Option<String>,
    /// How many, oldest first.
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

pub async fn outbox(global: &Global, args: OutboxArgs) -> anyhow::Result<u8> {
    let status = match args.status.as_deref() {
        None => None,
        Some(text) => Some(OutboxStatus::parse(text).ok_or_else(|| {
            engine::ConfigError(format!(
                "--status {text}: use pending, sending, sent, failed or local"
            ))
        })?),
    };
    let config = global.load_for_workspace()?;
    let store = global.store(config.as_ref()).await?;
    let items = store
        .outbox(&OutboxQuery {
            connection: args.connection,
            status,
            limit: args.limit,
            ..OutboxQuery::default()
        })
        .await?;
    if global.json {
        // The API's names and times: the same item reads the same wherever it is shown.
        let shown: Vec<serde_json::Value> = items.iter().map(server::outbox_json).collect();
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(exit::SUCCESS);
    }
    let counts = store.outbox_counts().await?;
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!(
        "outbox: {}",
        if summary.is_empty() {
            "empty".to_string()
        } else {
            summary.join(", ")
        }
    );
    for item in items {
        let target = match &item.session_id {
            Some(session) => format!("{} → session {session}", item.attendee_id),
            None => item.attendee_id.clone(),
        };
        println!(
            "{:>6}  {:<8} {:<9} {:<12} {target}  attempts {}{}",
            item.id,
            item.connection,
            item.operation.as_str(),
            item.status.as_str(),
            item.attempts,
            item.last_error
                .as_deref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default()
        );
    }
    Ok(exit::SUCCESS)
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Creates an API bearer token and prints it once; only its hash is stored.
    Create {
        /// What the token is for, e.g. "check-in desk"; unique among live tokens.
        name: String,
        /// What it may do: read (every GET of workspace data), write (read, and session
        /// registrations, check-ins and sessions) or admin (everything: connections, runs,
        /// tokens, outbox retries, auto sync).
        #[arg(long, value_parser = ["read", "write", "admin"])]
        scope: String,
    },
    /// Lists the tokens, revoked ones included (never the tokens themselves).
    List,
    /// Revokes a live token, named by its name or its id.
    Revoke {
        /// The token's name, or its id as `token list` shows it.
        token: String,
    },
}

pub async fn token(global: &Global, command: TokenCommand) -> anyhow::Result<u8> {
    let config = global.load_for_workspace()?;
    let store = global.store(config.as_ref()).await?;
    match command {
        TokenCommand::Create { name, scope } => {
            let name = name.trim();
            if name.is_empty() {
                return Err(engine::ConfigError(
                    "give the token a name, e.g. \"check-in desk\"".into(),
                )
                .into());
            }
            let scope = store::TokenScope::parse(&scope).ok_or_else(|| {
                engine::ConfigError(format!("--scope {scope}: use read, write or admin"))
            })?;
            let token = server::new_token();
            let stored = match store
                .add_scoped_api_token(name, &server::token_hash(&token), scope)
                .await
            {
                Ok(stored) => stored,
                Err(store::StoreError::Conflict(message)) => {
                    return Err(crate::failure::Refusal::name_taken(message).into());
                }
                Err(error) => return Err(error.into()),
            };
            if global.json {
                let mut shown = server::token_json(&stored);
                shown["token"] = serde_json::Value::String(token);
                println!("{shown}");
            } else {
                println!("{token}");
                eprintln!(
                    "token {} ('{}', scope {}) created; it is shown only now — keep it somewhere safe",
                    stored.id, stored.name, stored.scope
                );
            }
            Ok(exit::SUCCESS)
        }
        TokenCommand::List => {
            let tokens = store.api_tokens().await?;
            if global.json {
                let shown: Vec<serde_json::Value> = tokens.iter().map(server::token_json).collect();
                println!("{}", serde_json::to_string_pretty(&shown)?);
                return Ok(exit::SUCCESS);
            }
            if tokens.is_empty() {
                println!("no tokens: create one with `eventsync token create <name> --scope read`");
            }
            for token in &tokens {
                let shown = server::token_json(token);
                println!(
                    "{:>4}  {:<24} {:<6} created {}{}",
                    token.id,
                    token.name,
                    token.scope,
                    shown["created_at"].as_str().unwrap_or_default(),
                    shown["revoked_at"]
                        .as_str()
                        .map(|at| format!("  revoked {at}"))
                        .unwrap_or_default()
                );
            }
            Ok(exit::SUCCESS)
        }
        TokenCommand::Revoke { token } => {
            // A live token's name first: a name may look like a number.
            let id = match store.live_api_token(token.trim()).await? {
                Some(found) => found.id,
                None => token.trim().parse::<i64>().map_err(|_| {
                    crate::failure::Refusal::not_found(format!(
                        "no live token named '{token}': `eventsync token list` shows them"
                    ))
                })?,
            };
            if !store.revoke_api_token(id).await? {
                return Err(crate::failure::Refusal::not_found(format!(
                    "no live token {id}: `eventsync token list` shows them"
                ))
                .into());
            }
            if global.json {
                println!("{}", serde_json::json!({"revoked": id}));
            } else {
                println!("token {id} revoked");
            }
            Ok(exit::SUCCESS)
        }
    }
}
