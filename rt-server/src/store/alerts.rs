//! Alert state and alert episodes (docs/alerts.md, "Server part").
//!
//! - `device_alert_state`: one device's [`DeviceAlertState`] (the rt-core rule state machine) as
//!   JSON. [`evaluate_batch`] runs inside the ingest writer's transaction, right after the
//!   device's samples are stored: load, [`rt_core::alert::evaluate`], store the new state and the
//!   published transitions together, so a transition is recorded exactly once even if the
//!   server stops between two batches. [`tick_all`] does the same with
//!   [`rt_core::alert::tick`] (device offline, settled backlogs) from the alert job.
//! - `alerts`: one row per episode of a rule on a subject: pending -> firing -> resolved, with
//!   its value, summary, last evaluation, ack (who, when) and silence (until when). A pending
//!   episode that never fires is deleted. Every published transition, ack and silence is also a
//!   device event (`alert_firing`, `alert_resolved`, ...).
//! - What must be notified comes back as [`Notice`]s; the caller hands them to the notifier
//!   after the transaction committed.

use super::schema::{alerts, device_alert_state, devices};
use super::{StoreError, events, from_ms, to_ms};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use rt_core::alert::api::{AlertInfo, AlertState, parse_severity};
use rt_core::alert::series::Phase;
use rt_core::alert::{
    AlertRules, DeviceAlertState, ForecastNote, Severity, Transition, TransitionKind,
};
use rt_core::api::EventKind;
use rt_core::{DeviceId, LifecycleState, Sample};
use std::collections::{BTreeMap, BTreeSet};

/// The actor of events the rules write.
const SYSTEM: &str = "system";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alerts)]
pub struct AlertRow {
    pub id: i64,
    pub device_id: i64,
    pub alert_key: String,
    pub rule: String,
    pub subject: String,
    pub severity: String,
    pub state: String,
    pub since: i64,
    pub resolved_at: Option<i64>,
    pub summary: String,
    pub value: Option<f64>,
    pub forecast: Option<String>,
    pub late: bool,
    pub flapping: bool,
    pub last_evaluated: i64,
    pub acked_by: Option<String>,
    pub acked_at: Option<i64>,
    pub silenced_until: Option<i64>,
    pub notified: bool,
}

impl AlertRow {
    pub fn severity(&self) -> Severity {
        parse_severity(&self.severity).unwrap_or_default()
    }

    pub fn state(&self) -> AlertState {
        AlertState::parse(&self.state).unwrap_or(AlertState::Firing)
    }

    pub fn forecast(&self) -> Option<ForecastNote> {
        self.forecast
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok())
    }

    fn silenced_at(&self, now: DateTime<Utc>) -> bool {
        self.silenced_until.is_some_and(|u| u > to_ms(now))
    }

    pub fn to_api(&self, device_name: &str) -> AlertInfo {
        AlertInfo {
            id: self.id,
            device_id: DeviceId(self.device_id),
            device_name: device_name.to_string(),
            key: self.alert_key.clone(),
            rule: self.rule.clone(),
            subject: self.subject.clone(),
            severity: self.severity(),
            state: self.state(),
            since: from_ms(self.since),
            resolved_at: self.resolved_at.map(from_ms),
            summary: self.summary.clone(),
            value: self.value,
            forecast: self.forecast(),
            late: self.late,
            flapping: self.flapping,
            last_evaluated: from_ms(self.last_evaluated),
            acknowledged_by: self.acked_by.clone(),
            acknowledged_at: self.acked_at.map(from_ms),
            silenced_until: self.silenced_until.map(from_ms),
        }
    }
}

/// One transition to notify, with what a message needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub alert: AlertInfo,
    pub kind: TransitionKind,
    pub assignee: Option<String>,
}

