//! `/livez`, `/readyz`, `/metrics`.

use crate::api::error::ApiError;
use crate::api::{Caller, State};
use crate::metrics::Gauges;
use crate::store::{self, devices, retention};
use chrono::Utc;
use warp::Reply;
use warp::http::StatusCode;
use warp::reply::Response;

pub async fn livez() -> Result<Response, ApiError> {
    Ok(warp::reply::json(&serde_json::json!({"status": "ok"})).into_response())
}

/// Free bytes under the database below which the server reports itself not ready: a write
/// batch and its journal need room, and a load balancer should stop sending writes first.
pub const READY_MIN_FREE_BYTES: u64 = 2 * 1024 * 1024;

pub async fn readyz(state: State) -> Result<Response, ApiError> {
    if let Err(e) = state.store.run(store::ping).await {
        tracing::warn!(error = %e, "readiness check failed");
        return Err(ApiError::unavailable("the database does not answer"));
    }
    let dir = store::database_file(&state.config.database_url)
        .and_then(|f| f.parent().map(std::path::Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| state.config.data_dir.clone());
    if let Some(free) = store::free_bytes(&dir)
        && free < READY_MIN_FREE_BYTES
    {
        tracing::warn!(free, "not ready: the disk under the database is full");
        return Err(ApiError::storage_full());
    }
    Ok(warp::reply::json(&serde_json::json!({"status": "ready"})).into_response())
}

/// `_reader` is `None` when `metrics_public` (the route's filter decides).
pub async fn metrics(state: State, _reader: Option<Caller>) -> Result<Response, ApiError> {
    let interval = state.config.collection_interval_s;
    let offline_after_ms = state.config.health.offline_after_s(interval) * 1000;
    let policy = retention::Policy::from_config(&state.config.retention);
    let gauges = state
        .store
        .run(move |c| {
            let seen = devices::last_seen_all(c)?;
            let now = store::to_ms(Utc::now());
            let kept = retention::status(c, &policy)?;
            let mut cut = [false; 4];
            for k in &kept.cuts {
                cut[k.tier as usize] = true;
            }
            Ok::<_, store::StoreError>(Gauges {
                database_bytes: kept.used_bytes,
                database_cap_bytes: policy.max_bytes,
                retention_kept_days: kept.kept_days,
                retention_cut: cut,
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
