//! What the rules remember between samples: bucketed histories for the trend forecasts and
//! counter baselines for "any increase" rules.

use crate::forecast::Direction;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A value's history averaged into fixed time buckets, newest last. Bucketing keeps a device
/// that reports every minute from outweighing one that slept most of the day, and gaps (sleep,
/// offline) simply leave buckets out: the fit runs on time, not on the count of samples.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Buckets {
    /// `(mean sample time as Unix seconds, mean value, samples)` per bucket. The mean time
    /// (not the bucket's start or middle) keeps the fitted line unbiased by where in its bucket
    /// a device happens to report.
    pub points: Vec<(i64, f64, u32)>,
}

impl Buckets {
    /// Adds a sample. `reset_delta`: a jump against the trend's direction larger than this
    /// between the last bucket and the new value (a disk cleaned up, a battery replaced) drops
    /// the history, since the old trend no longer applies. Keeps `history` of buckets before `t`.
    pub fn add(
        &mut self,
        t: DateTime<Utc>,
        v: f64,
        bucket_s: u64,
        history: Duration,
        reset_delta: f64,
        direction: Direction,
    ) {
        if !v.is_finite() {
            return;
        }
        let size = i64::try_from(bucket_s.max(1)).unwrap_or(i64::MAX);
        let ts = t.timestamp();
        let bucket = |x: i64| x.div_euclid(size);
        if let Some(&(_, last, _)) = self.points.last() {
            let against = match direction {
                Direction::Rising => last - v,
                Direction::Falling => v - last,
            };
            if against > reset_delta {
                self.points.clear();
            }
        }
        match self.points.last_mut() {
            Some((mt, mean, n)) if bucket(*mt) == bucket(ts) => {
                *n = n.saturating_add(1);
                let k = f64::from(*n);
                *mean += (v - *mean) / k;
                *mt += ((ts - *mt) as f64 / k).round() as i64;
            }
            Some((mt, ..)) if *mt > ts => {} // older than the newest bucket: ignored
            _ => self.points.push((ts, v, 1)),
        }
        let oldest = ts - history.num_seconds();
        let keep_from = self.points.partition_point(|(mt, ..)| *mt < oldest);
        self.points.drain(..keep_from);
    }

    /// The bucket means as `(time, value)` points for [`crate::forecast`].
    pub fn series(&self) -> Vec<(DateTime<Utc>, f64)> {
        self.points
            .iter()
            .filter_map(|(mt, m, _)| DateTime::from_timestamp(*mt, 0).map(|t| (t, *m)))
            .collect()
    }
}

/// A monotonic counter's last value and when it last went up.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Counter {
    pub value: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increased_at: Option<DateTime<Utc>>,
    /// Value before the last increase, for the alert text.
    #[serde(default)]
    pub before_increase: u64,
}

impl Counter {
    /// Records `v` at `t`; returns true when it went up. The first value is a baseline: a drive
    /// that arrives with 8 reallocated sectors raises nothing until the count grows.
    pub fn observe(&mut self, t: DateTime<Utc>, v: u64, first: bool) -> bool {
        let up = !first && v > self.value;
        if up {
            self.before_increase = self.value;
            self.increased_at = Some(t);
        }
        // A lower value (a pending sector remapped, 197 going down) is the new baseline.
        self.value = v;
        up
    }
}
