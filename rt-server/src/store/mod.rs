//! The diesel/SQLite store: connection set-up, embedded migrations, a small connection pool for
//! readers and short admin writes, and the models with their queries (one file each).
//!
//! Error policy: functions here return [`StoreError`]; the HTTP layer maps it to a generic
//! 500/503 without SQL text or paths, and logs the detail.
//!
//! Ingest writes do not use the pool: they go through the single writer thread in
//! [`crate::writer`], which groups concurrent batches into one transaction.

pub mod alerts;
pub mod codec;
pub mod devices;
pub mod enrollment;
pub mod events;
pub mod fleet;
pub mod retention;
pub mod rollups;
pub mod samples;
pub mod schema;
pub mod types;
pub mod upgrade;
pub mod users;

use chrono::{DateTime, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::sync::{Arc, Mutex};

/// The SQL migrations of `migrations/sqlite`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// How long a connection waits for SQLite's write lock before giving up.
const BUSY_TIMEOUT_MS: u32 = 10_000;
/// Idle connections kept by the pool; more are opened on demand and closed after use.
const POOL_IDLE_MAX: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {}", with_sources(.0))]
    Query(#[from] diesel::result::Error),
    #[error("cannot open database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("database task failed: {0}")]
    Task(String),
}

/// An error's message followed by its sources' messages: diesel keeps why a stored value could
/// not be read (`devices.lifecycle_state holds "stolen", ...`, see [`types`]) in the source of its
/// "Error deserializing field" error, and the log should say it.
fn with_sources(e: &diesel::result::Error) -> String {
    let mut out = e.to_string();
    let mut last = out.clone();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        let text = c.to_string();
        if text != last {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
        cur = c.source();
    }
    out
}

impl StoreError {
    /// SQLite could not grow the database or its journal: the disk (or quota) is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Query(diesel::result::Error::DatabaseError(_, info)) => {
                is_disk_full_message(info.message())
            }
            StoreError::Query(e) => is_disk_full_message(&e.to_string()),
            _ => false,
        }
    }
}

/// Whether an SQLite error text is SQLITE_FULL ("database or disk is full").
pub fn is_disk_full_message(message: &str) -> bool {
    message.contains("database or disk is full")
}

/// Bytes free for unprivileged writers on the file system holding `path` (None when unknown).
pub fn free_bytes(path: &std::path::Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let st = rustix::fs::statvfs(path).ok()?;
        Some(st.f_bavail.saturating_mul(st.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Make the data directory private (0700) and the SQLite file at `db` owner-only (0600),
/// creating it empty if needed. SQLite gives its `-wal` and `-shm` files the mode of the
/// database file, so they follow.
pub fn make_private(
    data_dir: &std::path::Path,
    db: Option<&std::path::Path>,
) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
        if let Some(db) = db {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(db)?;
            std::fs::set_permissions(db, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (data_dir, db);
    }
    Ok(())
}

/// The database file of a plain-path SQLite URL (None for `file:` URLs and `:memory:`).
pub fn database_file(url: &str) -> Option<std::path::PathBuf> {
    (!url.starts_with("file:") && !url.starts_with(':') && !url.is_empty())
        .then(|| std::path::PathBuf::from(url))
}

/// Shared handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

struct Inner {
    url: String,
    idle: Mutex<Vec<SqliteConnection>>,
}

impl Store {
    /// Open (creating if needed) the database at `url` (a file path or `file:` URL) and run
    /// pending migrations.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        let mut conn = establish(url)?;
        // WAL is a property of the database file; set it once here.
        conn.batch_execute("PRAGMA journal_mode = WAL;")?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        upgrade::run_pending(&mut conn)?;
        let store = Store {
            inner: Arc::new(Inner {
                url: url.to_string(),
                idle: Mutex::new(Vec::new()),
            }),
        };
        store.put_back(conn);
        Ok(store)
    }

    /// A fresh connection with the session pragmas set (used by the writer thread and the CLI).
    pub fn connect(&self) -> Result<SqliteConnection, StoreError> {
        establish(&self.inner.url)
    }

    fn take(&self) -> Result<SqliteConnection, StoreError> {
        let pooled = self.inner.idle.lock().ok().and_then(|mut v| v.pop());
        match pooled {
            Some(c) => Ok(c),
            None => self.connect(),
        }
    }

    fn put_back(&self, conn: SqliteConnection) {
        if let Ok(mut v) = self.inner.idle.lock()
            && v.len() < POOL_IDLE_MAX
        {
            v.push(conn);
        }
    }

    /// Run `f` with a pooled connection on tokio's blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let mut conn = store.take().map_err(E::from)?;
            let out = f(&mut conn);
            // Every query here runs inside `conn.transaction(..)` or none at all, so the
            // connection is clean again; a panic drops it instead.
            store.put_back(conn);
            out
        })
        .await;
        match joined {
            Ok(r) => r,
            Err(e) => Err(E::from(StoreError::Task(e.to_string()))),
        }
    }

    /// Synchronous variant for the CLI (no runtime needed).
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&mut SqliteConnection) -> Result<T, E>,
    {
        let mut conn = self.take().map_err(E::from)?;
        let out = f(&mut conn);
        self.put_back(conn);
        out
    }
}

fn establish(url: &str) -> Result<SqliteConnection, StoreError> {
    let mut conn = SqliteConnection::establish(url)?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
    ))?;
    Ok(conn)
}

/// Milliseconds since the Unix epoch (the storage format of every timestamp).
pub fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Inverse of [`to_ms`]; out-of-range values (impossible for data we wrote) clamp to the epoch.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Whether the database answers (for `/readyz`).
pub fn ping(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    conn.batch_execute("SELECT 1;")?;
    Ok(())
}
