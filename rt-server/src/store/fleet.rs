//! The fleet list and summary as SQL: filters, sorting and paging on the `devices` table, and the
//! summary as one aggregate query.
//!
//! The health level of a device is computed in SQL from what ingest stored — the level of the
//! latest sample's findings (`devices.sample_level`, from `rt_core::health::sample_findings`), the
//! newest sample time and the last contact — and the clock, rather than flipped to `offline` by a
//! periodic job: the answer is exact at every instant, and nothing has to be written when time
//! passes. [`level_sql`] is the SQL form of `rt_core::health::evaluate_findings` followed by
//! `rt_core::health::for_lifecycle` (same decisions in the same order, the same offline threshold,
//! the lifecycle states that expect telemetry taken from rt-core); `tests/store_v2.rs` checks it
//! against those functions on a generated fleet. Reasons are computed in Rust for the rows of the
//! page only ([`super::devices::FleetRow::health`]).

use super::StoreError;
use super::devices::FleetRow;
use super::schema::devices;
use super::types::DbLifecycle;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use rt_core::LifecycleState;
use rt_core::api::HealthLevel;
use rt_core::health::HealthPolicy;

/// When a device was last seen, in SQL: the newest sample time, else the last contact (the
/// `last_seen` column). Ingest writes `latest_collected_at` and `latest_seq` together, so the
/// column is NULL exactly when there is no sample. Index `devices_seen` is on this expression.
pub const SEEN_SQL: &str = "COALESCE(latest_collected_at, last_seen)";

/// The number a level is stored and sorted as (the order of [`HealthLevel`]'s `Ord`).
pub fn level_rank(l: HealthLevel) -> i64 {
    match l {
        HealthLevel::Unknown => 0,
        HealthLevel::Ok => 1,
        HealthLevel::Warning => 2,
        HealthLevel::Critical => 3,
        HealthLevel::Offline => 4,
    }
}

/// Inverse of [`level_rank`].
pub fn level_of_rank(r: i64) -> Result<HealthLevel, StoreError> {
    HealthLevel::ALL
        .into_iter()
        .find(|l| level_rank(*l) == r)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown health level rank {r}")))
}

/// The level the findings of one sample give a device that is online (worst finding, `ok`
/// without findings): what ingest stores in `devices.sample_level`.
pub fn sample_level(findings: &[(HealthLevel, String)]) -> HealthLevel {
    findings
        .iter()
        .map(|(l, _)| *l)
        .max()
        .unwrap_or(HealthLevel::Ok)
}

/// The clock and policy the level depends on.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Now, in ms since the epoch (callers truncate their `now` to ms, as stored times are).
    pub now_ms: i64,
    /// `HealthPolicy::offline_after_s` for the collection interval.
    pub offline_after_s: i64,
}

impl Clock {
    pub fn new(now_ms: i64, expected_interval_s: u32, policy: &HealthPolicy) -> Clock {
        Clock {
            now_ms,
            offline_after_s: policy.offline_after_s(expected_interval_s),
        }
    }

    /// A device seen at or before this instant (ms) is offline: rt-core's rule is "whole seconds
    /// of silence > offline_after_s", and with millisecond times that is
    /// `now - seen >= (offline_after_s + 1) s`.
    pub fn offline_at_or_before_ms(&self) -> i64 {
        self.now_ms
            .saturating_sub(self.offline_after_s.saturating_add(1).saturating_mul(1000))
    }
}

/// SQL of the lifecycle states that expect telemetry, as a quoted list (names from rt-core).
fn expecting_states() -> String {
    LifecycleState::ALL
        .into_iter()
        .filter(|s| s.expects_telemetry())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The device's health level rank at `clock`, as an SQL expression (see the module docs).
pub fn level_sql(clock: &Clock) -> String {
    let cut = clock.offline_at_or_before_ms();
    let unknown = level_rank(HealthLevel::Unknown);
    let offline = level_rank(HealthLevel::Offline);
    format!(
        "(CASE WHEN {SEEN_SQL} IS NULL THEN {unknown} \
         WHEN {SEEN_SQL} <= {cut} THEN \
           (CASE WHEN lifecycle_state IN ({states}) THEN {offline} ELSE {unknown} END) \
         WHEN latest_collected_at IS NULL THEN {unknown} \
         ELSE COALESCE(sample_level, {ok}) END)",
        states = expecting_states(),
        ok = level_rank(HealthLevel::Ok),
    )
}

/// Sort keys of the fleet list (API names in [`SortKey::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Hostname,
    Id,
    LastSeen,
    LastContact,
    EnrolledAt,
    Health,
    State,
    Assignee,
    Cpu,
    Mem,
    Disk,
}

