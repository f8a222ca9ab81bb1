//! Collection: one [`Sample`] (DESIGN.md §4) and the hardware [`Inventory`].
//!
//! Cross-platform figures come from sysinfo; platform extras (battery, DMI identity, machine
//! id, SMART) from small per-OS modules whose parsing is platform-neutral and tested on
//! checked-in fixtures. A [`Collector`] keeps its sysinfo state between collections so that the
//! resident `run` loop refreshes only what changed and CPU usage covers the whole interval.

pub mod compliance;
pub mod cpu_times;
pub mod linux;
pub mod macos;
pub mod smart;
pub mod windows;
#[cfg(windows)]
mod windows_cpu;

/// Reads a checked-in output fixture, `tests/fixtures/<dir>/<name>`, for the parser tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn read_fixture(dir: &str, name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(dir)
            .join(name),
    )
    .unwrap()
}

use chrono::{DateTime, Utc};
use rt_core::inventory::{DiskInventory, Inventory};
use rt_core::sample::{
    AgentSelfReport, ComplianceFacts, CpuStats, DiskStats, InterfaceStats, MemoryStats,
    NetworkStats, ProcessInfo, ProcessStats, Sample, SmartStats, ThermalSensor,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use sysinfo::{
    Components, CpuRefreshKind, DiskKind, Disks, InterfaceOperationalState, MemoryRefreshKind,
    Networks, ProcessRefreshKind, ProcessesToUpdate, System,
};

/// Agent version reported in samples and uploads.
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// File systems that are not real storage (virtual, in-memory, container layers, images).
const PSEUDO_FS: &[&str] = &[
    "tmpfs",
    "devtmpfs",
    "overlay",
    "overlayfs",
    "squashfs",
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devpts",
    "mqueue",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "autofs",
    "fusectl",
    "configfs",
    "hugetlbfs",
    "ramfs",
    "nsfs",
    "efivarfs",
    "binfmt_misc",
    "rpc_pipefs",
    "nfsd",
    "selinuxfs",
    "fuse.lxcfs",
    "fuse.portal",
    "fuse.gvfsd-fuse",
    "fuse.snapfuse",
    "devfs",
    "iso9660",
    "udf",
    "shm",
    "none",
];

/// True for mounts that are not real storage.
pub fn is_pseudo_fs(fs: &str, mount_point: &str) -> bool {
    let fs = fs.to_ascii_lowercase();
    PSEUDO_FS.contains(&fs.as_str())
        || mount_point.starts_with("/proc")
        || mount_point.starts_with("/sys")
        || mount_point.starts_with("/dev")
        || mount_point.starts_with("/run")
        || mount_point.starts_with("/snap/")
}

/// What the collector cannot know by itself: queue and upload state for the self-report.
#[derive(Debug, Clone, Default)]
pub struct CollectContext {
    pub server_reachable: Option<bool>,
    pub queue_depth: u64,
    pub dropped_since_last_upload: u64,
}

/// Keeps sysinfo state between collections.
pub struct Collector {
    sys: System,
    disks: Disks,
    networks: Networks,
    components: Components,
    last_cpu_refresh: Instant,
    last_process_refresh: Instant,
    /// CPU usage from the OS's time counters where sysinfo's are not used (Windows).
    cpu_times: cpu_times::Sampler,
    /// Collections made so far by this collector.
    collections: u64,
    smart_cache: Option<(Instant, HashMap<String, SmartStats>)>,
    smart_ttl: Duration,
    /// When the compliance facts were last read, and for which volumes (re-read hourly or when
    /// the mounted volumes change).
    compliance_read: Option<(Instant, Vec<(String, String)>)>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector").finish_non_exhaustive()
    }
}

/// Per-process CPU and memory only. Threads are left out: on Linux, listing every thread of
/// every process was most of the agent's CPU time (the benchmarks measured it).
fn process_kind() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .without_tasks()
}

/// The process table (count and top 5 by CPU) is re-read at most this often. Walking /proc for
/// every process is the dearest part of a collection; at the default interval (minutes) every
/// collection still re-reads it, while a fast `run --interval 1s` reuses the last reading and
/// the top-5 CPU figures average over the longer span.
const PROCESS_REFRESH_EVERY: Duration = Duration::from_secs(30);

