//! Who is in the simulated fleet: one [`DevicePlan`] per device index, derived only from the
//! seed and the index, so device 17 of seed 42 is the same machine on every run (same machine
//! id, hostname, hardware), and a plan is made when it is needed, never for the whole fleet.
//!
//! The first indices get the situations a console demo must show (each once); the rest are
//! ordinary office laptops, developer workstations and office desktops.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rt_core::inventory::DiskInventory;
use rt_core::{Inventory, LifecycleState};

/// What kind of machine a device is; decides hardware and daily rhythm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Sleeps at night and at weekends (gaps in its history), has a battery.
    OfficeLaptop,
    /// Always on, high CPU, big NVMe disk.
    DevWorkstation,
    /// Always on, light use, often a firmware placeholder serial number.
    OfficeDesktop,
}

/// The special situation a device is in (most devices: `Healthy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Healthy,
    /// Its system disk fills steadily (ends near 91 %), so the server forecasts a "full" date.
    FillingDisk,
    /// SMART self-assessment failed; reallocated sectors grow.
    FailingSmart,
    /// CPU sensor within 10 °C of its critical point.
    Overheating,
    /// Battery health below 60 %.
    WornBattery,
    /// Stopped reporting [`SILENT_FOR_DAYS`] days ago, or half-way through a shorter history
    /// (offline).
    Silent,
    /// Retired by an admin after its history (lifecycle set through the API).
    Retired,
    /// Back in stock (lifecycle set through the API); reported only while being prepared.
    InStock,
    /// Shares its hostname with another device (different machine id): must stay two devices.
    SameHostname,
}

/// How long before "now" the silent device stopped reporting.
pub const SILENT_FOR_DAYS: i64 = 3;
/// How long before "now" the retired device stopped reporting.
pub const RETIRED_FOR_DAYS: i64 = 2;
/// The hostname the two [`Condition::SameHostname`] devices share.
pub const SHARED_HOSTNAME: &str = "RECEPTION-PC";

/// Operating system family of a simulated device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Windows,
    Linux,
    MacOs,
}

/// Everything fixed about one simulated device.
#[derive(Debug, Clone)]
pub struct DevicePlan {
    pub index: u32,
    pub kind: Kind,
    pub condition: Condition,
    pub os: Os,
    pub inventory: Inventory,
    pub assignee: Option<String>,
    pub asset_tag: String,
    /// Lifecycle state to set through the API after the history is uploaded.
    pub lifecycle: Option<LifecycleState>,
    /// Local time offset from UTC in hours (laptops sleep at local night).
    pub tz_offset_h: i64,
    /// Laptop left docked and awake around the clock.
    pub always_on: bool,
    /// Local working hours (start, end) for laptops.
    pub work_hours: (f64, f64),
    /// Used fraction of the system disk at the start of the history (0..1).
    pub disk_start_frac: f64,
    /// Battery health in percent (laptops).
    pub battery_health_pct: f64,
    pub battery_cycles: u64,
    pub smart: bool,
    pub smart_wear_pct: f64,
    pub power_on_hours: u64,
}

/// Indices 0..9 carry the special conditions in this order; the rest are healthy.
const SPECIALS: [(Kind, Condition); 9] = [
    (Kind::DevWorkstation, Condition::FillingDisk),
    (Kind::OfficeDesktop, Condition::FailingSmart),
    (Kind::DevWorkstation, Condition::Overheating),
    (Kind::OfficeLaptop, Condition::WornBattery),
    (Kind::OfficeLaptop, Condition::Silent),
    (Kind::OfficeLaptop, Condition::Retired),
    (Kind::OfficeLaptop, Condition::InStock),
    (Kind::OfficeDesktop, Condition::SameHostname),
    (Kind::OfficeDesktop, Condition::SameHostname),
];

const FIRST: &[&str] = &[
    "alice", "bruno", "chloe", "dmitri", "emma", "farid", "grace", "hiro", "ines", "jonas", "kate",
    "liam", "maria", "noah", "olga", "pablo", "quinn", "rosa", "sven", "tara", "umar", "vera",
    "wei", "xenia", "yusuf", "zoe", "amir", "bea", "carl", "dana", "elif", "finn",
];
const LAST: &[&str] = &[
    "martin", "schmidt", "rossi", "novak", "dubois", "silva", "tanaka", "kowalski", "jensen",
    "garcia", "okafor", "petrov", "nguyen", "larsen", "moreau", "costa", "fischer", "kim",
    "haddad", "walsh", "berg", "meyer", "santos", "ivanova",
];
const TZ_OFFSETS: &[i64] = &[-8, -5, -5, 0, 0, 1, 1, 1, 1, 2, 2, 3, 5, 8, 9];

