//! Compliance facts (issue 15 item 1): disk encryption per volume, host firewall, Secure Boot,
//! screen lock and the last OS update.
//!
//! Every parser is platform-neutral and tested on fixtures (a fake sysfs/etc tree for Linux,
//! checked-in PowerShell output for Windows, tool output for macOS); only the small functions
//! that read the live system are `cfg`-gated. What cannot be read is [`Fact::Unknown`], never a
//! guess: a policy does not count unknown as a pass.
//!
//! | fact | Linux | Windows | macOS |
//! | --- | --- | --- | --- |
//! | volume encrypted | a dm-crypt layer (LUKS or plain) under the mount's block device, via `/sys/class/block/*/dm/uuid` and `slaves/` | `Get-BitLockerVolume`: protection on | `fdesetup status` for `/` |
//! | firewall | ufw `ENABLED=yes`, or firewalld running | every `Get-NetFirewallProfile` enabled | `socketfilterfw --getglobalstate` |
//! | Secure Boot | the `SecureBoot` EFI variable; `no` without UEFI | `Confirm-SecureBootUEFI` | unknown |
//! | screen lock | unknown (per user session) | machine inactivity limit policy set | unknown |
//! | last OS update | the last `upgrade` in `/var/log/dpkg.log`, else the dnf/rpm database's time | newest `Get-HotFix` date | newest date in `InstallHistory.plist` |

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use rt_core::sample::{ComplianceFacts, Fact, VolumeEncryption};
use serde_json::Value;
use std::path::Path;

/// How often a resident agent re-reads the facts (they change rarely; PowerShell is dear).
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

// ---------------------------------------------------------------------------------------
// Linux

