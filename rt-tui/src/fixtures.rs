//! Deterministic fleet data with a fixed "now", for snapshot and unit tests and `--demo` style
//! rendering checks. Not used by the running console against a server.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rt_core::api::{
    DeviceDetail, DeviceEvent, DeviceSummary, DiskForecast, EventKind, FleetSummary, Health,
    HealthLevel, MetricPoint, MetricsResponse, Resolution,
};
use rt_core::sample::{
    BatteryStats, ProcessInfo, ProcessStats, SampleMetrics, SmartStats, ThermalSensor,
};
use rt_core::{DeviceId, DiskInventory, EventId, Inventory, LifecycleState, Sample};

/// The fixed "now" of every fixture: 2026-11-27 12:00:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

type Metrics5 = (f64, f64, Option<f64>, Option<f64>, Option<f64>);

#[allow(clippy::too_many_arguments)]
fn dev(
    id: i64,
    name: &str,
    assignee: Option<&str>,
    state: LifecycleState,
    level: HealthLevel,
    reasons: &[&str],
    seen_ago_s: Option<i64>,
    m: Option<Metrics5>,
) -> DeviceSummary {
    let n = now();
    let cpu_recent: Vec<f64> = match m {
        Some((cpu, ..)) => (0..24)
            .map(|i| (cpu + ((i * 37 + id as usize * 11) % 23) as f64 - 11.0).clamp(0.0, 100.0))
            .collect(),
        None => vec![],
    };
    DeviceSummary {
        id: DeviceId(id),
        name: name.into(),
        hostname: format!("{name}.corp.example"),
        asset_tag: Some(format!("AT-{:04}", 1000 + id)),
        assignee: assignee.map(str::to_string),
        lifecycle_state: state,
        health: Health {
            level,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        },
        last_seen: seen_ago_s.map(|s| n - Duration::seconds(s)),
        last_contact: seen_ago_s.map(|s| n - Duration::seconds(s)),
        metrics: m.map(|(cpu, mem, disk, temp, bat)| SampleMetrics {
            cpu_pct: cpu,
            mem_pct: mem,
            disk_max_pct: disk,
            temp_max_c: temp,
            battery_health_pct: bat,
            battery_charge_pct: bat.map(|_| 80.0),
            net_rx_bytes: Some(1_000_000),
            net_tx_bytes: Some(500_000),
        }),
        cpu_recent,
        os_name: if name.contains("mac") {
            "macOS".into()
        } else {
            "Ubuntu".into()
        },
        enrolled_at: n - Duration::days(40),
        serial_number: Some(format!("SN-{id:05}")),
        model: Some(if name.contains("mac") {
            "MacBook Pro".into()
        } else {
            "ThinkPad T14".into()
        }),
    }
}

/// Six devices covering every health level, an unassigned one, an in-stock one without data.
pub fn fleet() -> Vec<DeviceSummary> {
    use HealthLevel::*;
    use LifecycleState::*;
    vec![
        dev(
            1,
            "alice-laptop",
            Some("alice"),
            Deployed,
            Ok,
            &[],
            Some(120),
            Some((23.0, 61.0, Some(48.0), Some(55.0), Some(88.0))),
        ),
        dev(
            2,
            "build-07",
            None,
            Deployed,
            Critical,
            &["disk / 97% full", "temperature 92C (critical 90C)"],
            Some(40),
            Some((95.0, 71.0, Some(97.0), Some(92.0), None)),
        ),
        dev(
            3,
            "lab-mac-02",
            Some("bob"),
            Deployed,
            Critical,
            &["SMART failed on disk0"],
            Some(300),
            Some((12.0, 44.0, Some(63.0), Some(48.0), Some(71.0))),
        ),
        dev(
            4,
            "old-desktop",
            Some("carol"),
            Deployed,
            Offline,
            &["offline for 3d"],
            Some(3 * 86_400 + 60),
            Some((3.0, 20.0, Some(30.0), None, None)),
        ),
        dev(
            5,
            "reception-pc",
            Some("dave"),
            Deployed,
            Warning,
            &["memory 93% used"],
            Some(65),
            Some((41.0, 93.0, Some(55.0), Some(61.0), None)),
        ),
        dev(6, "spare-t14", None, InStock, Unknown, &[], None, None),
    ]
}