/// The device's rule state; a missing or unreadable row starts afresh (the state is derived
/// data: the worst case is that a counter baseline or a forecast history is rebuilt).
pub fn load_state(
    conn: &mut SqliteConnection,
    device_id: i64,
) -> Result<DeviceAlertState, StoreError> {
    let text: Option<String> = device_alert_state::table
        .find(device_id)
        .select(device_alert_state::state)
        .first(conn)
        .optional()?;
    Ok(match text {
        None => DeviceAlertState::default(),
        Some(t) => serde_json::from_str(&t).unwrap_or_else(|e| {
            tracing::warn!(device_id, error = %e, "alert state not readable; starting afresh");
            DeviceAlertState::default()
        }),
    })
}

fn save_state(
    conn: &mut SqliteConnection,
    device_id: i64,
    state: &DeviceAlertState,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    diesel::insert_into(device_alert_state::table)
        .values((
            device_alert_state::device_id.eq(device_id),
            device_alert_state::state.eq(&text),
            device_alert_state::evaluated_at.eq(to_ms(now)),
        ))
        .on_conflict(device_alert_state::device_id)
        .do_update()
        .set((
            device_alert_state::state.eq(&text),
            device_alert_state::evaluated_at.eq(to_ms(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Evaluates a device's newly stored samples (arrived at `now`) and records the outcome.
/// Runs inside the caller's transaction. Returns what to notify once it committed.
pub fn evaluate_batch(
    conn: &mut SqliteConnection,
    device_id: i64,
    samples: &[Sample],
    rules: &AlertRules,
    now: DateTime<Utc>,
) -> Result<Vec<Notice>, StoreError> {
    let mut state = load_state(conn, device_id)?;
    let transitions = rt_core::alert::evaluate(&mut state, samples, rules, now);
    let notices = record(conn, device_id, &state, &transitions, now)?;
    save_state(conn, device_id, &state, now)?;
    Ok(notices)
}

/// The clock's part for every device that has rule state and still expects telemetry: device
/// offline, and backlogs that stopped arriving. One transaction per device.
pub fn tick_all(
    conn: &mut SqliteConnection,
    rules: &AlertRules,
    now: DateTime<Utc>,
) -> Result<Vec<Notice>, StoreError> {
    let ids: Vec<(i64, String)> = device_alert_state::table
        .inner_join(devices::table)
        .select((device_alert_state::device_id, devices::lifecycle_state))
        .load(conn)?;
    let mut out = Vec::new();
    for (device_id, lifecycle) in ids {
        let expects = lifecycle
            .parse::<LifecycleState>()
            .is_ok_and(LifecycleState::expects_telemetry);
        if !expects {
            continue;
        }
        let notices = conn.immediate_transaction(|c| {
            let mut state = load_state(c, device_id)?;
            let transitions = rt_core::alert::tick(&mut state, rules, now);
            if transitions.is_empty() && !state.unpublished {
                return Ok::<_, StoreError>(Vec::new());
            }
            let n = record(c, device_id, &state, &transitions, now)?;
            save_state(c, device_id, &state, now)?;
            Ok(n)
        })?;
        out.extend(notices);
    }
    Ok(out)
}

fn open_rows(
    conn: &mut SqliteConnection,
    device_id: i64,
) -> Result<BTreeMap<String, AlertRow>, StoreError> {
    Ok(alerts::table
        .filter(alerts::device_id.eq(device_id))
        .filter(alerts::state.ne(AlertState::Resolved.as_str()))
        .select(AlertRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.alert_key.clone(), r))
        .collect())
}

fn row_by_id(conn: &mut SqliteConnection, id: i64) -> Result<Option<AlertRow>, StoreError> {
    Ok(alerts::table
        .find(id)
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?)
}

fn device_name_assignee(
    conn: &mut SqliteConnection,
    device_id: i64,
) -> Result<(String, Option<String>), StoreError> {
    Ok(devices::table
        .find(device_id)
        .select((devices::name, devices::assignee))
        .first(conn)
        .optional()?
        .unwrap_or_else(|| (format!("device {device_id}"), None)))
}

fn event_kind(kind: TransitionKind) -> EventKind {
    match kind {
        TransitionKind::Firing => EventKind::AlertFiring,
        TransitionKind::SeverityChanged => EventKind::AlertSeverityChanged,
        TransitionKind::FlappingStarted => EventKind::AlertFlappingStarted,
        TransitionKind::FlappingStopped => EventKind::AlertFlappingStopped,
        TransitionKind::Resolved => EventKind::AlertResolved,
    }
}

fn forecast_json(f: Option<&ForecastNote>) -> Option<String> {
    f.and_then(|f| serde_json::to_string(f).ok())
}

/// Stores the published transitions of one device (and its pending episodes) and returns
/// what to notify.
fn record(
    conn: &mut SqliteConnection,
    device_id: i64,
    state: &DeviceAlertState,
    transitions: &[Transition],
    now: DateTime<Utc>,
) -> Result<Vec<Notice>, StoreError> {
    let now_ms = to_ms(now);
    let mut open = open_rows(conn, device_id)?;
    let mut notices = Vec::new();
    let mut device: Option<(String, Option<String>)> = None;
    for t in transitions {
        let key = t.key.id();
        let existing = open.remove(&key);
        let id = match (&existing, t.kind) {
            (None, _) => {
                // A new episode; a transition other than firing without an open row means
                // the rows were lost (a restored database): store it as firing anyway.
                let state_now = if t.kind == TransitionKind::Resolved {
                    AlertState::Resolved
                } else {
                    AlertState::Firing
                };
                diesel::insert_into(alerts::table)
                    .values((
                        alerts::device_id.eq(device_id),
                        alerts::alert_key.eq(&key),
                        alerts::rule.eq(t.key.rule.as_str()),
                        alerts::subject.eq(&t.key.subject),
                        alerts::severity.eq(t.severity.as_str()),
                        alerts::state.eq(state_now.as_str()),
                        alerts::since.eq(to_ms(t.at)),
                        alerts::resolved_at
                            .eq((state_now == AlertState::Resolved).then_some(to_ms(t.at))),
                        alerts::summary.eq(&t.summary),
                        alerts::value.eq(t.value),
                        alerts::forecast.eq(forecast_json(t.forecast.as_ref())),
                        alerts::late.eq(t.late),
                        alerts::flapping.eq(t.flapping),
                        alerts::last_evaluated.eq(now_ms),
                        alerts::notified.eq(t.kind == TransitionKind::Firing),
                    ))
                    .returning(alerts::id)
                    .get_result::<i64>(conn)?
            }
            (Some(row), TransitionKind::Firing) => {
                diesel::update(alerts::table.find(row.id))
                    .set((
                        alerts::state.eq(AlertState::Firing.as_str()),
                        alerts::severity.eq(t.severity.as_str()),
                        alerts::since.eq(to_ms(t.at)),
                        alerts::summary.eq(&t.summary),
                        alerts::value.eq(t.value),
                        alerts::forecast.eq(forecast_json(t.forecast.as_ref())),
                        alerts::late.eq(t.late),
                        alerts::flapping.eq(t.flapping),
                        alerts::last_evaluated.eq(now_ms),
                        alerts::notified.eq(!row.silenced_at(now)),
                    ))
                    .execute(conn)?;
                row.id
            }
            (Some(row), TransitionKind::Resolved) => {
                diesel::update(alerts::table.find(row.id))
                    .set((
                        alerts::state.eq(AlertState::Resolved.as_str()),
                        alerts::resolved_at.eq(Some(to_ms(t.at))),
                        alerts::flapping.eq(false),
                        alerts::last_evaluated.eq(now_ms),
                    ))
                    .execute(conn)?;
                row.id
            }
            (Some(row), _) => {
                diesel::update(alerts::table.find(row.id))
                    .set((
                        alerts::severity.eq(t.severity.as_str()),
                        alerts::summary.eq(&t.summary),
                        alerts::value.eq(t.value),
                        alerts::forecast.eq(forecast_json(t.forecast.as_ref())),
                        alerts::flapping.eq(t.flapping),
                        alerts::last_evaluated.eq(now_ms),
                    ))
                    .execute(conn)?;
                row.id
            }
        };
        let row = row_by_id(conn, id)?
            .ok_or_else(|| StoreError::Corrupt(format!("alert {id} vanished")))?;
        if row.state() != AlertState::Resolved {
            open.insert(key.clone(), row.clone());
        }
        let (name, assignee) = match &device {
            Some(d) => d.clone(),
            None => {
                let d = device_name_assignee(conn, device_id)?;
                device = Some(d.clone());
                d
            }
        };
        let info = row.to_api(&name);
        let message = match t.kind {
            TransitionKind::Firing if t.late => format!("{} (late)", t.summary),
            _ => t.summary.clone(),
        };
        events::record(
            conn,
            device_id,
            now,
            event_kind(t.kind),
            SYSTEM,
            &format!("{key}: {message}"),
            Some(&serde_json::json!({
                "alert_id": id,
                "key": key,
                "severity": t.severity,
                "at": t.at,
                "late": t.late,
                "flapping": t.flapping,
                "value": t.value,
            })),
        )?;
        // A new firing is notified unless silenced; every later transition only if the firing
        // was (a resolve always, then: resolved messages are never suppressed).
        let notify = match t.kind {
            TransitionKind::Firing => row.notified,
            TransitionKind::Resolved => row.notified,
            _ => row.notified && !row.silenced_at(now),
        };
        if notify {
            notices.push(Notice {
                alert: info,
                kind: t.kind,
                assignee,
            });
        }
    }
    sync_pending(conn, device_id, state, &open, now)?;
    diesel::update(
        alerts::table
            .filter(alerts::device_id.eq(device_id))
            .filter(alerts::state.ne(AlertState::Resolved.as_str())),
    )
    .set(alerts::last_evaluated.eq(now_ms))
    .execute(conn)?;
    Ok(notices)
}

/// Pending episodes: a rule whose condition holds but that was not published as firing yet
/// has a `pending` row; one that stopped without firing loses it (no event: nothing happened).
fn sync_pending(
    conn: &mut SqliteConnection,
    device_id: i64,
    state: &DeviceAlertState,
    open: &BTreeMap<String, AlertRow>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut pending = BTreeSet::new();
    for (key, s) in &state.series {
        if s.exposed.open || !s.active() {
            continue;
        }
        let Some(parsed) = rt_core::alert::AlertKey::parse(key) else {
            continue;
        };
        pending.insert(key.clone());
        let since = match s.phase {
            Phase::Pending { since } => since,
            Phase::Firing { active_since, .. } => active_since,
            Phase::Inactive => continue,
        };
        let finding = s.finding.as_ref();
        let severity = finding.map(|f| f.severity).unwrap_or_default();
        let summary = finding.map(|f| f.summary.clone()).unwrap_or_default();
        let value = finding.and_then(|f| f.value);
        if let Some(row) = open.get(key) {
            if row.state() == AlertState::Pending {
                diesel::update(alerts::table.find(row.id))
                    .set((
                        alerts::severity.eq(severity.as_str()),
                        alerts::summary.eq(&summary),
                        alerts::value.eq(value),
                    ))
                    .execute(conn)?;
            }
            continue;
        }
        diesel::insert_into(alerts::table)
            .values((
                alerts::device_id.eq(device_id),
                alerts::alert_key.eq(key),
                alerts::rule.eq(parsed.rule.as_str()),
                alerts::subject.eq(&parsed.subject),
                alerts::severity.eq(severity.as_str()),
                alerts::state.eq(AlertState::Pending.as_str()),
                alerts::since.eq(to_ms(since)),
                alerts::summary.eq(&summary),
                alerts::value.eq(value),
                alerts::last_evaluated.eq(to_ms(now)),
            ))
            .execute(conn)?;
    }
    let gone: Vec<i64> = open
        .iter()
        .filter(|(k, r)| r.state() == AlertState::Pending && !pending.contains(*k))
        .map(|(_, r)| r.id)
        .collect();
    if !gone.is_empty() {
        diesel::delete(alerts::table.filter(alerts::id.eq_any(gone))).execute(conn)?;
    }
    Ok(())
}

/// Filters of `GET /api/v1/alerts`.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub states: Vec<AlertState>,
    pub severities: Vec<Severity>,
    pub device_id: Option<i64>,
    pub rule: Option<String>,
}

/// Alerts matching `f`, newest first, with the device names, and the total count.
pub fn list(
    conn: &mut SqliteConnection,
    f: &AlertFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AlertInfo>, i64), StoreError> {
    let build = || {
        let mut q = alerts::table.into_boxed();
        if !f.states.is_empty() {
            q = q.filter(alerts::state.eq_any(f.states.iter().map(|s| s.as_str())));
        }
        if !f.severities.is_empty() {
            q = q.filter(alerts::severity.eq_any(f.severities.iter().map(|s| s.as_str())));
        }
        if let Some(d) = f.device_id {
            q = q.filter(alerts::device_id.eq(d));
        }
        if let Some(r) = &f.rule {
            q = q.filter(alerts::rule.eq(r.clone()));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let rows: Vec<AlertRow> = build()
        .order(alerts::id.desc())
        .limit(limit)
        .offset(offset)
        .select(AlertRow::as_select())
        .load(conn)?;
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.device_id).collect();
    let names: BTreeMap<i64, String> = devices::table
        .filter(devices::id.eq_any(ids))
        .select((devices::id, devices::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let out = rows
        .iter()
        .map(|r| {
            let name = names.get(&r.device_id).map(String::as_str).unwrap_or("");
            r.to_api(name)
        })
        .collect();
    Ok((out, total))
}

/// One alert as the API shows it.
pub fn get(conn: &mut SqliteConnection, id: i64) -> Result<Option<AlertInfo>, StoreError> {
    let Some(row) = row_by_id(conn, id)? else {
        return Ok(None);
    };
    let (name, _) = device_name_assignee(conn, row.device_id)?;
    Ok(Some(row.to_api(&name)))
}

/// What an ack or silence found.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Done(Box<AlertInfo>),
    NotFound,
    /// The alert is resolved: nothing to acknowledge or silence.
    Resolved,
}

/// Acknowledges an open alert as `actor` (an event records it; acking again updates who/when).
pub fn acknowledge(
    conn: &mut SqliteConnection,
    id: i64,
    actor: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Change, StoreError> {
    conn.immediate_transaction(|c| {
        let Some(row) = row_by_id(c, id)? else {
            return Ok(Change::NotFound);
        };
        if row.state() == AlertState::Resolved {
            return Ok(Change::Resolved);
        }
        diesel::update(alerts::table.find(id))
            .set((
                alerts::acked_by.eq(Some(actor)),
                alerts::acked_at.eq(Some(to_ms(now))),
            ))
            .execute(c)?;
        let msg = match comment {
            Some(cm) => format!("{}: acknowledged by {actor}: {cm}", row.alert_key),
            None => format!("{}: acknowledged by {actor}", row.alert_key),
        };
        events::record(
            c,
            row.device_id,
            now,
            EventKind::AlertAcknowledged,
            actor,
            &msg,
            Some(&serde_json::json!({"alert_id": id, "key": row.alert_key})),
        )?;
        Ok(get(c, id)?.map_or(Change::NotFound, |a| Change::Done(Box::new(a))))
    })
}

/// Silences an open alert's notifications until `until`.
pub fn silence(
    conn: &mut SqliteConnection,
    id: i64,
    actor: &str,
    until: DateTime<Utc>,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Change, StoreError> {
    conn.immediate_transaction(|c| {
        let Some(row) = row_by_id(c, id)? else {
            return Ok(Change::NotFound);
        };
        if row.state() == AlertState::Resolved {
            return Ok(Change::Resolved);
        }
        diesel::update(alerts::table.find(id))
            .set(alerts::silenced_until.eq(Some(to_ms(until))))
            .execute(c)?;
        let mut msg = format!(
            "{}: silenced by {actor} until {}",
            row.alert_key,
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        if let Some(cm) = comment {
            msg.push_str(": ");
            msg.push_str(cm);
        }
        events::record(
            c,
            row.device_id,
            now,
            EventKind::AlertSilenced,
            actor,
            &msg,
            Some(&serde_json::json!({"alert_id": id, "key": row.alert_key, "until": until})),
        )?;
        Ok(get(c, id)?.map_or(Change::NotFound, |a| Change::Done(Box::new(a))))
    })
}
