//! `POST /api/v1/telemetry`: authenticate the device, decode (gzip) within limits, validate each
//! sample, hand the valid ones to the writer, answer with exactly what is stored.
//!
//! Memory per request is bounded: the body as sent is capped and its bytes are reserved from a
//! server-wide in-flight budget before it is read; it is then inflated and parsed as a stream
//! (the decompressed size and each sample's size are checked while inflating), a sample at a
//! time, and at most [`crate::api::gates::DECODE_SLOTS`] batches decode at once.

use crate::api::error::ApiError;
use crate::api::{BodyChunks, BodyLimit, DeviceCaller, State, json, read_body_reserving};
use crate::store::samples::PreparedSample;
use bytes::Buf;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use rt_core::Sample;
use rt_core::api::{RejectedSample, TelemetryAck};
use rt_core::error::codes;
use rt_core::validate::Validate;
use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use std::borrow::Cow;
use std::cell::Cell;
use std::io::Read;
use std::sync::atomic::Ordering;
use std::time::Duration;
use warp::http::StatusCode;
use warp::reply::Response;

/// Validated, ready-to-store content of one request.
#[derive(Debug, Default)]
struct Decoded {
    prepared: Vec<PreparedSample>,
    rejected: Vec<RejectedSample>,
}

/// Which limit a body crossed while it was being read (carried through serde as an I/O error).
#[derive(Debug, thiserror::Error)]
enum Limit {
    #[error("the decompressed body exceeds the limit of {0} bytes")]
    Decompressed(usize),
    #[error("a single sample exceeds the limit of {0} bytes")]
    Sample(usize),
}

/// Byte position shared between the reader and the batch visitor: the visitor marks where a
/// sample starts, the reader refuses to go further than the caps allow.
#[derive(Debug, Default)]
struct Position {
    read: Cell<usize>,
    sample_start: Cell<Option<usize>>,
}

/// Counts the (decompressed) bytes handed to the JSON parser and fails the read as soon as the
/// whole body or the current sample is over its cap, so an oversized body is refused while it
/// is being inflated, never after.
struct CappedReader<'p, R> {
    inner: R,
    pos: &'p Position,
    max_total: usize,
    max_sample: usize,
}

impl<R: Read> Read for CappedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = self.pos.read.get() + n;
        self.pos.read.set(read);
        if read > self.max_total {
            return Err(std::io::Error::other(Limit::Decompressed(self.max_total)));
        }
        if let Some(start) = self.pos.sample_start.get()
            && read.saturating_sub(start) > self.max_sample + READ_BUFFER
        {
            return Err(std::io::Error::other(Limit::Sample(self.max_sample)));
        }
        Ok(n)
    }
}

/// Read-ahead of the parser; a sample may exceed its cap by at most this before it is refused.
const READ_BUFFER: usize = 8 * 1024;

/// Caps applied while decoding one batch.
#[derive(Debug, Clone, Copy)]
struct Caps {
    max_decompressed: usize,
    max_sample: usize,
    max_samples: usize,
}

/// Visits the batch object field by field, and the `samples` array one element at a time:
/// each sample is parsed, validated and turned into its compact stored form before the next
/// is read, so memory holds one raw sample plus the prepared ones, never the whole batch as a
/// tree. A sample that does not parse is rejected alone (when its `seq` is readable).
struct BatchSeed<'a> {
    pos: &'a Position,
    caps: Caps,
    now: DateTime<Utc>,
    out: &'a mut Decoded,
    agent_version: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for BatchSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BatchSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object {\"agent_version\", \"samples\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen_samples = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "agent_version" => *self.agent_version = Some(map.next_value()?),
                "samples" => {
                    map.next_value_seed(SamplesSeed {
                        pos: self.pos,
                        caps: self.caps,
                        now: self.now,
                        out: &mut *self.out,
                    })?;
                    seen_samples = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen_samples {
            return Err(A::Error::missing_field("samples"));
        }
        Ok(())
    }
}

struct SamplesSeed<'a> {
    pos: &'a Position,
    caps: Caps,
    now: DateTime<Utc>,
    out: &'a mut Decoded,
}

impl<'de> DeserializeSeed<'de> for SamplesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SamplesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of samples")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            self.pos.sample_start.set(Some(self.pos.read.get()));
            // One sample as a value tree: bounded by the per-sample cap the reader enforces.
            let Some(value) = seq.next_element::<serde_json::Value>()? else {
                break;
            };
            self.pos.sample_start.set(None);
            if i == self.caps.max_samples {
                return Err(A::Error::custom(TooManySamples(self.caps.max_samples)));
            }
            accept_one(value, i, self.now, self.out).map_err(A::Error::custom)?;
            i += 1;
        }
        self.pos.sample_start.set(None);
        Ok(())
    }
}

/// Marker message for "too many samples" (told apart from syntax errors by its text prefix).
#[derive(Debug)]
struct TooManySamples(usize);

impl std::fmt::Display for TooManySamples {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{TOO_MANY_PREFIX}{}", self.0)
    }
}