/// The dm-crypt method under kernel block device `dev` (e.g. `dm-1`, `nvme0n1p2`) in a
/// `/sys/class/block` tree: `Some("luks2")` etc. when a crypt layer is found at any depth
/// (LVM on LUKS), `Some(None)` when there is none; `None` when `dev` is not in the tree.
pub fn dm_crypt_method(sys_block: &Path, dev: &str) -> Option<Option<String>> {
    fn walk(sys_block: &Path, dev: &str, depth: u8) -> Option<Option<String>> {
        let dir = sys_block.join(dev);
        if depth > 8 || !dir.exists() {
            return None;
        }
        if let Ok(uuid) = std::fs::read_to_string(dir.join("dm/uuid")) {
            let uuid = uuid.trim();
            if let Some(rest) = uuid.strip_prefix("CRYPT-") {
                let kind = rest.split('-').next().unwrap_or("").to_ascii_lowercase();
                return Some(Some(match kind.as_str() {
                    "luks1" | "luks2" | "luks" => kind,
                    "bitlk" => "bitlocker".into(),
                    _ => "dm-crypt".into(),
                }));
            }
        }
        let mut slaves: Vec<String> = std::fs::read_dir(dir.join("slaves"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        slaves.sort();
        for s in slaves {
            if let Some(Some(m)) = walk(sys_block, &s, depth + 1) {
                return Some(Some(m));
            }
        }
        Some(None)
    }
    walk(sys_block, dev, 0)
}

/// The kernel name of a device path: `/dev/nvme0n1p2` → `nvme0n1p2`; `/dev/mapper/x` resolves
/// through its symlink to `dm-N` (by `resolve`, the live file system in production).
pub fn kernel_name(dev_path: &str, resolve: impl Fn(&str) -> Option<String>) -> Option<String> {
    let resolved = resolve(dev_path).unwrap_or_else(|| dev_path.to_string());
    let name = resolved.strip_prefix("/dev/")?;
    (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
}

/// Encryption of each `(mount point, device path)` volume in a `/sys/class/block` tree.
pub fn linux_volumes(
    sys_block: &Path,
    mounts: &[(String, String)],
    resolve: impl Fn(&str) -> Option<String>,
) -> Vec<VolumeEncryption> {
    mounts
        .iter()
        .map(|(mp, dev)| {
            let found = kernel_name(dev, &resolve).and_then(|k| dm_crypt_method(sys_block, &k));
            let (encrypted, method) = match found {
                Some(Some(m)) => (Fact::Yes, Some(m)),
                Some(None) => (Fact::No, None),
                None => (Fact::Unknown, None),
            };
            VolumeEncryption {
                mount_point: mp.clone(),
                encrypted,
                method,
            }
        })
        .collect()
}

/// The `SecureBoot-8be4df61-…` EFI variable: 4 attribute bytes, then 1 (on) or 0 (off).
pub fn parse_secure_boot_var(bytes: &[u8]) -> Fact {
    match bytes.get(4) {
        Some(1) => Fact::Yes,
        Some(0) => Fact::No,
        _ => Fact::Unknown,
    }
}

/// Secure Boot under a `/sys/firmware` tree: `no` when the machine did not boot with UEFI.
pub fn linux_secure_boot(firmware: &Path) -> Fact {
    let efivars = firmware.join("efi/efivars");
    if !firmware.join("efi").exists() {
        return if firmware.exists() {
            Fact::No
        } else {
            Fact::Unknown
        };
    }
    let var = std::fs::read_dir(&efivars).ok().and_then(|rd| {
        rd.filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with("SecureBoot-"))
    });
    match var.and_then(|e| std::fs::read(e.path()).ok()) {
        Some(b) => parse_secure_boot_var(&b),
        None => Fact::Unknown,
    }
}

/// The host firewall under a root directory (`/` live): ufw's `ENABLED=` in
/// `etc/ufw/ufw.conf`, or firewalld's pid file in `run/firewalld`. Unknown when neither
/// says "on": nftables/iptables rules written by hand cannot be judged without root and a parser
/// of the rules.
pub fn linux_firewall(root: &Path) -> Fact {
    if root.join("run/firewalld/firewalld.pid").exists() {
        return Fact::Yes;
    }
    match std::fs::read_to_string(root.join("etc/ufw/ufw.conf")) {
        Ok(conf) => {
            let enabled = conf.lines().find_map(|l| {
                let v = l.trim().strip_prefix("ENABLED=")?;
                Some(
                    v.trim_matches(|c| c == '"' || c == '\'')
                        .eq_ignore_ascii_case("yes"),
                )
            });
            match enabled {
                Some(true) => Fact::Yes,
                _ => Fact::Unknown,
            }
        }
        Err(_) => Fact::Unknown,
    }
}

/// The time of the last `upgrade` line in (the tail of) a dpkg log. dpkg writes local time;
/// `offset` converts it (the machine's UTC offset in production).
pub fn parse_dpkg_log_last_upgrade(
    log: &str,
    offset: chrono::FixedOffset,
) -> Option<DateTime<Utc>> {
    log.lines().rev().find_map(|l| {
        // "2026-11-30 09:12:44 upgrade openssl:amd64 3.0.15-1 3.0.16-1"
        let mut parts = l.splitn(4, ' ');
        let (date, time, action) = (parts.next()?, parts.next()?, parts.next()?);
        if action != "upgrade" {
            return None;
        }
        let naive =
            NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S").ok()?;
        offset
            .from_local_datetime(&naive)
            .single()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The last OS update under a root directory: the dpkg log's last upgrade (its last 256 KiB),
/// else the modification time of the dnf history or rpm database.
pub fn linux_os_updated_at(root: &Path, offset: chrono::FixedOffset) -> Option<DateTime<Utc>> {
    if let Some(tail) = read_tail(&root.join("var/log/dpkg.log"), 256 * 1024)
        && let Some(t) = parse_dpkg_log_last_upgrade(&tail, offset)
    {
        return Some(t);
    }
    [
        "var/lib/dnf/history.sqlite",
        "var/lib/rpm/rpmdb.sqlite",
        "var/lib/rpm/Packages",
    ]
    .iter()
    .filter_map(|p| std::fs::metadata(root.join(p)).ok()?.modified().ok())
    .max()
    .map(DateTime::<Utc>::from)
}

fn read_tail(path: &Path, max: u64) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(max))).ok()?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

// ---------------------------------------------------------------------------------------
// Windows

/// One JSON document with BitLocker per volume, the firewall profiles, Secure Boot, the newest
/// hot fix and the machine inactivity limit. Cmdlets that are missing or refuse (not elevated)
/// leave their entry null. Run at most once an hour ([`REFRESH_EVERY`]).
pub const WINDOWS_PS_SCRIPT: &str = r#"$ErrorActionPreference = 'SilentlyContinue'
$sb = $null
try { $sb = Confirm-SecureBootUEFI } catch { if ($_.Exception.Message -match 'not supported') { $sb = $false } }
$o = [ordered]@{
  BitLocker  = @(Get-BitLockerVolume | Select-Object MountPoint, @{n='ProtectionStatus';e={[string]$_.ProtectionStatus}}, @{n='VolumeStatus';e={[string]$_.VolumeStatus}}, @{n='EncryptionMethod';e={[string]$_.EncryptionMethod}})
  Firewall   = @(Get-NetFirewallProfile | Select-Object Name, @{n='Enabled';e={[string]$_.Enabled}})
  SecureBoot = $sb
  HotFix     = (Get-HotFix | Where-Object InstalledOn | Sort-Object InstalledOn -Descending | Select-Object -First 1 | ForEach-Object { $_.InstalledOn.ToUniversalTime().ToString('o') })
  InactivityTimeoutSecs = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' -Name InactivityTimeoutSecs).InactivityTimeoutSecs
}
$o | ConvertTo-Json -Depth 4 -Compress"#;

/// `[x]`, `x` or null as a list (ConvertTo-Json writes one instance without the array).
fn items(v: &Value, key: &str) -> Vec<Value> {
    match v.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(o) => vec![o.clone()],
    }
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_ascii_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The facts from [`WINDOWS_PS_SCRIPT`]'s output, for the volumes `mount_points` (`C:\`).
/// BitLocker: protection on ⇒ yes; fully decrypted or protection off (suspended: the key lies
/// in the clear) ⇒ no; anything else unknown. The firewall is on when every profile is.
pub fn parse_windows(json: &str, mount_points: &[String]) -> ComplianceFacts {
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return unknown_for(mount_points);
    };
    let bitlocker: Vec<(String, Fact, Option<String>)> = items(&v, "BitLocker")
        .iter()
        .filter_map(|b| {
            let mp = super::windows::drive_key(&text_of(b, "MountPoint")?.to_ascii_uppercase())?;
            let protection = text_of(b, "ProtectionStatus");
            let status = text_of(b, "VolumeStatus");
            let fact = match (protection.as_deref(), status.as_deref()) {
                (Some("on" | "1"), _) => Fact::Yes,
                (_, Some("fullydecrypted" | "0")) => Fact::No,
                (Some("off" | "0"), _) => Fact::No,
                _ => Fact::Unknown,
            };
            let method = text_of(b, "EncryptionMethod")
                .filter(|m| !m.is_empty() && m != "none" && m != "0")
                .map(|m| format!("bitlocker-{m}"))
                .or_else(|| (fact == Fact::Yes).then(|| "bitlocker".to_string()));
            Some((mp, fact, method))
        })
        .collect();
    let volumes = mount_points
        .iter()
        .map(|mp| {
            let found = super::windows::drive_key(mp)
                .and_then(|k| bitlocker.iter().find(|(d, _, _)| *d == k));
            VolumeEncryption {
                mount_point: mp.clone(),
                encrypted: found.map_or(Fact::Unknown, |f| f.1),
                method: found.and_then(|f| f.2.clone()),
            }
        })
        .collect();
    let profiles: Vec<Option<bool>> = items(&v, "Firewall")
        .iter()
        .map(|p| match text_of(p, "Enabled").as_deref() {
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            _ => None,
        })
        .collect();
    let firewall = if profiles.is_empty() || profiles.iter().any(Option::is_none) {
        if profiles.contains(&Some(false)) {
            Fact::No
        } else {
            Fact::Unknown
        }
    } else {
        Fact::from_bool(profiles.iter().all(|p| *p == Some(true)))
    };
    let secure_boot = match v.get("SecureBoot") {
        Some(Value::Bool(b)) => Fact::from_bool(*b),
        _ => Fact::Unknown,
    };
    let screen_lock = match v.get("InactivityTimeoutSecs").and_then(Value::as_u64) {
        Some(n) if n > 0 => Fact::Yes,
        _ => Fact::Unknown,
    };
    let os_updated_at = v
        .get("HotFix")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc));
    ComplianceFacts {
        volumes,
        firewall,
        secure_boot,
        screen_lock,
        os_updated_at,
    }
}

