//! Alert rules, table by table: each built-in rule through its thresholds, `for`, hysteresis and
//! resolve; offline by the clock; backlogs that raise nothing stale; flapping published once.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use rt_core::alert::config::{AlertRules, Band};
use rt_core::alert::{
    AlertKey, DeviceAlertState, RuleId, Severity, Transition, TransitionKind, evaluate, tick,
};
use rt_core::sample::{BatteryStats, DiskStats, Sample, SmartProtocol, SmartStats, ThermalSensor};

use TransitionKind::*;

/// What a test checks of a published transition.
type Seen = (RuleId, TransitionKind, Severity);

fn t0() -> DateTime<Utc> {
    "2026-11-02T00:00:00Z".parse().unwrap()
}

/// A sample at `t0 + min` minutes: one fixed disk `/` at `pct` % used, nothing else to alert on.
fn at(min: i64, pct: f64) -> Sample {
    let mut s = Sample::example(min as u64 + 1, t0() + Duration::minutes(min));
    s.disks = vec![DiskStats {
        mount_point: "/".into(),
        file_system: "ext4".into(),
        kind: "ssd".into(),
        total_bytes: 100_000,
        available_bytes: (100_000.0 - pct * 1000.0).round() as u64,
        removable: false,
        smart: None,
    }];
    s
}

fn with_smart(mut s: Sample, sm: SmartStats) -> Sample {
    s.disks[0].smart = Some(sm);
    s
}

/// Feeds samples one by one as they arrive live (a second after collection) and collects
/// `(minute, rule, kind, severity)` of every transition.
struct Live {
    state: DeviceAlertState,
    rules: AlertRules,
    seen: Vec<Transition>,
}

impl Live {
    fn new(rules: AlertRules) -> Live {
        Live {
            state: DeviceAlertState::default(),
            rules,
            seen: Vec::new(),
        }
    }

    fn feed(&mut self, s: Sample) -> Vec<Seen> {
        let now = s.collected_at + Duration::seconds(1);
        let out = evaluate(&mut self.state, &[s], &self.rules, now);
        for t in &out {
            assert!(!t.late, "live transition marked late: {t:?}");
        }
        self.seen.extend(out.iter().cloned());
        out.iter()
            .map(|t| (t.key.rule, t.kind, t.severity))
            .collect()
    }
}

fn only(rules: &[RuleId]) -> AlertRules {
    let mut r = AlertRules::default();
    let on = |id| rules.contains(&id);
    r.device_offline.enabled = on(RuleId::DeviceOffline);
    r.disk_usage.enabled = on(RuleId::DiskUsage);
    r.disk_full_forecast.enabled = on(RuleId::DiskFullForecast);
    r.smart_failed.enabled = on(RuleId::SmartFailed);
    r.drive_error_counters.enabled = on(RuleId::DriveErrorCounters);
    r.nvme_critical_warning.enabled = on(RuleId::NvmeCriticalWarning);
    r.nvme_spare_low.enabled = on(RuleId::NvmeSpareLow);
    r.nvme_endurance.enabled = on(RuleId::NvmeEnduranceUsed);
    r.nvme_media_errors.enabled = on(RuleId::NvmeMediaErrors);
    r.battery_worn.enabled = on(RuleId::BatteryWorn);
    r.battery_wear_forecast.enabled = on(RuleId::BatteryWearForecast);
    r.temperature.enabled = on(RuleId::TemperatureHigh);
    r
}

#[test]
fn disk_usage_waits_for_its_for_escalates_and_resolves_below_clear() {
    let mut l = Live::new(only(&[RuleId::DiskUsage]));
    use RuleId::DiskUsage as D;
    use Severity::*;
    // (minute, used %, expected transitions)
    let table: &[(i64, f64, &[Seen])] = &[
        (0, 50.0, &[]),
        (1, 91.0, &[]), // pending
        (5, 91.0, &[]), // 4 min: still pending (for 5 min)
        (6, 91.0, &[(D, Firing, Warning)]),
        (7, 89.0, &[]), // inside the band 88..90: stays firing
        (8, 96.0, &[(D, SeverityChanged, Critical)]),
        (9, 94.0, &[]), // critical clears below 93
        (10, 92.0, &[(D, SeverityChanged, Warning)]),
        (11, 88.0, &[]),
        (12, 87.9, &[(D, Resolved, Warning)]),
        (13, 91.0, &[]),
        (14, 50.0, &[]), // the pending episode ends without firing
        (30, 50.0, &[]),
    ];
    for (min, pct, want) in table {
        assert_eq!(&l.feed(at(*min, *pct)), want, "minute {min} at {pct}%");
    }
    let fired = &l.seen[0];
    assert_eq!(fired.at, t0() + Duration::minutes(6));
    assert_eq!(fired.active_since, Some(t0() + Duration::minutes(1)));
    assert_eq!(fired.summary, "disk / 91% full");
    assert_eq!(fired.key, AlertKey::new(D, "/"));
    assert!(l.state.open_alerts().is_empty());
}

