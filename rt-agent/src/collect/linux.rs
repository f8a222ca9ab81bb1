//! Linux extras read from sysfs: battery (`/sys/class/power_supply`), firmware identity
//! (`/sys/class/dmi/id`) and the machine id. Every function takes its root directory so tests
//! run on fixture trees; compiled on every platform for that reason.

use super::{Identity, non_empty};
use rt_core::sample::{BatteryState, BatteryStats};
use std::fs;
use std::path::Path;

pub const POWER_SUPPLY_DIR: &str = "/sys/class/power_supply";
pub const DMI_DIR: &str = "/sys/class/dmi/id";

fn read(dir: &Path, name: &str) -> Option<String> {
    fs::read_to_string(dir.join(name)).ok().and_then(non_empty)
}

fn read_u64(dir: &Path, name: &str) -> Option<u64> {
    read(dir, name)?.parse().ok()
}

/// The first battery under `root` (a `power_supply` directory), or None when there is none.
pub fn battery(root: &Path) -> Option<BatteryStats> {
    let mut entries: Vec<_> = fs::read_dir(root).ok()?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    entries
        .iter()
        .map(|e| e.path())
        .filter(|p| read(p, "type").is_some_and(|t| t.eq_ignore_ascii_case("Battery")))
        // Peripheral batteries (mice, headsets) report scope "Device".
        .filter(|p| read(p, "scope").is_none_or(|s| !s.eq_ignore_ascii_case("Device")))
        .find_map(|p| parse_battery_dir(&p))
}

/// Reads one `power_supply/BATn` directory.
pub fn parse_battery_dir(dir: &Path) -> Option<BatteryStats> {
    let present = read_u64(dir, "present").is_none_or(|p| p == 1);
    if !present {
        return Some(BatteryStats {
            present: false,
            ..Default::default()
        });
    }
    // Energy (µWh) on most laptops, charge (µAh) on others; both give the same ratios.
    let pair = |now: &str, full: &str, design: &str| {
        Some((
            read_u64(dir, now),
            read_u64(dir, full)?,
            read_u64(dir, design),
        ))
    };
    let (now, full, design) = pair("energy_now", "energy_full", "energy_full_design")
        .or_else(|| pair("charge_now", "charge_full", "charge_full_design"))
        .unwrap_or((None, 0, None));
    let charge_pct = read_u64(dir, "capacity")
        .map(|c| c as f64)
        .or_else(|| {
            now.filter(|_| full > 0)
                .map(|n| n as f64 * 100.0 / full as f64)
        })
        .map(|c| c.clamp(0.0, 100.0));
    let health_pct = design
        .filter(|d| *d > 0 && full > 0)
        .map(|d| round1(full as f64 * 100.0 / d as f64));
    let cycle_count = read_u64(dir, "cycle_count").filter(|c| *c > 0);
    let state = read(dir, "status")
        .map(|s| parse_state(&s))
        .unwrap_or_default();
    Some(BatteryStats {
        present: true,
        charge_pct,
        health_pct,
        cycle_count,
        state,
    })
}

/// The kernel's `status` strings.
pub fn parse_state(s: &str) -> BatteryState {
    match s.trim().to_ascii_lowercase().as_str() {
        "charging" => BatteryState::Charging,
        "discharging" => BatteryState::Discharging,
        "full" => BatteryState::Full,
        "not charging" => BatteryState::NotCharging,
        _ => BatteryState::Unknown,
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Vendor, model and serial from DMI (serial files are root-only; unreadable means None) and
/// the machine id.
pub fn identity(dmi: &Path, machine_id_file: &Path) -> Identity {
    let serial = read(dmi, "product_serial")
        .filter(|s| !rt_core::is_placeholder_serial(s))
        .or_else(|| read(dmi, "board_serial").filter(|s| !rt_core::is_placeholder_serial(s)))
        .or_else(|| read(dmi, "product_serial"));
    let model = match (read(dmi, "product_name"), read(dmi, "product_version")) {
        // Lenovo puts the marketing name in product_version and a type code in product_name.
        (Some(n), Some(v))
            if read(dmi, "sys_vendor").is_some_and(|s| s.eq_ignore_ascii_case("LENOVO")) =>
        {
            Some(format!("{v} ({n})"))
        }
        (n, _) => n,
    };
    Identity {
        machine_id: fs::read_to_string(machine_id_file).ok().and_then(non_empty),
        serial_number: serial,
        vendor: read(dmi, "sys_vendor"),
        model,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/linux")
    }

    #[test]
    fn laptop_battery_reports_charge_health_cycles_and_state() {
        let b = battery(&fixtures().join("power_supply_laptop")).unwrap();
        assert!(b.present);
        assert_eq!(b.charge_pct, Some(87.0));
        // energy_full 45_120_000 / energy_full_design 57_020_000
        assert_eq!(b.health_pct, Some(79.1));
        assert_eq!(b.cycle_count, Some(412));
        assert_eq!(b.state, BatteryState::Discharging);
    }

    #[test]
    fn charge_based_battery_and_peripheral_batteries() {
        // BAT1 uses charge_* files; the hid battery of a mouse (scope Device) is ignored.
        let b = battery(&fixtures().join("power_supply_charge")).unwrap();
        assert_eq!(b.health_pct, Some(92.5));
        assert_eq!(b.charge_pct, Some(50.0));
        assert_eq!(b.cycle_count, None, "cycle_count 0 means unknown");
        assert_eq!(b.state, BatteryState::Charging);
    }

    #[test]
    fn desktop_has_no_battery() {
        assert_eq!(battery(&fixtures().join("power_supply_desktop")), None);
        assert_eq!(battery(Path::new("/nonexistent/power_supply")), None);
    }

    #[test]
    fn dmi_identity_and_machine_id() {
        let id = identity(&fixtures().join("dmi_dell"), &fixtures().join("machine-id"));
        assert_eq!(id.vendor.as_deref(), Some("Dell Inc."));
        assert_eq!(id.model.as_deref(), Some("Latitude 7420"));
        assert_eq!(id.serial_number.as_deref(), Some("5CD1234XYZ"));
        assert_eq!(
            id.machine_id.as_deref(),
            Some("4c1f0e5e2b7d4f0c9a7e0d1c2b3a4f5e")
        );
        let id = identity(
            &fixtures().join("dmi_lenovo_placeholder"),
            Path::new("/nonexistent"),
        );
        assert_eq!(
            id.model.as_deref(),
            Some("ThinkPad T14 Gen 2i (20W0004GUS)")
        );
        // product_serial is a placeholder; the board serial identifies.
        assert_eq!(id.serial_number.as_deref(), Some("L1HF16K04FJ"));
        assert_eq!(id.machine_id, None);
    }
}
