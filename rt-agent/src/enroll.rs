//! Enrollment without a terminal: `POST /api/v1/enroll`, then the device token goes to the
//! credential store and the enrollment to `config.json`. Reused by the interactive wizard.
//!
//! Order matters for Ctrl-C and crashes: the token is stored first and `config.json` (the
//! "enrolled" marker) last, each atomically, so an interrupted enrollment leaves the previous
//! enrollment (or none) in force, never a half-written one.

use crate::state::{AgentConfig, StateDir};
use crate::upload::{UploadState, http_client};
use anyhow::{Context, Result, bail};
use chrono::Utc;
use rt_client::credstore::{Secret, StoreKind};
use rt_core::api::{EnrollPreview, EnrollRequest, EnrollResponse};
use rt_core::inventory::Inventory;
use std::path::PathBuf;
use std::time::Duration;

/// Where the server is and which CAs vouch for it.
#[derive(Debug, Clone)]
pub struct Server {
    /// http(s) URL, checked by [`normalize_server_url`].
    pub url: String,
    /// `--ca-file`: trust exactly the CA(s) in this PEM file (absolute path), not the system's.
    pub ca_file: Option<PathBuf>,
}

impl Server {
    /// A server verified with the system's trust store.
    pub fn new(url: impl Into<String>) -> Server {
        Server {
            url: url.into(),
            ca_file: None,
        }
    }

    /// Checks the CA file (readable, holds a PEM certificate) and makes its path absolute, so
    /// the agent finds it again when a scheduler starts it from another directory.
    pub fn with_ca_file(mut self, ca_file: Option<PathBuf>) -> Result<Server> {
        self.ca_file = match ca_file {
            None => None,
            Some(p) => {
                rt_client::tls::read_ca_file(&p)?;
                Some(std::path::absolute(&p).with_context(|| {
                    format!("cannot make the CA file path {} absolute", p.display())
                })?)
            }
        };
        Ok(self)
    }
}

/// How the device proves it may enroll.
#[derive(Debug, Clone)]
pub enum EnrollAuth {
    /// An enrollment token made by an admin.
    Token(Secret),
    /// A user account (admin or otherwise allowed by the server).
    Password { username: String, password: Secret },
}

/// Checks that `url` is an http(s) URL and returns it without a trailing slash.
pub fn normalize_server_url(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    let host = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"))
        .unwrap_or("");
    if host.is_empty() {
        bail!(
            "server URL {url:?} must start with http:// or https:// (e.g. https://rt.example.com)"
        );
    }
    Ok(u.to_string())
}

/// Enrolls (blocking; builds its own runtime — call [`enroll_async`] from async code).
#[allow(clippy::too_many_arguments)]
pub fn enroll_with(
    server: &Server,
    auth: EnrollAuth,
    inventory: Inventory,
    name: Option<String>,
    asset_tag: Option<String>,
    assignee: Option<String>,
    store_kind: StoreKind,
    state_dir: &StateDir,
) -> Result<EnrollResponse> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(enroll_async(
        server, auth, inventory, name, asset_tag, assignee, store_kind, state_dir,
    ))
}

/// Enrolls this device and stores the result in `state_dir`.
#[allow(clippy::too_many_arguments)]
pub async fn enroll_async(
    server: &Server,
    auth: EnrollAuth,
    inventory: Inventory,
    name: Option<String>,
    asset_tag: Option<String>,
    assignee: Option<String>,
    store_kind: StoreKind,
    state_dir: &StateDir,
) -> Result<EnrollResponse> {
    let server_url = normalize_server_url(&server.url)?;
    let (enrollment_token, username, password) = match auth {
        EnrollAuth::Token(t) => (Some(t.expose().to_string()), None, None),
        EnrollAuth::Password { username, password } => {
            (None, Some(username), Some(password.expose().to_string()))
        }
    };
    let req = EnrollRequest {
        enrollment_token,
        username,
        password,
        inventory,
        device_name: name.clone(),
        asset_tag,
        assignee,
    };
    let client = http_client(
        Duration::from_secs(10),
        Duration::from_secs(60),
        server.ca_file.as_deref(),
    )?;
    let url = format!("{server_url}/api/v1/enroll");
    let resp = client
        .post(&url)
        .json(&req)
        .send()
        .await
        .map_err(|e| unreachable(&server_url, server, e))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .context("the server's answer was cut off")?;
    if !status.is_success() {
        let detail = serde_json::from_slice::<rt_core::ErrorBody>(&body)
            .map(|b| b.error.to_string())
            .unwrap_or_else(|_| format!("HTTP {}", status.as_u16()));
        let hint = match status.as_u16() {
            401 | 403 => {
                "; check the enrollment token (it may be expired or used up) or the credentials"
            }
            404 => "; is this the ResourceTracker server URL?",
            _ => "",
        };
        bail!("enrollment refused: {detail}{hint}");
    }
    let enrolled: EnrollResponse =
        serde_json::from_slice(&body).context("the server's enrollment answer is not valid")?;

    state_dir.ensure()?;
    let opened = state_dir.credential_store(store_kind)?;
    if let Some(note) = &opened.fallback_note {
        tracing::info!("{note}");
    }
    opened
        .store
        .set(&Secret::new(enrolled.device_token.clone()))
        .context("cannot store the device token")?;
    let stored_kind = match opened.store.kind() {
        "keyring" => StoreKind::Keyring,
        _ => StoreKind::File,
    };
    state_dir.save_config(&AgentConfig {
        server_url,
        device_id: enrolled.device_id,
        device_name: name,
        collection_interval_s: enrolled.collection_interval_s.max(1),
        credential_store: stored_kind,
        enrolled_at: Utc::now(),
        ca_file: server.ca_file.clone(),
    })?;
    // A new token clears a refused one and any backoff earned with the old server.
    let mut st = UploadState::load(state_dir).unwrap_or_default();
    st.auth_failure = None;
    st.next_attempt_at = None;
    st.consecutive_failures = 0;
    st.last_error = None;
    // Sequence continuity: after a reinstall the queue starts above what the server stores.
    st.seq_floor = st.seq_floor.max(enrolled.max_seq.unwrap_or(0));
    st.save(state_dir)?;
    Ok(enrolled)
}

