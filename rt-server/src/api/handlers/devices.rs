//! Fleet queries and asset management: `/devices`, `/devices/{id}`, `/devices/{id}/metrics`,
//! `/devices/{id}/events`, `/fleet/summary`, `PATCH /devices/{id}`.

use crate::api::error::ApiError;
use crate::api::{AppState, Caller, Query, State, json};
use crate::store::devices::{self, DeviceRow, FleetRow, PatchError};
use crate::store::fleet::{self, Clock, ListQuery, SortKey};
use crate::store::{StoreError, events, retention, samples};
use chrono::{DateTime, Duration, Utc};
use rt_core::api::{
    DeviceDetail, DeviceEvent, DevicePatch, DeviceSummary, FleetSummary, Health, HealthLevel,
    MetricsResponse, Page, Resolution, RetentionCut,
};
use rt_core::error::codes;
use rt_core::{DeviceId, LifecycleState, Sample, TransitionError};
use warp::http::StatusCode;
use warp::reply::Response;

/// Most points `/metrics` returns; the response says `truncated` when it cut the series.
pub const MAX_METRIC_POINTS: i64 = 2000;
/// Longest window `/metrics` accepts.
const MAX_METRICS_WINDOW_DAYS: i64 = 400;
/// Forecasts look at this much history.
const FORECAST_DAYS: i64 = 30;

/// Health of a device from its stored latest sample and last contact, with rt-core's lifecycle
/// rule (states that do not expect telemetry are not reported offline).
pub fn health_of(
    state: &AppState,
    row: &DeviceRow,
    latest: Option<&Sample>,
    now: DateTime<Utc>,
) -> Health {
    let h = rt_core::health::evaluate(
        latest,
        row.last_contact(),
        state.config.collection_interval_s,
        &state.config.health,
        now,
    );
    rt_core::health::for_lifecycle(h, row.lifecycle())
}

/// Health of a fleet row from the findings stored at ingest: the same rule as [`health_of`]
/// without parsing the latest sample.
pub fn fleet_health_of(state: &AppState, row: &FleetRow, now: DateTime<Utc>) -> Health {
    row.health(
        state.config.collection_interval_s,
        &state.config.health,
        now,
    )
}

/// The fleet-table summary of one device, from its light row. `cpu_recent` is left empty: the
/// list parses it only for the devices on the page.
pub fn fleet_summary_of(state: &AppState, row: &FleetRow, now: DateTime<Utc>) -> DeviceSummary {
    DeviceSummary {
        id: DeviceId(row.id),
        name: row.name.clone(),
        hostname: row.hostname.clone(),
        asset_tag: row.asset_tag.clone(),
        assignee: row.assignee.clone(),
        lifecycle_state: row.lifecycle(),
        health: fleet_health_of(state, row, now),
        last_seen: row.last_seen(),
        last_contact: row.last_contact(),
        metrics: row.metrics(),
        cpu_recent: Vec::new(),
        os_name: row.os_name.clone(),
        enrolled_at: crate::store::from_ms(row.enrolled_at),
        // The light fleet row has neither; the device detail fills them.
        serial_number: None,
        model: None,
    }
}

pub fn summary_of(
    state: &AppState,
    row: &DeviceRow,
    now: DateTime<Utc>,
) -> (DeviceSummary, Option<Sample>) {
    let latest = row.latest();
    let health = health_of(state, row, latest.as_ref(), now);
    (
        DeviceSummary {
            id: DeviceId(row.id),
            name: row.name.clone(),
            hostname: row.hostname.clone(),
            asset_tag: row.asset_tag.clone(),
            assignee: row.assignee.clone(),
            lifecycle_state: row.lifecycle(),
            health,
            last_seen: row.last_seen(),
            last_contact: row.last_contact(),
            metrics: latest.as_ref().map(Sample::metrics),
            cpu_recent: row.cpu_recent(),
            os_name: row.os_name.clone(),
            enrolled_at: crate::store::from_ms(row.enrolled_at),
            serial_number: row.serial_number.clone(),
            model: row.inventory().model,
        },
        latest,
    )
}