#[test]
fn smart_failed_fires_at_once_and_resolves_when_the_drive_is_replaced() {
    let mut l = Live::new(only(&[RuleId::SmartFailed]));
    let failing = SmartStats {
        passed: false,
        protocol: Some(SmartProtocol::Ata),
        power_on_hours: Some(40_000),
        ..Default::default()
    };
    assert_eq!(
        l.feed(with_smart(at(0, 50.0), failing.clone())),
        vec![(RuleId::SmartFailed, Firing, Severity::Critical)]
    );
    // Still failing: nothing new. A sample without SMART (smartctl timed out): nothing either.
    assert_eq!(l.feed(with_smart(at(5, 50.0), failing)), vec![]);
    assert_eq!(l.feed(at(10, 50.0)), vec![]);
    let new_drive = SmartStats {
        passed: true,
        protocol: Some(SmartProtocol::Ata),
        power_on_hours: Some(3),
        ..Default::default()
    };
    assert_eq!(
        l.feed(with_smart(at(15, 50.0), new_drive)),
        vec![(RuleId::SmartFailed, Resolved, Severity::Critical)]
    );
}

fn ata(hours: u64, c5: u64, c187: u64, c188: u64, c197: u64, c198: u64) -> SmartStats {
    SmartStats {
        passed: true,
        protocol: Some(SmartProtocol::Ata),
        power_on_hours: Some(hours),
        reallocated_sectors: Some(c5),
        reported_uncorrect: Some(c187),
        command_timeouts: Some(c188),
        pending_sectors: Some(c197),
        offline_uncorrectable: Some(c198),
        ..Default::default()
    }
}

#[test]
fn any_increase_of_the_five_ata_counters_fires_and_keeps_firing_for_a_week() {
    for (which, grown) in [
        (5, ata(101, 9, 3, 0, 16, 16)),
        (187, ata(101, 8, 4, 0, 16, 16)),
        (188, ata(101, 8, 3, 1, 16, 16)),
        (197, ata(101, 8, 3, 0, 24, 16)),
        (198, ata(101, 8, 3, 0, 16, 17)),
    ] {
        let mut l = Live::new(only(&[RuleId::DriveErrorCounters]));
        // Existing counts are a baseline, not an alert.
        assert_eq!(
            l.feed(with_smart(at(0, 50.0), ata(100, 8, 3, 0, 16, 16))),
            vec![],
            "{which}"
        );
        assert_eq!(
            l.feed(with_smart(at(60, 50.0), ata(101, 8, 3, 0, 16, 16))),
            vec![],
            "{which}"
        );
        assert_eq!(
            l.feed(with_smart(at(120, 50.0), grown.clone())),
            vec![(RuleId::DriveErrorCounters, Firing, Severity::Warning)],
            "attribute {which}"
        );
        assert!(
            l.seen[0].summary.contains(&format!("({which})")),
            "{}",
            l.seen[0].summary
        );
        // No further increase: still firing six days later, resolved after seven.
        assert_eq!(
            l.feed(with_smart(at(120 + 6 * 1440, 50.0), grown.clone())),
            vec![]
        );
        assert_eq!(
            l.feed(with_smart(at(121 + 7 * 1440, 50.0), grown)),
            vec![(RuleId::DriveErrorCounters, Resolved, Severity::Warning)],
            "attribute {which}"
        );
    }
}

