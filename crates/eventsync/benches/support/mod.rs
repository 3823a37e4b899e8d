//! What the benchmarks share: a sandbox in its own process, peak memory of a process, and one
//! timed `eventsync sync` of people.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `eventsync simulate cvent-rest` on the unlimited tier, so the published rate limits do not
/// hide what eventsync and the sandbox can do.
pub struct Sandbox {
    child: Child,
    info: Value,
}

impl Sandbox {
    #[allow(dead_code)]
    pub fn start(attendees: u64) -> Sandbox {
        Sandbox::start_with(&[
            "cvent-rest",
            "--tier",
            "unlimited",
            "--attendees",
            &attendees.to_string(),
        ])
    }

    /// `eventsync simulate --json` with these arguments (the vendor first).
    pub fn start_with(args: &[&str]) -> Sandbox {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eventsync"))
            .arg("simulate")
            .arg("--json")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start eventsync simulate");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the JSON line");
        let info = serde_json::from_str(&line).expect("JSON line");
        Sandbox { child, info }
    }

    pub fn text(&self, key: &str) -> String {
        self.info[key].as_str().expect(key).to_string()
    }

    // Each benchmark includes this module and uses a different part of it.
    #[allow(dead_code)]
    pub fn peak_memory_mib(&self) -> f64 {
        peak_memory_mib(self.child.id())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Peak resident memory (`VmHWM`) of a running process, in MiB.
pub fn peak_memory_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// One `eventsync --json sync` of people: wall time, the process's peak memory and its report.
#[allow(dead_code)]
pub struct Measured {
    pub seconds: f64,
    pub peak_mib: f64,
    pub report: Value,
}

/// Runs `eventsync --json sync <connection> --types people` in `dir`, with the connection's
/// secret in the environment variable its configuration names, sampling peak memory until it
/// exits.
#[allow(dead_code)]
pub fn sync_people(dir: &Path, connection: &str, secret: (&str, &str)) -> Measured {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventsync"))
        .current_dir(dir)
        .env(secret.0, secret.1)
        .args(["--json", "sync", connection, "--types", "people"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start eventsync sync");
    let pid = child.id();
    let mut peak_mib: f64 = 0.0;
    // VmHWM only grows, so the last reading before exit is the peak.
    while child.try_wait().expect("poll").is_none() {
        let reading = peak_memory_mib(pid);
        if reading.is_finite() {
            peak_mib = peak_mib.max(reading);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let seconds = started.elapsed().as_secs_f64();
    let output = child.wait_with_output().expect("sync output");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    Measured {
        seconds,
        peak_mib,
        report,
    }
}
