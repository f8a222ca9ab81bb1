//! Windows extras through one PowerShell/CIM call whose JSON output is parsed here.
//!
//! The parsers are platform-neutral and tested on checked-in output of [`PS_SCRIPT`]; only the
//! small functions that run PowerShell are compiled on Windows. `ConvertTo-Json` emits a single
//! object for one instance and an array for several, so every group accepts both.

use super::{Identity, non_empty};
use rt_core::sample::{BatteryState, BatteryStats, SmartProtocol, SmartStats, ThermalSensor};
use serde_json::Value;
use std::collections::HashMap;

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

/// Disk health without smartctl: Windows' own storage reliability counters
/// (`MSFT_StorageReliabilityCounter`, what `Get-StorageReliabilityCounter` returns; it needs
/// administrator rights, which the scheduled agent has as SYSTEM) and the health status of each
/// physical disk, with the drive letters on it. Run at most once an hour with the SMART refresh
/// (see `Collector::smart`); a missing cmdlet or an unprivileged run yields nothing.
pub const STORAGE_PS_SCRIPT: &str = r#"$ErrorActionPreference = 'SilentlyContinue'
$o = [ordered]@{
  Partitions    = @(Get-Partition | Where-Object DriveLetter | Select-Object @{n='DriveLetter';e={[string]$_.DriveLetter}}, DiskNumber)
  PhysicalDisks = @(Get-PhysicalDisk | Select-Object DeviceId, FriendlyName, @{n='MediaType';e={[string]$_.MediaType}}, @{n='BusType';e={[string]$_.BusType}}, @{n='HealthStatus';e={[string]$_.HealthStatus}})
  Reliability   = @(Get-PhysicalDisk | Get-StorageReliabilityCounter | Select-Object DeviceId, Temperature, TemperatureMax, Wear, PowerOnHours, ReadErrorsUncorrected, WriteErrorsUncorrected)
}
$o | ConvertTo-Json -Depth 4 -Compress"#;

/// The key a Windows volume's SMART is filed under: its drive letter (`C:`) for a mount point
/// `C:\`; None for anything else (Linux and macOS mount points).
pub fn drive_key(mount_point: &str) -> Option<String> {
    let mut chars = mount_point.chars();
    let letter = chars.next().filter(char::is_ascii_alphabetic)?;
    (chars.next() == Some(':') && matches!(chars.as_str(), "" | "\\" | "/"))
        .then(|| format!("{}:", letter.to_ascii_uppercase()))
}

