//! Lazy sample generation for one simulated device: [`DeviceSim::next_batch`] produces the next
//! few samples of its history and nothing more, so memory stays bounded by the batch size
//! however long the history or large the fleet.
//!
//! Time runs on a fixed grid `start + k × interval` ending at `end` ("now"). A slot where the
//! device is asleep (a laptop at night or at the weekend) or already silent produces no sample
//! and uses no `seq`: exactly like a real agent, `seq` counts collections, not slots.

use crate::persona::{Condition, DevicePlan, Kind, Os, RETIRED_FOR_DAYS, SILENT_FOR_DAYS, rng_for};
use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use rand::Rng;
use rand::rngs::StdRng;
use rt_core::sample::{
    AgentSelfReport, BatteryState, BatteryStats, CpuStats, DiskStats, InterfaceStats, MemoryStats,
    NetworkStats, ProcessInfo, ProcessStats, Sample, SmartStats, ThermalSensor,
};

/// Used fraction the filling disk reaches at "now" and how fast it grows per day: 91 % and
/// 3 %/day put it in the warning band with a forecast of about three days to full.
pub const FILLING_END_FRAC: f64 = 0.91;
pub const FILLING_PER_DAY: f64 = 0.03;

/// The moving parts of one simulated device.
#[derive(Debug)]
pub struct DeviceSim {
    pub plan: DevicePlan,
    rng: StdRng,
    interval: Duration,
    start: DateTime<Utc>,
    /// Next grid slot to consider.
    cursor: DateTime<Utc>,
    /// Last slot of the back-fill (inclusive); moved forward in live mode.
    end: DateTime<Utc>,
    /// No samples after this instant (silent, retired and in-stock devices).
    stops_at: Option<DateTime<Utc>>,
    next_seq: u64,
    boot_time: DateTime<Utc>,
    was_awake: bool,
    net_rx: u64,
    net_tx: u64,
    realloc: u64,
}

impl DeviceSim {
    /// A device whose history covers `history` before `end`, one slot every `interval`.
    pub fn new(
        plan: DevicePlan,
        seed: u64,
        end: DateTime<Utc>,
        history: Duration,
        interval: Duration,
    ) -> DeviceSim {
        let mut rng = rng_for(seed, plan.index, 2);
        let interval = interval.max(Duration::seconds(1));
        let start = end - history;
        // Short histories still show the silence: at most half (a third) of the history.
        let stops_at = match plan.condition {
            Condition::Silent => Some(end - Duration::days(SILENT_FOR_DAYS).min(history / 2)),
            Condition::Retired => Some(end - Duration::days(RETIRED_FOR_DAYS).min(history / 3)),
            // Imaged and tested while being prepared, then put on the shelf.
            Condition::InStock => Some(start + history / 4),
            _ => None,
        };
        let boot_time = start - Duration::seconds(rng.random_range(600..(4 * 86_400)));
        let net_rx = rng.random_range(1_000_000..50_000_000_000u64);
        let net_tx = net_rx / rng.random_range(3..12);
        DeviceSim {
            plan,
            rng,
            interval,
            start,
            cursor: start + interval,
            end,
            stops_at,
            next_seq: 1,
            boot_time,
            was_awake: false,
            net_rx,
            net_tx,
            realloc: 8,
        }
    }

    /// The seq the next generated sample will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Whether the back-fill (up to `end`) is exhausted.
    pub fn is_done(&self) -> bool {
        self.cursor > self.effective_end()
    }

    /// Whether the device keeps reporting in live mode.
    pub fn reports_live(&self) -> bool {
        self.stops_at.is_none()
    }

    /// Extend the history to `end` (live mode): the slots up to it become available.
    pub fn extend_to(&mut self, end: DateTime<Utc>) {
        if end > self.end {
            self.end = end;
        }
    }

    fn effective_end(&self) -> DateTime<Utc> {
        match self.stops_at {
            Some(s) if s < self.end => s,
            _ => self.end,
        }
    }

