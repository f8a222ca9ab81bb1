//! rt-server: the ResourceTracker HTTP API over diesel/SQLite.
//!
//! Modules: [`config`] (flags > env > file > defaults), [`store`] (schema, migrations, models
//! and queries), [`writer`] (the single group-commit ingest writer), [`api`] (warp routes,
//! handlers, the one error type), [`auth`] (tokens, passwords, throttling), [`jobs`]
//! (alerts, retention), [`notify`] (alert webhooks), [`metrics`] (Prometheus text), [`tls`], [`server`] (start-up and
//! graceful shutdown), [`conns`] (connection cap, idle timeout), [`cli`] (the binary's commands) and [`testing`] (an in-process server
//! for integration tests of this and other crates).

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod conns;
pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod server;
pub mod store;
pub mod testing;
pub mod tls;
pub mod writer;

pub use config::Config;
pub use server::{RunningServer, serve, start};
