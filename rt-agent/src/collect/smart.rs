//! SMART health via `smartctl --json` (smartmontools ≥ 7), when installed.
//!
//! Absence of smartctl, lack of privileges and unsupported devices are not errors: the disk
//! simply has no `smart` block. Every run is bounded by a timeout and the child is killed when
//! it overruns (a hung USB bridge must not stall collection).

use rt_core::sample::{SmartProtocol, SmartStats};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Parses `smartctl --json -a DEV` output for ATA (including SATA behind USB/SAT bridges), NVMe
/// and SCSI/SAS drives. None when the output carries no SMART verdict (device without SMART, or
/// smartctl could not open it). Key names follow smartmontools' own JSON writers
/// (`ataprint.cpp`, `nvmeprint.cpp`, `scsiprint.cpp`).
pub fn parse_smartctl(json: &str) -> Option<SmartStats> {
    let v: Value = serde_json::from_str(json).ok()?;
    let passed = v.pointer("/smart_status/passed")?.as_bool()?;
    let protocol = v
        .pointer("/device/protocol")
        .and_then(Value::as_str)
        .map(|p| match p.to_ascii_lowercase().as_str() {
            "ata" => SmartProtocol::Ata,
            "nvme" => SmartProtocol::Nvme,
            "scsi" => SmartProtocol::Scsi,
            _ => SmartProtocol::Other,
        });
    let nvme_log = |k: &str| v.pointer(&format!("/nvme_smart_health_information_log/{k}"));
    let nvme = |k: &str| nvme_log(k).and_then(Value::as_u64);
    let temperature_c = v
        .pointer("/temperature/current")
        .and_then(Value::as_f64)
        .or_else(|| nvme_log("temperature").and_then(Value::as_f64));
    let power_on_hours = v
        .pointer("/power_on_time/hours")
        .and_then(Value::as_u64)
        .or_else(|| nvme("power_on_hours"));
    let ata_attr = |id: u64| {
        v.pointer("/ata_smart_attributes/table")
            .and_then(Value::as_array)
            .and_then(|t| {
                t.iter()
                    .find(|a| a.get("id").and_then(Value::as_u64) == Some(id))
            })
            .and_then(|a| a.pointer("/raw/value"))
            .and_then(Value::as_u64)
    };
    // SCSI error counter log: uncorrected errors of the read, write and verify pages.
    let scsi_uncorrected = v
        .pointer("/scsi_error_counter_log")
        .and_then(Value::as_object)
        .map(|pages| {
            pages
                .values()
                .filter_map(|p| p.get("total_uncorrected_errors").and_then(Value::as_u64))
                .fold(0u64, u64::saturating_add)
        });
    let pct = |x: Option<u64>| x.map(|p| p as f64);
    // A drive's own limit: NVMe CCTEMP, SCSI drive trip, ATA maximum operating temperature
    // (SCT status or device statistics, only in `-x` output). Zero means "not reported".
    let mut limits = vec!["/temperature/critical_limit_max", "/temperature/drive_trip"];
    if protocol == Some(SmartProtocol::Ata) {
        limits.extend([
            "/temperature/op_limit_max",
            "/ata_sct_status/temperature/op_limit_max",
        ]);
    }
    let temperature_critical_c = limits
        .iter()
        .find_map(|p| v.pointer(p).and_then(Value::as_f64).filter(|t| *t > 0.0));
    Some(SmartStats {
        passed,
        temperature_c,
        power_on_hours,
        // ATA attribute 5 (Reallocated_Sector_Ct); SCSI grown defect list.
        reallocated_sectors: ata_attr(5)
            .or_else(|| v.pointer("/scsi_grown_defect_list").and_then(Value::as_u64)),
        // NVMe media errors; ATA 187 (Reported_Uncorrect); SCSI uncorrected errors.
        media_errors: nvme("media_errors")
            .or_else(|| ata_attr(187))
            .or(scsi_uncorrected),
        percentage_used: pct(nvme("percentage_used")),
        protocol,
        reported_uncorrect: ata_attr(187),
        command_timeouts: ata_attr(188),
        pending_sectors: ata_attr(197),
        offline_uncorrectable: ata_attr(198),
        critical_warning: nvme("critical_warning").and_then(|w| u8::try_from(w).ok()),
        available_spare_pct: pct(nvme("available_spare")).filter(|p| *p <= 100.0),
        available_spare_threshold_pct: pct(nvme("available_spare_threshold"))
            .filter(|p| *p <= 100.0),
        temperature_critical_c,
    })
}