/// What sysinfo refreshes for the CPUs. On Windows its usage figures come from
/// performance-counter (PDH) queries, which fail where the counter registry is damaged and abort
/// under Wine; usage there comes from [`platform_cpu_times`] instead.
fn cpu_kind() -> CpuRefreshKind {
    if cfg!(windows) {
        CpuRefreshKind::nothing().with_frequency()
    } else {
        CpuRefreshKind::nothing().with_usage().with_frequency()
    }
}

/// The OS's cumulative CPU time counters, where the agent reads them itself (Windows).
fn platform_cpu_times() -> Option<cpu_times::Reading> {
    #[cfg(windows)]
    {
        windows_cpu::read()
    }
    #[cfg(not(windows))]
    {
        None
    }
}

impl Collector {
    /// Primes CPU and process counters (CPU usage is a difference between two refreshes).
    pub fn new() -> anyhow::Result<Self> {
        let mut sys = System::new()?;
        sys.refresh_cpu_specifics(cpu_kind());
        let mut cpu_times = cpu_times::Sampler::default();
        if let Some(r) = platform_cpu_times() {
            cpu_times.update(r);
        }
        sys.refresh_processes_specifics(ProcessesToUpdate::All, true, process_kind());
        Ok(Collector {
            sys,
            cpu_times,
            disks: Disks::new_with_refreshed_list()?,
            networks: Networks::new_with_refreshed_list()?,
            components: Components::new_with_refreshed_list()?,
            last_cpu_refresh: Instant::now(),
            last_process_refresh: Instant::now(),
            collections: 0,
            smart_cache: None,
            smart_ttl: Duration::from_secs(3600),
            compliance_read: None,
        })
    }

    /// Collects one sample (`seq` 0: the queue assigns it).
    pub fn collect(&mut self, ctx: &CollectContext) -> Sample {
        let started = Instant::now();
        // CPU usage needs the two refreshes at least MINIMUM_CPU_UPDATE_INTERVAL apart.
        let since = self.last_cpu_refresh.elapsed();
        if since < sysinfo::MINIMUM_CPU_UPDATE_INTERVAL {
            std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL - since);
        }
        let collected_at = Utc::now();
        let work_started = Instant::now();
        self.sys.refresh_cpu_specifics(cpu_kind());
        let os_usage = platform_cpu_times().and_then(|r| self.cpu_times.update(r));
        self.last_cpu_refresh = Instant::now();
        self.sys
            .refresh_memory_specifics(MemoryRefreshKind::everything());
        // The first collection after `new` always refreshes: its CPU figures need a second reading.
        if self.last_process_refresh.elapsed() >= PROCESS_REFRESH_EVERY
            || self.sys.processes().is_empty()
            || self.collections == 0
        {
            self.sys
                .refresh_processes_specifics(ProcessesToUpdate::All, true, process_kind());
            self.last_process_refresh = Instant::now();
        }
        self.collections += 1;
        self.disks.refresh(true);
        self.networks.refresh(true);
        self.components.refresh(true);

