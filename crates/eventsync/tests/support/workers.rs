//! Several `eventsync serve` workers on one PostgreSQL workspace, as real processes beside a
//! Cvent sandbox process: shared by the workers test (`tests/workers.rs`) and its benchmark
//! (`cargo bench -p eventsync --bench workers`).

// The test and the benchmark each use part of it.
#![allow(dead_code)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// A child process, killed (SIGKILL) and reaped when dropped.
pub struct Process(pub Child);

impl Process {
    /// Kills it with SIGKILL, as a crash or an OOM kill would, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `command` and reads the one JSON line it prints first.
fn start(command: &mut Command) -> (Process, Value) {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("start eventsync");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the first line");
    let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    (Process(child), info)
}

/// `eventsync simulate cvent-rest` in its own process.
pub struct Vendor {
    _process: Process,
    pub info: Value,
    http: reqwest::Client,
}

impl Vendor {
    /// The sandbox with `args` after `simulate cvent-rest --json`.
    pub fn start(binary: &str, args: &[&str]) -> Vendor {
        let (process, info) = start(
            Command::new(binary)
                .args(["simulate", "cvent-rest", "--json"])
                .args(args),
        );
        Vendor {
            _process: process,
            info,
            http: reqwest::Client::new(),
        }
    }

    pub fn text(&self, key: &str) -> String {
        self.info[key].as_str().expect(key).to_string()
    }

