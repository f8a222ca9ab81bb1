//! Background jobs: alert evaluation (offline and critical devices become `alert_raised` /
//! `alert_cleared` events), the alert rules' clock (`tick_alert_rules`: device offline, settled
//! backlogs), retention of every storage tier with the optional database size cap
//! (`store::retention`; each device's latest sample is kept), and expired-session clean-up.
//! They stop when the server shuts down.

use crate::api::State;
use crate::api::handlers::devices::health_of;
use crate::store::{StoreError, alerts, devices, events, retention, users};
use chrono::Utc;
use rt_core::api::{EventKind, HealthLevel};
use tokio::sync::watch;

/// How often alerts are evaluated.
const ALERT_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);
/// How often the alert rules' clock runs (`rt_core::alert::tick`).
const RULE_TICK_PERIOD: std::time::Duration = std::time::Duration::from_secs(30);
/// How often retention runs.
const RETENTION_PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

pub fn spawn(state: State, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut alerts = tokio::time::interval(ALERT_PERIOD);
        let mut retention = tokio::time::interval(RETENTION_PERIOD);
        let mut rule_tick = tokio::time::interval(RULE_TICK_PERIOD);
        rule_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        alerts.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        retention.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = alerts.tick() => {
                    if let Err(e) = evaluate_alerts(&state).await {
                        tracing::warn!(error = %e, "alert evaluation failed");
                    }
                }
                _ = rule_tick.tick() => {
                    if let Err(e) = tick_alert_rules(&state).await {
                        tracing::warn!(error = %e, "alert rule tick failed");
                    }
                }
                _ = retention.tick() => {
                    if let Err(e) = run_retention(&state, Utc::now()).await {
                        tracing::warn!(error = %e, "retention failed");
                    }
                }
            }
        }
    })
}

/// Raise an alert event when a device that should report becomes critical or offline, and
/// clear it when it recovers. Returns how many events were written.
pub async fn evaluate_alerts(state: &State) -> Result<usize, StoreError> {
    let st = state.clone();
    state
        .store
        .run(move |c| {
            let now = Utc::now();
            let mut written = 0;
            for row in devices::all(c)? {
                if !row.lifecycle().expects_telemetry() {
                    continue;
                }
                let latest = row.latest();
                let h = health_of(&st, &row, latest.as_ref(), now);
                let bad = matches!(h.level, HealthLevel::Critical | HealthLevel::Offline);
                let raised = events::latest_alert_kind(c, row.id)? == Some(EventKind::AlertRaised);
                if bad && !raised {
                    events::record(
                        c,
                        row.id,
                        now,
                        EventKind::AlertRaised,
                        "system",
                        &format!("{}: {}", h.level, h.reasons.join("; ")),
                        Some(&serde_json::json!({"level": h.level, "reasons": h.reasons})),
                    )?;
                    written += 1;
                } else if !bad && raised {
                    events::record(
                        c,
                        row.id,
                        now,
                        EventKind::AlertCleared,
                        "system",
                        &format!("recovered: now {}", h.level),
                        Some(&serde_json::json!({"level": h.level})),
                    )?;
                    written += 1;
                }
            }
            Ok(written)
        })
        .await
}

/// The alert rules' clock for every device with rule state; notifies what it publishes.
pub async fn tick_alert_rules(state: &State) -> Result<usize, StoreError> {
    let rules = state.config.alerts.rules.clone();
    let notices = state
        .store
        .run(move |c| alerts::tick_all(c, &rules, Utc::now()))
        .await?;
    let n = notices.len();
    state.notifier.send(notices);
    Ok(n)
}

/// Retention of every storage tier and the database size cap (`store::retention`), then the
/// expired-session clean-up. Deleted rows and cap changes go to `/metrics`; a cap that cuts
/// into retention (or stops doing so) is a warning in the log, and `/fleet/summary` shows it.
pub async fn run_retention(
    state: &State,
    now: chrono::DateTime<Utc>,
) -> Result<retention::Report, StoreError> {
    state
        .store
        .run(move |c| users::purge_expired_sessions(c, now).map(|_| ()))
        .await?;
    let policy = retention::Policy::from_config(&state.config.retention);
    let report = retention::run(&state.store, &policy, now).await?;
    state.metrics.record_retention(&report);
    let total: u64 = report.deleted.values().sum();
    if total > 0 {
        let per_tier: Vec<String> = report
            .deleted
            .iter()
            .map(|(t, n)| format!("{}={n}", t.as_str()))
            .collect();
        tracing::info!(deleted = total, tiers = %per_tier.join(" "), "retention removed expired data");
    }
    let describe = || {
        report
            .cuts
            .iter()
            .map(|c| {
                let configured = c
                    .configured_days
                    .map_or("forever".to_string(), |d| format!("{d} days"));
                format!(
                    "{} kept {} days instead of {configured}",
                    c.tier.as_str(),
                    c.kept_days
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if report.cut_deeper {
        tracing::warn!(
            used_bytes = report.used_bytes,
            cap_bytes = ?policy.max_bytes,
            "retention: the database size cap cuts into retention: {}",
            describe()
        );
    }
    if report.cap_unmet {
        tracing::warn!(
            used_bytes = report.used_bytes,
            cap_bytes = ?policy.max_bytes,
            "retention: the database is still larger than its size cap with every tier at the minimum; raise [retention] max_database_bytes or add disk"
        );
    }
    if report.lifted {
        tracing::warn!(
            used_bytes = report.used_bytes,
            "retention: the database size cap no longer cuts into retention; the configured retention applies again"
        );
    }
    Ok(report)
}
