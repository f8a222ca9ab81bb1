//! Windows CPU time counters: `GetSystemTimes` for the machine and
//! `NtQuerySystemInformation(SystemProcessorPerformanceInformation)` for each core, turned into
//! [`Reading`]s for the platform-neutral arithmetic in `cpu_times`. Both calls work where the
//! performance-counter (PDH) registry is damaged and under Wine, unlike sysinfo's PDH queries.
//!
//! Only compiled on Windows; the build machine checks it with the cross-build in
//! `scripts/windows-check.sh` and runs it under Wine there.
#![expect(unsafe_code, reason = "two Win32 calls that fill plain-data buffers")]

use super::cpu_times::{CpuTimes, Reading};
use windows_sys::Wdk::System::SystemInformation::{
    NtQuerySystemInformation, SystemProcessorPerformanceInformation,
};
use windows_sys::Win32::Foundation::FILETIME;
use windows_sys::Win32::System::Threading::GetSystemTimes;
use windows_sys::Win32::System::WindowsProgramming::SYSTEM_PROCESSOR_PERFORMANCE_INFORMATION;

/// Windows caps a processor group at 64 logical processors; the per-core call reports the
/// caller's group. More than this is left to the machine total.
const MAX_CORES: usize = 64;

fn filetime(f: FILETIME) -> u64 {
    (u64::from(f.dwHighDateTime) << 32) | u64::from(f.dwLowDateTime)
}

fn system_times() -> Option<CpuTimes> {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut idle, mut kernel, mut user) = (zero, zero, zero);
    // SAFETY: three valid, writable FILETIME out-pointers, as the API documents.
    let ok = unsafe { GetSystemTimes(&mut idle, &mut kernel, &mut user) };
    (ok != 0).then(|| CpuTimes::from_windows(filetime(idle), filetime(kernel), filetime(user)))
}

fn core_times() -> Vec<CpuTimes> {
    let mut buf = [SYSTEM_PROCESSOR_PERFORMANCE_INFORMATION::default(); MAX_CORES];
    let size = std::mem::size_of_val(&buf) as u32;
    let mut returned = 0u32;
    // SAFETY: the buffer is `size` bytes of plain structs; the call writes at most that many
    // bytes and reports how many in `returned`.
    let status = unsafe {
        NtQuerySystemInformation(
            SystemProcessorPerformanceInformation,
            buf.as_mut_ptr().cast(),
            size,
            &mut returned,
        )
    };
    if status < 0 {
        return Vec::new();
    }
    let n = (returned as usize / std::mem::size_of::<SYSTEM_PROCESSOR_PERFORMANCE_INFORMATION>())
        .min(MAX_CORES);
    buf[..n]
        .iter()
        .map(|c| {
            let v = |x: i64| u64::try_from(x).unwrap_or(0);
            CpuTimes::from_windows(v(c.IdleTime), v(c.KernelTime), v(c.UserTime))
        })
        .collect()
}

/// One reading; None only when neither call answers.
pub fn read() -> Option<Reading> {
    let cores = core_times();
    let total = system_times().or_else(|| (!cores.is_empty()).then(|| CpuTimes::sum(&cores)))?;
    Some(Reading { total, cores })
}
