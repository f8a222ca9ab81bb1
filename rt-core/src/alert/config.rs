//! Thresholds and timings of the built-in alert rules. Deserialised from the server's config
//! (`[alerts]` table, later `/api/v1/alert-rules`); every field is optional there and defaults to
//! the value documented on it. `docs/alerts.md` explains why each default is what it is.
//!
//! Durations are whole seconds (`*_s`), like every other interval on the wire.

use super::Severity;
use crate::forecast::ForecastRule;
use crate::health::HealthPolicy;
use crate::validate::Problem;
use serde::{Deserialize, Serialize};

/// A value that must rise to `fire` to raise an alert and fall below `clear` to resolve it
/// (`clear <= fire`): the band between them is the hysteresis that stops a value hovering at the
/// threshold from flapping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub fire: f64,
    pub clear: f64,
}

impl Band {
    /// Whether the condition holds for `v`, given whether it held before (`active`).
    pub fn holds(&self, v: f64, active: bool) -> bool {
        if active {
            v >= self.clear
        } else {
            v >= self.fire
        }
    }

    fn check(&self, field: &str, out: &mut Vec<Problem>) {
        if !self.fire.is_finite() || !self.clear.is_finite() {
            out.push(Problem::new(field, "fire and clear must be finite numbers"));
        } else if self.clear > self.fire {
            out.push(Problem::new(
                format!("{field}.clear"),
                format!(
                    "must not exceed fire ({} > {}): a value must fall below clear to resolve",
                    self.clear, self.fire
                ),
            ));
        }
    }
}

/// Every built-in rule's settings, plus the evaluation settings they share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertRules {
    /// A transition whose sample time is older than this (against the time it is evaluated) is
    /// marked late. Default 600 (10 min).
    pub late_after_s: u64,
    /// While an agent's backlog is being uploaded (newest sample older than `late_after_s`), the
    /// net outcome is held back; [`super::tick`] publishes it once no sample has arrived for this
    /// long. Default 120.
    pub backlog_settle_s: u64,
    /// An alert whose subject (a disk, a sensor) has not been reported for this long resolves.
    /// Default 86400 (1 day).
    pub absent_resolve_after_s: u64,
    /// Flapping: this many firings of one alert within `flap_window_s` mark it flapping; it
    /// stops flapping after `flap_window_s` without a change. Default 3.
    pub flap_max_firings: u32,
    /// Default 3600 (1 h).
    pub flap_window_s: u64,
    pub device_offline: OfflineRule,
    pub disk_usage: DiskUsageRule,
    pub disk_full_forecast: ForecastAlertRule,
    pub smart_failed: SimpleRule,
    pub drive_error_counters: CounterRule,
    pub nvme_critical_warning: SimpleRule,
    pub nvme_spare_low: SpareRule,
    pub nvme_endurance: BandRule,
    pub nvme_media_errors: CounterRule,
    pub battery_worn: BatteryWornRule,
    pub battery_wear_forecast: ForecastAlertRule,
    pub temperature: TemperatureRule,
}

/// No contact from the device for `after_s`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfflineRule {
    pub enabled: bool,
    /// Default 259200 (72 h: a laptop shut on Friday evening is back by Monday morning).
    pub after_s: u64,
    /// Default warning.
    pub severity: Severity,
}

/// Fixed (non-removable) disk used percent, two levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiskUsageRule {
    pub enabled: bool,
    /// Default fire 90 (the health policy's warning level), clear 88.
    pub warning: Band,
    /// Default fire 95 (the health policy's critical level), clear 93.
    pub critical: Band,
    /// Default 300.
    pub for_s: u64,
}

/// A trend forecast: the value is predicted to cross `threshold` within `within_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForecastAlertRule {
    pub enabled: bool,
    /// Disk: 100 (% used, full). Battery: 80 (% of design capacity).
    pub threshold: f64,
    /// Fires when the crossing is at most this many days away. Disk 14, battery 90.
    pub within_days: f64,
    /// Resolves when the crossing moves more than this many days away (or the fit no longer
    /// earns trust). Disk 21, battery 120.
    pub clear_days: f64,
    /// Points are averaged into buckets of this many seconds before fitting, so a device that
    /// reports every minute does not outweigh one that slept most of the day. Disk 3600,
    /// battery 86400.
    pub bucket_s: u64,
    /// How much history the fit sees. Disk 14 days, battery 365 days.
    pub history_days: u64,
    /// A drop (disk: cleanup) or rise (battery: replacement) of more than this between two
    /// buckets starts the history afresh: the old trend no longer applies. Default 5.
    pub reset_delta: f64,
    /// When the fit is trusted (points, span, R²); see [`ForecastRule`].
    pub fit: ForecastRule,
    /// Keeps the alert firing this long after the forecast stops holding. Disk 21600 (6 h),
    /// battery 0.
    pub keep_firing_s: u64,
    /// Disk warning, battery info.
    pub severity: Severity,
}

