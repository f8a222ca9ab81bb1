//! Raw samples: the idempotent ingest write (run by the writer thread), history queries for the
//! metrics endpoint and forecasts, and export chunks (retention: `store::retention`).

use super::schema::{devices, sample_strings, samples};
use super::{StoreError, codec, events, from_ms, rollups, to_ms};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable};
use diesel::sqlite::SqliteConnection;
use rt_core::Sample;
use rt_core::api::{EventKind, MetricPoint, Resolution};
use rt_core::health::HealthPolicy;
use std::collections::HashMap;

/// How many recent CPU values a device row keeps for the fleet table's sparkline.
pub const CPU_RECENT_LEN: usize = 30;

/// A validated sample ready to store: typed columns, the sample itself (encoded into the compact
/// detail by the writer, which owns the string dictionary), its canonical JSON (the device's
/// latest state) and the dedup hash.
#[derive(Debug, Clone)]
pub struct PreparedSample {
    pub seq: i64,
    pub collected_at: i64,
    pub cpu_pct: f64,
    pub mem_pct: f64,
    pub disk_max_pct: Option<f64>,
    pub temp_max_c: Option<f64>,
    pub battery_health_pct: Option<f64>,
    pub battery_charge_pct: Option<f64>,
    pub net_rx_bytes: Option<i64>,
    pub net_tx_bytes: Option<i64>,
    pub sample: Sample,
    /// Canonical JSON: `serde_json::to_string(&Sample)` of the parsed sample, so that formatting
    /// and key order of what the agent sent do not matter.
    pub payload: String,
    /// [`sample_hash`] of `payload`.
    pub hash: Vec<u8>,
}

/// Bytes of SHA-256 kept as the dedup hash: it only ever tells two payloads sent under the same
/// (device, seq) apart, so 64 bits are plenty.
pub const HASH_LEN: usize = 8;

/// The dedup hash of a sample's canonical JSON (the one definition).
pub fn sample_hash(canonical_json: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(canonical_json.as_bytes())[..HASH_LEN].to_vec()
}

impl PreparedSample {
    /// What this sample adds to the rollup tiers.
    pub fn rollup_point(&self) -> rollups::Point {
        rollups::Point {
            collected_at: self.collected_at,
            cpu: self.cpu_pct,
            mem: self.mem_pct,
            disk: self.disk_max_pct,
            temp: self.temp_max_c,
            bat: self.battery_health_pct,
            rx: self.net_rx_bytes,
            tx: self.net_tx_bytes,
        }
    }

    /// None when the sequence number does not fit the database (> i64::MAX).
    pub fn from_sample(s: &Sample) -> Option<PreparedSample> {
        let seq = i64::try_from(s.seq).ok()?;
        let payload = serde_json::to_string(s).ok()?;
        let hash = sample_hash(&payload);
        let m = s.metrics();
        Some(PreparedSample {
            seq,
            collected_at: to_ms(s.collected_at),
            cpu_pct: m.cpu_pct,
            mem_pct: m.mem_pct,
            disk_max_pct: m.disk_max_pct,
            temp_max_c: m.temp_max_c,
            battery_health_pct: m.battery_health_pct,
            battery_charge_pct: m.battery_charge_pct,
            net_rx_bytes: m.net_rx_bytes.and_then(|v| i64::try_from(v).ok()),
            net_tx_bytes: m.net_tx_bytes.and_then(|v| i64::try_from(v).ok()),
            sample: s.clone(),
            payload,
            hash,
        })
    }
}

/// The writer's cache of the `sample_strings` dictionary (string -> id). Strings are added to
/// the table inside the batch's savepoint; [`Strings::forget_pending`] drops the ones a
/// rolled-back savepoint took with it, [`Strings::clear`] everything after a failed group.
#[derive(Debug, Default)]
pub struct Strings {
    ids: HashMap<String, i64>,
    pending: Vec<String>,
}

