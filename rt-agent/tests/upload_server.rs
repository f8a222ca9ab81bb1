//! The uploader against a real rt-server on a loopback port, directly and through a
//! fault-injecting TCP proxy written here (500, 429 + Retry-After, connection dropped after the
//! server answered, answer delayed past the client's timeout, a captive portal's HTML 4xx).
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use rt_agent::enroll::{EnrollAuth, Server, enroll_async};
use rt_agent::queue::{Queue, QueueConfig, read_quarantine};
use rt_agent::state::StateDir;
use rt_agent::upload::{SyncOptions, SyncOutcome, UploadConfig, UploadState, Uploader, sync_once};
use rt_client::credstore::{Secret, StoreKind};
use rt_core::{Inventory, Sample};
use rt_server::testing::TestServer;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Agent {
    _dir: tempfile::TempDir,
    sd: StateDir,
    device_id: i64,
    token: Secret,
    inventory: Inventory,
}

fn inventory(tag: &str) -> Inventory {
    Inventory {
        hostname: format!("test-{tag}"),
        os_name: "Linux".into(),
        machine_id: Some(format!("{:032x}", rand::random::<u128>())),
        cpu_cores: 2,
        memory_total_bytes: 8 << 30,
        ..Default::default()
    }
}

async fn enroll(server: &TestServer, inv: Inventory) -> Agent {
    enroll_with(server, inv, false).await
}

/// Enrolls with a fresh enrollment token; `allow_reenroll` lets it re-enroll known hardware.
async fn enroll_with(server: &TestServer, inv: Inventory, allow_reenroll: bool) -> Agent {
    let dir = tempfile::tempdir().unwrap();
    let sd = StateDir::new(dir.path().join("state"));
    let token = server.enrollment_token_with(allow_reenroll).await.unwrap();
    let resp = enroll_async(
        &Server::new(&server.url),
        EnrollAuth::Token(Secret::new(token)),
        inv.clone(),
        Some(inv.hostname.clone()),
        None,
        None,
        StoreKind::File,
        &sd,
    )
    .await
    .unwrap();
    Agent {
        _dir: dir,
        sd,
        device_id: resp.device_id.0,
        token: Secret::new(resp.device_token),
        inventory: inv,
    }
}

fn open_queue(a: &Agent) -> Queue {
    Queue::open(&a.sd.queue_dir(), QueueConfig::default()).unwrap()
}

/// Appends `n` valid samples (the shape of a real collection, without waiting for CPU deltas).
fn queue_samples(q: &mut Queue, n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let mut s = Sample::example(
                0,
                Utc::now() - chrono::Duration::seconds(60 - i as i64 % 60),
            );
            q.append_sample(&mut s).unwrap()
        })
        .collect()
}

fn uploader(url: &str, a: &Agent, timeout: Duration) -> Uploader {
    Uploader::new(
        url,
        a.token.clone(),
        UploadConfig {
            timeout,
            connect_timeout: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .unwrap()
}

const NOW: SyncOptions = SyncOptions {
    ignore_backoff: true,
    ignore_auth_failure: false,
};

/// Seqs the server stored for a device, from the NDJSON export (duplicates kept, to catch them).
async fn stored_seqs(server: &TestServer, device_id: i64) -> Vec<u64> {
    let body = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/export/samples?format=ndjson&device={device_id}",
            server.url
        ))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut v: Vec<u64> = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    v.sort_unstable();
    v
}

