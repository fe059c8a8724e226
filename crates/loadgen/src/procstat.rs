//! A process's CPU time and memory from `/proc` (Linux).

use std::time::{Duration, Instant};

/// `/proc` counts CPU time in clock ticks of `USER_HZ`, which Linux fixes at
/// 100 on every architecture it exposes to user space.
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU time of `pid` (`"self"` for this process), in seconds.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count from after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) are utime and stime; `rest` starts at field 3.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
pub fn status_kib(pid: &str, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// CPU use of a process between two moments.
/// A `/proc/PID/status` field summed over several processes (a cluster's
/// nodes); `None` when there are none or one cannot be read.
pub fn status_kib_sum(pids: &[String], key: &str) -> Option<u64> {
    let each: Option<Vec<u64>> = pids.iter().map(|p| status_kib(p, key)).collect();
    each.filter(|e| !e.is_empty()).map(|e| e.iter().sum())
}

#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    at: Instant,
    cpu: f64,
}

impl CpuMark {
    pub fn now(pid: &str) -> Option<CpuMark> {
        Some(CpuMark { at: Instant::now(), cpu: cpu_seconds(pid)? })
    }

    /// CPU seconds spent between `earlier` and `self`.
    pub fn cpu_seconds_since(&self, earlier: &CpuMark) -> f64 {
        self.cpu - earlier.cpu
    }

    /// Percent of one core since `self` (200 % is both cores of the machine).
    pub fn percent_until(&self, later: &CpuMark) -> f64 {
        let wall = later.at.duration_since(self.at).max(Duration::from_millis(1)).as_secs_f64();
        (later.cpu - self.cpu) / wall * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        assert!(cpu_seconds("self").is_some());
        assert!(status_kib("self", "VmRSS").unwrap() > 0);
        assert!(status_kib("self", "VmHWM").unwrap() >= status_kib("self", "VmRSS").unwrap() / 2);
        assert!(cpu_seconds("999999999").is_none());
    }
}