impl Strings {
    /// The strings added since the last call are committed (or at least survive the savepoint).
    pub fn keep_pending(&mut self) {
        self.pending.clear();
    }
    /// The savepoint that added the pending strings was rolled back.
    pub fn forget_pending(&mut self) {
        for s in self.pending.drain(..) {
            self.ids.remove(&s);
        }
    }
    /// The group transaction failed: trust nothing cached.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.pending.clear();
    }

    /// Encode `s`'s detail, adding unknown strings to the dictionary.
    pub fn encode(
        &mut self,
        conn: &mut SqliteConnection,
        s: &Sample,
    ) -> Result<Vec<u8>, StoreError> {
        let mut i = DbIntern {
            conn,
            strings: self,
            err: None,
        };
        let blob = codec::encode(s, &mut i);
        match i.err {
            Some(e) => Err(e),
            None => Ok(blob),
        }
    }

    fn lookup(&mut self, conn: &mut SqliteConnection, text: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.ids.get(text) {
            return Ok(*id);
        }
        let found: Option<i64> = sample_strings::table
            .filter(sample_strings::text.eq(text))
            .select(sample_strings::id)
            .first(conn)
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                let id = diesel::insert_into(sample_strings::table)
                    .values(sample_strings::text.eq(text))
                    .returning(sample_strings::id)
                    .get_result(conn)?;
                self.pending.push(text.to_string());
                id
            }
        };
        self.ids.insert(text.to_string(), id);
        Ok(id)
    }
}

struct DbIntern<'a> {
    conn: &'a mut SqliteConnection,
    strings: &'a mut Strings,
    err: Option<StoreError>,
}

impl codec::Intern for DbIntern<'_> {
    fn id(&mut self, s: &str) -> i64 {
        if self.err.is_some() {
            return 0;
        }
        match self.strings.lookup(self.conn, s) {
            Ok(id) => id,
            Err(e) => {
                self.err = Some(e);
                0
            }
        }
    }
}

