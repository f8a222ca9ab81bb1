//! Property and table tests of forecasting: never panics, never returns a nonsense value, and a
//! steadily filling disk gets a finite date, sooner when it fills faster.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use rt_core::forecast::{ForecastRule, days_until, days_until_below, disk_forecast, linear_trend};

fn t0() -> DateTime<Utc> {
    "2026-10-01T00:00:00Z".parse().unwrap()
}

/// 14 days of used-percent points every 6 hours: start + rate·day + noise.
fn filling(start: f64, rate_per_day: f64, noise: &[f64]) -> Vec<(DateTime<Utc>, f64)> {
    (0..57)
        .map(|i| {
            let day = f64::from(i) / 4.0;
            let n = noise.get(i as usize).copied().unwrap_or(0.0);
            (
                t0() + Duration::hours(6 * i64::from(i)),
                start + rate_per_day * day + n,
            )
        })
        .collect()
}

fn end() -> DateTime<Utc> {
    t0() + Duration::days(14)
}

fn any_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        4 => -1e3..1e3f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_and_never_returns_nonsense(
        pts in prop::collection::vec((-4_000_000_000i64..8_000_000_000i64, any_float()), 0..40),
        threshold in any_float(),
        now_s in 0i64..4_000_000_000i64,
    ) {
        let pts: Vec<(DateTime<Utc>, f64)> = pts
            .into_iter()
            .filter_map(|(s, v)| DateTime::from_timestamp(s, 0).map(|t| (t, v)))
            .collect();
        let now = DateTime::from_timestamp(now_s, 0).unwrap();
        if let Some(tr) = linear_trend(&pts) {
            prop_assert!(tr.slope_per_day.is_finite() && tr.intercept.is_finite());
            prop_assert!((0.0..=1.0).contains(&tr.r2));
            prop_assert_eq!(tr.n, pts.len());
        }
        if pts.iter().any(|(_, v)| !v.is_finite()) {
            prop_assert!(linear_trend(&pts).is_none());
        }
        let rule = ForecastRule::default();
        for d in [days_until(&pts, threshold, &rule, now), days_until_below(&pts, threshold, &rule, now)]
            .into_iter()
            .flatten()
        {
            prop_assert!(d.is_finite() && d >= 0.0 && d <= rule.max_days, "{d}");
        }
        let f = disk_forecast("/", &pts, now);
        prop_assert!(f.used_pct.is_finite());
        prop_assert_eq!(f.days_until_full.is_some(), f.full_at.is_some());
    }

    #[test]
    fn steady_fill_gets_a_date_and_faster_is_sooner(
        start in 5.0..50.0f64,
        rate in 0.2..3.0f64,
        factor in 1.25..4.0f64,
        noise in prop::collection::vec(-0.3..0.3f64, 57),
    ) {
        let rule = ForecastRule::default();
        let slow = filling(start, rate, &noise);
        let fast = filling(start, rate * factor, &noise);
        let slow_last = slow.last().unwrap().1;
        let fast_last = fast.last().unwrap().1;
        prop_assume!(fast_last < 99.0);
        let d_slow = days_until(&slow, 100.0, &rule, end());
        let d_fast = days_until(&fast, 100.0, &rule, end());
        let (d_slow, d_fast) = (d_slow.unwrap(), d_fast.unwrap());
        prop_assert!(d_slow.is_finite() && d_fast.is_finite());
        prop_assert!(d_fast < d_slow, "fast {d_fast} vs slow {d_slow}");
        // Close to the true answer: (100 - current) / rate, within 10 % + 1 day.
        let expect = (100.0 - (start + rate * 14.0)) / rate;
        prop_assert!((d_slow - expect).abs() <= expect * 0.1 + 1.0, "{d_slow} vs {expect} (last {slow_last}, fast last {fast_last})");
        let f = disk_forecast("/", &slow, end());
        prop_assert_eq!(f.days_until_full, Some(d_slow));
        prop_assert!(f.full_at.unwrap() > end());
    }

    #[test]
    fn pure_noise_gets_no_date(
        level in 20.0..80.0f64,
        noise in prop::collection::vec(-5.0..5.0f64, 57),
    ) {
        // No trend, only noise of up to ±5 points: R² stays far below the 0.6 rule, so no date.
        // (For 57 independent points, R² >= 0.6 by chance has a probability below 1e-10.)
        let pts = filling(level, 0.0, &noise);
        prop_assert_eq!(days_until(&pts, 100.0, &ForecastRule::default(), end()), None);
    }
}

#[test]
fn battery_wear_forecast_falls() {
    // 92 % losing 0.1 %/day: 60 % in 320 days from the last point.
    let pts = filling(92.0 + 1.4, -0.1, &[]);
    let d = days_until_below(&pts, 60.0, &ForecastRule::default(), end()).unwrap();
    assert!((d - 320.0).abs() < 0.5, "{d}");
    // A battery that is not wearing gets no date.
    let flat = filling(90.0, 0.0, &[]);
    assert_eq!(
        days_until_below(&flat, 60.0, &ForecastRule::default(), end()),
        None
    );
    // Already below: 0 days.
    let worn = filling(55.0, -0.1, &[]);
    assert_eq!(
        days_until_below(&worn, 60.0, &ForecastRule::default(), end()),
        Some(0.0)
    );
}

#[test]
fn minimum_data_rules_are_applied() {
    let rule = ForecastRule::default();
    let pts = filling(50.0, 2.0, &[]);
    assert!(days_until(&pts, 100.0, &rule, end()).is_some());
    assert_eq!(
        days_until(&pts[..5], 100.0, &rule, end()),
        None,
        "5 points < 6"
    );
    // 6 points over 30 hours is enough; over 18 hours it is not.
    assert!(days_until(&pts[..6], 100.0, &rule, end()).is_some());
    let strict = ForecastRule {
        min_span_hours: 48.0,
        ..rule
    };
    assert_eq!(days_until(&pts[..6], 100.0, &strict, end()), None);
    let picky = ForecastRule {
        min_r2: 1.01,
        ..rule
    };
    assert_eq!(days_until(&pts, 100.0, &picky, end()), None);
    let near = ForecastRule {
        max_days: 5.0,
        ..rule
    };
    assert_eq!(days_until(&pts, 100.0, &near, end()), None, "22 days > 5");
}
