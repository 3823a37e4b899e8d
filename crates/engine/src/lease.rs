//! One run per connection, whoever starts it: every preview and sync goes through here, holding
//! the connection's run lease in the store (see `store`'s `lease.rs`) while it runs.
//!
//! Previews take the lease too. A preview writes only its run record, but it diffs against the
//! workspace: beside a sync of the same connection its report would count as unchanged what the
//! sync wrote a moment before, and the server learns a run's id from its lease.
//!
//! The lease lasts [`LEASE`] and a task renews it every [`RENEW_EVERY`], with the run's heartbeat,
//! so a run stalled in one long vendor call keeps it; a process that dies lets it run out (on
//! this host it is free at once: a dead process id is proof enough). A holder whose lease was
//! taken over — it stalled for longer than the lease — stops its run as soon as it notices. A
//! panic anywhere in the run is caught: the run ends `failed` with the panic's message, the lease
//! is released, and the caller gets [`RunError::Panicked`].

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::Value;
use store::{LeaseClaim, LeaseHolder, RunLease, RunOutcome, Store, StoreError};

use crate::config::Connection;
use crate::run::{self, EngineError, Progress, RunKind, RunOptions, RunReport};

/// How long a run's lease lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(60);
/// How often a running run renews its lease: four chances before it runs out.
pub const RENEW_EVERY: Duration = Duration::from_secs(15);
/// Shortens (or lengthens) [`LEASE`], in seconds; the renewal comes four times per lease.
/// Meant for tests that let a lease run out.
pub const LEASE_SECONDS_ENV: &str = "EVENTSYNC_RUN_LEASE_SECONDS";

/// How long a refused run waits for a lease just taken to name its run, so the refusal can.
const NAMING_WAIT: Duration = Duration::from_secs(5);

/// A lease's length and how often it is renewed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeaseTiming {
    pub lease: Duration,
    pub renew_every: Duration,
}

impl Default for LeaseTiming {
    fn default() -> LeaseTiming {
        LeaseTiming {
            lease: LEASE,
            renew_every: RENEW_EVERY,
        }
    }
}

impl LeaseTiming {
    /// The default timing, or the lease [`LEASE_SECONDS_ENV`] sets (ignored unless a positive
    /// number of seconds).
    pub fn from_env() -> LeaseTiming {
        LeaseTiming::from_seconds(std::env::var(LEASE_SECONDS_ENV).ok().as_deref())
    }

    fn from_seconds(text: Option<&str>) -> LeaseTiming {
        text.and_then(|text| text.trim().parse::<f64>().ok())
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .filter(|lease| !lease.is_zero())
            .map_or_else(LeaseTiming::default, |lease| LeaseTiming {
                lease,
                renew_every: lease / 4,
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Another run of the connection holds its lease.
    #[error("{0}")]
    InProgress(LeaseHolder),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A defect: the run panicked. It is recorded as failed and its lease released.
    #[error(
        "the {kind} of '{connection}'{} stopped on an internal error: {message}; please report it",
        run_label(*run_id)
    )]
    Panicked {
        connection: String,
        kind: &'static str,
        run_id: Option<i64>,
        message: String,
    },
    /// The lease ran out while the run stalled, and another run took the connection over.
    #[error(
        "the {kind} of '{connection}'{} was stopped: it did not renew its lease on the connection \
         in time (the process stalled for over {lease_seconds} s) and another run took it over",
        run_label(*run_id)
    )]
    LeaseLost {
        connection: String,
        kind: &'static str,
        run_id: Option<i64>,
        lease_seconds: f64,
    },
}

impl From<StoreError> for RunError {
    fn from(error: StoreError) -> RunError {
        RunError::Engine(EngineError::Store(error))
    }
}

fn run_label(run_id: Option<i64>) -> String {
    run_id.map_or_else(String::new, |id| format!(" (run {id})"))
}

/// A connection's run lease, taken by [`take`], with the store handle its run is recorded
/// through. Clones share it: one can watch for the run's id while another runs it.
#[derive(Debug, Clone)]
pub struct HeldLease {
    lease: RunLease,
    /// The store, as a handle that records its run in the lease.
    store: Store,
}

impl HeldLease {
    /// The run recorded under the lease, once the engine has recorded it.
    pub fn run_id(&self) -> Option<i64> {
        self.store.leased_run_id()
    }

    /// Gives the lease back unused (a run that will not go ahead after all).
    pub async fn release(self) -> Result<(), StoreError> {
        self.store.release_run_lease(&self.lease).await
    }
}

