//! The harness the store's test files share: a fresh database per test on SQLite (a temporary
//! file) and PostgreSQL (a schema of its own at `EVENTSYNC_TEST_POSTGRES`), and a macro that
//! runs each test function on both.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use store::{Backend, Store, StoreError};

pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Where one test's database lives; removed when the test ends, pass or fail.
#[derive(Debug, Clone)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

/// What a test gets: an open store, and the means to open the same database again.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub store: Store,
    pub location: Location,
}

impl TestDatabase {
    pub async fn reopen(&self) -> Store {
        open(&self.location)
            .await
            .expect("reopening the test database")
    }
}

pub async fn open(location: &Location) -> Result<Store, StoreError> {
    match location {
        Location::Sqlite(path) => Store::open(&path.display().to_string()).await,
        Location::Postgres { url, schema } => Store::open_in_schema(url, schema).await,
    }
}

pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestDatabase) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let path = std::env::temp_dir().join(format!("{}.db", unique_name("eventsync_store_test")));
    let location = Location::Sqlite(path.clone());
    let store = open(&location).await.expect("opening a fresh SQLite store");
    assert_eq!(store.backend(), Backend::Sqlite);
    let outcome = tokio::spawn(test(TestDatabase { store, location })).await;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(TestDatabase) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let url =
        std::env::var("EVENTSYNC_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_string());
    if !postgres_reachable(&url).await {
        // Past the harness's output capture, so a skip is always seen.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: PostgreSQL not reachable at {} (set EVENTSYNC_TEST_POSTGRES)",
            store::redact_url(&url)
        );
        return;
    }
    let schema = unique_name("store_test");
    let location = Location::Postgres {
        url: url.clone(),
        schema: schema.clone(),
    };
    let store = open(&location)
        .await
        .expect("opening a fresh PostgreSQL store");
    assert_eq!(store.backend(), Backend::Postgres);
    let outcome = tokio::spawn(test(TestDatabase {
        store: store.clone(),
        location,
    }))
    .await;
    store.close().await;
    drop_schema(&url, &schema).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// Whether anything listens at the URL's host and port; a server that answers but refuses us
/// is a failure to report, not a reason to skip.
pub async fn postgres_reachable(url: &str) -> bool {
    let Ok(options) = sqlx::postgres::PgConnectOptions::from_str(url) else {
        return false;
    };
    let address = format!("{}:{}", options.get_host(), options.get_port());
    matches!(
        tokio::time::timeout(
            Duration::from_secs(3),
            tokio::net::TcpStream::connect(address)
        )
        .await,
        Ok(Ok(_))
    )
}

pub async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection;
    let mut connection = sqlx::postgres::PgConnection::connect(url)
        .await
        .expect("connecting to drop the test schema");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&mut connection)
    .await
    .expect("dropping the test schema");
    let _ = connection.close().await;
}

/// One `#[tokio::test]` per backend for each test function.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::on_sqlite(super::$test).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::on_postgres(super::$test).await;
            })*
        }
    };
}

pub(crate) use on_both_backends;