#[test]
fn a_pending_sector_remapped_is_no_alert_and_a_new_drive_resolves_at_once() {
    let mut l = Live::new(only(&[RuleId::DriveErrorCounters]));
    assert_eq!(
        l.feed(with_smart(at(0, 50.0), ata(100, 8, 3, 0, 16, 16))),
        vec![]
    );
    // 197 falls (sectors rewritten): new baseline, nothing fires.
    assert_eq!(
        l.feed(with_smart(at(1, 50.0), ata(100, 8, 3, 0, 4, 16))),
        vec![]
    );
    assert_eq!(
        l.feed(with_smart(at(2, 50.0), ata(100, 8, 3, 0, 5, 16)))[0].1,
        Firing
    );
    // Replaced: power-on hours went down; the old drive's alert resolves, no keep-firing week.
    assert_eq!(
        l.feed(with_smart(at(3, 50.0), ata(2, 0, 0, 0, 0, 0))),
        vec![(RuleId::DriveErrorCounters, Resolved, Severity::Warning)]
    );
}

#[test]
fn scsi_grown_defects_and_old_agents_without_protocol_are_watched_too() {
    for protocol in [Some(SmartProtocol::Scsi), None] {
        let mut l = Live::new(only(&[RuleId::DriveErrorCounters]));
        let sm = |defects| SmartStats {
            passed: true,
            protocol,
            reallocated_sectors: Some(defects),
            media_errors: Some(0),
            ..Default::default()
        };
        assert_eq!(l.feed(with_smart(at(0, 50.0), sm(56))), vec![]);
        assert_eq!(
            l.feed(with_smart(at(1, 50.0), sm(57))),
            vec![(RuleId::DriveErrorCounters, Firing, Severity::Warning)],
            "{protocol:?}"
        );
    }
}

#[test]
fn nvme_warning_spare_endurance_and_media_errors() {
    let mut l = Live::new(only(&[
        RuleId::SmartFailed,
        RuleId::NvmeCriticalWarning,
        RuleId::NvmeSpareLow,
        RuleId::NvmeEnduranceUsed,
        RuleId::NvmeMediaErrors,
        RuleId::DriveErrorCounters,
    ]));
    let nvme = |warn: u8, spare: f64, used: f64, media: u64| SmartStats {
        passed: warn == 0,
        protocol: Some(SmartProtocol::Nvme),
        power_on_hours: Some(12_798),
        critical_warning: Some(warn),
        available_spare_pct: Some(spare),
        available_spare_threshold_pct: Some(10.0),
        percentage_used: Some(used),
        media_errors: Some(media),
        ..Default::default()
    };
    assert_eq!(
        l.feed(with_smart(at(0, 50.0), nvme(0, 100.0, 80.0, 7))),
        vec![]
    );
    assert_eq!(
        l.feed(with_smart(at(1, 50.0), nvme(0, 100.0, 90.0, 8))),
        vec![
            (RuleId::NvmeEnduranceUsed, Firing, Severity::Warning),
            (RuleId::NvmeMediaErrors, Firing, Severity::Warning),
        ]
    );
    // The drive sets bit 0 when its spare falls to the threshold; SMART "failed" comes from the
    // same byte, so only the specific rule fires.
    assert_eq!(
        l.feed(with_smart(at(2, 50.0), nvme(1, 10.0, 91.0, 8))),
        vec![
            (RuleId::NvmeCriticalWarning, Firing, Severity::Critical),
            (RuleId::NvmeSpareLow, Firing, Severity::Critical),
        ]
    );
    let cw = l
        .seen
        .iter()
        .find(|t| t.key.rule == RuleId::NvmeCriticalWarning)
        .unwrap();
    assert_eq!(
        cw.summary,
        "NVMe / critical warning: available spare below threshold"
    );
    // Endurance never falls under its clear level of 85 short of a new drive.
    assert_eq!(
        l.feed(with_smart(at(3, 50.0), nvme(1, 9.0, 89.0, 8))),
        vec![]
    );
}

#[test]
fn battery_below_80_for_six_hours_fires_and_resolves_at_82() {
    let mut l = Live::new(only(&[RuleId::BatteryWorn]));
    let bat = |min: i64, h: f64| {
        let mut s = at(min, 50.0);
        s.battery = Some(BatteryStats {
            present: true,
            health_pct: Some(h),
            cycle_count: Some(612),
            charge_pct: Some(70.0),
            ..Default::default()
        });
        s
    };
    assert_eq!(l.feed(bat(0, 79.5)), vec![]);
    assert_eq!(l.feed(bat(300, 79.0)), vec![]);
    assert_eq!(
        l.feed(bat(360, 79.2)),
        vec![(RuleId::BatteryWorn, Firing, Severity::Warning)]
    );
    assert_eq!(
        l.seen[0].summary,
        "battery health 79% of design capacity, 612 cycles"
    );
    assert_eq!(l.feed(bat(400, 81.0)), vec![], "81 % is inside the band");
    assert_eq!(
        l.feed(bat(420, 82.0)),
        vec![(RuleId::BatteryWorn, Resolved, Severity::Warning)]
    );
}

