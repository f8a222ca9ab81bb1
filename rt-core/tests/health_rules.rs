//! Table tests for every health rule, plus offline/unknown and level ordering.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use rt_core::api::HealthLevel::{self, *};
use rt_core::health::{HealthPolicy, evaluate, human_duration};
use rt_core::sample::{BatteryStats, DiskStats, Sample, SmartStats, ThermalSensor};

const GIB: u64 = 1024 * 1024 * 1024;
const INTERVAL: u32 = 300;

fn now() -> DateTime<Utc> {
    "2026-11-27T12:00:00Z".parse().unwrap()
}

/// A healthy sample: 37.5 % memory, no swap, / half full, no sensors, no battery.
fn healthy() -> Sample {
    Sample::example(1, now() - Duration::seconds(30))
}

fn with_disk(used_pct: u64, removable: bool) -> Sample {
    let mut s = healthy();
    s.disks = vec![DiskStats {
        mount_point: if removable { "/media/usb" } else { "/" }.into(),
        total_bytes: 1000,
        available_bytes: 1000 - used_pct * 10,
        removable,
        ..Default::default()
    }];
    s
}

fn with_sensor(label: &str, t: f64, crit: Option<f64>) -> Sample {
    let mut s = healthy();
    s.thermal = vec![ThermalSensor {
        label: label.into(),
        temperature_c: t,
        critical_c: crit,
    }];
    s
}

fn with_smart(smart: SmartStats) -> Sample {
    let mut s = healthy();
    s.disks[0].smart = Some(smart);
    s
}

fn with_battery(present: bool, health: Option<f64>) -> Sample {
    let mut s = healthy();
    s.battery = Some(BatteryStats {
        present,
        health_pct: health,
        charge_pct: Some(50.0),
        ..Default::default()
    });
    s
}

fn with_memory(mem_pct: u64, swap_total_gib: u64, swap_used_pct: u64) -> Sample {
    let mut s = healthy();
    s.memory.total_bytes = 100 * GIB;
    s.memory.used_bytes = mem_pct * GIB;
    s.memory.available_bytes = (100 - mem_pct) * GIB;
    s.memory.swap_total_bytes = swap_total_gib * GIB;
    s.memory.swap_used_bytes = swap_total_gib * GIB * swap_used_pct / 100;
    s
}

fn eval(s: &Sample) -> (HealthLevel, Vec<String>) {
    let h = evaluate(
        Some(s),
        Some(s.collected_at),
        INTERVAL,
        &HealthPolicy::default(),
        now(),
    );
    (h.level, h.reasons)
}

