//! Benchmark: time from asking for the fleet to the first useful frame (device rows drawn) and
//! to the whole fleet loaded, through the console's own fetcher, state and render path.
//!
//! ```text
//! cargo run --release -p rt-tui --example bench_first_frame -- [--devices 10000,100000] [--runs 5]
//! cargo run --release -p rt-tui --example bench_first_frame -- --url http://127.0.0.1:8080 --token T
//! ```
//!
//! Without `--url` it serves `rt_tui::fixtures::big_fleet(N)` from a minimal in-process HTTP
//! server on 127.0.0.1 that answers `/api/v1/devices` (with `health`, `offset`, `limit`) and
//! `/api/v1/fleet/summary` from pre-encoded JSON, so the figure is the console's side: HTTP,
//! JSON decoding, triage sort and drawing (the server's query time is measured by
//! scripts/bench). With `--url` it measures against a real server.
//!
//! Prints one JSON line per fleet size: first useful frame and full load in ms (median and max
//! over the runs) and the process's resident memory after the last load.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rt_client::Secret;
use rt_core::api::{DeviceSummary, FleetSummary, HealthLevel, Page};
use rt_tui::client::Client;
use rt_tui::fixtures;
use rt_tui::tui::fetch::Fetcher;
use rt_tui::tui::state::{App, Request, Theme};
use rt_tui::tui::ui;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The stub server's data: devices in name order, their levels, and the summary JSON.
struct Fleet {
    devices: Vec<DeviceSummary>,
    summary: Vec<u8>,
}

fn query_param<'a>(path: &'a str, key: &str) -> Option<&'a str> {
    let (_, q) = path.split_once('?')?;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn answer(fleet: &Fleet, path: &str) -> Vec<u8> {
    if path.starts_with("/api/v1/fleet/summary") {
        return fleet.summary.clone();
    }
    let levels: Vec<HealthLevel> = query_param(path, "health")
        .map(|h| {
            h.replace("%2C", ",")
                .split(',')
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let offset: usize = query_param(path, "offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let limit: usize = query_param(path, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let matching: Vec<&DeviceSummary> = fleet
        .devices
        .iter()
        .filter(|d| levels.is_empty() || levels.contains(&d.health.level))
        .collect();
    let page = Page {
        items: matching.iter().skip(offset).take(limit).copied().collect(),
        total: matching.len() as u64,
        offset: offset as u64,
        limit: limit as u64,
    };
    serde_json::to_vec(&page).unwrap_or_default()
}

async fn serve(listener: tokio::net::TcpListener, fleet: Arc<Fleet>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let fleet = fleet.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Keep-alive: answer requests on this connection until it closes.
            loop {
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let end = buf
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(buf.len(), |p| p + 4);
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                buf.drain(..end);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let body = answer(&fleet, &path);
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if sock.write_all(resp.as_bytes()).await.is_err()
                    || sock.write_all(&body).await.is_err()
                {
                    return;
                }
            }
        });
    }
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// One run: (first useful frame ms, fully loaded ms).
fn run_once(
    rt: &tokio::runtime::Runtime,
    url: &str,
    token: &str,
    size: (u16, u16),
) -> anyhow::Result<(f64, f64)> {
    let client = Client::new(url, Some(Secret::new(token)), None)?;
    let (tx, rx) = mpsc::channel();
    let fetcher = Fetcher::new(client, rt.handle().clone(), tx);
    let theme = Theme {
        color: true,
        ascii: false,
    };
    let mut app = App::new(url, theme, chrono::Utc::now());
    let mut term = Terminal::new(TestBackend::new(size.0, size.1))?;
    app.table_rows = ui::fleet_table_rows(&app, size.1);
    let t0 = Instant::now();
    if let Some(r) = app.request(Request::Fleet) {
        fetcher.send(r);
    }
    let mut first = None;
    let deadline = t0 + Duration::from_secs(120);
    while Instant::now() < deadline {
        let Ok(resp) = rx.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        let _ = app.apply(resp);
        term.draw(|f| ui::render(f, &app))?;
        if first.is_none() && !app.order.is_empty() {
            first = Some(t0.elapsed().as_secs_f64() * 1e3);
        }
        if !app.loading_more() && app.last_refresh.is_some() {
            let all = t0.elapsed().as_secs_f64() * 1e3;
            return Ok((first.unwrap_or(all), all));
        }
        if let rt_tui::tui::state::ConnState::Reconnecting { error, .. } = &app.conn {
            anyhow::bail!("fleet load failed: {error}");
        }
    }
    anyhow::bail!("the fleet did not load within 120 s")
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = arg(&args, "--runs").map_or(Ok(5), |v| v.parse())?;
    let size = (120u16, 40u16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let targets: Vec<(String, String, String)> = match arg(&args, "--url") {
        Some(url) => {
            let token =
                arg(&args, "--token").ok_or_else(|| anyhow::anyhow!("--url needs --token"))?;
            vec![("server".into(), url, token)]
        }
        None => {
            let sizes = arg(&args, "--devices").unwrap_or_else(|| "10000,100000".into());
            let mut v = Vec::new();
            for n in sizes.split(',') {
                let n: usize = n.trim().parse()?;
                let mut devices = fixtures::big_fleet(n);
                // big_fleet makes a third of the devices critical and a third warning; a real
                // fleet has few: keep one in a hundred needing a person.
                for (i, d) in devices.iter_mut().enumerate() {
                    d.health.level = match i % 100 {
                        0 => HealthLevel::Critical,
                        1 => HealthLevel::Warning,
                        _ => HealthLevel::Ok,
                    };
                }
                let mut summary = FleetSummary {
                    total: n as u64,
                    online: n as u64,
                    ..Default::default()
                };
                for d in &devices {
                    *summary
                        .by_health
                        .entry(d.health.level.as_str().into())
                        .or_default() += 1;
                }
                let fleet = Arc::new(Fleet {
                    devices,
                    summary: serde_json::to_vec(&summary)?,
                });
                let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
                let addr = listener.local_addr()?;
                rt.spawn(serve(listener, fleet));
                v.push((n.to_string(), format!("http://{addr}"), "bench".into()));
            }
            v
        }
    };
    for (label, url, token) in targets {
        let mut firsts = Vec::new();
        let mut fulls = Vec::new();
        for _ in 0..runs.max(1) {
            let (a, b) = run_once(&rt, &url, &token, size)?;
            firsts.push(a);
            fulls.push(b);
        }
        let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        println!(
            "{{\"devices\":\"{label}\",\"runs\":{},\"size\":\"{}x{}\",\"first_useful_frame_ms_median\":{:.1},\"first_useful_frame_ms_max\":{:.1},\"fully_loaded_ms_median\":{:.1},\"fully_loaded_ms_max\":{:.1},\"rss_mib_after\":{:.1}}}",
            firsts.len(),
            size.0,
            size.1,
            median(&mut firsts.clone()),
            max(&firsts),
            median(&mut fulls.clone()),
            max(&fulls),
            rss_mib()
        );
    }
    Ok(())
}
