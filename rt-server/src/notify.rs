//! Alert notifications: webhooks with an Alertmanager-compatible (webhook format version 4)
//! JSON payload, signed with HMAC-SHA256, retried with exponential backoff and jitter.
//!
//! The ingest writer and the alert job hand committed transitions ([`Notice`]s) to
//! [`Notifier::send`], which never waits: the queue is bounded ([`QUEUE_LEN`] batches) and a
//! full queue drops the batch with a warning rather than slow ingest down. One task drains the
//! queue and delivers each notice to every configured webhook, at most [`MAX_IN_FLIGHT`]
//! deliveries at once. Delivery is at-least-once per process (a receiver deduplicates with
//! `X-RT-Idempotency-Key`); a notice still queued or retrying when the server stops is lost.

use crate::store::alerts::Notice;
use chrono::{DateTime, Utc};
use rand::Rng;
use rt_core::alert::TransitionKind;
use rt_core::alert::api::AlertInfo;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

/// Batches of notices waiting for the notifier task.
pub const QUEUE_LEN: usize = 1024;
/// Webhook requests in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;
/// Attempts per webhook request (the first and up to 5 retries).
pub const MAX_ATTEMPTS: u32 = 6;
/// Backoff before the first retry; doubled each time, plus up to 50 % jitter.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Seconds one webhook request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The `[alerts]` section of the configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Rule thresholds (docs/alerts.md); every field optional.
    pub rules: rt_core::alert::AlertRules,
    /// The server's public URL, for `externalURL` and `generatorURL` in payloads.
    pub external_url: Option<String>,
    /// Webhook receivers (`[[alerts.webhooks]]`).
    pub webhooks: Vec<WebhookConfig>,
}

/// One webhook receiver.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Shown as `receiver` in the payload.
    pub name: String,
    pub url: String,
    /// HMAC-SHA256 key of the `X-RT-Signature` header.
    pub secret: String,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &"<set>")
            .finish()
    }
}

/// Hands notices to the notifier task. Cheap to clone; a no-op when no webhook is configured.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    tx: Option<mpsc::Sender<Vec<Notice>>>,
}

impl Notifier {
    /// Starts the notifier task (on the current tokio runtime) when `config` has webhooks.
    pub fn start(config: &AlertsConfig) -> Notifier {
        if config.webhooks.is_empty() {
            return Notifier { tx: None };
        }
        let (tx, rx) = mpsc::channel(QUEUE_LEN);
        let hooks = Arc::new(config.webhooks.clone());
        let external = config.external_url.clone().unwrap_or_default();
        tokio::spawn(run(rx, hooks, external));
        Notifier { tx: Some(tx) }
    }

    /// Queues notices without waiting; drops them (logged) when the queue is full.
    pub fn send(&self, notices: Vec<Notice>) {
        if notices.is_empty() {
            return;
        }
        let Some(tx) = &self.tx else {
            return;
        };
        if let Err(e) = tx.try_send(notices) {
            let n = match &e {
                mpsc::error::TrySendError::Full(v) | mpsc::error::TrySendError::Closed(v) => {
                    v.len()
                }
            };
            tracing::warn!(
                notices = n,
                "notification queue full or closed; notices dropped"
            );
        }
    }
}

async fn run(
    mut rx: mpsc::Receiver<Vec<Notice>>,
    hooks: Arc<Vec<WebhookConfig>>,
    external: String,
) {
    // reqwest has no provider of its own (root Cargo.toml); the server's is aws-lc-rs, as for
    // its listener. Err: one is installed already (a test process's client), which serves too.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; notifications off");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    while let Some(batch) = rx.recv().await {
        for notice in batch {
            for hook in hooks.iter() {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let body = payload(&notice, &hook.name, &external).to_string();
                let key = idempotency_key(&notice);
                let client = client.clone();
                let hook = hook.clone();
                tokio::spawn(async move {
                    deliver(&client, &hook, &body, &key).await;
                    drop(permit);
                });
            }
        }
    }
}

