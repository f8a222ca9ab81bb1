//! Benchmark baseline: a plain diesel batch insert of the compact rows an ingest run stored, into a
//! fresh SQLite file with the server's schema (its embedded migrations, via `Store::open`).
//!
//! ```text
//! cargo run --release -p rt-server --example bench_plain_insert -- \
//!     --source target/bench/ingest/rt.db --dest target/bench/plain.db [--batch 100] [--tx-rows 1000]
//! ```
//!
//! The source rows are read in chunks (not timed); only the inserts and commits into the
//! destination are timed. Multi-row `INSERT` statements of `--batch` rows, one transaction per
//! `--tx-rows` rows, WAL and `synchronous = NORMAL` (the server's pragmas). Prints one JSON line:
//! `{"rows":..,"seconds":..,"rows_per_s":..,"batch":..,"tx_rows":..}`.

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rt_server::store::Store;
use rt_server::store::schema::samples;
use std::time::{Duration, Instant};

type Row = (
    i64,
    i64,
    i64,
    f64,
    f64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<i64>,
    Option<i64>,
    Vec<u8>,
    Vec<u8>,
);

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(source) = arg(&args, "--source") else {
        bail!("usage: bench_plain_insert --source DB --dest NEW_DB [--batch 100] [--tx-rows 1000]");
    };
    let Some(dest) = arg(&args, "--dest") else {
        bail!("--dest NEW_DB is required");
    };
    let batch: usize = arg(&args, "--batch").map_or(Ok(100), |v| v.parse())?;
    let tx_rows: usize = arg(&args, "--tx-rows").map_or(Ok(1000), |v| v.parse())?;
    let limit: i64 = arg(&args, "--limit").map_or(Ok(i64::MAX), |v| v.parse())?;
    if std::path::Path::new(&dest).exists() {
        bail!("{dest} exists; the baseline needs a fresh file");
    }

    // Same schema and pragmas as the server: its migrations, WAL, synchronous=NORMAL.
    let store = Store::open(&dest).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut dst = store.connect().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut src = SqliteConnection::establish(&source).context("open source database")?;

    // Devices first (foreign keys) and the detail's string dictionary, copied as they are.
    let quoted = source.replace('\'', "''");
    dst.batch_execute(&format!(
        "ATTACH DATABASE '{quoted}' AS src; INSERT INTO devices SELECT * FROM src.devices; INSERT INTO sample_strings SELECT * FROM src.sample_strings; DETACH DATABASE src;"
    ))?;

    let chunk = (tx_rows * 20).max(batch) as i64;
    let mut last_key = (0i64, 0i64);
    let mut rows_done = 0usize;
    let mut timed = Duration::ZERO;
    loop {
        let want = chunk.min(limit - rows_done as i64);
        if want <= 0 {
            break;
        }
        let rows: Vec<Row> = samples::table
            .filter(
                samples::device_id.gt(last_key.0).or(samples::device_id
                    .eq(last_key.0)
                    .and(samples::seq.gt(last_key.1))),
            )
            .order((samples::device_id.asc(), samples::seq.asc()))
            .limit(want)
            .select((
                samples::device_id,
                samples::seq,
                samples::collected_at,
                samples::cpu_pct,
                samples::mem_pct,
                samples::disk_max_pct,
                samples::temp_max_c,
                samples::battery_health_pct,
                samples::battery_charge_pct,
                samples::net_rx_bytes,
                samples::net_tx_bytes,
                samples::detail,
                samples::hash,
            ))
            .load(&mut src)?;
        let Some(last) = rows.last() else { break };
        last_key = (last.0, last.1);
        let started = Instant::now();
        for tx in rows.chunks(tx_rows) {
            dst.immediate_transaction(|c| {
                for stmt in tx.chunks(batch) {
                    let values: Vec<_> = stmt
                        .iter()
                        .map(|r| {
                            (
                                samples::device_id.eq(r.0),
                                samples::seq.eq(r.1),
                                samples::collected_at.eq(r.2),
                                samples::cpu_pct.eq(r.3),
                                samples::mem_pct.eq(r.4),
                                samples::disk_max_pct.eq(r.5),
                                samples::temp_max_c.eq(r.6),
                                samples::battery_health_pct.eq(r.7),
                                samples::battery_charge_pct.eq(r.8),
                                samples::net_rx_bytes.eq(r.9),
                                samples::net_tx_bytes.eq(r.10),
                                samples::detail.eq(&r.11),
                                samples::hash.eq(&r.12),
                            )
                        })
                        .collect();
                    diesel::insert_into(samples::table)
                        .values(values)
                        .execute(c)?;
                }
                Ok::<_, diesel::result::Error>(())
            })?;
        }
        timed += started.elapsed();
        rows_done += rows.len();
    }
    let secs = timed.as_secs_f64();
    println!(
        "{{\"rows\":{rows_done},\"seconds\":{secs:.3},\"rows_per_s\":{:.0},\"batch\":{batch},\"tx_rows\":{tx_rows}}}",
        if secs > 0.0 {
            rows_done as f64 / secs
        } else {
            0.0
        }
    );
    Ok(())
}
