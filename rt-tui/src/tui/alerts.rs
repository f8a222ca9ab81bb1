//! The alerts screen's state and rules: which alerts it asks for ([`AlertScope`]), the order
//! it shows them in ([`sort_alerts`]), how an alert's state reads ([`state_label`]), and the
//! ack and silence actions it confirms before sending. Pure: no terminal, no sockets.

use crate::format::{relative_time, safe};
use chrono::{DateTime, Utc};
use rt_core::alert::Severity;
use rt_core::alert::api::{AlertInfo, AlertState};
use std::cmp::Reverse;

/// Which alerts the screen lists; `f` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AlertScope {
    /// Pending and firing (what `rt-tui alerts` lists by default).
    #[default]
    Open,
    Firing,
    /// The open ones and the newest [`RESOLVED_LIMIT`] resolved ones.
    All,
}

/// Resolved alerts the `all` scope asks for (the newest); they only grow.
pub const RESOLVED_LIMIT: u64 = 200;

impl AlertScope {
    pub const ALL: [AlertScope; 3] = [AlertScope::Open, AlertScope::Firing, AlertScope::All];

    pub fn next(self) -> AlertScope {
        match self {
            AlertScope::Open => AlertScope::Firing,
            AlertScope::Firing => AlertScope::All,
            AlertScope::All => AlertScope::Open,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AlertScope::Open => "open (pending, firing)",
            AlertScope::Firing => "firing",
            AlertScope::All => "all (with recently resolved)",
        }
    }

    /// The `GET /alerts` queries of this scope, answered one after the other.
    pub fn queries(self) -> Vec<AlertQuery> {
        let q = |state: &str, limit| AlertQuery {
            filters: vec![("state", state.to_string())],
            limit,
        };
        match self {
            AlertScope::Open => vec![q("pending,firing", None)],
            AlertScope::Firing => vec![q("firing", None)],
            AlertScope::All => vec![
                q("pending,firing", None),
                q("resolved", Some(RESOLVED_LIMIT)),
            ],
        }
    }
}

/// One `GET /alerts` query: its filters, and the newest `limit` rows (`None`: every page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertQuery {
    pub filters: Vec<(&'static str, String)>,
    pub limit: Option<u64>,
}

/// What the alerts screen holds between fetches.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertsState {
    /// In display order ([`sort_alerts`]); `None` until the first answer.
    pub items: Option<Vec<AlertInfo>>,
    pub scope: AlertScope,
    /// The scope of `items` (differs from `scope` while a new scope loads).
    pub shown_scope: AlertScope,
    pub selected: usize,
    pub offset: usize,
    /// Why the last fetch failed (shown on the screen's first line).
    pub error: Option<String>,
    /// An ack or silence changed the server while a fetch was in flight: its answer may be
    /// older than the change, so it is dropped and the list asked for again.
    pub reload: bool,
}

impl AlertsState {
    /// Firing alerts (acknowledged or not): the header's count. `None` until loaded.
    pub fn firing(&self) -> Option<usize> {
        self.items
            .as_ref()
            .map(|v| v.iter().filter(|a| a.state == AlertState::Firing).count())
    }

    pub fn selected_alert(&self) -> Option<&AlertInfo> {
        self.items.as_ref().and_then(|v| v.get(self.selected))
    }

