//! Windows extras through one PowerShell/CIM call whose JSON output is parsed here.
//!
//! The parsers are platform-neutral and tested on checked-in output of [`PS_SCRIPT`]; only the
//! small functions that run PowerShell are compiled on Windows. `ConvertTo-Json` emits a single
//! object for one instance and an array for several, so every group accepts both.

use super::{Identity, non_empty};
use rt_core::sample::{BatteryState, BatteryStats, ThermalSensor};
use serde_json::Value;

/// Prints one JSON document with battery, identity and thermal data. Missing classes (desktops
/// have no battery, many machines hide ACPI thermal zones) come out as null.
pub const PS_SCRIPT: &str = r#"$ErrorActionPreference = 'SilentlyContinue'
$o = [ordered]@{
  Battery        = @(Get-CimInstance -ClassName Win32_Battery | Select-Object EstimatedChargeRemaining, BatteryStatus, DesignCapacity, FullChargeCapacity, Availability)
  BatteryStatic  = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryStaticData | Select-Object DesignedCapacity)
  BatteryFull    = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryFullChargedCapacity | Select-Object FullChargedCapacity)
  BatteryCycle   = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryCycleCount | Select-Object CycleCount)
  ComputerSystem = Get-CimInstance -ClassName Win32_ComputerSystem | Select-Object Manufacturer, Model
  Bios           = Get-CimInstance -ClassName Win32_BIOS | Select-Object SerialNumber
  MachineGuid    = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Cryptography' -Name MachineGuid).MachineGuid
  Thermal        = @(Get-CimInstance -Namespace root/wmi -ClassName MSAcpi_ThermalZoneTemperature | Select-Object InstanceName, CurrentTemperature, CriticalTripPoint)
}
$o | ConvertTo-Json -Depth 4 -Compress"#;

fn first(v: &Value, key: &str) -> Option<Value> {
    match v.get(key)? {
        Value::Array(a) => a.first().cloned(),
        Value::Null => None,
        other => Some(other.clone()),
    }
}

fn all(v: &Value, key: &str) -> Vec<Value> {
    match v.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// Win32_Battery.BatteryStatus codes.
pub fn battery_state(code: u64) -> BatteryState {
    match code {
        1 | 4 | 5 => BatteryState::Discharging,
        2 | 11 => BatteryState::NotCharging,
        3 => BatteryState::Full,
        6..=9 => BatteryState::Charging,
        _ => BatteryState::Unknown,
    }
}

/// Battery from the script's output; None on a machine without one.
pub fn parse_battery(json: &str) -> Option<BatteryStats> {
    let v: Value = serde_json::from_str(json).ok()?;
    let b = first(&v, "Battery")?;
    let design = first(&v, "BatteryStatic")
        .and_then(|s| num(&s, "DesignedCapacity"))
        .or_else(|| num(&b, "DesignCapacity"))
        .filter(|d| *d > 0.0);
    let full = first(&v, "BatteryFull")
        .and_then(|s| num(&s, "FullChargedCapacity"))
        .or_else(|| num(&b, "FullChargeCapacity"))
        .filter(|f| *f > 0.0);
    let health_pct = match (full, design) {
        (Some(f), Some(d)) => Some((f * 1000.0 / d).round() / 10.0),
        _ => None,
    };
    Some(BatteryStats {
        present: true,
        charge_pct: num(&b, "EstimatedChargeRemaining").map(|c| c.clamp(0.0, 100.0)),
        health_pct,
        cycle_count: first(&v, "BatteryCycle")
            .and_then(|c| c.get("CycleCount").and_then(Value::as_u64))
            .filter(|c| *c > 0),
        state: b
            .get("BatteryStatus")
            .and_then(Value::as_u64)
            .map(battery_state)
            .unwrap_or_default(),
    })
}

/// Manufacturer, model, BIOS serial and MachineGuid.
pub fn parse_identity(json: &str) -> Identity {
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return Identity::default();
    };
    let s = |group: &str, key: &str| {
        first(&v, group)
            .and_then(|g| g.get(key).and_then(Value::as_str).map(str::to_string))
            .and_then(non_empty)
    };
    Identity {
        machine_id: v
            .get("MachineGuid")
            .and_then(Value::as_str)
            .and_then(non_empty),
        serial_number: s("Bios", "SerialNumber"),
        vendor: s("ComputerSystem", "Manufacturer"),
        model: s("ComputerSystem", "Model"),
    }
}

