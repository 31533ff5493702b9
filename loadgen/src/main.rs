//! `loadgen`: drives a running jobchat server from outside, as real clients
//! do (REST for sign-up and booking, Socket.IO over WebSocket for chat),
//! and prints one JSON line with the results on stdout. Progress goes to
//! stderr. docs/benchmarks.md has the commands and the figures.
//!
//! ```text
//! cargo run --release -p loadgen -- throughput [--chats 100] [--in-flight 8] [--duration 20]
//! cargo run --release -p loadgen -- latency    [--chats 1000] [--rate 1] [--duration 30]
//! cargo run --release -p loadgen -- idle       [--sockets 10000] [--chats 500] [--duration 10]
//! cargo run --release -p loadgen -- storm      --spawn 'CMD' [--spawn 'CMD2'] --url URL [--url URL2]
//! cargo run --release -p loadgen -- accounts   [--users 2000] [--setup-concurrency 8] --server-pid PID
//! cargo run --release -p loadgen -- archive    --users N --chats N [--clients 50] [--duration 20]
//! ```

mod accounts;
mod api;
mod scenario;
mod sio;
mod socket;
mod stats;
mod storm;

use scenario::{Opts, Scenario};
use std::time::Duration;

const USAGE: &str = "\
usage: loadgen <throughput|latency|idle|storm|accounts|archive> [flags]

  --url URL                  server base URL (default http://127.0.0.1:3000);
                             storm: once per node, in --spawn's order
  --provider-url URL         throughput/latency: the providers' sockets connect
                             here (another node of the cluster; default --url)
  --chats N                  chats to open (throughput 100, latency 1000;
                             idle 500: the sockets share their users)
  --in-flight N              throughput: sends outstanding per chat (default 8)
  --rate R                   latency: messages per second per chat (default 1)
  --duration S               seconds to send (throughput 20, latency 30) or,
                             for idle, to hold the sockets open (default 10)
  --sockets N                idle, storm: sockets to open (default 10000)
  --users N                  accounts: users to register, then sign in
                             (default 2000); archive: the seeded archive's
                             users (its --chats too)
  --clients N                archive: users reading at once (default 50)
  --round-every MS           archive: each client starts a round of reads
                             every MS milliseconds, the clients spread over
                             it (default: back to back, a closed loop)
  --server-pid PID           read the server's RSS and CPU from /proc/PID
  --grace S                  wait for late deliveries after sending (default 5);
                             storm: how long after the kill everything may
                             take to come back and catch up (default 60)
  --connect-concurrency N    sockets connecting at once (default 64)
  --setup-concurrency N      REST requests at once in setup, and accounts'
                             sign-ups and sign-ins (default 8)

storm (reconnect storm): loadgen starts every node itself, opens --sockets
joined sockets over --chats chats (round-robin over the nodes), SIGKILLs the
last node, and every dropped socket reconnects with socket.io-client's
backoff, rejoins with afterSeq and (customers) sends one message.
  --spawn 'CMD'              command of node i, run as sh -c \"exec env CMD\"
                             (NAME=value prefixes allowed, no shell
                             operators); once per node, required
  --restart true|false       start the killed node again at once (default:
                             true with one node, false with several)
  --duration S               storm: hold the joined sockets before the kill
                             (default 2)
  --reconnect-delay S        socket.io-client reconnectionDelay (default 1)
  --reconnect-delay-max S    reconnectionDelayMax (default 5)

The server must allow the send rate: run it with
JOBCHAT_SEND_LIMIT_PER_SEC=1000000 (the default is 20 per socket); for
idle and storm, which open thousands of sockets from one address, lift the
handshake limits (JOBCHAT_HANDSHAKE_LIMIT_PER_IP_PER_MIN, …_PER_USER_…); for
accounts, lift the sign-up and login limits (docs/benchmarks.md, $BENCH_LIMITS).";

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Opts, String> {
    let mut args = args.into_iter();
    let scenario = match args.next().as_deref() {
        Some("throughput") => Scenario::Throughput,
        Some("latency") => Scenario::Latency,
        Some("idle") => Scenario::Idle,
        Some("storm") => Scenario::Storm,
        Some("accounts") => Scenario::Accounts,
        Some("archive") => Scenario::Archive,
        Some("-h" | "--help") | None => return Err(USAGE.to_owned()),
        Some(other) => return Err(format!("unknown scenario {other:?}\n\n{USAGE}")),
    };
    let mut opts = Opts {
        scenario,
        url: "http://127.0.0.1:3000".to_owned(),
        provider_url: None,
        urls: Vec::new(),
        chats: match scenario {
            Scenario::Throughput => 100,
            Scenario::Latency => 1000,
            Scenario::Idle | Scenario::Storm | Scenario::Accounts => 500,
            Scenario::Archive => 200_000,
        },
        in_flight: 8,
        duration: Duration::from_secs(match scenario {
            Scenario::Throughput => 20,
            Scenario::Latency => 30,
            Scenario::Idle | Scenario::Accounts => 10,
            Scenario::Storm => 2,
            Scenario::Archive => 20,
        }),
        rate: 1.0,
        sockets: 10_000,
        users: if scenario == Scenario::Archive {
            20_000
        } else {
            2_000
        },
        clients: 50,
        round_every: None,
        server_pid: None,
        grace: Duration::from_secs(if scenario == Scenario::Storm { 60 } else { 5 }),
        connect_concurrency: 64,
        setup_concurrency: 8,
        spawn: Vec::new(),
        restart: None,
        reconnect_delay: Duration::from_secs(1),
        reconnect_delay_max: Duration::from_secs(5),
    };
    while let Some(flag) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (flag, value) = match flag.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (flag, None),
        };
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_owned());
        }
        let value = value
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let count = || -> Result<usize, String> {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag}: {value:?} is not a positive whole number"))
        };
        let secs = || -> Result<Duration, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("{flag}: {value:?} is not a number of seconds"))
        };
        match flag.as_str() {
            "--url" => opts.urls.push(value.clone()),
            "--provider-url" => opts.provider_url = Some(value.clone()),
            "--chats" => opts.chats = count()?,
            "--in-flight" => opts.in_flight = count()?,
            "--duration" => opts.duration = secs()?,
            "--rate" => {
                opts.rate = value
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r > 0.0)
                    .ok_or_else(|| format!("--rate: {value:?} is not a positive number"))?;
            }
            "--sockets" => opts.sockets = count()?,
            "--users" => opts.users = count()?,
            "--clients" => opts.clients = count()?,
            "--round-every" => {
                let ms: u64 = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("--round-every: {value:?} is not a positive number of ms")
                })?;
                opts.round_every = Some(Duration::from_millis(ms));
            }
            "--server-pid" => {
                opts.server_pid = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--server-pid: {value:?} is not a pid"))?,
                );
            }
            "--grace" => opts.grace = secs()?,
            "--connect-concurrency" => opts.connect_concurrency = count()?,
            "--setup-concurrency" => opts.setup_concurrency = count()?,
            "--spawn" => opts.spawn.push(value.clone()),
            "--restart" => {
                opts.restart = Some(match value.as_str() {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    _ => return Err(format!("--restart: {value:?} is not true or false")),
                });
            }
            "--reconnect-delay" => opts.reconnect_delay = secs()?,
            "--reconnect-delay-max" => opts.reconnect_delay_max = secs()?,
            _ => return Err(format!("unknown flag {flag}\n\n{USAGE}")),
        }
    }
    check_nodes(&mut opts)?;
    Ok(opts)
}

