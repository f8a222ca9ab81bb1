//! Prometheus counters, written out in the text exposition format by hand (a handful of
//! series do not need a metrics crate).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the write-batch latency histogram.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    pub samples_accepted: AtomicU64,
    pub samples_duplicate: AtomicU64,
    pub samples_conflict: AtomicU64,
    pub samples_rejected: AtomicU64,
    pub write_groups: AtomicU64,
    pub write_batches: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    /// Rows deleted by retention, per tier (`store::retention::Tier::ALL` order).
    retention_deleted: [AtomicU64; 4],
    /// Retention runs in which the database size cap cut deeper into retention.
    pub retention_cap_cuts: AtomicU64,
}

/// Values read from the database at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub devices_total: u64,
    pub devices_online: u64,
    /// Bytes of the database's pages in use.
    pub database_bytes: u64,
    /// `[retention] max_database_bytes`.
    pub database_cap_bytes: Option<u64>,
    /// Days each tier keeps now (`store::retention::Tier::ALL` order; None: forever): the
    /// configured retention or what the size cap left of it.
    pub retention_kept_days: [Option<u32>; 4],
    /// Whether the size cap cuts each tier.
    pub retention_cut: [bool; 4],
}

/// The route templates the request counter labels by. `{id}` matches a number, `{name}` any
/// one segment. A path that matches none is counted as `unmatched`, so the label set stays
/// this list plus one however many different paths clients send. A new route adds its
/// template here (until then it counts as `unmatched`).
pub const ROUTES: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/auth/me",
    "/api/v1/users",
    "/api/v1/users/{id}",
    "/api/v1/api-tokens",
    "/api/v1/api-tokens/{id}",
    "/api/v1/enrollment-tokens",
    "/api/v1/enrollment-tokens/{id}",
    "/api/v1/enroll",
    "/api/v1/enroll/preview",
    "/api/v1/telemetry",
    "/api/v1/devices",
    "/api/v1/devices/{id}",
    "/api/v1/devices/{id}/metrics",
    "/api/v1/devices/{id}/events",
    "/api/v1/fleet/summary",
    "/api/v1/export/{name}",
    "/api/v1/alerts",
    "/api/v1/alerts/{id}/ack",
    "/api/v1/alerts/{id}/silence",
    "/api/v1/openapi.json",
    "/livez",
    "/readyz",
    "/metrics",
    "/downloads/{name}",
];

/// The label of requests that match no route template.
pub const UNMATCHED: &str = "unmatched";

/// The route template `path` matches, or [`UNMATCHED`].
pub fn route_label(path: &str) -> &'static str {
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .find(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(p, s)| match *p {
                    "{id}" => {
                        !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit())
                    }
                    "{name}" => !s.is_empty(),
                    lit => lit == *s,
                })
        })
        .copied()
        .unwrap_or(UNMATCHED)
}

/// HTTP methods the API uses; anything else is counted as `OTHER` (the method is a label too).
fn method_label(method: &str) -> &'static str {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("OTHER")
}

