//! Run leases: at most one preview or sync per connection at a time, whichever process starts it.
//!
//! A lease is a row of `run_leases` per connection: who holds it (the store's owner tag), a token
//! naming this one taking, the run it covers once recorded, and when it runs out. It is taken in
//! one transaction (SQLite `BEGIN IMMEDIATE`; PostgreSQL `INSERT … ON CONFLICT DO NOTHING`, then
//! the row `FOR UPDATE`), renewed while the run goes on, and deleted when the run ends. A lease
//! that has run out, or whose holder is known to be gone (a dead process on this host, a store
//! closed in this process), is taken over, and the run it covered, if still `running`, is marked
//! interrupted in the same transaction — by whichever process takes it; a run so marked stores no
//! further page, so a holder that wakes up after the takeover cannot write over its successor.
//! Times are the processes' clocks, as everywhere in the store; hosts sharing a database keep
//! them in step (NTP).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A lease this store holds on a connection; give it back with [`crate::Store::release_run_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLease {
    pub connection: String,
    /// Names this one taking of the lease, so that a holder that lost it (it ran out and another
    /// process took it) can neither renew nor release its successor's.
    pub token: String,
}

/// Who holds a connection's lease, to name in a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    pub connection: String,
    /// `preview` or `sync`.
    pub kind: String,
    /// The run, once the holder has recorded it.
    pub run_id: Option<i64>,
    /// When the run started, or — before it is recorded — when the lease was taken.
    pub started_at: String,
    /// The holder's owner tag: `host/pid/instance`.
    pub holder: String,
    pub expires_at: String,
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (host, pid) = crate::owner::host_and_pid(&self.holder);
        match self.run_id {
            Some(run_id) => write!(
                formatter,
                "connection '{}' has a {} going: run {run_id}, started {}, by process {pid} on \
                 host {host}; wait for it to end (`eventsync runs`), or — if that process is \
                 gone — for its lease to run out at {}",
                self.connection, self.kind, self.started_at, self.expires_at
            ),
            None => write!(
                formatter,
                "connection '{}' has a {} starting since {}, by process {pid} on host {host}; \
                 wait for it to end (`eventsync runs`), or — if that process is gone — for its \
                 lease to run out at {}",
                self.connection, self.kind, self.started_at, self.expires_at
            ),
        }
    }
}

/// What [`crate::Store::take_run_lease`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseClaim {
    Taken(RunLease),
    /// Another run holds the connection.
    Held(LeaseHolder),
}

/// The error list of a run whose holder's lease was taken over, with the reason added.
pub(crate) fn append_takeover(
    errors: &str,
    run_id: i64,
    holder: &str,
    expires_at: &str,
    taker: &str,
) -> Result<String, StoreError> {
    let mut errors: Vec<String> = serde_json::from_str(errors).map_err(|error| {
        StoreError::Corrupt(format!(
            "the errors of run {run_id} are not a list: {error}"
        ))
    })?;
    errors.push(format!(
        "interrupted: the process that ran it ({holder}) stopped renewing its lease on the \
         connection (it ran out at {expires_at}, or the process is gone); {taker} took the \
         connection over"
    ));
    serde_json::to_string(&errors)
        .map_err(|error| StoreError::Corrupt(format!("run {run_id} errors: {error}")))
}

/// Whether a lease row no longer holds: it ran out, or its holder is known to be gone.
pub(crate) fn is_free(holder: &str, expires_at: &str, now: &str) -> bool {
    expires_at <= now || crate::owner::is_gone(holder)
}

/// The deadline of a lease taken or renewed now.
pub(crate) fn deadline(lease: Duration) -> String {
    crate::serve::lease_deadline(lease)
}

