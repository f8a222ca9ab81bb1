//! Validation of everything that comes in over the wire.
//!
//! Each incoming type implements [`Validate`], which returns ALL problems at once (never just the
//! first), each naming the offending input by a field path such as
//! `samples[3].disks[0].total_bytes`. The server turns a non-empty list into one 400 response with
//! [`problems_to_error`]; the agent runs the same checks before queueing, so a bad sample is caught
//! where it is made.
//!
//! Rules, in one place:
//! - percentages lie in `0..=100` (exceptions: SMART `percentage_used` up to
//!   [`limits::MAX_SMART_PERCENTAGE_USED`], battery health up to [`limits::MAX_BATTERY_HEALTH_PCT`]
//!   because a new battery's full-charge capacity may exceed its design capacity, and a process's
//!   CPU share, which counts every core);
//! - every float is finite; NaN and infinities never pass; quantities are `>= 0`; temperatures lie
//!   in [`limits::MIN_TEMP_C`]`..=`[`limits::MAX_TEMP_C`];
//! - used/available never exceed total (memory, swap, disks);
//! - timestamps lie between 2000-01-01 and `now +` [`limits::MAX_FUTURE_SKEW_S`];
//! - `seq >= 1`, unique within a batch;
//! - strings and lists are capped ([`limits`]);
//! - text hygiene ([`crate::text`]): strings never contain control characters (NUL, ESC, C1),
//!   bidi overrides or line separators. Text people type is refused with the field named (device
//!   notes may hold newlines and tabs); text machines report (inventory, samples, agent version)
//!   is first neutralised by [`Validate::neutralise`], so it passes;
//! - user names: [`username_problem`] (one character set), compared case-insensitively through
//!   [`username_key`].
//!
//! The server's one body filter runs `neutralise` then `validate` on every JSON body.
//! Messages never echo secrets (passwords, tokens); they may echo numbers.

use crate::api::{
    CreateApiTokenRequest, CreateEnrollmentTokenRequest, CreateUserRequest, DevicePatch,
    EnrollRequest, LoginRequest, TelemetryBatch, UpdateUserRequest,
};
use crate::error::{ErrorBody, codes};
use crate::inventory::Inventory;
use crate::sample::Sample;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Caps and bounds used by validation. The server also uses them for its request limits.
pub mod limits {
    /// Most samples one telemetry batch may carry.
    pub const MAX_SAMPLES_PER_BATCH: usize = 1000;
    /// Longest ordinary string (names, labels, mount points, versions), in characters.
    pub const MAX_STRING_LEN: usize = 256;
    /// Longest list (disks, interfaces, sensors, MAC addresses, ...).
    pub const MAX_LIST_LEN: usize = 256;
    /// How far in the future a timestamp may lie (clock skew between agent and server), seconds.
    pub const MAX_FUTURE_SKEW_S: i64 = 600;
    /// Earliest accepted timestamp, as a Unix time: 2000-01-01T00:00:00Z.
    pub const MIN_TIMESTAMP_UNIX: i64 = 946_684_800;
    /// Longest device notes text, in characters.
    pub const MAX_NOTES_LEN: usize = 4096;
    /// Most CPU cores (and per-core entries) a sample may report.
    pub const MAX_CPU_CORES: u32 = 4096;
    /// Most top-CPU processes a sample may list.
    pub const MAX_TOP_PROCESSES: usize = 32;
    /// Lowest plausible temperature reading, °C.
    pub const MIN_TEMP_C: f64 = -50.0;
    /// Highest plausible temperature reading (or critical point), °C.
    pub const MAX_TEMP_C: f64 = 250.0;
    /// NVMe "percentage used" saturates at 255 by specification.
    pub const MAX_SMART_PERCENTAGE_USED: f64 = 255.0;
    /// Battery health (full / design capacity) may exceed 100 % on a new battery.
    pub const MAX_BATTERY_HEALTH_PCT: f64 = 150.0;
    /// Highest plausible load average.
    pub const MAX_LOAD_AVG: f64 = 100_000.0;
    /// Highest plausible CPU frequency, MHz.
    pub const MAX_FREQUENCY_MHZ: u64 = 100_000;
    /// Longest plausible uptime: 50 years.
    pub const MAX_UPTIME_S: u64 = 50 * 365 * 86_400;
    /// Usernames: 1..=64 characters of `A-Z a-z 0-9 . _ - @`, starting with a letter or digit
    /// (see [`super::username_problem`]).
    pub const MAX_USERNAME_LEN: usize = 64;
    /// Shortest password accepted for a new account.
    pub const MIN_PASSWORD_LEN: usize = 8;
    /// Longest password accepted anywhere (bounds hashing work).
    pub const MAX_PASSWORD_LEN: usize = 1024;
    /// Longest token string accepted in a request body.
    pub const MAX_TOKEN_LEN: usize = 512;
    /// Longest lifetime of an enrollment token: one year.
    pub const MAX_ENROLLMENT_TOKEN_HOURS: u32 = 24 * 366;
    /// Most uses of one enrollment token.
    pub const MAX_ENROLLMENT_TOKEN_USES: u32 = 1_000_000;
    /// Longest lifetime of an API token: ten years.
    pub const MAX_API_TOKEN_DAYS: u32 = 3650;
    /// How many problems [`super::problems_to_error`] spells out in its message.
    pub const MAX_PROBLEMS_IN_MESSAGE: usize = 20;
}