    /// The account's event codes, the main one first.
    pub fn event_codes(&self) -> Vec<String> {
        self.info["event_codes"]
            .as_array()
            .map(|codes| {
                codes
                    .iter()
                    .filter_map(|code| code.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_else(|| vec![self.text("event_code")])
    }

    /// What the vendor's call log says.
    pub async fn calls(&self) -> Calls {
        let log: Value = self
            .http
            .get(format!("{}/calls", self.text("control_url")))
            .send()
            .await
            .expect("the call log")
            .json()
            .await
            .expect("the call log's JSON");
        let recent = log["recent"].as_array().cloned().unwrap_or_default();
        // Token calls are not paced by the account's rate: the limits count the API's calls.
        let paced: Vec<&Value> = recent
            .iter()
            .filter(|call| call["route"].as_str().is_none_or(|r| !r.contains("oauth2")))
            .collect();
        let at = |call: &&Value| {
            call["at"]
                .as_str()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        };
        let span = match (paced.first().and_then(at), paced.last().and_then(at)) {
            (Some(first), Some(last)) => (last - first).as_seconds_f64(),
            _ => 0.0,
        };
        Calls {
            total: log["total"].as_u64().unwrap_or(0),
            throttled: recent.iter().filter(|call| call["status"] == 429).count() as u64,
            paced: paced.len() as u64,
            paced_span_seconds: span,
        }
    }

    /// Every attendee of the main event, as the vendor lists them: with the sandbox's latency
    /// switched off, waiting out the tier's rate where it answers 429.
    pub async fn attendees(&self) -> Vec<Value> {
        let base = self.text("base_url");
        let latency_off = self
            .http
            .put(format!("{}/latency", self.text("control_url")))
            .json(&json!({"off": true}))
            .send()
            .await
            .expect("switching the latency off");
        assert!(latency_off.status().is_success(), "{latency_off:?}");
        let token: Value = self
            .http
            .post(format!("{base}/oauth2/token"))
            .basic_auth(self.text("client_id"), Some(self.text("client_secret")))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token JSON");
        let bearer = token["access_token"].as_str().expect("token").to_string();
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let query: Vec<(&str, String)> = match &next {
                Some(token) => vec![("token", token.clone())],
                None => vec![("limit", "200".into())],
            };
            let answer = self
                .http
                .get(format!("{base}/attendees"))
                .bearer_auth(&bearer)
                .query(&query)
                .send()
                .await
                .expect("page");
            if answer.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            assert!(answer.status().is_success(), "{answer:?}");
            let page: Value = answer.json().await.expect("page JSON");
            out.extend(page["data"].as_array().cloned().unwrap_or_default());
            next = page["paging"]["nextToken"].as_str().map(str::to_string);
            if next.is_none() {
                return out;
            }
        }
    }
}

/// A sandbox's calls since it started.
#[derive(Debug, Clone, Copy)]
pub struct Calls {
    /// Every call, token calls included.
    pub total: u64,
    /// Calls answered 429.
    pub throttled: u64,
    /// Calls the account's rate limit counts (all but token calls), and the seconds from the
    /// first of them to the last.
    pub paced: u64,
    pub paced_span_seconds: f64,
}

/// A folder with `eventsync.toml` and a PostgreSQL database of its own, dropped at the end.
pub struct Workspace {
    pub dir: PathBuf,
    binary: String,
    secret: String,
    server: String,
    database: String,
}

impl Workspace {
    /// One connection per `(name, event code)`, syncing people of every status.
    pub async fn new(
        binary: &str,
        vendor: &Vendor,
        tag: &str,
        connections: &[(String, String)],
    ) -> Workspace {
        let server = postgres_server();
        let database = format!("eventsync_workers_{tag}_{}", std::process::id());
        postgres_statement(
            &server,
            &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
        )
        .await;
        postgres_statement(&server, &format!("CREATE DATABASE {database}")).await;
        let dir = std::env::temp_dir().join(format!("{database}-dir"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("workspace folder");
        let mut config = format!("database = \"{server}/{database}\"\n\n");
        for (name, event_code) in connections {
            config.push_str(&format!(
                "[[connections]]\nname = \"{name}\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\n\
                 event_code = \"{event_code}\"\nclient_id = \"{}\"\n\
                 client_secret = \"${{CVENT_SECRET}}\"\ndata_types = [\"people\"]\n\n\
                 [connections.data.people]\nstatuses = []\n\n",
                vendor.text("base_url"),
                vendor.text("client_id"),
            ));
        }
        std::fs::write(dir.join("eventsync.toml"), config).expect("configuration");
        Workspace {
            dir,
            binary: binary.to_string(),
            secret: vendor.text("client_secret"),
            server,
            database,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .current_dir(&self.dir)
            .env("CVENT_SECRET", &self.secret)
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args);
        command
    }

    /// A new API token.
    pub fn token(&self) -> String {
        let output = self
            .command(&["--json", "token", "create", "workers", "--scope", "admin"])
            .output()
            .expect("token create");
        assert!(
            output.status.success(),
            "token create: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let created: Value = serde_json::from_slice(&output.stdout).expect("token JSON");
        created["token"].as_str().expect("token").to_string()
    }

    /// `eventsync serve` on a free port; `lease_seconds` sets the run lease's length.
    pub fn serve(&self, token: &str, scheduler: bool, lease_seconds: Option<u64>) -> Worker {
        let mut command = self.command(&["--json", "serve", "--listen", "127.0.0.1:0"]);
        if !scheduler {
            command.arg("--no-scheduler");
        }
        if let Some(seconds) = lease_seconds {
            command.env("EVENTSYNC_RUN_LEASE_SECONDS", seconds.to_string());
        }
        let (process, info) = start(command.stderr(Stdio::null()));
        Worker {
            process,
            api: Api {
                base: info["listening"].as_str().expect("listening").to_string(),
                token: token.to_string(),
                http: reqwest::Client::new(),
            },
        }
    }

    /// Turns auto sync of people on for `connections`, through a server with no scheduler, so
    /// that the workers started next all find every sync due at once.
    pub async fn enable_auto_sync(&self, token: &str, connections: &[(String, String)]) {
        let admin = self.serve(token, false, None);
        for (name, _) in connections {
            let (status, body) = admin
                .api
                .call(
                    reqwest::Method::PUT,
                    &format!("/v1/connections/{name}/data-types/people/auto-sync"),
                    Some(json!({"enabled": true, "interval_seconds": 3600})),
                )
                .await;
            assert_eq!(status, 200, "auto sync of {name}: {body}");
        }
    }

    /// Every person in the workspace, as `export` prints them.
    pub fn people(&self, connection: &str) -> Vec<Value> {
        let output = self
            .command(&[
                "export",
                "people",
                "--connection",
                connection,
                "--format",
                "json",
                "--include-hidden",
            ])
            .output()
            .expect("export");
        assert!(
            output.status.success(),
            "export: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout)
            .expect("export JSON")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let server = self.server.clone();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database);
        // Dropped from a thread of its own: the caller may be inside a runtime.
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(postgres_statement(&server, &statement));
            }
        })
        .join();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `eventsync serve` process and its API.
pub struct Worker {
    pub process: Process,
    pub api: Api,
}

pub struct Api {
    pub base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("API call");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The workspace's runs, newest first.
    pub async fn runs(&self) -> Vec<Value> {
        let (status, body) = self
            .call(reqwest::Method::GET, "/v1/runs?limit=500", None)
            .await;
        assert_eq!(status, 200, "runs: {body}");
        body["data"].as_array().cloned().unwrap_or_default()
    }
}

/// Records missing from the workspace, and records held twice, against the vendor's listing.
pub fn missing_and_duplicated(vendor: &[Value], people: &[Value]) -> (Vec<String>, Vec<String>) {
    let mut held = HashSet::new();
    let mut duplicated = Vec::new();
    for person in people {
        let id = person["external_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !held.insert(id.clone()) {
            duplicated.push(id);
        }
    }
    let missing = vendor
        .iter()
        .filter_map(|attendee| attendee["id"].as_str())
        .filter(|id| !held.contains(*id))
        .map(str::to_string)
        .collect();
    (missing, duplicated)
}

/// Waits for `probe` to answer `Some`, asking every 50 ms for at most `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = std::time::Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The server part of `EVENTSYNC_TEST_POSTGRES` (its URL without the database).
pub fn postgres_server() -> String {
    let url = std::env::var("EVENTSYNC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match url.rfind('/') {
        Some(slash) if slash > "postgres://".len() => url[..slash].to_string(),
        _ => url,
    }
}

/// Whether a PostgreSQL server answers at `server` (its URL without a database).
pub async fn postgres_answers(server: &str) -> bool {
    use sqlx::Connection as _;
    let url = format!("{server}/test");
    matches!(
        tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::postgres::PgConnection::connect(&url)
        )
        .await,
        Ok(Ok(_))
    )
}

/// Runs one statement on the server's `test` database.
async fn postgres_statement(server: &str, statement: &str) {
    use sqlx::Connection as _;
    let url = format!("{server}/test");
    let mut connection = sqlx::postgres::PgConnection::connect(&url)
        .await
        .expect("PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
        .execute(&mut connection)
        .await
        .expect(statement);
}
