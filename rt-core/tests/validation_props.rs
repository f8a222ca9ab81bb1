//! Property tests: validation never panics on arbitrary floats and strings, and never accepts
//! NaN or infinity in any float field of a sample (each one is reported at its own path).

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use rt_core::api::{EnrollRequest, TelemetryBatch};
use rt_core::sample::{BatteryStats, ProcessInfo, ProcessStats, Sample, SmartStats, ThermalSensor};
use rt_core::validate::{Problem, Validate, limits, problems_to_error};
use rt_core::{DiskInventory, Inventory};

fn now() -> DateTime<Utc> {
    "2026-11-27T12:00:00Z".parse().unwrap()
}

/// Floats with the nasty values well represented.
fn any_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        2 => -200.0..400.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(f64::MAX),
        1 => Just(f64::MIN_POSITIVE),
    ]
}

/// Every f64 field of a sample, by its path, filled from `v` (cycled).
fn fill(v: &[f64]) -> (Sample, Vec<(String, f64)>) {
    let mut it = v.iter().copied().cycle();
    let mut next = || it.next().unwrap_or(0.0);
    let mut s = Sample::example(1, now());
    let mut fields = Vec::new();
    let set = |path: &str, x: f64, fields: &mut Vec<(String, f64)>| {
        fields.push((path.to_string(), x));
        x
    };
    s.cpu.usage_pct = set("cpu.usage_pct", next(), &mut fields);
    s.cpu.per_core_pct = vec![
        set("cpu.per_core_pct[0]", next(), &mut fields),
        set("cpu.per_core_pct[1]", next(), &mut fields),
    ];
    s.cpu.load_avg = Some([
        set("cpu.load_avg[0]", next(), &mut fields),
        set("cpu.load_avg[1]", next(), &mut fields),
        set("cpu.load_avg[2]", next(), &mut fields),
    ]);
    s.disks[0].smart = Some(SmartStats {
        passed: true,
        temperature_c: Some(set("disks[0].smart.temperature_c", next(), &mut fields)),
        percentage_used: Some(set("disks[0].smart.percentage_used", next(), &mut fields)),
        ..Default::default()
    });
    s.thermal = vec![ThermalSensor {
        label: "cpu".into(),
        temperature_c: set("thermal[0].temperature_c", next(), &mut fields),
        critical_c: Some(set("thermal[0].critical_c", next(), &mut fields)),
    }];
    s.battery = Some(BatteryStats {
        present: true,
        charge_pct: Some(set("battery.charge_pct", next(), &mut fields)),
        health_pct: Some(set("battery.health_pct", next(), &mut fields)),
        ..Default::default()
    });
    s.processes = Some(ProcessStats {
        count: 1,
        top_cpu: vec![ProcessInfo {
            name: "p".into(),
            pid: 1,
            cpu_pct: set("processes.top_cpu[0].cpu_pct", next(), &mut fields),
            memory_bytes: 0,
        }],
    });
    (s, fields)
}

fn has(problems: &[Problem], field: &str) -> bool {
    problems.iter().any(|p| p.field == field)
}

