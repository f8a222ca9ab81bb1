//! An in-process rt-server for integration tests (of this crate and of rt-agent / rt-tui, which
//! take rt-server as a dev-dependency): a real SQLite file in a temporary directory, a real
//! listener on 127.0.0.1, an admin account and an admin API token.
//!
//! ```no_run
//! # async fn t() -> anyhow::Result<()> {
//! let server = rt_server::testing::TestServer::start().await?;
//! let token = server.enrollment_token().await?;
//! // ... talk to server.url with reqwest ...
//! server.stop().await;
//! # Ok(()) }
//! ```

use crate::auth::{self, TokenKind, hash_token, new_token};
use crate::config::Config;
use crate::server::{RunningServer, open_store};
use crate::store::{enrollment, users};
use chrono::{Duration, Utc};
use rt_core::Role;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// User name of the admin account every test server has.
pub const ADMIN_USER: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin-password-123";

/// A running test server. Dropping it without `stop` leaves the server running until the
/// test's runtime ends.
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub addr: SocketAddr,
    /// An API token of user "admin".
    pub admin_token: String,
    pub config: Config,
    data_dir: PathBuf,
    server: Option<RunningServer>,
    _temp: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Fresh temporary data directory, port chosen by the OS.
    pub async fn start() -> anyhow::Result<TestServer> {
        let temp = tempfile::tempdir()?;
        let mut s = Self::start_in(temp.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        s._temp = Some(temp);
        Ok(s)
    }

    /// Use `data_dir` (kept after stop, so a server can be restarted on the same data) and
    /// `listen` (port 0 for any).
    pub async fn start_in(data_dir: &Path, listen: SocketAddr) -> anyhow::Result<TestServer> {
        let mut config = Config::with_data_dir(data_dir);
        config.listen = listen;
        Self::start_with(config).await
    }

    /// Start with a prepared configuration (its data directory must exist or be creatable).
    pub async fn start_with(config: Config) -> anyhow::Result<TestServer> {
        let data_dir = config.data_dir.clone();
        let store = open_store(&config)?;
        let admin_token = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
            let now = Utc::now();
            let admin = match store.run_sync(|c| users::find_by_name(c, ADMIN_USER))? {
                Some(u) => u,
                None => {
                    let hash =
                        auth::hash_password(ADMIN_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
                    store
                        .run_sync(|c| users::create(c, ADMIN_USER, &hash, Role::Admin, now))?
                        .ok_or_else(|| anyhow::anyhow!("admin user could not be created"))?
                }
            };
            let token = new_token(TokenKind::Api);
            store.run_sync(|c| {
                users::insert_token(
                    c,
                    admin.id,
                    users::UserTokenKind::Api,
                    "test-admin",
                    &hash_token(&token),
                    now,
                    None,
                )
            })?;
            Ok(token)
        })
        .await??;
        let server = crate::server::start(config.clone()).await?;
        Ok(TestServer {
            url: server.url(),
            addr: server.addr,
            admin_token,
            config,
            data_dir,
            server: Some(server),
            _temp: None,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A fresh enrollment token made by the admin (valid 24 h, 1,000,000 uses, creates new
    /// devices only).
    pub async fn enrollment_token(&self) -> anyhow::Result<String> {
        self.enrollment_token_with(false).await
    }

    /// Like [`Self::enrollment_token`], optionally allowed to re-enroll known hardware.
    pub async fn enrollment_token_with(&self, allow_reenroll: bool) -> anyhow::Result<String> {
        let store = open_store(&self.config)?;
        tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
            let now = Utc::now();
            let admin = store
                .run_sync(|c| users::find_by_name(c, ADMIN_USER))?
                .ok_or_else(|| anyhow::anyhow!("admin user missing"))?;
            let token = new_token(TokenKind::Enrollment);
            store.run_sync(|c| {
                enrollment::create(
                    c,
                    &hash_token(&token),
                    admin.id,
                    now,
                    &enrollment::NewEnrollmentToken {
                        expires_at: now + Duration::hours(24),
                        max_uses: Some(1_000_000),
                        note: Some("test"),
                        allow_reenroll,
                    },
                )
            })?;
            Ok(token)
        })
        .await?
    }

    /// Create a user with `role` and return an API token for it.
    pub async fn user_token(&self, name: &str, role: Role) -> anyhow::Result<String> {
        let store = open_store(&self.config)?;
        let name = name.to_string();
        tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
            let now = Utc::now();
            let user = match store.run_sync(|c| users::find_by_name(c, &name))? {
                Some(u) => u,
                None => {
                    let hash = auth::hash_password(&format!("{name}-password-123"))
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    store
                        .run_sync(|c| users::create(c, &name, &hash, role, now))?
                        .ok_or_else(|| anyhow::anyhow!("user could not be created"))?
                }
            };
            let token = new_token(TokenKind::Api);
            store.run_sync(|c| {
                users::insert_token(
                    c,
                    user.id,
                    users::UserTokenKind::Api,
                    "test",
                    &hash_token(&token),
                    now,
                    None,
                )
            })?;
            Ok(token)
        })
        .await?
    }

    /// Graceful shutdown: in-flight requests finish, pending writes are committed, the port
    /// is free when this returns.
    pub async fn stop(mut self) {
        if let Some(s) = self.server.take()
            && let Err(e) = s.shutdown().await
        {
            tracing::warn!(error = %e, "test server shutdown failed");
        }
    }
}

/// A throw-away private CA and a server certificate it signed for `127.0.0.1` (the files of a
/// test HTTPS server), made with the `openssl` tool in [`test_pki`]'s directory.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate (PEM): what a client's `--ca-file` names.
    pub ca: PathBuf,
    /// The server's certificate (PEM, SAN `IP:127.0.0.1`) and its private key.
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestPki {
    /// The TLS files for [`Config::tls`].
    pub fn tls_files(&self) -> crate::config::TlsFiles {
        crate::config::TlsFiles {
            cert: self.cert.clone(),
            key: self.key.clone(),
        }
    }
}

/// Makes a CA (`/CN=<name>`) and a leaf for 127.0.0.1 in `dir` (created), valid one day.
pub fn test_pki(dir: &Path, name: &str) -> anyhow::Result<TestPki> {
    use anyhow::Context;
    std::fs::create_dir_all(dir)?;
    let ossl = |args: &[&str]| -> anyhow::Result<()> {
        let out = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .context("the openssl tool is needed to make test certificates")?;
        anyhow::ensure!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    let subject = format!("/CN={name}");
    ossl(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", &subject,
        "-keyout", "ca.key", "-out", "ca.pem",
    ])?;
    ossl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ])?;
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )?;
    ossl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ])?;
    Ok(TestPki {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    })
}