/// Takes `connection`'s run lease for a run of `kind`, or says which run holds it.
pub async fn take(
    store: &Store,
    connection: &str,
    kind: RunKind,
    timing: LeaseTiming,
) -> Result<HeldLease, RunError> {
    let asked = tokio::time::Instant::now();
    loop {
        match store
            .take_run_lease(connection, kind.as_str(), timing.lease)
            .await?
        {
            LeaseClaim::Taken(lease) => {
                return Ok(HeldLease {
                    store: store.with_lease(&lease),
                    lease,
                });
            }
            // A run that took the lease a moment ago records itself shortly: wait, so that the
            // refusal can name it.
            LeaseClaim::Held(holder)
                if holder.run_id.is_none() && asked.elapsed() < NAMING_WAIT =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            LeaseClaim::Held(holder) => return Err(RunError::InProgress(holder)),
        }
    }
}

/// Runs a preview or sync of `connection` under its run lease: refused with
/// [`RunError::InProgress`] while another run holds it.
pub async fn run(
    store: &Store,
    connection: &Connection,
    options: &RunOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
    timing: LeaseTiming,
) -> Result<RunReport, RunError> {
    let held = take(store, &connection.name, options.kind, timing).await?;
    run_held(held, connection, options, progress, timing).await
}

/// Runs a preview or sync under `held`, taken with [`take`], and releases it at the end.
pub async fn run_held(
    held: HeldLease,
    connection: &Connection,
    options: &RunOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
    timing: LeaseTiming,
) -> Result<RunReport, RunError> {
    hold(held, options.kind, timing, |leased| async move {
        run::run(&leased, connection, options, progress).await
    })
    .await
}

/// Runs `work` (given a store handle that records its run under `lease`) while renewing the
/// lease, then finishes whatever it left `running` and releases the lease.
async fn hold<F, Fut>(
    held: HeldLease,
    kind: RunKind,
    timing: LeaseTiming,
    work: F,
) -> Result<RunReport, RunError>
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = Result<RunReport, EngineError>>,
{
    let HeldLease { lease, store } = held;
    let store = &store;
    let mut renewal = tokio::spawn(keep_renewed(store.clone(), lease.clone(), timing));
    let outcome = tokio::select! {
        outcome = CatchUnwind(Box::pin(work(store.clone()))) => Some(outcome),
        _ = &mut renewal => None,
    };
    renewal.abort();
    let connection = lease.connection.clone();
    let run_id = store.leased_run_id();
    let Some(outcome) = outcome else {
        // The run is dropped where it stood; its successor has marked it interrupted.
        tracing::error!(%connection, ?run_id, "the run lost its lease and was stopped");
        return Err(RunError::LeaseLost {
            connection,
            kind: kind.as_str(),
            run_id,
            lease_seconds: timing.lease.as_secs_f64(),
        });
    };
    let result = match outcome {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(error)) => {
            // Most failures finish their run themselves; the few that return early do not.
            fail_if_running(store, run_id, &error.to_string()).await;
            Err(RunError::Engine(error))
        }
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            tracing::error!(%connection, ?run_id, %message, "a run panicked");
            fail_if_running(
                store,
                run_id,
                &format!("the run stopped on an internal error: {message}"),
            )
            .await;
            Err(RunError::Panicked {
                connection,
                kind: kind.as_str(),
                run_id,
                message,
            })
        }
    };
    if let Err(error) = store.release_run_lease(&lease).await {
        // It runs out on its own.
        tracing::warn!(connection = %lease.connection, %error, "could not release the run lease");
    }
    result
}

/// Renews the lease until it is lost. A renewal that fails (the database out of reach) is tried
/// again at the next beat: only the database can say the lease is gone.
async fn keep_renewed(store: Store, lease: RunLease, timing: LeaseTiming) {
    loop {
        tokio::time::sleep(timing.renew_every).await;
        match store.renew_run_lease(&lease, timing.lease).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => {
                tracing::warn!(connection = %lease.connection, %error, "could not renew the run lease; trying again");
            }
        }
    }
}

