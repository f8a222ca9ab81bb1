//! Retention: how long each storage tier (raw samples, 5m/1h/1d rollups) is kept, the deletes
//! that enforce it, and the optional cap on the database's size.
//!
//! Deletes run in small batches, each its own short `BEGIN IMMEDIATE` transaction on a pooled
//! connection, with a pause after every batch that deleted something, so the ingest writer
//! (which needs the same write lock) waits at most for one batch. Batches walk the devices in id
//! order and delete per device on the `(device_id, ...)` indexes; a device's latest sample
//! (`devices.latest_seq`) is never deleted, however old: it is the device's last known state.
//! A rollup bucket expires when it ends before the cutoff (`t + width <= cutoff`).
//!
//! The cap ([`Policy::max_bytes`]) is compared with the bytes of the pages in use (SQLite's
//! `page_count - freelist_count`: deleted rows free pages that are reused, the file itself does
//! not shrink without `VACUUM`). While the database is larger than the cap, the tiers are kept
//! for fewer days, raw samples first, then 5m, 1h and 1d, each down to [`MIN_KEPT_DAYS`]; every
//! shortened tier gets a row in `retention_cut` (what `/fleet/summary`, `/metrics` and the
//! console show). When the database is back under 80 % of the cap the rows are removed and the
//! configured retention applies again (the data deleted meanwhile stays deleted).

use super::schema::{devices, retention_cut};
use super::{Store, StoreError, from_ms, to_ms};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use diesel::sqlite::SqliteConnection;
use std::collections::BTreeMap;

/// Rows deleted by one batch at most.
pub const BATCH_ROWS: i64 = 2_000;
/// Devices one batch looks at, at most.
const BATCH_DEVICES: i64 = 250;
/// Pause after a batch that deleted rows, so queued ingest gets the write lock.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(5);
/// The cap never makes a tier keep less than this.
pub const MIN_KEPT_DAYS: u32 = 1;
const DAY_MS: i64 = 86_400_000;

/// A storage tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Raw,
    Rollup5m,
    Rollup1h,
    Rollup1d,
}

impl Tier {
    /// Every tier, in the order the cap shortens them.
    pub const ALL: [Tier; 4] = [Tier::Raw, Tier::Rollup5m, Tier::Rollup1h, Tier::Rollup1d];

    /// The tier's name in the API, `/metrics` labels and `retention_cut.tier`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Raw => "raw",
            Tier::Rollup5m => "5m",
            Tier::Rollup1h => "1h",
            Tier::Rollup1d => "1d",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The rollup table and its bucket width (None for raw samples).
    fn rollup(self) -> Option<(&'static str, i64)> {
        let i = match self {
            Tier::Raw => return None,
            Tier::Rollup5m => 0,
            Tier::Rollup1h => 1,
            Tier::Rollup1d => 2,
        };
        Some(super::rollups::TIERS[i])
    }
}

/// Days kept per tier (None: forever) and the optional size cap, from `[retention]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub days: [Option<u32>; 4],
    pub max_bytes: Option<u64>,
}

impl Policy {
    pub fn from_config(r: &crate::config::Retention) -> Policy {
        let d = |v: u32| (v > 0).then_some(v);
        Policy {
            days: [
                d(r.raw_days),
                d(r.rollup_5m_days),
                d(r.rollup_1h_days),
                d(r.rollup_1d_days),
            ],
            max_bytes: r.max_database_bytes,
        }
    }

    pub fn configured(&self, tier: Tier) -> Option<u32> {
        self.days[tier.index()]
    }
}

/// A tier the cap keeps for less time than configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub tier: Tier,
    /// None: configured to be kept forever.
    pub configured_days: Option<u32>,
    pub kept_days: u32,
    /// When the cap first cut this tier.
    pub since: DateTime<Utc>,
}

#[derive(Debug, Queryable)]
struct CutRow {
    tier: String,
    configured_days: i64,
    kept_days: i64,
    since: i64,
}

