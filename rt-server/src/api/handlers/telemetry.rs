//! `POST /api/v1/telemetry`: authenticate the device, decode (gzip) within limits, validate each
//! sample, hand the valid ones to the writer, answer with exactly what is stored.

use crate::api::error::ApiError;
use crate::api::{State, json, read_body, require_device};
use crate::store::samples::PreparedSample;
use bytes::{Buf, Bytes};
use chrono::Utc;
use futures_util::Stream;
use rt_core::Sample;
use rt_core::api::{RejectedSample, TelemetryAck};
use rt_core::error::codes;
use rt_core::validate::Validate;
use std::io::Read;
use std::sync::atomic::Ordering;
use warp::http::StatusCode;
use warp::reply::Response;

/// The batch envelope with samples still as JSON values, so that one malformed sample is
/// rejected alone instead of failing the whole batch.
#[derive(serde::Deserialize)]
struct RawBatch {
    agent_version: String,
    samples: Vec<serde_json::Value>,
}

/// Validated, ready-to-store content of one request.
#[derive(Debug)]
struct Decoded {
    prepared: Vec<PreparedSample>,
    rejected: Vec<RejectedSample>,
}

fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(body).take(limit as u64 + 1);
    reader.read_to_end(&mut out).map_err(|e| {
        ApiError::bad_request(format!("the gzip body could not be decompressed: {e}"))
    })?;
    if out.len() > limit {
        return Err(ApiError::too_large(format!(
            "decompressed body exceeds the limit of {limit} bytes"
        )));
    }
    Ok(out)
}

fn decode(
    body: &[u8],
    gzip: bool,
    max_decompressed: usize,
    max_samples: usize,
) -> Result<Decoded, ApiError> {
    let plain;
    let bytes: &[u8] = if gzip {
        plain = decompress(body, max_decompressed)?;
        &plain
    } else {
        if body.len() > max_decompressed {
            return Err(ApiError::too_large(format!(
                "body exceeds the limit of {max_decompressed} bytes"
            )));
        }
        body
    };
    let raw: RawBatch = crate::api::parse_json(bytes)?;
    if raw.samples.len() > max_samples {
        return Err(ApiError::too_large(format!(
            "a batch may hold at most {max_samples} samples (got {}); split it",
            raw.samples.len()
        ))
        .with_field("samples"));
    }
    let v = raw.agent_version.trim();
    if v.is_empty() || v.chars().count() > rt_core::validate::limits::MAX_STRING_LEN {
        return Err(ApiError::validation(
            "agent_version must be 1 to 256 characters",
            "agent_version",
        ));
    }
    let now = Utc::now();
    let mut prepared = Vec::with_capacity(raw.samples.len());
    let mut rejected = Vec::new();
    for (i, value) in raw.samples.into_iter().enumerate() {
        let seq = value.get("seq").and_then(serde_json::Value::as_u64);
        let sample: Sample = match serde_json::from_value(value) {
            Ok(s) => s,
            Err(e) => match seq {
                Some(seq) => {
                    rejected.push(RejectedSample {
                        seq,
                        reason: format!("sample is malformed: {e}"),
                    });
                    continue;
                }
                None => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        codes::INVALID_JSON,
                        format!(
                            "samples[{i}] has no valid `seq`; the batch cannot be acknowledged"
                        ),
                    )
                    .with_field(format!("samples[{i}].seq")));
                }
            },
        };
        let problems = sample.validate(now);
        if !problems.is_empty() {
            let reasons: Vec<String> = problems.iter().take(5).map(ToString::to_string).collect();
            rejected.push(RejectedSample {
                seq: sample.seq,
                reason: reasons.join("; "),
            });
            continue;
        }
        match PreparedSample::from_sample(&sample) {
            Some(p) => prepared.push(p),
            None => rejected.push(RejectedSample {
                seq: sample.seq,
                reason: "seq is out of range (must be at most 9223372036854775807)".into(),
            }),
        }
    }
    Ok(Decoded { prepared, rejected })
}

pub async fn ingest<S, B>(
    state: State,
    authz: Option<String>,
    encoding: Option<String>,
    body: S,
) -> Result<Response, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf,
{
    let device_id = require_device(&state, authz.as_deref()).await?;
    let gzip = match encoding.as_deref().map(|e| e.trim().to_ascii_lowercase()) {
        None => false,
        Some(e) if e.is_empty() || e == "identity" => false,
        Some(e) if e == "gzip" || e == "x-gzip" => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Encoding {other:?} is not supported; send gzip or plain JSON"),
            ));
        }
    };
    let limits = state.config.limits;
    let body: Bytes = read_body(body, limits.max_body_bytes).await?;
    let decoded = tokio::task::spawn_blocking(move || {
        decode(
            &body,
            gzip,
            limits.max_decompressed_bytes,
            limits.max_samples_per_batch,
        )
    })
    .await
    .map_err(|_| ApiError::internal())??;
    state
        .metrics
        .samples_rejected
        .fetch_add(decoded.rejected.len() as u64, Ordering::Relaxed);
    let outcome = if decoded.prepared.is_empty() {
        Default::default()
    } else {
        state.writer.ingest(device_id, decoded.prepared).await?
    };
    let ack = TelemetryAck::ranges_from(
        outcome
            .accepted
            .iter()
            .chain(&outcome.duplicates)
            .chain(&outcome.conflicts)
            .copied(),
    );
    if !outcome.conflicts.is_empty() {
        tracing::warn!(
            device_id,
            conflicts = outcome.conflicts.len(),
            "telemetry conflicts"
        );
    }
    // Sequence continuity (DESIGN §4): the agent numbers new samples above this.
    let max_seq = state
        .store
        .run(move |c| crate::store::devices::max_seq(c, device_id).map_err(ApiError::from))
        .await?;
    Ok(json(
        &TelemetryAck {
            accepted: outcome.accepted.len() as u64,
            duplicates: outcome.duplicates.len() as u64,
            conflicts: outcome.conflicts.len() as u64,
            rejected: decoded.rejected,
            ack,
            conflicted: TelemetryAck::ranges_from(outcome.conflicts.iter().copied()),
            max_seq,
        },
        StatusCode::OK,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_bomb_is_refused_without_inflating_it_all() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&zeros).unwrap();
        let small = enc.finish().unwrap();
        assert!(small.len() < 64 * 1024);
        let err = decompress(&small, 1024 * 1024).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn one_malformed_sample_is_rejected_alone() {
        let now = Utc::now();
        let good = serde_json::to_value(Sample::example(1, now)).unwrap();
        let body = serde_json::json!({
            "agent_version": "0.1.0",
            "samples": [good, {"seq": 2, "cpu": "hot"}],
        });
        let d = decode(body.to_string().as_bytes(), false, 1 << 20, 1000).unwrap();
        assert_eq!(d.prepared.len(), 1);
        assert_eq!(d.rejected.len(), 1);
        assert_eq!(d.rejected[0].seq, 2);
        assert!(d.rejected[0].reason.contains("malformed"));
    }
}