    /// Up to `max` next samples of the history (empty when done).
    pub fn next_batch(&mut self, max: usize) -> Vec<Sample> {
        let mut out = Vec::with_capacity(max.min(1024));
        let end = self.effective_end();
        while out.len() < max && self.cursor <= end {
            let t = self.cursor;
            self.cursor += self.interval;
            if !self.awake(t) {
                self.was_awake = false;
                continue;
            }
            if !self.was_awake && self.next_seq > 1 && self.plan.kind == Kind::OfficeLaptop {
                // Woke up: a third of the time from a cold boot, otherwise from suspend.
                if self.rng.random_bool(0.33) {
                    self.boot_time = t - Duration::seconds(self.rng.random_range(40..240));
                }
            } else if self.plan.kind != Kind::OfficeLaptop {
                // Always-on machines reboot about once a week (updates).
                let p = (self.interval.num_seconds() as f64 / (7.0 * 86_400.0)).min(1.0);
                if self.rng.random_bool(p) {
                    self.boot_time = t - Duration::seconds(
                        self.rng
                            .random_range(30..self.interval.num_seconds().max(31)),
                    );
                }
            }
            self.was_awake = true;
            let s = self.sample_at(t);
            out.push(s);
        }
        out
    }

    /// Local hour of day (0..24, fractional) and weekday at `t`.
    fn local(&self, t: DateTime<Utc>) -> (f64, Weekday) {
        let l = t + Duration::hours(self.plan.tz_offset_h);
        (
            f64::from(l.hour()) + f64::from(l.minute()) / 60.0,
            l.weekday(),
        )
    }

    fn awake(&self, t: DateTime<Utc>) -> bool {
        if self.plan.kind != Kind::OfficeLaptop || self.plan.always_on {
            return true;
        }
        let (h, wd) = self.local(t);
        let (a, b) = self.plan.work_hours;
        match wd {
            Weekday::Sat | Weekday::Sun => false,
            _ => h >= a && h < b,
        }
    }

    /// How busy the person is, 0..1: a bump over local working hours (lunch dip included).
    fn activity(&self, t: DateTime<Utc>) -> f64 {
        let (h, wd) = self.local(t);
        if matches!(wd, Weekday::Sat | Weekday::Sun) {
            return 0.1;
        }
        let (a, b) = self.plan.work_hours;
        if h < a || h >= b {
            return 0.05;
        }
        let x = (h - a) / (b - a);
        let bump = (x * std::f64::consts::PI).sin();
        let lunch = if (12.0..13.0).contains(&h) { 0.5 } else { 1.0 };
        (0.2 + 0.8 * bump) * lunch
    }

