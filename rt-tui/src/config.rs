//! The console's own configuration: which server to talk to (config.json in the config
//! directory) and the login token (through the shared credential store).
//!
//! Directory: `$RT_TUI_CONFIG_DIR`, else `$XDG_CONFIG_HOME/rt-tui`, else `~/.config/rt-tui`.

use rt_client::credstore::{self, CredentialStore, Secret, StoreKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const SERVICE: &str = "resourcetracker-console";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find a configuration directory: set RT_TUI_CONFIG_DIR or HOME")]
    NoDir,
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON ({source}); fix or delete it and run `rt-tui login` again")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Cred(#[from] credstore::CredError),
}

/// What `config.json` holds. Never a secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsoleConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `--ca-file` given at login: the CA(s) trusted for `server` (absolute path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Saved views of the fleet table (`:save NAME` in the console, `:view NAME` to apply).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<SavedView>,
}

/// A named filter and sort of the fleet table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub name: String,
    /// Filter line, as typed after `/`.
    #[serde(default)]
    pub filter: String,
    /// Sort column label (`health`, `name`, `last seen`, ...).
    pub sort: String,
    #[serde(default)]
    pub descending: bool,
}

pub fn config_dir() -> Result<PathBuf, ConfigError> {
    if let Some(d) = std::env::var_os("RT_TUI_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("rt-tui"));
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(h).join(".config").join("rt-tui"));
    }
    if let Some(h) = std::env::var_os("APPDATA").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(h).join("rt-tui"));
    }
    Err(ConfigError::NoDir)
}

fn config_path(dir: &Path) -> PathBuf {
    dir.join("config.json")
}

pub fn load(dir: &Path) -> Result<ConsoleConfig, ConfigError> {
    let path = config_path(dir);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|source| ConfigError::Parse { path, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConsoleConfig::default()),
        Err(source) => Err(ConfigError::Io {
            action: "read",
            path,
            source,
        }),
    }
}

pub fn save(dir: &Path, cfg: &ConsoleConfig) -> Result<(), ConfigError> {
    let path = config_path(dir);
    let io = |action, source| ConfigError::Io {
        action,
        path: path.clone(),
        source,
    };
    rt_client::files::create_private_dir(dir).map_err(|e| io("create the directory of", e))?;
    let mut body =
        serde_json::to_vec_pretty(cfg).map_err(|e| io("encode", std::io::Error::other(e)))?;
    body.push(b'\n');
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io("write", e))?;
    std::fs::write(tmp.path(), &body).map_err(|e| io("write", e))?;
    tmp.persist(&path).map_err(|e| io("replace", e.error))?;
    Ok(())
}

/// Credential-store account for a server: its host (and port), file-name safe.
pub fn account_for(server: Option<&str>) -> String {
    let host = server
        .and_then(|s| crate::client::normalize_server(s).ok())
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}_{p}"),
                None => h.to_string(),
            })
        });
    match host {
        Some(h) => h
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
        None => "default".into(),
    }
}

pub fn token_store(
    dir: &Path,
    server: Option<&str>,
) -> Result<Box<dyn CredentialStore>, ConfigError> {
    let opened = credstore::open(StoreKind::Auto, dir, SERVICE, &account_for(server))?;
    Ok(opened.store)
}

pub fn load_token(dir: &Path, server: Option<&str>) -> Result<Option<Secret>, ConfigError> {
    Ok(token_store(dir, server)?.get()?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn config_round_trip_and_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("cfg");
        assert_eq!(load(&d).unwrap(), ConsoleConfig::default());
        let cfg = ConsoleConfig {
            server: Some("http://127.0.0.1:8080".into()),
            username: Some("admin".into()),
            ca_file: Some("/etc/rt/ca.pem".into()),
            views: vec![SavedView {
                name: "attention".into(),
                filter: "crit warn".into(),
                sort: "health".into(),
                descending: true,
            }],
        };
        save(&d, &cfg).unwrap();
        assert_eq!(load(&d).unwrap(), cfg);
        assert_eq!(account_for(Some("http://127.0.0.1:8080")), "127.0.0.1_8080");
        assert_eq!(
            account_for(Some("https://rt.example.org")),
            "rt.example.org"
        );
        assert_eq!(account_for(None), "default");
        let store = token_store(&d, cfg.server.as_deref()).unwrap();
        store.set(&Secret::new("abc")).unwrap();
        assert_eq!(
            load_token(&d, cfg.server.as_deref())
                .unwrap()
                .unwrap()
                .expose(),
            "abc"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = d.join("127.0.0.1_8080.token");
            assert_eq!(
                std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