fn unknown_for(mount_points: &[String]) -> ComplianceFacts {
    ComplianceFacts {
        volumes: mount_points
            .iter()
            .map(|mp| VolumeEncryption {
                mount_point: mp.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------
// macOS

/// `fdesetup status`: "FileVault is On." / "FileVault is Off." (also "...On, but needs to be
/// restarted", "Encryption in progress"), for the system volume.
pub fn parse_fdesetup(out: &str) -> Fact {
    let l = out.to_ascii_lowercase();
    if l.contains("filevault is on") {
        Fact::Yes
    } else if l.contains("filevault is off") {
        Fact::No
    } else {
        Fact::Unknown
    }
}

/// `socketfilterfw --getglobalstate`: "Firewall is enabled. (State = 1)", "(State = 2)" (block
/// all), "Firewall is disabled. (State = 0)".
pub fn parse_socketfilterfw(out: &str) -> Fact {
    let l = out.to_ascii_lowercase();
    if l.contains("state = 1") || l.contains("state = 2") || l.contains("firewall is enabled") {
        Fact::Yes
    } else if l.contains("state = 0") || l.contains("firewall is disabled") {
        Fact::No
    } else {
        Fact::Unknown
    }
}

/// The newest `<date>` in `/Library/Receipts/InstallHistory.plist` (XML plist; every installed
/// update and package has one).
pub fn parse_install_history(plist: &str) -> Option<DateTime<Utc>> {
    plist
        .split("<date>")
        .skip(1)
        .filter_map(|rest| rest.split("</date>").next())
        .filter_map(|d| DateTime::parse_from_rfc3339(d.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
        .max()
}

// ---------------------------------------------------------------------------------------
// Live

/// The facts of this machine for the sample's volumes, `(mount point, device path)`.
pub fn collect(volumes: &[(String, String)]) -> ComplianceFacts {
    #[cfg(target_os = "linux")]
    {
        let offset = *chrono::Local::now().offset();
        ComplianceFacts {
            volumes: linux_volumes(Path::new("/sys/class/block"), volumes, |p| {
                std::fs::canonicalize(p)
                    .ok()
                    .map(|c| c.to_string_lossy().into_owned())
            }),
            firewall: linux_firewall(Path::new("/")),
            secure_boot: linux_secure_boot(Path::new("/sys/firmware")),
            screen_lock: Fact::Unknown,
            os_updated_at: linux_os_updated_at(Path::new("/"), offset),
        }
    }
    #[cfg(windows)]
    {
        let mps: Vec<String> = volumes.iter().map(|v| v.0.clone()).collect();
        super::smart::run_bounded(
            "powershell.exe",
            &[
                "-NoProfile",
                "-NonInteractive",
                "-Command",
                WINDOWS_PS_SCRIPT,
            ],
            std::time::Duration::from_secs(20),
        )
        .map(|s| parse_windows(&s, &mps))
        .unwrap_or_else(|| unknown_for(&mps))
    }
    #[cfg(target_os = "macos")]
    {
        let t = std::time::Duration::from_secs(10);
        let run = |cmd: &str, args: &[&str]| super::smart::run_bounded(cmd, args, t);
        let filevault = run("/usr/bin/fdesetup", &["status"])
            .map(|s| parse_fdesetup(&s))
            .unwrap_or_default();
        ComplianceFacts {
            volumes: volumes
                .iter()
                .map(|(mp, _)| VolumeEncryption {
                    mount_point: mp.clone(),
                    // FileVault covers the system (and data) volume; others are not known.
                    encrypted: if mp == "/" || mp == "/System/Volumes/Data" {
                        filevault
                    } else {
                        Fact::Unknown
                    },
                    method: (filevault == Fact::Yes && (mp == "/" || mp == "/System/Volumes/Data"))
                        .then(|| "filevault".to_string()),
                })
                .collect(),
            firewall: run(
                "/usr/libexec/ApplicationFirewall/socketfilterfw",
                &["--getglobalstate"],
            )
            .map(|s| parse_socketfilterfw(&s))
            .unwrap_or_default(),
            secure_boot: Fact::Unknown,
            screen_lock: Fact::Unknown,
            os_updated_at: std::fs::read_to_string("/Library/Receipts/InstallHistory.plist")
                .ok()
                .and_then(|p| parse_install_history(&p)),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
    {
        unknown_for(&volumes.iter().map(|v| v.0.clone()).collect::<Vec<_>>())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    fn write(p: &Path, s: &str) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, s).unwrap();
    }

    /// A /sys/class/block tree: nvme0n1p2 ← dm-0 (LUKS2) ← dm-1 (LVM root); nvme0n1p1 plain;
    /// sda1 under a plain dm-crypt mapping dm-2.
    fn sys_block(root: &Path) -> std::path::PathBuf {
        let b = root.join("block");
        for d in ["nvme0n1p1", "nvme0n1p2", "sda1"] {
            fs::create_dir_all(b.join(d)).unwrap();
        }
        write(
            &b.join("dm-0/dm/uuid"),
            "CRYPT-LUKS2-3f2a9c7e0b1d4e5f8a6b7c8d9e0f1a2b-luks-3f2a\n",
        );
        fs::create_dir_all(b.join("dm-0/slaves/nvme0n1p2")).unwrap();
        write(
            &b.join("dm-1/dm/uuid"),
            "LVM-Xq1sJ9fAbCdEfGhIjKlMnOpQrStUvWxY\n",
        );
        fs::create_dir_all(b.join("dm-1/slaves/dm-0")).unwrap();
        write(&b.join("dm-2/dm/uuid"), "CRYPT-PLAIN-swap\n");
        fs::create_dir_all(b.join("dm-2/slaves/sda1")).unwrap();
        b
    }

    #[test]
    fn luks_under_lvm_plain_partitions_and_unknown_devices() {
        let tmp = tempfile::tempdir().unwrap();
        let b = sys_block(tmp.path());
        let links = |p: &str| match p {
            "/dev/mapper/vg-root" => Some("/dev/dm-1".to_string()),
            "/dev/mapper/swap" => Some("/dev/dm-2".to_string()),
            _ => None,
        };
        let mounts: Vec<(String, String)> = [
            ("/", "/dev/mapper/vg-root"),
            ("/boot/efi", "/dev/nvme0n1p1"),
            ("/scratch", "/dev/mapper/swap"),
            ("/mnt/nfs", "server:/export"),
            ("/mnt/gone", "/dev/sdz9"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let v = linux_volumes(&b, &mounts, links);
        let got: Vec<(&str, Fact, Option<&str>)> = v
            .iter()
            .map(|x| (x.mount_point.as_str(), x.encrypted, x.method.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/", Fact::Yes, Some("luks2")),
                ("/boot/efi", Fact::No, None),
                ("/scratch", Fact::Yes, Some("dm-crypt")),
                ("/mnt/nfs", Fact::Unknown, None),
                ("/mnt/gone", Fact::Unknown, None),
            ]
        );
    }

    #[test]
    fn secure_boot_from_the_efi_variable_or_its_absence() {
        assert_eq!(parse_secure_boot_var(&[6, 0, 0, 0, 1]), Fact::Yes);
        assert_eq!(parse_secure_boot_var(&[6, 0, 0, 0, 0]), Fact::No);
        assert_eq!(parse_secure_boot_var(&[6, 0]), Fact::Unknown);
        let tmp = tempfile::tempdir().unwrap();
        let fw = tmp.path().join("firmware");
        assert_eq!(linux_secure_boot(&fw), Fact::Unknown, "no /sys at all");
        fs::create_dir_all(&fw).unwrap();
        assert_eq!(linux_secure_boot(&fw), Fact::No, "booted without UEFI");
        fs::create_dir_all(fw.join("efi/efivars")).unwrap();
        assert_eq!(
            linux_secure_boot(&fw),
            Fact::Unknown,
            "UEFI, variable unreadable"
        );
        fs::write(
            fw.join("efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0cb4d10f1c5"),
            [6, 0, 0, 0, 1],
        )
        .unwrap();
        assert_eq!(linux_secure_boot(&fw), Fact::Yes);
    }

    #[test]
    fn firewall_from_ufw_or_firewalld() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        assert_eq!(linux_firewall(r), Fact::Unknown);
        write(
            &r.join("etc/ufw/ufw.conf"),
            "# comment\nENABLED=no\nLOGLEVEL=low\n",
        );
        assert_eq!(
            linux_firewall(r),
            Fact::Unknown,
            "ufw off says nothing of nftables"
        );
        write(&r.join("etc/ufw/ufw.conf"), "ENABLED=yes\n");
        assert_eq!(linux_firewall(r), Fact::Yes);
        fs::remove_file(r.join("etc/ufw/ufw.conf")).unwrap();
        write(&r.join("run/firewalld/firewalld.pid"), "812\n");
        assert_eq!(linux_firewall(r), Fact::Yes);
    }

    #[test]
    fn last_upgrade_from_the_dpkg_log_else_the_rpm_database() {
        let log = "2026-11-29 08:00:01 startup archives unpack\n\
                   2026-11-29 08:00:02 upgrade openssl:amd64 3.0.15-1 3.0.16-1\n\
                   2026-11-29 08:00:03 status installed openssl:amd64 3.0.16-1\n\
                   2026-11-30 10:00:00 install htop:amd64 <none> 3.3.0-4\n";
        let cet = chrono::FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            parse_dpkg_log_last_upgrade(log, cet),
            Some(Utc.with_ymd_and_hms(2026, 11, 29, 7, 0, 2).unwrap())
        );
        assert_eq!(parse_dpkg_log_last_upgrade("garbage\n\n", cet), None);
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        assert_eq!(linux_os_updated_at(r, cet), None);
        write(&r.join("var/lib/rpm/rpmdb.sqlite"), "x");
        assert!(linux_os_updated_at(r, cet).is_some());
        write(&r.join("var/log/dpkg.log"), log);
        assert_eq!(
            linux_os_updated_at(r, cet),
            Some(Utc.with_ymd_and_hms(2026, 11, 29, 7, 0, 2).unwrap())
        );
    }

    #[test]
    fn windows_bitlocker_firewall_secure_boot_hotfix() {
        let j = crate::collect::read_fixture("windows", "compliance.json");
        let mps = vec!["C:\\".to_string(), "D:\\".to_string(), "E:\\".to_string()];
        let c = parse_windows(&j, &mps);
        let got: Vec<(Fact, Option<&str>)> = c
            .volumes
            .iter()
            .map(|v| (v.encrypted, v.method.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Fact::Yes, Some("bitlocker-xtsaes256")),
                (Fact::No, None),
                (Fact::Unknown, None),
            ]
        );
        assert_eq!(c.firewall, Fact::No, "the Public profile is off");
        assert_eq!(c.secure_boot, Fact::Yes);
        assert_eq!(c.screen_lock, Fact::Yes);
        assert_eq!(
            c.os_updated_at,
            Some(Utc.with_ymd_and_hms(2026, 11, 12, 0, 0, 0).unwrap())
        );
        // PowerShell missing or printing nothing: everything unknown, volumes still listed.
        let none = parse_windows("", &mps);
        assert_eq!(none.volumes.len(), 3);
        assert!(none.volumes.iter().all(|v| v.encrypted == Fact::Unknown));
        assert_eq!(none.firewall, Fact::Unknown);
        // One profile as a single object, enabled; BitLocker suspended (protection off).
        let one = r#"{"BitLocker":{"MountPoint":"C:","ProtectionStatus":"Off","VolumeStatus":"FullyEncrypted","EncryptionMethod":"XtsAes128"},"Firewall":{"Name":"Domain","Enabled":"True"},"SecureBoot":false,"HotFix":null,"InactivityTimeoutSecs":null}"#;
        let c = parse_windows(one, &mps[..1]);
        assert_eq!(
            c.volumes[0].encrypted,
            Fact::No,
            "suspended protection is not protection"
        );
        assert_eq!(c.firewall, Fact::Yes);
        assert_eq!(c.secure_boot, Fact::No);
        assert_eq!(c.screen_lock, Fact::Unknown);
        assert_eq!(c.os_updated_at, None);
    }

    #[test]
    fn macos_tool_outputs() {
        assert_eq!(parse_fdesetup("FileVault is On.\n"), Fact::Yes);
        assert_eq!(parse_fdesetup("FileVault is Off.\n"), Fact::No);
        assert_eq!(
            parse_fdesetup("Encryption in progress: Percent completed = 40.1\n"),
            Fact::Unknown
        );
        assert_eq!(
            parse_socketfilterfw("Firewall is enabled. (State = 1)\n"),
            Fact::Yes
        );
        assert_eq!(
            parse_socketfilterfw("Firewall is disabled. (State = 0)\n"),
            Fact::No
        );
        assert_eq!(parse_socketfilterfw(""), Fact::Unknown);
        let plist = "<plist><array><dict><key>date</key><date>2026-10-01T09:00:00Z</date>\
                     <key>displayName</key><string>macOS Sequoia 15.1</string></dict>\
                     <dict><key>date</key><date>2026-11-20T18:30:00Z</date></dict></array></plist>";
        assert_eq!(
            parse_install_history(plist),
            Some(Utc.with_ymd_and_hms(2026, 11, 20, 18, 30, 0).unwrap())
        );
        assert_eq!(parse_install_history("<plist/>"), None);
    }
}