/// Several `--url`s, `--spawn` and `--restart` belong to storm;
/// storm needs one `--spawn` per `--url`.
fn check_nodes(opts: &mut Opts) -> Result<(), String> {
    if opts.urls.is_empty() {
        opts.urls.push(opts.url.clone());
    }
    opts.url = opts.urls[0].clone();
    if opts.scenario != Scenario::Storm {
        if opts.urls.len() > 1 {
            return Err(format!(
                "--url given {} times: only storm takes one per node (see --provider-url)",
                opts.urls.len()
            ));
        }
        if !opts.spawn.is_empty() || opts.restart.is_some() {
            return Err("--spawn and --restart are for storm only".to_owned());
        }
        return Ok(());
    }
    if opts.spawn.is_empty() {
        return Err(
            "storm starts and kills the server nodes itself: give --spawn 'CMD' \
             once per node (e.g. --spawn 'JOBCHAT_BIND=127.0.0.1:3021 target/release/server' \
             --url http://127.0.0.1:3021)"
                .to_owned(),
        );
    }
    if opts.spawn.len() != opts.urls.len() {
        return Err(format!(
            "storm: {} --spawn but {} --url: node i serves the i-th --url",
            opts.spawn.len(),
            opts.urls.len()
        ));
    }
    if opts.reconnect_delay.is_zero() || opts.reconnect_delay_max < opts.reconnect_delay {
        return Err("--reconnect-delay must be > 0 and at most --reconnect-delay-max".to_owned());
    }
    if opts.provider_url.is_some() {
        return Err("storm spreads the sockets over the --url nodes: no --provider-url".to_owned());
    }
    Ok(())
}

