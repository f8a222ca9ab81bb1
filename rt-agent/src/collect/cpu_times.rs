//! CPU usage from cumulative time counters: the busy share of the time that passed between two
//! readings, for the whole machine and per core.
//!
//! Windows reads these counters with `GetSystemTimes` and
//! `NtQuerySystemInformation(SystemProcessorPerformanceInformation)` (see `windows_cpu`) instead
//! of sysinfo's performance-counter (PDH) queries, which fail on machines whose counter registry
//! is damaged and abort under Wine. The arithmetic lives here, free of any OS call, so that it is
//! tested on every platform.

/// Cumulative idle and busy time of one CPU (or all of them), in any one unit (100 ns on
/// Windows). Only differences between two readings mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    pub idle: u64,
    pub busy: u64,
}

impl CpuTimes {
    /// From Windows counters, whose kernel time includes the idle time.
    pub fn from_windows(idle: u64, kernel: u64, user: u64) -> Self {
        CpuTimes {
            idle,
            busy: kernel.saturating_sub(idle).saturating_add(user),
        }
    }

    /// The machine as the sum of its cores.
    pub fn sum(cores: &[CpuTimes]) -> Self {
        cores.iter().fold(CpuTimes::default(), |a, c| CpuTimes {
            idle: a.idle.saturating_add(c.idle),
            busy: a.busy.saturating_add(c.busy),
        })
    }
}

/// Busy share between two readings, in percent. None when no time passed or a counter went
/// backwards (a reset, or readings from two different sources).
pub fn usage_pct(prev: CpuTimes, cur: CpuTimes) -> Option<f64> {
    let idle = cur.idle.checked_sub(prev.idle)?;
    let busy = cur.busy.checked_sub(prev.busy)?;
    let total = idle.checked_add(busy).filter(|t| *t > 0)?;
    Some((busy as f64 * 100.0 / total as f64).clamp(0.0, 100.0))
}

/// One reading of the counters: the machine, and each core when the OS tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reading {
    pub total: CpuTimes,
    pub cores: Vec<CpuTimes>,
}

/// Usage over the span between two readings.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuUsage {
    pub total_pct: f64,
    /// Empty when the cores could not be compared (first reading, a core count that changed).
    pub per_core_pct: Vec<f64>,
}

/// Keeps the previous reading so that each new one yields the usage since then.
#[derive(Debug, Clone, Default)]
pub struct Sampler {
    prev: Option<Reading>,
}

impl Sampler {
    /// Records `now` and returns the usage since the previous reading (None for the first, or
    /// when the counters went backwards).
    pub fn update(&mut self, now: Reading) -> Option<CpuUsage> {
        let prev = self.prev.replace(now.clone())?;
        let total_pct = usage_pct(prev.total, now.total)?;
        let per_core_pct = if prev.cores.len() == now.cores.len() {
            prev.cores
                .iter()
                .zip(&now.cores)
                .map(|(p, c)| usage_pct(*p, *c))
                .collect::<Option<Vec<f64>>>()
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Some(CpuUsage {
            total_pct,
            per_core_pct,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(idle: u64, busy: u64) -> CpuTimes {
        CpuTimes { idle, busy }
    }

    #[test]
    fn windows_kernel_time_includes_idle() {
        // 1 s of idle, 1.5 s of kernel time of which 1 s was idle, 0.5 s user: 1 s busy.
        let c = CpuTimes::from_windows(10_000_000, 15_000_000, 5_000_000);
        assert_eq!(c, t(10_000_000, 10_000_000));
        // Counters that disagree (kernel below idle) never underflow.
        assert_eq!(CpuTimes::from_windows(10, 5, 3), t(10, 3));
    }

    #[test]
    fn usage_is_the_busy_share_of_the_elapsed_time() {
        assert_eq!(usage_pct(t(100, 100), t(175, 125)), Some(25.0));
        assert_eq!(usage_pct(t(0, 0), t(0, 40)), Some(100.0));
        assert_eq!(usage_pct(t(0, 0), t(40, 0)), Some(0.0));
    }

    #[test]
    fn no_elapsed_time_or_counters_going_back_give_no_figure() {
        assert_eq!(usage_pct(t(5, 5), t(5, 5)), None);
        assert_eq!(usage_pct(t(100, 100), t(90, 150)), None);
        assert_eq!(usage_pct(t(100, 100), t(150, 90)), None);
    }

    #[test]
    fn sampler_reports_from_the_second_reading_on() {
        let mut s = Sampler::default();
        let r = |cores: Vec<CpuTimes>| Reading {
            total: CpuTimes::sum(&cores),
            cores,
        };
        assert_eq!(s.update(r(vec![t(0, 0), t(0, 0)])), None);
        // Core 0 fully busy, core 1 a quarter busy: the machine 62.5 %.
        let u = s.update(r(vec![t(0, 100), t(75, 25)])).unwrap();
        assert_eq!(u.total_pct, 62.5);
        assert_eq!(u.per_core_pct, vec![100.0, 25.0]);
        // Each figure covers only the span since the reading before.
        let u = s.update(r(vec![t(100, 100), t(75, 125)])).unwrap();
        assert_eq!(u.total_pct, 50.0);
        assert_eq!(u.per_core_pct, vec![0.0, 100.0]);
    }

    #[test]
    fn a_changed_core_count_keeps_the_total_and_drops_the_cores() {
        let mut s = Sampler::default();
        s.update(Reading {
            total: t(0, 0),
            cores: vec![t(0, 0)],
        });
        let u = s
            .update(Reading {
                total: t(50, 50),
                cores: vec![t(25, 25), t(25, 25)],
            })
            .unwrap();
        assert_eq!(u.total_pct, 50.0);
        assert!(u.per_core_pct.is_empty());
    }

    #[test]
    fn counters_going_back_restart_from_the_new_reading() {
        let mut s = Sampler::default();
        s.update(Reading {
            total: t(1000, 1000),
            cores: vec![],
        });
        assert_eq!(
            s.update(Reading {
                total: t(10, 10),
                cores: vec![]
            }),
            None
        );
        let u = s
            .update(Reading {
                total: t(20, 30),
                cores: vec![],
            })
            .unwrap();
        assert_eq!(u.total_pct, 66.66666666666667);
    }
}
