//! Devices: identity and enrollment, device tokens, asset fields, the fleet-view columns.

use super::schema::{device_tokens, devices};
use super::types::DbLifecycle;
use super::{StoreError, events, from_ms, to_ms};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use rt_core::api::{DevicePatch, EventKind, HealthLevel};
use rt_core::health::HealthPolicy;
use rt_core::lifecycle::check_transition;
use rt_core::sample::SampleMetrics;
use rt_core::{Inventory, LifecycleState, Sample, TransitionError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub struct DeviceRow {
    pub id: i64,
    pub name: String,
    pub hostname: String,
    pub machine_id: Option<String>,
    pub serial_number: Option<String>,
    pub asset_tag: Option<String>,
    pub notes: Option<String>,
    pub assignee: Option<String>,
    pub lifecycle_state: DbLifecycle,
    pub os_name: String,
    pub inventory_json: String,
    pub enrolled_at: i64,
    pub last_seen: Option<i64>,
    pub latest_seq: Option<i64>,
    pub latest_collected_at: Option<i64>,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
    pub disk_max_pct: Option<f64>,
    pub temp_max_c: Option<f64>,
    pub battery_health_pct: Option<f64>,
    pub latest_json: Option<String>,
    pub cpu_recent: String,
    pub conflicts: i64,
}

impl DeviceRow {
    pub fn lifecycle(&self) -> LifecycleState {
        self.lifecycle_state.0
    }

    pub fn inventory(&self) -> Inventory {
        serde_json::from_str(&self.inventory_json).unwrap_or_else(|_| Inventory {
            hostname: self.hostname.clone(),
            ..Default::default()
        })
    }

    pub fn latest(&self) -> Option<rt_core::Sample> {
        self.latest_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
    }

    pub fn cpu_recent(&self) -> Vec<f64> {
        serde_json::from_str(&self.cpu_recent).unwrap_or_default()
    }

    /// The last upload (column `last_seen`, which has always been written at ingest time).
    pub fn last_contact(&self) -> Option<DateTime<Utc>> {
        self.last_seen.map(from_ms)
    }

    /// When the latest sample was collected; None when the device has no sample yet.
    pub fn latest_collected_at(&self) -> Option<DateTime<Utc>> {
        self.latest_seq.and(self.latest_collected_at).map(from_ms)
    }

    /// When the device was last seen: its newest sample's time ([`rt_core::health::seen_at`]).
    pub fn last_seen(&self) -> Option<DateTime<Utc>> {
        rt_core::health::seen_at(self.latest_collected_at(), self.last_contact())
    }
}

/// What the fleet list and summary need of a device: no inventory, no latest sample JSON (its
/// health findings and metrics are columns, written at ingest).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub struct FleetRow {
    pub id: i64,
    pub name: String,
    pub hostname: String,
    pub asset_tag: Option<String>,
    pub assignee: Option<String>,
    pub lifecycle_state: DbLifecycle,
    pub os_name: String,
    pub enrolled_at: i64,
    pub last_seen: Option<i64>,
    pub latest_seq: Option<i64>,
    pub latest_collected_at: Option<i64>,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
    pub disk_max_pct: Option<f64>,
    pub temp_max_c: Option<f64>,
    pub battery_health_pct: Option<f64>,
    pub battery_charge_pct: Option<f64>,
    pub net_rx_bytes: Option<i64>,
    pub net_tx_bytes: Option<i64>,
    pub latest_findings: Option<String>,
    pub cpu_recent: String,
}

impl FleetRow {
    pub fn lifecycle(&self) -> LifecycleState {
        self.lifecycle_state.0
    }

    /// The last upload (column `last_seen`, written at ingest time).
    pub fn last_contact(&self) -> Option<DateTime<Utc>> {
        self.last_seen.map(from_ms)
    }

    /// When the latest sample was collected; None when the device has no sample yet.
    pub fn latest_collected_at(&self) -> Option<DateTime<Utc>> {
        self.latest_seq.and(self.latest_collected_at).map(from_ms)
    }

