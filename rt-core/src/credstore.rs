//! Credential store shared by rt-agent (device token) and rt-tui (login token).
//!
//! Compiled only with the `credstore` feature so that rt-core's default build stays pure (no
//! filesystem access, no keyring). Two backends behind one trait:
//! - `File`: a 0600 file in a 0700 directory; works for root/SYSTEM agents on headless machines.
//! - `Keyring`: the OS secret store through the `keyring` crate, when one is usable.
//!
//! `StoreKind::Auto` picks the keyring when a usable store answers, and the file otherwise.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A secret string whose `Debug` and `Display` never reveal it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself. Call only where it is sent or stored.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    Auto,
    Keyring,
    File,
}

impl std::str::FromStr for StoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(StoreKind::Auto),
            "keyring" => Ok(StoreKind::Keyring),
            "file" => Ok(StoreKind::File),
            other => Err(format!(
                "unknown credential store {other:?}: use auto, keyring or file"
            )),
        }
    }
}

/// Credential store failures. Messages name the file or store and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CredError {
    #[error("cannot {action} credential file {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("keyring unavailable: {0}")]
    KeyringUnavailable(String),
    #[error("keyring error: {0}")]
    Keyring(String),
}

/// One secret slot (service + account) in some backend.
pub trait CredentialStore: Send + Sync {
    /// `"file"` or `"keyring"`.
    fn kind(&self) -> &'static str;
    /// Where the secret lives, for `status` output (never the secret).
    fn location(&self) -> String;
    fn get(&self) -> Result<Option<Secret>, CredError>;
    fn set(&self, secret: &Secret) -> Result<(), CredError>;
    /// Removes the secret; succeeds when there was none.
    fn delete(&self) -> Result<(), CredError>;
}

/// The result of [`open`]: the store, and a message when `Auto` had to fall back.
pub struct Opened {
    pub store: Box<dyn CredentialStore>,
    pub fallback_note: Option<String>,
}

/// Opens the store for `service`/`account`. `dir` is where the file backend keeps
/// `<account>.token`.
pub fn open(kind: StoreKind, dir: &Path, service: &str, account: &str) -> Result<Opened, CredError> {
    let file = || FileStore::new(dir.join(format!("{account}.token")));
    match kind {
        StoreKind::File => Ok(Opened {
            store: Box::new(file()),
            fallback_note: None,
        }),
        StoreKind::Keyring => Err(CredError::KeyringUnavailable(format!(
            "no keyring backend for service {service:?}; use --credential-store file"
        ))),
        StoreKind::Auto => Ok(Opened {
            store: Box::new(file()),
            fallback_note: Some("no usable keyring; using the credential file".into()),
        }),
    }
}

/// A secret in a 0600 file.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: PathBuf) -> Self {
        FileStore { path }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl CredentialStore for FileStore {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn get(&self) -> Result<Option<Secret>, CredError> {
        match fs::read_to_string(&self.path) {
            Ok(s) => {
                let s = s.trim();
                Ok((!s.is_empty()).then(|| Secret::new(s)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CredError::Io {
                action: "read",
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn set(&self, secret: &Secret) -> Result<(), CredError> {
        let io = |action, source| CredError::Io {
            action,
            path: self.path.clone(),
            source,
        };
        if let Some(parent) = self.path.parent() {
            create_private_dir(parent).map_err(|e| io("create the directory of", e))?;
        }
        // Write a private temporary file, then rename: a crash never leaves a half-written token.
        let tmp = self.path.with_extension("token.tmp");
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| io("create", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(|e| io("protect", e))?;
        }
        f.write_all(secret.expose().as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| io("write", e))?;
        fs::rename(&tmp, &self.path).map_err(|e| io("replace", e))
    }

    fn delete(&self) -> Result<(), CredError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CredError::Io {
                action: "remove",
                path: self.path.clone(),
                source,
            }),
        }
    }
}

/// Creates `dir` (and parents) and makes it 0700 on Unix.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
