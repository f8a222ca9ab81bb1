//! Background fetcher: each request runs as a tokio task with a deadline and sends its result
//! back over a channel, so the UI thread never waits on the network. De-duplication (at most
//! one pending request per kind) is the state's job ([`super::state::App::request`]).

use super::state::{Request, Response};
use crate::client::{Client, ClientError, DeviceQuery};
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
                    let r = bounded(&c, async {
                        let devices = c.all_devices(&DeviceQuery::default()).await?;
                        // The summary is a nicety: the header falls back to counting devices.
                        let summary = c.fleet_summary().await.ok();
                        Ok((devices, summary))
                    })
                    .await;
                    Response::Fleet(r)
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
            };
            // The UI may have quit; nothing to do then.
            let _ = tx.send(resp);
        });
    }
}
