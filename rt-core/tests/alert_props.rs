//! Property tests of alert evaluation on sample time:
//! - a value oscillating around a threshold produces at most one firing and one resolve per
//!   hysteresis cycle (value at or above `fire` after having been below `clear`);
//! - a backlog never pages for a condition that already cleared, however it is split into
//!   upload batches; and what still holds at its end fires exactly once, marked late;
//! - live and backlog evaluation end in the same open alerts.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use rt_core::alert::config::AlertRules;
use rt_core::alert::{DeviceAlertState, RuleId, Transition, TransitionKind, evaluate};
use rt_core::sample::{DiskStats, Sample};

fn t0() -> DateTime<Utc> {
    "2026-11-02T00:00:00Z".parse().unwrap()
}

fn disk_sample(i: usize, step_s: i64, pct: f64) -> Sample {
    let mut s = Sample::example(i as u64 + 1, t0() + Duration::seconds(step_s * i as i64));
    s.disks = vec![DiskStats {
        mount_point: "/".into(),
        total_bytes: 1_000_000,
        available_bytes: (1_000_000.0 - pct * 10_000.0).round() as u64,
        ..Default::default()
    }];
    s
}

/// Only the disk-usage rule, with the warning band under test and the critical level out of
/// reach.
fn rules(fire: f64, clear: f64, for_s: u64, flap: bool) -> AlertRules {
    let mut r = AlertRules::default();
    r.device_offline.enabled = false;
    r.disk_full_forecast.enabled = false;
    r.disk_usage.warning.fire = fire;
    r.disk_usage.warning.clear = clear;
    r.disk_usage.critical.fire = 1000.0;
    r.disk_usage.critical.clear = 1000.0;
    r.disk_usage.for_s = for_s;
    if !flap {
        r.flap_max_firings = u32::MAX;
    }
    r
}

/// Hysteresis cycles in a value sequence: entries into "high" (>= fire) from "low" (< clear).
fn cycles(values: &[f64], fire: f64, clear: f64) -> usize {
    let mut high = false;
    let mut n = 0;
    for v in values {
        if !high && *v >= fire {
            high = true;
            n += 1;
        } else if high && *v < clear {
            high = false;
        }
    }
    n
}

fn count(ts: &[Transition], kind: TransitionKind) -> usize {
    ts.iter().filter(|t| t.kind == kind).count()
}

/// Values hovering around `fire`: a random walk, jitter and occasional jumps.
fn hovering(fire: f64) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-4.0f64..4.0, 2..300).prop_map(move |steps| {
        let mut v = fire;
        steps
            .into_iter()
            .map(|d| {
                v = (v + d).clamp(fire - 15.0, fire + 15.0);
                (v * 10.0).round() / 10.0
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn oscillation_fires_at_most_once_per_hysteresis_cycle(
        band in 0.0f64..5.0,
        for_steps in 0u64..5,
        flap in any::<bool>(),
        values in hovering(90.0),
    ) {
        let (fire, clear) = (90.0, 90.0 - band);
        let step_s = 60;
        let r = rules(fire, clear, for_steps * step_s as u64, flap);
        let mut state = DeviceAlertState::default();
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let s = disk_sample(i, step_s, *v);
            let now = s.collected_at + Duration::seconds(1);
            out.extend(evaluate(&mut state, &[s], &r, now));
        }
        let c = cycles(&values, fire, clear);
        let fired = count(&out, TransitionKind::Firing);
        let resolved = count(&out, TransitionKind::Resolved);
        prop_assert!(fired <= c, "{fired} firings for {c} cycles: {values:?}");
        prop_assert!(resolved <= fired);
        prop_assert!(count(&out, TransitionKind::FlappingStarted) <= fired);
        // Published transitions alternate: open, (changes), close, open, ...
        let mut open = false;
        for t in &out {
            match t.kind {
                TransitionKind::Firing => { prop_assert!(!open); open = true; }
                TransitionKind::Resolved => { prop_assert!(open); open = false; }
                _ => prop_assert!(open, "{t:?} on a closed alert"),
            }
            prop_assert!(!t.late);
        }
    }

    #[test]
    fn a_backlog_never_pages_for_a_condition_that_already_cleared(
        values in hovering(90.0),
        tail in 6usize..30,
        cuts in prop::collection::vec(1usize..120, 0..6),
    ) {
        let (fire, clear) = (90.0, 88.0);
        let r = rules(fire, clear, 300, true);
        // The backlog ends with `tail` samples well below clear: whatever happened before has
        // cleared by the time it is uploaded.
        let mut all = values.clone();
        all.extend(std::iter::repeat_n(50.0, tail));
        let samples: Vec<Sample> =
            all.iter().enumerate().map(|(i, v)| disk_sample(i, 300, *v)).collect();
        let now = samples.last().unwrap().collected_at + Duration::seconds(20);
        let mut state = DeviceAlertState::default();
        let mut out = Vec::new();
        let mut rest: &[Sample] = &samples;
        for c in cuts {
            let (a, b) = rest.split_at(c.min(rest.len()));
            out.extend(evaluate(&mut state, a, &r, now));
            rest = b;
        }
        out.extend(evaluate(&mut state, rest, &r, now));
        prop_assert_eq!(out, vec![]);
        prop_assert!(state.open_alerts().is_empty());
    }

    #[test]
    fn what_holds_at_the_end_of_a_backlog_fires_once_and_late(
        values in hovering(90.0),
        tail in 2usize..30,
        cuts in prop::collection::vec(1usize..120, 0..6),
    ) {
        let r = rules(90.0, 88.0, 300, true);
        let mut all = values.clone();
        all.extend(std::iter::repeat_n(97.0, tail));
        let samples: Vec<Sample> =
            all.iter().enumerate().map(|(i, v)| disk_sample(i, 300, *v)).collect();
        let now = samples.last().unwrap().collected_at + Duration::seconds(20);
        let mut state = DeviceAlertState::default();
        let mut out = Vec::new();
        let mut rest: &[Sample] = &samples;
        for c in cuts {
            let (a, b) = rest.split_at(c.min(rest.len()));
            out.extend(evaluate(&mut state, a, &r, now));
            rest = b;
        }
        out.extend(evaluate(&mut state, rest, &r, now));
        let firing: Vec<&Transition> =
            out.iter().filter(|t| t.kind == TransitionKind::Firing).collect();
        prop_assert_eq!(firing.len(), 1, "{:#?}", out);
        prop_assert_eq!(count(&out, TransitionKind::Resolved), 0);
        prop_assert_eq!(firing[0].key.rule, RuleId::DiskUsage);
        // Late unless it began within late_after_s of the upload.
        let late = firing[0].at < now - Duration::seconds(r.late_after_s as i64);
        prop_assert_eq!(firing[0].late, late);
        prop_assert_eq!(state.open_alerts().len(), 1);
    }

    #[test]
    fn live_and_backlog_evaluation_end_in_the_same_open_alerts(
        values in hovering(90.0),
        for_steps in 0u64..4,
    ) {
        let r = rules(90.0, 87.0, for_steps * 300, true);
        let samples: Vec<Sample> =
            values.iter().enumerate().map(|(i, v)| disk_sample(i, 300, *v)).collect();
        let end = samples.last().unwrap().collected_at + Duration::seconds(1);
        let mut live = DeviceAlertState::default();
        for s in &samples {
            evaluate(&mut live, std::slice::from_ref(s), &r, s.collected_at + Duration::seconds(1));
        }
        let mut batch = DeviceAlertState::default();
        evaluate(&mut batch, &samples, &r, end);
        prop_assert_eq!(live.open_alerts(), batch.open_alerts());
    }
}
