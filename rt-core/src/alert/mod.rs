//! Alert rules, evaluated on **sample time**: a pure state machine per device that turns the
//! device's samples, in the order they were collected, into alert transitions (firing, severity
//! changed, flapping started/stopped, resolved).
//!
//! - [`evaluate`] runs at ingest with the device's new samples and the time they arrived;
//!   [`tick`] runs on a timer for what no sample can tell (the device went silent; a backlog
//!   that stopped arriving).
//! - Each rule ([`rules`]) gives a verdict per sample with its hysteresis applied (a separate
//!   clear level); each alert ([`series`]) waits out its `for` duration before firing, may be
//!   kept firing for a while after its condition stops, and is marked flapping when it fires
//!   too often — flapping is published once, and the alert stays open until it calms down.
//! - Only the **net** change since consumers were last told is published. While an agent
//!   uploads a backlog (its newest sample older than `late_after_s`), nothing is published;
//!   once the backlog is in (or stops arriving for `backlog_settle_s`), what is still true fires
//!   once, marked `late`, and what came and went inside the backlog raises nothing.
//! - Samples older than the newest one already evaluated are ignored (counted): rules cannot
//!   rewind.
//!
//! The state ([`DeviceAlertState`]) is serialisable; the server keeps one per device.

pub mod api;
pub mod config;
pub mod history;
pub mod rules;
pub mod series;

pub use config::AlertRules;

use crate::sample::Sample;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use series::Series;
use std::collections::BTreeMap;
use std::fmt;

/// How urgent an alert is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    Info,
    #[default]
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The built-in rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    DeviceOffline,
    DiskUsage,
    DiskFullForecast,
    SmartFailed,
    DriveErrorCounters,
    NvmeCriticalWarning,
    NvmeSpareLow,
    NvmeEnduranceUsed,
    NvmeMediaErrors,
    BatteryWorn,
    BatteryWearForecast,
    TemperatureHigh,
}

impl RuleId {
    pub const ALL: [RuleId; 12] = [
        RuleId::DeviceOffline,
        RuleId::DiskUsage,
        RuleId::DiskFullForecast,
        RuleId::SmartFailed,
        RuleId::DriveErrorCounters,
        RuleId::NvmeCriticalWarning,
        RuleId::NvmeSpareLow,
        RuleId::NvmeEnduranceUsed,
        RuleId::NvmeMediaErrors,
        RuleId::BatteryWorn,
        RuleId::BatteryWearForecast,
        RuleId::TemperatureHigh,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::DeviceOffline => "device_offline",
            RuleId::DiskUsage => "disk_usage",
            RuleId::DiskFullForecast => "disk_full_forecast",
            RuleId::SmartFailed => "smart_failed",
            RuleId::DriveErrorCounters => "drive_error_counters",
            RuleId::NvmeCriticalWarning => "nvme_critical_warning",
            RuleId::NvmeSpareLow => "nvme_spare_low",
            RuleId::NvmeEnduranceUsed => "nvme_endurance_used",
            RuleId::NvmeMediaErrors => "nvme_media_errors",
            RuleId::BatteryWorn => "battery_worn",
            RuleId::BatteryWearForecast => "battery_wear_forecast",
            RuleId::TemperatureHigh => "temperature_high",
        }
    }

    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert of one device: a rule on a subject (a mount point, a sensor label, `battery`, or
/// empty for the device itself).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlertKey {
    pub rule: RuleId,
    pub subject: String,
}

impl AlertKey {
    pub fn new(rule: RuleId, subject: &str) -> AlertKey {
        AlertKey {
            rule,
            subject: subject.to_string(),
        }
    }

    /// `rule:subject`, the key's stable text form (state maps, idempotency keys).
    pub fn id(&self) -> String {
        format!("{}:{}", self.rule, self.subject)
    }

    pub fn parse(id: &str) -> Option<AlertKey> {
        let (rule, subject) = id.split_once(':')?;
        Some(AlertKey::new(RuleId::parse(rule)?, subject))
    }
}

impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// A trend forecast behind an alert, with the fit's confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastNote {
    /// When the line crosses the threshold.
    pub crosses_at: DateTime<Utc>,
    /// Days from the sample to the crossing.
    pub days: f64,
    /// R² of the fit (0..=1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    /// Bucketed points fitted.
    pub points: usize,
    /// Time between the first and last point, days.
    pub span_days: f64,
}

