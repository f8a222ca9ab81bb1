//! Benchmark baseline: the server's telemetry request path without HTTP and without storage —
//! gzip inflate, streaming JSON parse, validation and the compact stored form with its hash
//! (`rt_server::api::handlers::telemetry::decode_only`, the code the handler runs) — over the
//! samples an ingest run stored, rebuilt in full and sent as the simulator sends them (gzip JSON
//! batches).
//!
//! ```text
//! cargo run --release -p rt-server --example bench_parse_only -- \
//!     --source target/bench/ingest-data/rt.db [--batch 100] [--limit 300000] [--threads 2]
//! ```
//!
//! Building the bodies is not timed; decoding them is, on `--threads` threads (the server's
//! tokio workers are one per core). Prints one JSON line:
//! `{"samples":..,"seconds":..,"samples_per_s":..,"threads":..,"batch":..}`.

use anyhow::{Context, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use rt_server::store::{Store, samples};
use std::io::Write;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(source) = arg(&args, "--source") else {
        bail!("usage: bench_parse_only --source DB [--batch 100] [--limit N] [--threads 2]");
    };
    let batch: usize = arg(&args, "--batch").map_or(Ok(100), |v| v.parse())?;
    let limit: usize = arg(&args, "--limit").map_or(Ok(300_000), |v| v.parse())?;
    let threads: usize = arg(&args, "--threads").map_or(Ok(2), |v| v.parse())?;
    let store = Store::open(&source).map_err(|e| anyhow::anyhow!("{e}"))?;

    // Rebuild the stored samples and gzip them in batches, as an agent uploads them.
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    let mut after = (0i64, 0i64);
    let mut total = 0usize;
    while total < limit {
        let rows = store
            .run_sync(|c| samples::export_chunk(c, after, &[], None, None, 5000))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let Some(last) = rows.last() else { break };
        after = (last.0, last.1.seq as i64);
        let mut per_device: Vec<Vec<rt_core::Sample>> = Vec::new();
        let mut current = None;
        for (dev, s) in rows {
            if current != Some(dev) || per_device.last().is_some_and(|b| b.len() >= batch) {
                per_device.push(Vec::new());
                current = Some(dev);
            }
            if let Some(b) = per_device.last_mut() {
                b.push(s);
            }
        }
        for b in per_device {
            total += b.len();
            let json =
                serde_json::to_vec(&serde_json::json!({"agent_version": "0.1.0", "samples": b}))?;
            let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
            gz.write_all(&json)?;
            bodies.push(gz.finish()?);
        }
    }
    if bodies.is_empty() {
        bail!("{source} holds no samples");
    }

    let started = Instant::now();
    let per_thread = bodies.len().div_ceil(threads.max(1));
    let results: Vec<anyhow::Result<(usize, usize)>> = std::thread::scope(|sc| {
        let handles: Vec<_> = bodies
            .chunks(per_thread)
            .map(|part| {
                sc.spawn(move || {
                    let mut ok = 0;
                    let mut rejected = 0;
                    for body in part {
                        let (p, r) = rt_server::api::handlers::telemetry::decode_only(body, true)
                            .map_err(|e| anyhow::anyhow!("decode failed: {e}"))?;
                        ok += p;
                        rejected += r;
                    }
                    Ok((ok, rejected))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("thread panicked"))?)
            .collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let mut ok = 0;
    let mut rejected = 0;
    for r in results {
        let (p, q) = r.context("decode")?;
        ok += p;
        rejected += q;
    }
    println!(
        "{}",
        serde_json::json!({
            "samples": ok,
            "rejected": rejected,
            "seconds": secs,
            "samples_per_s": ok as f64 / secs,
            "threads": threads,
            "batch": batch,
        })
    );
    Ok(())
}