const TOO_MANY_PREFIX: &str = "too many samples; the limit is ";
const NO_SEQ_PREFIX: &str = "no valid seq at samples index ";

/// Parse, validate and prepare one sample, or record why it is rejected. Err only when the
/// sample has no readable `seq` (then the batch cannot be acknowledged).
fn accept_one(
    value: serde_json::Value,
    i: usize,
    now: DateTime<Utc>,
    out: &mut Decoded,
) -> Result<(), String> {
    let seq = value.get("seq").and_then(serde_json::Value::as_u64);
    let mut sample: Sample = match serde_json::from_value(value) {
        Ok(s) => s,
        Err(e) => match seq {
            Some(seq) => {
                out.rejected.push(RejectedSample {
                    seq,
                    reason: format!("sample is malformed: {e}"),
                });
                return Ok(());
            }
            None => return Err(format!("{NO_SEQ_PREFIX}{i}")),
        },
    };
    // Machine-reported text: unsafe characters neutralised, not refused (rt_core::text).
    sample.neutralise();
    let problems = sample.validate(now);
    if !problems.is_empty() {
        let reasons: Vec<String> = problems.iter().take(5).map(ToString::to_string).collect();
        out.rejected.push(RejectedSample {
            seq: sample.seq,
            reason: reasons.join("; "),
        });
        return Ok(());
    }
    match PreparedSample::from_sample(&sample) {
        Some(p) => out.prepared.push(p),
        None => out.rejected.push(RejectedSample {
            seq: sample.seq,
            reason: "seq is out of range (must be at most 9223372036854775807)".into(),
        }),
    }
    Ok(())
}

/// Decode one telemetry body (gzip or plain JSON) as a stream, within `caps`.
fn decode(body: &BodyChunks, gzip: bool, caps: Caps) -> Result<Decoded, ApiError> {
    if body.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_JSON,
            "the request body is empty; a JSON object is expected",
        ));
    }
    let pos = Position::default();
    let source: Box<dyn Read + '_> = if gzip {
        Box::new(flate2::read::GzDecoder::new(body.reader()))
    } else {
        Box::new(body.reader())
    };
    let reader = std::io::BufReader::with_capacity(
        READ_BUFFER,
        CappedReader {
            inner: source,
            pos: &pos,
            max_total: caps.max_decompressed,
            max_sample: caps.max_sample,
        },
    );
    let mut out = Decoded::default();
    let mut agent_version = None;
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed = BatchSeed {
        pos: &pos,
        caps,
        now: Utc::now(),
        out: &mut out,
        agent_version: &mut agent_version,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Err(e) = parsed {
        return Err(decode_error(e, gzip));
    }
    let v = agent_version.as_deref().map(str::trim).unwrap_or_default();
    if v.is_empty() || v.chars().count() > rt_core::validate::limits::MAX_STRING_LEN {
        return Err(ApiError::validation(
            "agent_version must be 1 to 256 characters",
            "agent_version",
        ));
    }
    Ok(out)
}

/// The request path of one telemetry body without storage (inflate, parse, validate, prepare
/// the compact rows and hashes), within the default limits: the parse-only baseline of the ingest
/// benchmark (`examples/bench_parse_only.rs`). Returns (prepared, rejected) sample counts.
pub fn decode_only(body: &[u8], gzip: bool) -> Result<(usize, usize), String> {
    let limits = crate::config::Limits::default();
    let mut chunks = BodyChunks::default();
    chunks.push(bytes::Bytes::copy_from_slice(body));
    let caps = Caps {
        max_decompressed: limits.max_decompressed_bytes,
        max_sample: limits.max_sample_bytes,
        max_samples: limits.max_samples_per_batch,
    };
    decode(&chunks, gzip, caps)
        .map(|d| (d.prepared.len(), d.rejected.len()))
        .map_err(|e| format!("{e:?}"))
}

/// The answer for a body that could not be decoded: 413 naming the limit it crossed, 400
/// otherwise (with serde's description, which names the position).
fn decode_error(e: serde_json::Error, gzip: bool) -> ApiError {
    if e.is_io() {
        let io = std::io::Error::from(e);
        if let Some(limit) = io.get_ref().and_then(|i| i.downcast_ref::<Limit>()) {
            let field = match limit {
                Limit::Decompressed(_) => None,
                Limit::Sample(_) => Some("samples"),
            };
            let err = ApiError::too_large(format!("{limit}; split the batch"));
            return match field {
                Some(f) => err.with_field(f),
                None => err,
            };
        }
        let what = if gzip { "gzip body" } else { "body" };
        return ApiError::bad_request(format!("the {what} could not be read: {io}"));
    }
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix(TOO_MANY_PREFIX) {
        let n = rest.split_whitespace().next().unwrap_or_default();
        return ApiError::too_large(format!("a batch may hold at most {n} samples; split it"))
            .with_field("samples");
    }
    if let Some(rest) = msg.strip_prefix(NO_SEQ_PREFIX) {
        let i = rest.split_whitespace().next().unwrap_or_default();
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_JSON,
            format!("samples[{i}] has no valid `seq`; the batch cannot be acknowledged"),
        )
        .with_field(format!("samples[{i}].seq"));
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::INVALID_JSON,
        format!("request body is not valid: {msg}"),
    )
}