/// Parses `smartctl --json --scan` into device paths.
pub fn parse_scan(json: &str) -> Vec<String> {
    serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| v.get("devices").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// `/dev/sda1` -> `/dev/sda`, `/dev/nvme0n1p2` -> `/dev/nvme0n1`, `/dev/mmcblk0p1` ->
/// `/dev/mmcblk0`; device-mapper and others: None.
pub fn parent_block_device(name: &str) -> Option<String> {
    let dev = name.strip_prefix("/dev/")?;
    if dev.starts_with("nvme") || dev.starts_with("mmcblk") {
        return Some(match dev.rfind('p') {
            Some(i)
                if i > 4
                    && dev[i + 1..].chars().all(|c| c.is_ascii_digit())
                    && i + 1 < dev.len() =>
            {
                format!("/dev/{}", &dev[..i])
            }
            _ => name.to_string(),
        });
    }
    if dev.starts_with("sd")
        || dev.starts_with("hd")
        || dev.starts_with("vd")
        || dev.starts_with("xvd")
    {
        let base = dev.trim_end_matches(|c: char| c.is_ascii_digit());
        return Some(format!("/dev/{base}"));
    }
    None
}

/// SMART for a block device: smartctl names NVMe controllers (`/dev/nvme0`) where mounts name
/// namespaces (`/dev/nvme0n1`).
pub fn lookup<'a>(m: &'a HashMap<String, SmartStats>, dev: &str) -> Option<&'a SmartStats> {
    m.get(dev).or_else(|| {
        let ctrl = dev.strip_prefix("/dev/nvme")?;
        let n = ctrl.find('n')?;
        m.get(&format!("/dev/nvme{}", &ctrl[..n]))
    })
}

/// Runs a command, killing it after `timeout`. Returns stdout when it ran to completion
/// (any exit code: smartctl uses bits of it for warnings).
pub fn run_bounded(cmd: &str, args: &[&str], timeout: Duration) -> Option<String> {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    reader.join().ok()
}

