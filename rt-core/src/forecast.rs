//! Trend forecasting: "disk full in N days", "battery below 60 % in N days".
//!
//! A least-squares line through (time, value) points, used only when the data earns it
//! ([`ForecastRule`]): enough points, over a long enough span, fitting the line well enough
//! (R²), and a crossing not absurdly far away. Noise, flat or falling disks get no date at all
//! rather than a nonsense one.

use crate::api::DiskForecast;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

const SECS_PER_DAY: f64 = 86_400.0;

/// A fitted line. Time is measured in days since the Unix epoch: `value(t) = intercept +
/// slope_per_day × days_since_epoch(t)`; use [`Trend::value_at`] rather than the raw intercept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub slope_per_day: f64,
    /// Value of the line at the Unix epoch (1970-01-01T00:00:00Z).
    pub intercept: f64,
    /// Coefficient of determination, 0..=1 (1 for a perfectly flat series).
    pub r2: f64,
    /// Number of points fitted.
    pub n: usize,
}

fn days_since_epoch(t: DateTime<Utc>) -> f64 {
    t.timestamp() as f64 / SECS_PER_DAY
        + f64::from(t.timestamp_subsec_millis()) / 1000.0 / SECS_PER_DAY
}

impl Trend {
    /// The line's value at time `t`.
    pub fn value_at(&self, t: DateTime<Utc>) -> f64 {
        self.intercept + self.slope_per_day * days_since_epoch(t)
    }

    /// When the line reaches `threshold` (None for a flat line or a time out of range).
    pub fn time_reaching(&self, threshold: f64) -> Option<DateTime<Utc>> {
        if self.slope_per_day == 0.0 || !self.slope_per_day.is_finite() {
            return None;
        }
        let days = (threshold - self.intercept) / self.slope_per_day;
        let secs = days * SECS_PER_DAY;
        if !secs.is_finite() || secs.abs() > 1e12 {
            return None;
        }
        DateTime::from_timestamp(secs.round() as i64, 0)
    }
}

/// Least-squares fit. None if fewer than 2 points, all points at the same time, or any value
/// not finite.
pub fn linear_trend(points: &[(DateTime<Utc>, f64)]) -> Option<Trend> {
    if points.len() < 2 || points.iter().any(|(_, v)| !v.is_finite()) {
        return None;
    }
    let n = points.len() as f64;
    // Centre on the means: keeps precision with epoch-sized x values.
    let xs: Vec<f64> = points.iter().map(|(t, _)| days_since_epoch(*t)).collect();
    let x_mean = xs.iter().sum::<f64>() / n;
    let y_mean = points.iter().map(|(_, v)| *v).sum::<f64>() / n;
    let mut sxx = 0.0;
    let mut sxy = 0.0;
    let mut syy = 0.0;
    for (x, (_, y)) in xs.iter().zip(points) {
        let dx = x - x_mean;
        let dy = y - y_mean;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = y_mean - slope * x_mean;
    let r2 = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0)
    };
    if !slope.is_finite() || !intercept.is_finite() || !r2.is_finite() {
        return None;
    }
    Some(Trend {
        slope_per_day: slope,
        intercept,
        r2,
        n: points.len(),
    })
}

/// When a trend is trusted enough to give a date.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForecastRule {
    /// Fewest points. Default 6.
    pub min_points: usize,
    /// Shortest time between first and last point, hours. Default 24.
    pub min_span_hours: f64,
    /// Lowest acceptable R² of the fit. Default 0.6.
    pub min_r2: f64,
    /// Forecasts further out than this many days are dropped (None). Default 3650.
    pub max_days: f64,
}

impl Default for ForecastRule {
    fn default() -> Self {
        ForecastRule {
            min_points: 6,
            min_span_hours: 24.0,
            min_r2: 0.6,
            max_days: 3650.0,
        }
    }
}

/// Which way the value must move to reach the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Rising up to the threshold (disk filling).
    Rising,
    /// Falling down to the threshold (battery wearing).
    Falling,
}

/// Days from `now` until a RISING value reaches `threshold`. `Some(0.0)` when the latest
/// point is already at or over it; None when not rising, not enough data, poor fit, or more
/// than `rule.max_days` away.
pub fn days_until(
    points: &[(DateTime<Utc>, f64)],
    threshold: f64,
    rule: &ForecastRule,
    now: DateTime<Utc>,
) -> Option<f64> {
    days_until_crossing(points, threshold, Direction::Rising, rule, now)
}

/// Days from `now` until a FALLING value drops to `threshold` (e.g. battery health below 60 %).
/// Same rules as [`days_until`], mirrored.
pub fn days_until_below(
    points: &[(DateTime<Utc>, f64)],
    threshold: f64,
    rule: &ForecastRule,
    now: DateTime<Utc>,
) -> Option<f64> {
    days_until_crossing(points, threshold, Direction::Falling, rule, now)
}

/// The generic forecast behind [`days_until`] and [`days_until_below`].
pub fn days_until_crossing(
    points: &[(DateTime<Utc>, f64)],
    threshold: f64,
    direction: Direction,
    rule: &ForecastRule,
    now: DateTime<Utc>,
) -> Option<f64> {
    if !threshold.is_finite() {
        return None;
    }
    let beyond = |v: f64| match direction {
        Direction::Rising => v >= threshold,
        Direction::Falling => v <= threshold,
    };
    let (_, latest) = points.iter().max_by_key(|(t, _)| *t)?;
    if latest.is_finite() && beyond(*latest) {
        return Some(0.0);
    }
    if points.len() < rule.min_points.max(2) {
        return None;
    }
    let first = points.iter().map(|(t, _)| *t).min()?;
    let last = points.iter().map(|(t, _)| *t).max()?;
    let span_h = (last - first).num_seconds() as f64 / 3600.0;
    if span_h < rule.min_span_hours {
        return None;
    }
    let trend = linear_trend(points)?;
    let heading = match direction {
        Direction::Rising => trend.slope_per_day > 0.0,
        Direction::Falling => trend.slope_per_day < 0.0,
    };
    if !heading || trend.r2 < rule.min_r2 {
        return None;
    }
    let cross_day = (threshold - trend.intercept) / trend.slope_per_day;
    let days = (cross_day - days_since_epoch(now)).max(0.0);
    (days.is_finite() && days <= rule.max_days).then_some(days)
}