    /// When the device was last seen: its newest sample's time ([`rt_core::health::seen_at`]).
    pub fn last_seen(&self) -> Option<DateTime<Utc>> {
        rt_core::health::seen_at(self.latest_collected_at(), self.last_contact())
    }

    /// Health findings of the latest sample (empty when there is none).
    pub fn findings(&self) -> Vec<(HealthLevel, String)> {
        self.latest_findings
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }

    /// The latest sample's metrics from the columns (what `Sample::metrics` gave at ingest).
    pub fn metrics(&self) -> Option<SampleMetrics> {
        self.latest_seq?;
        Some(SampleMetrics {
            cpu_pct: self.cpu_pct?,
            mem_pct: self.mem_pct?,
            disk_max_pct: self.disk_max_pct,
            temp_max_c: self.temp_max_c,
            battery_health_pct: self.battery_health_pct,
            battery_charge_pct: self.battery_charge_pct,
            net_rx_bytes: self.net_rx_bytes.and_then(|v| u64::try_from(v).ok()),
            net_tx_bytes: self.net_tx_bytes.and_then(|v| u64::try_from(v).ok()),
        })
    }

    pub fn cpu_recent(&self) -> Vec<f64> {
        serde_json::from_str(&self.cpu_recent).unwrap_or_default()
    }

    /// Health from what ingest stored (findings of the latest sample, its time, the last
    /// contact) with rt-core's rules, lifecycle rule included: what [`super::fleet::level_sql`]
    /// computes in SQL, plus the reasons.
    pub fn health(
        &self,
        expected_interval_s: u32,
        policy: &HealthPolicy,
        now: DateTime<Utc>,
    ) -> rt_core::api::Health {
        let h = rt_core::health::evaluate_findings(
            self.latest_collected_at(),
            &self.findings(),
            self.last_contact(),
            expected_interval_s,
            policy,
            now,
        );
        rt_core::health::for_lifecycle(h, self.lifecycle())
    }
}

/// The stored form of a sample's health findings: JSON array of `[level, reason]`.
pub fn findings_json(sample: &Sample, policy: &HealthPolicy) -> Option<String> {
    serde_json::to_string(&rt_core::health::sample_findings(sample, policy)).ok()
}