/// One thing wrong with an input: where (`field`, a JSON path) and what (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// An input that can check itself. Returns every problem found; empty means valid.
pub trait Validate {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem>;

    /// Replace unsafe characters in the text a machine reports (see [`crate::text`]) before
    /// validation. Text people type is left alone, so validation refuses it instead.
    fn neutralise(&mut self) {}

    /// Convenience: true when [`Validate::validate`] finds nothing.
    fn is_valid(&self, now: DateTime<Utc>) -> bool {
        self.validate(now).is_empty()
    }
}

/// The JSON error body for a failed validation: code `validation_failed`, a message listing the
/// problems (at most [`limits::MAX_PROBLEMS_IN_MESSAGE`], then "and N more"), and `field` set to
/// the first problem's field.
pub fn problems_to_error(problems: &[Problem]) -> ErrorBody {
    let Some(first) = problems.first() else {
        return ErrorBody::new(codes::VALIDATION, "invalid input");
    };
    let shown: Vec<String> = problems
        .iter()
        .take(limits::MAX_PROBLEMS_IN_MESSAGE)
        .map(Problem::to_string)
        .collect();
    let mut message = format!("invalid input: {}", shown.join("; "));
    if problems.len() > limits::MAX_PROBLEMS_IN_MESSAGE {
        message.push_str(&format!(
            "; and {} more",
            problems.len() - limits::MAX_PROBLEMS_IN_MESSAGE
        ));
    }
    let body = ErrorBody::new(codes::VALIDATION, message);
    if first.field.is_empty() {
        body
    } else {
        body.with_field(first.field.clone())
    }
}

/// The message for an unsafe character: names it by code point, never prints it.
fn unsafe_message(c: char, multiline: bool) -> String {
    let allowed = if multiline {
        " (newlines and tabs are allowed)"
    } else {
        ""
    };
    format!(
        "must not contain control characters, bidi overrides or line separators (found U+{:04X}){allowed}",
        u32::from(c)
    )
}

/// The one user-name rule: 1 to [`limits::MAX_USERNAME_LEN`] characters of ASCII letters,
/// digits and `. _ - @`, starting with a letter or digit. Names are unique case-insensitively
/// ([`username_key`]). `None` when `name` is acceptable, otherwise what is wrong with it.
pub fn username_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if name.is_empty() {
        Some("must not be empty".into())
    } else if len > limits::MAX_USERNAME_LEN {
        Some(format!(
            "is too long ({len} characters, at most {})",
            limits::MAX_USERNAME_LEN
        ))
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        Some("may contain only letters A-Z a-z, digits and . _ - @".into())
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("must start with a letter or digit".into())
    } else {
        None
    }
}

/// The form under which user names are compared and kept unique: ASCII lower case (user names
/// are ASCII by [`username_problem`]; older names are folded the same way, as the database's
/// `lower()` does).
pub fn username_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

// ---------------------------------------------------------------- checker

/// Collects problems under a path prefix.
struct Checker<'a> {
    out: &'a mut Vec<Problem>,
    now: DateTime<Utc>,
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

