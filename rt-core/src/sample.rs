//! `Sample` v1: one collection on one device. Every group but CPU and memory is optional
//! (a desktop has no battery, a VM has no sensors), and absent groups are omitted from JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One collection on one device. `seq` is assigned by the agent's queue and is the
/// idempotency key together with the device id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sample {
    pub seq: u64,
    pub collected_at: DateTime<Utc>,
    pub uptime_s: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_time: Option<DateTime<Utc>>,
    pub cpu: CpuStats,
    pub memory: MemoryStats,
    #[serde(default)]
    pub disks: Vec<DiskStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkStats>,
    #[serde(default)]
    pub thermal: Vec<ThermalSensor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<BatteryStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<ProcessStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentSelfReport>,
    /// Compliance facts (disk encryption, firewall, secure boot, screen lock, OS updates). An
    /// agent reads them at its first collection and then about once an hour, and sends them
    /// only in the sample after a reading; absent means "as in the newest sample that had
    /// them". Agents before them never send any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<ComplianceFacts>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CpuStats {
    /// Whole-machine CPU usage, 0..=100.
    pub usage_pct: f64,
    #[serde(default)]
    pub per_core_pct: Vec<f64>,
    /// 1, 5 and 15 minute load averages where the OS has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_avg: Option<[f64; 3]>,
    pub cores: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_mhz: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemoryStats {
    pub total_bytes: u64,
    pub used_bytes: u64,
    pub available_bytes: u64,
    #[serde(default)]
    pub swap_total_bytes: u64,
    #[serde(default)]
    pub swap_used_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskStats {
    pub mount_point: String,
    #[serde(default)]
    pub file_system: String,
    /// `ssd`, `hdd` or `unknown`.
    #[serde(default)]
    pub kind: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
    #[serde(default)]
    pub removable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smart: Option<SmartStats>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmartStats {
    /// Overall SMART self-assessment.
    pub passed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_c: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_on_hours: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reallocated_sectors: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_errors: Option<u64>,
    /// NVMe "percentage used" endurance estimate (may exceed 100 on worn drives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage_used: Option<f64>,
    // Fields below were added for the alert rules (rt-core `alert`). All optional: agents
    // before them send none, and servers before them ignore them.
    /// How smartctl talked to the drive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<SmartProtocol>,
    /// ATA attribute 187 Reported_Uncorrect (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_uncorrect: Option<u64>,
    /// ATA attribute 188 Command_Timeout (raw; several Seagate families pack three 16-bit
    /// counters into it, which still only grows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_timeouts: Option<u64>,
    /// ATA attribute 197 Current_Pending_Sector (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_sectors: Option<u64>,
    /// ATA attribute 198 Offline_Uncorrectable (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_uncorrectable: Option<u64>,
    /// NVMe critical warning bits (0: none; bit 0 spare low, 1 temperature, 2 reliability
    /// degraded, 3 read-only, 4 volatile backup failed, 5 persistent memory read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical_warning: Option<u8>,
    /// NVMe available spare, percent of the factory spare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_spare_pct: Option<f64>,
    /// NVMe available-spare threshold set by the vendor, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_spare_threshold_pct: Option<f64>,
    /// The drive's own critical temperature: NVMe critical composite temperature threshold
    /// (CCTEMP), SCSI drive trip temperature, ATA SCT maximum operating limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_critical_c: Option<f64>,
}

/// Transport of a SMART report, as smartctl's `device.protocol` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SmartProtocol {
    Ata,
    Nvme,
    Scsi,
    /// A protocol this version does not know (sent by a newer agent).
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkStats {
    #[serde(default)]
    pub interfaces: Vec<InterfaceStats>,
    /// Whether the last upload attempt reached the server (None before the first attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_reachable: Option<bool>,
    /// Whether any non-loopback interface is up.
    pub has_link: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterfaceStats {
    pub name: String,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub up: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThermalSensor {
    pub label: String,
    pub temperature_c: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical_c: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BatteryState {
    Charging,
    Discharging,
    Full,
    NotCharging,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatteryStats {
    pub present: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_pct: Option<f64>,
    /// Full-charge capacity divided by design capacity, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_count: Option<u64>,
    #[serde(default)]
    pub state: BatteryState,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessStats {
    pub count: u64,
    #[serde(default)]
    pub top_cpu: Vec<ProcessInfo>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessInfo {
    pub name: String,
    pub pid: u32,
    pub cpu_pct: f64,
    pub memory_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentSelfReport {
    pub version: String,
    pub queue_depth: u64,
    /// Samples the queue had to drop (full or too old) since the last successful upload.
    #[serde(default)]
    pub dropped_since_last_upload: u64,
    #[serde(default)]
    pub collection_ms: u64,
}

/// A yes/no fact the agent may not be able to read. `unknown` is a value of its own: a policy
/// never counts it as a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    Yes,
    No,
    #[default]
    Unknown,
}

impl Fact {
    pub fn from_bool(b: bool) -> Fact {
        if b { Fact::Yes } else { Fact::No }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fact::Yes => "yes",
            Fact::No => "no",
            Fact::Unknown => "unknown",
        }
    }
}

/// What the agent could find out about the machine's security settings (issue 15 item 1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceFacts {
    /// Disk encryption of each volume the sample's `disks` list (by mount point).
    #[serde(default)]
    pub volumes: Vec<VolumeEncryption>,
    /// A host firewall is enabled (ufw/firewalld on Linux, every Windows profile, the macOS
    /// application firewall).
    #[serde(default)]
    pub firewall: Fact,
    /// UEFI Secure Boot is on (`no` on a machine booted without UEFI).
    #[serde(default)]
    pub secure_boot: Fact,
    /// The screen locks by itself (password after the screen saver).
    #[serde(default)]
    pub screen_lock: Fact,
    /// When the operating system last installed updates, where it tells (package manager,
    /// Windows hot fixes, macOS software update history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_updated_at: Option<DateTime<Utc>>,
}

/// Encryption of one volume.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VolumeEncryption {
    pub mount_point: String,
    pub encrypted: Fact,
    /// How, when known: `luks1`, `luks2`, `dm-crypt`, `bitlocker`, `filevault`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// The scalar figures the server stores in columns and the console shows in the fleet table.
/// Computed in one place so every component derives them the same way.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleMetrics {
    pub cpu_pct: f64,
    pub mem_pct: f64,
    /// Fullest non-removable disk, used percent.
    pub disk_max_pct: Option<f64>,
    pub temp_max_c: Option<f64>,
    pub battery_health_pct: Option<f64>,
    pub battery_charge_pct: Option<f64>,
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
}

impl DiskStats {
    pub fn used_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.available_bytes)
    }

    /// Used percent, None for a zero-size disk.
    pub fn used_pct(&self) -> Option<f64> {
        (self.total_bytes > 0).then(|| self.used_bytes() as f64 * 100.0 / self.total_bytes as f64)
    }
}

impl MemoryStats {
    pub fn used_pct(&self) -> f64 {
        if self.total_bytes == 0 {
            0.0
        } else {
            (self.used_bytes as f64 * 100.0 / self.total_bytes as f64).clamp(0.0, 100.0)
        }
    }
}

impl Sample {
    /// Scalar summary of this sample (see [`SampleMetrics`]).
    pub fn metrics(&self) -> SampleMetrics {
        let disk_max_pct = self
            .disks
            .iter()
            .filter(|d| !d.removable)
            .filter_map(DiskStats::used_pct)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        let temp_max_c = self
            .thermal
            .iter()
            .map(|t| t.temperature_c)
            .chain(
                self.disks
                    .iter()
                    .filter_map(|d| d.smart.as_ref().and_then(|s| s.temperature_c)),
            )
            .filter(|t| t.is_finite())
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        let battery = self.battery.as_ref().filter(|b| b.present);
        let (rx, tx) = match &self.network {
            Some(n) if !n.interfaces.is_empty() => (
                Some(
                    n.interfaces
                        .iter()
                        .map(|i| i.rx_bytes)
                        .fold(0u64, u64::saturating_add),
                ),
                Some(
                    n.interfaces
                        .iter()
                        .map(|i| i.tx_bytes)
                        .fold(0u64, u64::saturating_add),
                ),
            ),
            _ => (None, None),
        };
        SampleMetrics {
            cpu_pct: self.cpu.usage_pct,
            mem_pct: self.memory.used_pct(),
            disk_max_pct,
            temp_max_c,
            battery_health_pct: battery.and_then(|b| b.health_pct),
            battery_charge_pct: battery.and_then(|b| b.charge_pct),
            net_rx_bytes: rx,
            net_tx_bytes: tx,
        }
    }

    /// A small but complete sample, used by tests, docs and the simulator as a starting point.
    pub fn example(seq: u64, collected_at: DateTime<Utc>) -> Sample {
        Sample {
            seq,
            collected_at,
            uptime_s: 3600,
            boot_time: Some(collected_at - chrono::Duration::seconds(3600)),
            cpu: CpuStats {
                usage_pct: 12.5,
                per_core_pct: vec![10.0, 15.0],
                load_avg: Some([0.5, 0.4, 0.3]),
                cores: 2,
                frequency_mhz: Some(2400),
            },
            memory: MemoryStats {
                total_bytes: 8 * 1024 * 1024 * 1024,
                used_bytes: 3 * 1024 * 1024 * 1024,
                available_bytes: 5 * 1024 * 1024 * 1024,
                swap_total_bytes: 0,
                swap_used_bytes: 0,
            },
            disks: vec![DiskStats {
                mount_point: "/".into(),
                file_system: "ext4".into(),
                kind: "ssd".into(),
                total_bytes: 256_000_000_000,
                available_bytes: 128_000_000_000,
                removable: false,
                smart: None,
            }],
            network: Some(NetworkStats {
                interfaces: vec![InterfaceStats {
                    name: "eth0".into(),
                    rx_bytes: 1_000_000,
                    tx_bytes: 500_000,
                    up: true,
                    mac_address: Some("52:54:00:12:34:56".into()),
                }],
                server_reachable: Some(true),
                has_link: true,
            }),
            thermal: vec![],
            battery: None,
            processes: Some(ProcessStats {
                count: 120,
                top_cpu: vec![],
            }),
            agent: Some(AgentSelfReport {
                version: "0.1.0".into(),
                queue_depth: 0,
                dropped_since_last_upload: 0,
                collection_ms: 250,
            }),
            compliance: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_pick_fullest_fixed_disk_and_hottest_sensor() {
        let now = Utc::now();
        let mut s = Sample::example(1, now);
        s.disks.push(DiskStats {
            mount_point: "/data".into(),
            total_bytes: 100,
            available_bytes: 5,
            ..Default::default()
        });
        s.disks.push(DiskStats {
            mount_point: "/media/usb".into(),
            total_bytes: 100,
            available_bytes: 0,
            removable: true,
            ..Default::default()
        });
        s.thermal.push(ThermalSensor {
            label: "cpu".into(),
            temperature_c: 71.0,
            critical_c: Some(100.0),
        });
        let m = s.metrics();
        assert_eq!(m.disk_max_pct, Some(95.0));
        assert_eq!(m.temp_max_c, Some(71.0));
        assert_eq!(m.battery_health_pct, None);
        assert_eq!(m.mem_pct, 37.5);
    }
}
