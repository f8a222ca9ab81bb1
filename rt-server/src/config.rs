//! Server configuration. Precedence: command-line flag > environment (`RT_...`) > TOML file
//! (`--config`) > built-in default. Every setting has a default, so `rt-server` runs with none.

use rt_core::health::HealthPolicy;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./rt-data";
/// Seconds between two collections an agent is told at enrollment.
pub const DEFAULT_COLLECTION_INTERVAL_S: u32 = 300;

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// SQLite database file (a path or `file:` URL). Default `<data_dir>/rt.db`.
    pub database_url: String,
    pub downloads_dir: PathBuf,
    pub tls: Option<TlsFiles>,
    pub collection_interval_s: u32,
    pub session_hours: u32,
    /// How long each storage tier is kept, and the optional database size cap (`[retention]`).
    pub retention: Retention,
    pub limits: Limits,
    pub health: HealthPolicy,
    /// Serve `/metrics` without authentication (default true; bind to loopback or firewall it).
    pub metrics_public: bool,
    /// Alert rules and notification receivers (`[alerts]`, docs/alerts.md).
    pub alerts: crate::notify::AlertsConfig,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Request size, time and concurrency limits (documented in docs/api.md and docs/security.md).
/// Together they bound what one client, authenticated or not, can make the server hold.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Bytes of a telemetry request body as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Bytes of a telemetry body after gzip decompression (checked while inflating).
    pub max_decompressed_bytes: usize,
    /// Bytes of one sample inside a telemetry body.
    pub max_sample_bytes: usize,
    /// Bytes of telemetry bodies being received at once, server-wide.
    pub max_inflight_body_bytes: usize,
    /// Bytes of any other JSON request body.
    pub max_json_bytes: usize,
    /// Samples in one telemetry batch.
    pub max_samples_per_batch: usize,
    /// Open connections; at the cap the longest-idle one is closed to make room. Lowered
    /// automatically below the process's open-files limit.
    pub max_connections: usize,
    /// Seconds a client may take to send its request headers.
    pub header_timeout_s: u64,
    /// Seconds a client may take to send a request body (408 after that).
    pub body_timeout_s: u64,
    /// Seconds a keep-alive connection may stay idle between requests.
    pub idle_timeout_s: u64,
    /// Exports streaming at once, server-wide.
    pub max_exports: usize,
    /// Exports streaming at once per user.
    pub max_exports_per_user: usize,
    /// Seconds an export waits for a slow reader to take the next chunk before it is cut off.
    pub export_write_timeout_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            max_decompressed_bytes: 8 * 1024 * 1024,
            max_sample_bytes: 128 * 1024,
            max_inflight_body_bytes: 32 * 1024 * 1024,
            max_json_bytes: 256 * 1024,
            max_samples_per_batch: rt_core::validate::limits::MAX_SAMPLES_PER_BATCH,
            max_connections: 1024,
            header_timeout_s: 10,
            body_timeout_s: 30,
            idle_timeout_s: 60,
            max_exports: 8,
            max_exports_per_user: 2,
            export_write_timeout_s: 30,
        }
    }
}

/// Days each storage tier is kept (0 = keep forever) and an optional cap on the database's
/// size. The cap shortens the tiers (raw first) while the database is larger than it; see
/// `store::retention` and docs/operations.md "Retention".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Raw samples (each device's latest sample is kept however old).
    pub raw_days: u32,
    /// 5-minute rollups.
    pub rollup_5m_days: u32,
    /// Hourly rollups.
    pub rollup_1h_days: u32,
    /// Daily rollups (default 0: kept).
    pub rollup_1d_days: u32,
    /// Bytes the database may use (its pages in use, not counting free pages SQLite reuses);
    /// None: no cap.
    pub max_database_bytes: Option<u64>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_days: 14,
            rollup_5m_days: 90,
            rollup_1h_days: 730,
            rollup_1d_days: 0,
            max_database_bytes: None,
        }
    }
}

/// The TOML file. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub downloads_dir: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub collection_interval_s: Option<u32>,
    pub session_hours: Option<u32>,
    /// Before `[retention]`: days raw samples are kept. Still read, as `[retention] raw_days`.
    pub retention_days: Option<u32>,
    pub retention: Option<Retention>,
    pub metrics_public: Option<bool>,
    pub limits: Option<Limits>,
    pub health: Option<HealthPolicy>,
    pub alerts: Option<crate::notify::AlertsConfig>,
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("config file {} is not valid: {e}", path.display()))
    }
}

/// Values given on the command line or in the environment (clap merges those two).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub downloads_dir: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub collection_interval_s: Option<u32>,
    pub config: Option<PathBuf>,
}

