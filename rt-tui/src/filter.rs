//! Fleet filters and sorting, shared by the TUI (`/`) and `rt-tui devices --filter`.
//!
//! A filter is free text plus `key:value` tokens, all of which must match:
//! `health:critical`, `health:warning,critical`, `state:deployed`, `user:alice`, `user:none`.
//! Free text matches name, hostname, assignee, asset tag, OS and id (case-insensitive).

use rt_core::LifecycleState;
use rt_core::api::{DeviceSummary, HealthLevel};
use std::cmp::Ordering;

/// A parsed filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub text: Vec<String>,
    pub health: Vec<HealthLevel>,
    pub states: Vec<LifecycleState>,
    /// Lower-cased assignee names; "none" means unassigned.
    pub users: Vec<String>,
}

impl Filter {
    /// Parses a filter line. Errors name the offending token and the accepted keys.
    pub fn parse(input: &str) -> Result<Filter, String> {
        let mut f = Filter::default();
        for tok in input.split_whitespace() {
            match tok.split_once(':') {
                Some((key, value)) if !key.is_empty() => {
                    let values = value.split(',').filter(|v| !v.is_empty());
                    match key.to_ascii_lowercase().as_str() {
                        "health" | "h" => {
                            for v in values {
                                f.health.push(v.parse::<HealthLevel>()?);
                            }
                        }
                        "state" | "lifecycle" | "s" => {
                            for v in values {
                                f.states
                                    .push(v.parse::<LifecycleState>().map_err(|e| e.to_string())?);
                            }
                        }
                        "user" | "assignee" | "u" => {
                            f.users.extend(values.map(|v| v.to_lowercase()));
                        }
                        other => {
                            return Err(format!(
                                "unknown filter key {other:?}: use health:, state: or user: (or plain text)"
                            ));
                        }
                    }
                }
                _ => f.text.push(tok.to_lowercase()),
            }
        }
        Ok(f)
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
            && self.health.is_empty()
            && self.states.is_empty()
            && self.users.is_empty()
    }

    /// Whether `d` passes every part of the filter.
    pub fn matches(&self, d: &DeviceSummary) -> bool {
        if !self.health.is_empty() && !self.health.contains(&d.health.level) {
            return false;
        }
        if !self.states.is_empty() && !self.states.contains(&d.lifecycle_state) {
            return false;
        }
        if !self.users.is_empty() {
            let who = d.assignee.as_deref().unwrap_or("").to_lowercase();
            let ok = self.users.iter().any(|u| {
                if u == "none" || u == "-" {
                    who.is_empty()
                } else {
                    !who.is_empty() && who.contains(u.as_str())
                }
            });
            if !ok {
                return false;
            }
        }
        self.text.iter().all(|t| {
            let t = t.as_str();
            d.name.to_lowercase().contains(t)
                || d.hostname.to_lowercase().contains(t)
                || d.os_name.to_lowercase().contains(t)
                || d.assignee
                    .as_deref()
                    .is_some_and(|a| a.to_lowercase().contains(t))
                || d.asset_tag
                    .as_deref()
                    .is_some_and(|a| a.to_lowercase().contains(t))
                || d.id.to_string() == t
                || d.health
                    .reasons
                    .iter()
                    .any(|r| r.to_lowercase().contains(t))
        })
    }
}

/// A sortable fleet column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Health,
    Name,
    User,
    State,
    Cpu,
    Ram,
    Disk,
    Temp,
    Battery,
    LastSeen,
}

impl SortKey {
    /// In column order; the TUI binds keys 1..9,0 to these.
    pub const ALL: [SortKey; 10] = [
        SortKey::Health,
        SortKey::Name,
        SortKey::User,
        SortKey::State,
        SortKey::Cpu,
        SortKey::Ram,
        SortKey::Disk,
        SortKey::Temp,
        SortKey::Battery,
        SortKey::LastSeen,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Health => "health",
            SortKey::Name => "name",
            SortKey::User => "user",
            SortKey::State => "state",
            SortKey::Cpu => "cpu",
            SortKey::Ram => "ram",
            SortKey::Disk => "disk",
            SortKey::Temp => "temp",
            SortKey::Battery => "battery",
            SortKey::LastSeen => "last seen",
        }
    }

    /// The natural first direction: worst first for health and load, A-Z for text,
    /// weakest battery first, most recently seen first.
    pub fn default_descending(self) -> bool {
        matches!(
            self,
            SortKey::Health
                | SortKey::Cpu
                | SortKey::Ram
                | SortKey::Disk
                | SortKey::Temp
                | SortKey::LastSeen
        )
    }

    pub fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }

    pub fn prev(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0);
        SortKey::ALL[(i + SortKey::ALL.len() - 1) % SortKey::ALL.len()]
    }
}

/// Attention rank: critical > offline > warning > unknown > ok.
fn health_rank(h: HealthLevel) -> u8 {
    match h {
        HealthLevel::Critical => 4,
        HealthLevel::Offline => 3,
        HealthLevel::Warning => 2,
        HealthLevel::Unknown => 1,
        HealthLevel::Ok => 0,
    }
}