/// SMART for every device smartctl can see, keyed by device path. Empty when smartctl is
/// missing or not permitted. `budget` bounds the whole run.
pub fn collect_all(budget: Duration) -> HashMap<String, SmartStats> {
    let mut out = HashMap::new();
    let start = Instant::now();
    let Some(scan) = run_bounded("smartctl", &["--json", "--scan"], budget) else {
        return out;
    };
    for dev in parse_scan(&scan) {
        let left = budget.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        // -n standby: do not spin up a sleeping disk just to read its counters.
        if let Some(json) = run_bounded("smartctl", &["--json", "-a", "-n", "standby", &dev], left)
            && let Some(s) = parse_smartctl(&json)
        {
            out.insert(dev, s);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        crate::collect::read_fixture("smartctl", name)
    }

    #[test]
    fn ata_ssd_report() {
        let s = parse_smartctl(&fixture("ata_ssd.json")).unwrap();
        assert!(s.passed);
        assert_eq!(s.temperature_c, Some(34.0));
        assert_eq!(s.power_on_hours, Some(18231));
        assert_eq!(s.reallocated_sectors, Some(0));
        assert_eq!(s.media_errors, Some(0));
        assert_eq!(s.percentage_used, None);
    }

    #[test]
    fn nvme_report() {
        let s = parse_smartctl(&fixture("nvme.json")).unwrap();
        assert!(s.passed);
        assert_eq!(s.temperature_c, Some(41.0));
        assert_eq!(s.power_on_hours, Some(4521));
        assert_eq!(s.media_errors, Some(0));
        assert_eq!(s.percentage_used, Some(3.0));
    }

    #[test]
    fn failing_hdd_report() {
        let s = parse_smartctl(&fixture("ata_hdd_failing.json")).unwrap();
        assert!(!s.passed);
        assert_eq!(s.reallocated_sectors, Some(1864));
        assert_eq!(s.media_errors, Some(37));
    }

    /// Every drive family parses into a sample the server accepts.
    fn valid(s: &SmartStats) {
        let now = chrono::Utc::now();
        let mut sample = rt_core::Sample::example(1, now);
        sample.disks[0].smart = Some(s.clone());
        assert_eq!(rt_core::Validate::validate(&sample, now), vec![]);
    }

    #[test]
    fn ata_hdd_with_backblaze_counters() {
        let s = parse_smartctl(&fixture("ata_hdd_counters.json")).unwrap();
        assert!(s.passed, "the verdict still passes while counters grow");
        assert_eq!(s.protocol, Some(SmartProtocol::Ata));
        assert_eq!(s.reallocated_sectors, Some(8));
        assert_eq!(s.reported_uncorrect, Some(3));
        assert_eq!(s.media_errors, Some(3));
        // Seagate packs three 16-bit counters into attribute 188's raw value.
        assert_eq!(s.command_timeouts, Some(4_295_032_833));
        assert_eq!(s.pending_sectors, Some(16));
        assert_eq!(s.offline_uncorrectable, Some(16));
        assert_eq!(s.temperature_c, Some(39.0));
        assert_eq!(
            s.temperature_critical_c, None,
            "-a output has no SCT limits"
        );
        assert_eq!(s.critical_warning, None);
        assert_eq!(s.available_spare_pct, None);
        valid(&s);
    }

    #[test]
    fn nvme_worn_drive_with_critical_warning() {
        let s = parse_smartctl(&fixture("nvme_worn.json")).unwrap();
        assert!(!s.passed);
        assert_eq!(s.protocol, Some(SmartProtocol::Nvme));
        assert_eq!(s.critical_warning, Some(1));
        assert_eq!(s.available_spare_pct, Some(8.0));
        assert_eq!(s.available_spare_threshold_pct, Some(10.0));
        assert_eq!(s.percentage_used, Some(92.0));
        assert_eq!(s.media_errors, Some(7));
        // The critical limit, not the warning one (op_limit_max 82).
        assert_eq!(s.temperature_critical_c, Some(85.0));
        assert_eq!(s.reported_uncorrect, None);
        assert_eq!(s.pending_sectors, None);
        valid(&s);
    }

    #[test]
    fn scsi_sas_drive() {
        let s = parse_smartctl(&fixture("scsi_sas.json")).unwrap();
        assert!(s.passed);
        assert_eq!(s.protocol, Some(SmartProtocol::Scsi));
        assert_eq!(s.reallocated_sectors, Some(56), "grown defect list");
        assert_eq!(
            s.media_errors,
            Some(3),
            "read 2 + write 0 + verify 1 uncorrected"
        );
        assert_eq!(s.temperature_c, Some(34.0));
        assert_eq!(s.temperature_critical_c, Some(68.0), "drive trip");
        assert_eq!(s.power_on_hours, Some(43549));
        assert_eq!(s.percentage_used, None);
        valid(&s);
    }

    #[test]
    fn older_fixtures_gain_protocol_and_counters() {
        let ssd = parse_smartctl(&fixture("ata_ssd.json")).unwrap();
        assert_eq!(ssd.protocol, Some(SmartProtocol::Ata));
        assert_eq!(ssd.reported_uncorrect, Some(0));
        assert_eq!(ssd.command_timeouts, None, "the SSD has no attribute 188");
        valid(&ssd);
        let nvme = parse_smartctl(&fixture("nvme.json")).unwrap();
        assert_eq!(nvme.protocol, Some(SmartProtocol::Nvme));
        assert_eq!(nvme.critical_warning, Some(0));
        assert_eq!(nvme.available_spare_pct, Some(100.0));
        valid(&nvme);
        let hdd = parse_smartctl(&fixture("ata_hdd_failing.json")).unwrap();
        assert_eq!(hdd.reported_uncorrect, Some(37));
        valid(&hdd);
    }

    #[test]
    fn permission_denied_has_no_verdict() {
        assert_eq!(parse_smartctl(&fixture("permission_denied.json")), None);
        assert_eq!(parse_smartctl("not json"), None);
    }

    #[test]
    fn scan_lists_devices() {
        assert_eq!(
            parse_scan(&fixture("scan.json")),
            vec!["/dev/sda", "/dev/nvme0"]
        );
    }

    #[test]
    fn partitions_map_to_their_disk() {
        assert_eq!(
            parent_block_device("/dev/sda1").as_deref(),
            Some("/dev/sda")
        );
        assert_eq!(
            parent_block_device("/dev/nvme0n1p2").as_deref(),
            Some("/dev/nvme0n1")
        );
        assert_eq!(
            parent_block_device("/dev/nvme0n1").as_deref(),
            Some("/dev/nvme0n1")
        );
        assert_eq!(
            parent_block_device("/dev/mmcblk0p1").as_deref(),
            Some("/dev/mmcblk0")
        );
        assert_eq!(parent_block_device("/dev/vda").as_deref(), Some("/dev/vda"));
        assert_eq!(parent_block_device("/dev/mapper/root"), None);
        assert_eq!(parent_block_device("overlay"), None);
        let mut m = HashMap::new();
        m.insert("/dev/nvme0".to_string(), SmartStats::default());
        assert!(lookup(&m, "/dev/nvme0n1").is_some());
        assert!(lookup(&m, "/dev/sda").is_none());
    }

    #[test]
    fn missing_command_is_not_an_error() {
        assert_eq!(
            run_bounded("/nonexistent/smartctl", &[], Duration::from_secs(1)),
            None
        );
        assert!(collect_all(Duration::from_millis(1)).is_empty() || which_smartctl());
    }

    #[test]
    fn an_overrunning_command_is_killed() {
        let t = Instant::now();
        assert_eq!(
            run_bounded("sleep", &["5"], Duration::from_millis(200)),
            None
        );
        assert!(t.elapsed() < Duration::from_secs(4));
    }

    fn which_smartctl() -> bool {
        Command::new("smartctl").arg("--version").output().is_ok()
    }
}