/// splitmix64: spreads (seed, index, stream) into independent RNG seeds.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A deterministic RNG for one (seed, device, purpose).
pub(crate) fn rng_for(seed: u64, index: u32, stream: u64) -> StdRng {
    StdRng::seed_from_u64(mix(mix(seed) ^ mix(u64::from(index) ^ (stream << 40))))
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn alnum(rng: &mut StdRng, n: usize) -> String {
    const CH: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|_| CH[rng.random_range(0..CH.len())] as char)
        .collect()
}

fn mac(rng: &mut StdRng) -> String {
    let b: [u8; 5] = rng.random();
    format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4]
    )
}

const GIB: u64 = 1024 * 1024 * 1024;

/// Devices that fail one compliance fact each (healthy otherwise; the first devices after the
/// special conditions): an unencrypted system disk, an OS not updated for 200 days, the
/// firewall off. Every other device is encrypted, firewalled and updated within 20 days.
pub const UNENCRYPTED_INDEX: u32 = 9;
pub const OUTDATED_OS_INDEX: u32 = 10;
pub const FIREWALL_OFF_INDEX: u32 = 11;

impl DevicePlan {
    /// The compliance facts this device reports at time `t` (see [`UNENCRYPTED_INDEX`]).
    pub fn compliance(&self, t: chrono::DateTime<chrono::Utc>) -> rt_core::sample::ComplianceFacts {
        use rt_core::sample::{ComplianceFacts, Fact, VolumeEncryption};
        let (mount, method) = match self.os {
            Os::Windows => ("C:\\", "bitlocker-xtsaes128"),
            Os::MacOs => ("/", "filevault"),
            Os::Linux => ("/", "luks2"),
        };
        let encrypted = self.index != UNENCRYPTED_INDEX;
        let days_since_update = if self.index == OUTDATED_OS_INDEX {
            200
        } else {
            (mix(u64::from(self.index)) % 20) as i64
        };
        ComplianceFacts {
            volumes: vec![VolumeEncryption {
                mount_point: mount.into(),
                encrypted: Fact::from_bool(encrypted),
                method: encrypted.then(|| method.to_string()),
            }],
            firewall: Fact::from_bool(self.index != FIREWALL_OFF_INDEX),
            secure_boot: if self.os == Os::MacOs {
                Fact::Unknown
            } else {
                Fact::Yes
            },
            screen_lock: if self.os == Os::Windows {
                Fact::Yes
            } else {
                Fact::Unknown
            },
            os_updated_at: Some(t - chrono::Duration::days(days_since_update)),
        }
    }

