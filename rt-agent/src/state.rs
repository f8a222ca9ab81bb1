//! The agent's state directory: where it lives, what is in it, and the small JSON files
//! (`config.json`, `upload.json`) that are replaced atomically.
//!
//! Layout (all files 0600, the directory and `queue/` 0700):
//! ```text
//! <state>/config.json        enrollment: server URL, device id, interval, credential store
//! <state>/device.token       device token (file credential store only)
//! <state>/upload.json        upload/backoff state and last collection/upload times
//! <state>/queue/             durable sample queue (see `queue`)
//! <state>/quarantine.ndjson  samples the server permanently rejected, with its reason
//! ```

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rt_client::credstore::{self, StoreKind};
use rt_core::DeviceId;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Keyring service and account of the device token.
pub const CRED_SERVICE: &str = "resourcetracker-agent";
pub const CRED_ACCOUNT: &str = "device";

/// The agent's state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

/// What `enroll` stores (everything but the token, which lives in the credential store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    pub server_url: String,
    pub device_id: DeviceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// Collection interval in seconds (from the server at enrollment, or `--interval`).
    pub collection_interval_s: u32,
    /// Where the device token lives.
    pub credential_store: StoreKind,
    pub enrolled_at: DateTime<Utc>,
    /// The PEM file of the CA(s) this agent trusts for the server instead of the system's
    /// (`enroll --ca-file`); absent: the operating system's trust store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl StateDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StateDir { root: root.into() }
    }

    /// `--state-dir` / `RT_AGENT_STATE_DIR` when given, else the platform default.
    pub fn resolve(explicit: Option<&Path>) -> Self {
        match explicit {
            Some(p) => StateDir::new(p),
            None => StateDir::new(default_state_dir()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Creates the directory (0700) if needed.
    pub fn ensure(&self) -> Result<()> {
        rt_client::files::create_private_dir(&self.root)
            .with_context(|| format!("cannot create state directory {}", self.root.display()))
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }
    pub fn upload_state_path(&self) -> PathBuf {
        self.root.join("upload.json")
    }
    pub fn queue_dir(&self) -> PathBuf {
        self.root.join("queue")
    }
    pub fn quarantine_path(&self) -> PathBuf {
        self.root.join("quarantine.ndjson")
    }

    /// The enrollment, or None when this state directory was never enrolled.
    pub fn load_config(&self) -> Result<Option<AgentConfig>> {
        read_json(&self.config_path())
    }

    pub fn save_config(&self, cfg: &AgentConfig) -> Result<()> {
        self.ensure()?;
        write_json_atomic(&self.config_path(), cfg)
    }

    /// The enrollment, or an error that says to enroll first.
    pub fn require_config(&self) -> Result<AgentConfig> {
        self.load_config()?.with_context(|| {
            format!(
                "this device is not enrolled (no {}); run `rt-agent enroll` first",
                self.config_path().display()
            )
        })
    }

    /// The credential store holding the device token.
    pub fn credential_store(&self, kind: StoreKind) -> Result<credstore::Opened> {
        credstore::open(kind, &self.root, CRED_SERVICE, CRED_ACCOUNT)
            .context("cannot open the credential store")
    }
}

/// Platform default state directory (DESIGN.md §6, issue: root, user, Windows).
pub fn default_state_dir() -> PathBuf {
    #[cfg(windows)]
    {
        let base = std::env::var_os("ProgramData").unwrap_or_else(|| "C:\\ProgramData".into());
        PathBuf::from(base).join("ResourceTracker")
    }
    #[cfg(not(windows))]
    {
        if rt_client::platform::running_as_root() {
            #[cfg(target_os = "macos")]
            return PathBuf::from("/Library/Application Support/ResourceTracker");
            #[cfg(not(target_os = "macos"))]
            return PathBuf::from("/var/lib/rt-agent");
        }
        if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
            return PathBuf::from(x).join("rt-agent");
        }
        let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
        PathBuf::from(home).join(".local/state/rt-agent")
    }
}

/// Reads a JSON file; Ok(None) when it does not exist.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{} is not valid JSON", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes JSON through a private temporary file, fsync and rename, so a crash leaves either
/// the old or the new file, never a torn one.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).context("cannot encode JSON")?;
    write_private_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))
}

// The private-file helpers are rt-client's; re-exported for the agent's modules.
pub use rt_client::files::{create_private_file, sync_dir, write_private_atomic};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_and_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let sd = StateDir::new(tmp.path().join("state"));
        assert!(sd.load_config().unwrap().is_none());
        assert!(
            sd.require_config()
                .unwrap_err()
                .to_string()
                .contains("rt-agent enroll")
        );
        let cfg = AgentConfig {
            server_url: "http://127.0.0.1:1".into(),
            device_id: DeviceId(7),
            device_name: Some("lab-1".into()),
            collection_interval_s: 900,
            credential_store: StoreKind::File,
            enrolled_at: Utc::now(),
            ca_file: Some("/etc/rt/ca.pem".into()),
        };
        sd.save_config(&cfg).unwrap();
        assert_eq!(sd.load_config().unwrap(), Some(cfg));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(sd.path()), 0o700);
            assert_eq!(mode(&sd.config_path()), 0o600);
        }
    }
}
