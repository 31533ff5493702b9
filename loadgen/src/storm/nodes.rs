//! The server nodes a storm starts, kills, restarts and stops, and their
//! RSS sampled while it runs.

use crate::api::Api;
use crate::scenario::lock;
use crate::stats::rss_mib;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node may take to answer `/healthz` after its start.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const RSS_EVERY: Duration = Duration::from_millis(250);

/// A server node loadgen started.
pub struct Node {
    pub url: String,
    cmd: String,
    pub api: Api,
    child: Mutex<Option<Child>>,
    /// The pid of the running process (the restarted one after a restart).
    pid: Mutex<Option<u32>>,
    pub logs: Mutex<Vec<PathBuf>>,
}

impl Node {
    /// Node `url`, started by `cmd` (not yet).
    pub fn new(url: &str, cmd: &str) -> anyhow::Result<Self> {
        Ok(Self {
            url: url.to_owned(),
            cmd: cmd.to_owned(),
            api: Api::new(url)?,
            child: Mutex::new(None),
            pid: Mutex::new(None),
            logs: Mutex::new(Vec::new()),
        })
    }

    pub fn pid(&self) -> Option<u32> {
        *lock(&self.pid)
    }

    /// Starts the command as `sh -c "exec env CMD"`: sh parses the quoting,
    /// `env` applies the `NAME=value` prefixes, and both exec, so the
    /// child's pid is the server's. Output goes to `log`.
    pub fn spawn(&self, log: &Path) -> anyhow::Result<u32> {
        let out = std::fs::File::create(log).with_context(|| format!("{}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec env {}", self.cmd))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {:?}", self.cmd))?;
        let pid = child.id();
        *lock(&self.child) = Some(child);
        *lock(&self.pid) = Some(pid);
        lock(&self.logs).push(log.to_owned());
        Ok(pid)
    }

    /// Waits until `/healthz` answers 200; errs if the process exits first.
    pub async fn wait_ready(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(child) = lock(&self.child).as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = lock(&self.logs).last().cloned().unwrap_or_default();
                bail!(
                    "node {} exited with {status} before it was ready; its log {}:\n{}",
                    self.url,
                    log.display(),
                    tail(&log, 20)
                );
            }
            if self.api.healthy(Duration::from_secs(2)).await {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("node {} not ready within {START_TIMEOUT:?}", self.url);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL (`Child::kill`) and reap it.
    pub fn kill(&self) -> anyhow::Result<()> {
        let mut child = lock(&self.child);
        if let Some(c) = child.as_mut() {
            c.kill().context("SIGKILL")?;
            c.wait()?;
        }
        *child = None;
        *lock(&self.pid) = None;
        Ok(())
    }

    /// SIGTERM, then SIGKILL if it is still there after 10 s.
    pub async fn stop(&self) {
        let Some(pid) = self.pid() else { return };
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let exited = lock(&self.child)
                .as_mut()
                .is_none_or(|c| !matches!(c.try_wait(), Ok(None)));
            if exited {
                break;
            }
            if Instant::now() > deadline {
                eprintln!("storm: node {} ignored SIGTERM for 10 s: SIGKILL", self.url);
                let _ = self.kill();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        *lock(&self.child) = None;
        *lock(&self.pid) = None;
    }
}

impl Drop for Node {
    /// On an early return: no server left behind.
    fn drop(&mut self) {
        if let Some(mut c) = lock(&self.child).take()
            && matches!(c.try_wait(), Ok(None))
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// RSS of one node: before the kill, highest and last while sampling.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rss {
    pub before_kill: Option<f64>,
    pub max: Option<f64>,
    pub last: Option<f64>,
}

/// Samples every node's RSS every 250 ms until aborted.
pub fn sample_rss(nodes: Arc<Vec<Node>>, rss: Arc<Mutex<Vec<Rss>>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RSS_EVERY);
        loop {
            tick.tick().await;
            let now: Vec<Option<f64>> = nodes.iter().map(|n| n.pid().and_then(rss_mib)).collect();
            let mut rss = lock(&rss);
            for (r, now) in rss.iter_mut().zip(now) {
                if let Some(mib) = now {
                    r.max = Some(r.max.map_or(mib, |m| m.max(mib)));
                    r.last = Some(mib);
                }
            }
        }
    })
}