/// `GET /devices`: filters, sorting and paging run in SQL ([`fleet::page`]); health reasons and
/// the CPU sparkline are computed for the rows of the page only.
pub async fn list(state: State, _viewer: Caller, q: Query) -> Result<Response, ApiError> {
    let (limit, offset) = q.paging()?;
    let health: Vec<HealthLevel> = q
        .all("health")
        .into_iter()
        .map(|h| {
            h.parse::<HealthLevel>()
                .map_err(|e| ApiError::bad_request(e).with_field("health"))
        })
        .collect::<Result<_, _>>()?;
    let sort = q.get("sort").unwrap_or("name").to_string();
    let (desc, key) = match sort.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, sort.as_str()),
    };
    let sort = SortKey::parse(key).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown sort key {key:?}: use name, hostname, id, last_seen, last_contact, enrolled_at, health, state, assignee, cpu, mem or disk (prefix - for descending)"
        ))
        .with_field("sort")
    })?;
    let query = ListQuery {
        q: q.get("q").map(str::to_string),
        state: q.parse::<LifecycleState>("state")?,
        assignee: q
            .0
            .iter()
            .rev()
            .find(|(k, _)| k == "assignee")
            .map(|(_, v)| v.clone()),
        health,
        sort,
        desc,
        limit: i64::try_from(limit).unwrap_or(i64::MAX),
        offset: i64::try_from(offset).unwrap_or(i64::MAX),
    };
    let (now, clock) = clock_now(&state);
    let (rows, total) = state
        .store
        .run(move |c| fleet::page(c, &query, &clock).map_err(ApiError::from))
        .await?;
    let items: Vec<DeviceSummary> = rows
        .iter()
        .map(|r| {
            let mut s = fleet_summary_of(&state, r, now);
            s.cpu_recent = r.cpu_recent();
            s
        })
        .collect();
    let page = Page {
        items,
        total: u64::try_from(total).unwrap_or(0),
        offset,
        limit,
    };
    Ok(json(&page, StatusCode::OK))
}

/// Now, truncated to the millisecond like every stored time, and the SQL side's view of it.
fn clock_now(state: &AppState) -> (DateTime<Utc>, Clock) {
    let now_ms = crate::store::to_ms(Utc::now());
    (
        crate::store::from_ms(now_ms),
        Clock::new(
            now_ms,
            state.config.collection_interval_s,
            &state.config.health,
        ),
    )
}

