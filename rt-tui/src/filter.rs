//! Fleet filters and sorting, shared by the TUI (`/`) and `rt-tui devices --filter`.
//!
//! A filter is free text plus `key:value` tokens; every token must match, and the values of one
//! key (`health:warn,crit` or `health:warn health:crit`) are alternatives:
//!
//! - `health:` (`h:`) with `crit`/`critical`, `warn`/`warning`, `off`/`offline`, `ok`,
//!   `unknown`/`?`; the bare words `crit`, `critical`, `warn`, `warning`, `off` and `offline`
//!   mean the same as `health:` with that level;
//! - `state:` (`s:`, `lifecycle:`), `user:` (`u:`, `assignee:`; `none` = unassigned), `os:`,
//!   `model:`: substrings, case-insensitive;
//! - anything else is free text over name, hostname, serial, asset tag and assignee (or the
//!   exact id); quote a word (`"warn"`) to search for it as text.
//!
//! Sorting by health is the triage order ([`triage_rank`]).

use chrono::{DateTime, Utc};
use rt_core::LifecycleState;
use rt_core::api::{DeviceSummary, HealthLevel};
use std::cmp::Ordering;

/// Silence up to this long is a device asleep (a laptop overnight); longer is long silence.
pub const ASLEEP_MAX_S: i64 = 24 * 3600;

/// A parsed filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Lower-cased free-text words.
    pub text: Vec<String>,
    pub health: Vec<HealthLevel>,
    pub states: Vec<LifecycleState>,
    /// Lower-cased assignee names; "none" means unassigned.
    pub users: Vec<String>,
    /// Lower-cased OS name substrings.
    pub os: Vec<String>,
    /// Lower-cased model substrings.
    pub models: Vec<String>,
}

/// The filter keys, for the error message and completion.
pub const KEYS: [&str; 5] = ["health:", "state:", "user:", "os:", "model:"];

/// A health level from its name or short form (`crit`, `warn`, `off`, ...).
pub fn parse_level(v: &str) -> Result<HealthLevel, String> {
    Ok(match v.to_ascii_lowercase().as_str() {
        "crit" | "critical" => HealthLevel::Critical,
        "warn" | "warning" => HealthLevel::Warning,
        "off" | "offline" => HealthLevel::Offline,
        "ok" => HealthLevel::Ok,
        "unknown" | "?" => HealthLevel::Unknown,
        _ => {
            return Err(format!(
                "unknown health level {v:?}: use crit, warn, off, ok or unknown"
            ));
        }
    })
}

/// Bare words that filter by health level rather than search text.
fn bare_level(word: &str) -> Option<HealthLevel> {
    match word.to_ascii_lowercase().as_str() {
        "crit" | "critical" | "warn" | "warning" | "off" | "offline" => parse_level(word).ok(),
        _ => None,
    }
}

