//! Canonical export columns for devices, samples and events, shared by the server's
//! `/api/v1/export/...` and the console's `rt-tui export`/`devices --csv`, so that every CSV
//! the product writes has the same headers for the same data, and JSON/NDJSON rows use the same
//! keys (see [`json_object`]).
//!
//! A row is a `Vec<Cell>` in column order. [`Cell::to_csv_field`] gives the text of one CSV
//! field (quoting is the CSV writer's job, e.g. the `csv` crate); text is passed through
//! [`sanitize_csv_text`] against formula injection, numbers are never altered.
//!
//! Text hygiene: every text cell, in CSV and in JSON, goes through [`crate::text::escape`], so
//! a control character or bidi override stored before validation refused them (or typed into
//! an event message) reaches a spreadsheet or a terminal `cat` as a visible `\u{1b}`, never as
//! itself.

use crate::api::{DeviceEvent, DeviceSummary, ExportKind};
use crate::ids::DeviceId;
use crate::sample::Sample;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// One value of an export row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(DateTime<Utc>),
}

/// RFC 3339 in UTC with a `Z` suffix, sub-seconds only when present.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl Cell {
    /// An unsigned count; values beyond `i64::MAX` (never seen in practice) become a float.
    pub fn from_u64(v: u64) -> Cell {
        i64::try_from(v).map_or(Cell::Float(v as f64), Cell::Int)
    }

    fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
        v.map_or(Cell::Null, f)
    }

    /// The text of this cell as one CSV field: text escaped ([`crate::text::escape`]) and
    /// sanitised ([`sanitize_csv_text`]), numbers
    /// as written by Rust (`-5`, `12.5`, never prefixed), booleans `true`/`false`, times
    /// RFC 3339 UTC with `Z`, Null (and a non-finite float) as the empty string.
    pub fn to_csv_field(&self) -> Cow<'_, str> {
        match self {
            Cell::Null => Cow::Borrowed(""),
            Cell::Text(s) => match crate::text::escape(s) {
                Cow::Borrowed(b) => sanitize_csv_text(b),
                Cow::Owned(o) => Cow::Owned(sanitize_csv_text(&o).into_owned()),
            },
            Cell::Int(i) => Cow::Owned(i.to_string()),
            Cell::Float(f) if f.is_finite() => Cow::Owned(f.to_string()),
            Cell::Float(_) => Cow::Borrowed(""),
            Cell::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Cell::Time(t) => Cow::Owned(format_time(t)),
        }
    }

    /// The JSON value of this cell. Text is escaped ([`crate::text::escape`]) but not
    /// formula-sanitised (JSON is not a spreadsheet); a non-finite float is `null`; times are
    /// RFC 3339 strings.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Text(s) => Value::String(crate::text::escape(s).into_owned()),
            Cell::Int(i) => Value::from(*i),
            Cell::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Time(t) => Value::String(format_time(t)),
        }
    }
}