fn min_timestamp() -> DateTime<Utc> {
    Utc.timestamp_opt(limits::MIN_TIMESTAMP_UNIX, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Checker<'_> {
    fn push(&mut self, field: String, message: impl Into<String>) {
        self.out.push(Problem::new(field, message));
    }

    /// A finite float within `min..=max`.
    fn range(&mut self, field: impl FnOnce() -> String, v: f64, min: f64, max: f64) {
        if !v.is_finite() {
            self.push(field(), "must be a finite number (not NaN or infinity)");
        } else if v < min || v > max {
            self.push(field(), format!("must be between {min} and {max}, got {v}"));
        }
    }

    fn pct(&mut self, field: impl FnOnce() -> String, v: f64) {
        self.range(field, v, 0.0, 100.0);
    }

    fn temp(&mut self, field: impl FnOnce() -> String, v: f64) {
        self.range(field, v, limits::MIN_TEMP_C, limits::MAX_TEMP_C);
    }

    fn max_u64(&mut self, field: impl FnOnce() -> String, v: u64, max: u64) {
        if v > max {
            self.push(field(), format!("must be at most {max}, got {v}"));
        }
    }

    fn time(&mut self, field: impl FnOnce() -> String, t: DateTime<Utc>) {
        let latest = self.now + chrono::Duration::seconds(limits::MAX_FUTURE_SKEW_S);
        if t > latest {
            self.push(
                field(),
                format!(
                    "lies in the future ({} is more than {} s after the server's clock {}); check the device clock",
                    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    limits::MAX_FUTURE_SKEW_S,
                    self.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            );
        } else if t < min_timestamp() {
            self.push(field(), "must not be before 2000-01-01T00:00:00Z");
        }
    }

    /// A string of at most `max` characters without unsafe characters; optionally non-blank.
    fn text(&mut self, field: impl FnOnce() -> String, s: &str, max: usize, required: bool) {
        self.text_with(field, s, max, required, false);
    }

    fn text_with(
        &mut self,
        field: impl FnOnce() -> String,
        s: &str,
        max: usize,
        required: bool,
        multiline: bool,
    ) {
        if required && s.trim().is_empty() {
            self.push(field(), "must not be empty");
            return;
        }
        let len = s.chars().count();
        if len > max {
            self.push(
                field(),
                format!("is too long ({len} characters, at most {max})"),
            );
        } else if let Some(c) = crate::text::first_unsafe(s, multiline) {
            self.push(field(), unsafe_message(c, multiline));
        }
    }

    /// A secret string: length checks only, never echoes content.
    fn secret(&mut self, field: impl FnOnce() -> String, s: &str, min: usize, max: usize) {
        let len = s.chars().count();
        if s.is_empty() {
            self.push(field(), "must not be empty");
        } else if len < min {
            self.push(field(), format!("is too short (at least {min} characters)"));
        } else if len > max {
            self.push(field(), format!("is too long (at most {max} characters)"));
        }
    }

    fn list(&mut self, field: impl FnOnce() -> String, len: usize, max: usize) -> bool {
        if len > max {
            self.push(
                field(),
                format!("has too many entries ({len}, at most {max})"),
            );
            false
        } else {
            true
        }
    }

    fn username(&mut self, field: impl FnOnce() -> String, s: &str) {
        if let Some(m) = username_problem(s) {
            self.push(field(), m);
        }
    }

    fn sample(&mut self, p: &str, s: &Sample) {
        use limits::*;
        if s.seq == 0 {
            self.push(join(p, "seq"), "must be at least 1");
        }
        self.time(|| join(p, "collected_at"), s.collected_at);
        if let Some(b) = s.boot_time {
            self.time(|| join(p, "boot_time"), b);
        }
        self.max_u64(|| join(p, "uptime_s"), s.uptime_s, MAX_UPTIME_S);

        // cpu
        let c = &s.cpu;
        self.pct(|| join(p, "cpu.usage_pct"), c.usage_pct);
        if self.list(
            || join(p, "cpu.per_core_pct"),
            c.per_core_pct.len(),
            MAX_CPU_CORES as usize,
        ) {
            for (i, v) in c.per_core_pct.iter().enumerate() {
                self.pct(|| join(p, &format!("cpu.per_core_pct[{i}]")), *v);
            }
        }
        if let Some(load) = c.load_avg {
            for (i, v) in load.iter().enumerate() {
                self.range(
                    || join(p, &format!("cpu.load_avg[{i}]")),
                    *v,
                    0.0,
                    MAX_LOAD_AVG,
                );
            }
        }
        self.max_u64(
            || join(p, "cpu.cores"),
            u64::from(c.cores),
            u64::from(MAX_CPU_CORES),
        );
        if let Some(f) = c.frequency_mhz {
            self.max_u64(|| join(p, "cpu.frequency_mhz"), f, MAX_FREQUENCY_MHZ);
        }

        // memory and swap
        let m = &s.memory;
        if m.used_bytes > m.total_bytes {
            self.push(
                join(p, "memory.used_bytes"),
                format!(
                    "must not exceed memory.total_bytes ({} > {})",
                    m.used_bytes, m.total_bytes
                ),
            );
        }
        if m.available_bytes > m.total_bytes {
            self.push(
                join(p, "memory.available_bytes"),
                format!(
                    "must not exceed memory.total_bytes ({} > {})",
                    m.available_bytes, m.total_bytes
                ),
            );
        }
        if m.swap_used_bytes > m.swap_total_bytes {
            self.push(
                join(p, "memory.swap_used_bytes"),
                format!(
                    "must not exceed memory.swap_total_bytes ({} > {})",
                    m.swap_used_bytes, m.swap_total_bytes
                ),
            );
        }

        // disks
        if self.list(|| join(p, "disks"), s.disks.len(), MAX_LIST_LEN) {
            for (i, d) in s.disks.iter().enumerate() {
                let dp = join(p, &format!("disks[{i}]"));
                self.text(
                    || join(&dp, "mount_point"),
                    &d.mount_point,
                    MAX_STRING_LEN,
                    true,
                );
                self.text(
                    || join(&dp, "file_system"),
                    &d.file_system,
                    MAX_STRING_LEN,
                    false,
                );
                self.text(|| join(&dp, "kind"), &d.kind, MAX_STRING_LEN, false);
                if d.available_bytes > d.total_bytes {
                    self.push(
                        join(&dp, "available_bytes"),
                        format!(
                            "must not exceed total_bytes ({} > {})",
                            d.available_bytes, d.total_bytes
                        ),
                    );
                }
                if let Some(sm) = &d.smart {
                    if let Some(t) = sm.temperature_c {
                        self.temp(|| join(&dp, "smart.temperature_c"), t);
                    }
                    if let Some(u) = sm.percentage_used {
                        self.range(
                            || join(&dp, "smart.percentage_used"),
                            u,
                            0.0,
                            MAX_SMART_PERCENTAGE_USED,
                        );
                    }
                    if let Some(a) = sm.available_spare_pct {
                        self.pct(|| join(&dp, "smart.available_spare_pct"), a);
                    }
                    if let Some(a) = sm.available_spare_threshold_pct {
                        self.pct(|| join(&dp, "smart.available_spare_threshold_pct"), a);
                    }
                    if let Some(t) = sm.temperature_critical_c {
                        self.temp(|| join(&dp, "smart.temperature_critical_c"), t);
                    }
                }
            }
        }

        // network
        if let Some(n) = &s.network
            && self.list(
                || join(p, "network.interfaces"),
                n.interfaces.len(),
                MAX_LIST_LEN,
            )
        {
            for (i, iface) in n.interfaces.iter().enumerate() {
                let ip = join(p, &format!("network.interfaces[{i}]"));
                self.text(|| join(&ip, "name"), &iface.name, MAX_STRING_LEN, true);
                if let Some(mac) = &iface.mac_address {
                    self.text(|| join(&ip, "mac_address"), mac, MAX_STRING_LEN, false);
                }
            }
        }

        // thermal
        if self.list(|| join(p, "thermal"), s.thermal.len(), MAX_LIST_LEN) {
            for (i, t) in s.thermal.iter().enumerate() {
                let tp = join(p, &format!("thermal[{i}]"));
                self.text(|| join(&tp, "label"), &t.label, MAX_STRING_LEN, false);
                self.temp(|| join(&tp, "temperature_c"), t.temperature_c);
                if let Some(cr) = t.critical_c {
                    self.temp(|| join(&tp, "critical_c"), cr);
                }
            }
        }

        // battery
        if let Some(b) = &s.battery {
            if let Some(c) = b.charge_pct {
                self.pct(|| join(p, "battery.charge_pct"), c);
            }
            if let Some(h) = b.health_pct {
                self.range(
                    || join(p, "battery.health_pct"),
                    h,
                    0.0,
                    MAX_BATTERY_HEALTH_PCT,
                );
            }
        }

        // processes
        if let Some(pr) = &s.processes
            && self.list(
                || join(p, "processes.top_cpu"),
                pr.top_cpu.len(),
                MAX_TOP_PROCESSES,
            )
        {
            let max_cpu = 100.0 * f64::from(MAX_CPU_CORES);
            for (i, proc_) in pr.top_cpu.iter().enumerate() {
                let pp = join(p, &format!("processes.top_cpu[{i}]"));
                self.text(|| join(&pp, "name"), &proc_.name, MAX_STRING_LEN, false);
                self.range(|| join(&pp, "cpu_pct"), proc_.cpu_pct, 0.0, max_cpu);
            }
        }

        // agent self-report
        if let Some(a) = &s.agent {
            self.text(
                || join(p, "agent.version"),
                &a.version,
                MAX_STRING_LEN,
                false,
            );
        }

        // compliance facts
        if let Some(t) = s.compliance.as_ref().and_then(|c| c.os_updated_at) {
            self.time(|| join(p, "compliance.os_updated_at"), t);
        }
        if let Some(c) = &s.compliance
            && self.list(
                || join(p, "compliance.volumes"),
                c.volumes.len(),
                MAX_LIST_LEN,
            )
        {
            for (i, v) in c.volumes.iter().enumerate() {
                let vp = join(p, &format!("compliance.volumes[{i}]"));
                self.text(
                    || join(&vp, "mount_point"),
                    &v.mount_point,
                    MAX_STRING_LEN,
                    true,
                );
                if let Some(m) = &v.method {
                    self.text(|| join(&vp, "method"), m, MAX_STRING_LEN, false);
                }
            }
        }
    }

    fn inventory(&mut self, p: &str, inv: &Inventory) {
        use limits::*;
        self.text(|| join(p, "hostname"), &inv.hostname, MAX_STRING_LEN, true);
        for (name, v) in [
            ("os_name", &inv.os_name),
            ("os_version", &inv.os_version),
            ("kernel_version", &inv.kernel_version),
            ("arch", &inv.arch),
            ("cpu_model", &inv.cpu_model),
        ] {
            self.text(|| join(p, name), v, MAX_STRING_LEN, false);
        }
        for (name, v) in [
            ("machine_id", &inv.machine_id),
            ("serial_number", &inv.serial_number),
            ("vendor", &inv.vendor),
            ("model", &inv.model),
        ] {
            if let Some(v) = v {
                self.text(|| join(p, name), v, MAX_STRING_LEN, false);
            }
        }
        self.max_u64(
            || join(p, "cpu_cores"),
            u64::from(inv.cpu_cores),
            u64::from(MAX_CPU_CORES),
        );
        if self.list(
            || join(p, "mac_addresses"),
            inv.mac_addresses.len(),
            MAX_LIST_LEN,
        ) {
            for (i, mac) in inv.mac_addresses.iter().enumerate() {
                self.text(
                    || join(p, &format!("mac_addresses[{i}]")),
                    mac,
                    MAX_STRING_LEN,
                    true,
                );
            }
        }
        if self.list(|| join(p, "disks"), inv.disks.len(), MAX_LIST_LEN) {
            for (i, d) in inv.disks.iter().enumerate() {
                let dp = join(p, &format!("disks[{i}]"));
                self.text(|| join(&dp, "name"), &d.name, MAX_STRING_LEN, true);
                self.text(|| join(&dp, "kind"), &d.kind, MAX_STRING_LEN, false);
                for (name, v) in [("model", &d.model), ("serial_number", &d.serial_number)] {
                    if let Some(v) = v {
                        self.text(|| join(&dp, name), v, MAX_STRING_LEN, false);
                    }
                }
            }
        }
    }
}

fn run(now: DateTime<Utc>, f: impl FnOnce(&mut Checker<'_>)) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut c = Checker { out: &mut out, now };
    f(&mut c);
    out
}

// ---------------------------------------------------------------- impls

impl Validate for Sample {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        run(now, |c| c.sample("", self))
    }

    fn neutralise(&mut self) {
        use crate::text::{neutralise as n, neutralise_opt as o};
        for d in &mut self.disks {
            n(&mut d.mount_point);
            n(&mut d.file_system);
            n(&mut d.kind);
        }
        if let Some(net) = &mut self.network {
            for i in &mut net.interfaces {
                n(&mut i.name);
                o(&mut i.mac_address);
            }
        }
        for t in &mut self.thermal {
            n(&mut t.label);
        }
        if let Some(p) = &mut self.processes {
            for t in &mut p.top_cpu {
                n(&mut t.name);
            }
        }
        if let Some(a) = &mut self.agent {
            n(&mut a.version);
        }
        if let Some(c) = &mut self.compliance {
            for v in &mut c.volumes {
                n(&mut v.mount_point);
                o(&mut v.method);
            }
        }
    }
}

/// Problems of a batch that are not about one sample: agent version and batch size. The server
/// uses this to refuse a whole batch, and [`Sample::validate`] per sample to reject single samples.
pub fn batch_envelope_problems(batch: &TelemetryBatch) -> Vec<Problem> {
    // No timestamps are checked here, so any `now` will do.
    run(DateTime::UNIX_EPOCH, |c| {
        c.text(
            || "agent_version".into(),
            &batch.agent_version,
            limits::MAX_STRING_LEN,
            true,
        );
        c.list(
            || "samples".into(),
            batch.samples.len(),
            limits::MAX_SAMPLES_PER_BATCH,
        );
    })
}

impl Validate for TelemetryBatch {
    fn neutralise(&mut self) {
        crate::text::neutralise(&mut self.agent_version);
        self.samples.iter_mut().for_each(Validate::neutralise);
    }

    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        let mut out = batch_envelope_problems(self);
        run(now, |c| {
            let mut first_index: HashMap<u64, usize> = HashMap::new();
            for (i, s) in self.samples.iter().enumerate() {
                let p = format!("samples[{i}]");
                c.sample(&p, s);
                if let Some(j) = first_index.get(&s.seq) {
                    c.push(
                        join(&p, "seq"),
                        format!("duplicate seq {} in one batch (also samples[{j}])", s.seq),
                    );
                } else {
                    first_index.insert(s.seq, i);
                }
            }
        })
        .into_iter()
        .for_each(|p| out.push(p));
        out
    }
}

impl Validate for Inventory {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        run(now, |c| c.inventory("", self))
    }

    fn neutralise(&mut self) {
        use crate::text::{neutralise as n, neutralise_opt as o};
        for v in [
            &mut self.hostname,
            &mut self.os_name,
            &mut self.os_version,
            &mut self.kernel_version,
            &mut self.arch,
            &mut self.cpu_model,
        ] {
            n(v);
        }
        for v in [
            &mut self.machine_id,
            &mut self.serial_number,
            &mut self.vendor,
            &mut self.model,
        ] {
            o(v);
        }
        self.mac_addresses.iter_mut().for_each(|m| {
            n(m);
        });
        for d in &mut self.disks {
            n(&mut d.name);
            n(&mut d.kind);
            o(&mut d.model);
            o(&mut d.serial_number);
        }
    }
}