#[test]
fn rule_table() {
    let cases: Vec<(&str, Sample, HealthLevel, &[&str])> = vec![
        ("healthy", healthy(), Ok, &[]),
        ("disk 89%", with_disk(89, false), Ok, &[]),
        (
            "disk 90%",
            with_disk(90, false),
            Warning,
            &["disk / 90% full"],
        ),
        (
            "disk 94%",
            with_disk(94, false),
            Warning,
            &["disk / 94% full"],
        ),
        (
            "disk 95%",
            with_disk(95, false),
            Critical,
            &["disk / 95% full"],
        ),
        (
            "disk 100%",
            with_disk(100, false),
            Critical,
            &["disk / 100% full"],
        ),
        ("full removable disk", with_disk(100, true), Ok, &[]),
        (
            "SMART failed",
            with_smart(SmartStats {
                passed: false,
                ..Default::default()
            }),
            Critical,
            &["SMART failed on /"],
        ),
        (
            "SMART passed",
            with_smart(SmartStats {
                passed: true,
                percentage_used: Some(40.0),
                temperature_c: Some(45.0),
                ..Default::default()
            }),
            Ok,
            &[],
        ),
        (
            "SMART worn",
            with_smart(SmartStats {
                passed: true,
                percentage_used: Some(103.0),
                ..Default::default()
            }),
            Warning,
            &["drive / worn (103% of rated endurance used)"],
        ),
        (
            "drive hot",
            with_smart(SmartStats {
                passed: true,
                temperature_c: Some(72.0),
                ..Default::default()
            }),
            Critical,
            &["drive / temp 72°C (critical 70°C)"],
        ),
        (
            "cpu 89°C of 100",
            with_sensor("cpu", 89.0, Some(100.0)),
            Ok,
            &[],
        ),
        (
            "cpu 90°C of 100",
            with_sensor("cpu", 90.0, Some(100.0)),
            Warning,
            &["cpu temp 90°C (critical 100°C)"],
        ),
        (
            "cpu 98°C of 100",
            with_sensor("cpu", 98.0, Some(100.0)),
            Warning,
            &["cpu temp 98°C (critical 100°C)"],
        ),
        (
            "cpu at critical",
            with_sensor("cpu", 100.0, Some(100.0)),
            Critical,
            &["cpu temp 100°C (critical 100°C)"],
        ),
        (
            "sensor's own low critical point",
            with_sensor("pch", 80.0, Some(78.0)),
            Critical,
            &["pch temp 80°C (critical 78°C)"],
        ),
        (
            "no critical point: fallback 100",
            with_sensor("acpitz", 95.0, None),
            Warning,
            &["acpitz temp 95°C (critical 100°C)"],
        ),
        ("cold sensor", with_sensor("outdoor", -20.0, None), Ok, &[]),
        ("battery 60%", with_battery(true, Some(60.0)), Ok, &[]),
        (
            "battery 52%",
            with_battery(true, Some(52.0)),
            Warning,
            &["battery health 52%"],
        ),
        ("battery absent", with_battery(false, Some(10.0)), Ok, &[]),
        ("battery health unknown", with_battery(true, None), Ok, &[]),
        ("memory 94% no swap", with_memory(94, 0, 0), Ok, &[]),
        (
            "memory 97% no swap",
            with_memory(97, 0, 0),
            Warning,
            &["memory 97% used, no swap"],
        ),
        (
            "memory 97% swap 80%",
            with_memory(97, 8, 80),
            Warning,
            &["memory 97% used, swap 80%"],
        ),
        ("memory 97% swap 20%", with_memory(97, 8, 20), Ok, &[]),
        ("memory 80% swap 90%", with_memory(80, 8, 90), Ok, &[]),
    ];
    for (name, sample, level, reasons) in cases {
        let (l, r) = eval(&sample);
        assert_eq!(l, level, "{name}: {r:?}");
        assert_eq!(r, reasons, "{name}");
    }
}

#[test]
fn cpu_is_never_a_health_problem_on_its_own() {
    let mut s = healthy();
    s.cpu.usage_pct = 100.0;
    s.cpu.per_core_pct = vec![100.0; 2];
    s.cpu.load_avg = Some([64.0, 64.0, 64.0]);
    assert_eq!(eval(&s), (Ok, vec![]));
}

#[test]
fn worst_rule_wins_and_worst_reason_comes_first() {
    let mut s = with_disk(91, false);
    s.battery = Some(BatteryStats {
        present: true,
        health_pct: Some(40.0),
        ..Default::default()
    });
    s.thermal = vec![ThermalSensor {
        label: "cpu".into(),
        temperature_c: 101.0,
        critical_c: Some(100.0),
    }];
    let (level, reasons) = eval(&s);
    assert_eq!(level, Critical);
    assert_eq!(
        reasons,
        vec![
            "cpu temp 101°C (critical 100°C)",
            "disk / 91% full",
            "battery health 40%"
        ]
    );
}

#[test]
fn offline_after_three_intervals_keeps_reasons() {
    let p = HealthPolicy::default();
    let mut s = with_disk(96, false);
    // Newest sample exactly 3 intervals old: still online (the upload just now does not matter).
    s.collected_at = now() - Duration::seconds(3 * i64::from(INTERVAL));
    let h = evaluate(Some(&s), Some(now()), INTERVAL, &p, now());
    assert_eq!(h.level, Critical);
    s.collected_at = now() - Duration::hours(3);
    let h = evaluate(Some(&s), Some(now()), INTERVAL, &p, now());
    assert_eq!(h.level, Offline);
    assert_eq!(h.reasons, vec!["not seen for 3h", "disk / 96% full"]);
    // Healthy but silent: offline with only the silence as reason.
    let mut quiet = healthy();
    quiet.collected_at = now() - Duration::hours(3);
    let h = evaluate(Some(&quiet), Some(now()), INTERVAL, &p, now());
    assert_eq!(
        (h.level, h.reasons),
        (Offline, vec!["not seen for 3h".into()])
    );
    // Contacted long ago but never sent a sample.
    let h = evaluate(None, Some(now() - Duration::days(4)), INTERVAL, &p, now());
    assert_eq!(
        (h.level, h.reasons),
        (Offline, vec!["not seen for 4d".into()])
    );
}