/// Defuse spreadsheet formula injection: a text starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading apostrophe, so Excel/LibreOffice show it as text instead of
/// evaluating it. Only for TEXT cells: numbers go through [`Cell::to_csv_field`] untouched.
pub fn sanitize_csv_text(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Columns of a device export (one row per device, from [`DeviceSummary`]):
///
/// | column | meaning |
/// | --- | --- |
/// | `device_id` | server id of the device |
/// | `name` | display name |
/// | `hostname` | hostname from the inventory |
/// | `asset_tag` | asset tag, empty if none |
/// | `assignee` | user the device is assigned to, empty if none |
/// | `lifecycle_state` | `in_stock`, `deployed`, `in_repair`, `lost`, `retired` |
/// | `health` | `ok`, `warning`, `critical`, `offline`, `unknown` |
/// | `health_reasons` | reasons joined with `"; "` |
/// | `last_seen` | newest sample time (last contact while there is no sample), RFC 3339 UTC |
/// | `os_name` | operating system |
/// | `enrolled_at` | first enrollment, RFC 3339 UTC |
/// | `cpu_pct` | latest CPU usage, percent |
/// | `mem_pct` | latest memory used, percent |
/// | `disk_max_pct` | fullest fixed disk, used percent |
/// | `temp_max_c` | hottest sensor or drive, °C |
/// | `battery_health_pct` | battery full/design capacity, percent |
/// | `battery_charge_pct` | battery charge, percent |
/// | `last_contact` | last upload, RFC 3339 UTC |
pub const DEVICE_COLUMNS: &[&str] = &[
    "device_id",
    "name",
    "hostname",
    "asset_tag",
    "assignee",
    "lifecycle_state",
    "health",
    "health_reasons",
    "last_seen",
    "os_name",
    "enrolled_at",
    "cpu_pct",
    "mem_pct",
    "disk_max_pct",
    "temp_max_c",
    "battery_health_pct",
    "battery_charge_pct",
    "last_contact",
];

/// Columns of a sample export (one row per stored sample):
///
/// | column | meaning |
/// | --- | --- |
/// | `device_id` | server id of the device |
/// | `device_name` | display name of the device at export time |
/// | `seq` | the agent's sequence number (unique per device) |
/// | `collected_at` | collection time, RFC 3339 UTC |
/// | `uptime_s` | seconds since boot |
/// | `cpu_pct` | whole-machine CPU usage, percent |
/// | `load_1m` | 1-minute load average, empty where the OS has none |
/// | `mem_total_bytes` | physical memory |
/// | `mem_used_bytes` | memory in use |
/// | `mem_pct` | memory in use, percent |
/// | `swap_total_bytes` | swap size (0 = none) |
/// | `swap_used_bytes` | swap in use |
/// | `disk_max_pct` | fullest fixed (non-removable) disk, used percent |
/// | `temp_max_c` | hottest sensor or drive, °C |
/// | `battery_charge_pct` | battery charge, percent; empty without battery |
/// | `battery_health_pct` | battery full/design capacity, percent; empty without battery |
/// | `net_rx_bytes` | received bytes, summed over interfaces (counters since boot) |
/// | `net_tx_bytes` | transmitted bytes, summed over interfaces (counters since boot) |
/// | `process_count` | number of processes |
/// | `has_link` | any non-loopback interface up |
/// | `server_reachable` | the agent's last upload attempt reached the server |
pub const SAMPLE_COLUMNS: &[&str] = &[
    "device_id",
    "device_name",
    "seq",
    "collected_at",
    "uptime_s",
    "cpu_pct",
    "load_1m",
    "mem_total_bytes",
    "mem_used_bytes",
    "mem_pct",
    "swap_total_bytes",
    "swap_used_bytes",
    "disk_max_pct",
    "temp_max_c",
    "battery_charge_pct",
    "battery_health_pct",
    "net_rx_bytes",
    "net_tx_bytes",
    "process_count",
    "has_link",
    "server_reachable",
];

/// Columns of an event export (one row per device event):
///
/// | column | meaning |
/// | --- | --- |
/// | `event_id` | server id of the event |
/// | `device_id` | the device it is about |
/// | `at` | when, RFC 3339 UTC |
/// | `kind` | `enrolled`, `lifecycle_changed`, `assigned`, `alert_raised`, ... |
/// | `actor` | user name, `agent` or `system` |
/// | `message` | human description |
/// | `data` | structured detail as compact JSON text, empty if none |
pub const EVENT_COLUMNS: &[&str] = &[
    "event_id",
    "device_id",
    "at",
    "kind",
    "actor",
    "message",
    "data",
];

/// The column list of an export kind.
pub fn columns(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::Devices => DEVICE_COLUMNS,
        ExportKind::Samples => SAMPLE_COLUMNS,
        ExportKind::Events => EVENT_COLUMNS,
    }
}

fn text_opt(v: Option<&String>) -> Cell {
    Cell::opt(v, |s| Cell::Text(s.clone()))
}