impl Validate for EnrollRequest {
    /// Only the inventory (reported by the machine) is neutralised; the names a person typed
    /// in the wizard are refused instead.
    fn neutralise(&mut self) {
        self.inventory.neutralise();
    }

    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        use limits::*;
        run(now, |c| {
            let has_token = self.enrollment_token.is_some();
            let has_user = self.username.is_some() || self.password.is_some();
            match (has_token, has_user) {
                (true, true) => c.push(
                    "enrollment_token".into(),
                    "give either enrollment_token or username and password, not both",
                ),
                (false, false) => c.push(
                    "enrollment_token".into(),
                    "missing credentials: give enrollment_token, or username and password",
                ),
                _ => {}
            }
            if let Some(t) = &self.enrollment_token {
                c.secret(|| "enrollment_token".into(), t, 1, MAX_TOKEN_LEN);
            }
            if has_user {
                match &self.username {
                    Some(u) => c.text(|| "username".into(), u, MAX_USERNAME_LEN, true),
                    None => c.push("username".into(), "is required with password"),
                }
                match &self.password {
                    Some(pw) => c.secret(|| "password".into(), pw, 1, MAX_PASSWORD_LEN),
                    None => c.push("password".into(), "is required with username"),
                }
            }
            c.inventory("inventory", &self.inventory);
            if let Some(n) = &self.device_name {
                c.text(|| "device_name".into(), n, MAX_STRING_LEN, true);
            }
            if let Some(a) = &self.asset_tag {
                c.text(|| "asset_tag".into(), a, MAX_STRING_LEN, false);
            }
            if let Some(a) = &self.assignee {
                c.text(|| "assignee".into(), a, MAX_STRING_LEN, false);
            }
        })
    }
}

