//! Device health: one pure function from (latest sample, last contact, expected interval,
//! policy, now) to a [`Health`] level with short human reasons, and [`for_lifecycle`], the rule
//! for devices whose lifecycle state does not expect telemetry.
//!
//! "Seen" is the newest sample's time (`collected_at`), not the last upload: a device that was
//! silent for days and then uploads its backlog was silent, so it is offline until a sample
//! collected within the offline window arrives. The last contact (upload time) only counts for a
//! device that has no sample yet.
//!
//! Order of decisions:
//! 1. no sample and no contact → `unknown` ("never reported");
//! 2. seen (newest sample time, else last contact) longer ago than
//!    `offline_after_intervals × interval` → `offline` ("not seen for 3h"), followed by the
//!    reasons the last sample still gives (they were true when it was last heard from);
//! 3. contacted but no sample yet → `unknown` ("no telemetry yet");
//! 4. otherwise the worst level of the rules below; `ok` has no reasons.
//!
//! Rules ([`HealthPolicy`] holds the thresholds; defaults in brackets):
//!
//! | rule | warning | critical |
//! | --- | --- | --- |
//! | fixed (non-removable) disk used | >= `disk_warn_pct` [90] | >= `disk_crit_pct` [95] |
//! | SMART self-assessment | | not passed |
//! | SMART wear (NVMe percentage used) | >= `smart_wear_warn_pct` [100] | |
//! | temperature sensor | >= critical − `temp_warn_margin_c` [10] | >= its critical point (or `fallback_critical_c` [100] when the sensor has none) |
//! | SMART drive temperature | >= `disk_temp_crit_c` − margin | >= `disk_temp_crit_c` [70] |
//! | battery health (present battery) | < `battery_health_warn_pct` [60] | |
//! | memory pressure | memory used >= `memory_warn_pct` [95] AND (no swap OR swap used >= `swap_warn_pct` [50]) | |
//!
//! CPU usage is never a health problem on its own: a busy machine is doing its job.

use crate::api::{Health, HealthLevel};
use crate::lifecycle::LifecycleState;
use crate::sample::Sample;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Health thresholds. Deserialised from the server's config (`[health]` table); every field is
/// optional there and defaults to the value documented on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthPolicy {
    /// Fullest fixed disk at or above this used percent → warning. Default 90.
    pub disk_warn_pct: f64,
    /// Fullest fixed disk at or above this used percent → critical. Default 95.
    pub disk_crit_pct: f64,
    /// NVMe "percentage used" at or above this → warning (drive past its rated endurance).
    /// Default 100.
    pub smart_wear_warn_pct: f64,
    /// A sensor within this many °C below its critical point → warning. Default 10.
    pub temp_warn_margin_c: f64,
    /// Critical point for sensors that do not report one, °C. Default 100.
    pub fallback_critical_c: f64,
    /// Critical temperature of drives (SMART temperature), °C. Default 70.
    pub disk_temp_crit_c: f64,
    /// Battery health (full / design capacity) below this percent → warning. Default 60.
    pub battery_health_warn_pct: f64,
    /// Memory used at or above this percent (together with the swap rule) → warning. Default 95.
    pub memory_warn_pct: f64,
    /// Swap used at or above this percent of swap (or no swap at all) makes high memory use a
    /// warning. Default 50.
    pub swap_warn_pct: f64,
    /// A device not seen for this many expected intervals is offline. Default 3.
    pub offline_after_intervals: u32,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            disk_warn_pct: 90.0,
            disk_crit_pct: 95.0,
            smart_wear_warn_pct: 100.0,
            temp_warn_margin_c: 10.0,
            fallback_critical_c: 100.0,
            disk_temp_crit_c: 70.0,
            battery_health_warn_pct: 60.0,
            memory_warn_pct: 95.0,
            swap_warn_pct: 50.0,
            offline_after_intervals: 3,
        }
    }
}

impl HealthPolicy {
    /// Seconds without contact after which a device reporting every `expected_interval_s` is
    /// offline. An interval of 0 is treated as 1 s.
    pub fn offline_after_s(&self, expected_interval_s: u32) -> i64 {
        i64::from(self.offline_after_intervals.max(1)) * i64::from(expected_interval_s.max(1))
    }
}

/// Short duration for humans: "45s", "12m", "3h", "5d".
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    if s < 90 {
        format!("{s}s")
    } else if s < 90 * 60 {
        format!("{}m", s / 60)
    } else if s < 48 * 3600 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// Evaluate one device's health. See the module documentation for the rules.
