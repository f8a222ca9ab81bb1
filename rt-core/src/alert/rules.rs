//! The built-in rules: from one sample (and what earlier samples left in [`Memory`]) to a
//! verdict per alert — `Some(finding)` when its condition holds, `None` when it does not. The
//! hysteresis of each rule is applied here, against whether the alert is already active;
//! `for`, keep-firing, flapping and publication are the series' business (`series.rs`).

use super::config::AlertRules;
use super::history::{Buckets, Counter};
use super::series::Timing;
use super::{AlertKey, Finding, ForecastNote, RuleId, Severity};
use crate::forecast::{self, Direction, ForecastRule};
use crate::sample::{Sample, SmartProtocol, SmartStats};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What rules remember about one device between samples.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Memory {
    /// Used percent per fixed disk (mount point), for the disk-full forecast.
    #[serde(default)]
    pub disk_used: BTreeMap<String, Buckets>,
    /// Battery health percent, for the wear forecast.
    #[serde(default)]
    pub battery_health: Buckets,
    /// Drive counters by `mount point` + `\u{1f}` + counter name.
    #[serde(default)]
    pub counters: BTreeMap<String, Counter>,
    /// Power-on hours per drive (mount point): when they go down, the drive was replaced.
    #[serde(default)]
    pub power_on_hours: BTreeMap<String, u64>,
}

/// One verdict: the alert, whether its condition holds (with what), and its rule's timings.
pub struct Verdict {
    pub key: AlertKey,
    pub finding: Option<Finding>,
    pub timing: Timing,
}

/// Whether an alert is currently active (pending or firing), and at which severity.
pub type Active<'a> = &'a dyn Fn(&AlertKey) -> Option<Severity>;

