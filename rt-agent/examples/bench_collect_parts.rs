//! Benchmark probe for the agent-footprint analysis: CPU time of the sysinfo refreshes one
//! collection of `rt-agent run` does, part by part, with the process refresh as the agent does
//! it (`ProcessRefreshKind::nothing().with_cpu().with_memory()`, which in sysinfo 0.40 still
//! lists every thread of every process) and without tasks.
//!
//! ```text
//! cargo run --release -p rt-agent --example bench_collect_parts -- [--iterations 100]
//! ```
//!
//! Prints one JSON line: CPU milliseconds (user + system, from /proc/self/stat) per refresh.

use std::time::Duration;
use sysinfo::{
    Components, CpuRefreshKind, Disks, MemoryRefreshKind, Networks, ProcessRefreshKind,
    ProcessesToUpdate, System,
};

fn cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn per_iter(n: usize, mut f: impl FnMut()) -> f64 {
    f();
    let t0 = cpu_s();
    for _ in 0..n {
        f();
        std::thread::sleep(Duration::from_millis(5));
    }
    (cpu_s() - t0) * 1000.0 / n as f64
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--iterations")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(100), |v| v.parse())?;
    let mut sys = System::new()?;
    let as_agent = ProcessRefreshKind::nothing().with_cpu().with_memory();
    let procs_agent = per_iter(n, || {
        sys.refresh_processes_specifics(ProcessesToUpdate::All, true, as_agent);
    });
    let mut sys2 = System::new()?;
    let no_tasks = as_agent.without_tasks();
    let procs_no_tasks = per_iter(n, || {
        sys2.refresh_processes_specifics(ProcessesToUpdate::All, true, no_tasks);
    });
    let cpu_mem = per_iter(n, || {
        sys.refresh_cpu_specifics(CpuRefreshKind::nothing().with_usage().with_frequency());
        sys.refresh_memory_specifics(MemoryRefreshKind::everything());
    });
    let mut disks = Disks::new_with_refreshed_list()?;
    let disks_ms = per_iter(n, || disks.refresh(true));
    let mut networks = Networks::new_with_refreshed_list()?;
    let net_ms = per_iter(n, || networks.refresh(true));
    let mut components = Components::new_with_refreshed_list()?;
    let comp_ms = per_iter(n, || components.refresh(true));
    println!(
        "{{\"iterations\":{n},\"processes\":{},\"processes_as_agent_ms\":{procs_agent:.3},\"processes_without_tasks_ms\":{procs_no_tasks:.3},\"cpu_memory_ms\":{cpu_mem:.3},\"disks_ms\":{disks_ms:.3},\"networks_ms\":{net_ms:.3},\"components_ms\":{comp_ms:.3}}}",
        sys2.processes().len()
    );
    Ok(())
}