/// The tiers the cap cuts now (tier order). An unreadable row is an error naming it.
pub fn cuts(conn: &mut SqliteConnection) -> Result<Vec<Cut>, StoreError> {
    let rows: Vec<CutRow> = retention_cut::table
        .select((
            retention_cut::tier,
            retention_cut::configured_days,
            retention_cut::kept_days,
            retention_cut::since,
        ))
        .load(conn)?;
    let mut out = rows
        .into_iter()
        .map(|r| {
            let tier = Tier::parse(&r.tier).ok_or_else(|| {
                StoreError::Corrupt(format!("retention_cut.tier has unknown value {:?}", r.tier))
            })?;
            let days = |v: i64, col: &str| {
                u32::try_from(v).map_err(|_| {
                    StoreError::Corrupt(format!("retention_cut.{col} has unusable value {v}"))
                })
            };
            Ok(Cut {
                tier,
                configured_days: Some(days(r.configured_days, "configured_days")?)
                    .filter(|d| *d > 0),
                kept_days: days(r.kept_days, "kept_days")?,
                since: from_ms(r.since),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by_key(|c| c.tier);
    Ok(out)
}

fn put_cut(conn: &mut SqliteConnection, cut: &Cut, now: DateTime<Utc>) -> Result<(), StoreError> {
    let configured = i64::from(cut.configured_days.unwrap_or(0));
    diesel::insert_into(retention_cut::table)
        .values((
            retention_cut::tier.eq(cut.tier.as_str()),
            retention_cut::configured_days.eq(configured),
            retention_cut::kept_days.eq(i64::from(cut.kept_days)),
            retention_cut::since.eq(to_ms(cut.since)),
            retention_cut::updated_at.eq(to_ms(now)),
        ))
        .on_conflict(retention_cut::tier)
        .do_update()
        .set((
            retention_cut::configured_days.eq(configured),
            retention_cut::kept_days.eq(i64::from(cut.kept_days)),
            retention_cut::updated_at.eq(to_ms(now)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Num {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

/// Bytes of the database's pages in use (free pages, which SQLite reuses, not counted).
pub fn used_bytes(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let r: Num = diesel::sql_query(
        "SELECT (p.page_count - f.freelist_count) * s.page_size AS n \
         FROM pragma_page_count() AS p, pragma_freelist_count() AS f, pragma_page_size() AS s",
    )
    .get_result(conn)?;
    Ok(r.n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

/// The oldest time held in a tier (ms; None when it is empty). A full scan for raw samples:
/// only needed when the cap cuts a tier that is kept forever.
fn oldest_ms(conn: &mut SqliteConnection, tier: Tier) -> Result<Option<i64>, StoreError> {
    let sql = match tier.rollup() {
        None => "SELECT MIN(collected_at) AS n FROM samples".to_string(),
        Some((table, _)) => format!("SELECT MIN(t) AS n FROM {table}"),
    };
    Ok(diesel::sql_query(sql).get_result::<Num>(conn)?.n)
}

/// What one batch did: rows deleted, and the device id after which the next batch starts
/// (None: every device was looked at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub deleted: u64,
    pub next: Option<i64>,
}

/// Delete at most `max_rows` expired rows of `tier` (older than `cutoff_ms`) of the devices
/// after `after_device`, in one short write transaction.
pub fn delete_batch(
    conn: &mut SqliteConnection,
    tier: Tier,
    cutoff_ms: i64,
    after_device: i64,
    max_rows: i64,
) -> Result<Batch, StoreError> {
    conn.immediate_transaction(|conn| {
        let devs: Vec<(i64, Option<i64>)> = devices::table
            .filter(devices::id.gt(after_device))
            .order(devices::id.asc())
            .limit(BATCH_DEVICES)
            .select((devices::id, devices::latest_seq))
            .load(conn)?;
        let mut deleted = 0u64;
        let mut left = max_rows;
        for (id, latest_seq) in &devs {
            let n = match tier.rollup() {
                // Rows whose seq is the device's latest are kept (-1 matches no seq).
                None => diesel::sql_query(
                    "DELETE FROM samples WHERE device_id = ? AND seq IN \
                     (SELECT seq FROM samples WHERE device_id = ? AND collected_at < ? \
                      AND seq <> ? LIMIT ?)",
                )
                .bind::<BigInt, _>(id)
                .bind::<BigInt, _>(id)
                .bind::<BigInt, _>(cutoff_ms)
                .bind::<BigInt, _>(latest_seq.unwrap_or(-1))
                .bind::<BigInt, _>(left)
                .execute(conn)?,
                Some((table, width)) => diesel::sql_query(format!(
                    "DELETE FROM {table} WHERE device_id = ? AND t IN \
                     (SELECT t FROM {table} WHERE device_id = ? AND t <= ? LIMIT ?)"
                ))
                .bind::<BigInt, _>(id)
                .bind::<BigInt, _>(id)
                .bind::<BigInt, _>(cutoff_ms.saturating_sub(width))
                .bind::<BigInt, _>(left)
                .execute(conn)?,
            };
            deleted += n as u64;
            left -= n as i64;
            if left <= 0 {
                // This device may have more: the next batch starts with it again.
                return Ok(Batch {
                    deleted,
                    next: Some(id - 1),
                });
            }
        }
        let next = match devs.last() {
            Some((id, _)) if devs.len() as i64 == BATCH_DEVICES => Some(*id),
            _ => None,
        };
        Ok(Batch { deleted, next })
    })
}

/// Delete everything of `tier` older than `cutoff_ms` (each device's latest sample kept), batch
/// by batch. Returns the rows deleted.
pub async fn sweep(store: &Store, tier: Tier, cutoff_ms: i64) -> Result<u64, StoreError> {
    let mut after = 0i64;
    let mut total = 0u64;
    loop {
        let b = store
            .run(move |c| delete_batch(c, tier, cutoff_ms, after, BATCH_ROWS))
            .await?;
        total += b.deleted;
        match b.next {
            Some(n) => after = n,
            None => return Ok(total),
        }
        if b.deleted > 0 {
            tokio::time::sleep(PAUSE).await;
        }
    }
}

/// What one retention run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows deleted per tier.
    pub deleted: BTreeMap<Tier, u64>,
    /// Database bytes in use after the run.
    pub used_bytes: u64,
    /// The tiers the cap cuts after the run.
    pub cuts: Vec<Cut>,
    /// The cap cut deeper in this run.
    pub cut_deeper: bool,
    /// The cuts were lifted in this run (back under 80 % of the cap, or no cap any more).
    pub lifted: bool,
    /// Still over the cap with every tier at [`MIN_KEPT_DAYS`].
    pub cap_unmet: bool,
}

/// One retention run at `now`: every tier to its retention (or what the cap left of it), then
/// the cap.
pub async fn run(store: &Store, policy: &Policy, now: DateTime<Utc>) -> Result<Report, StoreError> {
    let now_ms = to_ms(now);
    // Stored times are milliseconds; the report says what is stored.
    let now = from_ms(now_ms);
    let mut report = Report::default();
    let mut cut: BTreeMap<Tier, Cut> = store
        .run(cuts)
        .await?
        .into_iter()
        .map(|c| (c.tier, c))
        .collect();
    let effective = |tier: Tier, cut: &BTreeMap<Tier, Cut>| -> Option<u32> {
        let kept = cut.get(&tier).map(|c| c.kept_days);
        match (policy.configured(tier), kept) {
            (Some(c), Some(k)) => Some(c.min(k)),
            (c, k) => c.or(k),
        }
    };
    for tier in Tier::ALL {
        if let Some(days) = effective(tier, &cut) {
            let n = sweep(store, tier, now_ms - i64::from(days) * DAY_MS).await?;
            *report.deleted.entry(tier).or_default() += n;
        }
    }
    let mut used = store.run(used_bytes).await?;
    match policy.max_bytes {
        Some(cap) if used > cap => {
            for tier in Tier::ALL {
                while used > cap {
                    let current = match effective(tier, &cut) {
                        Some(d) => d,
                        None => match store.run(move |c| oldest_ms(c, tier)).await? {
                            // Kept forever: start from the age of its oldest data.
                            Some(oldest) => u32::try_from((now_ms - oldest).div_euclid(DAY_MS) + 1)
                                .unwrap_or(u32::MAX),
                            None => break,
                        },
                    };
                    if current <= MIN_KEPT_DAYS {
                        break;
                    }
                    let kept = current
                        .saturating_sub((current / 4).max(1))
                        .max(MIN_KEPT_DAYS);
                    let n = sweep(store, tier, now_ms - i64::from(kept) * DAY_MS).await?;
                    *report.deleted.entry(tier).or_default() += n;
                    let c = Cut {
                        tier,
                        configured_days: policy.configured(tier),
                        kept_days: kept,
                        since: cut.get(&tier).map_or(now, |c| c.since),
                    };
                    let stored = c.clone();
                    store.run(move |conn| put_cut(conn, &stored, now)).await?;
                    cut.insert(tier, c);
                    report.cut_deeper = true;
                    used = store.run(used_bytes).await?;
                }
                if used <= cap {
                    break;
                }
            }
            report.cap_unmet = used > cap;
        }
        Some(cap) if !cut.is_empty() && used < cap / 10 * 8 => {
            store.run(clear_cuts).await?;
            cut.clear();
            report.lifted = true;
        }
        None if !cut.is_empty() => {
            store.run(clear_cuts).await?;
            cut.clear();
            report.lifted = true;
        }
        _ => {}
    }
    report.used_bytes = used;
    report.cuts = cut.into_values().collect();
    Ok(report)
}

fn clear_cuts(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    diesel::delete(retention_cut::table).execute(conn)?;
    Ok(())
}

/// What retention keeps now: for `/metrics` and `/fleet/summary`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub used_bytes: u64,
    /// Days each tier keeps now (`Tier::ALL` order; None: forever).
    pub kept_days: [Option<u32>; 4],
    pub cuts: Vec<Cut>,
}

pub fn status(conn: &mut SqliteConnection, policy: &Policy) -> Result<Status, StoreError> {
    let cuts = cuts(conn)?;
    let mut kept_days = policy.days;
    for c in &cuts {
        let k = &mut kept_days[c.tier.index()];
        *k = Some(k.map_or(c.kept_days, |d| d.min(c.kept_days)));
    }
    Ok(Status {
        used_bytes: used_bytes(conn)?,
        kept_days,
        cuts,
    })
}