/// Asks the server what enrolling would do (`POST /api/v1/enroll/preview`): is this hardware
/// already a device, and may these credentials enroll it. Nothing is changed on the server.
/// Ok(None) when the server predates the preview.
pub fn preview(
    server: &Server,
    auth: &EnrollAuth,
    inventory: &Inventory,
) -> Result<Option<EnrollPreview>> {
    let server_url = normalize_server_url(&server.url)?;
    let (enrollment_token, username, password) = match auth {
        EnrollAuth::Token(t) => (Some(t.expose().to_string()), None, None),
        EnrollAuth::Password { username, password } => (
            None,
            Some(username.clone()),
            Some(password.expose().to_string()),
        ),
    };
    let req = EnrollRequest {
        enrollment_token,
        username,
        password,
        inventory: inventory.clone(),
        device_name: None,
        asset_tag: None,
        assignee: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let client = http_client(
            Duration::from_secs(10),
            Duration::from_secs(60),
            server.ca_file.as_deref(),
        )?;
        let resp = client
            .post(format!("{server_url}/api/v1/enroll/preview"))
            .json(&req)
            .send()
            .await
            .map_err(|e| unreachable(&server_url, server, e))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .context("the server's answer was cut off")?;
        if status.as_u16() == 404 {
            return Ok(None);
        }
        if !status.is_success() {
            let detail = serde_json::from_slice::<rt_core::ErrorBody>(&body)
                .map(|b| b.error.message)
                .unwrap_or_else(|_| format!("HTTP {}", status.as_u16()));
            bail!("enrollment refused: {detail}");
        }
        serde_json::from_slice(&body)
            .map(Some)
            .context("the server's preview answer is not valid")
    })
}

/// "cannot reach the server", with the error chain and, for an untrusted certificate, what to
/// pass.
fn unreachable(server_url: &str, server: &Server, e: reqwest::Error) -> anyhow::Error {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = src {
        chain.push_str(&s.to_string());
        chain.push_str(": ");
        src = s.source();
    }
    match rt_client::tls::untrusted_certificate_hint(&chain, server.ca_file.as_deref()) {
        Some(hint) => anyhow::anyhow!("cannot reach the server at {server_url}: {hint}"),
        None => anyhow::Error::new(e).context(format!(
            "cannot reach the server at {server_url}; check the URL and the network"
        )),
    }
}

/// Parses a collection interval in the one duration grammar (`30s`, `15m`, `1h`) into seconds.
pub fn parse_interval(s: &str) -> Result<u32> {
    let secs = rt_client::duration::parse_secs(s)?;
    u32::try_from(secs).with_context(|| format!("interval {s:?} is too long"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse() {
        assert!(parse_interval("90").is_err(), "a unit is required");
        assert_eq!(parse_interval("30s").unwrap(), 30);
        assert_eq!(parse_interval("15m").unwrap(), 900);
        assert_eq!(parse_interval("1h").unwrap(), 3600);
        assert!(parse_interval("0m").is_err());
        assert!(parse_interval("5 parsecs").is_err());
        assert!(parse_interval("m").is_err());
    }

    #[test]
    fn server_urls_are_checked() {
        assert_eq!(
            normalize_server_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(normalize_server_url("127.0.0.1:8080").is_err());
        assert!(normalize_server_url("ftp://x").is_err());
        assert!(normalize_server_url("https://").is_err());
    }
}