        let cpus = self.sys.cpus();
        let load = System::load_average().ok();
        let (usage_pct, per_core_pct) = match os_usage {
            Some(u) => (u.total_pct, u.per_core_pct),
            None => (
                clamp_pct(f64::from(self.sys.global_cpu_usage())),
                cpus.iter()
                    .map(|c| clamp_pct(f64::from(c.usage())))
                    .collect(),
            ),
        };
        let cpu = CpuStats {
            usage_pct,
            per_core_pct,
            load_avg: load
                .filter(|_| !cfg!(windows))
                .map(|l| [l.one, l.five, l.fifteen]),
            cores: cpus.len() as u32,
            frequency_mhz: cpus.first().map(|c| c.frequency()).filter(|f| *f > 0),
        };
        let memory = MemoryStats {
            total_bytes: self.sys.total_memory(),
            used_bytes: self.sys.used_memory().min(self.sys.total_memory()),
            available_bytes: self.sys.available_memory().min(self.sys.total_memory()),
            swap_total_bytes: self.sys.total_swap(),
            swap_used_bytes: self.sys.used_swap().min(self.sys.total_swap()),
        };
        let mut disks = self.disk_stats();
        let smart = self.smart();
        for d in &mut disks {
            if let Some(s) = d.1.as_ref().and_then(|dev| smart::lookup(&smart, dev)) {
                d.0.smart = Some(s.clone());
            }
        }
        let volumes: Vec<(String, String)> = disks
            .iter()
            .map(|d| (d.0.mount_point.clone(), d.2.clone()))
            .collect();
        let compliance = self.compliance(volumes);
        let disks: Vec<DiskStats> = disks.into_iter().map(|d| d.0).collect();
        let network = Some(self.network_stats(ctx.server_reachable));
        let thermal = self
            .components
            .iter()
            .filter_map(|c| {
                let t = f64::from(c.temperature()?);
                (t.is_finite() && t > -50.0 && t < 200.0).then(|| ThermalSensor {
                    label: c.label().to_string(),
                    temperature_c: t,
                    critical_c: c
                        .critical()
                        .map(f64::from)
                        .filter(|v| v.is_finite() && *v > 0.0),
                })
            })
            .collect();
        let battery = platform_battery();
        let processes = Some(self.process_stats());
        let uptime_s = System::uptime().unwrap_or(0);
        let boot_time = System::boot_time()
            .ok()
            .and_then(|b| DateTime::<Utc>::from_timestamp(b as i64, 0))
            .filter(|b| *b <= collected_at);
        let collection_ms = work_started.elapsed().as_millis() as u64;
        let _ = started;
        Sample {
            seq: 0,
            collected_at,
            uptime_s,
            boot_time,
            cpu,
            memory,
            disks,
            network,
            thermal,
            battery,
            processes,
            agent: Some(AgentSelfReport {
                version: AGENT_VERSION.to_string(),
                queue_depth: ctx.queue_depth,
                dropped_since_last_upload: ctx.dropped_since_last_upload,
                collection_ms,
            }),
            compliance,
        }
    }

    /// Compliance facts when they are re-read: at the first collection, then at most every
    /// [`compliance::REFRESH_EVERY`] or when the set of volumes changed (a disk plugged in);
    /// None in between (the facts of the newest sample that had them still hold).
    fn compliance(&mut self, volumes: Vec<(String, String)>) -> Option<ComplianceFacts> {
        if let Some((at, vols)) = &self.compliance_read
            && *vols == volumes
            && at.elapsed() < compliance::REFRESH_EVERY
        {
            return None;
        }
        let facts = compliance::collect(&volumes);
        self.compliance_read = Some((Instant::now(), volumes));
        Some(facts)
    }

    /// Real mounts, deduplicated (bind mounts of one file system count once), with the parent
    /// block device for SMART matching.
    fn disk_stats(&self) -> Vec<(DiskStats, Option<String>, String)> {
        let mut seen: HashMap<(String, u64), usize> = HashMap::new();
        let mut out: Vec<(DiskStats, Option<String>, String)> = Vec::new();
        for d in self.disks.iter() {
            let fs = d.file_system().to_string_lossy().to_string();
            let mp = d.mount_point().to_string_lossy().to_string();
            if d.total_space() == 0 || is_pseudo_fs(&fs, &mp) {
                continue;
            }
            let name = d.name().to_string_lossy().to_string();
            let stat = DiskStats {
                mount_point: mp.clone(),
                file_system: fs,
                kind: match d.kind() {
                    DiskKind::SSD => "ssd",
                    DiskKind::HDD => "hdd",
                    DiskKind::Unknown(_) => "unknown",
                }
                .to_string(),
                total_bytes: d.total_space(),
                available_bytes: d.available_space().min(d.total_space()),
                removable: d.is_removable(),
                smart: None,
            };
            let key = (name.clone(), d.total_space());
            match seen.get(&key) {
                Some(&i) if out[i].0.mount_point.len() <= mp.len() => continue,
                Some(&i) => out[i] = (stat, smart_key(&name, &mp), name.clone()),
                None => {
                    seen.insert(key, out.len());
                    out.push((stat, smart_key(&name, &mp), name.clone()));
                }
            }
        }
        out
    }

    fn network_stats(&self, server_reachable: Option<bool>) -> NetworkStats {
        let mut interfaces: Vec<InterfaceStats> = self
            .networks
            .iter()
            .map(|(name, n)| {
                let up = match n.operational_state() {
                    InterfaceOperationalState::Up => true,
                    // Virtual links (tun, wg) often report "unknown" while carrying traffic.
                    InterfaceOperationalState::Unknown => !n.ip_networks().is_empty(),
                    _ => false,
                };
                let mac = n.mac_address();
                InterfaceStats {
                    name: name.to_string_lossy().to_string(),
                    rx_bytes: n.total_received(),
                    tx_bytes: n.total_transmitted(),
                    up,
                    mac_address: (mac != sysinfo::MacAddr::UNSPECIFIED).then(|| mac.to_string()),
                }
            })
            .collect();
        interfaces.sort_by(|a, b| a.name.cmp(&b.name));
        let has_link = interfaces.iter().any(|i| i.up && !is_loopback(&i.name));
        NetworkStats {
            interfaces,
            server_reachable,
            has_link,
        }
    }

    fn process_stats(&self) -> ProcessStats {
        let procs = self.sys.processes();
        let mut top: Vec<ProcessInfo> = procs
            .values()
            .filter(|p| p.thread_kind().is_none())
            .map(|p| ProcessInfo {
                name: p.name().to_string_lossy().to_string(),
                pid: p.pid().as_u32(),
                cpu_pct: {
                    let v = f64::from(p.cpu_usage());
                    if v.is_finite() { v.max(0.0) } else { 0.0 }
                },
                memory_bytes: p.memory(),
            })
            .collect();
        let count = top.len() as u64;
        top.sort_by(|a, b| {
            b.cpu_pct
                .total_cmp(&a.cpu_pct)
                .then(b.memory_bytes.cmp(&a.memory_bytes))
        });
        top.truncate(5);
        ProcessStats {
            count,
            top_cpu: top,
        }
    }

    /// SMART by parent block device, refreshed at most once an hour (it changes slowly and
    /// smartctl spins up sleeping disks).
    fn smart(&mut self) -> HashMap<String, SmartStats> {
        if let Some((at, m)) = &self.smart_cache
            && at.elapsed() < self.smart_ttl
        {
            return m.clone();
        }
        #[allow(unused_mut)]
        let mut m = smart::collect_all(Duration::from_secs(10));
        // Windows: the storage reliability counters, by drive letter, where smartctl is
        // missing (smartctl's names do not match drive letters, so both can be present).
        #[cfg(windows)]
        m.extend(windows::storage_smart(Duration::from_secs(20)));
        self.smart_cache = Some((Instant::now(), m.clone()));
        m
    }
}

