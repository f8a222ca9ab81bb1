//! `GET /api/v1/export/{devices|samples|events}`: streamed from the database in keyset-paged
//! chunks on a blocking thread, through a small channel, so memory stays flat whatever the
//! size. Rows use rt-core's canonical export columns.
//!
//! A stalled reader cannot hold the server: exports run in bounded slots (per user and in
//! total, [`crate::api::gates`]), and a chunk the client does not take within
//! `export_write_timeout_s` ends the export (the response is cut off with an error, never
//! left looking complete), freeing its thread, database connection and slot.

use crate::api::error::ApiError;
use crate::api::handlers::devices::summary_of;
use crate::api::{AppState, Caller, Query, State};
use crate::store::{StoreError, devices, events, samples};
use bytes::Bytes;
use chrono::Utc;
use rt_core::DeviceId;
use rt_core::api::{ExportFormat, ExportKind};
use rt_core::export::{self, Cell};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use warp::Reply;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

/// Rows read from the database per query.
const CHUNK_ROWS: i64 = 1000;
/// Encoded chunks buffered between the database thread and the socket.
const CHANNEL_CHUNKS: usize = 4;

type Chunk = Result<Bytes, std::io::Error>;

/// Encodes rows of one export format into byte chunks.
struct Encoder {
    format: ExportFormat,
    columns: &'static [&'static str],
    rows_written: u64,
}

impl Encoder {
    fn header(&self) -> Result<Vec<u8>, StoreError> {
        match self.format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(self.columns)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                w.into_inner()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            }
            ExportFormat::Json => Ok(b"[".to_vec()),
            ExportFormat::Ndjson => Ok(Vec::new()),
        }
    }

    fn footer(&self) -> Vec<u8> {
        match self.format {
            ExportFormat::Json => b"]\n".to_vec(),
            _ => Vec::new(),
        }
    }

    fn json_row(&self, cells: &[Cell], out: &mut Vec<u8>) {
        // Keys in column order (serde_json's Map would sort them).
        out.push(b'{');
        for (i, col) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(serde_json::Value::from(*col).to_string().as_bytes());
            out.push(b':');
            let v = cells.get(i).map_or(serde_json::Value::Null, Cell::to_json);
            out.extend_from_slice(v.to_string().as_bytes());
        }
        out.push(b'}');
    }

    fn rows(&mut self, rows: &[Vec<Cell>]) -> Result<Vec<u8>, StoreError> {
        match self.format {
            ExportFormat::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::with_capacity(rows.len() * 200));
                for r in rows {
                    w.write_record(export::csv_fields(r).iter().map(|c| c.as_ref()))
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                }
                self.rows_written += rows.len() as u64;
                w.into_inner()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            }
            ExportFormat::Json => {
                let mut out = Vec::with_capacity(rows.len() * 400);
                for r in rows {
                    if self.rows_written > 0 {
                        out.push(b',');
                    }
                    out.push(b'\n');
                    self.json_row(r, &mut out);
                    self.rows_written += 1;
                }
                Ok(out)
            }
            ExportFormat::Ndjson => {
                let mut out = Vec::with_capacity(rows.len() * 400);
                for r in rows {
                    self.json_row(r, &mut out);
                    out.push(b'\n');
                    self.rows_written += 1;
                }
                Ok(out)
            }
        }
    }
}

/// What to export, parsed from the query.
#[derive(Debug, Clone)]
struct Request {
    kind: ExportKind,
    format: ExportFormat,
    from: Option<chrono::DateTime<Utc>>,
    to: Option<chrono::DateTime<Utc>>,
    devices: Vec<i64>,
}

/// The way from the database thread to the response body.
struct Sink {
    tx: mpsc::Sender<Chunk>,
    write_timeout: Duration,
    rt: tokio::runtime::Handle,
    /// Set when the reader stalled: the body then ends with an error, not as if complete.
    stalled: Arc<AtomicBool>,
}

/// Send one encoded chunk; false when the client went away or did not take it in time.
fn send(sink: &Sink, bytes: Vec<u8>) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let sent = sink.rt.block_on(
        sink.tx
            .send_timeout(Ok(Bytes::from(bytes)), sink.write_timeout),
    );
    match sent {
        Ok(()) => true,
        Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
            sink.stalled.store(true, Ordering::Relaxed);
            tracing::info!("export reader stalled; export cut off");
            false
        }
        Err(mpsc::error::SendTimeoutError::Closed(_)) => false,
    }
}

