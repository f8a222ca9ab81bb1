//! Rollup tiers (5m, 1h, 1d): per device and bucket, the count, first/last collection time,
//! count/sum/min/max of every charted metric and min/max of the network counters.
//!
//! Maintained by the writer in the ingest transaction from the samples that were *newly stored*
//! (never from duplicates or conflicts), so every raw row is added exactly once whatever the
//! arrival order, and a late backlog lands in its own old buckets. History reads the coarsest
//! tier whose width divides the requested bucket width. Tables: migration
//! `2026-12-01-230100_store_v2_rollups`.

use super::StoreError;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable};
use diesel::sqlite::SqliteConnection;
use std::collections::BTreeMap;

/// The tiers, finest first: table and bucket width in milliseconds.
pub const TIERS: [(&str, i64); 3] = [
    ("rollup_5m", 300_000),
    ("rollup_1h", 3_600_000),
    ("rollup_1d", 86_400_000),
];

/// What one stored raw sample contributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub collected_at: i64,
    pub cpu: f64,
    pub mem: f64,
    pub disk: Option<f64>,
    pub temp: Option<f64>,
    pub bat: Option<f64>,
    pub rx: Option<i64>,
    pub tx: Option<i64>,
}

/// count/sum/min/max of a nullable metric.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stat {
    pub n: i64,
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Stat {
    fn add(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.n += 1;
            self.sum = Some(self.sum.unwrap_or(0.0) + v);
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
        }
    }
}

fn min_i(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) | (None, x) => x,
    }
}
fn max_i(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) | (None, x) => x,
    }
}

/// One bucket's aggregate (also the reference the property test computes from raw rows).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bucket {
    pub n: i64,
    pub t_min: i64,
    pub t_max: i64,
    pub cpu: Stat,
    pub mem: Stat,
    pub disk: Stat,
    pub temp: Stat,
    pub bat: Stat,
    pub rx_min: Option<i64>,
    pub rx_max: Option<i64>,
    pub tx_min: Option<i64>,
    pub tx_max: Option<i64>,
}

impl Bucket {
    pub fn add(&mut self, p: &Point) {
        if self.n == 0 {
            self.t_min = p.collected_at;
            self.t_max = p.collected_at;
        }
        self.n += 1;
        self.t_min = self.t_min.min(p.collected_at);
        self.t_max = self.t_max.max(p.collected_at);
        self.cpu.add(Some(p.cpu));
        self.mem.add(Some(p.mem));
        self.disk.add(p.disk);
        self.temp.add(p.temp);
        self.bat.add(p.bat);
        self.rx_min = min_i(self.rx_min, p.rx);
        self.rx_max = max_i(self.rx_max, p.rx);
        self.tx_min = min_i(self.tx_min, p.tx);
        self.tx_max = max_i(self.tx_max, p.tx);
    }
}

/// Buckets of `points` at `width` ms, keyed by bucket start.
pub fn bucketize(points: &[Point], width: i64) -> BTreeMap<i64, Bucket> {
    let mut out: BTreeMap<i64, Bucket> = BTreeMap::new();
    for p in points {
        out.entry(p.collected_at.div_euclid(width) * width)
            .or_default()
            .add(p);
    }
    out
}

const COLUMNS: &str = "device_id, t, n, t_min, t_max, cpu_sum, cpu_min, cpu_max, \
     mem_sum, mem_min, mem_max, disk_n, disk_sum, disk_min, disk_max, \
     temp_n, temp_sum, temp_min, temp_max, bat_n, bat_sum, bat_min, bat_max, \
     rx_min, rx_max, tx_min, tx_max";
const PER_ROW: usize = 27;
/// Rows per upsert statement (27 binds each; SQLite allows 32,766).
const ROWS_PER_STATEMENT: usize = 400;

fn merge_nullable(col: &str, table: &str, op: &str) -> String {
    // Portable MIN/MAX/+ that treats NULL as "no value" (SQLite's scalar min() would not).
    match op {
        "+" => format!(
            "{col} = CASE WHEN excluded.{col} IS NULL THEN {table}.{col} \
             WHEN {table}.{col} IS NULL THEN excluded.{col} \
             ELSE {table}.{col} + excluded.{col} END"
        ),
        cmp => format!(
            "{col} = CASE WHEN excluded.{col} IS NULL THEN {table}.{col} \
             WHEN {table}.{col} IS NULL OR excluded.{col} {cmp} {table}.{col} THEN excluded.{col} \
             ELSE {table}.{col} END"
        ),
    }
}

fn upsert_sql(table: &str, rows: usize) -> String {
    let one = format!("({})", vec!["?"; PER_ROW].join(", "));
    let values = vec![one; rows].join(", ");
    let mut set = vec![
        format!("n = {table}.n + excluded.n"),
        format!("disk_n = {table}.disk_n + excluded.disk_n"),
        format!("temp_n = {table}.temp_n + excluded.temp_n"),
        format!("bat_n = {table}.bat_n + excluded.bat_n"),
    ];
    for c in [
        "t_min", "cpu_min", "mem_min", "disk_min", "temp_min", "bat_min", "rx_min", "tx_min",
    ] {
        set.push(merge_nullable(c, table, "<"));
    }
    for c in [
        "t_max", "cpu_max", "mem_max", "disk_max", "temp_max", "bat_max", "rx_max", "tx_max",
    ] {
        set.push(merge_nullable(c, table, ">"));
    }
    for c in ["cpu_sum", "mem_sum", "disk_sum", "temp_sum", "bat_sum"] {
        set.push(merge_nullable(c, table, "+"));
    }
    format!(
        "INSERT INTO {table} ({COLUMNS}) VALUES {values} ON CONFLICT (device_id, t) DO UPDATE SET {}",
        set.join(", ")
    )
}