/// Recompute the latest-sample columns that are derived in Rust (health findings under
/// `policy`, battery charge, network counters) for every device with a latest sample, writing
/// only rows whose stored values differ. Run once at server start: fills rows stored before
/// these columns existed and follows a changed `[health]` policy. Returns the rows updated.
pub fn refresh_latest_findings(
    conn: &mut SqliteConnection,
    policy: &HealthPolicy,
) -> Result<usize, StoreError> {
    type Derived = (
        Option<String>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    const CHUNK: i64 = 500;
    let mut after = 0i64;
    let mut updated = 0usize;
    loop {
        let rows: Vec<(i64, String, Derived)> = devices::table
            .filter(devices::id.gt(after))
            .filter(devices::latest_json.is_not_null())
            .order(devices::id.asc())
            .limit(CHUNK)
            .select((
                devices::id,
                devices::latest_json.assume_not_null(),
                (
                    devices::latest_findings,
                    devices::battery_charge_pct,
                    devices::net_rx_bytes,
                    devices::net_tx_bytes,
                    devices::sample_level,
                ),
            ))
            .load(conn)?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.0;
        let mut changes: Vec<(i64, Derived)> = Vec::new();
        for (id, json, stored) in rows {
            let Ok(sample) = serde_json::from_str::<Sample>(&json) else {
                continue;
            };
            let m = sample.metrics();
            let findings = rt_core::health::sample_findings(&sample, policy);
            let want: Derived = (
                serde_json::to_string(&findings).ok(),
                m.battery_charge_pct,
                m.net_rx_bytes.and_then(|v| i64::try_from(v).ok()),
                m.net_tx_bytes.and_then(|v| i64::try_from(v).ok()),
                Some(super::fleet::level_rank(super::fleet::sample_level(
                    &findings,
                ))),
            );
            if want != stored {
                changes.push((id, want));
            }
        }
        if changes.is_empty() {
            continue;
        }
        conn.immediate_transaction(|conn| {
            for (id, (f, charge, rx, tx, level)) in &changes {
                diesel::update(devices::table.find(*id))
                    .set((
                        devices::latest_findings.eq(f),
                        devices::battery_charge_pct.eq(charge),
                        devices::net_rx_bytes.eq(rx),
                        devices::net_tx_bytes.eq(tx),
                        devices::sample_level.eq(level),
                    ))
                    .execute(conn)?;
            }
            Ok::<_, StoreError>(())
        })?;
        updated += changes.len();
    }
    Ok(updated)
}

/// Every device as a fleet row, id order (fleet summary).
pub fn fleet_all(conn: &mut SqliteConnection) -> Result<Vec<FleetRow>, StoreError> {
    Ok(devices::table
        .order(devices::id.asc())
        .select(FleetRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut SqliteConnection, id: i64) -> Result<Option<DeviceRow>, StoreError> {
    Ok(devices::table
        .find(id)
        .select(DeviceRow::as_select())
        .first(conn)
        .optional()?)
}

/// All devices (fleet list, summary, devices export), in id order.
pub fn all(conn: &mut SqliteConnection) -> Result<Vec<DeviceRow>, StoreError> {
    Ok(devices::table
        .order(devices::id.asc())
        .select(DeviceRow::as_select())
        .load(conn)?)
}

/// Outcome of a device-token lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceTokenLookup {
    Valid {
        device_id: i64,
    },
    /// The device is retired (its token was revoked on retirement).
    Retired,
    /// Replaced by a re-enrollment or otherwise revoked.
    Revoked,
    Unknown,
}

pub fn resolve_token(
    conn: &mut SqliteConnection,
    token_hash: &str,
) -> Result<DeviceTokenLookup, StoreError> {
    let found: Option<(i64, Option<i64>, DbLifecycle)> = device_tokens::table
        .inner_join(devices::table)
        .filter(device_tokens::token_hash.eq(token_hash))
        .select((
            device_tokens::device_id,
            device_tokens::revoked_at,
            devices::lifecycle_state,
        ))
        .first(conn)
        .optional()?;
    Ok(match found {
        None => DeviceTokenLookup::Unknown,
        Some((_, _, DbLifecycle(LifecycleState::Retired))) => DeviceTokenLookup::Retired,
        Some((_, Some(_), _)) => DeviceTokenLookup::Revoked,
        Some((device_id, None, _)) => DeviceTokenLookup::Valid { device_id },
    })
}

fn revoke_tokens(conn: &mut SqliteConnection, device_id: i64, now: i64) -> QueryResult<usize> {
    diesel::update(
        device_tokens::table
            .filter(device_tokens::device_id.eq(device_id))
            .filter(device_tokens::revoked_at.is_null()),
    )
    .set(device_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// What the enrollment request asks for, already validated.
#[derive(Debug, Clone)]
pub struct EnrollInput {
    pub inventory: Inventory,
    pub device_name: Option<String>,
    pub asset_tag: Option<String>,
    pub assignee: Option<String>,
    pub actor: String,
    /// The credential may re-enroll hardware that is already a device (an admin, or an
    /// enrollment token created with `allow_reenroll`).
    pub may_reenroll: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollOutcome {
    Enrolled {
        device_id: i64,
        re_enrolled: bool,
        /// The highest seq stored for the device (None: no sample yet).
        max_seq: Option<u64>,
    },
    /// The hardware belongs to a retired device.
    Retired { device_id: i64 },
    /// The hardware is a known device and the credential may not re-enroll it.
    ReenrollNotAllowed { device_id: i64 },
}

/// The form in which hardware identifiers are compared: surrounding space trimmed, ASCII case
/// folded (SQLite's `lower` folds ASCII only, and the indexes of migration
/// `2026-12-01-100000_reenroll_rights` are on `lower(trim(column))`).
pub fn identity_key(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// Find the device this hardware already is (machine id first, then a real serial number),
/// comparing identifiers normalised (see [`identity_key`]), so that a changed case or padding
/// is still the same hardware.
pub fn find_by_identity(
    conn: &mut SqliteConnection,
    inv: &Inventory,
) -> Result<Option<DeviceRow>, StoreError> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    if let Some(mid) = inv.identifying_machine_id() {
        let d = devices::table
            .filter(sql::<Bool>("lower(trim(machine_id)) = ").bind::<Text, _>(identity_key(mid)))
            .order(devices::id.desc())
            .select(DeviceRow::as_select())
            .first(conn)
            .optional()?;
        if d.is_some() {
            return Ok(d);
        }
    }
    if let Some(serial) = inv.identifying_serial() {
        let d = devices::table
            .filter(
                sql::<Bool>("lower(trim(serial_number)) = ").bind::<Text, _>(identity_key(serial)),
            )
            .order(devices::id.desc())
            .select(DeviceRow::as_select())
            .first(conn)
            .optional()?;
        if d.is_some() {
            return Ok(d);
        }
    }
    Ok(None)
}

/// The highest seq stored for a device (None: no sample yet, or no such device). Kept in
/// `devices.latest_seq` by the ingest write, so retention does not lower it.
pub fn max_seq(conn: &mut SqliteConnection, device_id: i64) -> Result<Option<u64>, StoreError> {
    let v: Option<Option<i64>> = devices::table
        .find(device_id)
        .select(devices::latest_seq)
        .first(conn)
        .optional()?;
    Ok(v.flatten().and_then(|s| u64::try_from(s).ok()))
}

/// Create or re-enroll the device for `input` and give it the token whose hash is
/// `token_hash`. Runs inside the caller's transaction. Refusals (retired hardware, a
/// re-enrollment the credential may not do) change nothing.
pub fn enroll(
    conn: &mut SqliteConnection,
    input: &EnrollInput,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<EnrollOutcome, StoreError> {
    let inv = &input.inventory;
    let inv_json = serde_json::to_string(inv).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let now_ms = to_ms(now);
    let machine_id = inv.identifying_machine_id().map(str::to_string);
    let serial = inv.identifying_serial().map(str::to_string);
    let (device_id, re_enrolled) = match find_by_identity(conn, inv)? {
        Some(existing) if existing.lifecycle() == LifecycleState::Retired => {
            return Ok(EnrollOutcome::Retired {
                device_id: existing.id,
            });
        }
        Some(existing) if !input.may_reenroll => {
            return Ok(EnrollOutcome::ReenrollNotAllowed {
                device_id: existing.id,
            });
        }
        Some(existing) => {
            revoke_tokens(conn, existing.id, now_ms)?;
            // Identity columns are refreshed; asset fields are kept, and only filled in from
            // the request where they are still empty.
            diesel::update(devices::table.find(existing.id))
                .set((
                    devices::hostname.eq(&inv.hostname),
                    devices::os_name.eq(&inv.os_name),
                    devices::inventory_json.eq(&inv_json),
                    devices::machine_id.eq(machine_id.clone().or(existing.machine_id.clone())),
                    devices::serial_number.eq(serial.clone().or(existing.serial_number.clone())),
                ))
                .execute(conn)?;
            if existing.asset_tag.is_none() && input.asset_tag.is_some() {
                diesel::update(devices::table.find(existing.id))
                    .set(devices::asset_tag.eq(&input.asset_tag))
                    .execute(conn)?;
            }
            if existing.assignee.is_none() && input.assignee.is_some() {
                diesel::update(devices::table.find(existing.id))
                    .set(devices::assignee.eq(&input.assignee))
                    .execute(conn)?;
            }
            let matched_by = if machine_id
                .as_deref()
                .zip(existing.machine_id.as_deref())
                .is_some_and(|(a, b)| identity_key(a) == identity_key(b))
            {
                "machine_id"
            } else {
                "serial_number"
            };
            events::record(
                conn,
                existing.id,
                now,
                EventKind::ReEnrolled,
                &input.actor,
                &format!(
                    "re-enrolled as {:?}; the previous device token was revoked",
                    inv.hostname
                ),
                Some(&serde_json::json!({
                    "hostname": inv.hostname,
                    "matched_by": matched_by,
                })),
            )?;
            // The name typed at re-enrollment (the wizard shows the current one first) is
            // applied like an admin's rename.
            if let Some(name) = input.device_name.as_ref().filter(|n| **n != existing.name) {
                diesel::update(devices::table.find(existing.id))
                    .set(devices::name.eq(name))
                    .execute(conn)?;
                events::record(
                    conn,
                    existing.id,
                    now,
                    EventKind::Renamed,
                    &input.actor,
                    &format!(
                        "renamed from {:?} to {:?} at re-enrollment",
                        existing.name, name
                    ),
                    Some(&serde_json::json!({"from": existing.name, "to": name})),
                )?;
            }
            (existing.id, true)
        }
        None => {
            let name = input
                .device_name
                .clone()
                .unwrap_or_else(|| inv.hostname.clone());
            let id: i64 = diesel::insert_into(devices::table)
                .values((
                    devices::name.eq(&name),
                    devices::hostname.eq(&inv.hostname),
                    devices::machine_id.eq(&machine_id),
                    devices::serial_number.eq(&serial),
                    devices::asset_tag.eq(&input.asset_tag),
                    devices::assignee.eq(&input.assignee),
                    devices::lifecycle_state.eq(DbLifecycle(LifecycleState::Deployed)),
                    devices::os_name.eq(&inv.os_name),
                    devices::inventory_json.eq(&inv_json),
                    devices::enrolled_at.eq(now_ms),
                    devices::cpu_recent.eq("[]"),
                    devices::conflicts.eq(0),
                ))
                .returning(devices::id)
                .get_result(conn)?;
            events::record(
                conn,
                id,
                now,
                EventKind::Enrolled,
                &input.actor,
                &format!("enrolled as {name:?} (host {:?})", inv.hostname),
                None,
            )?;
            (id, false)
        }
    };
    diesel::insert_into(device_tokens::table)
        .values((
            device_tokens::device_id.eq(device_id),
            device_tokens::token_hash.eq(token_hash),
            device_tokens::created_at.eq(now_ms),
        ))
        .execute(conn)?;
    Ok(EnrollOutcome::Enrolled {
        device_id,
        re_enrolled,
        max_seq: max_seq(conn, device_id)?,
    })
}

/// Why a PATCH was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    NotFound,
    Transition(TransitionError),
}

/// Apply an admin's PATCH: every change is an event with the actor. Retiring revokes the
/// device token. Runs in one immediate transaction.
pub fn apply_patch(
    conn: &mut SqliteConnection,
    id: i64,
    patch: &DevicePatch,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Result<DeviceRow, PatchError>, StoreError> {
    conn.immediate_transaction(|conn| {
        let Some(dev) = find(conn, id)? else {
            return Ok(Err(PatchError::NotFound));
        };
        let norm = |v: &Option<String>| -> Option<Option<String>> {
            v.as_ref().map(|s| {
                let t = s.trim();
                (!t.is_empty()).then(|| t.to_string())
            })
        };
        if let Some(to) = patch.lifecycle_state
            && let Err(e) = check_transition(dev.lifecycle(), to)
        {
            return Ok(Err(PatchError::Transition(e)));
        }
        if let Some(Some(name)) = norm(&patch.name)
            && name != dev.name
        {
            diesel::update(devices::table.find(id))
                .set(devices::name.eq(&name))
                .execute(conn)?;
            events::record(
                conn,
                id,
                now,
                EventKind::Renamed,
                actor,
                &format!("renamed from {:?} to {:?}", dev.name, name),
                Some(&serde_json::json!({"from": dev.name, "to": name})),
            )?;
        }
        if let Some(new) = norm(&patch.assignee)
            && new != dev.assignee
        {
            diesel::update(devices::table.find(id))
                .set(devices::assignee.eq(&new))
                .execute(conn)?;
            let (kind, msg) = match (&dev.assignee, &new) {
                (_, Some(to)) => (
                    EventKind::Assigned,
                    match &dev.assignee {
                        Some(from) => format!("reassigned from {from:?} to {to:?}"),
                        None => format!("assigned to {to:?}"),
                    },
                ),
                (Some(from), None) => (EventKind::Unassigned, format!("unassigned from {from:?}")),
                (None, None) => (EventKind::Unassigned, "unassigned".to_string()),
            };
            events::record(
                conn,
                id,
                now,
                kind,
                actor,
                &msg,
                Some(&serde_json::json!({"from": dev.assignee, "to": new})),
            )?;
        }
        if let Some(new) = norm(&patch.asset_tag)
            && new != dev.asset_tag
        {
            diesel::update(devices::table.find(id))
                .set(devices::asset_tag.eq(&new))
                .execute(conn)?;
            events::record(
                conn,
                id,
                now,
                EventKind::AssetTagChanged,
                actor,
                &format!(
                    "asset tag changed from {:?} to {:?}",
                    dev.asset_tag.as_deref().unwrap_or(""),
                    new.as_deref().unwrap_or("")
                ),
                Some(&serde_json::json!({"from": dev.asset_tag, "to": new})),
            )?;
        }
        if let Some(new) = norm(&patch.notes)
            && new != dev.notes
        {
            diesel::update(devices::table.find(id))
                .set(devices::notes.eq(&new))
                .execute(conn)?;
            events::record(conn, id, now, EventKind::NotesChanged, actor, "notes changed", None)?;
        }
        if let Some(to) = patch.lifecycle_state {
            let from = dev.lifecycle();
            diesel::update(devices::table.find(id))
                .set(devices::lifecycle_state.eq(DbLifecycle(to)))
                .execute(conn)?;
            events::record(
                conn,
                id,
                now,
                EventKind::LifecycleChanged,
                actor,
                &format!("lifecycle changed from {from} to {to}"),
                Some(&serde_json::json!({"from": from, "to": to})),
            )?;
            if to == LifecycleState::Retired {
                let n = revoke_tokens(conn, id, to_ms(now))?;
                events::record(
                    conn,
                    id,
                    now,
                    EventKind::TokenRevoked,
                    actor,
                    &format!("device retired: {n} device token(s) revoked; its agent can no longer upload"),
                    None,
                )?;
            }
        }
        Ok(find(conn, id)?.ok_or(PatchError::NotFound))
    })
}

/// Ids of every device (for export filters and jobs).
pub fn ids(conn: &mut SqliteConnection) -> Result<Vec<i64>, StoreError> {
    Ok(devices::table
        .select(devices::id)
        .order(devices::id.asc())
        .load(conn)?)
}

/// One chunk of the devices export, id order after `after_id`.
pub fn export_chunk(
    conn: &mut SqliteConnection,
    after_id: i64,
    device_ids: &[i64],
    limit: i64,
) -> Result<Vec<DeviceRow>, StoreError> {
    let mut q = devices::table.filter(devices::id.gt(after_id)).into_boxed();
    if !device_ids.is_empty() {
        q = q.filter(devices::id.eq_any(device_ids.to_vec()));
    }
    Ok(q.order(devices::id.asc())
        .limit(limit)
        .select(DeviceRow::as_select())
        .load(conn)?)
}

/// When every device was last seen (newest sample time, else last contact; ms), for the online
/// gauge.
pub fn last_seen_all(conn: &mut SqliteConnection) -> Result<Vec<Option<i64>>, StoreError> {
    let rows: Vec<(Option<i64>, Option<i64>, Option<i64>)> = devices::table
        .select((
            devices::latest_seq,
            devices::latest_collected_at,
            devices::last_seen,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(seq, at, contact)| seq.and(at).or(contact))
        .collect())
}

/// (id, name) of every device (the samples export names rows with it).
pub fn all_names(conn: &mut SqliteConnection) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(devices::table
        .select((devices::id, devices::name))
        .load(conn)?)
}