impl Config {
    /// All defaults, data in `data_dir`.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        let data_dir = data_dir.into();
        Config {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            database_url: default_db(&data_dir),
            downloads_dir: data_dir.join("downloads"),
            data_dir,
            tls: None,
            collection_interval_s: DEFAULT_COLLECTION_INTERVAL_S,
            session_hours: 12,
            retention: Retention::default(),
            limits: Limits::default(),
            health: HealthPolicy::default(),
            metrics_public: true,
            alerts: crate::notify::AlertsConfig::default(),
        }
    }

    /// Merge flags/env over the file over defaults.
    pub fn resolve(o: Overrides) -> anyhow::Result<Config> {
        let file = match &o.config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        let data_dir = o
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let mut c = Config::with_data_dir(&data_dir);
        if let Some(l) = o.listen.or(file.listen) {
            c.listen = l;
        }
        if let Some(u) = o.database_url.or(file.database_url) {
            c.database_url = u;
        }
        if let Some(d) = o.downloads_dir.or(file.downloads_dir) {
            c.downloads_dir = d;
        }
        match (o.tls_cert.or(file.tls_cert), o.tls_key.or(file.tls_key)) {
            (Some(cert), Some(key)) => c.tls = Some(TlsFiles { cert, key }),
            (None, None) => {}
            _ => anyhow::bail!("TLS needs both --tls-cert and --tls-key"),
        }
        if let Some(i) = o.collection_interval_s.or(file.collection_interval_s) {
            anyhow::ensure!(i >= 10, "collection interval must be at least 10 seconds");
            c.collection_interval_s = i;
        }
        if let Some(h) = file.session_hours {
            anyhow::ensure!(h >= 1, "session_hours must be at least 1");
            c.session_hours = h;
        }
        if let Some(r) = file.retention {
            c.retention = r;
        }
        if let Some(days) = file.retention_days {
            // The old top-level key meant raw samples; giving both would be ambiguous.
            anyhow::ensure!(
                file.retention.is_none(),
                "config has both `retention_days` and `[retention]`: move it to `[retention] raw_days = {days}`"
            );
            c.retention.raw_days = days;
        }
        if let Some(cap) = c.retention.max_database_bytes {
            anyhow::ensure!(
                cap >= 1024 * 1024,
                "[retention] max_database_bytes must be at least 1048576 (1 MiB)"
            );
        }
        if let Some(m) = file.metrics_public {
            c.metrics_public = m;
        }
        if let Some(l) = file.limits {
            c.limits = l;
        }
        if let Some(h) = file.health {
            c.health = h;
        }
        if let Some(a) = file.alerts {
            let problems = a.rules.validate();
            anyhow::ensure!(
                problems.is_empty(),
                "[alerts.rules] is not valid: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            c.alerts = a;
        }
        Ok(c)
    }
}

fn default_db(data_dir: &Path) -> String {
    data_dir.join("rt.db").to_string_lossy().into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rt.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ncollection_interval_s = 60\nsession_hours = 2\n[limits]\nmax_samples_per_batch = 10\n",
        )
        .unwrap();
        let c = Config::resolve(Overrides {
            config: Some(file.clone()),
            collection_interval_s: Some(120),
            data_dir: Some(dir.path().into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.collection_interval_s, 120);
        assert_eq!(c.session_hours, 2);
        assert_eq!(c.limits.max_samples_per_batch, 10);
        assert_eq!(c.limits.max_json_bytes, Limits::default().max_json_bytes);
        assert!(c.database_url.ends_with("rt.db"));
    }

    #[test]
    fn unknown_keys_in_the_file_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rt.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let err = Config::resolve(Overrides {
            config: Some(file),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn retention_tiers_from_the_file_and_the_old_key_maps_to_raw() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rt.toml");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            Config::resolve(Overrides {
                config: Some(file.clone()),
                ..Default::default()
            })
        };
        let c =
            load("[retention]\nrollup_5m_days = 30\nmax_database_bytes = 10737418240\n").unwrap();
        assert_eq!(
            c.retention,
            Retention {
                rollup_5m_days: 30,
                max_database_bytes: Some(10 * 1024 * 1024 * 1024),
                ..Retention::default()
            }
        );
        // A configuration written before the tiers existed still loads: raw samples.
        let c = load("retention_days = 180\n").unwrap();
        assert_eq!(c.retention.raw_days, 180);
        assert_eq!(c.retention.rollup_1h_days, 730);
        let err = load("retention_days = 180\n[retention]\nraw_days = 7\n").unwrap_err();
        assert!(err.to_string().contains("raw_days = 180"), "{err}");
        let err = load("[retention]\nmax_database_bytes = 10\n").unwrap_err();
        assert!(err.to_string().contains("max_database_bytes"), "{err}");
        let err = load("[retention]\nraw = 7\n").unwrap_err();
        assert!(err.to_string().contains("raw"), "{err}");
    }

    #[test]
    fn zero_config_defaults() {
        let c = Config::resolve(Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(c.collection_interval_s, 300);
        assert_eq!(
            (
                c.retention.raw_days,
                c.retention.rollup_5m_days,
                c.retention.rollup_1h_days,
                c.retention.rollup_1d_days,
                c.retention.max_database_bytes
            ),
            (14, 90, 730, 0, None)
        );
        assert!(c.tls.is_none());
    }
}
