//! Alerts end to end against a real server on 127.0.0.1 with a real webhook receiver started by
//! the test: a disk crossing its threshold for the rule's `for` duration gives one firing alert,
//! one `alert_firing` event and one signed webhook; back under the clear level it resolves once;
//! a viewer may list but not acknowledge; an admin acknowledges and silences.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use rt_core::alert::api::{AlertInfo, AlertState};
use rt_core::api::{DeviceEvent, EnrollResponse, Page};
use rt_core::{Inventory, Role, Sample};
use rt_server::notify::{AlertsConfig, WebhookConfig, hmac_sha256};
use rt_server::testing::TestServer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const SECRET: &str = "webhook-secret-for-tests";

/// One request the receiver got: lower-cased headers and the body.
#[derive(Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 receiver: reads one request per connection, answers 200.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, headers) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let text = String::from_utf8_lossy(&buf[..p]).to_string();
                        let headers: Vec<(String, String)> = text
                            .lines()
                            .skip(1)
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                            .collect();
                        break (p + 4, headers);
                    }
                };
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = buf[head_end..].to_vec();
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                let _ = tx.send(Received { headers, body });
            });
        }
    });
    (url, rx)
}

/// A sample whose only fixed disk is `used_pct` full.
fn sample(seq: u64, minutes_ago: i64, used_pct: u64) -> Sample {
    let mut s = Sample::example(seq, Utc::now() - Duration::minutes(minutes_ago));
    let d = &mut s.disks[0];
    d.total_bytes = 100_000_000_000;
    d.available_bytes = (100 - used_pct) * 1_000_000_000;
    s
}

struct Fixture {
    server: TestServer,
    http: reqwest::Client,
    device_token: String,
    device_id: i64,
    hooks: mpsc::UnboundedReceiver<Received>,
}