/// A device silent for three days that uploads its backlog right now is offline, "not seen
/// for 3d": seen follows the newest sample time, not the upload.
#[test]
fn backlog_upload_does_not_make_a_silent_device_online() {
    let p = HealthPolicy::default();
    let mut s = healthy();
    s.collected_at = now() - Duration::days(3);
    let h = evaluate(Some(&s), Some(now()), INTERVAL, &p, now());
    assert_eq!(
        (h.level, h.reasons),
        (Offline, vec!["not seen for 3d".into()])
    );
    // An old last contact does not make a device with a fresh sample offline either.
    let h = evaluate(
        Some(&healthy()),
        Some(now() - Duration::days(3)),
        INTERVAL,
        &p,
        now(),
    );
    assert_eq!(h.level, Ok);
}

#[test]
fn seen_is_the_sample_time() {
    let p = HealthPolicy::default();
    let mut s = healthy();
    s.collected_at = now() - Duration::hours(2);
    assert_eq!(evaluate(Some(&s), None, INTERVAL, &p, now()).level, Offline);
    assert_eq!(
        evaluate(Some(&s), Some(now()), INTERVAL, &p, now()).level,
        Offline
    );
    s.collected_at = now();
    assert_eq!(evaluate(Some(&s), None, INTERVAL, &p, now()).level, Ok);
}

#[test]
fn lifecycle_rule_hides_offline_for_states_without_telemetry() {
    use rt_core::LifecycleState;
    use rt_core::health::for_lifecycle;
    let p = HealthPolicy::default();
    let mut s = healthy();
    s.collected_at = now() - Duration::days(3);
    let h = evaluate(Some(&s), Some(now()), INTERVAL, &p, now());
    for lc in LifecycleState::ALL {
        let got = for_lifecycle(h.clone(), lc);
        if lc.expects_telemetry() {
            assert_eq!(got.level, Offline, "{lc}");
        } else {
            assert_eq!(got.level, Unknown, "{lc}");
            assert_eq!(got.reasons, vec![format!("{lc}: not expected to report")]);
        }
    }
    let crit = evaluate(Some(&with_disk(96, false)), None, INTERVAL, &p, now());
    assert_eq!(for_lifecycle(crit.clone(), LifecycleState::InRepair), crit);
}

#[test]
fn unknown_when_never_seen_or_no_sample() {
    let p = HealthPolicy::default();
    let h = evaluate(None, None, INTERVAL, &p, now());
    assert_eq!(h.level, Unknown);
    assert_eq!(h.reasons, vec!["never reported"]);
    let h = evaluate(None, Some(now()), INTERVAL, &p, now());
    assert_eq!(h.level, Unknown);
    assert_eq!(h.reasons, vec!["no telemetry yet"]);
}

#[test]
fn clock_skew_and_zero_interval_do_not_break_it() {
    let p = HealthPolicy::default();
    let mut s = healthy();
    // A sample time in the future (agent clock ahead) is not "offline".
    s.collected_at = now() + Duration::minutes(5);
    let h = evaluate(Some(&s), None, INTERVAL, &p, now());
    assert_eq!(h.level, Ok);
    let s = healthy();
    // Interval 0 is treated as 1 s: 30 s of silence is then offline, not a panic.
    let h = evaluate(Some(&s), Some(s.collected_at), 0, &p, now());
    assert_eq!(h.level, Offline);
    assert_eq!(h.reasons, vec!["not seen for 30s"]);
}

#[test]
fn thresholds_come_from_the_policy() {
    let p = HealthPolicy {
        disk_warn_pct: 70.0,
        disk_crit_pct: 80.0,
        battery_health_warn_pct: 90.0,
        offline_after_intervals: 10,
        ..HealthPolicy::default()
    };
    let s = with_disk(75, false);
    let h = evaluate(
        Some(&s),
        Some(now() - Duration::minutes(40)),
        INTERVAL,
        &p,
        now(),
    );
    assert_eq!(
        (h.level, h.reasons),
        (Warning, vec!["disk / 75% full".into()])
    );
    let h = evaluate(
        Some(&with_battery(true, Some(85.0))),
        Some(now()),
        INTERVAL,
        &p,
        now(),
    );
    assert_eq!(h.level, Warning);
}

#[test]
fn durations_read_naturally() {
    for (s, text) in [
        (0, "0s"),
        (45, "45s"),
        (120, "2m"),
        (3 * 3600, "3h"),
        (47 * 3600, "47h"),
        (5 * 86_400, "5d"),
        (-10, "0s"),
    ] {
        assert_eq!(human_duration(s), text);
    }
}
