//! The soak: a first full sync of a Cvent event killed with SIGKILL again and again while the
//! vendor fails calls, drops connections and changes records between and during runs; then the
//! sync runs to its end, two incremental syncs follow, and the whole workspace is compared with
//! the vendor — missing, duplicated, stale and extra records. Shared by the test that CI runs
//! (small) and the benchmark-style runner (`cargo bench -p eventsync --bench soak`).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What one soak does.
#[derive(Debug, Clone)]
pub struct Plan {
    pub attendees: u64,
    pub kills: u32,
    /// The workspace: `None` for a SQLite file in the soak's folder, or a PostgreSQL server's
    /// URL, in which the soak makes a database of its own and drops it afterwards.
    pub postgres: Option<String>,
    /// Latency the vendor adds to every call, so that kills land inside the listing.
    pub latency_ms: u64,
    /// One vendor change every this long, while the kills go on.
    pub change_every: Duration,
    pub seed: u64,
}

/// What one soak found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub kills_mid_listing: u32,
    pub edits: u64,
    pub cancellations: u64,
    pub additions: u64,
    pub vendor_records: usize,
    pub workspace_records: usize,
    pub missing: Vec<String>,
    pub duplicated: Vec<String>,
    pub stale: Vec<String>,
    pub extra: Vec<String>,
    pub runs: u32,
    pub seconds: f64,
}

impl Outcome {
    pub fn summary(&self) -> String {
        format!(
            "{} vendor records, {} in the workspace; {} kills mid-listing; vendor changes: {} edits, \
             {} cancellations, {} additions; {} runs in {:.1} s; missing {}, duplicated {}, stale {}, extra {}",
            self.vendor_records,
            self.workspace_records,
            self.kills_mid_listing,
            self.edits,
            self.cancellations,
            self.additions,
            self.runs,
            self.seconds,
            self.missing.len(),
            self.duplicated.len(),
            self.stale.len(),
            self.extra.len()
        )
    }

    pub fn is_exact(&self) -> bool {
        self.missing.is_empty()
            && self.duplicated.is_empty()
            && self.stale.is_empty()
            && self.extra.is_empty()
    }
}