impl ForecastNote {
    /// "fit R² 0.97 over 6 days".
    pub fn confidence(&self) -> String {
        match self.r2 {
            Some(r2) => format!("fit R² {r2:.2} over {:.0} days", self.span_days),
            None => format!("{} points over {:.0} days", self.points, self.span_days),
        }
    }
}

/// What a rule found while its condition holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// One line for humans: "disk /data 96% full".
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastNote>,
}

/// What changed about an alert, as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    /// The alert opened.
    Firing,
    /// An open alert's severity went up or down.
    SeverityChanged,
    /// An open alert fires and resolves too often; it stays open until it calms down.
    FlappingStarted,
    /// It calmed down; if its condition no longer holds a `Resolved` follows.
    FlappingStopped,
    /// The alert closed.
    Resolved,
}

/// One published change of one alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub key: AlertKey,
    pub kind: TransitionKind,
    pub severity: Severity,
    /// Sample time of the change (for `device_offline`: when it was decided).
    pub at: DateTime<Utc>,
    /// When the condition began to hold (before `for` was waited out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_since: Option<DateTime<Utc>>,
    /// The change happened more than `late_after_s` before it was published (a backlog).
    pub late: bool,
    pub flapping: bool,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastNote>,
}

/// Everything the rules know about one device. Starts empty ([`Default`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeviceAlertState {
    /// Collection time of the newest sample evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_sample: Option<DateTime<Utc>>,
    /// When samples last arrived (the `now` of the last [`evaluate`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<DateTime<Utc>>,
    /// Since when the device-offline alert is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_since: Option<DateTime<Utc>>,
    /// The device-offline alert's severity when it fired.
    #[serde(default)]
    pub offline_severity: Severity,
    /// Changes evaluated but not yet published (a backlog is arriving).
    #[serde(default)]
    pub unpublished: bool,
    /// Samples ignored because they were older than `newest_sample`.
    #[serde(default)]
    pub out_of_order: u64,
    /// Alerts by [`AlertKey::id`].
    #[serde(default)]
    pub series: BTreeMap<String, Series>,
    #[serde(default)]
    pub memory: rules::Memory,
}

impl DeviceAlertState {
    /// The alerts currently open as published, with their severity.
    pub fn open_alerts(&self) -> Vec<(AlertKey, Severity)> {
        let mut out: Vec<(AlertKey, Severity)> = self
            .series
            .iter()
            .filter(|(_, s)| s.exposed.open)
            .filter_map(|(id, s)| Some((AlertKey::parse(id)?, s.exposed.severity?)))
            .collect();
        if self.offline_since.is_some() {
            out.push((
                AlertKey::new(RuleId::DeviceOffline, ""),
                self.offline_severity,
            ));
        }
        out
    }
}

/// Seconds from configuration as a `Duration`, saturating instead of overflowing.
pub(crate) fn secs(s: u64) -> Duration {
    Duration::seconds(
        i64::try_from(s)
            .unwrap_or(i64::MAX / 1000)
            .min(i64::MAX / 1000),
    )
}

/// Evaluates a device's newly arrived samples (any order; they are sorted by collection time)
/// at arrival time `now`, and returns the transitions to publish, in order.
pub fn evaluate(
    state: &mut DeviceAlertState,
    samples: &[Sample],
    rules: &AlertRules,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    state.last_contact = Some(now);
    if let Some(since) = state.offline_since.take() {
        out.push(Transition {
            key: AlertKey::new(RuleId::DeviceOffline, ""),
            kind: TransitionKind::Resolved,
            severity: state.offline_severity,
            at: now,
            active_since: Some(since),
            late: false,
            flapping: false,
            summary: "device reporting again".into(),
            value: None,
            forecast: None,
        });
    }
    let mut ordered: Vec<&Sample> = samples.iter().collect();
    ordered.sort_by_key(|s| (s.collected_at, s.seq));
    for s in ordered {
        if state.newest_sample.is_some_and(|n| s.collected_at <= n) {
            state.out_of_order += 1;
            continue;
        }
        step(state, s, rules);
        state.unpublished = true;
    }
    let caught_up = state
        .newest_sample
        .is_some_and(|n| now - n <= secs(rules.late_after_s));
    if caught_up {
        out.extend(publish(state, rules, now));
    }
    out
}