/// Ends run `run_id` as `failed` with `message` if it is still `running`.
async fn fail_if_running(store: &Store, run_id: Option<i64>, message: &str) {
    let Some(run_id) = run_id else {
        return;
    };
    let run = match store.run(run_id).await {
        Ok(Some(run)) if run.status == store::RUN_STATUS_RUNNING => run,
        Ok(_) => return,
        Err(error) => {
            tracing::error!(run_id, %error, "could not read the run to record its failure");
            return;
        }
    };
    let mut errors = run.errors;
    errors.push(message.to_string());
    let outcome = RunOutcome {
        status: run::RunStatus::Failed.as_str().to_string(),
        cursor_after: Value::Object(serde_json::Map::new()),
        errors,
        resets_at: None,
    };
    if let Err(error) = store.finish_run(run_id, &outcome).await {
        tracing::error!(run_id, %error, "could not record the run's failure");
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// A future that turns a panic while it is polled into an `Err` with the panic's payload.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        // The future is never polled again after a panic, so no broken state is observed.
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(context))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use store::NewRun;

    fn new_run() -> NewRun {
        NewRun {
            connection: "cvent".to_string(),
            kind: "sync".to_string(),
            data_types: vec!["people".to_string()],
            cursor_before: Value::Null,
        }
    }

    async fn stores(test: &str) -> Vec<Store> {
        let mut stores = vec![Store::open("sqlite::memory:").await.expect("SQLite")];
        let url = std::env::var("EVENTSYNC_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        match Store::open_in_schema(&url, &format!("engine_lease_{test}")).await {
            Ok(store) => stores.push(store),
            Err(error) => eprintln!("PostgreSQL skipped: {error}"),
        }
        stores
    }

    #[tokio::test]
    async fn a_run_that_panics_ends_failed_with_the_message_and_frees_its_lease() {
        for store in stores("panic").await {
            let held = take(&store, "cvent", RunKind::Sync, LeaseTiming::default())
                .await
                .expect("a free lease");
            let outcome = hold(
                held,
                RunKind::Sync,
                LeaseTiming::default(),
                |leased| async move {
                    leased.start_run(&new_run()).await?;
                    tokio::task::yield_now().await;
                    panic!("a connector bug");
                },
            )
            .await;
            let Err(RunError::Panicked {
                run_id: Some(run_id),
                message,
                ..
            }) = outcome
            else {
                panic!("{:?}: not a caught panic", store.backend());
            };
            assert_eq!(message, "a connector bug");
            let run = store.run(run_id).await.unwrap().unwrap();
            assert_eq!(run.status, "failed", "{:?}", store.backend());
            assert!(
                run.errors
                    .iter()
                    .any(|error| error.contains("a connector bug")),
                "{:?}",
                run.errors
            );
            assert_eq!(store.run_lease("cvent").await.unwrap(), None);
            take(&store, "cvent", RunKind::Sync, LeaseTiming::default())
                .await
                .expect("the lease is free again");
        }
    }

    #[tokio::test]
    async fn a_run_that_returns_early_with_an_error_is_not_left_running() {
        for store in stores("early_error").await {
            let held = take(&store, "aventri", RunKind::Preview, LeaseTiming::default())
                .await
                .expect("a free lease");
            let mut run = new_run();
            run.connection = "aventri".to_string();
            let outcome = hold(
                held,
                RunKind::Preview,
                LeaseTiming::default(),
                |leased| async move {
                    leased.start_run(&run).await?;
                    Err(EngineError::Report(std::io::Error::other("disk full")))
                },
            )
            .await;
            assert!(matches!(outcome, Err(RunError::Engine(_))), "{outcome:?}");
            let newest = store.runs(Some("aventri"), 1).await.unwrap();
            assert_eq!(newest[0].status, "failed");
            assert_eq!(store.run_lease("aventri").await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_run_that_loses_its_lease_is_stopped() {
        for store in stores("lost").await {
            let timing = LeaseTiming {
                lease: Duration::from_millis(300),
                renew_every: Duration::from_millis(50),
            };
            let held = take(&store, "soap", RunKind::Sync, timing)
                .await
                .expect("a free lease");
            let thief = held.lease.clone();
            let mut run = new_run();
            run.connection = "soap".to_string();
            let outcome = hold(held, RunKind::Sync, timing, |leased| async move {
                leased.start_run(&run).await?;
                // Another holder takes the connection over: the lease is gone from under it.
                leased.release_run_lease(&thief).await?;
                let other = leased
                    .take_run_lease("soap", "sync", Duration::from_secs(60))
                    .await?;
                assert!(matches!(other, LeaseClaim::Taken(_)));
                tokio::time::sleep(Duration::from_secs(30)).await;
                Err(EngineError::Config("never reached".to_string()))
            })
            .await;
            assert!(
                matches!(
                    outcome,
                    Err(RunError::LeaseLost {
                        run_id: Some(_),
                        ..
                    })
                ),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn the_lease_can_be_shortened_from_the_environment_only_to_a_positive_length() {
        assert!(RENEW_EVERY * 3 < LEASE, "several renewals fit in a lease");
        let short = LeaseTiming::from_seconds(Some(" 2 "));
        assert_eq!(short.lease, Duration::from_secs(2));
        assert_eq!(short.renew_every, Duration::from_millis(500));
        for ignored in [None, Some("0"), Some("-1"), Some("soon"), Some("NaN")] {
            assert_eq!(
                LeaseTiming::from_seconds(ignored),
                LeaseTiming::default(),
                "{ignored:?}"
            );
        }
    }
}