pub async fn ingest<S, B>(
    state: State,
    device: DeviceCaller,
    encoding: Option<String>,
    body: S,
) -> Result<Response, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf,
{
    let device_id = device.device_id;
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
    let mut reservation = state.gates.body_reservation().await?;
    let body = read_body_reserving(
        body,
        BodyLimit {
            max_bytes: limits.max_body_bytes,
            timeout: Duration::from_secs(limits.body_timeout_s),
        },
        |total| reservation.grow_to(total),
    )
    .await?;
    let caps = Caps {
        max_decompressed: limits.max_decompressed_bytes,
        max_sample: limits.max_sample_bytes,
        max_samples: limits.max_samples_per_batch,
    };
    let slot = state.gates.decode_slot().await?;
    let decoded = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        decode(&body, gzip, caps)
    })
    .await
    .map_err(|_| ApiError::internal())??;
    drop(reservation);
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

    fn caps() -> Caps {
        Caps {
            max_decompressed: 1024 * 1024,
            max_sample: 64 * 1024,
            max_samples: 1000,
        }
    }

    /// The body in uneven chunks (1, 7, 4096 bytes and the rest), as a connection may deliver it.
    fn chunks(bytes: &[u8]) -> BodyChunks {
        let mut b = BodyChunks::default();
        let mut rest = bytes;
        for n in [1usize, 0, 7, 4096] {
            let (first, tail) = rest.split_at(n.min(rest.len()));
            b.push(bytes::Bytes::copy_from_slice(first));
            rest = tail;
        }
        b.push(bytes::Bytes::copy_from_slice(rest));
        assert_eq!(b.len(), bytes.len());
        b
    }

    #[test]
    fn chunks_read_back_as_the_whole_body() {
        let body: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut back = Vec::new();
        chunks(&body).reader().read_to_end(&mut back).unwrap();
        assert_eq!(back, body);
        assert_eq!(chunks(&body).into_contiguous(), body);
        assert!(chunks(b"").is_empty());
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_bomb_is_refused_while_inflating() {
        let mut body = vec![b' '; 4 * 1024 * 1024];
        body.extend_from_slice(br#"{"agent_version":"1","samples":[]}"#);
        let small = gzip(&body);
        assert!(small.len() < 64 * 1024);
        let err = decode(&chunks(&small), true, caps()).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            err.body.error.message.contains("decompressed"),
            "{}",
            err.body.error.message
        );
    }

    #[test]
    fn an_oversized_sample_is_refused_before_it_is_held() {
        let mut body = br#"{"agent_version":"1","samples":[{"seq":1,"x":["#.to_vec();
        for _ in 0..100_000 {
            body.extend_from_slice(b"0,");
        }
        body.extend_from_slice(b"0]}]}");
        let err = decode(&chunks(&body), false, caps()).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(err.body.error.field.as_deref(), Some("samples"));
    }

    #[test]
    fn too_many_samples_and_missing_seq_are_named() {
        let now = Utc::now();
        let samples: Vec<_> = (1..=3).map(|i| Sample::example(i, now)).collect();
        let body = serde_json::json!({"agent_version": "1", "samples": samples}).to_string();
        let c = Caps {
            max_samples: 2,
            ..caps()
        };
        let err = decode(&chunks(body.as_bytes()), false, c).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        let body = r#"{"agent_version":"1","samples":[{"cpu":1}]}"#;
        let err = decode(&chunks(body.as_bytes()), false, caps()).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(err.body.error.field.as_deref(), Some("samples[0].seq"));
        let err = decode(&chunks(br#"{"agent_version":"1"}"#), false, caps()).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        let err = decode(&chunks(br#"{"samples":[]}"#), false, caps()).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_gzip_batch_decodes_whatever_the_key_order() {
        let now = Utc::now();
        let samples: Vec<_> = (1..=3).map(|i| Sample::example(i, now)).collect();
        let body =
            serde_json::json!({"samples": samples, "extra": {"a": [1]}, "agent_version": "1"});
        let d = decode(&chunks(&gzip(body.to_string().as_bytes())), true, caps()).unwrap();
        assert_eq!(d.prepared.len(), 3);
        assert!(d.rejected.is_empty());
    }

    #[test]
    fn one_malformed_sample_is_rejected_alone() {
        let now = Utc::now();
        let good = serde_json::to_value(Sample::example(1, now)).unwrap();
        let body = serde_json::json!({
            "agent_version": "0.1.0",
            "samples": [good, {"seq": 2, "cpu": "hot"}],
        });
        let d = decode(&chunks(body.to_string().as_bytes()), false, caps()).unwrap();
        assert_eq!(d.prepared.len(), 1);
        assert_eq!(d.rejected.len(), 1);
        assert_eq!(d.rejected[0].seq, 2);
        assert!(d.rejected[0].reason.contains("malformed"));
    }
}