/// Posts one payload, retrying network errors, 429 and 5xx with exponential backoff.
async fn deliver(client: &reqwest::Client, hook: &WebhookConfig, body: &str, key: &str) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=MAX_ATTEMPTS {
        let ts = Utc::now().timestamp().to_string();
        let sig = signature(hook.secret.as_bytes(), &ts, body.as_bytes());
        let r = client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-rt-timestamp", &ts)
            .header("x-rt-signature", format!("sha256={sig}"))
            .header("x-rt-idempotency-key", key)
            .body(body.to_string())
            .send()
            .await;
        let retry = match r {
            Ok(resp) if resp.status().is_success() => return,
            Ok(resp) => {
                let s = resp.status();
                tracing::warn!(receiver = %hook.name, status = s.as_u16(), attempt, "webhook refused");
                s.is_server_error() || s == reqwest::StatusCode::TOO_MANY_REQUESTS
            }
            Err(e) => {
                tracing::warn!(receiver = %hook.name, error = %e, attempt, "webhook failed");
                true
            }
        };
        if !retry || attempt == MAX_ATTEMPTS {
            tracing::error!(receiver = %hook.name, key, "webhook notification given up");
            return;
        }
        let jitter = rand::rng().random_range(0..=backoff.as_millis() as u64 / 2);
        tokio::time::sleep(backoff + Duration::from_millis(jitter)).await;
        backoff = backoff.saturating_mul(2);
    }
}

/// `X-RT-Idempotency-Key`: the alert, the transition and its sample time (one per transition).
pub fn idempotency_key(n: &Notice) -> String {
    let at = match n.kind {
        TransitionKind::Resolved => n.alert.resolved_at.unwrap_or(n.alert.since),
        _ => n.alert.since,
    };
    format!(
        "alert-{}-{}-{}",
        n.alert.id,
        serde_json::to_value(n.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        at.timestamp_millis()
    )
}

/// Hex HMAC-SHA256 (RFC 2104) keyed with `secret` of `timestamp "." body`.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut msg = Vec::with_capacity(timestamp.len() + 1 + body.len());
    msg.extend_from_slice(timestamp.as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    hex::encode(hmac_sha256(secret, &msg))
}

/// HMAC-SHA256 over `sha2` (block size 64).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The Alertmanager webhook (version 4) payload of one transition, one alert per message.
pub fn payload(n: &Notice, receiver: &str, external_url: &str) -> Value {
    let a: &AlertInfo = &n.alert;
    let resolved = n.kind == TransitionKind::Resolved;
    let status = if resolved { "resolved" } else { "firing" };
    let device = a.device_name.as_str();
    let mut labels = json!({
        "alertname": a.rule,
        "device": device,
        "device_id": a.device_id.0.to_string(),
        "subject": a.subject,
        "severity": a.severity.as_str(),
        "late": a.late.to_string(),
        "transition": serde_json::to_value(n.kind).unwrap_or(Value::Null),
    });
    if let (Some(assignee), Some(obj)) = (&n.assignee, labels.as_object_mut()) {
        obj.insert("assignee".into(), Value::String(assignee.clone()));
    }
    let mut annotations = json!({ "summary": a.summary });
    if let (Some(f), Some(obj)) = (&a.forecast, annotations.as_object_mut()) {
        obj.insert(
            "forecast".into(),
            Value::String(format!(
                "around {} ({})",
                f.crosses_at.format("%Y-%m-%d"),
                f.confidence()
            )),
        );
    }
    let ends_at = match (resolved, a.resolved_at) {
        (true, Some(t)) => rfc3339(t),
        _ => "0001-01-01T00:00:00Z".to_string(),
    };
    let ext = external_url.trim_end_matches('/');
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{device=\"{device}\"}}"),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": {"device": device},
        "commonLabels": {"device": device, "severity": a.severity.as_str()},
        "commonAnnotations": {},
        "externalURL": ext,
        "alerts": [{
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "startsAt": rfc3339(a.since),
            "endsAt": ends_at,
            "generatorURL": format!("{ext}/devices/{}", a.device_id.0),
            "fingerprint": format!("{}@{}", a.key, a.device_id.0),
        }],
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