/// A quickstart-sized fleet of 30 devices where the devices that need a person are few: one
/// critical, three warnings (a 91 % disk, a 96 °C workstation, memory), one silent for days,
/// twelve laptops asleep since last night, the rest fine. At 80x24 the triage order must show
/// every warning and critical device on the first screen.
pub fn triage_fleet() -> Vec<DeviceSummary> {
    use HealthLevel::*;
    use LifecycleState::*;
    let ok = Some((12.0, 40.0, Some(45.0), Some(50.0), Some(90.0)));
    let mut out = vec![
        dev(
            1,
            "cad-ws-01",
            Some("dmitri.ivanov"),
            Deployed,
            Warning,
            &["temperature 96C (critical 100C)"],
            Some(60),
            Some((88.0, 70.0, Some(60.0), Some(96.0), None)),
        ),
        dev(
            2,
            "fin-laptop-03",
            Some("dmitri.petrov"),
            Deployed,
            Warning,
            &["disk / 91% full"],
            Some(120),
            Some((10.0, 55.0, Some(91.0), Some(48.0), Some(84.0))),
        ),
        dev(
            3,
            "db-backup-01",
            None,
            Deployed,
            Critical,
            &["SMART failed on sda"],
            Some(90),
            Some((5.0, 30.0, Some(70.0), Some(41.0), None)),
        ),
        dev(
            4,
            "kiosk-lobby",
            None,
            Deployed,
            Offline,
            &["offline for 6d"],
            Some(6 * 86_400),
            Some((2.0, 15.0, Some(20.0), None, None)),
        ),
        dev(
            5,
            "hr-laptop-02",
            Some("dmitri.sokolov"),
            Deployed,
            Warning,
            &["memory 94% used"],
            Some(30),
            Some((30.0, 94.0, Some(50.0), Some(55.0), Some(81.0))),
        ),
    ];
    for i in 0..12 {
        out.push(dev(
            10 + i,
            &format!("laptop-{:02}", i + 1),
            Some(&format!("dmitri.user{:02}", i + 1)),
            Deployed,
            Offline,
            &["offline for 9h"],
            Some(9 * 3600 + i * 60),
            ok,
        ));
    }
    for i in 0..13 {
        out.push(dev(
            30 + i,
            &format!("desk-{:02}", i + 1),
            Some(&format!("user{:02}", i + 1)),
            Deployed,
            Ok,
            &[],
            Some(45 + i),
            ok,
        ));
    }
    out
}

/// `n` generated devices for scrolling tests.
pub fn big_fleet(n: usize) -> Vec<DeviceSummary> {
    (0..n)
        .map(|i| {
            let level = [HealthLevel::Ok, HealthLevel::Warning, HealthLevel::Critical][i % 3];
            dev(
                i as i64 + 1,
                &format!("host-{i:05}"),
                Some("ops"),
                LifecycleState::Deployed,
                level,
                &[],
                Some((i % 600) as i64),
                Some(((i % 100) as f64, 50.0, Some(40.0), None, None)),
            )
        })
        .collect()
}

pub fn summary() -> FleetSummary {
    let f = fleet();
    let mut s = FleetSummary {
        total: f.len() as u64,
        online: 5,
        offline: 1,
        generated_at: Some(now()),
        ..Default::default()
    };
    for d in &f {
        *s.by_health
            .entry(d.health.level.as_str().into())
            .or_default() += 1;
        *s.by_lifecycle
            .entry(d.lifecycle_state.as_str().into())
            .or_default() += 1;
    }
    s
}