/// The key a disk's SMART is filed under: its parent block device (Linux, smartctl's names),
/// else its drive letter (Windows' storage reliability counters).
fn smart_key(name: &str, mount_point: &str) -> Option<String> {
    smart::parent_block_device(name).or_else(|| windows::drive_key(mount_point))
}

fn is_loopback(name: &str) -> bool {
    name == "lo" || name.starts_with("lo0") || name.to_ascii_lowercase().contains("loopback")
}

fn clamp_pct(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(0.0, 100.0)
    } else {
        0.0
    }
}

fn platform_battery() -> Option<rt_core::sample::BatteryStats> {
    #[cfg(target_os = "linux")]
    {
        linux::battery(std::path::Path::new(linux::POWER_SUPPLY_DIR))
    }
    #[cfg(target_os = "macos")]
    {
        macos::battery()
    }
    #[cfg(windows)]
    {
        windows::battery()
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
    {
        None
    }
}

/// One-shot collection (`rt-agent collect`): primes the counters, waits the minimum CPU
/// interval and collects.
pub fn collect_sample(ctx: &CollectContext) -> anyhow::Result<Sample> {
    let mut c = Collector::new()?;
    Ok(c.collect(ctx))
}

/// Hardware inventory of this machine.
pub fn collect_inventory() -> Inventory {
    // sysinfo only fails on unsupported platforms; the static facts below still answer.
    let mut sys = System::new().ok();
    if let Some(sys) = sys.as_mut() {
        sys.refresh_cpu_specifics(CpuRefreshKind::nothing().with_frequency());
        sys.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
    }
    let cpu_model = sys
        .as_ref()
        .and_then(|s| s.cpus().first())
        .map(|c| c.brand().trim().to_string())
        .unwrap_or_default();
    let networks = Networks::new_with_refreshed_list().ok();
    let mut macs: Vec<String> = networks
        .iter()
        .flat_map(|n| n.iter())
        .filter(|(name, _)| !is_loopback(&name.to_string_lossy()))
        .map(|(_, n)| n.mac_address())
        .filter(|m| *m != sysinfo::MacAddr::UNSPECIFIED)
        .map(|m| m.to_string())
        .collect();
    macs.sort();
    macs.dedup();
    let ident = platform_identity();
    let disks = Disks::new_with_refreshed_list()
        .map(|ds| {
            let mut seen = std::collections::BTreeSet::new();
            ds.iter()
                .filter(|d| {
                    d.total_space() > 0
                        && !is_pseudo_fs(
                            &d.file_system().to_string_lossy(),
                            &d.mount_point().to_string_lossy(),
                        )
                })
                .filter_map(|d| {
                    let name = d.name().to_string_lossy().to_string();
                    let dev = smart::parent_block_device(&name).unwrap_or(name);
                    seen.insert(dev.clone()).then(|| DiskInventory {
                        name: dev,
                        model: None,
                        serial_number: None,
                        size_bytes: d.total_space(),
                        kind: match d.kind() {
                            DiskKind::SSD => "ssd",
                            DiskKind::HDD => "hdd",
                            DiskKind::Unknown(_) => "unknown",
                        }
                        .to_string(),
                        removable: d.is_removable(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Inventory {
        hostname: System::host_name().unwrap_or_else(|_| "unknown".into()),
        os_name: System::name().unwrap_or_default(),
        os_version: System::os_version().unwrap_or_default(),
        kernel_version: System::kernel_version().unwrap_or_default(),
        arch: System::cpu_arch(),
        cpu_model,
        cpu_cores: sys.as_ref().map_or(0, |s| s.cpus().len() as u32),
        memory_total_bytes: sys.as_ref().map_or(0, System::total_memory),
        machine_id: ident.machine_id,
        serial_number: ident.serial_number,
        vendor: ident.vendor,
        model: ident.model,
        mac_addresses: macs,
        disks,
    }
}

/// Identity fields from firmware / the OS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    pub machine_id: Option<String>,
    pub serial_number: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
}

fn platform_identity() -> Identity {
    #[cfg(target_os = "linux")]
    {
        linux::identity(
            std::path::Path::new(linux::DMI_DIR),
            std::path::Path::new("/etc/machine-id"),
        )
    }
    #[cfg(target_os = "macos")]
    {
        macos::identity()
    }
    #[cfg(windows)]
    {
        windows::identity()
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
    {
        Identity::default()
    }
}

/// Trims and drops empty strings.
pub(crate) fn non_empty(s: impl AsRef<str>) -> Option<String> {
    let t = s.as_ref().trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rt_core::validate::Validate;

    #[test]
    fn pseudo_file_systems_are_skipped() {
        assert!(is_pseudo_fs("tmpfs", "/tmp"));
        assert!(is_pseudo_fs("overlay", "/"));
        assert!(is_pseudo_fs("squashfs", "/snap/core/1"));
        assert!(is_pseudo_fs("ext4", "/proc/x"));
        assert!(!is_pseudo_fs("ext4", "/"));
        assert!(!is_pseudo_fs("apfs", "/System/Volumes/Data"));
        assert!(!is_pseudo_fs("NTFS", "C:\\"));
    }

    #[test]
    fn live_collection_is_a_valid_sample() {
        let ctx = CollectContext {
            server_reachable: Some(false),
            queue_depth: 3,
            dropped_since_last_upload: 0,
        };
        let mut s = collect_sample(&ctx).unwrap();
        s.seq = 1;
        let problems = s.validate(Utc::now());
        assert!(problems.is_empty(), "{problems:?}");
        assert!(s.cpu.cores > 0);
        assert_eq!(s.cpu.per_core_pct.len(), s.cpu.cores as usize);
        assert!(s.memory.total_bytes > 0);
        assert!(s.processes.as_ref().unwrap().count > 0);
        assert!(s.processes.as_ref().unwrap().top_cpu.len() <= 5);
        assert!(
            s.disks
                .iter()
                .all(|d| !is_pseudo_fs(&d.file_system, &d.mount_point))
        );
        assert_eq!(s.agent.as_ref().unwrap().queue_depth, 3);
        assert_eq!(s.network.as_ref().unwrap().server_reachable, Some(false));
    }

    #[test]
    fn a_resident_collector_collects_repeatedly() {
        let mut c = Collector::new().unwrap();
        let a = c.collect(&CollectContext::default());
        let b = c.collect(&CollectContext::default());
        assert!(b.collected_at >= a.collected_at);
        let mut b = b;
        b.seq = 2;
        assert!(b.validate(Utc::now()).is_empty());
    }

    #[test]
    fn inventory_names_this_machine() {
        let inv = collect_inventory();
        assert!(!inv.hostname.is_empty());
        assert!(inv.cpu_cores > 0);
        assert!(inv.memory_total_bytes > 0);
        assert!(
            inv.validate(Utc::now()).is_empty(),
            "{:?}",
            inv.validate(Utc::now())
        );
    }
}