#[tokio::test]
async fn live_collections_drain_to_the_server() {
    let server = TestServer::start().await.unwrap();
    let a = enroll(&server, inventory("drain")).await;
    let mut q = open_queue(&a);
    // Two real collections from this machine, then a few more samples.
    let mut c = rt_agent::collect::Collector::new().unwrap();
    rt_agent::agent::collect_into_queue(&a.sd, &mut c, &mut q).unwrap();
    std::thread::sleep(sysinfo_min_interval());
    rt_agent::agent::collect_into_queue(&a.sd, &mut c, &mut q).unwrap();
    queue_samples(&mut q, 3);
    let up = uploader(&server.url, &a, Duration::from_secs(10));
    let rep = sync_once(&a.sd, &mut q, &up, SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(rep.outcome, SyncOutcome::Drained);
    assert_eq!((rep.acked, rep.remaining, rep.quarantined), (5, 0, 0));
    assert!(q.is_empty());
    assert_eq!(stored_seqs(&server, a.device_id).await, vec![1, 2, 3, 4, 5]);
    // The device detail shows the newest sample.
    let detail: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/devices/{}", server.url, a.device_id))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["latest"]["seq"], 5);
    let st = UploadState::load(&a.sd).unwrap();
    assert!(st.last_success_at.is_some());
    assert_eq!(st.server_reachable, Some(true));
    assert_eq!(st.uploaded_total, 5);
    server.stop().await;
}

fn sysinfo_min_interval() -> Duration {
    Duration::from_millis(250)
}

#[tokio::test]
async fn a_backlog_from_while_the_server_was_down_arrives_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data.path(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = server.addr;
    let a = enroll(&server, inventory("offline")).await;
    let mut q = open_queue(&a);
    queue_samples(&mut q, 1);
    let up = uploader(&server.url, &a, Duration::from_secs(10));
    sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    server.stop().await;

    let seqs = queue_samples(&mut q, 100);
    assert_eq!(seqs, (2..=101).collect::<Vec<_>>());
    let rep = sync_once(&a.sd, &mut q, &up, SyncOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(rep.outcome, SyncOutcome::BackingOff { .. }),
        "{rep:?}"
    );
    assert_eq!(q.len(), 100, "nothing leaves the queue without an ack");
    let st = UploadState::load(&a.sd).unwrap();
    assert_eq!(st.server_reachable, Some(false));
    assert_eq!(st.consecutive_failures, 1);
    assert!(st.backing_off(Utc::now()), "backoff is persisted");
    // A scheduled attempt respects the backoff without touching the network.
    let rep = sync_once(&a.sd, &mut q, &up, SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(rep.batches, 0);

    let server = TestServer::start_in(data.path(), addr).await.unwrap();
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert_eq!(rep.outcome, SyncOutcome::Drained);
    assert_eq!(rep.acked, 100);
    assert_eq!(
        stored_seqs(&server, a.device_id).await,
        (1..=101).collect::<Vec<_>>()
    );
    let st = UploadState::load(&a.sd).unwrap();
    assert_eq!(st.consecutive_failures, 0);
    assert!(!st.backing_off(Utc::now()));
    server.stop().await;
}

// ------------------------------------------------------------------------ fault proxy

#[derive(Debug, Clone, PartialEq)]
enum Fault {
    Pass,
    Status500,
    TooMany {
        retry_after_s: u64,
    },
    /// Forward, let the server commit and answer, then close without answering.
    DropAfterForward,
    /// Forward, hold the server's answer this long, then send it.
    Delay(Duration),
    /// Answer this status with an HTML page, as a captive portal or a proxy does.
    Portal(u16),
}

struct Proxy {
    url: String,
    fault: Arc<Mutex<Fault>>,
    forwarded: Arc<Mutex<u32>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let fault = Arc::new(Mutex::new(Fault::Pass));
        let forwarded = Arc::new(Mutex::new(0));
        let (f, n) = (fault.clone(), forwarded.clone());
        tokio::spawn(async move {
            while let Ok((c, _)) = l.accept().await {
                let mode = f.lock().unwrap().clone();
                let n = n.clone();
                tokio::spawn(async move {
                    let _ = handle(c, upstream, mode, n).await;
                });
            }
        });
        Proxy {
            url,
            fault,
            forwarded,
        }
    }

    fn set(&self, f: Fault) {
        *self.fault.lock().unwrap() = f;
    }
}

/// Reads one HTTP/1.1 request (headers + Content-Length body).
async fn read_request(c: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    loop {
        let n = c.read(&mut tmp).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = c.read(&mut tmp).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            return Ok(buf);
        }
    }
}

