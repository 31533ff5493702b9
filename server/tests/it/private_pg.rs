//! A PostgreSQL cluster of a test's own (initdb in a temp dir, its own
//! port), so it can be stopped, crashed or given a streaming replica
//! without touching anyone else's database (`faults`, `read_replica`).

use std::path::PathBuf;

/// A PostgreSQL cluster of this test's own (initdb in a temp dir, its own
/// port), so it can be stopped without touching anyone else's database.
pub struct PrivatePg {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivatePg {
    /// `None` (skipped) outside CI when no PostgreSQL binaries are installed.
    pub fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .find(|b| b.join("initdb").exists())
        });
        let Some(bin) = bin else {
            assert!(
                std::env::var("CI").is_err(),
                "CI=true but no PostgreSQL server binaries under /usr/lib/postgresql"
            );
            eprintln!("skipping: no initdb");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let pg = Self { bin, dir, port };
        if is_root() {
            // PostgreSQL refuses to run as root: the cluster is postgres's.
            let status = std::process::Command::new("chown")
                .args(["postgres:postgres", &pg.dir.path().display().to_string()])
                .status()
                .expect("chown");
            assert!(status.success());
        }
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        pg.up();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let tool = self.bin.join(tool).display().to_string();
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", &tool]);
            c
        } else {
            std::process::Command::new(&tool)
        };
        let out = cmd.args(args).output().expect("PostgreSQL tool runs");
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "start"],
        );
    }

    /// A streaming replica of this cluster (`pg_basebackup -R`: it follows
    /// the primary over the replication protocol), started on a port of its
    /// own.
    pub fn replica(&self) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        if is_root() {
            let status = std::process::Command::new("chown")
                .args(["postgres:postgres", &dir.path().display().to_string()])
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let replica = Self {
            bin: self.bin.clone(),
            dir,
            port,
        };
        let primary_port = self.port.to_string();
        replica.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary_port,
                "-U",
                "postgres",
                "-D",
                &replica.data(),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        replica.up();
        replica
    }

    /// Stops it cleanly (`-m fast`), as an operator would.
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// Stops it at once, as a crash would (`-m immediate`).
    pub fn down(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let tool = self.bin.join("pg_ctl").display().to_string();
        let data = self.data();
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", &tool]);
            c
        } else {
            std::process::Command::new(&tool)
        };
        let _ = cmd.args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}