/// SMART-like health per drive letter from [`STORAGE_PS_SCRIPT`]'s output. A disk whose health
/// status is unknown gets no entry (an unknown status must not read as "failed"); counters the
/// disk does not report stay unknown. Both the string forms and the numeric codes of
/// `HealthStatus` (0 healthy, 1 warning, 2 unhealthy), `BusType` (8 RAID, 10 SAS, 11 SATA,
/// 17 NVMe) are accepted.
pub fn parse_storage(json: &str) -> HashMap<String, SmartStats> {
    let mut out = HashMap::new();
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return out;
    };
    let id = |o: &Value| match o.get("DeviceId").or_else(|| o.get("DiskNumber")) {
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let text = |o: &Value, key: &str| match o.get(key) {
        Some(Value::String(s)) => Some(s.trim().to_ascii_lowercase()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let count = |o: &Value, key: &str| o.get(key).and_then(Value::as_u64);
    let reliability: HashMap<String, Value> = all(&v, "Reliability")
        .into_iter()
        .filter_map(|r| Some((id(&r)?, r)))
        .collect();
    let mut by_disk: HashMap<String, SmartStats> = HashMap::new();
    for d in all(&v, "PhysicalDisks") {
        let Some(disk) = id(&d) else { continue };
        let passed = match text(&d, "HealthStatus").as_deref() {
            Some("healthy" | "0") => true,
            Some("warning" | "unhealthy" | "1" | "2") => false,
            _ => continue,
        };
        let protocol = match text(&d, "BusType").as_deref() {
            Some("nvme" | "17") => Some(SmartProtocol::Nvme),
            Some("sata" | "ata" | "11" | "3") => Some(SmartProtocol::Ata),
            Some("sas" | "scsi" | "10" | "1") => Some(SmartProtocol::Scsi),
            _ => None,
        };
        let mut s = SmartStats {
            passed,
            protocol,
            ..SmartStats::default()
        };
        if let Some(r) = reliability.get(&disk) {
            s.temperature_c = count(r, "Temperature").filter(|t| *t > 0).map(|t| t as f64);
            s.power_on_hours = count(r, "PowerOnHours");
            s.percentage_used = count(r, "Wear").map(|w| w as f64);
            let read = count(r, "ReadErrorsUncorrected");
            let write = count(r, "WriteErrorsUncorrected");
            s.reported_uncorrect = match (read, write) {
                (None, None) => None,
                (r, w) => Some(r.unwrap_or(0).saturating_add(w.unwrap_or(0))),
            };
        }
        by_disk.insert(disk, s);
    }
    for p in all(&v, "Partitions") {
        let (Some(letter), Some(disk)) = (text(&p, "DriveLetter"), id(&p)) else {
            continue;
        };
        if let (Some(key), Some(s)) = (drive_key(&format!("{letter}:")), by_disk.get(&disk)) {
            out.insert(key, s.clone());
        }
    }
    out
}

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

/// Storage health per drive letter (see [`STORAGE_PS_SCRIPT`]); empty when PowerShell, the
/// cmdlets or the rights are missing.
#[cfg(windows)]
pub fn storage_smart(timeout: std::time::Duration) -> HashMap<String, SmartStats> {
    super::smart::run_bounded(
        "powershell.exe",
        &[
            "-NoProfile",
            "-NonInteractive",
            "-Command",
            STORAGE_PS_SCRIPT,
        ],
        timeout,
    )
    .map(|s| parse_storage(&s))
    .unwrap_or_default()
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
    fn storage_reliability_maps_health_and_counters_to_drive_letters() {
        let m = parse_storage(&fixture("storage.json"));
        // Disk 0 (NVMe, healthy) holds C: and D:; disk 1 (SATA HDD, warning) holds E:; disk 2
        // has an unknown health status and no entry; F: is on a disk that is not listed.
        assert_eq!(m.len(), 3, "{m:?}");
        let c = &m["C:"];
        assert!(c.passed);
        assert_eq!(c.protocol, Some(SmartProtocol::Nvme));
        assert_eq!(c.temperature_c, Some(38.0));
        assert_eq!(c.percentage_used, Some(3.0));
        assert_eq!(c.power_on_hours, Some(4211));
        assert_eq!(c.reported_uncorrect, Some(0));
        assert_eq!(m["D:"], *c);
        let e = &m["E:"];
        assert!(!e.passed);
        assert_eq!(e.protocol, Some(SmartProtocol::Ata));
        assert_eq!(e.temperature_c, None); // 0 means not reported
        assert_eq!(e.reported_uncorrect, Some(19)); // 12 read + 7 write
        assert_eq!(e.percentage_used, None);
        assert!(!m.contains_key("G:"));
        assert!(!m.contains_key("F:"));
        // PowerShell missing (Wine's stub prints nothing) or garbage: nothing, no panic.
        assert!(parse_storage("").is_empty());
        assert!(parse_storage("{\"PhysicalDisks\": 5}").is_empty());
    }

    #[test]
    fn numeric_codes_and_single_objects_are_accepted() {
        let j = r#"{"Partitions":{"DriveLetter":"c","DiskNumber":0},"PhysicalDisks":{"DeviceId":"0","HealthStatus":2,"BusType":17},"Reliability":null}"#;
        let m = parse_storage(j);
        assert!(!m["C:"].passed);
        assert_eq!(m["C:"].protocol, Some(SmartProtocol::Nvme));
        assert_eq!(m["C:"].temperature_c, None);
    }

    #[test]
    fn drive_keys_only_for_drive_letters() {
        assert_eq!(drive_key("C:\\").as_deref(), Some("C:"));
        assert_eq!(drive_key("d:").as_deref(), Some("D:"));
        assert_eq!(drive_key("/"), None);
        assert_eq!(drive_key("/mnt/c"), None);
        assert_eq!(drive_key("C:\\Users"), None);
        assert_eq!(drive_key(""), None);
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