async fn load_device(state: &State, id: i64) -> Result<DeviceRow, ApiError> {
    state
        .store
        .run(move |c| devices::find(c, id).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no device with id {id}")))
}

async fn detail_of(state: &State, row: DeviceRow) -> Result<DeviceDetail, ApiError> {
    let now = Utc::now();
    let id = row.id;
    let history = state
        .store
        .run(move |c| {
            samples::disk_history(c, id, now - Duration::days(FORECAST_DAYS), 2000)
                .map_err(ApiError::from)
        })
        .await?;
    let (summary, latest) = summary_of(state, &row, now);
    let forecasts = history
        .iter()
        .map(|(mount, points)| rt_core::forecast::disk_forecast(mount, points, now))
        .collect();
    let lc = row.lifecycle();
    Ok(DeviceDetail {
        summary,
        inventory: row.inventory(),
        notes: row.notes.clone(),
        latest,
        forecasts,
        collection_interval_s: state.config.collection_interval_s,
        allowed_transitions: lc.allowed_next(),
    })
}

pub async fn detail(state: State, _viewer: Caller, id: i64) -> Result<Response, ApiError> {
    let row = load_device(&state, id).await?;
    let d = detail_of(&state, row).await?;
    Ok(json(&d, StatusCode::OK))
}

/// `PATCH /devices/{id}` (admin; the patch was validated by the body filter, the store trims).
pub async fn patch(
    state: State,
    caller: Caller,
    id: i64,
    p: DevicePatch,
) -> Result<Response, ApiError> {
    let actor = caller.username.clone();
    let now = Utc::now();
    let result = state
        .store
        .run(move |c| devices::apply_patch(c, id, &p, &actor, now).map_err(ApiError::from))
        .await?;
    match result {
        Ok(row) => {
            tracing::info!(actor = %caller.username, device_id = id, "device updated");
            let d = detail_of(&state, row).await?;
            Ok(json(&d, StatusCode::OK))
        }
        Err(PatchError::NotFound) => Err(ApiError::not_found(format!("no device with id {id}"))),
        Err(PatchError::Transition(e)) => {
            let allowed = match &e {
                TransitionError::NotAllowed { from, .. } | TransitionError::Unchanged(from) => {
                    from.allowed_next()
                }
                TransitionError::FromRetired => Vec::new(),
            };
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            let hint = if names.is_empty() {
                String::new()
            } else {
                format!(" (allowed: {})", names.join(", "))
            };
            Err(ApiError::new(
                StatusCode::CONFLICT,
                codes::INVALID_TRANSITION,
                format!("{e}{hint}"),
            )
            .with_field("lifecycle_state"))
        }
    }
}

pub async fn metrics(
    state: State,
    _viewer: Caller,
    id: i64,
    q: Query,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let to = q.time("to")?.unwrap_or(now);
    let from = q.time("from")?.unwrap_or(to - Duration::hours(24));
    if from >= to {
        return Err(ApiError::bad_request("`from` must be before `to`").with_field("from"));
    }
    if to - from > Duration::days(MAX_METRICS_WINDOW_DAYS) {
        return Err(ApiError::bad_request(format!(
            "the window may be at most {MAX_METRICS_WINDOW_DAYS} days"
        ))
        .with_field("from"));
    }
    let resolution = q
        .parse::<Resolution>("resolution")?
        .unwrap_or_else(|| Resolution::for_window((to - from).num_seconds()));
    load_device(&state, id).await?;
    let (points, truncated) = state
        .store
        .run(move |c| {
            samples::metric_points(c, id, from, to, resolution, MAX_METRIC_POINTS)
                .map_err(ApiError::from)
        })
        .await?;
    Ok(json(
        &MetricsResponse {
            device_id: DeviceId(id),
            from,
            to,
            resolution,
            points,
            truncated,
        },
        StatusCode::OK,
    ))
}

pub async fn events(
    state: State,
    _viewer: Caller,
    id: i64,
    q: Query,
) -> Result<Response, ApiError> {
    let (limit, offset) = q.paging()?;
    let from = q.time("from")?;
    let to = q.time("to")?;
    load_device(&state, id).await?;
    let (rows, total) = state
        .store
        .run(move |c| {
            events::for_device(c, id, from, to, limit as i64, offset as i64).map_err(ApiError::from)
        })
        .await?;
    let items: Vec<DeviceEvent> = rows
        .iter()
        .map(events::EventRow::to_api)
        .collect::<Result<_, StoreError>>()
        .map_err(ApiError::from)?;
    Ok(json(
        &Page {
            items,
            total: total as u64,
            offset,
            limit,
        },
        StatusCode::OK,
    ))
}

/// `GET /fleet/summary`: one aggregate query ([`fleet::summary`]).
pub async fn fleet_summary(state: State, _viewer: Caller) -> Result<Response, ApiError> {
    let (now, clock) = clock_now(&state);
    let (groups, cuts) = state
        .store
        .run(move |c| Ok::<_, ApiError>((fleet::summary(c, &clock)?, retention::cuts(c)?)))
        .await?;
    let mut s = FleetSummary {
        generated_at: Some(now),
        retention_cut: cuts
            .into_iter()
            .map(|c| RetentionCut {
                tier: c.tier.as_str().to_string(),
                configured_days: c.configured_days,
                kept_days: c.kept_days,
                since: c.since,
            })
            .collect(),
        ..Default::default()
    };
    for h in HealthLevel::ALL {
        s.by_health.insert(h.as_str().to_string(), 0);
    }
    for l in LifecycleState::ALL {
        s.by_lifecycle.insert(l.as_str().to_string(), 0);
    }
    for g in groups {
        let level = fleet::level_of_rank(g.level).map_err(ApiError::from)?;
        let n = u64::try_from(g.devices).unwrap_or(0);
        let online = u64::try_from(g.online).unwrap_or(0);
        s.total += n;
        s.online += online;
        s.offline += n - online.min(n);
        *s.by_health.entry(level.as_str().to_string()).or_insert(0) += n;
        *s.by_lifecycle
            .entry(g.lifecycle_state.0.as_str().to_string())
            .or_insert(0) += n;
    }
    Ok(json(&s, StatusCode::OK))
}