/// A yes/no condition reported by the drive itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimpleRule {
    pub enabled: bool,
    /// Default 0: the drive's verdict is already considered.
    pub for_s: u64,
    /// Default critical.
    pub severity: Severity,
}

/// Any increase of a drive's error counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CounterRule {
    pub enabled: bool,
    /// The alert stays firing this long after the last increase (counters never fall, so
    /// there is no value to clear on). Default 604800 (7 days).
    pub keep_firing_s: u64,
    /// Default warning.
    pub severity: Severity,
}

/// NVMe available spare at or below its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpareRule {
    pub enabled: bool,
    /// Used when the drive does not report its own threshold. Default 10.
    pub fallback_threshold_pct: f64,
    /// Default critical.
    pub severity: Severity,
}

/// A rising value with a hysteresis band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BandRule {
    pub enabled: bool,
    /// NVMe endurance: fire 90, clear 85.
    pub band: Band,
    pub for_s: u64,
    /// Default warning.
    pub severity: Severity,
}

/// Battery health (full / design capacity) below a level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatteryWornRule {
    pub enabled: bool,
    /// Fires below this percent. Default 80.
    pub below_pct: f64,
    /// Resolves at or above this percent. Default 82 (full-charge capacity wanders a point or
    /// two between calibrations).
    pub clear_pct: f64,
    /// Default 21600 (6 h of sample time).
    pub for_s: u64,
    /// Default warning.
    pub severity: Severity,
}

/// Temperature sustained near a sensor's or drive's critical point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemperatureRule {
    pub enabled: bool,
    /// Fires at `critical - margin_c`. Default 5.
    pub margin_c: f64,
    /// Resolves below `critical - clear_margin_c`. Default 10.
    pub clear_margin_c: f64,
    /// Default 300 (sustained for 5 min of sample time).
    pub for_s: u64,
    /// Critical point of sensors that report none. Default 100 (as the health policy).
    pub fallback_critical_c: f64,
    /// Critical point of drives that report none. Default 70 (as the health policy).
    pub drive_critical_c: f64,
    /// Default critical.
    pub severity: Severity,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            late_after_s: 600,
            backlog_settle_s: 120,
            absent_resolve_after_s: 86_400,
            flap_max_firings: 3,
            flap_window_s: 3600,
            device_offline: OfflineRule::default(),
            disk_usage: DiskUsageRule::default(),
            disk_full_forecast: ForecastAlertRule::default(),
            smart_failed: SimpleRule::default(),
            drive_error_counters: CounterRule::default(),
            nvme_critical_warning: SimpleRule::default(),
            nvme_spare_low: SpareRule::default(),
            nvme_endurance: BandRule::default(),
            nvme_media_errors: CounterRule::default(),
            battery_worn: BatteryWornRule::default(),
            battery_wear_forecast: ForecastAlertRule::battery(),
            temperature: TemperatureRule::default(),
        }
    }
}

impl Default for OfflineRule {
    fn default() -> Self {
        OfflineRule {
            enabled: true,
            after_s: 72 * 3600,
            severity: Severity::Warning,
        }
    }
}

impl Default for DiskUsageRule {
    fn default() -> Self {
        let h = HealthPolicy::default();
        DiskUsageRule {
            enabled: true,
            warning: Band {
                fire: h.disk_warn_pct,
                clear: h.disk_warn_pct - 2.0,
            },
            critical: Band {
                fire: h.disk_crit_pct,
                clear: h.disk_crit_pct - 2.0,
            },
            for_s: 300,
        }
    }
}