/// Every verdict one sample gives. Updates `mem` (histories, counters).
pub fn verdicts(s: &Sample, mem: &mut Memory, active: Active<'_>, r: &AlertRules) -> Vec<Verdict> {
    let t = s.collected_at;
    let mut out = Vec::new();
    let mut push = |rule: RuleId, subject: &str, finding: Option<Finding>, timing: Timing| {
        out.push(Verdict {
            key: AlertKey::new(rule, subject),
            finding,
            timing,
        });
    };

    for d in s.disks.iter().filter(|d| !d.removable) {
        let Some(pct) = d.used_pct().filter(|p| p.is_finite()) else {
            continue;
        };
        let m = d.mount_point.as_str();
        if r.disk_usage.enabled {
            let key = AlertKey::new(RuleId::DiskUsage, m);
            let was = active(&key);
            let u = &r.disk_usage;
            let sev = if u.critical.holds(pct, was == Some(Severity::Critical)) {
                Some(Severity::Critical)
            } else if u.warning.holds(pct, was.is_some()) {
                Some(Severity::Warning)
            } else {
                None
            };
            let f = sev.map(|severity| Finding {
                severity,
                summary: format!("disk {m} {:.0}% full", pct.floor()),
                value: Some(pct),
                forecast: None,
            });
            push(RuleId::DiskUsage, m, f, timing(u.for_s, 0));
        }
        let fr = &r.disk_full_forecast;
        let hist = mem.disk_used.entry(m.to_string()).or_default();
        hist.add(
            t,
            pct,
            fr.bucket_s,
            days(fr.history_days),
            fr.reset_delta,
            Direction::Rising,
        );
        if fr.enabled {
            let key = AlertKey::new(RuleId::DiskFullForecast, m);
            let was = active(&key).is_some();
            let f = forecast_finding(hist, fr, Direction::Rising, t, was).map(|(note, f)| {
                let mut f = f;
                f.summary = format!(
                    "disk {m} predicted full in {:.0} days (around {}; {})",
                    note.days,
                    note.crosses_at.format("%Y-%m-%d"),
                    note.confidence()
                );
                f.value = Some(pct);
                f
            });
            push(RuleId::DiskFullForecast, m, f, timing(0, fr.keep_firing_s));
        }
    }

    for d in &s.disks {
        let Some(sm) = &d.smart else { continue };
        let m = d.mount_point.as_str();
        drive_replaced(mem, m, sm);
        let nvme = sm.protocol == Some(SmartProtocol::Nvme);

        if r.smart_failed.enabled {
            // An NVMe drive's verdict is its critical-warning byte, which has its own rule.
            let covered = nvme && sm.critical_warning.is_some() && r.nvme_critical_warning.enabled;
            let f = (!sm.passed && !covered).then(|| Finding {
                severity: r.smart_failed.severity,
                summary: format!("SMART self-assessment failed on {m}"),
                value: None,
                forecast: None,
            });
            push(RuleId::SmartFailed, m, f, timing(r.smart_failed.for_s, 0));
        }

        let watched = counters_of(sm);
        let c = &r.drive_error_counters;
        if c.enabled && !watched.is_empty() {
            let f = counter_finding(mem, m, &watched, t, c.keep_firing_s, c.severity);
            push(RuleId::DriveErrorCounters, m, f, timing(0, 0));
        }

        if nvme {
            let cw = &r.nvme_critical_warning;
            if cw.enabled
                && let Some(w) = sm.critical_warning
            {
                let f = (w != 0).then(|| Finding {
                    severity: cw.severity,
                    summary: format!("NVMe {m} critical warning: {}", warning_bits(w)),
                    value: Some(f64::from(w)),
                    forecast: None,
                });
                push(RuleId::NvmeCriticalWarning, m, f, timing(cw.for_s, 0));
            }
            let sp = &r.nvme_spare_low;
            if sp.enabled
                && let Some(spare) = sm.available_spare_pct.filter(|v| v.is_finite())
            {
                let thr = sm
                    .available_spare_threshold_pct
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .unwrap_or(sp.fallback_threshold_pct);
                let f = (spare <= thr).then(|| Finding {
                    severity: sp.severity,
                    summary: format!("NVMe {m} available spare {spare:.0}% (threshold {thr:.0}%)"),
                    value: Some(spare),
                    forecast: None,
                });
                push(RuleId::NvmeSpareLow, m, f, timing(0, 0));
            }
            let mc = &r.nvme_media_errors;
            if mc.enabled
                && let Some(v) = sm.media_errors
            {
                let f = counter_finding(
                    mem,
                    m,
                    &[("media and data integrity errors", v)],
                    t,
                    mc.keep_firing_s,
                    mc.severity,
                );
                push(RuleId::NvmeMediaErrors, m, f, timing(0, 0));
            }
        }
        let e = &r.nvme_endurance;
        if e.enabled
            && matches!(sm.protocol, Some(SmartProtocol::Nvme) | None)
            && let Some(used) = sm.percentage_used.filter(|v| v.is_finite())
        {
            let key = AlertKey::new(RuleId::NvmeEnduranceUsed, m);
            let f = e.band.holds(used, active(&key).is_some()).then(|| Finding {
                severity: e.severity,
                summary: format!("drive {m} has used {used:.0}% of its rated endurance"),
                value: Some(used),
                forecast: None,
            });
            push(RuleId::NvmeEnduranceUsed, m, f, timing(e.for_s, 0));
        }
    }

    if let Some(b) = s.battery.as_ref().filter(|b| b.present)
        && let Some(h) = b.health_pct.filter(|h| h.is_finite())
    {
        let bw = &r.battery_worn;
        if bw.enabled {
            let key = AlertKey::new(RuleId::BatteryWorn, "battery");
            let limit = if active(&key).is_some() {
                bw.clear_pct
            } else {
                bw.below_pct
            };
            let cycles = b
                .cycle_count
                .map(|c| format!(", {c} cycles"))
                .unwrap_or_default();
            let f = (h < limit).then(|| Finding {
                severity: bw.severity,
                summary: format!("battery health {h:.0}% of design capacity{cycles}"),
                value: Some(h),
                forecast: None,
            });
            push(RuleId::BatteryWorn, "battery", f, timing(bw.for_s, 0));
        }
        let fr = &r.battery_wear_forecast;
        mem.battery_health.add(
            t,
            h,
            fr.bucket_s,
            days(fr.history_days),
            fr.reset_delta,
            Direction::Falling,
        );
        if fr.enabled {
            let key = AlertKey::new(RuleId::BatteryWearForecast, "battery");
            let was = active(&key).is_some();
            // Once below the threshold the worn rule speaks; the forecast has come true.
            let f = (h >= fr.threshold)
                .then(|| forecast_finding(&mem.battery_health, fr, Direction::Falling, t, was))
                .flatten()
                .map(|(note, mut f)| {
                    f.summary = format!(
                        "battery predicted below {:.0}% of design around {} (in {:.0} days; {})",
                        fr.threshold,
                        note.crosses_at.format("%Y-%m-%d"),
                        note.days,
                        note.confidence()
                    );
                    f.value = Some(h);
                    f
                });
            push(
                RuleId::BatteryWearForecast,
                "battery",
                f,
                timing(0, fr.keep_firing_s),
            );
        }
    }

    let tr = &r.temperature;
    if tr.enabled {
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        let sensors = s.thermal.iter().map(|th| {
            let label = match th.label.trim() {
                "" => "sensor",
                l => l,
            };
            let crit = th
                .critical_c
                .filter(|c| c.is_finite() && *c > 0.0)
                .unwrap_or(tr.fallback_critical_c);
            (label.to_string(), th.temperature_c, crit)
        });
        let drives = s.disks.iter().filter_map(|d| {
            let sm = d.smart.as_ref()?;
            let temp = sm.temperature_c?;
            let crit = sm
                .temperature_critical_c
                .filter(|c| c.is_finite() && *c > 0.0)
                .unwrap_or(tr.drive_critical_c);
            Some((format!("drive {}", d.mount_point), temp, crit))
        });
        for (label, temp, crit) in sensors.chain(drives) {
            if !temp.is_finite() {
                continue;
            }
            // Two sensors with one label stay two alerts.
            let n = seen.entry(label.clone()).or_insert(0);
            *n += 1;
            let subject = if *n == 1 {
                label
            } else {
                format!("{label} #{n}")
            };
            let key = AlertKey::new(RuleId::TemperatureHigh, &subject);
            let limit = if active(&key).is_some() {
                crit - tr.clear_margin_c
            } else {
                crit - tr.margin_c
            };
            let f = (temp >= limit).then(|| Finding {
                severity: tr.severity,
                summary: format!("{subject} at {temp:.0}°C (critical {crit:.0}°C)"),
                value: Some(temp),
                forecast: None,
            });
            push(RuleId::TemperatureHigh, &subject, f, timing(tr.for_s, 0));
        }
    }

    out
}

