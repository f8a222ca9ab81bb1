//! macOS extras: battery from `ioreg -r -c AppleSmartBattery` (text form) and identity from
//! `system_profiler SPHardwareDataType -json`. Parsers are platform-neutral and tested on
//! checked-in output; only the functions that run the tools are compiled on macOS.

use super::{Identity, non_empty};
use rt_core::sample::{BatteryState, BatteryStats};
use std::collections::HashMap;

/// `"Key" = value` pairs at any depth of ioreg's text output (later keys do not override
/// earlier top-level ones).
fn ioreg_pairs(text: &str) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for line in text.lines() {
        let line = line.trim_start_matches(|c: char| c.is_whitespace() || c == '|');
        let Some(rest) = line.strip_prefix('"') else {
            continue;
        };
        let Some((key, value)) = rest.split_once("\" = ") else {
            continue;
        };
        m.entry(key.to_string())
            .or_insert_with(|| value.trim().to_string());
    }
    m
}

/// Battery from `ioreg -r -c AppleSmartBattery`; None when there is no battery.
///
/// Apple silicon reports `CurrentCapacity`/`MaxCapacity` in percent and the real capacity in
/// `AppleRawMaxCapacity`; Intel Macs report mAh in `CurrentCapacity`/`MaxCapacity`.
pub fn parse_ioreg_battery(text: &str) -> Option<BatteryStats> {
    let m = ioreg_pairs(text);
    let n = |k: &str| m.get(k).and_then(|v| v.parse::<f64>().ok());
    let yes = |k: &str| m.get(k).is_some_and(|v| v == "Yes");
    if !m.contains_key("DesignCapacity") && !m.contains_key("CurrentCapacity") {
        return None;
    }
    if m.get("BatteryInstalled").is_some_and(|v| v == "No") {
        return Some(BatteryStats {
            present: false,
            ..Default::default()
        });
    }
    let max = n("MaxCapacity");
    let percent_scale = max.is_some_and(|x| x <= 100.0);
    let charge_pct = match (n("CurrentCapacity"), max) {
        (Some(c), _) if percent_scale => Some(c),
        (Some(c), Some(x)) if x > 0.0 => Some(c * 100.0 / x),
        _ => None,
    }
    .map(|c| (c.clamp(0.0, 100.0) * 10.0).round() / 10.0);
    let full = n("AppleRawMaxCapacity").or(if percent_scale { None } else { max });
    let health_pct = match (full, n("DesignCapacity")) {
        (Some(f), Some(d)) if d > 0.0 => Some((f * 1000.0 / d).round() / 10.0),
        _ => None,
    };
    let state = if yes("FullyCharged") {
        BatteryState::Full
    } else if yes("IsCharging") {
        BatteryState::Charging
    } else if yes("ExternalConnected") {
        BatteryState::NotCharging
    } else {
        BatteryState::Discharging
    };
    Some(BatteryStats {
        present: true,
        charge_pct,
        health_pct,
        cycle_count: n("CycleCount").map(|c| c as u64),
        state,
    })
}

/// Identity from `system_profiler SPHardwareDataType -json`.
pub fn parse_system_profiler(json: &str) -> Identity {
    let v: serde_json::Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(_) => return Identity::default(),
    };
    let hw = v.pointer("/SPHardwareDataType/0");
    let s = |k: &str| {
        hw.and_then(|h| h.get(k))
            .and_then(serde_json::Value::as_str)
            .and_then(non_empty)
    };
    Identity {
        machine_id: s("platform_UUID"),
        serial_number: s("serial_number"),
        vendor: Some("Apple".into()),
        model: match (
            s("machine_name"),
            s("machine_model").or_else(|| s("model_number")),
        ) {
            (Some(n), Some(m)) => Some(format!("{n} ({m})")),
            (n, m) => n.or(m),
        },
    }
}

#[cfg(target_os = "macos")]
pub fn battery() -> Option<BatteryStats> {
    let out = super::smart::run_bounded(
        "ioreg",
        &["-r", "-c", "AppleSmartBattery"],
        std::time::Duration::from_secs(5),
    )?;
    parse_ioreg_battery(&out)
}

#[cfg(target_os = "macos")]
pub fn identity() -> Identity {
    super::smart::run_bounded(
        "system_profiler",
        &["SPHardwareDataType", "-json"],
        std::time::Duration::from_secs(20),
    )
    .map(|s| parse_system_profiler(&s))
    .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        crate::collect::read_fixture("macos", name)
    }

    #[test]
    fn apple_silicon_battery() {
        let b = parse_ioreg_battery(&fixture("ioreg_battery_m1.txt")).unwrap();
        assert!(b.present);
        assert_eq!(b.charge_pct, Some(83.0));
        assert_eq!(b.health_pct, Some(91.2)); // 4_659 / 5_107 mAh
        assert_eq!(b.cycle_count, Some(187));
        assert_eq!(b.state, BatteryState::Charging);
    }

    #[test]
    fn intel_battery_in_mah() {
        let b = parse_ioreg_battery(&fixture("ioreg_battery_intel.txt")).unwrap();
        assert_eq!(b.charge_pct, Some(50.0)); // 2_500 / 5_000 mAh
        assert_eq!(b.health_pct, Some(78.5)); // 5_000 / 6_369 mAh
        assert_eq!(b.cycle_count, Some(903));
        assert_eq!(b.state, BatteryState::Discharging);
    }

    #[test]
    fn desktop_mac_has_no_battery() {
        assert_eq!(parse_ioreg_battery(""), None);
    }

    #[test]
    fn hardware_identity() {
        let id = parse_system_profiler(&fixture("system_profiler_hardware.json"));
        assert_eq!(id.serial_number.as_deref(), Some("FVFGK0ABQ6L4"));
        assert_eq!(id.model.as_deref(), Some("MacBook Pro (MacBookPro18,3)"));
        assert_eq!(
            id.machine_id.as_deref(),
            Some("6A1C2B3D-4E5F-5A6B-8C7D-9E0F1A2B3C4D")
        );
        assert_eq!(id.vendor.as_deref(), Some("Apple"));
    }
}