/// Thousands of sockets need thousands of descriptors: lift the soft limit
/// to the hard one.
fn raise_fd_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => eprintln!("loadgen: file descriptor limit {n}"),
        Err(e) => eprintln!("loadgen: cannot raise the file descriptor limit: {e}"),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    raise_fd_limit();
    let result = match opts.scenario {
        Scenario::Throughput | Scenario::Latency => scenario::messaging(&opts).await,
        Scenario::Idle => scenario::idle(&opts).await,
        Scenario::Storm => storm::storm(&opts).await,
        Scenario::Accounts => accounts::accounts(&opts).await,
        Scenario::Archive => scenario::archive(&opts).await,
    };
    match result {
        Ok(report) => {
            println!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Opts, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn defaults_per_scenario() {
        let t = parse(&["throughput"]).expect("parses");
        assert_eq!(
            (t.chats, t.in_flight, t.duration),
            (100, 8, Duration::from_secs(20))
        );
        assert_eq!(t.url, "http://127.0.0.1:3000");
        let l = parse(&["latency"]).expect("parses");
        assert_eq!(
            (l.chats, l.rate, l.duration),
            (1000, 1.0, Duration::from_secs(30))
        );
        let i = parse(&["idle"]).expect("parses");
        assert_eq!((i.sockets, i.server_pid), (10_000, None));
        let a = parse(&["accounts", "--users", "50", "--server-pid", "7"]).expect("parses");
        assert_eq!(
            (a.users, a.server_pid, a.setup_concurrency),
            (50, Some(7), 8)
        );
        assert_eq!(parse(&["accounts"]).expect("parses").users, 2_000);
        assert!(parse(&["accounts", "--users", "0"]).is_err());
    }

    #[test]
    fn flags() {
        let o = parse(&[
            "throughput",
            "--url",
            "http://127.0.0.1:3997",
            "--chats=10",
            "--in-flight",
            "4",
            "--duration",
            "2.5",
            "--server-pid",
            "1234",
            "--grace=1",
        ])
        .expect("parses");
        assert_eq!(o.url, "http://127.0.0.1:3997");
        assert_eq!(o.chats, 10);
        assert_eq!(o.in_flight, 4);
        assert_eq!(o.duration, Duration::from_millis(2500));
        assert_eq!(o.server_pid, Some(1234));
        assert_eq!(o.grace, Duration::from_secs(1));
    }

    #[test]
    fn storm_takes_a_spawn_per_url() {
        let one = parse(&[
            "storm",
            "--spawn",
            "JOBCHAT_BIND=127.0.0.1:3021 target/release/server",
            "--url",
            "http://127.0.0.1:3021",
        ])
        .expect("parses");
        assert_eq!(one.urls, ["http://127.0.0.1:3021"]);
        assert_eq!(one.url, "http://127.0.0.1:3021");
        assert_eq!(
            one.spawn,
            ["JOBCHAT_BIND=127.0.0.1:3021 target/release/server"]
        );
        assert_eq!((one.sockets, one.chats), (10_000, 500));
        assert_eq!(one.grace, Duration::from_secs(60));
        assert_eq!(one.duration, Duration::from_secs(2));
        assert_eq!(one.restart, None);
        assert_eq!(
            (one.reconnect_delay, one.reconnect_delay_max),
            (Duration::from_secs(1), Duration::from_secs(5))
        );

        let two = parse(&[
            "storm",
            "--url=http://127.0.0.1:3021",
            "--spawn",
            "A",
            "--url",
            "http://127.0.0.1:3022",
            "--spawn=B",
            "--restart",
            "true",
            "--reconnect-delay",
            "0.5",
            "--sockets",
            "200",
        ])
        .expect("parses");
        assert_eq!(two.urls, ["http://127.0.0.1:3021", "http://127.0.0.1:3022"]);
        assert_eq!(two.url, "http://127.0.0.1:3021", "the first node");
        assert_eq!(two.spawn, ["A", "B"]);
        assert_eq!(two.restart, Some(true));
        assert_eq!(two.reconnect_delay, Duration::from_millis(500));
        assert_eq!(two.sockets, 200);

        // The default URL counts as one.
        let default = parse(&["storm", "--spawn", "A"]).expect("parses");
        assert_eq!(default.urls, ["http://127.0.0.1:3000"]);
    }

    #[test]
    fn storm_refusals() {
        let no_spawn = parse(&["storm", "--url", "http://127.0.0.1:3021"]);
        assert!(no_spawn.is_err_and(|e| e.contains("--spawn")));
        // One spawn per URL.
        assert!(parse(&["storm", "--spawn", "A", "--spawn", "B"]).is_err());
        assert!(
            parse(&[
                "storm",
                "--spawn",
                "A",
                "--url",
                "http://a:1",
                "--url",
                "http://b:2"
            ])
            .is_err()
        );
        assert!(parse(&["storm", "--spawn", "A", "--restart", "maybe"]).is_err());
        assert!(parse(&["storm", "--spawn", "A", "--reconnect-delay", "0"]).is_err());
        assert!(
            parse(&["storm", "--spawn", "A", "--reconnect-delay", "6"]).is_err(),
            "above the max"
        );
        assert!(parse(&["storm", "--spawn", "A", "--provider-url", "http://b:2"]).is_err());
        // Several URLs and --spawn are storm's alone.
        assert!(parse(&["idle", "--url", "http://a:1", "--url", "http://b:2"]).is_err());
        assert!(parse(&["throughput", "--spawn", "A"]).is_err());
        assert!(parse(&["latency", "--restart", "false"]).is_err());
        // A single --url keeps working elsewhere.
        let t = parse(&["throughput", "--url", "http://a:1"]).expect("parses");
        assert_eq!((t.url.as_str(), t.urls.len()), ("http://a:1", 1));
        assert_eq!(t.grace, Duration::from_secs(5));
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["soak"]).is_err());
        assert!(parse(&["idle", "--sockets"]).is_err());
        assert!(parse(&["idle", "--sockets", "0"]).is_err());
        assert!(parse(&["idle", "--bogus", "1"]).is_err());
        assert!(parse(&["latency", "--rate", "-1"]).is_err());
        assert_eq!(parse(&["archive"]).expect("parses").round_every, None);
        assert_eq!(
            parse(&["archive", "--round-every", "250"])
                .expect("parses")
                .round_every,
            Some(Duration::from_millis(250))
        );
        assert!(parse(&["archive", "--round-every", "0"]).is_err());
        assert!(parse(&["latency", "--duration", "x"]).is_err());
    }
}