impl Filter {
    /// Parses a filter line. Errors name the offending token and the accepted keys.
    pub fn parse(input: &str) -> Result<Filter, String> {
        let mut f = Filter::default();
        for tok in input.split_whitespace() {
            if let Some(quoted) = tok
                .strip_prefix('"')
                .map(|t| t.strip_suffix('"').unwrap_or(t))
            {
                if !quoted.is_empty() {
                    f.text.push(quoted.to_lowercase());
                }
                continue;
            }
            if let Some(level) = bare_level(tok) {
                f.health.push(level);
                continue;
            }
            match tok.split_once(':') {
                Some((key, value)) if !key.is_empty() => {
                    let values = value.split(',').filter(|v| !v.is_empty());
                    match key.to_ascii_lowercase().as_str() {
                        "health" | "h" => {
                            for v in values {
                                f.health.push(parse_level(v)?);
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
                        "os" => f.os.extend(values.map(|v| v.to_lowercase())),
                        "model" => f.models.extend(values.map(|v| v.to_lowercase())),
                        other => {
                            return Err(format!(
                                "unknown filter key {other:?}: use health:, state:, user:, os:, model: (or plain text)"
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
        *self == Filter::default()
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
        let contains = |hay: Option<&str>, needle: &str| {
            hay.is_some_and(|h| h.to_lowercase().contains(needle))
        };
        if !self.os.is_empty() && !self.os.iter().any(|o| contains(Some(&d.os_name), o)) {
            return false;
        }
        if !self.models.is_empty() && !self.models.iter().any(|m| contains(d.model.as_deref(), m)) {
            return false;
        }
        self.text.iter().all(|t| {
            let t = t.as_str();
            contains(Some(&d.name), t)
                || contains(Some(&d.hostname), t)
                || contains(d.serial_number.as_deref(), t)
                || contains(d.asset_tag.as_deref(), t)
                || contains(d.assignee.as_deref(), t)
                || d.id.to_string() == t
        })
    }
}

/// Where a device stands in the triage order, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Triage {
    Ok,
    Unknown,
    /// Offline for less than [`ASLEEP_MAX_S`]: probably asleep (a laptop overnight).
    Asleep,
    /// Offline for longer, or never seen while expected to report.
    Silent,
    Warning,
    Critical,
}

/// Triage of one device at `now`: critical, warning, long silence, asleep, unknown, ok. The
/// server reports `offline` only for devices expected to report (others are `unknown`).
pub fn triage_rank(d: &DeviceSummary, now: DateTime<Utc>) -> Triage {
    match d.health.level {
        HealthLevel::Critical => Triage::Critical,
        HealthLevel::Warning => Triage::Warning,
        HealthLevel::Offline => match d.last_seen {
            Some(t) if (now - t).num_seconds() < ASLEEP_MAX_S => Triage::Asleep,
            _ => Triage::Silent,
        },
        HealthLevel::Unknown => Triage::Unknown,
        HealthLevel::Ok => Triage::Ok,
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

    /// A sort key from its label (`last seen` also as `seen`/`last_seen`, `user` as `assignee`).
    pub fn parse(s: &str) -> Option<SortKey> {
        let n = s.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        SortKey::ALL.into_iter().find(|k| {
            k.label() == n
                || (n == "seen" && *k == SortKey::LastSeen)
                || (n == "assignee" && *k == SortKey::User)
                || (n == "triage" && *k == SortKey::Health)
        })
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

/// Orders two devices by `key` at `now` (triage depends on how long a device has been silent);
/// ties are broken by name then id so the order is stable.
pub fn compare(
    a: &DeviceSummary,
    b: &DeviceSummary,
    key: SortKey,
    desc: bool,
    now: DateTime<Utc>,
) -> Ordering {
    let m = |d: &DeviceSummary| d.metrics;
    let primary = match key {
        SortKey::Health => {
            // Within a rank: more reasons first; the longest silence first.
            let o = triage_rank(a, now)
                .cmp(&triage_rank(b, now))
                .then(a.health.reasons.len().cmp(&b.health.reasons.len()))
                .then_with(|| b.last_seen.cmp(&a.last_seen));
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

/// Indices of the devices that pass `filter`, in `key` order, as of the current time.
pub fn filter_and_sort(
    devices: &[DeviceSummary],
    filter: &Filter,
    key: SortKey,
    desc: bool,
) -> Vec<usize> {
    filter_and_sort_at(devices, filter, key, desc, Utc::now())
}

/// Indices of the devices that pass `filter`, in `key` order at `now`.
pub fn filter_and_sort_at(
    devices: &[DeviceSummary],
    filter: &Filter,
    key: SortKey,
    desc: bool,
    now: DateTime<Utc>,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..devices.len())
        .filter(|&i| filter.matches(&devices[i]))
        .collect();
    idx.sort_by(|&a, &b| compare(&devices[a], &devices[b], key, desc, now));
    idx
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures;

    #[test]
    fn parses_text_and_tokens() {
        let f = Filter::parse(
            "  web health:critical,warning state:deployed user:Alice os:Ubuntu model:T14 ",
        )
        .unwrap();
        assert_eq!(f.text, vec!["web"]);
        assert_eq!(f.health, vec![HealthLevel::Critical, HealthLevel::Warning]);
        assert_eq!(f.states, vec![LifecycleState::Deployed]);
        assert_eq!(f.users, vec!["alice"]);
        assert_eq!(f.os, vec!["ubuntu"]);
        assert_eq!(f.models, vec!["t14"]);
        assert!(Filter::parse("").unwrap().is_empty());
        assert!(Filter::parse("state:in-repair").unwrap().states == vec![LifecycleState::InRepair]);
    }

    #[test]
    fn health_levels_have_short_and_long_names_bare_or_keyed() {
        use HealthLevel::*;
        for (q, want) in [
            ("health:warn", vec![Warning]),
            ("health:warning", vec![Warning]),
            ("h:crit", vec![Critical]),
            ("health:critical", vec![Critical]),
            ("health:off", vec![Offline]),
            ("health:offline", vec![Offline]),
            ("health:ok,?", vec![Ok, Unknown]),
            ("warn", vec![Warning]),
            ("WARNING", vec![Warning]),
            ("crit", vec![Critical]),
            ("critical", vec![Critical]),
            ("off", vec![Offline]),
            ("warn crit", vec![Warning, Critical]),
        ] {
            let f = Filter::parse(q).unwrap();
            assert_eq!(f.health, want, "{q}");
            assert!(f.text.is_empty(), "{q} is not text");
        }
        // Quoted, a level word is text.
        let f = Filter::parse("\"warn\"").unwrap();
        assert_eq!(f.text, vec!["warn"]);
        assert!(f.health.is_empty());
    }

    #[test]
    fn parse_errors_name_the_fix() {
        let e = Filter::parse("colour:red").unwrap_err();
        assert!(e.contains("health:, state:, user:, os:, model:"), "{e}");
        let e = Filter::parse("health:bad").unwrap_err();
        assert!(e.contains("crit, warn, off"), "{e}");
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
        assert_eq!(names("crit"), vec!["build-07", "lab-mac-02"]);
        assert_eq!(names("warn"), vec!["reception-pc"]);
        assert_eq!(names("off"), vec!["old-desktop"]);
        assert_eq!(
            names("crit warn"),
            vec!["build-07", "lab-mac-02", "reception-pc"]
        );
        assert_eq!(names("user:alice"), vec!["alice-laptop"]);
        assert_eq!(names("user:none"), vec!["build-07", "spare-t14"]);
        assert_eq!(names("state:in_stock"), vec!["spare-t14"]);
        assert_eq!(names("BUILD"), vec!["build-07"]);
        assert_eq!(names("crit build"), vec!["build-07"]);
        assert_eq!(names("os:macos"), vec!["lab-mac-02"]);
        assert_eq!(names("model:macbook"), vec!["lab-mac-02"]);
        // Free text: serial, asset tag, assignee, hostname, id.
        assert_eq!(names("sn-00004"), vec!["old-desktop"]);
        assert_eq!(names("at-1005"), vec!["reception-pc"]);
        assert_eq!(names("carol"), vec!["old-desktop"]);
        assert_eq!(names("reception-pc.corp"), vec!["reception-pc"]);
        assert_eq!(names("6"), vec!["spare-t14"]);
        // Reason text is not searched: "full" is in build-07's reasons only.
        assert_eq!(names("full"), Vec::<String>::new());
        assert_eq!(names("nothing-matches-this"), Vec::<String>::new());
    }

    #[test]
    fn triage_order_puts_what_needs_a_person_first() {
        let fleet = fixtures::triage_fleet();
        let order = filter_and_sort_at(
            &fleet,
            &Filter::default(),
            SortKey::Health,
            true,
            fixtures::now(),
        );
        let ranks: Vec<Triage> = order
            .iter()
            .map(|&i| triage_rank(&fleet[i], fixtures::now()))
            .collect();
        let mut sorted = ranks.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(ranks, sorted, "ranks never go up");
        let names: Vec<&str> = order.iter().map(|&i| fleet[i].name.as_str()).collect();
        assert_eq!(names[0], "db-backup-01", "critical first");
        // Warnings next; then the kiosk silent for days; then the laptops asleep since last
        // night; healthy desks last.
        let mut warns = names[1..4].to_vec();
        warns.sort();
        assert_eq!(warns, ["cad-ws-01", "fin-laptop-03", "hr-laptop-02"]);
        assert_eq!(names[4], "kiosk-lobby");
        assert!(
            names[5..17].iter().all(|n| n.starts_with("laptop-")),
            "{names:?}"
        );
        assert!(
            names[17..].iter().all(|n| n.starts_with("desk-")),
            "{names:?}"
        );
        let kiosk = fleet.iter().find(|d| d.name == "kiosk-lobby").unwrap();
        let laptop = fleet.iter().find(|d| d.name == "laptop-01").unwrap();
        assert_eq!(triage_rank(kiosk, fixtures::now()), Triage::Silent);
        assert_eq!(triage_rank(laptop, fixtures::now()), Triage::Asleep);
        // A laptop asleep for more than a day becomes long silence.
        let later = fixtures::now() + chrono::Duration::hours(16);
        assert_eq!(triage_rank(laptop, later), Triage::Silent);
    }

    #[test]
    fn sorting() {
        let fleet = fixtures::fleet();
        let order = |k: SortKey, desc: bool| -> Vec<String> {
            filter_and_sort_at(&fleet, &Filter::default(), k, desc, fixtures::now())
                .into_iter()
                .map(|i| fleet[i].name.clone())
                .collect()
        };
        let by_health = order(SortKey::Health, true);
        assert_eq!(&by_health[..2], &["build-07", "lab-mac-02"]);
        assert_eq!(by_health[2], "reception-pc"); // warning next
        assert_eq!(by_health[3], "old-desktop"); // then offline
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