impl Validate for DevicePatch {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        use limits::*;
        run(now, |c| {
            if let Some(n) = &self.name {
                c.text(|| "name".into(), n, MAX_STRING_LEN, true);
            }
            // An empty assignee or asset tag clears it.
            if let Some(a) = &self.assignee {
                c.text(|| "assignee".into(), a, MAX_STRING_LEN, false);
            }
            if let Some(a) = &self.asset_tag {
                c.text(|| "asset_tag".into(), a, MAX_STRING_LEN, false);
            }
            if let Some(n) = &self.notes {
                c.text_with(|| "notes".into(), n, MAX_NOTES_LEN, false, true);
            }
        })
    }
}

impl Validate for CreateUserRequest {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        run(now, |c| {
            c.username(|| "username".into(), &self.username);
            c.secret(
                || "password".into(),
                &self.password,
                limits::MIN_PASSWORD_LEN,
                limits::MAX_PASSWORD_LEN,
            );
        })
    }
}

impl Validate for UpdateUserRequest {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        run(now, |c| {
            if let Some(pw) = &self.password {
                c.secret(
                    || "password".into(),
                    pw,
                    limits::MIN_PASSWORD_LEN,
                    limits::MAX_PASSWORD_LEN,
                );
            }
        })
    }
}

impl Validate for CreateEnrollmentTokenRequest {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        use limits::*;
        run(now, |c| {
            if let Some(h) = self.expires_in_hours
                && !(1..=MAX_ENROLLMENT_TOKEN_HOURS).contains(&h)
            {
                c.push(
                    "expires_in_hours".into(),
                    format!("must be between 1 and {MAX_ENROLLMENT_TOKEN_HOURS}, got {h}"),
                );
            }
            if let Some(u) = self.max_uses
                && !(1..=MAX_ENROLLMENT_TOKEN_USES).contains(&u)
            {
                c.push(
                    "max_uses".into(),
                    format!("must be between 1 and {MAX_ENROLLMENT_TOKEN_USES}, got {u}"),
                );
            }
            if let Some(n) = &self.note {
                c.text(|| "note".into(), n, MAX_STRING_LEN, false);
            }
        })
    }
}