#[test]
fn battery_wear_forecast_gives_the_date_it_crosses_80_with_confidence() {
    let mut l = Live::new(only(&[RuleId::BatteryWearForecast]));
    // 95 % falling 0.1 %/day, one sample a day: 80 % after 150 days.
    let mut fired = None;
    for day in 0..=80 {
        let mut s = at(day * 1440, 50.0);
        s.battery = Some(BatteryStats {
            present: true,
            health_pct: Some(95.0 - 0.1 * day as f64),
            ..Default::default()
        });
        let out = l.feed(s);
        if !out.is_empty() {
            assert_eq!(
                out,
                vec![(RuleId::BatteryWearForecast, Firing, Severity::Info)]
            );
            fired = Some(day);
            break;
        }
    }
    // 90 days ahead: fires on day 60 (crossing on day 150).
    assert_eq!(fired, Some(60));
    let t = &l.seen[0];
    let note = t.forecast.as_ref().unwrap();
    assert_eq!(note.crosses_at, t0() + Duration::days(150));
    assert!(note.r2.unwrap() > 0.99);
    assert!(
        t.summary.starts_with(
            "battery predicted below 80% of design around 2027-04-01 (in 90 days; fit R² 1.00"
        ),
        "{}",
        t.summary
    );
}

/// A laptop that is on 09:00-17:00 and asleep otherwise, its disk growing 2 %/day of wall time.
fn office_hours_disk(days: i64, start_pct: f64) -> Vec<Sample> {
    let mut out = Vec::new();
    for d in 0..days {
        for m in (9 * 60..17 * 60).step_by(15) {
            let min = d * 1440 + m;
            out.push(at(min, start_pct + 2.0 * min as f64 / 1440.0));
        }
    }
    out
}

#[test]
fn disk_full_forecast_fires_within_14_days_despite_nightly_sleep() {
    let mut l = Live::new(only(&[RuleId::DiskFullForecast]));
    // 60 % + 2 %/day: full on day 20; within 14 days from day 6.
    let mut first = None;
    for s in office_hours_disk(9, 60.0) {
        let t = s.collected_at;
        if !l.feed(s).is_empty() && first.is_none() {
            first = Some(t);
        }
    }
    let first = first.expect("the forecast fired");
    let day = (first - t0()).num_hours() as f64 / 24.0;
    assert!((6.0..7.0).contains(&day), "fired on day {day}");
    let t = &l.seen[0];
    assert_eq!(t.severity, Severity::Warning);
    let note = t.forecast.as_ref().unwrap();
    let full_day = (note.crosses_at - t0()).num_hours() as f64 / 24.0;
    assert!((full_day - 20.0).abs() < 0.5, "full on day {full_day}");
    assert!(note.r2.unwrap() > 0.95, "{note:?}");
    assert!(
        t.summary.starts_with("disk / predicted full in "),
        "{}",
        t.summary
    );
}

#[test]
fn a_cleanup_restarts_the_forecast_and_resolves_it_after_keep_firing() {
    let mut l = Live::new(only(&[RuleId::DiskFullForecast]));
    for s in office_hours_disk(8, 60.0) {
        l.feed(s);
    }
    assert_eq!(l.state.open_alerts().len(), 1);
    // Cleaned up to 40 % and flat: the old trend is dropped; 6 h later the alert resolves.
    let base = 8 * 1440 + 9 * 60;
    assert_eq!(l.feed(at(base, 40.0)), vec![]);
    assert_eq!(l.feed(at(base + 5 * 60, 40.0)), vec![]);
    assert_eq!(
        l.feed(at(base + 6 * 60, 40.0)),
        vec![(RuleId::DiskFullForecast, Resolved, Severity::Warning)]
    );
}