/// Detail of device 2 (build-07): critical, hot, disk nearly full.
pub fn detail() -> DeviceDetail {
    let summary = fleet().remove(1);
    let n = now();
    let mut latest = Sample::example(4242, n - Duration::seconds(40));
    latest.cpu.usage_pct = 95.0;
    latest.disks[0].available_bytes = 7_680_000_000;
    latest.disks[0].smart = Some(SmartStats {
        passed: true,
        temperature_c: Some(51.0),
        power_on_hours: Some(18_211),
        percentage_used: Some(37.0),
        ..Default::default()
    });
    latest.disks.push(rt_core::sample::DiskStats {
        mount_point: "/data".into(),
        file_system: "xfs".into(),
        kind: "hdd".into(),
        total_bytes: 2_000_000_000_000,
        available_bytes: 900_000_000_000,
        removable: false,
        smart: Some(SmartStats {
            passed: false,
            reallocated_sectors: Some(12),
            ..Default::default()
        }),
    });
    latest.thermal = vec![ThermalSensor {
        label: "Package id 0".into(),
        temperature_c: 92.0,
        critical_c: Some(90.0),
    }];
    latest.battery = Some(BatteryStats {
        present: false,
        ..Default::default()
    });
    latest.processes = Some(ProcessStats {
        count: 412,
        top_cpu: [
            ("rustc", 48_211, 612.5, 2_400_000_000),
            ("cc1plus", 48_190, 98.0, 800_000_000),
            ("cargo", 48_001, 12.5, 300_000_000),
            ("containerd", 911, 3.2, 120_000_000),
            ("sshd", 702, 0.4, 9_000_000),
            ("systemd", 1, 0.1, 14_000_000),
        ]
        .into_iter()
        .map(|(name, pid, cpu_pct, memory_bytes)| ProcessInfo {
            name: name.into(),
            pid,
            cpu_pct,
            memory_bytes,
        })
        .collect(),
    });
    DeviceDetail {
        summary,
        inventory: Inventory {
            hostname: "build-07.corp.example".into(),
            os_name: "Ubuntu".into(),
            os_version: "24.04".into(),
            kernel_version: "6.8.0-49-generic".into(),
            arch: "x86_64".into(),
            cpu_model: "AMD Ryzen 9 7950X".into(),
            cpu_cores: 32,
            memory_total_bytes: 64 * 1024 * 1024 * 1024,
            machine_id: Some("4f1c0d2e9a".into()),
            serial_number: Some("SN-BLD-0007".into()),
            vendor: Some("ASUS".into()),
            model: Some("ProArt B650".into()),
            mac_addresses: vec!["52:54:00:ab:cd:07".into(), "52:54:00:ab:cd:08".into()],
            disks: vec![DiskInventory {
                name: "nvme0n1".into(),
                size_bytes: 256_000_000_000,
                kind: "nvme".into(),
                ..Default::default()
            }],
        },
        notes: Some("CI runner, rack 3".into()),
        latest: Some(latest),
        forecasts: vec![
            DiskForecast {
                mount_point: "/".into(),
                used_pct: 97.0,
                days_until_full: Some(4.5),
                full_at: Some(n + Duration::hours(108)),
            },
            DiskForecast {
                mount_point: "/data".into(),
                used_pct: 55.0,
                days_until_full: None,
                full_at: None,
            },
        ],
        collection_interval_s: 300,
        allowed_transitions: LifecycleState::Deployed.allowed_next(),
    }
}

/// 24 h of 5-minute points for the detail fixture (deterministic waves).
pub fn metrics() -> MetricsResponse {
    let n = now();
    let from = n - Duration::hours(24);
    let points = (0..288)
        .map(|i| {
            let w = ((i % 48) as f64 - 24.0).abs() / 24.0; // 1..0..1 triangle wave
            MetricPoint {
                t: from + Duration::minutes(5 * i as i64),
                samples: 1,
                cpu_avg: 20.0 + 70.0 * (1.0 - w),
                cpu_max: 30.0 + 70.0 * (1.0 - w),
                mem_avg: 60.0 + (i % 12) as f64,
                mem_max: 62.0 + (i % 12) as f64,
                disk_avg: Some(90.0 + 7.0 * i as f64 / 288.0),
                disk_max: Some(90.0 + 7.0 * i as f64 / 288.0),
                temp_avg: Some(60.0 + 30.0 * (1.0 - w)),
                temp_max: Some(62.0 + 30.0 * (1.0 - w)),
                battery_health_avg: None,
                net_rx_bps: Some(1000.0 * ((i * 7) % 31) as f64),
                net_tx_bps: Some(500.0 * ((i * 5) % 17) as f64),
            }
        })
        .collect();
    MetricsResponse {
        device_id: DeviceId(2),
        from,
        to: n,
        resolution: Resolution::FiveMinutes,
        points,
        truncated: false,
    }
}

