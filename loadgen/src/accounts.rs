//! `loadgen accounts`: sign-ups and sign-ins, the argon2-heavy side of the
//! server. Registers `--users` accounts (`--setup-concurrency` at a time),
//! then signs each in once, and reports the rate and latency of both and
//! the server's RSS (sampled every 100 ms with `--server-pid`): the target
//! is a server that stays under 200 MB however many hashes it runs.

use crate::api::{Api, PASSWORD};
use crate::scenario::Opts;
use crate::stats::{CpuWindow, Samples, round2, rss_mib};
use contract::model::Role;
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The server's RSS over a phase: first, highest and last sample (MiB).
#[derive(Default)]
struct Rss {
    first: Option<f64>,
    peak: Option<f64>,
    last: Option<f64>,
}

impl Rss {
    fn note(&mut self, mib: f64) {
        self.first.get_or_insert(mib);
        self.peak = Some(self.peak.map_or(mib, |p| p.max(mib)));
        self.last = Some(mib);
    }

    fn json(&self) -> Value {
        json!({
            "start": self.first.map(round2),
            "peak": self.peak.map(round2),
            "end": self.last.map(round2),
        })
    }
}

/// Samples the server's RSS until `done`; returns what it saw.
fn sample_rss(pid: Option<u32>, done: Arc<AtomicBool>) -> tokio::task::JoinHandle<Rss> {
    tokio::spawn(async move {
        let mut rss = Rss::default();
        let Some(pid) = pid else { return rss };
        loop {
            if let Some(mib) = rss_mib(pid) {
                rss.note(mib);
            }
            if done.load(Ordering::Relaxed) {
                return rss;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// Runs `call` for each of `0..n`, `concurrency` at a time, timing each.
/// Returns (per-second rate, latency summary, errors, first error).
async fn phase<F, Fut>(n: usize, concurrency: usize, call: F) -> (f64, Value, usize, Option<String>)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let results: Vec<(Duration, anyhow::Result<()>)> = stream::iter(0..n)
        .map(|i| {
            let fut = call(i);
            async move {
                let t = Instant::now();
                let r = fut.await;
                (t.elapsed(), r)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    let mut samples = Samples::default();
    let mut errors = 0;
    let mut first_error = None;
    for (took, r) in results {
        match r {
            Ok(()) => samples.push(took),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    let ok = n - errors;
    (
        round2(ok as f64 / wall),
        samples.summary(),
        errors,
        first_error,
    )
}

pub async fn accounts(opts: &Opts) -> anyhow::Result<Value> {
    let api = Api::new(&opts.url)?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let run = run[..8].to_owned();
    let email = |i: usize| format!("acc-{run}-{i}@load.test");
    let n = opts.users;
    let concurrency = opts.setup_concurrency;

    let done = Arc::new(AtomicBool::new(false));
    let sampler = sample_rss(opts.server_pid, done.clone());
    let cpu = CpuWindow::start(opts.server_pid);
    eprintln!("loadgen accounts: registering {n} users, {concurrency} at a time");
    let (reg_rate, reg_latency, reg_errors, reg_error) = phase(n, concurrency, |i| {
        let api = api.clone();
        let email = email(i);
        async move {
            api.register(&email, &format!("Account {i}"), Role::Customer)
                .await
                .map(|_| ())
        }
    })
    .await;
    let (_, reg_cpu) = cpu.cores();
    done.store(true, Ordering::Relaxed);
    let reg_rss = sampler.await?;

    let done = Arc::new(AtomicBool::new(false));
    let sampler = sample_rss(opts.server_pid, done.clone());
    let cpu = CpuWindow::start(opts.server_pid);
    eprintln!("loadgen accounts: signing {n} users in, {concurrency} at a time");
    let (login_rate, login_latency, login_errors, login_error) = phase(n, concurrency, |i| {
        let api = api.clone();
        let email = email(i);
        async move { api.login(&email, PASSWORD).await }
    })
    .await;
    let (_, login_cpu) = cpu.cores();
    done.store(true, Ordering::Relaxed);
    let login_rss = sampler.await?;
    // After a pause: what the server keeps once the work is done.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = opts.server_pid.and_then(rss_mib).map(round2);

    Ok(json!({
        "scenario": "accounts",
        "users": n,
        "concurrency": concurrency,
        "register": {
            "perSec": reg_rate,
            "latencyMs": reg_latency,
            "errors": reg_errors,
            "firstError": reg_error,
            "serverCores": reg_cpu,
            "serverRssMib": reg_rss.json(),
        },
        "login": {
            "perSec": login_rate,
            "latencyMs": login_latency,
            "errors": login_errors,
            "firstError": login_error,
            "serverCores": login_cpu,
            "serverRssMib": login_rss.json(),
        },
        "serverRssMibAfter": settled,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_keeps_first_peak_and_last() {
        let mut r = Rss::default();
        for mib in [40.0, 180.5, 90.0] {
            r.note(mib);
        }
        assert_eq!(
            r.json(),
            json!({ "start": 40.0, "peak": 180.5, "end": 90.0 })
        );
        assert_eq!(
            Rss::default().json(),
            json!({ "start": null, "peak": null, "end": null })
        );
    }

    #[tokio::test]
    async fn phases_count_errors_and_time_the_rest() {
        let (rate, latency, errors, first) = phase(10, 3, |i| async move {
            if i % 5 == 0 {
                anyhow::bail!("refused {i}")
            }
            Ok(())
        })
        .await;
        assert_eq!(errors, 2);
        assert!(first.is_some_and(|e| e.starts_with("refused")));
        assert!(rate > 0.0);
        assert_eq!(latency["n"], 8, "{latency}");
    }
}