impl Default for ForecastAlertRule {
    /// The disk-full forecast.
    fn default() -> Self {
        ForecastAlertRule {
            enabled: true,
            threshold: 100.0,
            within_days: 14.0,
            clear_days: 21.0,
            bucket_s: 3600,
            history_days: 14,
            reset_delta: 5.0,
            fit: ForecastRule::default(),
            keep_firing_s: 6 * 3600,
            severity: Severity::Warning,
        }
    }
}

impl ForecastAlertRule {
    /// The battery-wear forecast's defaults.
    pub fn battery() -> Self {
        ForecastAlertRule {
            enabled: true,
            threshold: 80.0,
            within_days: 90.0,
            clear_days: 120.0,
            bucket_s: 86_400,
            history_days: 365,
            reset_delta: 5.0,
            fit: ForecastRule {
                min_points: 6,
                min_span_hours: 14.0 * 24.0,
                ..ForecastRule::default()
            },
            keep_firing_s: 0,
            severity: Severity::Info,
        }
    }

    fn check(&self, field: &str, out: &mut Vec<Problem>) {
        if !(self.within_days.is_finite() && self.within_days >= 0.0) {
            out.push(Problem::new(
                format!("{field}.within_days"),
                "must be a number >= 0",
            ));
        }
        if !self.clear_days.is_finite() || self.clear_days < self.within_days {
            out.push(Problem::new(
                format!("{field}.clear_days"),
                "must be at least within_days",
            ));
        }
        if self.bucket_s == 0 {
            out.push(Problem::new(format!("{field}.bucket_s"), "must be >= 1"));
        }
        if !self.threshold.is_finite() {
            out.push(Problem::new(format!("{field}.threshold"), "must be finite"));
        }
    }
}

impl Default for SimpleRule {
    fn default() -> Self {
        SimpleRule {
            enabled: true,
            for_s: 0,
            severity: Severity::Critical,
        }
    }
}

impl Default for CounterRule {
    fn default() -> Self {
        CounterRule {
            enabled: true,
            keep_firing_s: 7 * 86_400,
            severity: Severity::Warning,
        }
    }
}

impl Default for SpareRule {
    fn default() -> Self {
        SpareRule {
            enabled: true,
            fallback_threshold_pct: 10.0,
            severity: Severity::Critical,
        }
    }
}

impl Default for BandRule {
    fn default() -> Self {
        BandRule {
            enabled: true,
            band: Band {
                fire: 90.0,
                clear: 85.0,
            },
            for_s: 0,
            severity: Severity::Warning,
        }
    }
}

impl Default for BatteryWornRule {
    fn default() -> Self {
        BatteryWornRule {
            enabled: true,
            below_pct: 80.0,
            clear_pct: 82.0,
            for_s: 6 * 3600,
            severity: Severity::Warning,
        }
    }
}

impl Default for TemperatureRule {
    fn default() -> Self {
        let h = HealthPolicy::default();
        TemperatureRule {
            enabled: true,
            margin_c: 5.0,
            clear_margin_c: 10.0,
            for_s: 300,
            fallback_critical_c: h.fallback_critical_c,
            drive_critical_c: h.disk_temp_crit_c,
            severity: Severity::Critical,
        }
    }
}

impl AlertRules {
    /// Every inconsistency in the settings (a clear level beyond its fire level, a zero bucket,
    /// ...), each naming its field. Empty means usable.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        self.disk_usage
            .warning
            .check("disk_usage.warning", &mut out);
        self.disk_usage
            .critical
            .check("disk_usage.critical", &mut out);
        self.nvme_endurance
            .band
            .check("nvme_endurance.band", &mut out);
        self.disk_full_forecast
            .check("disk_full_forecast", &mut out);
        self.battery_wear_forecast
            .check("battery_wear_forecast", &mut out);
        let b = &self.battery_worn;
        if !b.below_pct.is_finite() || !b.clear_pct.is_finite() || b.clear_pct < b.below_pct {
            out.push(Problem::new(
                "battery_worn.clear_pct",
                "must be at least below_pct",
            ));
        }
        let t = &self.temperature;
        if !t.margin_c.is_finite() || !t.clear_margin_c.is_finite() || t.clear_margin_c < t.margin_c
        {
            out.push(Problem::new(
                "temperature.clear_margin_c",
                "must be at least margin_c (it resolves further below the critical point than it fires)",
            ));
        }
        if self.flap_max_firings < 2 {
            out.push(Problem::new(
                "flap_max_firings",
                "must be at least 2 (one firing is not flapping)",
            ));
        }
        out
    }
}