    /// The plan of device `index` in the fleet of `seed`.
    pub fn new(seed: u64, index: u32) -> DevicePlan {
        let mut rng = rng_for(seed, index, 1);
        let (kind, condition) = match SPECIALS.get(index as usize) {
            Some(s) => *s,
            None => {
                let r: f64 = rng.random();
                let kind = if r < 0.55 {
                    Kind::OfficeLaptop
                } else if r < 0.85 {
                    Kind::DevWorkstation
                } else {
                    Kind::OfficeDesktop
                };
                (kind, Condition::Healthy)
            }
        };
        let os = match kind {
            Kind::OfficeLaptop => *pick(
                &mut rng,
                &[Os::Windows, Os::Windows, Os::Windows, Os::MacOs],
            ),
            Kind::DevWorkstation => {
                *pick(&mut rng, &[Os::Linux, Os::Linux, Os::MacOs, Os::Windows])
            }
            Kind::OfficeDesktop => Os::Windows,
        };
        let first = *pick(&mut rng, FIRST);
        let last = *pick(&mut rng, LAST);
        let person = format!("{first}.{last}");
        let hostname = match (condition, kind, os) {
            (Condition::SameHostname, _, _) => SHARED_HOSTNAME.to_string(),
            (_, Kind::OfficeLaptop, Os::MacOs) => {
                let mut f = first.to_string();
                f[..1].make_ascii_uppercase();
                format!("{f}s-MacBook-Pro-{index}")
            }
            (_, Kind::OfficeLaptop, _) => format!("LT-{}{:04}", last.to_ascii_uppercase(), index),
            (_, Kind::DevWorkstation, Os::Windows) => format!("WS-DEV-{index:04}"),
            (_, Kind::DevWorkstation, _) => format!("ws-dev-{first}-{index}"),
            (_, Kind::OfficeDesktop, _) => format!("PC-OFFICE-{index:04}"),
        };

        let machine_id = format!(
            "{:016x}{:016x}",
            mix(seed ^ 0x5EED),
            mix(mix(seed) ^ u64::from(index))
        );
        let (vendor, model, serial) = match (kind, os) {
            (_, Os::MacOs) => (
                "Apple Inc.",
                if kind == Kind::OfficeLaptop {
                    "MacBookPro18,3"
                } else {
                    "Mac14,13"
                },
                alnum(&mut rng, 10),
            ),
            (Kind::OfficeLaptop, _) => (
                *pick(&mut rng, &["LENOVO", "Dell Inc.", "HP"]),
                *pick(
                    &mut rng,
                    &["ThinkPad T14 Gen 4", "Latitude 7440", "EliteBook 840 G10"],
                ),
                format!("PF{}", alnum(&mut rng, 6)),
            ),
            (Kind::DevWorkstation, _) => (
                *pick(&mut rng, &["Dell Inc.", "LENOVO", "System76"]),
                *pick(
                    &mut rng,
                    &["Precision 3660", "ThinkStation P360", "Thelio Major"],
                ),
                alnum(&mut rng, 7),
            ),
            (Kind::OfficeDesktop, _) => (
                "To Be Filled By O.E.M.",
                "To Be Filled By O.E.M.",
                // Cheap boards ship a placeholder serial: identity must come from the machine id.
                "To be filled by O.E.M.".to_string(),
            ),
        };
        let (os_name, os_version, kernel, arch) = match os {
            Os::Windows => ("Windows", "11 (23H2)", "10.0.22631", "x86_64"),
            Os::MacOs => ("macOS", "15.1", "24.1.0", "aarch64"),
            Os::Linux => *pick(
                &mut rng,
                &[
                    ("Ubuntu", "24.04", "6.8.0-49-generic", "x86_64"),
                    ("Debian GNU/Linux", "12", "6.1.0-27-amd64", "x86_64"),
                    ("Fedora Linux", "41", "6.11.8-300.fc41.x86_64", "x86_64"),
                ],
            ),
        };
        let (cpu_model, cores, mem_gib) = match (kind, os) {
            (_, Os::MacOs) => ("Apple M3 Pro", 12, *pick(&mut rng, &[18u64, 36])),
            (Kind::OfficeLaptop, _) => (
                "13th Gen Intel(R) Core(TM) i7-1365U",
                *pick(&mut rng, &[8u32, 12]),
                *pick(&mut rng, &[8u64, 16, 16, 32]),
            ),
            (Kind::DevWorkstation, _) => (
                "AMD Ryzen 9 7950X 16-Core Processor",
                *pick(&mut rng, &[16u32, 24, 32]),
                *pick(&mut rng, &[32u64, 64, 64, 128]),
            ),
            (Kind::OfficeDesktop, _) => (
                "Intel(R) Core(TM) i5-10400 CPU @ 2.90GHz",
                *pick(&mut rng, &[4u32, 6]),
                *pick(&mut rng, &[8u64, 16]),
            ),
        };
        let (disk_name, disk_kind, disk_size) = match (kind, os) {
            (_, Os::MacOs) => ("disk0", "nvme", 512_110_190_592u64),
            (_, Os::Windows) if kind == Kind::OfficeDesktop => {
                ("PhysicalDrive0", "hdd", 500_107_862_016)
            }
            (_, Os::Windows) => ("PhysicalDrive0", "nvme", 512_110_190_592),
            (Kind::DevWorkstation, _) => ("nvme0n1", "nvme", 1_024_209_543_168),
            _ => ("nvme0n1", "nvme", 512_110_190_592),
        };
        let disk_model = match disk_kind {
            "hdd" => "ST500DM009-2F110A",
            _ => *pick(
                &mut rng,
                &[
                    "Samsung SSD 980 PRO 1TB",
                    "WD PC SN740 512GB",
                    "KIOXIA KXG80ZNV512G",
                ],
            ),
        };
        let mut macs = vec![mac(&mut rng)];
        if kind == Kind::OfficeLaptop {
            macs.push(mac(&mut rng));
        }
        let inventory = Inventory {
            hostname,
            os_name: os_name.into(),
            os_version: os_version.into(),
            kernel_version: kernel.into(),
            arch: arch.into(),
            cpu_model: cpu_model.into(),
            cpu_cores: cores,
            memory_total_bytes: mem_gib * GIB,
            machine_id: Some(machine_id),
            serial_number: Some(serial),
            vendor: Some(vendor.into()),
            model: Some(model.into()),
            mac_addresses: macs,
            disks: vec![DiskInventory {
                name: disk_name.into(),
                model: Some(disk_model.into()),
                serial_number: Some(alnum(&mut rng, 12)),
                size_bytes: disk_size,
                kind: disk_kind.into(),
                removable: false,
            }],
        };

        let lifecycle = match condition {
            Condition::Retired => Some(LifecycleState::Retired),
            Condition::InStock => Some(LifecycleState::InStock),
            _ => None,
        };
        let assignee = match (condition, kind) {
            (Condition::InStock | Condition::Retired, _) => None,
            (Condition::SameHostname, _) => Some("reception".to_string()),
            (_, Kind::OfficeDesktop) if rng.random_bool(0.5) => None,
            _ => Some(person),
        };
        // Special laptops stay awake so their situation shows whatever the weekday: the worn
        // battery, the in-stock one on the preparation bench, the silent and retired ones.
        let always_on =
            kind != Kind::OfficeLaptop || condition != Condition::Healthy || rng.random_bool(0.15);
        let start_h = rng.random_range(7.0..9.5);
        let work_hours = (start_h, start_h + rng.random_range(8.0..10.0));
        let disk_start_frac = match condition {
            Condition::FillingDisk => 0.0, // computed from the end point, see generator
            _ => rng.random_range(0.25..0.72),
        };
        let battery_health_pct = match condition {
            Condition::WornBattery => rng.random_range(51.0..56.0),
            _ => rng.random_range(82.0..99.0),
        };
        let battery_cycles = match condition {
            Condition::WornBattery => rng.random_range(900..1200),
            _ => rng.random_range(40..450),
        };
        let smart = kind != Kind::OfficeLaptop || rng.random_bool(0.5);
        Self {
            index,
            kind,
            condition,
            os,
            inventory,
            assignee,
            asset_tag: format!("SIM-{:08X}-{index:04}", (mix(seed) >> 32) as u32),
            lifecycle,
            tz_offset_h: *pick(&mut rng, TZ_OFFSETS),
            always_on,
            work_hours,
            disk_start_frac,
            battery_health_pct,
            battery_cycles,
            smart,
            smart_wear_pct: rng.random_range(1.0..45.0),
            power_on_hours: rng.random_range(800..22_000),
        }
    }