async fn handle(
    mut c: TcpStream,
    upstream: SocketAddr,
    mode: Fault,
    forwarded: Arc<Mutex<u32>>,
) -> std::io::Result<()> {
    let req = read_request(&mut c).await?;
    let canned = |status: &str, extra: &str| {
        let body = r#"{"error":{"code":"injected","message":"injected fault"}}"#;
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
            body.len()
        )
    };
    match mode {
        Fault::Status500 => {
            return c
                .write_all(canned("500 Internal Server Error", "").as_bytes())
                .await;
        }
        Fault::TooMany { retry_after_s } => {
            let extra = format!("retry-after: {retry_after_s}\r\n");
            return c
                .write_all(canned("429 Too Many Requests", &extra).as_bytes())
                .await;
        }
        Fault::Portal(code) => {
            let body = "<html><body>Please sign in to the hotel Wi-Fi</body></html>";
            let resp = format!(
                "HTTP/1.1 {code} Portal\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            return c.write_all(resp.as_bytes()).await;
        }
        _ => {}
    }
    // Ask the server to close after answering, so its answer ends at EOF.
    let pos = req.windows(2).position(|w| w == b"\r\n").unwrap_or(0);
    let mut fwd = req[..pos + 2].to_vec();
    fwd.extend_from_slice(b"connection: close\r\n");
    fwd.extend_from_slice(&req[pos + 2..]);
    let mut s = TcpStream::connect(upstream).await?;
    s.write_all(&fwd).await?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await?;
    *forwarded.lock().unwrap() += 1;
    match mode {
        Fault::DropAfterForward => Ok(()), // the client sees the connection close mid-request
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            c.write_all(&resp).await
        }
        _ => c.write_all(&resp).await,
    }
}

#[tokio::test]
async fn faults_between_agent_and_server_never_lose_or_double_a_sample() {
    let server = TestServer::start().await.unwrap();
    let proxy = Proxy::start(server.addr).await;
    let a = enroll(&server, inventory("faults")).await;
    let mut q = open_queue(&a);
    let up = uploader(&proxy.url, &a, Duration::from_millis(1500));
    queue_samples(&mut q, 5);

    // 500: back off, keep everything.
    proxy.set(Fault::Status500);
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert!(
        matches!(&rep.outcome, SyncOutcome::BackingOff { reason, .. } if reason.contains("server error")),
        "{rep:?}"
    );
    assert_eq!(q.len(), 5);
    assert_eq!(UploadState::load(&a.sd).unwrap().consecutive_failures, 1);

    // 429 with Retry-After: wait exactly what the server asked, not the exponential backoff.
    proxy.set(Fault::TooMany { retry_after_s: 7 });
    let before = Utc::now();
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    let SyncOutcome::BackingOff { until, .. } = rep.outcome else {
        panic!("429 must back off: {rep:?}")
    };
    let wait = (until - before).num_milliseconds();
    assert!(
        (6_000..=9_000).contains(&wait),
        "Retry-After 7 s honoured, got {wait} ms"
    );
    assert_eq!(q.len(), 5);
    assert!(stored_seqs(&server, a.device_id).await.is_empty());

    // The server stores the batch but the answer is lost: the agent keeps the samples...
    proxy.set(Fault::DropAfterForward);
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert!(
        matches!(rep.outcome, SyncOutcome::BackingOff { .. }),
        "{rep:?}"
    );
    assert_eq!(q.len(), 5);
    assert_eq!(stored_seqs(&server, a.device_id).await, vec![1, 2, 3, 4, 5]);
    // ...and the resend is acknowledged as duplicates, not stored twice.
    proxy.set(Fault::Pass);
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert_eq!(rep.outcome, SyncOutcome::Drained);
    assert_eq!(rep.acked, 5);
    assert_eq!(stored_seqs(&server, a.device_id).await, vec![1, 2, 3, 4, 5]);

    // The answer arrives after the client's timeout: same story.
    queue_samples(&mut q, 2);
    proxy.set(Fault::Delay(Duration::from_millis(3000)));
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert!(
        matches!(&rep.outcome, SyncOutcome::BackingOff { reason, .. } if reason.contains("timed out")),
        "{rep:?}"
    );
    assert_eq!(q.len(), 2);
    proxy.set(Fault::Pass);
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert_eq!(rep.outcome, SyncOutcome::Drained);
    assert_eq!(
        stored_seqs(&server, a.device_id).await,
        (1..=7).collect::<Vec<_>>()
    );
    assert!(*proxy.forwarded.lock().unwrap() >= 4);
    server.stop().await;
}

