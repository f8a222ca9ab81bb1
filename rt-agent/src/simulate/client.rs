//! The simulator's HTTP side: the real `/enroll`, `/telemetry` (gzip JSON) and
//! `PATCH /devices/{id}` endpoints, with a few retries on 429, 5xx and network errors.

use flate2::Compression;
use flate2::write::GzEncoder;
use rt_core::api::{DevicePatch, EnrollRequest, EnrollResponse, TelemetryAck, TelemetryBatch};
use rt_core::{DeviceId, ErrorBody};
use std::io::Write;
use std::time::{Duration, Instant};

/// Why a request failed for good.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status (message from its JSON error body).
    #[error("{what}: HTTP {status}: {message}")]
    Status {
        what: &'static str,
        status: u16,
        message: String,
    },
    #[error("{what}: cannot reach the server: {detail}")]
    Network { what: &'static str, detail: String },
    #[error("{what}: unexpected response: {detail}")]
    Decode { what: &'static str, detail: String },
    #[error("cannot encode the request: {0}")]
    Encode(String),
}

/// Attempts per request (the first plus retries).
const ATTEMPTS: u32 = 5;

/// A small HTTP client bound to one server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub fn new(server: &str) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("rt-agent-simulate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| ClientError::Network {
                what: "client",
                detail: e.to_string(),
            })?;
        Ok(Client {
            http,
            base: server.trim_end_matches('/').to_string(),
        })
    }

    /// POST /api/v1/enroll.
    pub async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, ClientError> {
        let body = serde_json::to_vec(req).map_err(|e| ClientError::Encode(e.to_string()))?;
        let url = format!("{}/api/v1/enroll", self.base);
        let (resp, _) = self
            .send("enroll", || {
                self.http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
            })
            .await?;
        decode("enroll", resp).await
    }

    /// POST /api/v1/telemetry with a gzip body. Returns the ack and the latency of the
    /// successful attempt.
    pub async fn send_batch(
        &self,
        device_token: &str,
        batch: &TelemetryBatch,
    ) -> Result<(TelemetryAck, Duration), ClientError> {
        let json = serde_json::to_vec(batch).map_err(|e| ClientError::Encode(e.to_string()))?;
        let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 6), Compression::fast());
        gz.write_all(&json)
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        let body = gz
            .finish()
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        drop(json);
        let url = format!("{}/api/v1/telemetry", self.base);
        let (resp, latency) = self
            .send("telemetry", || {
                self.http
                    .post(&url)
                    .bearer_auth(device_token)
                    .header("content-type", "application/json")
                    .header("content-encoding", "gzip")
                    .body(body.clone())
            })
            .await?;
        Ok((decode("telemetry", resp).await?, latency))
    }

    /// PATCH /api/v1/devices/{id} with an admin token.
    pub async fn patch_device(
        &self,
        admin_token: &str,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<(), ClientError> {
        let body = serde_json::to_vec(patch).map_err(|e| ClientError::Encode(e.to_string()))?;
        let url = format!("{}/api/v1/devices/{id}", self.base);
        self.send("update device", || {
            self.http
                .patch(&url)
                .bearer_auth(admin_token)
                .header("content-type", "application/json")
                .body(body.clone())
        })
        .await?;
        Ok(())
    }

    /// Send with retries: 429 and 5xx (honouring Retry-After up to 30 s) and network errors are
    /// retried with exponential backoff; any other status is final.
    async fn send(
        &self,
        what: &'static str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::Response, Duration), ClientError> {
        let mut delay = Duration::from_millis(200);
        let mut last: Option<ClientError> = None;
        for attempt in 1..=ATTEMPTS {
            let started = Instant::now();
            match make().send().await {
                Ok(resp) if resp.status().is_success() => return Ok((resp, started.elapsed())),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(30)));
                    let err = status_error(what, resp).await;
                    let retryable = status.as_u16() == 429 || status.is_server_error();
                    if !retryable || attempt == ATTEMPTS {
                        return Err(err);
                    }
                    last = Some(err);
                    tokio::time::sleep(retry_after.unwrap_or(delay)).await;
                }
                Err(e) => {
                    let err = ClientError::Network {
                        what,
                        detail: error_chain(&e),
                    };
                    if attempt == ATTEMPTS {
                        return Err(err);
                    }
                    last = Some(err);
                    tokio::time::sleep(delay).await;
                }
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
        Err(last.unwrap_or(ClientError::Network {
            what,
            detail: "no attempt made".into(),
        }))
    }
}

async fn status_error(what: &'static str, resp: reqwest::Response) -> ClientError {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let message = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => b.error.to_string(),
        Err(_) => text.chars().take(200).collect(),
    };
    ClientError::Status {
        what,
        status,
        message,
    }
}

async fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    resp: reqwest::Response,
) -> Result<T, ClientError> {
    let bytes = resp.bytes().await.map_err(|e| ClientError::Network {
        what,
        detail: error_chain(&e),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
        what,
        detail: e.to_string(),
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}