/// One device row, in [`DEVICE_COLUMNS`] order.
pub fn device_cells(d: &DeviceSummary) -> Vec<Cell> {
    let m = d.metrics.as_ref();
    vec![
        Cell::Int(d.id.0),
        Cell::Text(d.name.clone()),
        Cell::Text(d.hostname.clone()),
        text_opt(d.asset_tag.as_ref()),
        text_opt(d.assignee.as_ref()),
        Cell::Text(d.lifecycle_state.as_str().to_string()),
        Cell::Text(d.health.level.as_str().to_string()),
        Cell::Text(d.health.reasons.join("; ")),
        Cell::opt(d.last_seen, Cell::Time),
        Cell::Text(d.os_name.clone()),
        Cell::Time(d.enrolled_at),
        Cell::opt(m.map(|m| m.cpu_pct), Cell::Float),
        Cell::opt(m.map(|m| m.mem_pct), Cell::Float),
        Cell::opt(m.and_then(|m| m.disk_max_pct), Cell::Float),
        Cell::opt(m.and_then(|m| m.temp_max_c), Cell::Float),
        Cell::opt(m.and_then(|m| m.battery_health_pct), Cell::Float),
        Cell::opt(m.and_then(|m| m.battery_charge_pct), Cell::Float),
        Cell::opt(d.last_contact, Cell::Time),
    ]
}

/// One sample row, in [`SAMPLE_COLUMNS`] order.
pub fn sample_cells(device_id: DeviceId, device_name: &str, s: &Sample) -> Vec<Cell> {
    let m = s.metrics();
    let net = s.network.as_ref();
    vec![
        Cell::Int(device_id.0),
        Cell::Text(device_name.to_string()),
        Cell::from_u64(s.seq),
        Cell::Time(s.collected_at),
        Cell::from_u64(s.uptime_s),
        Cell::Float(s.cpu.usage_pct),
        Cell::opt(s.cpu.load_avg.map(|l| l[0]), Cell::Float),
        Cell::from_u64(s.memory.total_bytes),
        Cell::from_u64(s.memory.used_bytes),
        Cell::Float(m.mem_pct),
        Cell::from_u64(s.memory.swap_total_bytes),
        Cell::from_u64(s.memory.swap_used_bytes),
        Cell::opt(m.disk_max_pct, Cell::Float),
        Cell::opt(m.temp_max_c, Cell::Float),
        Cell::opt(m.battery_charge_pct, Cell::Float),
        Cell::opt(m.battery_health_pct, Cell::Float),
        Cell::opt(m.net_rx_bytes, Cell::from_u64),
        Cell::opt(m.net_tx_bytes, Cell::from_u64),
        Cell::opt(s.processes.as_ref().map(|p| p.count), Cell::from_u64),
        Cell::opt(net.map(|n| n.has_link), Cell::Bool),
        Cell::opt(net.and_then(|n| n.server_reachable), Cell::Bool),
    ]
}

/// One event row, in [`EVENT_COLUMNS`] order.
pub fn event_cells(e: &DeviceEvent) -> Vec<Cell> {
    vec![
        Cell::Int(e.id.0),
        Cell::Int(e.device_id.0),
        Cell::Time(e.at),
        Cell::Text(e.kind.as_str().to_string()),
        Cell::Text(e.actor.clone()),
        Cell::Text(e.message.clone()),
        Cell::opt(e.data.as_ref(), |v| Cell::Text(v.to_string())),
    ]
}

/// A JSON/NDJSON export row: `{column: value}` with the CSV header names as keys. Columns
/// without a cell (a short row) are `null`; extra cells are ignored. Key order is that of
/// `serde_json::Map` (sorted, as serde_json's `preserve_order` feature is off); a writer that
/// wants column order iterates `columns` and looks keys up.
pub fn json_object(columns: &[&str], cells: &[Cell]) -> Map<String, Value> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                (*c).to_string(),
                cells.get(i).map_or(Value::Null, Cell::to_json),
            )
        })
        .collect()
}

/// A whole CSV record's fields, in order (convenience for `csv::Writer::write_record`).
pub fn csv_fields(cells: &[Cell]) -> Vec<Cow<'_, str>> {
    cells.iter().map(Cell::to_csv_field).collect()
}
