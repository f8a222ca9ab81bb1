//! Device events: the audit trail of enrollment, asset changes, conflicts and alerts.

use super::schema::events;
use super::types::DbEventKind;
use super::{StoreError, from_ms, to_ms};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use rt_core::api::{DeviceEvent, EventKind};
use rt_core::{DeviceId, EventId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
    pub device_id: i64,
    pub at: i64,
    pub kind: DbEventKind,
    pub actor: String,
    pub message: String,
    pub data: Option<String>,
}

impl EventRow {
    pub fn to_api(&self) -> Result<DeviceEvent, StoreError> {
        Ok(DeviceEvent {
            id: EventId(self.id),
            device_id: DeviceId(self.device_id),
            at: from_ms(self.at),
            kind: self.kind.0,
            actor: self.actor.clone(),
            message: self.message.clone(),
            data: self
                .data
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
        })
    }
}

/// Append one event.
pub fn record(
    conn: &mut SqliteConnection,
    device_id: i64,
    at: DateTime<Utc>,
    kind: EventKind,
    actor: &str,
    message: &str,
    data: Option<&serde_json::Value>,
) -> Result<(), StoreError> {
    diesel::insert_into(events::table)
        .values((
            events::device_id.eq(device_id),
            events::at.eq(to_ms(at)),
            events::kind.eq(DbEventKind(kind)),
            events::actor.eq(actor),
            events::message.eq(message),
            events::data.eq(data.map(|d| d.to_string())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Events of one device, newest first.
pub fn for_device(
    conn: &mut SqliteConnection,
    device_id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<EventRow>, i64), StoreError> {
    let build = || {
        let mut q = events::table
            .filter(events::device_id.eq(device_id))
            .into_boxed();
        if let Some(f) = from {
            q = q.filter(events::at.ge(to_ms(f)));
        }
        if let Some(t) = to {
            q = q.filter(events::at.lt(to_ms(t)));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let rows = build()
        .order((events::at.desc(), events::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(EventRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// One chunk of the events export, in id order after `after_id`.
pub fn export_chunk(
    conn: &mut SqliteConnection,
    after_id: i64,
    device_ids: &[i64],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let mut q = events::table.filter(events::id.gt(after_id)).into_boxed();
    if !device_ids.is_empty() {
        q = q.filter(events::device_id.eq_any(device_ids.to_vec()));
    }
    if let Some(f) = from {
        q = q.filter(events::at.ge(to_ms(f)));
    }
    if let Some(t) = to {
        q = q.filter(events::at.lt(to_ms(t)));
    }
    Ok(q.order(events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?)
}

/// Latest alert state per device: the kind of the newest alert event (raised/cleared).
pub fn latest_alert_kind(
    conn: &mut SqliteConnection,
    device_id: i64,
) -> Result<Option<EventKind>, StoreError> {
    let kind: Option<DbEventKind> = events::table
        .filter(events::device_id.eq(device_id))
        .filter(events::kind.eq_any([
            DbEventKind(EventKind::AlertRaised),
            DbEventKind(EventKind::AlertCleared),
        ]))
        .order(events::id.desc())
        .select(events::kind)
        .first(conn)
        .optional()?;
    Ok(kind.map(|k| k.0))
}
