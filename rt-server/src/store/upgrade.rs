//! Start-up work that migrations list in `store_tasks` because it needs Rust: converting the v1
//! raw samples (JSON payloads) to the compact v2 rows. Runs in `Store::open`, after the SQL
//! migrations, in batches that each commit what they converted and delete it from
//! `samples_v1`, so an interrupted start resumes where it stopped.

use super::samples::{PreparedSample, Strings};
use super::schema::{samples, store_tasks};
use super::{StoreError, rollups};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use rt_core::Sample;

const CONVERT_BATCH: i64 = 2000;

/// Run every pending start-up task.
pub fn run_pending(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let pending: Vec<String> = store_tasks::table
        .select(store_tasks::name)
        .order(store_tasks::name.asc())
        .load(conn)?;
    for name in pending {
        match name.as_str() {
            "convert_samples_v1" => convert_samples_v1(conn)?,
            other => {
                return Err(StoreError::Migration(format!(
                    "unknown start-up task {other:?} (database from a newer release?)"
                )));
            }
        }
        diesel::delete(store_tasks::table.find(&name)).execute(conn)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct V1Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    device_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    payload: String,
}

/// Convert `samples_v1` into `samples` and drop it. A v1 payload that does not parse, or whose
/// seq differs from its row, stops the start with an error naming the row (nothing is dropped).
fn convert_samples_v1(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let mut strings = Strings::default();
    let mut total = 0usize;
    loop {
        let done = conn.immediate_transaction(|c| {
            let rows: Vec<V1Row> = diesel::sql_query(
                "SELECT id, device_id, seq, payload FROM samples_v1 ORDER BY id LIMIT ?",
            )
            .bind::<BigInt, _>(CONVERT_BATCH)
            .load(c)?;
            let Some(last) = rows.last().map(|r| r.id) else {
                return Ok::<_, StoreError>(0);
            };
            let mut points: std::collections::HashMap<i64, Vec<rollups::Point>> =
                std::collections::HashMap::new();
            for r in &rows {
                let s: Sample = serde_json::from_str(&r.payload).map_err(|e| {
                    StoreError::Corrupt(format!("v1 sample row {} is not readable: {e}", r.id))
                })?;
                let p = PreparedSample::from_sample(&s)
                    .filter(|p| p.seq == r.seq)
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("v1 sample row {} has a bad seq", r.id))
                    })?;
                let detail = strings.encode(c, &p.sample)?;
                diesel::insert_into(samples::table)
                    .values((
                        samples::device_id.eq(r.device_id),
                        samples::seq.eq(p.seq),
                        samples::collected_at.eq(p.collected_at),
                        samples::cpu_pct.eq(p.cpu_pct),
                        samples::mem_pct.eq(p.mem_pct),
                        samples::disk_max_pct.eq(p.disk_max_pct),
                        samples::temp_max_c.eq(p.temp_max_c),
                        samples::battery_health_pct.eq(p.battery_health_pct),
                        samples::battery_charge_pct.eq(p.battery_charge_pct),
                        samples::net_rx_bytes.eq(p.net_rx_bytes),
                        samples::net_tx_bytes.eq(p.net_tx_bytes),
                        samples::detail.eq(&detail),
                        samples::hash.eq(&p.hash),
                    ))
                    .execute(c)?;
                points
                    .entry(r.device_id)
                    .or_default()
                    .push(p.rollup_point());
            }
            // The rollup migration ran before this conversion (on an empty table): roll up here.
            for (device_id, pts) in &points {
                rollups::add(c, *device_id, pts)?;
            }
            diesel::sql_query("DELETE FROM samples_v1 WHERE id <= ?")
                .bind::<BigInt, _>(last)
                .execute(c)?;
            Ok(rows.len())
        });
        match done {
            Ok(0) => break,
            Ok(n) => {
                strings.keep_pending();
                total += n;
                if total % 100_000 < n {
                    tracing::info!(converted = total, "store upgrade: converting v1 samples");
                }
            }
            Err(e) => {
                strings.clear();
                return Err(e);
            }
        }
    }
    conn.batch_execute("DROP TABLE samples_v1;")?;
    if total > 0 {
        tracing::info!(
            converted = total,
            "store upgrade: v1 samples converted to v2"
        );
        // The v1 pages are free now; give them back to the file system.
        conn.batch_execute("VACUUM;")?;
    }
    Ok(())
}