impl Fixture {
    async fn start() -> Fixture {
        let (hook_url, hooks) = receiver().await;
        let temp = tempfile::tempdir().unwrap();
        let mut config = rt_server::Config::with_data_dir(temp.path());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.alerts = AlertsConfig {
            external_url: Some("https://rt.example.org".into()),
            webhooks: vec![WebhookConfig {
                name: "ops-webhook".into(),
                url: hook_url,
                secret: SECRET.into(),
            }],
            ..Default::default()
        };
        let server = TestServer::start_with(config).await.unwrap();
        // The temporary directory lives as long as the test process needs it.
        std::mem::forget(temp);
        let http = reqwest::Client::new();
        let token = server.enrollment_token().await.unwrap();
        let inv = Inventory {
            hostname: "nas-1".into(),
            os_name: "Debian GNU/Linux".into(),
            cpu_cores: 4,
            machine_id: Some("alerts-e2e-1".into()),
            ..Default::default()
        };
        let enrolled: EnrollResponse = http
            .post(format!("{}/api/v1/enroll", server.url))
            .json(&json!({"enrollment_token": token, "inventory": inv}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Fixture {
            server,
            http,
            device_token: enrolled.device_token,
            device_id: enrolled.device_id.0,
            hooks,
        }
    }

    async fn upload(&self, samples: &[Sample]) {
        let r = self
            .http
            .post(format!("{}/api/v1/telemetry", self.server.url))
            .bearer_auth(&self.device_token)
            .json(&json!({"agent_version": "0.1.0", "samples": samples}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    async fn alerts(&self, token: &str, query: &str) -> Vec<AlertInfo> {
        let r = self
            .http
            .get(format!("{}/api/v1/alerts?{query}", self.server.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        r.json::<Page<AlertInfo>>().await.unwrap().items
    }

    async fn alert_events(&self) -> Vec<DeviceEvent> {
        let page: Page<DeviceEvent> = self
            .http
            .get(format!(
                "{}/api/v1/devices/{}/events?limit=1000",
                self.server.url, self.device_id
            ))
            .bearer_auth(&self.server.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page.items
            .into_iter()
            .filter(|e| {
                e.kind.as_str().starts_with("alert_") && e.message.starts_with("disk_usage")
            })
            .collect()
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/{path}", self.server.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn next_hook(&mut self) -> Received {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.hooks.recv())
            .await
            .expect("a webhook within 10 s")
            .expect("the receiver is running")
    }

    /// No further webhook arrives within a second.
    async fn no_more_hooks(&mut self) {
        let r = tokio::time::timeout(std::time::Duration::from_secs(1), self.hooks.recv()).await;
        assert!(r.is_err(), "unexpected webhook: {r:?}");
    }
}

/// The receiver's side of the signature check.
fn verify(r: &Received) -> Value {
    let ts = r.header("x-rt-timestamp").expect("timestamp header");
    let sig = r.header("x-rt-signature").expect("signature header");
    let mut msg = ts.as_bytes().to_vec();
    msg.push(b'.');
    msg.extend_from_slice(&r.body);
    let expected = format!(
        "sha256={}",
        hex::encode(hmac_sha256(SECRET.as_bytes(), &msg))
    );
    assert_eq!(sig, expected, "signature must verify");
    let wrong = format!(
        "sha256={}",
        hex::encode(hmac_sha256(b"another secret", &msg))
    );
    assert_ne!(sig, wrong);
    assert!(r.header("x-rt-idempotency-key").is_some());
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn a_threshold_crossing_fires_once_notifies_signed_and_resolves_once() {
    let mut f = Fixture::start().await;
    let admin = f.server.admin_token.clone();
    let viewer = f.server.user_token("viewer1", Role::Viewer).await.unwrap();

    // 96 % full, first seen 9 minutes ago: pending (the rule wants 5 minutes).
    f.upload(&[sample(1, 9, 96)]).await;
    let open = f.alerts(&viewer, "rule=disk_usage").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].state, AlertState::Pending);
    assert!(f.alert_events().await.is_empty(), "pending writes no event");

    // Still 96 % six minutes later: firing, critical, one event, one webhook.
    f.upload(&[sample(2, 3, 96)]).await;
    let firing = f.alerts(&viewer, "state=firing&severity=critical").await;
    assert_eq!(firing.len(), 1, "{firing:?}");
    let alert = firing[0].clone();
    assert_eq!(alert.key, "disk_usage:/");
    assert_eq!(alert.device_id.0, f.device_id);
    assert_eq!(alert.value.map(f64::round), Some(96.0));
    assert!(!alert.late);
    let events = f.alert_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind.as_str(), "alert_firing");

    let hook = f.next_hook().await;
    let body = verify(&hook);
    assert_eq!(body["version"], "4");
    assert_eq!(body["status"], "firing");
    assert_eq!(body["receiver"], "ops-webhook");
    assert_eq!(body["alerts"][0]["labels"]["alertname"], "disk_usage");
    assert_eq!(body["alerts"][0]["labels"]["device"], "nas-1");
    assert_eq!(body["alerts"][0]["labels"]["severity"], "critical");
    assert_eq!(body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    let firing_key = hook.header("x-rt-idempotency-key").unwrap().to_string();

    // Still full: nothing new.
    f.upload(&[sample(3, 2, 97)]).await;
    assert_eq!(f.alert_events().await.len(), 1);
    assert_eq!(f.alerts(&viewer, "state=firing").await.len(), 1);

    // Filters are checked.
    let bad = f
        .http
        .get(format!("{}/api/v1/alerts?state=burning", f.server.url))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(f.alerts(&viewer, "severity=info").await.is_empty());
    assert!(f.alerts(&viewer, "device=999999").await.is_empty());

    // A viewer may not acknowledge: 403, and the alert is unchanged.
    let r = f
        .post(&viewer, &format!("alerts/{}/ack", alert.id), json!({}))
        .await;
    assert_eq!(r.status(), 403);
    let after = f.alerts(&viewer, "state=firing").await;
    assert_eq!(after[0].acknowledged_by, None);
    // No token at all: 401.
    let r = f
        .http
        .post(format!("{}/api/v1/alerts/{}/ack", f.server.url, alert.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The admin acknowledges (empty body allowed) and silences for 2 hours.
    let r = f
        .http
        .post(format!("{}/api/v1/alerts/{}/ack", f.server.url, alert.id))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let acked: AlertInfo = f
        .alerts(&viewer, "state=firing")
        .await
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(acked.acknowledged_by.as_deref(), Some("admin"));
    let r = f
        .post(
            &admin,
            &format!("alerts/{}/silence", alert.id),
            json!({"duration_s": 0}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = f
        .post(
            &admin,
            &format!("alerts/{}/silence", alert.id),
            json!({"duration_s": 7200, "comment": "cleanup scheduled"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let silenced: AlertInfo = r.json().await.unwrap();
    let until = silenced.silenced_until.unwrap();
    assert!(
        until > Utc::now() + Duration::minutes(119) && until < Utc::now() + Duration::minutes(121)
    );
    let r = f
        .post(
            &viewer,
            &format!("alerts/{}/silence", alert.id),
            json!({"duration_s": 60}),
        )
        .await;
    assert_eq!(r.status(), 403);

    // Back under the clear level: resolved once, one resolved webhook (the firing was notified,
    // so its resolve is too, silence or not).
    f.upload(&[sample(4, 1, 50)]).await;
    f.upload(&[sample(5, 0, 50)]).await;
    let all = f.alerts(&viewer, "rule=disk_usage").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].state, AlertState::Resolved);
    assert!(all[0].resolved_at.is_some());
    let kinds: Vec<String> = f
        .alert_events()
        .await
        .iter()
        .map(|e| e.kind.as_str().to_string())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "alert_firing").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "alert_resolved").count(),
        1,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"alert_acknowledged".to_string()));
    assert!(kinds.contains(&"alert_silenced".to_string()));

    let hook = f.next_hook().await;
    let body = verify(&hook);
    assert_eq!(body["status"], "resolved");
    assert_ne!(body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    assert_ne!(hook.header("x-rt-idempotency-key").unwrap(), firing_key);
    f.no_more_hooks().await;

    // A resolved alert cannot be acknowledged.
    let r = f
        .post(&admin, &format!("alerts/{}/ack", alert.id), json!({}))
        .await;
    assert_eq!(r.status(), 409);
    f.server.stop().await;
}