/// A deterministic source of choices, so a soak can be repeated.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `eventsync simulate cvent-rest` in its own process.
struct Vendor {
    child: Child,
    info: Value,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Vendor {
    fn start(binary: &str, attendees: u64) -> Vendor {
        let mut child = Command::new(binary)
            .args(["simulate", "cvent-rest", "--json", "--tier", "unlimited"])
            .args(["--attendees", &attendees.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the sandbox's line");
        let info = serde_json::from_str(&line).expect("one JSON line");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Vendor {
            child,
            info,
            runtime,
            http: reqwest::Client::new(),
        }
    }

    fn text(&self, key: &str) -> String {
        self.info[key].as_str().expect(key).to_string()
    }

    fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.text("control_url"));
        self.runtime.block_on(async {
            let response = self
                .http
                .request(method.parse().expect("method"), url)
                .json(&body)
                .send()
                .await
                .expect("control call");
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.json().await.unwrap_or(Value::Null)
        })
    }

    /// Every attendee, as the vendor lists them (call with no faults injected).
    fn attendees(&self) -> Vec<Value> {
        let base = self.text("base_url");
        self.runtime.block_on(async {
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
                .expect("token json");
            let bearer = token["access_token"].as_str().expect("token").to_string();
            let mut out = Vec::new();
            let mut next: Option<String> = None;
            loop {
                let query: Vec<(&str, String)> = match &next {
                    Some(token) => vec![("token", token.clone())],
                    None => vec![("limit", "200".into())],
                };
                let page: Value = self
                    .http
                    .get(format!("{base}/attendees"))
                    .bearer_auth(&bearer)
                    .query(&query)
                    .send()
                    .await
                    .expect("page")
                    .json()
                    .await
                    .expect("page json");
                out.extend(page["data"].as_array().cloned().unwrap_or_default());
                next = page["paging"]["nextToken"].as_str().map(str::to_string);
                if next.is_none() {
                    return out;
                }
            }
        })
    }
}

impl Drop for Vendor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The soak's folder and workspace.
struct Workspace {
    dir: PathBuf,
    /// The PostgreSQL server and the database made for the soak, dropped at the end.
    postgres: Option<(String, String)>,
}

impl Workspace {
    fn new(binary_tag: &str, plan: &Plan, vendor: &Vendor) -> Workspace {
        let dir = std::env::temp_dir().join(format!(
            "eventsync-soak-{binary_tag}-{}-{}",
            std::process::id(),
            plan.seed
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("soak folder");
        let (database, postgres) = match &plan.postgres {
            None => (dir.join("workspace.sqlite").display().to_string(), None),
            Some(server) => {
                let name = format!("eventsync_soak_{}_{}", std::process::id(), plan.seed);
                postgres_statement(server, &format!("CREATE DATABASE {name}"));
                let url = format!("{}/{name}", server.trim_end_matches('/'));
                (url, Some((server.clone(), name)))
            }
        };
        let config = format!(
            "database = \"{database}\"\n\n[[connections]]\nname = \"cvent\"\nkind = \"cvent-rest\"\n\
             base_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\n\
             client_secret = \"${{CVENT_SECRET}}\"\ndata_types = [\"people\"]\n\n\
             [connections.data.people]\nstatuses = []\n",
            vendor.text("base_url"),
            vendor.text("event_code"),
            vendor.text("client_id")
        );
        std::fs::write(dir.join("eventsync.toml"), config).expect("configuration");
        Workspace { dir, postgres }
    }

    fn command(&self, binary: &str, vendor: &Vendor, args: &[&str]) -> Command {
        let mut command = Command::new(binary);
        command
            .current_dir(&self.dir)
            .env("CVENT_SECRET", vendor.text("client_secret"))
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args);
        command
    }

    /// The people the change feed describes, read from its start with `eventsync changes` and
    /// applied in order: a create's fields, then each change's values after, a removal dropping
    /// the person.
    fn replay_feed(
        &self,
        binary: &str,
        vendor: &Vendor,
    ) -> std::collections::BTreeMap<String, Value> {
        let mut people: std::collections::BTreeMap<String, Value> = Default::default();
        let mut after = 0;
        loop {
            let output = self
                .command(
                    binary,
                    vendor,
                    &[
                        "--json",
                        "changes",
                        "--types",
                        "people",
                        "--limit",
                        "1000",
                        "--after",
                        &after.to_string(),
                    ],
                )
                .output()
                .expect("changes");
            assert!(
                output.status.success(),
                "changes: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let lines = String::from_utf8_lossy(&output.stdout).to_string();
            if lines.trim().is_empty() {
                return people;
            }
            for line in lines.lines() {
                let change: Value = serde_json::from_str(line).expect("a change as JSON");
                after = change["position"].as_i64().expect("position");
                let id = change["external_id"].as_str().expect("id").to_string();
                match change["action"].as_str() {
                    Some("remove") => {
                        people.remove(&id);
                    }
                    Some("create") => {
                        people.insert(id, change["after"].clone());
                    }
                    _ => {
                        let person = people.entry(id).or_insert_with(|| json!({}));
                        if let (Some(person), Some(fields)) =
                            (person.as_object_mut(), change["after"].as_object())
                        {
                            for (field, value) in fields {
                                person.insert(field.clone(), value.clone());
                            }
                        }
                    }
                }
            }
        }
    }

    /// Every person in the workspace, as `export` prints them.
    fn people(&self, binary: &str, vendor: &Vendor) -> Vec<Value> {
        let output = self
            .command(
                binary,
                vendor,
                &["export", "people", "--format", "json", "--include-hidden"],
            )
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
        if let Some((server, name)) = &self.postgres {
            postgres_statement(
                server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs one statement on the server's `test` database (whose URL is the server's plus `/test`).
fn postgres_statement(server: &str, statement: &str) {
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = format!("{}/test", server.trim_end_matches('/'));
    runtime.block_on(async {
        let mut connection = sqlx::postgres::PgConnection::connect(&url)
            .await
            .expect("PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(&mut connection)
            .await
            .expect(statement);
    });
}

/// Whether a PostgreSQL server answers at `server` (its URL without a database).
pub fn postgres_answers(server: &str) -> bool {
    use sqlx::Connection as _;
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    let url = format!("{}/test", server.trim_end_matches('/'));
    runtime.block_on(async {
        matches!(
            tokio::time::timeout(
                Duration::from_secs(5),
                sqlx::postgres::PgConnection::connect(&url)
            )
            .await,
            Ok(Ok(_))
        )
    })
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

/// The vendor's changes, made from a thread of their own while the kills go on.
struct Changer {
    stop: Arc<AtomicBool>,
    counts: Arc<[AtomicU64; 3]>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Changer {
    fn start(control_url: String, ids: Vec<String>, every: Duration, seed: u64) -> Changer {
        let stop = Arc::new(AtomicBool::new(false));
        let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
        let thread = {
            let stop = stop.clone();
            let counts = counts.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let http = reqwest::Client::new();
                let mut dice = Dice(seed ^ 0x9e37_79b9_7f4a_7c15);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let id = &ids[dice.below(ids.len() as u64) as usize];
                    // Eight edits, one cancellation and one addition in ten.
                    let (kind, method, path, body) = match dice.below(10) {
                        0 => (1, "POST", format!("/attendees/{id}/cancel"), json!({})),
                        1 => (2, "POST", "/attendees".to_string(), json!({})),
                        _ => (
                            0,
                            "PATCH",
                            format!("/attendees/{id}"),
                            json!({"contact": {"lastName": format!("Soak-{n}")}}),
                        ),
                    };
                    let sent = runtime.block_on(
                        http.request(
                            method.parse().expect("method"),
                            format!("{control_url}{path}"),
                        )
                        .json(&body)
                        .send(),
                    );
                    if sent.is_ok_and(|r| r.status().is_success()) {
                        counts[kind].fetch_add(1, Ordering::Relaxed);
                    }
                    std::thread::sleep(every);
                }
            })
        };
        Changer {
            stop,
            counts,
            thread: Some(thread),
        }
    }

    /// Stops the changes and says how many of each were made.
    fn finish(mut self) -> [u64; 3] {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        [0, 1, 2].map(|k| self.counts[k].load(Ordering::Relaxed))
    }
}

impl Drop for Changer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs the soak with the `eventsync` binary at `binary`.
pub fn run(binary: &str, plan: &Plan) -> Outcome {
    let started = Instant::now();
    let vendor = Vendor::start(binary, plan.attendees);
    let ids: Vec<String> = vendor
        .attendees()
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    let tag = if plan.postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let workspace = Workspace::new(tag, plan, &vendor);
    vendor.control(
        "PUT",
        "/faults",
        json!({"serverErrorRate": 0.05, "dropConnectionRate": 0.03, "latencyMs": plan.latency_ms}),
    );
    let mut outcome = Outcome::default();
    let changer = Changer::start(
        vendor.text("control_url"),
        ids.clone(),
        plan.change_every,
        plan.seed,
    );
    let mut dice = Dice(plan.seed | 1);
    // A run's listing takes about pages × latency; the kills are spread over it.
    let pages = plan.attendees.div_ceil(200).max(1);
    let listing_ms = pages * plan.latency_ms.max(1);
    let mean_ms = (listing_ms / (u64::from(plan.kills) + 2)).max(150);
    let sync_args = ["--json", "sync", "cvent", "--types", "people"];
    while outcome.kills_mid_listing < plan.kills {
        let mut sync = workspace
            .command(binary, &vendor, &sync_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the sync");
        outcome.runs += 1;
        let wait = mean_ms / 2 + dice.below(mean_ms);
        std::thread::sleep(Duration::from_millis(wait));
        match sync.try_wait().expect("the sync's state") {
            // It finished before the kill: the first full listing is over.
            Some(_) => break,
            None => {
                sync.kill().expect("kill -9");
                sync.wait().expect("reap");
                outcome.kills_mid_listing += 1;
            }
        }
    }
    // The listing runs to its end while the vendor still changes.
    let finished = workspace
        .command(binary, &vendor, &sync_args)
        .output()
        .expect("sync");
    outcome.runs += 1;
    assert!(
        finished.status.success(),
        "the sync after the kills: {}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let [edits, cancellations, additions] = changer.finish();
    outcome.edits = edits;
    outcome.cancellations = cancellations;
    outcome.additions = additions;
    for _ in 0..2 {
        let incremental = workspace
            .command(binary, &vendor, &sync_args)
            .output()
            .expect("sync");
        outcome.runs += 1;
        assert!(
            incremental.status.success(),
            "an incremental sync: {}",
            String::from_utf8_lossy(&incremental.stderr)
        );
        let report: Value = serde_json::from_slice(&incremental.stdout).unwrap_or(Value::Null);
        assert_eq!(
            report["types"]["people"]["mode"], "incremental",
            "the syncs after the listing are incremental"
        );
    }
    vendor.control("PUT", "/faults", json!({}));
    let people = workspace.people(binary, &vendor);
    compare(&mut outcome, &vendor.attendees(), &people);
    // The change feed, replayed from its start, is the workspace: no change a killed run
    // committed is missing from it, and none it lacks is there.
    let replayed = workspace.replay_feed(binary, &vendor);
    let exported: std::collections::BTreeMap<String, Value> = people
        .into_iter()
        .filter_map(|person| Some((person["external_id"].as_str()?.to_string(), person)))
        .collect();
    assert_eq!(
        replayed.len(),
        exported.len(),
        "people in the feed and in the workspace"
    );
    for (id, person) in &exported {
        assert_eq!(
            replayed.get(id),
            Some(person),
            "person {id}: the feed against the workspace"
        );
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

/// The workspace against the vendor: by external id, each attendee once, with its last name
/// and status as the vendor has them now.
fn compare(outcome: &mut Outcome, vendor: &[Value], people: &[Value]) {
    outcome.vendor_records = vendor.len();
    outcome.workspace_records = people.len();
    let mut held: HashMap<&str, &Value> = HashMap::new();
    let mut seen = HashSet::new();
    for person in people {
        let id = person["external_id"].as_str().unwrap_or_default();
        if !seen.insert(id) {
            outcome.duplicated.push(id.to_string());
        }
        held.insert(id, person);
    }
    let mut listed = HashSet::new();
    for attendee in vendor {
        let id = attendee["id"].as_str().unwrap_or_default();
        listed.insert(id);
        let Some(person) = held.get(id) else {
            outcome.missing.push(id.to_string());
            continue;
        };
        let status = match attendee["status"].as_str() {
            Some("Cancelled" | "Declined") => "cancelled",
            _ => "active",
        };
        if person["last_name"] != attendee["contact"]["lastName"] || person["status"] != status {
            outcome.stale.push(format!(
                "{id}: workspace {} / {}, vendor {} / {}",
                person["last_name"], person["status"], attendee["contact"]["lastName"], status
            ));
        }
    }
    outcome.extra = held
        .keys()
        .filter(|id| !listed.contains(**id))
        .map(|id| id.to_string())
        .collect();
}