/// Add newly stored samples of one device to every tier.
pub fn add(
    conn: &mut SqliteConnection,
    device_id: i64,
    points: &[Point],
) -> Result<(), StoreError> {
    if points.is_empty() {
        return Ok(());
    }
    for (table, width) in TIERS {
        let buckets: Vec<(i64, Bucket)> = bucketize(points, width).into_iter().collect();
        for chunk in buckets.chunks(ROWS_PER_STATEMENT) {
            let mut q = diesel::sql_query(upsert_sql(table, chunk.len())).into_boxed();
            for (t, b) in chunk {
                q = q
                    .bind::<BigInt, _>(device_id)
                    .bind::<BigInt, _>(*t)
                    .bind::<BigInt, _>(b.n)
                    .bind::<BigInt, _>(b.t_min)
                    .bind::<BigInt, _>(b.t_max);
                for s in [b.cpu, b.mem] {
                    q = q
                        .bind::<Double, _>(s.sum.unwrap_or(0.0))
                        .bind::<Double, _>(s.min.unwrap_or(0.0))
                        .bind::<Double, _>(s.max.unwrap_or(0.0));
                }
                for s in [b.disk, b.temp, b.bat] {
                    q = q
                        .bind::<BigInt, _>(s.n)
                        .bind::<Nullable<Double>, _>(s.sum)
                        .bind::<Nullable<Double>, _>(s.min)
                        .bind::<Nullable<Double>, _>(s.max);
                }
                q = q
                    .bind::<Nullable<BigInt>, _>(b.rx_min)
                    .bind::<Nullable<BigInt>, _>(b.rx_max)
                    .bind::<Nullable<BigInt>, _>(b.tx_min)
                    .bind::<Nullable<BigInt>, _>(b.tx_max);
            }
            q.execute(conn)?;
        }
    }
    Ok(())
}

/// The coarsest tier whose width divides `width_ms` (None when none does: read raw rows).
pub fn tier_for(width_ms: i64) -> Option<(&'static str, i64)> {
    TIERS
        .iter()
        .rev()
        .find(|(_, w)| width_ms >= *w && width_ms % *w == 0)
        .copied()
}

#[derive(Debug, QueryableByName)]
struct StoredRow {
    #[diesel(sql_type = BigInt)]
    t: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    t_min: i64,
    #[diesel(sql_type = BigInt)]
    t_max: i64,
    #[diesel(sql_type = Double)]
    cpu_sum: f64,
    #[diesel(sql_type = Double)]
    cpu_min: f64,
    #[diesel(sql_type = Double)]
    cpu_max: f64,
    #[diesel(sql_type = Double)]
    mem_sum: f64,
    #[diesel(sql_type = Double)]
    mem_min: f64,
    #[diesel(sql_type = Double)]
    mem_max: f64,
    #[diesel(sql_type = BigInt)]
    disk_n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    disk_sum: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    disk_min: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    disk_max: Option<f64>,
    #[diesel(sql_type = BigInt)]
    temp_n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    temp_sum: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    temp_min: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    temp_max: Option<f64>,
    #[diesel(sql_type = BigInt)]
    bat_n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    bat_sum: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    bat_min: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    bat_max: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    rx_min: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    rx_max: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    tx_min: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    tx_max: Option<i64>,
}

/// Every stored bucket of one device in one tier (tests and tools; history uses `metric_points`).
pub fn stored(
    conn: &mut SqliteConnection,
    table: &str,
    device_id: i64,
) -> Result<BTreeMap<i64, Bucket>, StoreError> {
    if !TIERS.iter().any(|(t, _)| *t == table) {
        return Err(StoreError::Corrupt(format!("no rollup tier {table}")));
    }
    let rows: Vec<StoredRow> = diesel::sql_query(format!(
        "SELECT t, {} FROM {table} WHERE device_id = ? ORDER BY t",
        &COLUMNS["device_id, t, ".len()..]
    ))
    .bind::<BigInt, _>(device_id)
    .load(conn)?;
    let st = |n: i64, sum, min, max| Stat { n, sum, min, max };
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.t,
                Bucket {
                    n: r.n,
                    t_min: r.t_min,
                    t_max: r.t_max,
                    cpu: st(r.n, Some(r.cpu_sum), Some(r.cpu_min), Some(r.cpu_max)),
                    mem: st(r.n, Some(r.mem_sum), Some(r.mem_min), Some(r.mem_max)),
                    disk: st(r.disk_n, r.disk_sum, r.disk_min, r.disk_max),
                    temp: st(r.temp_n, r.temp_sum, r.temp_min, r.temp_max),
                    bat: st(r.bat_n, r.bat_sum, r.bat_min, r.bat_max),
                    rx_min: r.rx_min,
                    rx_max: r.rx_max,
                    tx_min: r.tx_min,
                    tx_max: r.tx_max,
                },
            )
        })
        .collect())
}