pub fn events() -> Vec<DeviceEvent> {
    let n = now();
    let ev = |id: i64, ago_h: i64, kind: EventKind, actor: &str, message: &str| DeviceEvent {
        id: EventId(id),
        device_id: DeviceId(2),
        at: n - Duration::hours(ago_h),
        kind,
        actor: actor.into(),
        message: message.into(),
        data: None,
    };
    let mut out: Vec<DeviceEvent> = (0..20)
        .map(|i| {
            ev(
                100 + i,
                2 + i,
                EventKind::SamplesMissing,
                "system",
                &format!("{} samples missing", i + 1),
            )
        })
        .collect();
    out.extend(vec![
        ev(14, 1, EventKind::AlertRaised, "system", "disk / above 95%"),
        ev(
            13,
            26,
            EventKind::LifecycleChanged,
            "admin",
            "in_stock -> deployed",
        ),
        ev(
            12,
            27,
            EventKind::AssetTagChanged,
            "admin",
            "asset tag set to AT-1002",
        ),
        ev(
            11,
            24 * 40,
            EventKind::Enrolled,
            "agent",
            "enrolled as build-07",
        ),
    ]);
    out
}

#[allow(clippy::too_many_arguments)]
fn alert(
    id: i64,
    device: i64,
    rule: &str,
    subject: &str,
    severity: rt_core::alert::Severity,
    state: rt_core::alert::api::AlertState,
    since_ago_s: i64,
    summary: &str,
) -> rt_core::alert::api::AlertInfo {
    let n = now();
    let name = fleet()
        .into_iter()
        .find(|d| d.id == DeviceId(device))
        .map_or_else(|| format!("device-{device}"), |d| d.name);
    rt_core::alert::api::AlertInfo {
        id,
        device_id: DeviceId(device),
        device_name: name,
        key: format!("{rule}:{subject}"),
        rule: rule.into(),
        subject: subject.into(),
        severity,
        state,
        since: n - Duration::seconds(since_ago_s),
        resolved_at: None,
        summary: summary.into(),
        value: None,
        forecast: None,
        late: false,
        flapping: false,
        last_evaluated: n - Duration::seconds(40),
        acknowledged_by: None,
        acknowledged_at: None,
        silenced_until: None,
    }
}

/// Alerts of the [`fleet`]: two firing with nobody on them (critical, warning and flapping),
/// one acknowledged, one silenced that fired late from a backlog, one pending, one resolved.
pub fn alerts() -> Vec<rt_core::alert::api::AlertInfo> {
    use rt_core::alert::Severity::*;
    use rt_core::alert::api::AlertState::*;
    let n = now();
    let mut v = vec![
        alert(
            11,
            2,
            "disk_usage",
            "/",
            Critical,
            Firing,
            2 * 3600,
            "disk / 97% full",
        ),
        alert(
            12,
            3,
            "smart_failed",
            "disk0",
            Critical,
            Firing,
            5 * 3600,
            "SMART self-assessment failed on disk0",
        ),
        alert(
            13,
            2,
            "temperature_high",
            "cpu",
            Warning,
            Firing,
            26 * 3600,
            "cpu at 92°C (critical 90°C)",
        ),
        alert(
            14,
            5,
            "disk_full_forecast",
            "/data",
            Warning,
            Pending,
            600,
            "disk /data predicted full in 9 days (around 2026-12-06; fit R² 0.97 over 6 days)",
        ),
        alert(
            15,
            1,
            "battery_worn",
            "BAT0",
            Warning,
            Firing,
            45 * 60,
            "battery health 71% of design capacity, 812 cycles",
        ),
        alert(
            9,
            4,
            "device_offline",
            "device",
            Info,
            Resolved,
            4 * 86_400,
            "no contact for 1 day",
        ),
    ];
    v[1].acknowledged_by = Some("alice".into());
    v[1].acknowledged_at = Some(n - Duration::hours(1));
    v[2].late = true;
    v[2].silenced_until = Some(n + Duration::hours(3) + Duration::minutes(30));
    v[4].flapping = true;
    v[5].resolved_at = Some(n - Duration::days(3));
    v
}
