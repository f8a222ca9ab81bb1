//! Credential store shared by rt-agent (device token) and rt-tui (login token).
//!
//! Two backends behind one trait:
//! - `File`: a 0600 file in a 0700 directory; works for root/SYSTEM agents on headless machines.
//! - `Keyring`: the OS secret store through the `keyring` crate, when one is usable.
//!
//! `StoreKind::Auto` picks the keyring when a usable store answers, and the file otherwise.

use crate::files::{create_private_dir, write_private_atomic};
use crate::platform::running_as_root;
use std::fmt;
use std::fs;
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

/// How long [`open`] waits for the keyring to answer before `Auto` falls back to the file (and
/// before `Keyring` gives up). A Secret Service that is registered on D-Bus but never answers
/// (a locked or half-started desktop session) must not hang the agent.
pub const KEYRING_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the store for `service`/`account`. `dir` is where the file backend keeps
/// `<account>.token`.
///
/// - `File`: always the file.
/// - `Keyring`: the OS keyring, or an error naming the reason when it is not usable.
/// - `Auto`: the keyring when it answers a probe within [`KEYRING_PROBE_TIMEOUT`], except for
///   root (the scheduled agent of a machine-wide install starts at boot without any user
///   session, so only a file is readable then); the file otherwise, with `fallback_note` saying why.
pub fn open(
    kind: StoreKind,
    dir: &Path,
    service: &str,
    account: &str,
) -> Result<Opened, CredError> {
    let file = || FileStore::new(dir.join(format!("{account}.token")));
    match kind {
        StoreKind::File => Ok(Opened {
            store: Box::new(file()),
            fallback_note: None,
        }),
        StoreKind::Keyring => {
            let store = KeyringStore::new(service, account);
            store.probe(KEYRING_PROBE_TIMEOUT)?;
            Ok(Opened {
                store: Box::new(store),
                fallback_note: None,
            })
        }
        StoreKind::Auto => Ok(open_auto(dir, service, account, running_as_root())),
    }
}

fn open_auto(dir: &Path, service: &str, account: &str, as_root: bool) -> Opened {
    let file = FileStore::new(dir.join(format!("{account}.token")));
    if as_root {
        return Opened {
            store: Box::new(file),
            fallback_note: None,
        };
    }
    let store = KeyringStore::new(service, account);
    match store.probe(KEYRING_PROBE_TIMEOUT) {
        Ok(()) => Opened {
            store: Box::new(store),
            fallback_note: None,
        },
        Err(e) => {
            let note = format!(
                "{e}; keeping the credential in the file {} instead (0600)",
                file.path().display()
            );
            Opened {
                store: Box::new(file),
                fallback_note: Some(note),
            }
        }
    }
}

/// Runs `f` on its own thread and waits at most `timeout` for it. The keyring crates talk to
/// D-Bus / OS services that may block indefinitely; a stuck call is abandoned (its thread
/// ends whenever the call returns) and reported as unavailable.
fn bounded<T: Send + 'static>(
    timeout: std::time::Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CredError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("rt-keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| {
            CredError::KeyringUnavailable(format!("cannot start the keyring probe: {e}"))
        })?;
    rx.recv_timeout(timeout).map_err(|_| {
        CredError::KeyringUnavailable(format!(
            "the OS keyring did not answer {what} within {} s",
            timeout.as_secs_f32()
        ))
    })
}

/// A secret in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on
/// Windows) through the `keyring` crate. Every call is time-bounded.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
    account: String,
    timeout: std::time::Duration,
}

impl KeyringStore {
    pub fn new(service: &str, account: &str) -> Self {
        KeyringStore {
            service: service.to_string(),
            account: account.to_string(),
            timeout: KEYRING_PROBE_TIMEOUT,
        }
    }

    /// Checks that the keyring answers for this entry (reading it; "no entry" counts as usable).
    pub fn probe(&self, timeout: std::time::Duration) -> Result<(), CredError> {
        let (service, account) = (self.service.clone(), self.account.clone());
        let answer = bounded(timeout, "a probe", move || {
            if let Err(e) = keyring::Entry::store_status() {
                return Err(unavailable(e));
            }
            let entry = keyring::Entry::new(&service, &account).map_err(|e| unavailable(&e))?;
            match entry.get_password() {
                Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(unavailable(&e)),
            }
        })?;
        answer.map_err(CredError::KeyringUnavailable)
    }

    fn call<T: Send + 'static>(
        &self,
        what: &str,
        f: impl FnOnce(keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<keyring::Result<T>, CredError> {
        let (service, account) = (self.service.clone(), self.account.clone());
        let res = bounded(self.timeout, what, move || {
            keyring::Entry::new(&service, &account).and_then(f)
        })?;
        Ok(res)
    }
}

/// The keyring's error text, without anything secret (its errors carry no secret values, but
/// `BadEncoding`/`BadDataFormat` carry the stored bytes, which we never print).
fn unavailable(e: &keyring::Error) -> String {
    match e {
        keyring::Error::BadEncoding(_) => "the stored keyring entry is not UTF-8".into(),
        keyring::Error::BadDataFormat(_, _) => "the stored keyring entry is malformed".into(),
        keyring::Error::NoDefaultStore => {
            "no OS keyring is reachable (no Secret Service on D-Bus, Keychain or Credential Manager)"
                .into()
        }
        other => format!("OS keyring: {other}"),
    }
}

impl CredentialStore for KeyringStore {
    fn kind(&self) -> &'static str {
        "keyring"
    }