fn timing(for_s: u64, keep_firing_s: u64) -> Timing {
    Timing {
        for_s,
        keep_firing_s,
    }
}

fn days(d: u64) -> Duration {
    Duration::days(i64::try_from(d).unwrap_or(36_500).min(36_500))
}

/// The counters the error-counter rule watches, by drive protocol: ATA attributes 5, 187,
/// 188, 197 and 198 (Backblaze's five); SCSI grown defects and uncorrected errors; for reports
/// without a protocol (agents before it was sent) the two generic counters. NVMe media errors
/// have their own rule.
fn counters_of(sm: &SmartStats) -> Vec<(&'static str, u64)> {
    let list: Vec<(&'static str, Option<u64>)> = match sm.protocol {
        Some(SmartProtocol::Ata) => vec![
            ("Reallocated_Sector_Ct (5)", sm.reallocated_sectors),
            ("Reported_Uncorrect (187)", sm.reported_uncorrect),
            ("Command_Timeout (188)", sm.command_timeouts),
            ("Current_Pending_Sector (197)", sm.pending_sectors),
            ("Offline_Uncorrectable (198)", sm.offline_uncorrectable),
        ],
        Some(SmartProtocol::Scsi) => vec![
            ("grown defects", sm.reallocated_sectors),
            ("uncorrected errors", sm.media_errors),
        ],
        Some(SmartProtocol::Nvme) => vec![],
        Some(SmartProtocol::Other) | None => vec![
            ("reallocated sectors", sm.reallocated_sectors),
            ("media errors", sm.media_errors),
        ],
    };
    list.into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .collect()
}

