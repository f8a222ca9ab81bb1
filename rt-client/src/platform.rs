//! Platform checks: the one answer to "am I running as root (Unix) or elevated (Windows)?".
//!
//! Used to choose the agent's default state directory, the install scope of its schedule and
//! whether the credential store may probe a desktop keyring. No `unsafe` (the workspace denies
//! it), so the effective uid comes from `/proc/self` on Linux and `id -u` elsewhere on Unix.

/// The effective user id on Unix; `None` on Windows or when it cannot be found.
pub fn effective_uid() -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to the process's effective uid (Linux).
        if let Ok(m) = std::fs::metadata("/proc/self") {
            return Some(m.uid());
        }
        // macOS and the BSDs have no /proc: ask `id` (run rarely: install, default paths).
        std::process::Command::new("id")
            .arg("-u")
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// True for root on Unix and for an elevated (administrator or SYSTEM) process on Windows.
pub fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        effective_uid() == Some(0)
    }
    #[cfg(windows)]
    {
        // Opening the raw first disk for reading succeeds only with administrator rights; it
        // needs no extra crate, no unsafe code and no child process.
        std::fs::File::open(r"\\.\PHYSICALDRIVE0").is_ok()
    }
    #[cfg(not(any(unix, windows)))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn root_check_agrees_with_id() {
        let id = std::process::Command::new("id")
            .arg("-u")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<u32>().ok());
        let Some(id) = id else { return };
        assert_eq!(effective_uid(), Some(id));
        assert_eq!(running_as_root(), id == 0);
    }
}