/// Lease queries in SQL both dialects read (`$n` parameters). `$begin` opens a write
/// transaction (SQLite's takes the write lock at once), `$for_update` locks the row read in it
/// (PostgreSQL), and `$json`/`$text` convert JSON columns in and out.
macro_rules! lease_queries {
    ($store:ty, $write:ident, $begin:ident, $for_update:expr, $json:expr, $text:expr) => {
        impl $store {
            pub(crate) async fn take_run_lease(
                &self,
                connection: &str,
                kind: &str,
                holder: &str,
                lease: std::time::Duration,
            ) -> Result<crate::lease::LeaseClaim, crate::StoreError> {
                use sqlx::Row;
                let operation = format!("taking the run lease of {connection}");
                let failed = |error| crate::error::query_failed(&operation, error);
                let token = uuid::Uuid::new_v4().simple().to_string();
                let taken = crate::lease::LeaseClaim::Taken(crate::lease::RunLease {
                    connection: connection.to_string(),
                    token: token.clone(),
                });
                // A lease released between the insert and the read is simply tried again.
                for _ in 0..3 {
                    let now = crate::time::now();
                    let mut transaction = self.$begin(&operation).await?;
                    let inserted = sqlx::query(
                        "INSERT INTO run_leases (connection, token, holder, kind, run_id, taken_at, expires_at)
                         VALUES ($1, $2, $3, $4, NULL, $5, $6) ON CONFLICT (connection) DO NOTHING",
                    )
                    .bind(connection)
                    .bind(token.as_str())
                    .bind(holder)
                    .bind(kind)
                    .bind(now.as_str())
                    .bind(crate::lease::deadline(lease))
                    .execute(&mut *transaction)
                    .await
                    .map_err(failed)?;
                    if inserted.rows_affected() == 1 {
                        transaction.commit().await.map_err(failed)?;
                        return Ok(taken);
                    }
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT l.holder, l.kind, l.run_id, l.taken_at, l.expires_at, r.started_at,
                                r.status, r.errors{text}
                         FROM run_leases l LEFT JOIN runs r ON r.id = l.run_id
                         WHERE l.connection = $1 {for_update}",
                        text = $text,
                        for_update = $for_update,
                    )))
                    .bind(connection)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(failed)?;
                    let Some(row) = row else {
                        transaction.commit().await.map_err(failed)?;
                        continue;
                    };
                    let held_by: String = row.try_get(0).map_err(failed)?;
                    let held_kind: String = row.try_get(1).map_err(failed)?;
                    let run_id: Option<i64> = row.try_get(2).map_err(failed)?;
                    let taken_at: String = row.try_get(3).map_err(failed)?;
                    let expires_at: String = row.try_get(4).map_err(failed)?;
                    let started_at: Option<String> = row.try_get(5).map_err(failed)?;
                    let status: Option<String> = row.try_get(6).map_err(failed)?;
                    let errors: Option<String> = row.try_get(7).map_err(failed)?;
                    if !crate::lease::is_free(&held_by, &expires_at, &now) {
                        transaction.commit().await.map_err(failed)?;
                        return Ok(crate::lease::LeaseClaim::Held(crate::lease::LeaseHolder {
                            connection: connection.to_string(),
                            kind: held_kind,
                            run_id,
                            started_at: started_at.unwrap_or(taken_at),
                            holder: held_by,
                            expires_at,
                        }));
                    }
                    if let (Some(run_id), Some(crate::RUN_STATUS_RUNNING), Some(errors)) =
                        (run_id, status.as_deref(), errors)
                    {
                        let errors = crate::lease::append_takeover(
                            &errors, run_id, &held_by, &expires_at, holder,
                        )?;
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "UPDATE runs SET status = 'interrupted', finished_at = $2, errors = $3{json}
                             WHERE id = $1 AND status = 'running'",
                            json = $json,
                        )))
                        .bind(run_id)
                        .bind(now.as_str())
                        .bind(errors)
                        .execute(&mut *transaction)
                        .await
                        .map_err(failed)?;
                        tracing::warn!(
                            connection, run_id, holder = %held_by, %expires_at,
                            "took over a run lease that ran out; its run is marked interrupted"
                        );
                    }
                    sqlx::query(
                        "UPDATE run_leases SET token = $2, holder = $3, kind = $4, run_id = NULL,
                                taken_at = $5, expires_at = $6
                         WHERE connection = $1",
                    )
                    .bind(connection)
                    .bind(token.as_str())
                    .bind(holder)
                    .bind(kind)
                    .bind(now.as_str())
                    .bind(crate::lease::deadline(lease))
                    .execute(&mut *transaction)
                    .await
                    .map_err(failed)?;
                    transaction.commit().await.map_err(failed)?;
                    return Ok(taken);
                }
                Err(crate::StoreError::Query(format!(
                    "{operation}: other processes kept taking and releasing it; try again"
                )))
            }

            pub(crate) async fn renew_run_lease(
                &self,
                lease: &crate::lease::RunLease,
                duration: std::time::Duration,
            ) -> Result<bool, crate::StoreError> {
                let operation = format!("renewing the run lease of {}", lease.connection);
                let failed = |error| crate::error::query_failed(&operation, error);
                let now = crate::time::now();
                let mut transaction = self.$begin(&operation).await?;
                let renewed = sqlx::query(
                    "UPDATE run_leases SET expires_at = $3 WHERE connection = $1 AND token = $2",
                )
                .bind(lease.connection.as_str())
                .bind(lease.token.as_str())
                .bind(crate::lease::deadline(duration))
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
                // The run's own heartbeat goes with it, so a run waiting out a rate limit is
                // never taken for abandoned.
                sqlx::query(
                    "UPDATE runs SET heartbeat_at = $3 WHERE status = 'running' AND id =
                         (SELECT run_id FROM run_leases WHERE connection = $1 AND token = $2)",
                )
                .bind(lease.connection.as_str())
                .bind(lease.token.as_str())
                .bind(now.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
                transaction.commit().await.map_err(failed)?;
                Ok(renewed.rows_affected() == 1)
            }

            pub(crate) async fn release_run_lease(
                &self,
                lease: &crate::lease::RunLease,
            ) -> Result<(), crate::StoreError> {
                sqlx::query("DELETE FROM run_leases WHERE connection = $1 AND token = $2")
                    .bind(lease.connection.as_str())
                    .bind(lease.token.as_str())
                    .execute(&self.$write)
                    .await
                    .map_err(|error| {
                        crate::error::query_failed(
                            format!("releasing the run lease of {}", lease.connection),
                            error,
                        )
                    })?;
                Ok(())
            }

            pub(crate) async fn leased_run(
                &self,
                lease: &crate::lease::RunLease,
            ) -> Result<Option<i64>, crate::StoreError> {
                let run_id: Option<Option<i64>> = sqlx::query_scalar(
                    "SELECT run_id FROM run_leases WHERE connection = $1 AND token = $2",
                )
                .bind(lease.connection.as_str())
                .bind(lease.token.as_str())
                .fetch_optional(&self.$write)
                .await
                .map_err(|error| {
                    crate::error::query_failed(
                        format!("reading the run lease of {}", lease.connection),
                        error,
                    )
                })?;
                Ok(run_id.flatten())
            }

            pub(crate) async fn run_lease(
                &self,
                connection: &str,
            ) -> Result<Option<crate::lease::LeaseHolder>, crate::StoreError> {
                use sqlx::Row;
                let operation = format!("reading the run lease of {connection}");
                let failed = |error| crate::error::query_failed(&operation, error);
                let row = sqlx::query(
                    "SELECT l.holder, l.kind, l.run_id, l.taken_at, l.expires_at, r.started_at
                     FROM run_leases l LEFT JOIN runs r ON r.id = l.run_id
                     WHERE l.connection = $1",
                )
                .bind(connection)
                .fetch_optional(&self.$write)
                .await
                .map_err(failed)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let holder: String = row.try_get(0).map_err(failed)?;
                let expires_at: String = row.try_get(4).map_err(failed)?;
                if crate::lease::is_free(&holder, &expires_at, &crate::time::now()) {
                    return Ok(None);
                }
                let taken_at: String = row.try_get(3).map_err(failed)?;
                let started_at: Option<String> = row.try_get(5).map_err(failed)?;
                Ok(Some(crate::lease::LeaseHolder {
                    connection: connection.to_string(),
                    kind: row.try_get(1).map_err(failed)?,
                    run_id: row.try_get(2).map_err(failed)?,
                    started_at: started_at.unwrap_or(taken_at),
                    holder,
                    expires_at,
                }))
            }
        }
    };
}

pub(crate) use lease_queries;