/// ACPI thermal zones; temperatures are tenths of a kelvin.
pub fn parse_thermal(json: &str) -> Vec<ThermalSensor> {
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let c = |dk: f64| ((dk / 10.0 - 273.15) * 100.0).round() / 100.0;
    all(&v, "Thermal")
        .iter()
        .filter_map(|t| {
            let cur = num(t, "CurrentTemperature")?;
            Some(ThermalSensor {
                label: t
                    .get("InstanceName")
                    .and_then(Value::as_str)
                    .map(|n| {
                        n.rsplit('\\')
                            .next()
                            .unwrap_or(n)
                            .trim_end_matches("_0")
                            .to_string()
                    })
                    .unwrap_or_else(|| "acpi".into()),
                temperature_c: c(cur),
                critical_c: num(t, "CriticalTripPoint").filter(|v| *v > 0.0).map(c),
            })
        })
        .collect()
}

#[cfg(windows)]
fn script_output() -> Option<String> {
    super::smart::run_bounded(
        "powershell.exe",
        &["-NoProfile", "-NonInteractive", "-Command", PS_SCRIPT],
        std::time::Duration::from_secs(20),
    )
}

#[cfg(windows)]
pub fn battery() -> Option<BatteryStats> {
    parse_battery(&script_output()?)
}

#[cfg(windows)]
pub fn identity() -> Identity {
    script_output()
        .map(|s| parse_identity(&s))
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        crate::collect::read_fixture("windows", name)
    }

    #[test]
    fn laptop_battery_identity_and_thermal() {
        let j = fixture("laptop.json");
        let b = parse_battery(&j).unwrap();
        assert_eq!(b.charge_pct, Some(64.0));
        assert_eq!(b.health_pct, Some(88.4)); // 50_350 / 56_960 mWh
        assert_eq!(b.cycle_count, Some(231));
        assert_eq!(b.state, BatteryState::Charging);
        let id = parse_identity(&j);
        assert_eq!(id.vendor.as_deref(), Some("HP"));
        assert_eq!(id.model.as_deref(), Some("HP EliteBook 840 G8 Notebook PC"));
        assert_eq!(id.serial_number.as_deref(), Some("5CG1234ABC"));
        assert_eq!(
            id.machine_id.as_deref(),
            Some("c2a5c6f1-8e4b-4c1a-9f0e-3b7d2a1e4f60")
        );
        let t = parse_thermal(&j);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].temperature_c, 47.95); // 3211 dK
        assert_eq!(t[0].critical_c, Some(128.05));
        assert_eq!(t[0].label, "TZ00");
    }

    /// Real firmware often leaves Win32_Battery's capacities empty (the capture in the fixture's
    /// README): the battery is present with its charge, its health is unknown (not 0 %), and
    /// nothing else is invented.
    #[test]
    fn real_capture_with_empty_capacities_has_unknown_health() {
        let j = fixture("hp-firefly16-battery-only.json");
        let b = parse_battery(&j).unwrap();
        assert!(b.present);
        assert_eq!(b.charge_pct, Some(44.0));
        assert_eq!(b.health_pct, None);
        assert_eq!(b.cycle_count, None);
        assert_eq!(b.state, BatteryState::Discharging);
        let id = parse_identity(&j);
        assert_eq!(id.vendor, None);
        assert_eq!(id.serial_number, None);
        assert_eq!(id.machine_id, None);
        assert!(parse_thermal(&j).is_empty());
    }

    #[test]
    fn desktop_without_battery_single_objects() {
        let j = fixture("desktop.json");
        assert_eq!(parse_battery(&j), None);
        let id = parse_identity(&j);
        assert_eq!(
            id.vendor.as_deref(),
            Some("Micro-Star International Co., Ltd.")
        );
        assert_eq!(id.serial_number.as_deref(), Some("To be filled by O.E.M."));
        assert!(parse_thermal(&j).is_empty());
        assert_eq!(battery_state(3), BatteryState::Full);
        assert_eq!(battery_state(1), BatteryState::Discharging);
    }
}