fn produce(
    state: &AppState,
    conn: &mut diesel::sqlite::SqliteConnection,
    req: &Request,
    tx: &Sink,
) -> Result<(), StoreError> {
    let mut enc = Encoder {
        format: req.format,
        columns: export::columns(req.kind),
        rows_written: 0,
    };
    if !send(tx, enc.header()?) {
        return Ok(());
    }
    let mut after = 0i64;
    match req.kind {
        ExportKind::Devices => loop {
            let rows = devices::export_chunk(conn, after, &req.devices, CHUNK_ROWS)?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let now = Utc::now();
            let cells: Vec<Vec<Cell>> = rows
                .iter()
                .map(|r| export::device_cells(&summary_of(state, r, now).0))
                .collect();
            if !send(tx, enc.rows(&cells)?) {
                return Ok(());
            }
        },
        ExportKind::Samples => {
            let names: HashMap<i64, String> = devices::all_names(conn)?.into_iter().collect();
            let mut key: samples::ExportKey = (0, 0);
            loop {
                let rows =
                    samples::export_chunk(conn, key, &req.devices, req.from, req.to, CHUNK_ROWS)?;
                let Some(last) = rows.last() else { break };
                key = (last.0, last.1.seq as i64);
                let mut cells = Vec::with_capacity(rows.len());
                for (device_id, s) in &rows {
                    let name = names.get(device_id).map_or("", String::as_str);
                    cells.push(export::sample_cells(DeviceId(*device_id), name, s));
                }
                if !send(tx, enc.rows(&cells)?) {
                    return Ok(());
                }
            }
        }
        ExportKind::Events => loop {
            let rows =
                events::export_chunk(conn, after, &req.devices, req.from, req.to, CHUNK_ROWS)?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let mut cells = Vec::with_capacity(rows.len());
            for r in &rows {
                cells.push(export::event_cells(&r.to_api()?));
            }
            if !send(tx, enc.rows(&cells)?) {
                return Ok(());
            }
        },
    }
    send(tx, enc.footer());
    Ok(())
}

pub async fn export(
    state: State,
    caller: Caller,
    what: String,
    q: Query,
) -> Result<Response, ApiError> {
    let kind: ExportKind = what.parse().map_err(|e: String| ApiError::not_found(e))?;
    let format = q
        .parse::<ExportFormat>("format")?
        .unwrap_or(ExportFormat::Csv);
    let devices = q
        .all("device")
        .into_iter()
        .map(|d| {
            d.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("`device` must be a device id, got {d:?}"))
                    .with_field("device")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let req = Request {
        kind,
        format,
        from: q.time("from")?,
        to: q.time("to")?,
        devices,
    };
    if let (Some(f), Some(t)) = (req.from, req.to)
        && f >= t
    {
        return Err(ApiError::bad_request("`from` must be before `to`").with_field("from"));
    }
    let slot = state.gates.export_slot(caller.user_id)?;
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let stalled = Arc::new(AtomicBool::new(false));
    let sink = Sink {
        tx: tx.clone(),
        write_timeout: Duration::from_secs(state.config.limits.export_write_timeout_s.max(1)),
        rt: tokio::runtime::Handle::current(),
        stalled: stalled.clone(),
    };
    let st = Arc::clone(&state);
    let store = state.store.clone();
    tokio::spawn(async move {
        let tx2 = tx;
        let res = store
            .run(move |c| {
                let _slot = slot;
                let r = produce(&st, c, &req, &sink);
                Ok::<_, StoreError>(r)
            })
            .await;
        let err = match res {
            Ok(Ok(())) => None,
            Ok(Err(e)) | Err(e) => Some(e),
        };
        if let Some(e) = err {
            tracing::error!(error = %e, "export failed midway; the response is cut off");
            // An error item aborts the HTTP body, so the client sees a failed transfer and not
            // a silently incomplete file.
            let _ = tx2.send(Err(std::io::Error::other("export failed"))).await;
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| match rx.poll_recv(cx) {
        std::task::Poll::Ready(None) if stalled.load(Ordering::Relaxed) => {
            std::task::Poll::Ready(Some(Err(std::io::Error::other("export reader stalled"))))
        }
        other => other,
    });
    let filename = format!(
        "{}-{}.{}",
        kind.as_str(),
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        format.as_str()
    );
    let mut resp = warp::reply::stream(stream).into_response();
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert("content-disposition", v);
    }
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    Ok(resp)
}