    pub fn len(&self) -> usize {
        self.items.as_ref().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the list (sorted), keeping the selected alert selected when it is still there.
    pub fn set_items(&mut self, mut items: Vec<AlertInfo>, now: DateTime<Utc>, rows: usize) {
        let keep = self.selected_alert().map(|a| a.id);
        sort_alerts(&mut items, now);
        if let Some(pos) = keep.and_then(|id| items.iter().position(|a| a.id == id)) {
            self.selected = pos;
        }
        self.items = Some(items);
        self.clamp(rows);
    }

    /// Puts the server's answer to an ack or silence in place of the old row.
    pub fn update(&mut self, a: AlertInfo, now: DateTime<Utc>, rows: usize) {
        let Some(items) = self.items.clone() else {
            return;
        };
        let items = items
            .into_iter()
            .map(|x| if x.id == a.id { a.clone() } else { x })
            .collect();
        self.set_items(items, now, rows);
    }

    /// Keeps the selection on the list and in view of `rows` table rows.
    pub fn clamp(&mut self, rows: usize) {
        let n = self.len();
        if n == 0 {
            self.selected = 0;
            self.offset = 0;
            return;
        }
        let rows = rows.max(1);
        self.selected = self.selected.min(n - 1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
        self.offset = self.offset.min(n.saturating_sub(rows));
    }
}

/// True while the alert is silenced (its notifications held back).
pub fn silenced(a: &AlertInfo, now: DateTime<Utc>) -> bool {
    a.state != AlertState::Resolved && a.silenced_until.is_some_and(|u| u > now)
}

/// True when someone acknowledged the open alert.
pub fn acked(a: &AlertInfo) -> bool {
    a.state != AlertState::Resolved && a.acknowledged_by.is_some()
}

/// Triage rank: firing and nobody on it, firing but acknowledged or silenced, pending, resolved.
pub fn rank(a: &AlertInfo, now: DateTime<Utc>) -> u8 {
    match a.state {
        AlertState::Firing if !acked(a) && !silenced(a, now) => 0,
        AlertState::Firing => 1,
        AlertState::Pending => 2,
        AlertState::Resolved => 3,
    }
}

/// The screen's order: [`rank`], then severity (critical first), then the newest first.
pub fn sort_alerts(items: &mut [AlertInfo], now: DateTime<Utc>) {
    items.sort_by_key(|a| {
        (
            rank(a, now),
            Reverse(a.severity),
            Reverse(a.since),
            Reverse(a.id),
        )
    });
}

/// The text marker of a severity (readable without colour).
pub fn severity_marker(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::Warning => "WARN",
        Severity::Info => "INFO",
    }
}

/// How an alert's state reads: `firing`, `pending`, `resolved`, or for an open alert
/// `silenced` / `acked` (wide: `silenced 3h left`, `acked by alice`), then the `late` and
/// `flap` markers.
pub fn state_label(a: &AlertInfo, now: DateTime<Utc>, wide: bool) -> String {
    let mut s = if silenced(a, now) {
        match (wide, a.silenced_until) {
            (true, Some(u)) => format!("silenced {} left", left((u - now).num_seconds())),
            _ => "silenced".to_string(),
        }
    } else if acked(a) {
        match (wide, a.acknowledged_by.as_deref()) {
            (true, Some(by)) => format!("acked by {}", safe(by)),
            _ => "acked".to_string(),
        }
    } else {
        a.state.as_str().to_string()
    };
    if a.late {
        s.push_str(" late");
    }
    if a.flapping {
        s.push_str(if wide { " flapping" } else { " flap" });
    }
    s
}

/// Remaining time, coarse: `45s`, `12m`, `3h`, `2d`.
fn left(secs: i64) -> String {
    match secs.max(0) {
        s @ 0..=59 => format!("{s}s"),
        s @ 60..=3_599 => format!("{}m", s / 60),
        s @ 3_600..=86_399 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

/// When the alert began, relative ("2h ago").
pub fn since(a: &AlertInfo, now: DateTime<Utc>) -> String {
    relative_time(Some(a.since), now)
}

/// What an admin does to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertOp {
    Ack,
    /// No notifications for this many seconds.
    Silence {
        secs: u64,
    },
}

/// A confirmed (or to be confirmed) ack or silence of one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertAction {
    pub id: i64,
    pub device_id: rt_core::DeviceId,
    pub op: AlertOp,
    /// "acknowledge disk_usage:/ on build-07 (alert 11)"
    pub description: String,
}

/// The alert as the confirmation names it: `disk_usage:/ on build-07 (alert 11)`.
pub fn alert_name(a: &AlertInfo) -> String {
    format!(
        "{} on {} (alert {})",
        safe(&a.key),
        safe(&a.device_name),
        a.id
    )
}

impl AlertAction {
    pub fn ack(a: &AlertInfo) -> AlertAction {
        AlertAction {
            id: a.id,
            device_id: a.device_id,
            op: AlertOp::Ack,
            description: format!("acknowledge {}", alert_name(a)),
        }
    }