impl Metrics {
    pub fn record_request(&self, method: &str, path: &str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method_label(method), route_label(path), status))
                .or_insert(0) += 1;
        }
    }

    pub fn record_write_group(&self, batches: usize, took: Duration) {
        self.write_groups.fetch_add(1, Ordering::Relaxed);
        self.write_batches
            .fetch_add(batches as u64, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn record_retention(&self, report: &crate::store::retention::Report) {
        for (tier, n) in &report.deleted {
            self.retention_deleted[*tier as usize].fetch_add(*n, Ordering::Relaxed);
        }
        if report.cut_deeper {
            self.retention_cap_cuts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The exposition text.
    pub fn render(&self, g: Gauges) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP rt_http_requests_total HTTP requests by method, route and status."
        );
        let _ = writeln!(out, "# TYPE rt_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "rt_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(out, "# HELP rt_samples_total Telemetry samples by outcome.");
        let _ = writeln!(out, "# TYPE rt_samples_total counter");
        for (label, v) in [
            ("accepted", &self.samples_accepted),
            ("duplicate", &self.samples_duplicate),
            ("conflict", &self.samples_conflict),
            ("rejected", &self.samples_rejected),
        ] {
            let _ = writeln!(
                out,
                "rt_samples_total{{outcome=\"{label}\"}} {}",
                v.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP rt_write_batches_total Telemetry batches written by the writer."
        );
        let _ = writeln!(out, "# TYPE rt_write_batches_total counter");
        let _ = writeln!(
            out,
            "rt_write_batches_total {}",
            self.write_batches.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP rt_write_group_seconds Latency of one group-commit transaction."
        );
        let _ = writeln!(out, "# TYPE rt_write_group_seconds histogram");
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "rt_write_group_seconds_bucket{{le=\"{le}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "rt_write_group_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "rt_write_group_seconds_sum {}",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "rt_write_group_seconds_count {count}");
        let _ = writeln!(out, "# HELP rt_devices Enrolled devices.");
        let _ = writeln!(out, "# TYPE rt_devices gauge");
        let _ = writeln!(out, "rt_devices {}", g.devices_total);
        let _ = writeln!(
            out,
            "# HELP rt_devices_online Devices seen within their offline threshold."
        );
        let _ = writeln!(out, "# TYPE rt_devices_online gauge");
        let _ = writeln!(out, "rt_devices_online {}", g.devices_online);
        let tiers = crate::store::retention::Tier::ALL;
        let _ = writeln!(
            out,
            "# HELP rt_retention_deleted_total Rows deleted by retention, by storage tier."
        );
        let _ = writeln!(out, "# TYPE rt_retention_deleted_total counter");
        for t in tiers {
            let _ = writeln!(
                out,
                "rt_retention_deleted_total{{tier=\"{}\"}} {}",
                t.as_str(),
                self.retention_deleted[t as usize].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP rt_retention_cap_cuts_total Retention runs in which the database size cap cut deeper into retention."
        );
        let _ = writeln!(out, "# TYPE rt_retention_cap_cuts_total counter");
        let _ = writeln!(
            out,
            "rt_retention_cap_cuts_total {}",
            self.retention_cap_cuts.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP rt_retention_kept_seconds How long a storage tier keeps data now (absent: forever)."
        );
        let _ = writeln!(out, "# TYPE rt_retention_kept_seconds gauge");
        for t in tiers {
            if let Some(d) = g.retention_kept_days[t as usize] {
                let secs = u64::from(d) * 86_400;
                let _ = writeln!(
                    out,
                    "rt_retention_kept_seconds{{tier=\"{}\"}} {secs}",
                    t.as_str()
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP rt_retention_cut 1 when the database size cap keeps a tier for less time than configured."
        );
        let _ = writeln!(out, "# TYPE rt_retention_cut gauge");
        for t in tiers {
            let _ = writeln!(
                out,
                "rt_retention_cut{{tier=\"{}\"}} {}",
                t.as_str(),
                u8::from(g.retention_cut[t as usize])
            );
        }
        let _ = writeln!(
            out,
            "# HELP rt_database_bytes Bytes of the database's pages in use."
        );
        let _ = writeln!(out, "# TYPE rt_database_bytes gauge");
        let _ = writeln!(out, "rt_database_bytes {}", g.database_bytes);
        if let Some(cap) = g.database_cap_bytes {
            let _ = writeln!(
                out,
                "# HELP rt_database_cap_bytes The database size cap ([retention] max_database_bytes)."
            );
            let _ = writeln!(out, "# TYPE rt_database_cap_bytes gauge");
            let _ = writeln!(out, "rt_database_cap_bytes {cap}");
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_templates_and_everything_else_is_unmatched() {
        assert_eq!(
            route_label("/api/v1/devices/42/events"),
            "/api/v1/devices/{id}/events"
        );
        assert_eq!(route_label("/downloads/rt-agent"), "/downloads/{name}");
        assert_eq!(
            route_label("/api/v1/export/samples"),
            "/api/v1/export/{name}"
        );
        for p in [
            "/wp-admin/x.php",
            "/api/v1/nope",
            "/api/v1/devices/abc",
            "/api/v1/devices/42/",
            "/api/v1/devices/99999999999999999999",
            "/",
            "",
        ] {
            assert_eq!(route_label(p), UNMATCHED, "{p}");
        }
    }

    #[test]
    fn thousands_of_paths_and_methods_give_a_bounded_label_set() {
        let m = Metrics::default();
        for i in 0..5000 {
            m.record_request(&format!("M{i}"), &format!("/api/v1/x{i}"), 404);
            m.record_request("GET", &format!("/api/v1/devices/{i}"), 200);
        }
        assert_eq!(m.requests.lock().unwrap().len(), 2);
    }

    #[test]
    fn render_has_the_documented_series() {
        let m = Metrics::default();
        m.record_request("GET", "/api/v1/devices/3", 200);
        m.samples_accepted.fetch_add(5, Ordering::Relaxed);
        m.record_write_group(2, Duration::from_millis(3));
        let text = m.render(Gauges {
            devices_total: 2,
            devices_online: 1,
            database_bytes: 4096,
            retention_kept_days: [Some(9), Some(90), Some(730), None],
            retention_cut: [true, false, false, false],
            ..Default::default()
        });
        assert!(text.contains(
            "rt_http_requests_total{method=\"GET\",route=\"/api/v1/devices/{id}\",status=\"200\"} 1"
        ));
        assert!(text.contains("rt_samples_total{outcome=\"accepted\"} 5"));
        assert!(text.contains("rt_write_group_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("rt_devices_online 1"));
        assert!(text.contains("rt_retention_kept_seconds{tier=\"raw\"} 777600"));
        assert!(!text.contains("rt_retention_kept_seconds{tier=\"1d\"}"));
        assert!(text.contains("rt_retention_cut{tier=\"raw\"} 1"));
        assert!(text.contains("rt_retention_deleted_total{tier=\"5m\"} 0"));
        assert!(text.contains("rt_database_bytes 4096"));
    }
}