/// The one text-hygiene rule (rt_core::text), as validation applies it.
fn unsafe_(s: &str) -> bool {
    rt_core::text::first_unsafe(s, false).is_some()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn non_finite_floats_are_always_reported(v in prop::collection::vec(any_float(), 16)) {
        let (s, fields) = fill(&v);
        let problems = s.validate(now());
        for (path, x) in &fields {
            if !x.is_finite() {
                prop_assert!(has(&problems, path), "{path} = {x} not reported: {problems:?}");
            }
        }
        if problems.is_empty() {
            prop_assert!(fields.iter().all(|(_, x)| x.is_finite()));
        }
        // The same sample inside a batch is reported under its index.
        let batch = TelemetryBatch { agent_version: "1".into(), samples: vec![Sample::example(2, now()), s] };
        let bp = batch.validate(now());
        for (path, x) in &fields {
            if !x.is_finite() {
                let want = format!("samples[1].{path}");
                prop_assert!(has(&bp, &want));
            }
        }
        prop_assert_eq!(bp.iter().filter(|p| p.field.starts_with("samples[0]")).count(), 0);
        let _ = problems_to_error(&bp);
    }

    #[test]
    fn arbitrary_numbers_and_times_never_panic(
        seq in any::<u64>(),
        uptime in any::<u64>(),
        secs in any::<i64>(),
        total in any::<u64>(), used in any::<u64>(), avail in any::<u64>(),
        swap_t in any::<u64>(), swap_u in any::<u64>(),
        cores in any::<u32>(), freq in any::<u64>(),
    ) {
        let mut s = Sample::example(1, now());
        s.seq = seq;
        s.uptime_s = uptime;
        if let Some(t) = DateTime::from_timestamp(secs % 400_000_000_000, 0) {
            s.collected_at = t;
            s.boot_time = Some(t);
        }
        s.memory.total_bytes = total;
        s.memory.used_bytes = used;
        s.memory.available_bytes = avail;
        s.memory.swap_total_bytes = swap_t;
        s.memory.swap_used_bytes = swap_u;
        s.disks[0].total_bytes = total;
        s.disks[0].available_bytes = avail;
        s.cpu.cores = cores;
        s.cpu.frequency_mhz = Some(freq);
        let p = s.validate(now());
        prop_assert_eq!(has(&p, "seq"), seq == 0);
        prop_assert_eq!(has(&p, "memory.used_bytes"), used > total);
        prop_assert_eq!(has(&p, "memory.swap_used_bytes"), swap_u > swap_t);
        prop_assert_eq!(has(&p, "disks[0].available_bytes"), avail > total);
        prop_assert_eq!(
            has(&p, "collected_at"),
            s.collected_at > now() + Duration::seconds(limits::MAX_FUTURE_SKEW_S)
                || s.collected_at < "2000-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn arbitrary_strings_never_panic_and_are_capped(
        host in any::<String>(),
        long in ".{250,300}",
        label in any::<String>(),
        token in prop::option::of(any::<String>()),
        user in prop::option::of(any::<String>()),
        pw in prop::option::of(any::<String>()),
    ) {
        let mut s = Sample::example(1, now());
        s.disks[0].mount_point = long.clone();
        s.thermal.push(ThermalSensor { label: label.clone(), temperature_c: 40.0, critical_c: None });
        let p = s.validate(now());
        prop_assert_eq!(
            has(&p, "disks[0].mount_point"),
            long.trim().is_empty() || long.chars().count() > limits::MAX_STRING_LEN || unsafe_(&long)
        );
        prop_assert_eq!(
            has(&p, "thermal[0].label"),
            label.chars().count() > limits::MAX_STRING_LEN || unsafe_(&label)
        );
        let req = EnrollRequest {
            enrollment_token: token.clone(),
            username: user,
            password: pw.clone(),
            inventory: Inventory {
                hostname: host.clone(),
                mac_addresses: vec![long.clone()],
                disks: vec![DiskInventory { name: label, ..Default::default() }],
                ..Default::default()
            },
            device_name: Some(long),
            asset_tag: None,
            assignee: None,
        };
        let p = req.validate(now());
        prop_assert_eq!(has(&p, "inventory.hostname"),
            host.trim().is_empty() || host.chars().count() > limits::MAX_STRING_LEN || unsafe_(&host));
        // Secrets never appear in messages.
        for secret in [token, pw].into_iter().flatten().filter(|s| s.len() >= 4) {
            prop_assert!(p.iter().all(|pr| !pr.message.contains(&secret)));
        }
        let e = problems_to_error(&p);
        prop_assert_eq!(e.error.field.is_some(), !p.is_empty());
    }
}

#[test]
fn batch_size_cap_is_exact() {
    let mk = |n: u64| TelemetryBatch {
        agent_version: "0.1.0".into(),
        samples: (1..=n).map(|i| Sample::example(i, now())).collect(),
    };
    assert!(mk(limits::MAX_SAMPLES_PER_BATCH as u64).is_valid(now()));
    let p = mk(limits::MAX_SAMPLES_PER_BATCH as u64 + 1).validate(now());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].field, "samples");
}

#[test]
fn boundaries_of_ranges() {
    let ok = |f: &dyn Fn(&mut Sample)| {
        let mut s = Sample::example(1, now());
        f(&mut s);
        s.validate(now())
    };
    assert!(ok(&|s| s.cpu.usage_pct = 100.0).is_empty());
    assert!(ok(&|s| s.cpu.usage_pct = 0.0).is_empty());
    assert!(!ok(&|s| s.cpu.usage_pct = 100.000_001).is_empty());
    assert!(!ok(&|s| s.cpu.usage_pct = -0.1).is_empty());
    assert!(
        ok(&|s| s.thermal.push(ThermalSensor {
            label: "x".into(),
            temperature_c: -50.0,
            critical_c: None
        }))
        .is_empty()
    );
    assert!(
        !ok(&|s| s.thermal.push(ThermalSensor {
            label: "x".into(),
            temperature_c: -50.5,
            critical_c: None
        }))
        .is_empty()
    );
    assert!(
        ok(&|s| s.disks[0].smart = Some(SmartStats {
            passed: true,
            percentage_used: Some(255.0),
            ..Default::default()
        }))
        .is_empty()
    );
    assert!(
        !ok(&|s| s.disks[0].smart = Some(SmartStats {
            passed: true,
            percentage_used: Some(256.0),
            ..Default::default()
        }))
        .is_empty()
    );
    assert!(
        ok(&|s| s.collected_at = now() + Duration::seconds(limits::MAX_FUTURE_SKEW_S)).is_empty()
    );
    assert!(
        !ok(&|s| s.collected_at = now() + Duration::seconds(limits::MAX_FUTURE_SKEW_S + 1))
            .is_empty()
    );
}