    /// The device name shown in the console (the server's default is the hostname; the two
    /// same-hostname machines get told apart by their asset tag).
    pub fn display_name(&self) -> String {
        self.inventory.hostname.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_deterministic_and_machine_ids_distinct() {
        let a: Vec<_> = (0..40).map(|i| DevicePlan::new(7, i)).collect();
        let b: Vec<_> = (0..40).map(|i| DevicePlan::new(7, i)).collect();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.inventory, y.inventory);
        }
        let ids: std::collections::HashSet<_> =
            a.iter().map(|p| p.inventory.machine_id.clone()).collect();
        assert_eq!(ids.len(), 40);
        // A different seed is a different fleet.
        assert_ne!(
            DevicePlan::new(8, 0).inventory.machine_id,
            a[0].inventory.machine_id
        );
    }

    #[test]
    fn two_devices_share_a_hostname_but_not_an_identity() {
        let p7 = DevicePlan::new(1, 7);
        let p8 = DevicePlan::new(1, 8);
        assert_eq!(p7.inventory.hostname, SHARED_HOSTNAME);
        assert_eq!(p8.inventory.hostname, SHARED_HOSTNAME);
        assert_ne!(
            p7.inventory.identifying_machine_id(),
            p8.inventory.identifying_machine_id()
        );
        // Placeholder serials never identify, so the machine id is what keeps them apart.
        assert_eq!(p7.inventory.identifying_serial(), None);
    }

    #[test]
    fn specials_come_first_then_a_mix() {
        assert_eq!(DevicePlan::new(3, 0).condition, Condition::FillingDisk);
        assert_eq!(DevicePlan::new(3, 4).condition, Condition::Silent);
        assert_eq!(
            DevicePlan::new(3, 5).lifecycle,
            Some(LifecycleState::Retired)
        );
        let kinds: std::collections::HashSet<_> = (9..60)
            .map(|i| format!("{:?}", DevicePlan::new(3, i).kind))
            .collect();
        assert_eq!(
            kinds.len(),
            3,
            "healthy devices mix laptops, workstations and desktops"
        );
    }
}