/// "Disk full in N days" for one mount point from its used-percent history.
/// `used_pct` is the latest point's value (0 when there are none).
pub fn disk_forecast(
    mount_point: &str,
    points: &[(DateTime<Utc>, f64)],
    now: DateTime<Utc>,
) -> DiskForecast {
    let used_pct = points
        .iter()
        .max_by_key(|(t, _)| *t)
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .unwrap_or(0.0);
    let days = days_until(points, 100.0, &ForecastRule::default(), now);
    let full_at = days
        .and_then(|d| chrono::Duration::try_seconds((d * SECS_PER_DAY).round() as i64))
        .and_then(|d| now.checked_add_signed(d));
    DiskForecast {
        mount_point: mount_point.to_string(),
        used_pct,
        days_until_full: days,
        full_at,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        "2026-11-01T00:00:00Z".parse().unwrap()
    }

    fn series(days: i64, f: impl Fn(f64) -> f64) -> Vec<(DateTime<Utc>, f64)> {
        (0..=days * 4)
            .map(|i| {
                let t = t0() + Duration::hours(6 * i);
                (t, f(i as f64 / 4.0))
            })
            .collect()
    }

    #[test]
    fn exact_line_is_recovered() {
        let pts = series(10, |d| 50.0 + 2.0 * d);
        let tr = linear_trend(&pts).unwrap();
        assert!((tr.slope_per_day - 2.0).abs() < 1e-9);
        assert!((tr.r2 - 1.0).abs() < 1e-9);
        assert!((tr.value_at(t0()) - 50.0).abs() < 1e-6);
        assert_eq!(tr.n, pts.len());
        let when = tr.time_reaching(100.0).unwrap();
        assert_eq!(when, t0() + Duration::days(25));
    }

    #[test]
    fn degenerate_inputs_give_none() {
        assert!(linear_trend(&[]).is_none());
        assert!(linear_trend(&[(t0(), 1.0)]).is_none());
        assert!(linear_trend(&[(t0(), 1.0), (t0(), 2.0)]).is_none());
        assert!(linear_trend(&[(t0(), 1.0), (t0() + Duration::days(1), f64::NAN)]).is_none());
    }

    #[test]
    fn disk_filling_two_points_a_day() {
        let pts = series(10, |d| 50.0 + 2.0 * d);
        let now = t0() + Duration::days(10);
        let days = days_until(&pts, 100.0, &ForecastRule::default(), now).unwrap();
        assert!((days - 15.0).abs() < 1e-6, "{days}");
        let f = disk_forecast("/", &pts, now);
        assert_eq!(f.used_pct, 70.0);
        assert_eq!(f.full_at, Some(now + Duration::days(15)));
    }

    #[test]
    fn no_date_for_flat_falling_sparse_short_noisy_or_distant() {
        let rule = ForecastRule::default();
        let now = t0() + Duration::days(10);
        assert_eq!(days_until(&series(10, |_| 60.0), 100.0, &rule, now), None);
        assert_eq!(
            days_until(&series(10, |d| 60.0 - d), 100.0, &rule, now),
            None
        );
        let few: Vec<_> = series(10, |d| 50.0 + d).into_iter().step_by(10).collect();
        assert_eq!(few.len(), 5);
        assert_eq!(days_until(&few, 100.0, &rule, now), None);
        let short: Vec<_> = (0..20)
            .map(|i| (t0() + Duration::minutes(30 * i), 50.0 + i as f64))
            .collect();
        assert_eq!(days_until(&short, 100.0, &rule, now), None);
        // Alternating noise around a tiny slope: poor fit.
        let noisy = series(10, |d| {
            50.0 + 0.01 * d + if (d * 4.0) as i64 % 2 == 0 { 5.0 } else { -5.0 }
        });
        assert_eq!(days_until(&noisy, 100.0, &rule, now), None);
        // 0.001 %/day: 40,000 days away.
        assert_eq!(
            days_until(&series(10, |d| 60.0 + 0.001 * d), 100.0, &rule, now),
            None
        );
    }

    #[test]
    fn already_full_is_zero_days() {
        let pts = vec![(t0(), 100.0)];
        assert_eq!(
            days_until(&pts, 100.0, &ForecastRule::default(), t0()),
            Some(0.0)
        );
        let f = disk_forecast("/", &pts, t0());
        assert_eq!(f.days_until_full, Some(0.0));
        assert_eq!(f.full_at, Some(t0()));
    }

    #[test]
    fn battery_wear_falls_to_threshold() {
        // 90 % falling 0.5 %/day: 60 % after 60 days; 10 days observed.
        let pts = series(10, |d| 90.0 - 0.5 * d);
        let now = t0() + Duration::days(10);
        let d = days_until_below(&pts, 60.0, &ForecastRule::default(), now).unwrap();
        assert!((d - 50.0).abs() < 1e-6, "{d}");
        // Falling away from a higher threshold: never reaches it.
        assert_eq!(days_until(&pts, 95.0, &ForecastRule::default(), now), None);
    }
}