impl Validate for CreateApiTokenRequest {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        use limits::*;
        run(now, |c| {
            c.text(|| "name".into(), &self.name, MAX_STRING_LEN, true);
            if let Some(d) = self.expires_in_days
                && !(1..=MAX_API_TOKEN_DAYS).contains(&d)
            {
                c.push(
                    "expires_in_days".into(),
                    format!("must be between 1 and {MAX_API_TOKEN_DAYS}, got {d}"),
                );
            }
        })
    }
}

impl Validate for LoginRequest {
    fn validate(&self, now: DateTime<Utc>) -> Vec<Problem> {
        run(now, |c| {
            // Login checks only shape: an old account whose name predates the charset rule must
            // still be able to sign in.
            c.text(
                || "username".into(),
                &self.username,
                limits::MAX_USERNAME_LEN,
                true,
            );
            c.secret(
                || "password".into(),
                &self.password,
                1,
                limits::MAX_PASSWORD_LEN,
            );
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sample::{BatteryStats, DiskStats, SmartStats, ThermalSensor};

    fn now() -> DateTime<Utc> {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }

    fn fields(p: &[Problem]) -> Vec<&str> {
        p.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn example_sample_is_valid() {
        assert_eq!(Sample::example(1, now()).validate(now()), vec![]);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut s = Sample::example(0, now() + chrono::Duration::hours(2));
        s.cpu.usage_pct = f64::NAN;
        s.cpu.per_core_pct[1] = 101.0;
        s.memory.used_bytes = s.memory.total_bytes + 1;
        s.disks[0].available_bytes = s.disks[0].total_bytes + 1;
        s.disks[0].smart = Some(SmartStats {
            passed: true,
            percentage_used: Some(180.0),
            temperature_c: Some(f64::INFINITY),
            ..Default::default()
        });
        s.thermal.push(ThermalSensor {
            label: "cpu".into(),
            temperature_c: -20.0,
            critical_c: Some(f64::NEG_INFINITY),
        });
        s.battery = Some(BatteryStats {
            present: true,
            charge_pct: Some(-1.0),
            health_pct: Some(104.0),
            ..Default::default()
        });
        let p = s.validate(now());
        assert_eq!(
            fields(&p),
            vec![
                "seq",
                "collected_at",
                "boot_time",
                "cpu.usage_pct",
                "cpu.per_core_pct[1]",
                "memory.used_bytes",
                "disks[0].available_bytes",
                "disks[0].smart.temperature_c",
                "thermal[0].critical_c",
                "battery.charge_pct",
            ],
            "{p:#?}"
        );
    }

    #[test]
    fn compliance_facts_are_bounded_and_checked() {
        use crate::sample::{ComplianceFacts, Fact, VolumeEncryption};
        let mut s = Sample::example(1, now());
        s.compliance = Some(ComplianceFacts {
            volumes: vec![VolumeEncryption {
                mount_point: "/".into(),
                encrypted: Fact::Yes,
                method: Some("luks2".into()),
            }],
            os_updated_at: Some(now() - chrono::Duration::days(3)),
            ..Default::default()
        });
        assert_eq!(s.validate(now()), vec![]);
        let c = s.compliance.as_mut().unwrap();
        c.os_updated_at = Some(now() + chrono::Duration::days(3));
        c.volumes[0].mount_point = String::new();
        c.volumes[0].method = Some("x".repeat(limits::MAX_STRING_LEN + 1));
        assert_eq!(
            fields(&s.validate(now())),
            vec![
                "compliance.os_updated_at",
                "compliance.volumes[0].mount_point",
                "compliance.volumes[0].method",
            ]
        );
        s.compliance.as_mut().unwrap().volumes =
            vec![VolumeEncryption::default(); limits::MAX_LIST_LEN + 1];
        assert!(
            fields(&s.validate(now())).contains(&"compliance.volumes"),
            "a list longer than the cap is refused as a whole"
        );
        // JSON: unknown is a value of its own, and absent facts read as unknown.
        let v: ComplianceFacts =
            serde_json::from_str(r#"{"volumes":[{"mount_point":"C:\\","encrypted":"unknown"}]}"#)
                .unwrap();
        assert_eq!(v.firewall, Fact::Unknown);
        assert_eq!(v.volumes[0].encrypted, Fact::Unknown);
        assert!(serde_json::from_str::<ComplianceFacts>(r#"{"firewall":"maybe"}"#).is_err());
    }

    #[test]
    fn batch_paths_caps_and_duplicates() {
        let mut a = Sample::example(1, now());
        a.disks.push(DiskStats {
            mount_point: "/data".into(),
            total_bytes: 10,
            available_bytes: 11,
            ..Default::default()
        });
        let batch = TelemetryBatch {
            agent_version: "0.1.0".into(),
            samples: vec![Sample::example(1, now()), Sample::example(2, now()), a],
        };
        let p = batch.validate(now());
        assert_eq!(
            fields(&p),
            vec!["samples[2].disks[1].available_bytes", "samples[2].seq"]
        );
        assert!(p[1].message.contains("samples[0]"));

        let big = TelemetryBatch {
            agent_version: String::new(),
            samples: (1..=1001).map(|i| Sample::example(i, now())).collect(),
        };
        assert_eq!(
            fields(&big.validate(now())),
            vec!["agent_version", "samples"]
        );
    }

    #[test]
    fn enroll_needs_exactly_one_credential_kind() {
        let inv = Inventory {
            hostname: "pc-1".into(),
            ..Default::default()
        };
        let base = EnrollRequest {
            enrollment_token: None,
            username: None,
            password: None,
            inventory: inv,
            device_name: None,
            asset_tag: None,
            assignee: None,
        };
        assert_eq!(fields(&base.validate(now())), vec!["enrollment_token"]);
        let tok = EnrollRequest {
            enrollment_token: Some("et_abc".into()),
            ..base.clone()
        };
        assert!(tok.is_valid(now()));
        let user = EnrollRequest {
            username: Some("alice".into()),
            password: Some("pw".into()),
            ..base.clone()
        };
        assert!(user.is_valid(now()));
        let both = EnrollRequest {
            enrollment_token: Some("et".into()),
            ..user.clone()
        };
        assert_eq!(fields(&both.validate(now())), vec!["enrollment_token"]);
        let half = EnrollRequest {
            username: Some("alice".into()),
            ..base.clone()
        };
        assert_eq!(fields(&half.validate(now())), vec!["password"]);
        let mut bad_inv = tok.clone();
        bad_inv.inventory.hostname = " ".into();
        bad_inv.inventory.mac_addresses = vec!["x".repeat(300)];
        assert_eq!(
            fields(&bad_inv.validate(now())),
            vec!["inventory.hostname", "inventory.mac_addresses[0]"]
        );
    }

    #[test]
    fn users_and_tokens() {
        let u = |name: &str, pw: &str| CreateUserRequest {
            username: name.into(),
            password: pw.into(),
            role: crate::Role::Viewer,
        };
        assert!(u("alice.smith@corp", "longenough").is_valid(now()));
        assert_eq!(
            fields(&u("", "short").validate(now())),
            vec!["username", "password"]
        );
        assert_eq!(
            fields(&u("bad name", "longenough").validate(now())),
            vec!["username"]
        );
        assert_eq!(
            fields(&u("-x", "longenough").validate(now())),
            vec!["username"]
        );
        let p = u("alice", "hunter2").validate(now());
        assert!(!p[0].message.contains("hunter2"));

        let t = CreateEnrollmentTokenRequest {
            expires_in_hours: Some(0),
            max_uses: Some(0),
            note: Some("n".into()),
            allow_reenroll: false,
        };
        assert_eq!(
            fields(&t.validate(now())),
            vec!["expires_in_hours", "max_uses"]
        );
        assert!(CreateEnrollmentTokenRequest::default().is_valid(now()));

        let patch = DevicePatch {
            name: Some(String::new()),
            assignee: Some(String::new()),
            notes: Some("n".repeat(5000)),
            ..Default::default()
        };
        assert_eq!(fields(&patch.validate(now())), vec!["name", "notes"]);

        let login = LoginRequest {
            username: "a".into(),
            password: String::new(),
        };
        assert_eq!(fields(&login.validate(now())), vec!["password"]);
    }

    const HOSTILE: [&str; 4] = ["\u{1b}[2J", "x\u{202E}txt.exe", "nul\0", "c1\u{9b}31m"];

    #[test]
    fn typed_text_with_unsafe_characters_is_refused_naming_the_field() {
        for h in HOSTILE {
            let patch = DevicePatch {
                name: Some(format!("pc{h}")),
                assignee: Some(h.into()),
                asset_tag: Some(h.into()),
                notes: Some(format!("ok\n\tline{h}")),
                ..Default::default()
            };
            let p = patch.validate(now());
            assert_eq!(
                fields(&p),
                vec!["name", "assignee", "asset_tag", "notes"],
                "{h:?}"
            );
            assert!(p[0].message.contains("U+"), "{p:?}");
            assert!(!p[0].message.contains(h), "the message must not echo it");
            let user = CreateUserRequest {
                username: format!("bob{h}"),
                password: "longenough".into(),
                role: crate::Role::Viewer,
            };
            assert_eq!(fields(&user.validate(now())), vec!["username"]);
            let tok = CreateApiTokenRequest {
                name: format!("ci{h}"),
                expires_in_days: None,
            };
            assert_eq!(fields(&tok.validate(now())), vec!["name"]);
            let et = CreateEnrollmentTokenRequest {
                note: Some(h.into()),
                ..Default::default()
            };
            assert_eq!(fields(&et.validate(now())), vec!["note"]);
        }
        // Notes keep newlines and tabs; other fields do not.
        let ok = DevicePatch {
            notes: Some("line 1\n\tline 2".into()),
            ..Default::default()
        };
        assert!(ok.is_valid(now()));
        let nl = DevicePatch {
            name: Some("a\nb".into()),
            ..Default::default()
        };
        assert_eq!(fields(&nl.validate(now())), vec!["name"]);
    }

    #[test]
    fn machine_text_is_neutralised_then_valid() {
        for h in HOSTILE {
            let mut req = EnrollRequest {
                enrollment_token: Some("et_x".into()),
                username: None,
                password: None,
                inventory: Inventory {
                    hostname: format!("pc{h}"),
                    cpu_model: h.into(),
                    serial_number: Some(h.into()),
                    mac_addresses: vec![h.into()],
                    ..Default::default()
                },
                device_name: Some(format!("name{h}")),
                asset_tag: None,
                assignee: None,
            };
            // Before neutralising, the inventory is refused too.
            assert!(fields(&req.validate(now())).contains(&"inventory.hostname"));
            req.neutralise();
            // The typed device name is not neutralised: it stays refused.
            assert_eq!(fields(&req.validate(now())), vec!["device_name"], "{h:?}");
            assert!(req.inventory.hostname.contains('\u{FFFD}'));
            assert_eq!(
                crate::text::first_unsafe(&req.inventory.cpu_model, false),
                None
            );

            let mut s = Sample::example(1, now());
            s.disks[0].mount_point = format!("/m{h}");
            s.processes = Some(crate::sample::ProcessStats {
                count: 1,
                top_cpu: vec![crate::sample::ProcessInfo {
                    name: h.into(),
                    cpu_pct: 1.0,
                    ..Default::default()
                }],
            });
            let mut batch = TelemetryBatch {
                agent_version: format!("0.1{h}"),
                samples: vec![s],
            };
            assert!(!batch.is_valid(now()));
            batch.neutralise();
            assert_eq!(batch.validate(now()), vec![], "{h:?}");
        }
    }

    #[test]
    fn one_username_rule_and_case_insensitive_key() {
        assert_eq!(username_problem("alice.smith@corp"), None);
        assert!(
            username_problem("Zoë").is_some(),
            "non-ASCII letters are outside the set"
        );
        assert!(username_problem("_x").is_some());
        assert!(username_problem(&"a".repeat(65)).is_some());
        assert_eq!(username_key("Alice"), username_key("aLICE"));
    }

    #[test]
    fn error_body_names_first_field_and_lists_all() {
        let p = vec![
            Problem::new("samples[0].seq", "must be at least 1"),
            Problem::new("agent_version", "must not be empty"),
        ];
        let e = problems_to_error(&p);
        assert_eq!(e.error.code, "validation_failed");
        assert_eq!(e.error.field.as_deref(), Some("samples[0].seq"));
        assert!(
            e.error
                .message
                .contains("samples[0].seq: must be at least 1")
        );
        assert!(e.error.message.contains("agent_version: must not be empty"));
        let many: Vec<Problem> = (0..25)
            .map(|i| Problem::new(format!("f{i}"), "bad"))
            .collect();
        assert!(
            problems_to_error(&many)
                .error
                .message
                .ends_with("and 5 more")
        );
        assert_eq!(problems_to_error(&[]).error.field, None);
    }
}