#[tokio::test]
async fn a_portals_or_proxys_401_403_400_are_transient_and_lose_nothing() {
    let server = TestServer::start().await.unwrap();
    let proxy = Proxy::start(server.addr).await;
    let a = enroll(&server, inventory("portal")).await;
    let mut q = open_queue(&a);
    let up = uploader(&proxy.url, &a, Duration::from_secs(10));
    queue_samples(&mut q, 3);
    for (i, code) in [401u16, 403, 400, 422, 413].into_iter().enumerate() {
        proxy.set(Fault::Portal(code));
        let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
        assert!(
            matches!(&rep.outcome, SyncOutcome::BackingOff { reason, .. } if reason.contains("proxy")),
            "HTTP {code} from a portal is a transient failure: {rep:?}"
        );
        assert_eq!(rep.quarantined, 0, "HTTP {code}");
        let st = UploadState::load(&a.sd).unwrap();
        assert_eq!(st.auth_failure, None, "HTTP {code} must not stop the agent");
        assert_eq!(
            st.consecutive_failures,
            i as u32 + 1,
            "HTTP {code}: backs off"
        );
        assert_eq!(q.len(), 3, "HTTP {code}: everything kept");
    }
    assert!(read_quarantine(&a.sd.quarantine_path()).is_empty());
    assert!(stored_seqs(&server, a.device_id).await.is_empty());
    // The portal goes away: everything arrives, once.
    proxy.set(Fault::Pass);
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert_eq!(rep.outcome, SyncOutcome::Drained, "{rep:?}");
    assert_eq!(stored_seqs(&server, a.device_id).await, vec![1, 2, 3]);
    server.stop().await;
}