    fn location(&self) -> String {
        format!(
            "OS keyring, service {:?}, account {:?}",
            self.service, self.account
        )
    }

    fn get(&self) -> Result<Option<Secret>, CredError> {
        match self.call("a read", |e| e.get_password())? {
            Ok(s) => Ok(Some(Secret::new(s))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(CredError::Keyring(unavailable(&e))),
        }
    }

    fn set(&self, secret: &Secret) -> Result<(), CredError> {
        let value = secret.expose().to_string();
        self.call("a write", move |e| e.set_password(&value))?
            .map_err(|e| CredError::Keyring(unavailable(&e)))
    }

    fn delete(&self) -> Result<(), CredError> {
        match self.call("a delete", |e| e.delete_credential())? {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(CredError::Keyring(unavailable(&e))),
        }
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
        // A private temporary file, then rename: a crash never leaves a half-written token.
        write_private_atomic(&self.path, secret.expose().as_bytes()).map_err(|e| io("write", e))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_store_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("state");
        let opened = open(StoreKind::File, &sub, "rt-agent", "device").unwrap();
        assert!(opened.fallback_note.is_none());
        let store = opened.store;
        assert_eq!(store.kind(), "file");
        assert_eq!(store.get().unwrap(), None);
        store.set(&Secret::new("rtd_secret_value")).unwrap();
        assert_eq!(store.get().unwrap().unwrap().expose(), "rtd_secret_value");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file_mode = fs::metadata(sub.join("device.token"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(file_mode & 0o777, 0o600, "token file must be 0600");
            let dir_mode = fs::metadata(&sub).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o777, 0o700, "state dir must be 0700");
        }
        // Overwrite keeps 0600 and leaves no temporary file behind.
        store.set(&Secret::new("second")).unwrap();
        assert_eq!(store.get().unwrap().unwrap().expose(), "second");
        let names: Vec<_> = fs::read_dir(&sub)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("device.token")]);
        store.delete().unwrap();
        store.delete().unwrap();
        assert_eq!(store.get().unwrap(), None);
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn store_kind_parses_and_rejects() {
        assert_eq!("Keyring".parse::<StoreKind>().unwrap(), StoreKind::Keyring);
        assert_eq!(" file ".parse::<StoreKind>().unwrap(), StoreKind::File);
        let err = "vault".parse::<StoreKind>().unwrap_err();
        assert!(err.contains("auto, keyring or file"), "{err}");
    }

    #[test]
    fn bounded_gives_up_on_a_call_that_never_answers() {
        let started = std::time::Instant::now();
        let err = bounded(std::time::Duration::from_millis(100), "a probe", || {
            std::thread::sleep(std::time::Duration::from_secs(30));
        })
        .unwrap_err();
        assert!(matches!(err, CredError::KeyringUnavailable(_)), "{err}");
        assert!(err.to_string().contains("did not answer"), "{err}");
        // Not a performance assert: only that we did not wait for the 30 s call.
        assert!(started.elapsed() < std::time::Duration::from_secs(29));
    }

    /// This build machine (like any headless server or SSH session) has no Secret Service on
    /// D-Bus: `Auto` must fall back to the file with a note, and `Keyring` must fail with a
    /// message instead of hanging. Skipped only when a keyring *is* reachable (a desktop).
    #[test]
    fn auto_falls_back_to_file_without_a_reachable_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let keyring_usable = KeyringStore::new("rt-test-probe", "probe")
            .probe(KEYRING_PROBE_TIMEOUT)
            .is_ok();
        let explicit = open(StoreKind::Keyring, dir.path(), "rt-test", "device");
        // As a normal user (the case that probes the keyring), whoever runs the tests.
        let auto = open_auto(dir.path(), "rt-test", "device", false);
        if keyring_usable {
            assert!(explicit.is_ok());
            assert_eq!(auto.store.kind(), "keyring");
            return;
        }
        let err = explicit.err().unwrap();
        assert!(matches!(err, CredError::KeyringUnavailable(_)), "{err}");
        assert!(err.to_string().contains("keyring"), "{err}");
        assert_eq!(auto.store.kind(), "file");
        assert!(auto.store.location().ends_with("device.token"));
        let note = auto.fallback_note.unwrap();
        assert!(note.contains("device.token"), "{note}");
        // The fallback store works.
        auto.store.set(&Secret::new("x")).unwrap();
        assert_eq!(auto.store.get().unwrap().unwrap().expose(), "x");
    }

    #[test]
    fn auto_uses_the_file_for_root_without_probing() {
        let dir = tempfile::tempdir().unwrap();
        let auto = open_auto(dir.path(), "rt-test", "device", true);
        assert_eq!(auto.store.kind(), "file");
        assert!(auto.fallback_note.is_none());
    }
}
