//! `/api/v1/alerts`: the stored alert episodes (any user), ack and silence (admin). Callers
//! arrive authenticated with their role checked, bodies validated (see `api::filters`).

use crate::api::error::ApiError;
use crate::api::{Caller, Query, State, json};
use crate::store::alerts::{self, AlertFilter, Change};
use chrono::{Duration, Utc};
use rt_core::alert::api::{AckRequest, AlertState, SilenceRequest, parse_severity};
use rt_core::alert::{RuleId, Severity};
use rt_core::api::Page;
use rt_core::error::codes;
use warp::http::StatusCode;
use warp::reply::Response;

/// `GET /api/v1/alerts?state=firing,pending&severity=critical&device=ID&rule=NAME&limit&offset`.
pub async fn list(state: State, _viewer: Caller, q: Query) -> Result<Response, ApiError> {
    let (limit, offset) = q.paging()?;
    let states = q
        .all("state")
        .into_iter()
        .map(|s| {
            AlertState::parse(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "query parameter `state` must be pending, firing or resolved, got {s:?}"
                ))
                .with_field("state")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let severities: Vec<Severity> = q
        .all("severity")
        .into_iter()
        .map(|s| {
            parse_severity(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "query parameter `severity` must be info, warning or critical, got {s:?}"
                ))
                .with_field("severity")
            })
        })
        .collect::<Result<_, _>>()?;
    let rule = match q.get("rule") {
        None => None,
        Some(r) => Some(
            RuleId::parse(r)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("query parameter `rule`: unknown rule {r:?}"))
                        .with_field("rule")
                })?
                .as_str()
                .to_string(),
        ),
    };
    let filter = AlertFilter {
        states,
        severities,
        device_id: q.parse::<i64>("device")?,
        rule,
    };
    let (items, total) = state
        .store
        .run(move |c| alerts::list(c, &filter, limit as i64, offset as i64).map_err(ApiError::from))
        .await?;
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

fn answer(change: Change, id: i64) -> Result<Response, ApiError> {
    match change {
        Change::Done(a) => Ok(json(&*a, StatusCode::OK)),
        Change::NotFound => Err(ApiError::not_found(format!("alert {id} not found"))),
        Change::Resolved => Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::CONFLICT,
            format!("alert {id} is resolved; only open alerts can be acknowledged or silenced"),
        )),
    }
}

/// `POST /api/v1/alerts/{id}/ack` (admin).
pub async fn ack(
    state: State,
    admin: Caller,
    id: i64,
    req: AckRequest,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let change = state
        .store
        .run(move |c| {
            alerts::acknowledge(c, id, &admin.username, req.comment.as_deref(), now)
                .map_err(ApiError::from)
        })
        .await?;
    answer(change, id)
}

/// `POST /api/v1/alerts/{id}/silence` (admin): no notifications for `duration_s` seconds.
pub async fn silence(
    state: State,
    admin: Caller,
    id: i64,
    req: SilenceRequest,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    // Validated to at most 90 days, so the conversion cannot fail.
    let secs = i64::try_from(req.duration_s).unwrap_or(i64::MAX / 1000);
    let until = now + Duration::seconds(secs);
    let change = state
        .store
        .run(move |c| {
            alerts::silence(c, id, &admin.username, until, req.comment.as_deref(), now)
                .map_err(ApiError::from)
        })
        .await?;
    answer(change, id)
}