    fn sample_at(&mut self, t: DateTime<Utc>) -> Sample {
        let activity = self.activity(t);
        let plan = &self.plan;
        let rng = &mut self.rng;
        let cores = plan.inventory.cpu_cores.max(1);

        // CPU: office machines idle with bursts; developer workstations build all day.
        let mut cpu = match plan.kind {
            Kind::OfficeLaptop => 4.0 + 28.0 * activity + rng.random_range(-3.0..6.0),
            Kind::OfficeDesktop => 3.0 + 18.0 * activity + rng.random_range(-2.0..4.0),
            Kind::DevWorkstation => 30.0 + 55.0 * activity + rng.random_range(-10.0..12.0),
        };
        if rng.random_bool(0.04) {
            cpu += rng.random_range(20.0..50.0); // a build, a video call, an update
        }
        if plan.condition == Condition::Overheating {
            cpu = cpu.max(60.0);
        }
        let cpu = cpu.clamp(0.5, 100.0);
        let per_core: Vec<f64> = (0..cores.min(64))
            .map(|_| round1((cpu + rng.random_range(-15.0..15.0)).clamp(0.0, 100.0)))
            .collect();
        let load = cpu / 100.0 * f64::from(cores);
        let load_avg = (plan.os != Os::Windows).then(|| {
            [
                round2(load * rng.random_range(0.85..1.15)),
                round2(load * rng.random_range(0.9..1.05)),
                round2(load * rng.random_range(0.92..1.02)),
            ]
        });

        // Memory.
        let total = plan.inventory.memory_total_bytes;
        let mem_frac = match plan.kind {
            Kind::DevWorkstation => 0.55 + 0.3 * activity,
            _ => 0.40 + 0.35 * activity,
        } + rng.random_range(-0.04..0.04);
        let used = (total as f64 * mem_frac.clamp(0.05, 0.97)) as u64;
        let swap_total = if plan.os == Os::Windows {
            total / 4
        } else {
            8 * 1024 * 1024 * 1024
        };
        let swap_used = (swap_total as f64 * (mem_frac - 0.6).max(0.0) * 0.5) as u64;

        // System disk: a slow creep, or the steady fill of the FillingDisk device.
        let days = (t - self.start).num_seconds() as f64 / 86_400.0;
        let disk_total = plan
            .inventory
            .disks
            .first()
            .map_or(512_110_190_592, |d| d.size_bytes);
        let frac = match plan.condition {
            Condition::FillingDisk => {
                let span = (self.end - self.start).num_seconds() as f64 / 86_400.0;
                FILLING_END_FRAC - FILLING_PER_DAY * (span - days)
                    + rng.random_range(-0.0005..0.0005)
            }
            _ => plan.disk_start_frac + 0.002 * days + rng.random_range(-0.001..0.001),
        };
        let disk_avail = (disk_total as f64 * (1.0 - frac.clamp(0.01, 0.999))) as u64;
        let uptime = (t - self.boot_time).num_seconds().max(0) as u64;
        let power_on_hours = plan.power_on_hours + (days * 24.0) as u64;
        let smart = plan.smart.then(|| {
            let failing = plan.condition == Condition::FailingSmart;
            if failing && rng.random_bool(0.1) {
                self.realloc += rng.random_range(1..6);
            }
            SmartStats {
                passed: !failing,
                temperature_c: Some(round1(32.0 + 12.0 * activity + rng.random_range(0.0..4.0))),
                power_on_hours: Some(power_on_hours),
                reallocated_sectors: Some(if failing { self.realloc } else { 0 }),
                media_errors: Some(if failing { self.realloc / 4 } else { 0 }),
                percentage_used: (plan
                    .inventory
                    .disks
                    .first()
                    .is_some_and(|d| d.kind == "nvme"))
                .then_some(round1(plan.smart_wear_pct)),
                ..Default::default()
            }
        });
        let (mount, fs) = match plan.os {
            Os::Windows => ("C:\\", "NTFS"),
            Os::MacOs => ("/", "apfs"),
            Os::Linux => ("/", "ext4"),
        };
        let disks = vec![DiskStats {
            mount_point: mount.into(),
            file_system: fs.into(),
            kind: plan
                .inventory
                .disks
                .first()
                .map_or("ssd", |d| if d.kind == "hdd" { "hdd" } else { "ssd" })
                .into(),
            total_bytes: disk_total,
            available_bytes: disk_avail.min(disk_total),
            removable: false,
            smart,
        }];

        // Network counters only ever grow.
        let secs = self.interval.num_seconds().max(1) as f64;
        let rx_rate = match plan.kind {
            Kind::DevWorkstation => 2_000_000.0,
            _ => 400_000.0,
        } * (0.1 + activity);
        self.net_rx += (rx_rate * secs * rng.random_range(0.5..1.5)) as u64;
        self.net_tx += (rx_rate * 0.2 * secs * rng.random_range(0.5..1.5)) as u64;
        let iface = match (plan.os, plan.kind) {
            (Os::Windows, Kind::OfficeLaptop) => "Wi-Fi",
            (Os::Windows, _) => "Ethernet",
            (Os::MacOs, _) => "en0",
            (Os::Linux, _) => "enp5s0",
        };
        let network = NetworkStats {
            interfaces: vec![InterfaceStats {
                name: iface.into(),
                rx_bytes: self.net_rx,
                tx_bytes: self.net_tx,
                up: true,
                mac_address: plan.inventory.mac_addresses.first().cloned(),
            }],
            server_reachable: Some(true),
            has_link: true,
        };

        // Thermal: the overheating machine has a dead fan; desktops report no sensors.
        let thermal = match (plan.condition, plan.kind) {
            (Condition::Overheating, _) => vec![ThermalSensor {
                label: "Package id 0".into(),
                temperature_c: round1(rng.random_range(91.0..97.5)),
                critical_c: Some(100.0),
            }],
            (_, Kind::OfficeDesktop) => vec![],
            _ => vec![ThermalSensor {
                label: if plan.os == Os::MacOs {
                    "CPU die".into()
                } else {
                    "Package id 0".into()
                },
                temperature_c: round1(38.0 + 0.4 * cpu + rng.random_range(-2.0..3.0)),
                critical_c: Some(100.0),
            }],
        };

        let battery = (plan.kind == Kind::OfficeLaptop).then(|| {
            let charge = (100.0 - 65.0 * activity + rng.random_range(-3.0..3.0)).clamp(5.0, 100.0);
            let state = if charge >= 99.0 {
                BatteryState::Full
            } else if activity > 0.5 {
                BatteryState::Discharging
            } else {
                BatteryState::Charging
            };
            BatteryStats {
                present: true,
                charge_pct: Some(round1(charge)),
                health_pct: Some(round1(plan.battery_health_pct - 0.01 * days)),
                cycle_count: Some(plan.battery_cycles + (days / 1.5) as u64),
                state,
            }
        });

        let names: &[&str] = match (plan.os, plan.kind) {
            (Os::Windows, Kind::DevWorkstation) => &[
                "devenv.exe",
                "MSBuild.exe",
                "chrome.exe",
                "docker.exe",
                "Code.exe",
            ],
            (Os::Windows, _) => &[
                "Teams.exe",
                "chrome.exe",
                "OUTLOOK.EXE",
                "MsMpEng.exe",
                "explorer.exe",
            ],
            (Os::MacOs, _) => &[
                "Google Chrome Helper",
                "Slack Helper",
                "WindowServer",
                "kernel_task",
                "zoom.us",
            ],
            (Os::Linux, _) => &["rustc", "cargo", "code", "firefox", "dockerd"],
        };
        let mut share = cpu * f64::from(cores);
        let top_cpu = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let part = share * rng.random_range(0.2..0.5);
                share -= part;
                ProcessInfo {
                    name: (*n).into(),
                    pid: 400 + (plan.index * 37 + i as u32 * 911) % 60_000,
                    cpu_pct: round1(part),
                    memory_bytes: rng.random_range(50_000_000..1_500_000_000),
                }
            })
            .collect();

        let seq = self.next_seq;
        self.next_seq += 1;
        Sample {
            seq,
            collected_at: t,
            uptime_s: uptime,
            boot_time: Some(self.boot_time),
            cpu: CpuStats {
                usage_pct: round1(cpu),
                per_core_pct: per_core,
                load_avg,
                cores,
                frequency_mhz: Some(if plan.os == Os::MacOs {
                    3_500
                } else {
                    2_400 + (activity * 1_800.0) as u64
                }),
            },
            memory: MemoryStats {
                total_bytes: total,
                used_bytes: used.min(total),
                available_bytes: total - used.min(total),
                swap_total_bytes: swap_total,
                swap_used_bytes: swap_used.min(swap_total),
            },
            disks,
            network: Some(network),
            thermal,
            battery,
            processes: Some(ProcessStats {
                count: self.rng.random_range(160..420),
                top_cpu,
            }),
            agent: Some(AgentSelfReport {
                version: format!("{}-sim", env!("CARGO_PKG_VERSION")),
                queue_depth: 0,
                dropped_since_last_upload: 0,
                collection_ms: self.rng.random_range(120..450),
            }),
            // Like the agent: with the first sample and then about once an hour.
            compliance: (seq % 12 == 1).then(|| plan.compliance(t)),
        }
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rt_core::validate::Validate;

    fn end() -> DateTime<Utc> {
        // A Wednesday afternoon in UTC.
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
    }

    fn all(seed: u64, index: u32, days: i64, interval_m: i64) -> Vec<Sample> {
        let mut sim = DeviceSim::new(
            DevicePlan::new(seed, index),
            seed,
            end(),
            Duration::days(days),
            Duration::minutes(interval_m),
        );
        let mut out = Vec::new();
        loop {
            let b = sim.next_batch(97);
            if b.is_empty() {
                break;
            }
            assert!(b.len() <= 97);
            out.extend(b);
        }
        out
    }

    #[test]
    fn same_seed_same_samples_other_seed_other_samples() {
        for i in [0, 3, 12] {
            assert_eq!(all(42, i, 2, 15), all(42, i, 2, 15));
        }
        assert_ne!(all(42, 12, 1, 15), all(43, 12, 1, 15));
    }

    #[test]
    fn every_generated_sample_is_valid() {
        let now = end();
        for i in 0..30 {
            for s in all(5, i, 2, 30) {
                let problems = s.validate(now);
                assert!(
                    problems.is_empty(),
                    "device {i} seq {}: {problems:?}",
                    s.seq
                );
            }
        }
    }

    #[test]
    fn seq_counts_collections_from_one_without_gaps() {
        let s = all(9, 10, 7, 60);
        let seqs: Vec<u64> = s.iter().map(|s| s.seq).collect();
        assert_eq!(seqs, (1..=s.len() as u64).collect::<Vec<_>>());
        assert!(s.windows(2).all(|w| w[0].collected_at < w[1].collected_at));
    }

    #[test]
    fn filling_disk_grows_to_the_warning_band() {
        let s = all(1, 0, 7, 30);
        let pct: Vec<f64> = s
            .iter()
            .map(|s| s.metrics().disk_max_pct.unwrap())
            .collect();
        let first = pct[0];
        let last = *pct.last().unwrap();
        assert!(
            first < 75.0 && last > 90.0 && last < 95.0,
            "{first} -> {last}"
        );
        // Monotonic-ish: each day's average is above the previous day's.
        let per_day = s.len() / 7;
        let avgs: Vec<f64> = pct
            .chunks(per_day)
            .map(|c| c.iter().sum::<f64>() / c.len() as f64)
            .collect();
        assert!(avgs.windows(2).all(|w| w[1] > w[0]), "{avgs:?}");
        assert_eq!(s.last().unwrap().collected_at, end());
    }

    #[test]
    fn silent_device_stops_three_days_before_now() {
        let s = all(1, 4, 7, 30);
        let last = s.last().unwrap().collected_at;
        assert!(last <= end() - Duration::days(SILENT_FOR_DAYS));
        assert!(last > end() - Duration::days(SILENT_FOR_DAYS + 2));
    }

    #[test]
    fn silent_device_reports_half_of_a_short_history() {
        let s = all(1, 4, 1, 30);
        assert!(!s.is_empty());
        assert!(s.last().unwrap().collected_at <= end() - Duration::hours(12));
    }

    #[test]
    fn conditions_show_in_the_latest_sample() {
        let policy = rt_core::health::HealthPolicy::default();
        let reasons = |i: u32| -> String {
            let s = all(2, i, 1, 30);
            rt_core::health::sample_findings(s.last().unwrap(), &policy)
                .into_iter()
                .map(|(_, r)| r)
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert!(reasons(0).contains("disk"), "{}", reasons(0));
        assert!(reasons(1).contains("SMART failed"), "{}", reasons(1));
        assert!(reasons(2).contains("temp"), "{}", reasons(2));
        assert!(reasons(3).contains("battery"), "{}", reasons(3));
    }

    #[test]
    fn office_laptops_sleep_at_night_and_weekends() {
        // Find a laptop that is not always on.
        let i = (9..200)
            .find(|i| {
                let p = DevicePlan::new(11, *i);
                p.kind == Kind::OfficeLaptop && !p.always_on
            })
            .unwrap();
        let s = all(11, i, 7, 60);
        assert!(
            s.len() < 7 * 24 / 2,
            "a sleeping laptop reports less than half the hours: {}",
            s.len()
        );
        assert!(s.len() >= 5 * 8, "but works every weekday: {}", s.len());
    }

    #[test]
    fn batches_are_bounded_and_resume_where_they_stopped() {
        let mut sim = DeviceSim::new(
            DevicePlan::new(3, 20),
            3,
            end(),
            Duration::days(1),
            Duration::minutes(5),
        );
        let a = sim.next_batch(10);
        let b = sim.next_batch(10);
        assert_eq!(a.len(), 10);
        assert_eq!(b[0].seq, 11);
        assert!(b[0].collected_at > a[9].collected_at);
    }
}