    /// Silences `a` for `secs` (already read with the one duration grammar).
    pub fn silence(a: &AlertInfo, secs: u64) -> AlertAction {
        AlertAction {
            id: a.id,
            device_id: a.device_id,
            op: AlertOp::Silence { secs },
            description: format!(
                "silence {} for {}",
                alert_name(a),
                rt_client::duration::format_secs(secs)
            ),
        }
    }
}

/// Reads a silence duration typed by the user: the one duration grammar
/// (`rt_client::duration`), at most the server's 90 days.
pub fn parse_silence(text: &str) -> Result<u64, String> {
    let secs = rt_client::duration::parse_secs(text).map_err(|e| e.to_string())?;
    let max = rt_core::alert::api::MAX_SILENCE_S;
    if secs > max {
        return Err(format!(
            "a silence lasts at most {} (90 days), got {}",
            rt_client::duration::format_secs(max),
            text.trim()
        ));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures;

    #[test]
    fn unhandled_firing_alerts_come_first_then_severity_then_newest() {
        let now = fixtures::now();
        let mut items = fixtures::alerts();
        items.reverse();
        sort_alerts(&mut items, now);
        let order: Vec<(i64, u8)> = items.iter().map(|a| (a.id, rank(a, now))).collect();
        // 11 and 15 fire with nobody on them (critical before warning); 12 (acked) and 13
        // (silenced) fire but are handled; 14 is pending; 9 is resolved.
        assert_eq!(
            order,
            vec![(11, 0), (15, 0), (12, 1), (13, 1), (14, 2), (9, 3)]
        );
    }

    #[test]
    fn a_silence_that_ended_no_longer_counts_as_handled() {
        let now = fixtures::now();
        let mut a = fixtures::alerts().into_iter().find(|a| a.id == 13).unwrap();
        assert_eq!(rank(&a, now), 1);
        assert_eq!(state_label(&a, now, false), "silenced late");
        assert_eq!(state_label(&a, now, true), "silenced 3h left late");
        a.silenced_until = Some(now - chrono::Duration::minutes(1));
        assert_eq!(rank(&a, now), 0);
        assert_eq!(state_label(&a, now, false), "firing late");
    }

    #[test]
    fn state_labels_name_who_acknowledged_and_flapping() {
        let now = fixtures::now();
        let all = fixtures::alerts();
        let by = |id| all.iter().find(|a| a.id == id).unwrap();
        assert_eq!(state_label(by(12), now, true), "acked by alice");
        assert_eq!(state_label(by(12), now, false), "acked");
        assert_eq!(state_label(by(15), now, false), "firing flap");
        assert_eq!(state_label(by(9), now, false), "resolved");
    }

    #[test]
    fn silence_durations_use_the_one_grammar_and_the_server_limit() {
        assert_eq!(parse_silence("4h"), Ok(4 * 3600));
        assert_eq!(parse_silence("1h 30m"), Ok(5400));
        assert!(parse_silence("4").unwrap_err().contains("unit is missing"));
        assert!(parse_silence("91d").unwrap_err().contains("at most 90d"));
        assert!(parse_silence("").is_err());
    }

    #[test]
    fn actions_name_the_alert() {
        let a = fixtures::alerts().remove(0);
        assert_eq!(
            AlertAction::ack(&a).description,
            "acknowledge disk_usage:/ on build-07 (alert 11)"
        );
        assert_eq!(
            AlertAction::silence(&a, 14_400).description,
            "silence disk_usage:/ on build-07 (alert 11) for 4h"
        );
    }

    #[test]
    fn scopes_cycle_and_ask_for_their_states() {
        assert_eq!(AlertScope::Open.next().next().next(), AlertScope::Open);
        let q = AlertScope::All.queries();
        assert_eq!(q.len(), 2);
        assert_eq!(q[1].limit, Some(RESOLVED_LIMIT));
        assert_eq!(AlertScope::Firing.queries()[0].filters[0].1, "firing");
    }
}