#[test]
fn temperature_sustained_near_critical_fires_and_clears_further_down() {
    let mut l = Live::new(only(&[RuleId::TemperatureHigh]));
    let temp = |min: i64, c: f64| {
        let mut s = at(min, 50.0);
        s.thermal = vec![ThermalSensor {
            label: "Package id 0".into(),
            temperature_c: c,
            critical_c: Some(100.0),
        }];
        s
    };
    assert_eq!(l.feed(temp(0, 96.0)), vec![]);
    assert_eq!(l.feed(temp(4, 97.0)), vec![]);
    assert_eq!(
        l.feed(temp(5, 95.0)),
        vec![(RuleId::TemperatureHigh, Firing, Severity::Critical)]
    );
    assert_eq!(l.seen[0].key.subject, "Package id 0");
    assert_eq!(l.feed(temp(6, 91.0)), vec![]);
    assert_eq!(
        l.feed(temp(7, 89.9)),
        vec![(RuleId::TemperatureHigh, Resolved, Severity::Critical)]
    );
    // A short spike is not sustained.
    assert_eq!(l.feed(temp(8, 99.0)), vec![]);
    assert_eq!(l.feed(temp(9, 70.0)), vec![]);
    // A drive uses its own critical point (SCSI drive trip 68 °C): fires at 63.
    let mut s = with_smart(
        at(20, 50.0),
        SmartStats {
            passed: true,
            temperature_c: Some(64.0),
            temperature_critical_c: Some(68.0),
            ..Default::default()
        },
    );
    s.thermal.clear();
    l.feed(s.clone());
    s.collected_at += Duration::minutes(5);
    assert_eq!(
        l.feed(s),
        vec![(RuleId::TemperatureHigh, Firing, Severity::Critical)]
    );
    assert_eq!(l.seen.last().unwrap().key.subject, "drive /");
}

#[test]
fn offline_fires_by_the_clock_after_72h_and_resolves_on_contact() {
    let rules = only(&[RuleId::DeviceOffline]);
    let mut state = DeviceAlertState::default();
    // Never heard from: nothing to say.
    assert_eq!(tick(&mut state, &rules, t0()), vec![]);
    let s = at(0, 50.0);
    let contact = s.collected_at + Duration::seconds(1);
    assert_eq!(evaluate(&mut state, &[s], &rules, contact), vec![]);
    assert_eq!(
        tick(&mut state, &rules, contact + Duration::hours(71)),
        vec![]
    );
    let fired = tick(&mut state, &rules, contact + Duration::hours(72));
    assert_eq!(fired.len(), 1);
    assert_eq!(
        (fired[0].key.rule, fired[0].kind),
        (RuleId::DeviceOffline, Firing)
    );
    assert_eq!(fired[0].summary, "no contact for 3d");
    assert_eq!(
        tick(&mut state, &rules, contact + Duration::hours(80)),
        vec![],
        "fires once"
    );
    // It comes back with a backlog: the offline alert resolves at once.
    let back = contact + Duration::hours(90);
    let out = evaluate(&mut state, &[at(60, 50.0)], &rules, back);
    assert_eq!(
        out.iter().map(|t| (t.key.rule, t.kind)).collect::<Vec<_>>(),
        vec![(RuleId::DeviceOffline, Resolved)]
    );
}

/// A two-day backlog, 5-minute samples, with `pct(minute)` used.
fn backlog(pct: impl Fn(i64) -> f64) -> Vec<Sample> {
    (0..2 * 288).map(|i| at(i * 5, pct(i * 5))).collect()
}

#[test]
fn a_backlog_raises_nothing_for_what_already_cleared() {
    let rules = only(&[RuleId::DiskUsage]);
    // Full on the first day, cleaned up on the second.
    let samples = backlog(|m| if m < 1440 { 97.0 } else { 40.0 });
    let now = samples.last().unwrap().collected_at + Duration::seconds(30);
    let mut state = DeviceAlertState::default();
    assert_eq!(evaluate(&mut state, &samples, &rules, now), vec![]);
    // The same backlog in batches of 100 (the agent's upload size): nothing either.
    let mut state = DeviceAlertState::default();
    for chunk in samples.chunks(100) {
        assert_eq!(evaluate(&mut state, chunk, &rules, now), vec![]);
    }
}

#[test]
fn what_is_still_true_when_a_backlog_arrives_fires_once_marked_late() {
    let rules = only(&[RuleId::DiskUsage]);
    let samples = backlog(|m| if m < 1440 { 40.0 } else { 97.0 });
    let now = samples.last().unwrap().collected_at + Duration::seconds(30);
    let mut state = DeviceAlertState::default();
    let mut out = Vec::new();
    for chunk in samples.chunks(100) {
        out.extend(evaluate(&mut state, chunk, &rules, now));
    }
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!((out[0].kind, out[0].severity), (Firing, Severity::Critical));
    assert!(out[0].late);
    assert_eq!(out[0].at, t0() + Duration::minutes(1440 + 5));
    assert_eq!(out[0].active_since, Some(t0() + Duration::minutes(1440)));
}