impl SortKey {
    /// Every key with its API name.
    pub const ALL: [(&'static str, SortKey); 12] = [
        ("name", SortKey::Name),
        ("hostname", SortKey::Hostname),
        ("id", SortKey::Id),
        ("last_seen", SortKey::LastSeen),
        ("last_contact", SortKey::LastContact),
        ("enrolled_at", SortKey::EnrolledAt),
        ("health", SortKey::Health),
        ("state", SortKey::State),
        ("assignee", SortKey::Assignee),
        ("cpu", SortKey::Cpu),
        ("mem", SortKey::Mem),
        ("disk", SortKey::Disk),
    ];

    /// The key of an API name (`lifecycle_state` is an alias of `state`).
    pub fn parse(name: &str) -> Option<SortKey> {
        if name == "lifecycle_state" {
            return Some(SortKey::State);
        }
        SortKey::ALL
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| k)
    }

    /// The SQL the key sorts by. Text keys compare ASCII case-insensitively (`COLLATE NOCASE`)
    /// except the state name and the assignee (exact); NULLs (no value) sort first ascending.
    fn sql(self, clock: &Clock) -> String {
        match self {
            SortKey::Name => "name COLLATE NOCASE".into(),
            SortKey::Hostname => "hostname COLLATE NOCASE".into(),
            SortKey::Id => "id".into(),
            SortKey::LastSeen => SEEN_SQL.into(),
            SortKey::LastContact => "last_seen".into(),
            SortKey::EnrolledAt => "enrolled_at".into(),
            SortKey::Health => level_sql(clock),
            SortKey::State => "lifecycle_state".into(),
            SortKey::Assignee => "assignee".into(),
            SortKey::Cpu => "cpu_pct".into(),
            SortKey::Mem => "mem_pct".into(),
            SortKey::Disk => "disk_max_pct".into(),
        }
    }
}

/// One request of the fleet list.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Substring of name, hostname, asset tag, assignee or serial number.
    pub q: Option<String>,
    pub state: Option<LifecycleState>,
    /// Exact assignee; empty: unassigned.
    pub assignee: Option<String>,
    /// Any of these levels (empty: all).
    pub health: Vec<HealthLevel>,
    pub sort: SortKey,
    pub desc: bool,
    pub limit: i64,
    pub offset: i64,
}

fn filtered<'a>(f: &ListQuery, clock: &Clock) -> devices::BoxedQuery<'a, Sqlite> {
    let mut q = devices::table.into_boxed();
    if let Some(text) = f.q.as_deref().filter(|t| !t.is_empty()) {
        let pat = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        q = q.filter(
            devices::name
                .like(pat.clone())
                .escape('\\')
                .or(devices::hostname.like(pat.clone()).escape('\\'))
                .or(devices::asset_tag.like(pat.clone()).escape('\\'))
                .or(devices::assignee.like(pat.clone()).escape('\\'))
                .or(devices::serial_number.like(pat).escape('\\')),
        );
    }
    if let Some(s) = f.state {
        q = q.filter(devices::lifecycle_state.eq(DbLifecycle(s)));
    }
    if let Some(a) = f.assignee.as_deref() {
        if a.is_empty() {
            q = q.filter(devices::assignee.is_null());
        } else {
            q = q.filter(devices::assignee.eq(a.to_string()));
        }
    }
    if !f.health.is_empty() {
        let ranks: Vec<String> = f
            .health
            .iter()
            .map(|l| level_rank(*l).to_string())
            .collect();
        q = q.filter(sql::<Bool>(&format!(
            "{} IN ({})",
            level_sql(clock),
            ranks.join(", ")
        )));
    }
    q
}

/// One page of the fleet list and the number of devices matching the filters.
pub fn page(
    conn: &mut SqliteConnection,
    f: &ListQuery,
    clock: &Clock,
) -> Result<(Vec<FleetRow>, i64), StoreError> {
    let total: i64 = filtered(f, clock).count().get_result(conn)?;
    let dir = if f.desc { "DESC" } else { "ASC" };
    let order = format!("{} {dir}, id {dir}", f.sort.sql(clock));
    let rows = filtered(f, clock)
        .order(sql::<Nullable<Text>>(&order))
        .limit(f.limit)
        .offset(f.offset)
        .select(FleetRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The fleet summary's counts: (level, lifecycle state, devices, online devices) per group.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct SummaryGroup {
    #[diesel(sql_type = BigInt)]
    pub level: i64,
    #[diesel(sql_type = Text)]
    pub lifecycle_state: DbLifecycle,
    #[diesel(sql_type = BigInt)]
    pub devices: i64,
    #[diesel(sql_type = BigInt)]
    pub online: i64,
}

/// Devices per (health level, lifecycle state) with how many of them are online (seen within
/// the offline threshold), in one aggregate query.
pub fn summary(
    conn: &mut SqliteConnection,
    clock: &Clock,
) -> Result<Vec<SummaryGroup>, StoreError> {
    let cut = clock.offline_at_or_before_ms();
    Ok(diesel::sql_query(format!(
        "SELECT {level} AS level, lifecycle_state, COUNT(*) AS devices, \
         COALESCE(SUM({SEEN_SQL} > {cut}), 0) AS online \
         FROM devices GROUP BY 1, 2",
        level = level_sql(clock),
    ))
    .load(conn)?)
}
