//! Background fetcher: each request runs as a tokio task with a deadline and sends its result
//! back over a channel, so the UI thread never waits on the network. De-duplication (at most
//! one pending request per kind) is the state's job ([`super::state::App::request`]).

use super::alerts::{AlertOp, AlertScope};
use super::state::{FleetPage, Request, Response};
use crate::client::{Client, ClientError, DeviceQuery};
use rt_core::alert::api::{AckRequest, AlertInfo, SilenceRequest};
use std::sync::mpsc::Sender;
use std::time::Duration;

/// How long one background request may take before the UI calls the server unreachable.
pub const DEADLINE: Duration = Duration::from_secs(8);

pub struct Fetcher {
    client: Client,
    handle: tokio::runtime::Handle,
    tx: Sender<Response>,
}

fn timeout_error(client: &Client) -> ClientError {
    ClientError::Network {
        url: client.base().to_string(),
        detail: format!("no answer within {}s", DEADLINE.as_secs()),
    }
}

async fn bounded<T>(
    client: &Client,
    f: impl Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    tokio::time::timeout(DEADLINE, f)
        .await
        .unwrap_or_else(|_| Err(timeout_error(client)))
}

impl Fetcher {
    pub fn new(client: Client, handle: tokio::runtime::Handle, tx: Sender<Response>) -> Fetcher {
        Fetcher { client, handle, tx }
    }

    pub fn send(&self, req: Request) {
        let c = self.client.clone();
        let tx = self.tx.clone();
        self.handle.spawn(async move {
            let resp = match req {
                Request::Fleet => {
                    fleet_pages(&c, &tx).await;
                    return;
                }
                Request::Detail(id) => Response::Detail(id, bounded(&c, c.device(id)).await),
                Request::Metrics(id, w) => {
                    let to = chrono::Utc::now();
                    let from = to - chrono::Duration::seconds(w.seconds());
                    Response::Metrics(
                        id,
                        w,
                        bounded(&c, c.metrics(id, from, to, w.resolution())).await,
                    )
                }
                Request::Events(id) => Response::Events(id, bounded(&c, c.events(id, 50)).await),
                Request::Patch(action) => {
                    let r = bounded(&c, c.patch_device(action.id, &action.patch)).await;
                    Response::Patched(action, r)
                }
                Request::Export(path, rows) => {
                    let p = path.clone();
                    let r = tokio::task::spawn_blocking(move || write_csv(&p, &rows))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                    Response::Exported(path, r)
                }
                Request::Alerts(scope) => {
                    Response::Alerts(scope, bounded(&c, scope_alerts(&c, scope)).await)
                }
                Request::DeviceAlerts(id) => {
                    let q = [("state", "firing".to_string()), ("device", id.to_string())];
                    Response::DeviceAlerts(id, bounded(&c, c.all_alerts(&q)).await)
                }
                Request::Alert(action) => {
                    let r = match action.op {
                        AlertOp::Ack => {
                            bounded(&c, c.ack_alert(action.id, &AckRequest::default())).await
                        }
                        AlertOp::Silence { secs } => {
                            let req = SilenceRequest {
                                duration_s: secs,
                                comment: None,
                            };
                            bounded(&c, c.silence_alert(action.id, &req)).await
                        }
                    };
                    Response::AlertActed(action, r)
                }
                // Local; the run loop handles it before it gets here.
                Request::SaveViews(_) => return,
            };
            // The UI may have quit; nothing to do then.
            let _ = tx.send(resp);
        });
    }
}

/// The alerts of `scope`: every open one, and for `all` the newest resolved ones too.
async fn scope_alerts(c: &Client, scope: AlertScope) -> Result<Vec<AlertInfo>, ClientError> {
    let mut out = Vec::new();
    for q in scope.queries() {
        match q.limit {
            None => out.extend(c.all_alerts(&q.filters).await?),
            Some(n) => out.extend(c.alerts_page(&q.filters, 0, n).await?.items),
        }
    }
    Ok(out)
}

/// Rows of the first page: enough for the tallest screen, small enough to arrive at once.
pub const FIRST_PAGE: u64 = 100;
/// Rows of each later page.
pub const PAGE: u64 = 1000;

/// Loads the fleet page by page, sending each page as it arrives so that the first screen is
/// drawn before the rest is in. The first page asks the server for the devices that need a
/// person (critical, warning, offline), so the triage order's top is right from the first
/// frame; then the whole fleet follows by name in pages. Each page has its own deadline.
async fn fleet_pages(c: &Client, tx: &Sender<Response>) {
    let send = |r| {
        let _ = tx.send(Response::FleetPage(r));
    };
    let attention = DeviceQuery {
        health: Some("critical,warning,offline".into()),
        ..Default::default()
    };
    // The summary is a nicety (the header counts from the summary while loading); ask for it
    // alongside the first page.
    let (first, summary) = tokio::join!(
        bounded(c, c.devices_page(&attention, 0, FIRST_PAGE)),
        bounded(c, c.fleet_summary())
    );
    let summary = summary.ok();
    let total = match (&first, &summary) {
        (Ok(_), Some(s)) => s.total,
        (Ok(p), None) => p.total,
        (Err(_), _) => 0,
    };
    match first {
        Ok(p) => send(Ok(FleetPage {
            // Shown at once; the full load below replaces it.
            items: p.items,
            total,
            last: false,
            summary: summary.clone(),
        })),
        Err(e) => return send(Err(e)),
    }
    let all = DeviceQuery::default();
    let mut offset = 0u64;
    let mut pages = Vec::new();
    loop {
        match bounded(c, c.devices_page(&all, offset, PAGE)).await {
            Ok(p) => {
                let got = p.items.len() as u64;
                offset += got;
                let last = got == 0 || offset >= p.total;
                pages.push(p.items);
                if last {
                    send(Ok(FleetPage {
                        items: pages.into_iter().flatten().collect(),
                        total: offset,
                        last: true,
                        summary,
                    }));
                    return;
                }
            }
            Err(e) => return send(Err(e)),
        }
    }
}

/// Writes device rows as CSV with the canonical export columns (the same as `rt-tui export`).
fn write_csv(
    path: &std::path::Path,
    rows: &[rt_core::api::DeviceSummary],
) -> Result<usize, String> {
    use rt_core::api::ExportKind;
    use rt_core::export::{columns, csv_fields, device_cells};
    let mut w = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    w.write_record(columns(ExportKind::Devices))
        .map_err(|e| e.to_string())?;
    for d in rows {
        let cells = device_cells(d);
        w.write_record(csv_fields(&cells).iter().map(|f| f.as_ref()))
            .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())?;
    Ok(rows.len())
}
