//! rt-client: what the programs on the client side of the API share (DESIGN.md §3).
//!
//! - [`api`] (feature `api`): the typed `/api/v1` client with errors that say what to do;
//! - [`credstore`]: secrets in the OS keyring or a private file;
//! - [`files`]: private (0600/0700) files and directories, replaced atomically;
//! - [`duration`]: the one duration grammar of every flag and prompt (`90s`, `15m`, `24h`, `7d`);
//! - [`platform`]: the one "running as root/admin" check;
//! - [`stdio`]: a closed stdout (`| head`) ends the program quietly with exit code 0;
//! - [`tls`]: the TLS crypto provider every client installs before building its HTTP client.
//!
//! rt-core stays pure (no file system, no keyring, no HTTP); everything with side effects that
//! rt-tui, rt-agent and rt-sim have in common lives here, once.

#[cfg(feature = "api")]
pub mod api;
pub mod credstore;
pub mod duration;
pub mod files;
pub mod platform;
pub mod stdio;
pub mod tls;

pub use credstore::Secret;