/// A drive whose power-on hours went down is a different drive: its counters start over.
fn drive_replaced(mem: &mut Memory, mount: &str, sm: &SmartStats) {
    let Some(hours) = sm.power_on_hours else {
        return;
    };
    let before = mem.power_on_hours.insert(mount.to_string(), hours);
    if before.is_some_and(|b| hours < b) {
        let prefix = format!("{mount}\u{1f}");
        mem.counters.retain(|k, _| !k.starts_with(&prefix));
    }
}

/// Records the counters; holds while any of them went up within `keep_s`.
fn counter_finding(
    mem: &mut Memory,
    mount: &str,
    values: &[(&str, u64)],
    t: DateTime<Utc>,
    keep_s: u64,
    severity: Severity,
) -> Option<Finding> {
    let keep = Duration::seconds(
        i64::try_from(keep_s)
            .unwrap_or(i64::MAX / 1000)
            .min(i64::MAX / 1000),
    );
    let mut grown = Vec::new();
    for (name, v) in values {
        let k = format!("{mount}\u{1f}{name}");
        let first = !mem.counters.contains_key(&k);
        let c = mem.counters.entry(k).or_default();
        c.observe(t, *v, first);
        if c.increased_at
            .is_some_and(|at| t - at < keep || keep_s == 0 && at == t)
        {
            grown.push(format!("{name} {} -> {}", c.before_increase, c.value));
        }
    }
    (!grown.is_empty()).then(|| Finding {
        severity,
        summary: format!("drive {mount} error counters grew: {}", grown.join(", ")),
        value: None,
        forecast: None,
    })
}

/// Names of the NVMe critical-warning bits set in `w`.
fn warning_bits(w: u8) -> String {
    const BITS: [&str; 6] = [
        "available spare below threshold",
        "temperature outside its thresholds",
        "reliability degraded",
        "read-only",
        "volatile memory backup failed",
        "persistent memory read-only",
    ];
    let mut names: Vec<String> = BITS
        .iter()
        .enumerate()
        .filter(|(i, _)| w & (1 << i) != 0)
        .map(|(_, n)| (*n).to_string())
        .collect();
    if w & 0xC0 != 0 {
        names.push(format!("reserved bits 0x{:02x}", w & 0xC0));
    }
    names.join(", ")
}

/// The forecast verdict: holds when the crossing is within `within_days` (`clear_days` once
/// active) and the fit earns trust.
fn forecast_finding(
    hist: &Buckets,
    fr: &super::config::ForecastAlertRule,
    direction: Direction,
    t: DateTime<Utc>,
    active: bool,
) -> Option<(ForecastNote, Finding)> {
    let points = hist.series();
    let rule = ForecastRule {
        max_days: fr.clear_days.max(fr.within_days),
        ..fr.fit
    };
    let d = forecast::days_until_crossing(&points, fr.threshold, direction, &rule, t)?;
    let limit = if active {
        fr.clear_days
    } else {
        fr.within_days
    };
    if d > limit {
        return None;
    }
    let trend = forecast::linear_trend(&points);
    let first = points.first().map(|p| p.0)?;
    let last = points.last().map(|p| p.0)?;
    let crosses_at = t.checked_add_signed(Duration::seconds((d * 86_400.0).round() as i64))?;
    let note = ForecastNote {
        crosses_at,
        days: d,
        r2: trend.map(|tr| tr.r2),
        points: points.len(),
        span_days: (last - first).num_seconds() as f64 / 86_400.0,
    };
    let finding = Finding {
        severity: fr.severity,
        summary: String::new(),
        value: None,
        forecast: Some(note.clone()),
    };
    Some((note, finding))
}
