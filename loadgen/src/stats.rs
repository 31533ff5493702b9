//! Percentiles, and CPU and memory read from /proc.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The `p`-th percentile (0–100) of sorted samples, nearest rank: the
/// smallest sample with at least p % of all samples at or below it.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Latency samples in milliseconds.
#[derive(Debug, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }

    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    /// `{"n","p50","p95","p99","max"}` in ms (nulls without samples).
    pub fn summary(mut self) -> Value {
        self.0.sort_by(f64::total_cmp);
        let p = |q| percentile(&self.0, q).map(round2);
        json!({
            "n": self.0.len(),
            "p50": p(50.0),
            "p95": p(95.0),
            "p99": p(99.0),
            "max": self.0.last().copied().map(round2),
        })
    }
}

/// Two decimals, enough for ms and rates.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Linux reports CPU times in clock ticks of USER_HZ, which is 100 on every
/// architecture Linux runs on today (`getconf CLK_TCK`).
const TICKS_PER_SEC: f64 = 100.0;

/// user + system CPU seconds of a process, from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    parse_stat_cpu(&std::fs::read_to_string(path).ok()?)
}

/// utime and stime are fields 14 and 15; field 2 (the command) is in
/// parentheses and may contain spaces, so count from the last `)`.
fn parse_stat_cpu(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): field n is at index n - 3.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// Resident set size in MiB, from `VmRSS` in `/proc/<pid>/status`.
pub fn rss_mib(pid: u32) -> Option<f64> {
    parse_vm_rss_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
        .map(|kib| kib / 1024.0)
}

fn parse_vm_rss_kib(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU used by this process (and the server, if known) over a window,
/// in cores: CPU seconds divided by wall seconds.
pub struct CpuWindow {
    start: Instant,
    own: Option<f64>,
    server: Option<f64>,
    server_pid: Option<u32>,
}

impl CpuWindow {
    pub fn start(server_pid: Option<u32>) -> Self {
        Self {
            start: Instant::now(),
            own: cpu_seconds(None),
            server: server_pid.and_then(|pid| cpu_seconds(Some(pid))),
            server_pid,
        }
    }

    /// `(loadgen cores, server cores)` since `start`.
    pub fn cores(&self) -> (Option<f64>, Option<f64>) {
        let wall = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = |before: Option<f64>, now: Option<f64>| Some(round2((now? - before?) / wall));
        (
            rate(self.own, cpu_seconds(None)),
            self.server_pid
                .and_then(|pid| rate(self.server, cpu_seconds(Some(pid)))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        let few = [10.0, 20.0, 30.0];
        assert_eq!(percentile(&few, 50.0), Some(20.0));
        assert_eq!(percentile(&few, 99.0), Some(30.0));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn summary_sorts_and_rounds() {
        let mut s = Samples::default();
        for ms in [5u64, 1, 3, 2, 4] {
            s.push(Duration::from_millis(ms));
        }
        s.push(Duration::from_micros(1234));
        assert_eq!(
            s.summary(),
            json!({"n": 6, "p50": 2.0, "p95": 5.0, "p99": 5.0, "max": 5.0})
        );
        assert_eq!(
            Samples::default().summary(),
            json!({"n": 0, "p50": null, "p95": null, "p99": null, "max": null})
        );
    }

    #[test]
    fn proc_parsing() {
        let stat = "4242 (tokio (worker) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 1000000 2500 18446744073709551615";
        assert_eq!(parse_stat_cpu(stat), Some(3.0));
        assert_eq!(parse_stat_cpu("garbage"), None);
        let status = "Name:\tserver\nVmPeak:\t  9000 kB\nVmRSS:\t   51200 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss_kib(status), Some(51200.0));
        assert_eq!(parse_vm_rss_kib("Name:\tx\n"), None);
        // Our own process is readable.
        assert!(cpu_seconds(None).is_some());
        assert!(rss_mib(std::process::id()).is_some_and(|m| m > 0.0));
    }
}