#[tokio::test]
async fn a_sample_the_server_rejects_is_quarantined_with_its_reason() {
    let server = TestServer::start().await.unwrap();
    let a = enroll(&server, inventory("reject")).await;
    let mut q = open_queue(&a);
    queue_samples(&mut q, 2);
    let mut bad = Sample::example(0, Utc::now());
    bad.cpu.usage_pct = 250.0;
    let bad_seq = q.append_sample(&mut bad).unwrap();
    queue_samples(&mut q, 2);
    let up = uploader(&server.url, &a, Duration::from_secs(10));
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert_eq!(rep.outcome, SyncOutcome::Drained);
    assert_eq!((rep.acked, rep.quarantined), (4, 1));
    assert!(q.is_empty(), "never retried forever");
    let quarantined = read_quarantine(&a.sd.quarantine_path());
    assert_eq!(quarantined.len(), 1, "never silently deleted");
    assert_eq!(quarantined[0].seq, bad_seq);
    assert!(
        quarantined[0].reason.contains("usage_pct"),
        "{}",
        quarantined[0].reason
    );
    assert_eq!(quarantined[0].sample["cpu"]["usage_pct"], 250.0);
    assert_eq!(q.stats().quarantined_total, 1);
    // Never silent: `rt-agent status` lists it as needing attention, with the reason.
    let st = rt_agent::commands::status::gather(&a.sd, Utc::now());
    assert!(
        st.attention
            .iter()
            .any(|a| a.contains("1 sample(s) quarantined") && a.contains("usage_pct")),
        "{:?}",
        st.attention
    );
    let stored: BTreeSet<u64> = stored_seqs(&server, a.device_id)
        .await
        .into_iter()
        .collect();
    assert_eq!(stored, [1, 2, 4, 5].into_iter().collect());
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_collection_is_quarantined_before_it_is_queued() {
    let server = TestServer::start().await.unwrap();
    let a = enroll(&server, inventory("invalid")).await;
    let mut q = open_queue(&a);
    // Machine text with control characters is neutralised, then queued.
    let mut odd = Sample::example(0, Utc::now());
    odd.disks[0].mount_point = "/mnt/\u{1b}[2Jx".into();
    let queued = rt_agent::agent::queue_collected(&a.sd, &mut q, odd).unwrap();
    assert_eq!(queued.seq, 1);
    assert_eq!(queued.disks[0].mount_point, "/mnt/\u{fffd}[2Jx");
    // A sample the server would refuse never enters the queue; it is quarantined with the
    // problem, `status` says so, and the call fails.
    let mut bad = Sample::example(0, Utc::now());
    bad.cpu.usage_pct = f64::NAN;
    let err = rt_agent::agent::queue_collected(&a.sd, &mut q, bad).unwrap_err();
    assert!(err.is::<rt_agent::agent::SampleRefused>(), "{err:#}");
    assert_eq!(q.len(), 1, "only the valid sample is queued");
    let quarantined = read_quarantine(&a.sd.quarantine_path());
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].reason.contains("usage_pct"),
        "{}",
        quarantined[0].reason
    );
    let st = rt_agent::commands::status::gather(&a.sd, Utc::now());
    assert!(
        st.attention.iter().any(|a| a.contains("quarantined")),
        "{:?}",
        st.attention
    );
    // The next valid collection gets the next seq; the queue drains.
    let next =
        rt_agent::agent::queue_collected(&a.sd, &mut q, Sample::example(0, Utc::now())).unwrap();
    assert_eq!(next.seq, 2);
    let up = uploader(&server.url, &a, Duration::from_secs(10));
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert_eq!(rep.outcome, SyncOutcome::Drained, "{rep:?}");
    assert_eq!(stored_seqs(&server, a.device_id).await, vec![1, 2]);
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_token_stops_uploads_and_keeps_the_data() {
    let server = TestServer::start().await.unwrap();
    let a = enroll(&server, inventory("revoked")).await;
    let mut q = open_queue(&a);
    queue_samples(&mut q, 3);
    // The same hardware enrolls again elsewhere (with a token that may re-enroll): the old
    // token is revoked.
    let b = enroll_with(&server, a.inventory.clone(), true).await;
    assert_eq!(b.device_id, a.device_id, "same machine id, same device");
    let up = uploader(&server.url, &a, Duration::from_secs(10));
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    let SyncOutcome::AuthFailed { message } = &rep.outcome else {
        panic!("expected an auth failure: {rep:?}")
    };
    assert!(message.contains("rt-agent enroll"), "{message}");
    assert!(
        message.contains("revoked"),
        "the server's reason is shown: {message}"
    );
    assert_eq!(q.len(), 3, "data kept for after re-enrollment");
    // Later attempts stop before the network until the device is enrolled again.
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    assert!(matches!(rep.outcome, SyncOutcome::AuthFailed { .. }));
    assert_eq!(rep.batches, 0);
    // Enrolling again (the real fix) clears the stop and the backlog goes through.
    let token = server.enrollment_token_with(true).await.unwrap();
    let again = enroll_async(
        &Server::new(&server.url),
        EnrollAuth::Token(Secret::new(token)),
        a.inventory.clone(),
        None,
        None,
        None,
        StoreKind::File,
        &a.sd,
    )
    .await
    .unwrap();
    assert!(again.re_enrolled);
    let up = Uploader::from_state(&a.sd, UploadConfig::default()).unwrap();
    let rep = sync_once(&a.sd, &mut q, &up, SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(rep.outcome, SyncOutcome::Drained);
    assert_eq!(stored_seqs(&server, a.device_id).await, vec![1, 2, 3]);
    server.stop().await;
}

#[tokio::test]
async fn a_retired_device_is_told_to_stop() {
    let server = TestServer::start().await.unwrap();
    let a = enroll(&server, inventory("retired")).await;
    let resp = reqwest::Client::new()
        .patch(format!("{}/api/v1/devices/{}", server.url, a.device_id))
        .bearer_auth(&server.admin_token)
        .json(&serde_json::json!({"lifecycle_state": "retired"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "retire: {}", resp.status());
    let mut q = open_queue(&a);
    queue_samples(&mut q, 1);
    let up = uploader(&server.url, &a, Duration::from_secs(10));
    let rep = sync_once(&a.sd, &mut q, &up, NOW).await.unwrap();
    let SyncOutcome::AuthFailed { message } = &rep.outcome else {
        panic!("expected an auth failure: {rep:?}")
    };
    assert!(message.contains("retired"), "{message}");
    assert_eq!(q.len(), 1);
    server.stop().await;
}