/// Time-driven checks at `now`: the device-offline rule, and publishing a backlog that stopped
/// arriving `backlog_settle_s` ago.
pub fn tick(
    state: &mut DeviceAlertState,
    rules: &AlertRules,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    if let Some(contact) = state.last_contact {
        if state.unpublished && now - contact >= secs(rules.backlog_settle_s) {
            out.extend(publish(state, rules, now));
        }
        let off = &rules.device_offline;
        if off.enabled && state.offline_since.is_none() && now - contact >= secs(off.after_s) {
            state.offline_since = Some(contact);
            state.offline_severity = off.severity;
            out.push(Transition {
                key: AlertKey::new(RuleId::DeviceOffline, ""),
                kind: TransitionKind::Firing,
                severity: off.severity,
                at: now,
                active_since: Some(contact),
                late: false,
                flapping: false,
                summary: format!(
                    "no contact for {}",
                    crate::health::human_duration((now - contact).num_seconds())
                ),
                value: None,
                forecast: None,
            });
        }
    }
    out
}

/// One sample through every rule and every alert's state machine.
fn step(state: &mut DeviceAlertState, s: &Sample, rules: &AlertRules) {
    let t = s.collected_at;
    let series = &state.series;
    let active = |k: &AlertKey| series.get(&k.id()).and_then(Series::active_severity);
    let verdicts = rules::verdicts(s, &mut state.memory, &active, rules);
    let mut seen = std::collections::BTreeSet::new();
    for v in verdicts {
        let id = v.key.id();
        if v.finding.is_none() && !state.series.contains_key(&id) {
            continue;
        }
        let entry = state
            .series
            .entry(id.clone())
            .or_insert_with(|| Series::new(t));
        entry.observe(t, v.finding, v.timing);
        seen.insert(id);
    }
    for (id, s) in state.series.iter_mut() {
        if !seen.contains(id) {
            s.absent(t, rules.absent_resolve_after_s);
        }
        s.update_flapping(t, rules.flap_max_firings, rules.flap_window_s);
    }
    state.newest_sample = Some(t);
}

/// Publishes the net change of every alert since it was last published.
fn publish(
    state: &mut DeviceAlertState,
    rules: &AlertRules,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    let late_before = now - secs(rules.late_after_s);
    for (id, s) in state.series.iter_mut() {
        let Some(key) = AlertKey::parse(id) else {
            continue;
        };
        let before = s.exposed;
        let after = s.exposure();
        let mk = |kind: TransitionKind, sev: Option<Severity>, at: DateTime<Utc>| Transition {
            key: key.clone(),
            kind,
            severity: sev.or(before.severity).unwrap_or_default(),
            at,
            active_since: s.active_since(),
            late: at < late_before,
            flapping: after.flapping,
            summary: s
                .finding
                .as_ref()
                .map(|f| f.summary.clone())
                .unwrap_or_else(|| format!("{} on {} cleared", key.rule, key.subject)),
            value: s.finding.as_ref().and_then(|f| f.value),
            forecast: s.finding.as_ref().and_then(|f| f.forecast.clone()),
        };
        let firing_at = match s.phase {
            series::Phase::Firing { since, .. } => since,
            _ => s.changed_at,
        };
        match (before.open, after.open) {
            (false, true) => {
                out.push(mk(TransitionKind::Firing, after.severity, firing_at));
                if after.flapping {
                    out.push(mk(
                        TransitionKind::FlappingStarted,
                        after.severity,
                        s.changed_at,
                    ));
                }
            }
            (true, true) => {
                if !before.flapping && after.flapping {
                    out.push(mk(
                        TransitionKind::FlappingStarted,
                        after.severity,
                        s.changed_at,
                    ));
                }
                if before.flapping && !after.flapping {
                    out.push(mk(
                        TransitionKind::FlappingStopped,
                        after.severity,
                        s.changed_at,
                    ));
                }
                if before.severity != after.severity {
                    out.push(mk(
                        TransitionKind::SeverityChanged,
                        after.severity,
                        s.changed_at,
                    ));
                }
            }
            (true, false) => {
                if before.flapping {
                    out.push(mk(
                        TransitionKind::FlappingStopped,
                        before.severity,
                        s.changed_at,
                    ));
                }
                let mut r = mk(TransitionKind::Resolved, before.severity, s.changed_at);
                r.summary = format!("{} on {} resolved", key.rule, key.subject);
                r.value = None;
                r.forecast = None;
                out.push(r);
            }
            (false, false) => {}
        }
        s.exposed = after;
    }
    state.series.retain(|_, s| !s.idle());
    state.unpublished = false;
    out
}
