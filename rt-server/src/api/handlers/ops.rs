//! `/livez`, `/readyz`, `/metrics`.

use crate::api::error::ApiError;
use crate::api::{Caller, State};
use crate::metrics::Gauges;
use crate::store::{self, devices};
use chrono::Utc;
use warp::Reply;
use warp::http::StatusCode;
use warp::reply::Response;

pub async fn livez() -> Result<Response, ApiError> {
    Ok(warp::reply::json(&serde_json::json!({"status": "ok"})).into_response())
}

pub async fn readyz(state: State) -> Result<Response, ApiError> {
    match state.store.run(store::ping).await {
        Ok(()) => Ok(warp::reply::json(&serde_json::json!({"status": "ready"})).into_response()),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::unavailable("the database does not answer"))
        }
    }
}

/// `_reader` is `None` when `metrics_public` (the route's filter decides).
pub async fn metrics(state: State, _reader: Option<Caller>) -> Result<Response, ApiError> {
    let interval = state.config.collection_interval_s;
    let offline_after_ms = state.config.health.offline_after_s(interval) * 1000;
    let gauges = state
        .store
        .run(move |c| {
            let seen = devices::last_seen_all(c)?;
            let now = store::to_ms(Utc::now());
            Ok::<_, store::StoreError>(Gauges {
                devices_total: seen.len() as u64,
                devices_online: seen
                    .iter()
                    .filter(|s| s.is_some_and(|t| now - t <= offline_after_ms))
                    .count() as u64,
            })
        })
        .await
        .map_err(ApiError::from)?;
    let text = state.metrics.render(gauges);
    Ok(warp::reply::with_status(
        warp::reply::with_header(
            text,
            "content-type",
            "text/plain; version=0.0.4; charset=utf-8",
        ),
        StatusCode::OK,
    )
    .into_response())
}