pub fn evaluate(
    latest: Option<&Sample>,
    last_contact: Option<DateTime<Utc>>,
    expected_interval_s: u32,
    policy: &HealthPolicy,
    now: DateTime<Utc>,
) -> Health {
    let findings = latest
        .map(|s| sample_findings(s, policy))
        .unwrap_or_default();
    evaluate_findings(
        latest.map(|s| s.collected_at),
        &findings,
        last_contact,
        expected_interval_s,
        policy,
        now,
    )
}

/// The same rule as [`evaluate`], from what is stored of the latest sample instead of the sample
/// itself: when it was collected (None: no sample yet) and its [`sample_findings`] (in rule
/// order). `evaluate` calls this, so both give the same answer for the same sample.
pub fn evaluate_findings(
    latest_collected_at: Option<DateTime<Utc>>,
    findings: &[(HealthLevel, String)],
    last_contact: Option<DateTime<Utc>>,
    expected_interval_s: u32,
    policy: &HealthPolicy,
    now: DateTime<Utc>,
) -> Health {
    let seen = seen_at(latest_collected_at, last_contact);
    let Some(seen) = seen else {
        return Health {
            level: HealthLevel::Unknown,
            reasons: vec!["never reported".into()],
        };
    };
    let silent_s = (now - seen).num_seconds();
    if silent_s > policy.offline_after_s(expected_interval_s) {
        let mut reasons = vec![format!("not seen for {}", human_duration(silent_s))];
        if latest_collected_at.is_some() {
            reasons.extend(findings.iter().map(|(_, r)| r.clone()));
        }
        return Health {
            level: HealthLevel::Offline,
            reasons,
        };
    }
    if latest_collected_at.is_none() {
        return Health {
            level: HealthLevel::Unknown,
            reasons: vec!["no telemetry yet".into()],
        };
    }
    let level = findings
        .iter()
        .map(|(l, _)| *l)
        .max()
        .unwrap_or(HealthLevel::Ok);
    // Worst first, so a console showing only the first reason shows the one that matters.
    let mut sorted: Vec<&(HealthLevel, String)> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.0));
    Health {
        level,
        reasons: sorted.into_iter().map(|(_, r)| r.clone()).collect(),
    }
}

/// When a device was last "seen": its newest sample's time, or its last contact while it has no
/// sample. Offline/online and the "seen" column follow this, never the upload time alone.
pub fn seen_at(
    latest_collected_at: Option<DateTime<Utc>>,
    last_contact: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    latest_collected_at.or(last_contact)
}

/// Whether a device seen at `seen` counts as online at `now` (the offline rule of
/// [`evaluate_findings`]).
pub fn is_online(
    seen: Option<DateTime<Utc>>,
    expected_interval_s: u32,
    policy: &HealthPolicy,
    now: DateTime<Utc>,
) -> bool {
    seen.is_some_and(|t| (now - t).num_seconds() <= policy.offline_after_s(expected_interval_s))
}

/// The lifecycle rule: a device whose state does not expect telemetry (in repair, lost,
/// retired) is not reported offline; its level is `unknown` with the state as the reason.
pub fn for_lifecycle(h: Health, lifecycle: LifecycleState) -> Health {
    if !lifecycle.expects_telemetry() && h.level == HealthLevel::Offline {
        return Health {
            level: HealthLevel::Unknown,
            reasons: vec![format!("{lifecycle}: not expected to report")],
        };
    }
    h
}