/// Compares optional numbers; a missing value always sorts last, whatever the direction.
fn cmp_opt(a: Option<f64>, b: Option<f64>, desc: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => {
            let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
            if desc { o.reverse() } else { o }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn cmp_text(a: &str, b: &str, desc: bool) -> Ordering {
    let o = a.to_lowercase().cmp(&b.to_lowercase());
    if desc { o.reverse() } else { o }
}

/// Orders two devices by `key`; ties are broken by name then id so the order is stable.
pub fn compare(a: &DeviceSummary, b: &DeviceSummary, key: SortKey, desc: bool) -> Ordering {
    let m = |d: &DeviceSummary| d.metrics;
    let primary = match key {
        SortKey::Health => {
            let o = health_rank(a.health.level)
                .cmp(&health_rank(b.health.level))
                .then(a.health.reasons.len().cmp(&b.health.reasons.len()));
            if desc { o.reverse() } else { o }
        }
        SortKey::Name => cmp_text(&a.name, &b.name, desc),
        SortKey::User => match (&a.assignee, &b.assignee) {
            (Some(x), Some(y)) => cmp_text(x, y, desc),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        SortKey::State => cmp_text(a.lifecycle_state.as_str(), b.lifecycle_state.as_str(), desc),
        SortKey::Cpu => cmp_opt(m(a).map(|m| m.cpu_pct), m(b).map(|m| m.cpu_pct), desc),
        SortKey::Ram => cmp_opt(m(a).map(|m| m.mem_pct), m(b).map(|m| m.mem_pct), desc),
        SortKey::Disk => cmp_opt(
            m(a).and_then(|m| m.disk_max_pct),
            m(b).and_then(|m| m.disk_max_pct),
            desc,
        ),
        SortKey::Temp => cmp_opt(
            m(a).and_then(|m| m.temp_max_c),
            m(b).and_then(|m| m.temp_max_c),
            desc,
        ),
        SortKey::Battery => cmp_opt(
            m(a).and_then(|m| m.battery_health_pct),
            m(b).and_then(|m| m.battery_health_pct),
            desc,
        ),
        SortKey::LastSeen => cmp_opt(
            a.last_seen.map(|t| t.timestamp() as f64),
            b.last_seen.map(|t| t.timestamp() as f64),
            desc,
        ),
    };
    primary
        .then_with(|| cmp_text(&a.name, &b.name, false))
        .then_with(|| a.id.cmp(&b.id))
}

/// Indices of the devices that pass `filter`, in `key` order.
pub fn filter_and_sort(
    devices: &[DeviceSummary],
    filter: &Filter,
    key: SortKey,
    desc: bool,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..devices.len())
        .filter(|&i| filter.matches(&devices[i]))
        .collect();
    idx.sort_by(|&a, &b| compare(&devices[a], &devices[b], key, desc));
    idx
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures;

    #[test]
    fn parses_text_and_tokens() {
        let f = Filter::parse("  web health:critical,warning state:deployed user:Alice ").unwrap();
        assert_eq!(f.text, vec!["web"]);
        assert_eq!(f.health, vec![HealthLevel::Critical, HealthLevel::Warning]);
        assert_eq!(f.states, vec![LifecycleState::Deployed]);
        assert_eq!(f.users, vec!["alice"]);
        assert!(Filter::parse("").unwrap().is_empty());
        assert!(Filter::parse("state:in-repair").unwrap().states == vec![LifecycleState::InRepair]);
    }

    #[test]
    fn parse_errors_name_the_fix() {
        let e = Filter::parse("colour:red").unwrap_err();
        assert!(e.contains("health:, state: or user:"), "{e}");
        let e = Filter::parse("health:bad").unwrap_err();
        assert!(e.contains("critical"), "{e}");
        let e = Filter::parse("state:broken").unwrap_err();
        assert!(e.contains("deployed"), "{e}");
    }

    #[test]
    fn matching() {
        let fleet = fixtures::fleet();
        let names = |q: &str| -> Vec<String> {
            let f = Filter::parse(q).unwrap();
            fleet
                .iter()
                .filter(|d| f.matches(d))
                .map(|d| d.name.clone())
                .collect()
        };
        assert_eq!(names("health:critical"), vec!["build-07", "lab-mac-02"]);
        assert_eq!(names("user:alice"), vec!["alice-laptop"]);
        assert_eq!(names("user:none"), vec!["build-07", "spare-t14"]);
        assert_eq!(names("state:in_stock"), vec!["spare-t14"]);
        assert_eq!(names("BUILD"), vec!["build-07"]);
        assert_eq!(names("health:critical full"), vec!["build-07"]);
        assert_eq!(names("nothing-matches-this"), Vec::<String>::new());
    }

    #[test]
    fn sorting() {
        let fleet = fixtures::fleet();
        let order = |k: SortKey, desc: bool| -> Vec<String> {
            filter_and_sort(&fleet, &Filter::default(), k, desc)
                .into_iter()
                .map(|i| fleet[i].name.clone())
                .collect()
        };
        let by_health = order(SortKey::Health, true);
        assert_eq!(&by_health[..2], &["build-07", "lab-mac-02"]);
        assert_eq!(by_health[2], "old-desktop"); // offline next
        let by_name = order(SortKey::Name, false);
        let mut sorted = by_name.clone();
        sorted.sort();
        assert_eq!(by_name, sorted);
        // Missing values last in both directions.
        let temp_desc = order(SortKey::Temp, true);
        let temp_asc = order(SortKey::Temp, false);
        assert_eq!(temp_desc.first().unwrap(), "build-07");
        assert_eq!(temp_desc.last(), temp_asc.last());
        assert_eq!(SortKey::LastSeen.next(), SortKey::Health);
        assert_eq!(SortKey::Health.prev(), SortKey::LastSeen);
    }
}