/// The dictionary entries `blobs` refer to.
fn strings_for<'a>(
    conn: &mut SqliteConnection,
    blobs: impl Iterator<Item = (u64, &'a [u8])>,
) -> Result<HashMap<i64, String>, StoreError> {
    let mut ids = codec::CollectIds::default();
    for (seq, b) in blobs {
        codec::decode(seq, b, &mut ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    ids.0.sort_unstable();
    ids.0.dedup();
    let mut out = HashMap::with_capacity(ids.0.len());
    for chunk in ids.0.chunks(500) {
        let rows: Vec<(i64, String)> = sample_strings::table
            .filter(sample_strings::id.eq_any(chunk))
            .select((sample_strings::id, sample_strings::text))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Rebuild the samples stored as (seq, detail) rows.
fn decode_rows(
    conn: &mut SqliteConnection,
    rows: &[(i64, Vec<u8>)],
) -> Result<Vec<Sample>, StoreError> {
    let mut dict = strings_for(conn, rows.iter().map(|(q, b)| (*q as u64, b.as_slice())))?;
    rows.iter()
        .map(|(seq, b)| {
            codec::decode(*seq as u64, b, &mut dict).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .collect()
}

/// What happened to each sample of one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    pub accepted: Vec<u64>,
    pub duplicates: Vec<u64>,
    pub conflicts: Vec<u64>,
}

/// Store one device's batch. Runs inside the writer's transaction (with other batches).
/// Idempotent on (device, seq): an equal payload is a duplicate, a different one a conflict that
/// is counted and recorded as an event, never overwritten. Updates last-seen and the fleet-view
/// columns in the same transaction, including the health findings of the new latest sample under
/// `policy` (so the fleet list need not parse the sample).
pub fn ingest(
    conn: &mut SqliteConnection,
    strings: &mut Strings,
    device_id: i64,
    batch: &[PreparedSample],
    policy: &HealthPolicy,
    now: DateTime<Utc>,
) -> Result<IngestOutcome, StoreError> {
    let now_ms = to_ms(now);
    let mut out = IngestOutcome::default();
    let mut newest: Option<&PreparedSample> = None;
    let mut accepted_cpu: Vec<(i64, f64)> = Vec::new();
    let mut stored: Vec<rollups::Point> = Vec::new();
    for s in batch {
        let detail = strings.encode(conn, &s.sample)?;
        let inserted = diesel::insert_into(samples::table)
            .values((
                samples::device_id.eq(device_id),
                samples::seq.eq(s.seq),
                samples::collected_at.eq(s.collected_at),
                samples::cpu_pct.eq(s.cpu_pct),
                samples::mem_pct.eq(s.mem_pct),
                samples::disk_max_pct.eq(s.disk_max_pct),
                samples::temp_max_c.eq(s.temp_max_c),
                samples::battery_health_pct.eq(s.battery_health_pct),
                samples::net_rx_bytes.eq(s.net_rx_bytes),
                samples::battery_charge_pct.eq(s.battery_charge_pct),
                samples::net_tx_bytes.eq(s.net_tx_bytes),
                samples::detail.eq(&detail),
                samples::hash.eq(&s.hash),
            ))
            .on_conflict((samples::device_id, samples::seq))
            .do_nothing()
            .execute(conn)?;
        let seq = s.seq as u64; // from_sample guarantees seq >= 0
        if inserted == 1 {
            out.accepted.push(seq);
            accepted_cpu.push((s.seq, s.cpu_pct));
            stored.push(s.rollup_point());
            if newest.is_none_or(|n| s.seq > n.seq) {
                newest = Some(s);
            }
            continue;
        }
        let stored: Vec<u8> = samples::table
            .find((device_id, s.seq))
            .select(samples::hash)
            .first(conn)?;
        if stored == s.hash {
            out.duplicates.push(seq);
        } else {
            out.conflicts.push(seq);
        }
    }

    // Only newly stored rows feed the rollups: duplicates add nothing, backlogs their buckets.
    rollups::add(conn, device_id, &stored)?;

    let dev: (Option<i64>, String) = devices::table
        .find(device_id)
        .select((devices::latest_seq, devices::cpu_recent))
        .first(conn)?;
    let mut changes_latest = false;
    if let Some(n) = newest
        && dev.0.is_none_or(|l| n.seq > l)
    {
        changes_latest = true;
        let found = rt_core::health::sample_findings(&n.sample, policy);
        let level = super::fleet::level_rank(super::fleet::sample_level(&found));
        let findings = serde_json::to_string(&found).ok();
        diesel::update(devices::table.find(device_id))
            .set((
                devices::latest_seq.eq(n.seq),
                devices::latest_collected_at.eq(n.collected_at),
                devices::cpu_pct.eq(n.cpu_pct),
                devices::mem_pct.eq(n.mem_pct),
                devices::disk_max_pct.eq(n.disk_max_pct),
                devices::temp_max_c.eq(n.temp_max_c),
                devices::battery_health_pct.eq(n.battery_health_pct),
                devices::battery_charge_pct.eq(n.battery_charge_pct),
                devices::net_rx_bytes.eq(n.net_rx_bytes),
                devices::net_tx_bytes.eq(n.net_tx_bytes),
                devices::latest_json.eq(&n.payload),
                devices::latest_findings.eq(findings),
                devices::sample_level.eq(level),
            ))
            .execute(conn)?;
    }
    if changes_latest || !accepted_cpu.is_empty() {
        let mut recent: Vec<f64> = serde_json::from_str(&dev.1).unwrap_or_default();
        accepted_cpu.sort_by_key(|(seq, _)| *seq);
        // Late (back-filled) samples older than the current latest do not belong at the end.
        let latest_before = dev.0.unwrap_or(i64::MIN);
        recent.extend(
            accepted_cpu
                .iter()
                .filter(|(seq, _)| *seq > latest_before)
                .map(|(_, c)| (c * 10.0).round() / 10.0),
        );
        if recent.len() > CPU_RECENT_LEN {
            recent.drain(..recent.len() - CPU_RECENT_LEN);
        }
        let text =
            serde_json::to_string(&recent).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        diesel::update(devices::table.find(device_id))
            .set(devices::cpu_recent.eq(text))
            .execute(conn)?;
    }
    diesel::update(devices::table.find(device_id))
        .set(devices::last_seen.eq(now_ms))
        .execute(conn)?;
    if !out.conflicts.is_empty() {
        diesel::update(devices::table.find(device_id))
            .set(devices::conflicts.eq(devices::conflicts + out.conflicts.len() as i64))
            .execute(conn)?;
        let shown: Vec<u64> = out.conflicts.iter().copied().take(50).collect();
        events::record(
            conn,
            device_id,
            now,
            EventKind::SampleConflict,
            "agent",
            &format!(
                "{} sample(s) re-sent with a different payload under an already stored seq; the stored ones were kept",
                out.conflicts.len()
            ),
            Some(&serde_json::json!({"seqs": shown, "count": out.conflicts.len()})),
        )?;
    }
    Ok(out)
}

#[derive(Debug, QueryableByName)]
struct BucketRow {
    #[diesel(sql_type = BigInt)]
    t: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Double)]
    cpu_avg: f64,
    #[diesel(sql_type = Double)]
    cpu_max: f64,
    #[diesel(sql_type = Double)]
    mem_avg: f64,
    #[diesel(sql_type = Double)]
    mem_max: f64,
    #[diesel(sql_type = Nullable<Double>)]
    disk_avg: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    disk_max: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    temp_avg: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    temp_max: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    bat_avg: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    rx_min: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    rx_max: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    tx_min: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    tx_max: Option<i64>,
    #[diesel(sql_type = BigInt)]
    t_min: i64,
    #[diesel(sql_type = BigInt)]
    t_max: i64,
}

fn rate(min: Option<i64>, max: Option<i64>, span_ms: i64) -> Option<f64> {
    match (min, max) {
        (Some(a), Some(b)) if span_ms > 0 && b >= a => {
            Some((b - a) as f64 * 1000.0 / span_ms as f64)
        }
        _ => None,
    }
}

/// Points of one device's history in `[from, to)`, at most `cap` (the bool says whether the cap
/// cut the series).
pub fn metric_points(
    conn: &mut SqliteConnection,
    device_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    resolution: Resolution,
    cap: i64,
) -> Result<(Vec<MetricPoint>, bool), StoreError> {
    let (from_ms_, to_ms_) = (to_ms(from), to_ms(to));
    let mut points = Vec::new();
    match resolution.seconds() {
        None => {
            type RawRow = (
                i64,
                f64,
                f64,
                Option<f64>,
                Option<f64>,
                Option<f64>,
                Option<i64>,
                Option<i64>,
            );
            let rows: Vec<RawRow> = samples::table
                .filter(samples::device_id.eq(device_id))
                .filter(samples::collected_at.ge(from_ms_))
                .filter(samples::collected_at.lt(to_ms_))
                .order(samples::collected_at.asc())
                .limit(cap + 1)
                .select((
                    samples::collected_at,
                    samples::cpu_pct,
                    samples::mem_pct,
                    samples::disk_max_pct,
                    samples::temp_max_c,
                    samples::battery_health_pct,
                    samples::net_rx_bytes,
                    samples::net_tx_bytes,
                ))
                .load(conn)?;
            let truncated = rows.len() as i64 > cap;
            let mut prev: Option<&RawRow> = None;
            for r in rows.iter().take(cap as usize) {
                let (rx, tx) = match prev {
                    Some(p) => (rate(p.6, r.6, r.0 - p.0), rate(p.7, r.7, r.0 - p.0)),
                    None => (None, None),
                };
                points.push(MetricPoint {
                    t: from_ms(r.0),
                    samples: 1,
                    cpu_avg: r.1,
                    cpu_max: r.1,
                    mem_avg: r.2,
                    mem_max: r.2,
                    disk_avg: r.3,
                    disk_max: r.3,
                    temp_avg: r.4,
                    temp_max: r.4,
                    battery_health_avg: r.5,
                    net_rx_bps: rx,
                    net_tx_bps: tx,
                });
                prev = Some(r);
            }
            Ok((points, truncated))
        }
        Some(secs) => {
            let width = secs * 1000;
            let rows: Vec<BucketRow> = match rollups::tier_for(width) {
                // The coarsest rollup tier that gives the points; buckets that start in
                // [from, to) after aligning `from` down to the requested width.
                Some((table, _)) => diesel::sql_query(format!(
                    "SELECT (t / ?) * ? AS t, SUM(n) AS n, \
                     SUM(cpu_sum) / SUM(n) AS cpu_avg, MAX(cpu_max) AS cpu_max, \
                     SUM(mem_sum) / SUM(n) AS mem_avg, MAX(mem_max) AS mem_max, \
                     SUM(disk_sum) / NULLIF(SUM(disk_n), 0) AS disk_avg, MAX(disk_max) AS disk_max, \
                     SUM(temp_sum) / NULLIF(SUM(temp_n), 0) AS temp_avg, MAX(temp_max) AS temp_max, \
                     SUM(bat_sum) / NULLIF(SUM(bat_n), 0) AS bat_avg, \
                     MIN(rx_min) AS rx_min, MAX(rx_max) AS rx_max, \
                     MIN(tx_min) AS tx_min, MAX(tx_max) AS tx_max, \
                     MIN(t_min) AS t_min, MAX(t_max) AS t_max \
                     FROM {table} WHERE device_id = ? AND t >= ? AND t < ? \
                     GROUP BY t / ? ORDER BY 1 LIMIT ?"
                ))
                .bind::<BigInt, _>(width)
                .bind::<BigInt, _>(width)
                .bind::<BigInt, _>(device_id)
                .bind::<BigInt, _>(from_ms_.div_euclid(width) * width)
                .bind::<BigInt, _>(to_ms_)
                .bind::<BigInt, _>(width)
                .bind::<BigInt, _>(cap + 1)
                .load(conn)?,
                None => diesel::sql_query(
                    "SELECT (collected_at / ?) * ? AS t, COUNT(*) AS n, \
                     AVG(cpu_pct) AS cpu_avg, MAX(cpu_pct) AS cpu_max, \
                     AVG(mem_pct) AS mem_avg, MAX(mem_pct) AS mem_max, \
                     AVG(disk_max_pct) AS disk_avg, MAX(disk_max_pct) AS disk_max, \
                     AVG(temp_max_c) AS temp_avg, MAX(temp_max_c) AS temp_max, \
                     AVG(battery_health_pct) AS bat_avg, \
                     MIN(net_rx_bytes) AS rx_min, MAX(net_rx_bytes) AS rx_max, \
                     MIN(net_tx_bytes) AS tx_min, MAX(net_tx_bytes) AS tx_max, \
                     MIN(collected_at) AS t_min, MAX(collected_at) AS t_max \
                     FROM samples WHERE device_id = ? AND collected_at >= ? AND collected_at < ? \
                     GROUP BY collected_at / ? ORDER BY t LIMIT ?",
                )
                .bind::<BigInt, _>(width)
                .bind::<BigInt, _>(width)
                .bind::<BigInt, _>(device_id)
                .bind::<BigInt, _>(from_ms_)
                .bind::<BigInt, _>(to_ms_)
                .bind::<BigInt, _>(width)
                .bind::<BigInt, _>(cap + 1)
                .load(conn)?,
            };
            let truncated = rows.len() as i64 > cap;
            // Counter rates: from the previous bucket's last reading to this bucket's last one,
            // so a bucket holding a single sample (5 m samples in 5 m buckets) still has a rate;
            // the first bucket falls back to the spread within itself.
            let mut prev: Option<(i64, Option<i64>, Option<i64>)> = None;
            for r in rows.into_iter().take(cap as usize) {
                let (rx, tx) = match prev {
                    Some((pt, prx, ptx)) => (
                        rate(prx, r.rx_max, r.t_max - pt),
                        rate(ptx, r.tx_max, r.t_max - pt),
                    ),
                    None => (
                        rate(r.rx_min, r.rx_max, r.t_max - r.t_min),
                        rate(r.tx_min, r.tx_max, r.t_max - r.t_min),
                    ),
                };
                prev = Some((r.t_max, r.rx_max, r.tx_max));
                points.push(MetricPoint {
                    t: from_ms(r.t),
                    samples: u32::try_from(r.n).unwrap_or(u32::MAX),
                    cpu_avg: r.cpu_avg,
                    cpu_max: r.cpu_max,
                    mem_avg: r.mem_avg,
                    mem_max: r.mem_max,
                    disk_avg: r.disk_avg,
                    disk_max: r.disk_max,
                    temp_avg: r.temp_avg,
                    temp_max: r.temp_max,
                    battery_health_avg: r.bat_avg,
                    net_rx_bps: rx,
                    net_tx_bps: tx,
                });
            }
            Ok((points, truncated))
        }
    }
}

/// Used-percent points per mount point, oldest first.
pub type DiskHistory = std::collections::BTreeMap<String, Vec<(DateTime<Utc>, f64)>>;

/// Used percent per mount point over `[since, now]`, for disk forecasts: at most `limit`
/// most recent samples are read.
pub fn disk_history(
    conn: &mut SqliteConnection,
    device_id: i64,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<DiskHistory, StoreError> {
    let rows: Vec<(i64, Vec<u8>)> = samples::table
        .filter(samples::device_id.eq(device_id))
        .filter(samples::collected_at.ge(to_ms(since)))
        .order(samples::collected_at.desc())
        .limit(limit)
        .select((samples::seq, samples::detail))
        .load(conn)?;
    let mut out = DiskHistory::default();
    for s in decode_rows(conn, &rows)?.iter().rev() {
        for d in s.disks.iter().filter(|d| !d.removable) {
            if let Some(pct) = d.used_pct() {
                out.entry(d.mount_point.clone())
                    .or_default()
                    .push((s.collected_at, pct));
            }
        }
    }
    Ok(out)
}

/// Where the samples export continues: after this (device id, seq).
pub type ExportKey = (i64, i64);

/// One chunk of the samples export: (device id, sample) in (device, seq) order after `after`,
/// each sample rebuilt in full from its row.
pub fn export_chunk(
    conn: &mut SqliteConnection,
    after: ExportKey,
    device_ids: &[i64],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<(i64, Sample)>, StoreError> {
    let (a_dev, a_seq) = after;
    let mut q = samples::table
        .filter(
            samples::device_id
                .gt(a_dev)
                .or(samples::device_id.eq(a_dev).and(samples::seq.gt(a_seq))),
        )
        .into_boxed();
    if !device_ids.is_empty() {
        q = q.filter(samples::device_id.eq_any(device_ids.to_vec()));
    }
    if let Some(f) = from {
        q = q.filter(samples::collected_at.ge(to_ms(f)));
    }
    if let Some(t) = to {
        q = q.filter(samples::collected_at.lt(to_ms(t)));
    }
    let rows: Vec<(i64, i64, Vec<u8>)> = q
        .order((samples::device_id.asc(), samples::seq.asc()))
        .limit(limit)
        .select((samples::device_id, samples::seq, samples::detail))
        .load(conn)?;
    let devices: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let details: Vec<(i64, Vec<u8>)> = rows.into_iter().map(|(_, q, b)| (q, b)).collect();
    Ok(devices
        .into_iter()
        .zip(decode_rows(conn, &details)?)
        .collect())
}

/// The highest stored seq of a device (None before its first sample).
pub fn max_seq(conn: &mut SqliteConnection, device_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(samples::table
        .filter(samples::device_id.eq(device_id))
        .select(diesel::dsl::max(samples::seq))
        .first(conn)?)
}

/// One stored sample rebuilt in full (None when not stored).
pub fn get(
    conn: &mut SqliteConnection,
    device_id: i64,
    seq: i64,
) -> Result<Option<Sample>, StoreError> {
    let row: Option<Vec<u8>> = samples::table
        .find((device_id, seq))
        .select(samples::detail)
        .first(conn)
        .optional()?;
    match row {
        Some(b) => Ok(decode_rows(conn, &[(seq, b)])?.pop()),
        None => Ok(None),
    }
}

/// Total stored samples (for `/metrics`).
pub fn count(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    Ok(samples::table.count().get_result(conn)?)
}