#[test]
fn a_backlog_that_stops_arriving_is_published_after_it_settles() {
    let rules = only(&[RuleId::DiskUsage]);
    let samples = backlog(|_| 97.0);
    let now = samples.last().unwrap().collected_at + Duration::hours(5);
    let mut state = DeviceAlertState::default();
    // Only the first half arrives, then the uploads stop.
    assert_eq!(evaluate(&mut state, &samples[..288], &rules, now), vec![]);
    assert_eq!(
        tick(&mut state, &rules, now + Duration::seconds(60)),
        vec![]
    );
    let out = tick(&mut state, &rules, now + Duration::seconds(120));
    assert_eq!(out.len(), 1);
    assert!(out[0].late && out[0].kind == Firing);
    assert_eq!(
        tick(&mut state, &rules, now + Duration::seconds(180)),
        vec![]
    );
}

#[test]
fn flapping_is_published_once_and_the_alert_stays_open_until_it_calms_down() {
    let mut rules = only(&[RuleId::DiskUsage]);
    rules.disk_usage.for_s = 0;
    let mut l = Live::new(rules);
    // Crossing the whole band every 5 minutes for two hours, then staying low.
    for i in 0..24 {
        l.feed(at(i * 5, if i % 2 == 0 { 91.0 } else { 80.0 }));
    }
    let kinds: Vec<TransitionKind> = l.seen.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        vec![Firing, Resolved, Firing, Resolved, Firing, FlappingStarted],
        "{:#?}",
        l.seen
    );
    for i in 24..40 {
        l.feed(at(i * 5, 80.0));
    }
    let kinds: Vec<TransitionKind> = l.seen.iter().map(|t| t.kind).skip(6).collect();
    assert_eq!(kinds, vec![FlappingStopped, Resolved]);
    assert!(l.state.open_alerts().is_empty());
}

#[test]
fn samples_older_than_the_newest_are_ignored_and_counted() {
    let rules = only(&[RuleId::DiskUsage]);
    let mut state = DeviceAlertState::default();
    let now = t0() + Duration::minutes(10);
    evaluate(&mut state, &[at(10, 50.0)], &rules, now);
    assert_eq!(evaluate(&mut state, &[at(5, 99.0)], &rules, now), vec![]);
    assert_eq!(state.out_of_order, 1);
}

#[test]
fn state_survives_a_json_round_trip_mid_alert() {
    let mut l = Live::new(AlertRules::default());
    l.feed(at(0, 96.0));
    l.feed(at(6, 96.0));
    assert_eq!(
        l.state.open_alerts(),
        vec![(AlertKey::new(RuleId::DiskUsage, "/"), Severity::Critical)]
    );
    let json = serde_json::to_string(&l.state).unwrap();
    let mut back: DeviceAlertState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, l.state);
    let out = evaluate(
        &mut back,
        &[at(7, 10.0)],
        &l.rules,
        t0() + Duration::minutes(7),
    );
    assert_eq!(
        out.iter().map(|t| t.kind).collect::<Vec<_>>(),
        vec![Resolved]
    );
}

#[test]
fn rule_config_reads_partially_and_refuses_inconsistent_bands() {
    let r: AlertRules = serde_json::from_str(
        r#"{"disk_usage": {"critical": {"fire": 98, "clear": 96}}, "late_after_s": 60}"#,
    )
    .unwrap();
    assert_eq!(
        r.disk_usage.critical,
        Band {
            fire: 98.0,
            clear: 96.0
        }
    );
    assert_eq!(r.disk_usage.warning.fire, 90.0);
    assert_eq!(r.late_after_s, 60);
    assert!(r.validate().is_empty());
    assert!(AlertRules::default().validate().is_empty());
    assert!(serde_json::from_str::<AlertRules>(r#"{"disk_usge": {}}"#).is_err());
    let mut bad = AlertRules::default();
    bad.disk_usage.warning.clear = 91.0;
    bad.battery_worn.clear_pct = 70.0;
    bad.flap_max_firings = 1;
    let fields: Vec<String> = bad.validate().into_iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        vec![
            "disk_usage.warning.clear",
            "battery_worn.clear_pct",
            "flap_max_firings"
        ]
    );
}