/// Every rule that fires on one sample, as (warning|critical, reason), in rule order.
pub fn sample_findings(s: &Sample, p: &HealthPolicy) -> Vec<(HealthLevel, String)> {
    let mut out = Vec::new();

    for d in s.disks.iter().filter(|d| !d.removable) {
        if let Some(pct) = d.used_pct().filter(|v| v.is_finite()) {
            let shown = format!("disk {} {:.0}% full", d.mount_point, pct.floor());
            if pct >= p.disk_crit_pct {
                out.push((HealthLevel::Critical, shown));
            } else if pct >= p.disk_warn_pct {
                out.push((HealthLevel::Warning, shown));
            }
        }
    }

    for d in &s.disks {
        let Some(sm) = &d.smart else { continue };
        if !sm.passed {
            out.push((
                HealthLevel::Critical,
                format!("SMART failed on {}", d.mount_point),
            ));
        }
        if let Some(u) = sm.percentage_used.filter(|u| u.is_finite())
            && u >= p.smart_wear_warn_pct
        {
            out.push((
                HealthLevel::Warning,
                format!(
                    "drive {} worn ({u:.0}% of rated endurance used)",
                    d.mount_point
                ),
            ));
        }
        if let Some(t) = sm.temperature_c.filter(|t| t.is_finite()) {
            let crit = p.disk_temp_crit_c;
            if let Some(level) = temp_level(t, crit, p) {
                out.push((
                    level,
                    format!(
                        "drive {} temp {t:.0}°C (critical {crit:.0}°C)",
                        d.mount_point
                    ),
                ));
            }
        }
    }

    for t in &s.thermal {
        if !t.temperature_c.is_finite() {
            continue;
        }
        let crit = t
            .critical_c
            .filter(|c| c.is_finite() && *c > 0.0)
            .unwrap_or(p.fallback_critical_c);
        if let Some(level) = temp_level(t.temperature_c, crit, p) {
            let label = if t.label.trim().is_empty() {
                "sensor"
            } else {
                t.label.trim()
            };
            out.push((
                level,
                format!(
                    "{label} temp {:.0}°C (critical {crit:.0}°C)",
                    t.temperature_c
                ),
            ));
        }
    }

    if let Some(b) = s.battery.as_ref().filter(|b| b.present)
        && let Some(h) = b.health_pct.filter(|h| h.is_finite())
        && h < p.battery_health_warn_pct
    {
        out.push((HealthLevel::Warning, format!("battery health {h:.0}%")));
    }

    let m = &s.memory;
    let mem_pct = m.used_pct();
    if m.total_bytes > 0 && mem_pct >= p.memory_warn_pct {
        if m.swap_total_bytes == 0 {
            out.push((
                HealthLevel::Warning,
                format!("memory {:.0}% used, no swap", mem_pct.floor()),
            ));
        } else {
            let swap_pct = m.swap_used_bytes as f64 * 100.0 / m.swap_total_bytes as f64;
            if swap_pct >= p.swap_warn_pct {
                out.push((
                    HealthLevel::Warning,
                    format!(
                        "memory {:.0}% used, swap {:.0}%",
                        mem_pct.floor(),
                        swap_pct.round()
                    ),
                ));
            }
        }
    }

    out
}

fn temp_level(t: f64, crit: f64, p: &HealthPolicy) -> Option<HealthLevel> {
    if t >= crit {
        Some(HealthLevel::Critical)
    } else if t >= crit - p.temp_warn_margin_c {
        Some(HealthLevel::Warning)
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sample::{DiskStats, ThermalSensor};
    use chrono::Duration;

    /// `evaluate` on a sample and `evaluate_findings` on its stored findings agree, for ok,
    /// warning, critical (several findings of mixed level), offline, no-sample and never-seen.
    #[test]
    fn evaluate_and_evaluate_findings_agree() {
        let now: DateTime<Utc> = "2026-11-27T12:00:00Z".parse().unwrap();
        let p = HealthPolicy::default();
        let ok = Sample::example(1, now - Duration::seconds(30));
        let mut bad = ok.clone();
        bad.disks = vec![DiskStats {
            mount_point: "/".into(),
            total_bytes: 1000,
            available_bytes: 80,
            ..Default::default()
        }];
        bad.thermal = vec![ThermalSensor {
            label: "cpu".into(),
            temperature_c: 101.0,
            critical_c: Some(100.0),
        }];
        let mut warn = ok.clone();
        warn.disks[0].total_bytes = 1000;
        warn.disks[0].available_bytes = 80;
        let samples = [None, Some(&ok), Some(&bad), Some(&warn)];
        let seen = [
            None,
            Some(now - Duration::seconds(10)),
            Some(now - Duration::hours(5)),
        ];
        let mut levels = Vec::new();
        for s in samples {
            for last_seen in seen {
                let a = evaluate(s, last_seen, 300, &p, now);
                let findings = s.map(|s| sample_findings(s, &p)).unwrap_or_default();
                let b = evaluate_findings(
                    s.map(|s| s.collected_at),
                    &findings,
                    last_seen,
                    300,
                    &p,
                    now,
                );
                assert_eq!(
                    a,
                    b,
                    "sample {:?} last_seen {last_seen:?}",
                    s.map(|s| s.seq)
                );
                levels.push(a.level);
            }
        }
        for l in [
            HealthLevel::Ok,
            HealthLevel::Warning,
            HealthLevel::Critical,
            HealthLevel::Offline,
            HealthLevel::Unknown,
        ] {
            assert!(levels.contains(&l), "no case gave {l:?}: {levels:?}");
        }
        let h = evaluate(Some(&bad), Some(now), 300, &p, now);
        assert_eq!(h.level, HealthLevel::Critical);
        assert_eq!(h.reasons.len(), 2);
    }
}
