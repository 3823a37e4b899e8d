//! Which process owns a run, and whether that process is still there.
//!
//! Each open [`crate::Store`] is an *instance* with an owner tag `host/pid/instance`, written on
//! the runs it starts. A run still `running` is abandoned when its owner is not an instance alive
//! in this process and either its process is gone (checked on this host only) or it has sent no
//! heartbeat for [`HEARTBEAT_STALE_AFTER`] (the only evidence about other hosts).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// How long a run may go without a heartbeat before another process may call it abandoned.
pub const HEARTBEAT_STALE_AFTER: Duration = Duration::from_secs(10 * 60);

fn live_instances() -> &'static Mutex<HashSet<String>> {
    static LIVE: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    LIVE.get_or_init(Mutex::default)
}

/// One open store. Registered as alive until the last clone of its store is dropped.
#[derive(Debug)]
pub(crate) struct Instance {
    tag: String,
}

impl Instance {
    pub(crate) fn register() -> Instance {
        let instance_id = uuid::Uuid::new_v4().simple().to_string();
        let tag = format!("{}/{}/{instance_id}", host_name(), std::process::id());
        live_instances()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(instance_id);
        Instance { tag }
    }

    pub(crate) fn tag(&self) -> &str {
        &self.tag
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(owner) = OwnerTag::parse(&self.tag) {
            live_instances()
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(owner.instance_id);
        }
    }
}

struct OwnerTag<'a> {
    host: &'a str,
    pid: u32,
    instance_id: &'a str,
}

impl<'a> OwnerTag<'a> {
    fn parse(tag: &'a str) -> Option<OwnerTag<'a>> {
        let mut parts = tag.rsplitn(3, '/');
        let instance_id = parts.next()?;
        let pid = parts.next()?.parse().ok()?;
        let host = parts.next()?;
        Some(OwnerTag {
            host,
            pid,
            instance_id,
        })
    }
}

/// Whether a `running` run with this owner and last heartbeat has been abandoned.
pub(crate) fn is_abandoned(owner: &str, heartbeat_at: &str, now: DateTime<Utc>) -> bool {
    let Some(owner) = OwnerTag::parse(owner) else {
        return true;
    };
    let registry = live_instances()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if registry.contains(owner.instance_id) {
        return false;
    }
    drop(registry);
    let silent_too_long = DateTime::parse_from_rfc3339(heartbeat_at)
        .map(|beat| {
            now.signed_duration_since(beat.with_timezone(&Utc))
                .to_std()
                .is_ok_and(|silence| silence > HEARTBEAT_STALE_AFTER)
        })
        .unwrap_or(true);
    if silent_too_long {
        return true;
    }
    owner.host == host_name() && (owner.pid == std::process::id() || !process_is_running(owner.pid))
}

/// Whether the holder of a lease is known to be gone, without waiting for the lease to run
/// out: a store closed in this process, or a process no longer running on this host. Of other
/// hosts nothing is known; their leases run out.
pub(crate) fn is_gone(holder: &str) -> bool {
    let Some(owner) = OwnerTag::parse(holder) else {
        return false;
    };
    if live_instances()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(owner.instance_id)
    {
        return false;
    }
    owner.host == host_name() && (owner.pid == std::process::id() || !process_is_running(owner.pid))
}

/// The host and process id an owner tag names, for messages (the tag itself when unreadable).
pub(crate) fn host_and_pid(tag: &str) -> (String, String) {
    match OwnerTag::parse(tag) {
        Some(owner) => (owner.host.to_string(), owner.pid.to_string()),
        None => (tag.to_string(), "?".to_string()),
    }
}

#[cfg(target_os = "linux")]
fn process_is_running(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(not(target_os = "linux"))]
fn process_is_running(_pid: u32) -> bool {
    // Without a portable check, only the heartbeat can tell.
    true
}

fn host_name() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .map(|name| name.trim().replace('/', "_"))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "unknown-host".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(seconds_ago: i64, now: DateTime<Utc>) -> String {
        crate::time::format(now - chrono::Duration::seconds(seconds_ago))
    }

    #[test]
    fn a_live_instance_owns_its_runs() {
        let now = Utc::now();
        let instance = Instance::register();
        assert!(!is_abandoned(instance.tag(), &beat(3600, now), now));
        let tag = instance.tag().to_string();
        drop(instance);
        assert!(
            is_abandoned(&tag, &beat(1, now), now),
            "a dropped store in this process"
        );
    }

    #[test]
    fn another_live_process_on_this_host_keeps_its_runs_until_its_heartbeat_stops() {
        let now = Utc::now();
        // PID 1 always exists on Linux; it is not this test process.
        let tag = format!("{}/1/someone-else", host_name());
        if cfg!(target_os = "linux") && std::process::id() != 1 {
            assert!(!is_abandoned(&tag, &beat(5, now), now));
        }
        assert!(is_abandoned(&tag, &beat(3600, now), now));
    }

    #[test]
    fn a_dead_process_on_this_host_abandons_its_runs_at_once() {
        let now = Utc::now();
        let tag = format!("{}/{}/gone", host_name(), u32::MAX - 7);
        if cfg!(target_os = "linux") {
            assert!(is_abandoned(&tag, &beat(1, now), now));
        }
    }

    #[test]
    fn a_lease_holder_is_gone_only_when_known_to_be() {
        let instance = Instance::register();
        assert!(!is_gone(instance.tag()), "a store open in this process");
        let tag = instance.tag().to_string();
        drop(instance);
        assert!(is_gone(&tag), "a store closed in this process");
        if cfg!(target_os = "linux") {
            assert!(is_gone(&format!("{}/{}/gone", host_name(), u32::MAX - 7)));
        }
        assert!(
            !is_gone("elsewhere.example/42/abc"),
            "other hosts' leases run out"
        );
        assert!(!is_gone("not a tag"));
    }

    #[test]
    fn other_hosts_are_judged_by_heartbeat() {
        let now = Utc::now();
        let tag = "elsewhere.example/42/abc";
        assert!(!is_abandoned(tag, &beat(60, now), now));
        assert!(is_abandoned(tag, &beat(3600, now), now));
        assert!(is_abandoned("not a tag", &beat(1, now), now));
    }
}
