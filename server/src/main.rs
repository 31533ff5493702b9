//! `server` — run the jobchat server, or manage accounts:
//!
//! ```text
//! server                      # serve (same as `server serve`)
//! server user add --role lsm --email lee@example.com --name "Lee" --password '…'
//! server user set-role --email lee@example.com --role provider
//! server user delete --email lee@example.com
//! server transcript verify dispute-7.json   # or the .html export
//! server transcript verify dispute-7.json --key ed25519:…   # anywhere
//! ```
//!
//! `set-role` and `delete` end the account's sessions: its tokens are
//! refused at once, and the running servers close its open sockets within
//! a revocation sweep (5 s).

use anyhow::Context;
use contract::model::Role;
use contract::validate::{Email, Name, Password};
use server::auth::Keys;
use server::config::Config;
use server::service::{Broadcaster, Limiters, Service};
use server::storage::Db;
use server::{Application, Tuning, application::shutdown_signal, telemetry};
use std::process::ExitCode;

const USAGE: &str = "usage:
  server [serve]
  server user add --role customer|provider|lsm --email EMAIL --name NAME --password PASSWORD
  server user set-role --email EMAIL --role customer|provider|lsm
  server user delete --email EMAIL
  server archive seed --users N --chats N --per-chat N --password PASSWORD
      (the scale benchmark's synthetic archive, into an empty database;
       docs/benchmarks.md)
  server transcript verify FILE [--key KEY]
      (checks a dispute transcript exported as JSON or HTML: its digest, the
       server's signature and its chain of message hashes; exits 1 if
       anything was changed. KEY is the one GET /api/transcripts/key gives;
       without it, this server's own key, from JWT_SECRET or the dev
       secret in JOBCHAT_DATA_DIR)
  server masking bench [--region DE] [--corpus FILE]
      (contact masking on the labelled corpus: recall and false positives
       per category, and the time to mask a message; docs/benchmarks.md)

Configuration comes from the environment (JOBCHAT_ENV, JOBCHAT_BIND, DATABASE_URL,
JWT_SECRET, JWT_TTL_SECS, REDIS_URL, …); see README.md.";

/// Worker stack size. Server rendering awaits deeply nested futures (a
/// chat window under a Suspense); the default 2 MiB overflows in debug builds.
const WORKER_STACK: usize = 8 * 1024 * 1024;

fn main() -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK)
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    telemetry::init("info,server=debug,tower_http=info,socketioxide=warn,engineioxide=warn");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => serve().await,
        Some("user") => match args.get(1).map(String::as_str) {
            Some("add") => add_user(&args[2..]).await,
            Some("set-role") => set_role(&args[2..]).await,
            Some("delete") => delete_user(&args[2..]).await,
            _ => Err(anyhow::anyhow!("unknown user command\n{USAGE}")),
        },
        Some("archive") => match args.get(1).map(String::as_str) {
            Some("seed") => seed_archive(&args[2..]).await,
            _ => Err(anyhow::anyhow!("unknown archive command\n{USAGE}")),
        },
        Some("transcript") => match args.get(1).map(String::as_str) {
            Some("verify") => verify_transcript(&args[2..]),
            _ => Err(anyhow::anyhow!(
                "usage: server transcript verify FILE [--key KEY]\n{USAGE}"
            )),
        },
        Some("masking") => match args.get(1).map(String::as_str) {
            Some("bench") => masking_bench(&args[2..]),
            _ => Err(anyhow::anyhow!("unknown masking command\n{USAGE}")),
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(anyhow::anyhow!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line (with its causes), never a panic trace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    raise_fd_limit();
    let config = Config::from_env()?;
    let app = Application::build(config, Tuning::default()).await?;
    tracing::info!("listening on http://{}", app.local_addr());
    app.run_until(shutdown_signal()).await
}

/// Every socket holds a file descriptor, and distributions start processes
/// with a soft limit of 1,024: lift it to the hard limit (20,000 on our
/// machines; raise the hard limit with systemd's `LimitNOFILE` or `ulimit -Hn`).
fn raise_fd_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::info!(limit = n, "file descriptor limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the file descriptor limit"),
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> anyhow::Result<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
        .ok_or_else(|| anyhow::anyhow!("missing {name}\n{USAGE}"))
}

fn role(args: &[String]) -> anyhow::Result<Role> {
    Role::parse(flag(args, "--role")?)
        .ok_or_else(|| anyhow::anyhow!("--role must be customer, provider or lsm"))
}

/// The service over the configured database, without sockets: the
/// running servers' revocation sweep closes the sockets of accounts
/// changed here.
async fn offline_service() -> anyhow::Result<Service> {
    let config = Config::from_env()?;
    let db = Db::connect(&config.database)
        .await
        .with_context(|| format!("cannot open the database {}", config.database.redacted()))?;
    db.migrate().await?;
    Ok(Service::new(
        db,
        server::files::Files::open(&config.files)?,
        Keys::new(&config.jwt_secret, config.jwt_ttl),
        Limiters::new(&config.limits),
        &config.masking,
        Broadcaster::disabled(),
    ))
}

/// Writes the scale benchmark's archive (`storage::archive`).
async fn seed_archive(args: &[String]) -> anyhow::Result<()> {
    let number = |name: &str| -> anyhow::Result<i64> {
        flag(args, name)?
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| anyhow::anyhow!("{name} must be a positive number"))
    };
    let password = flag(args, "--password")?.to_owned();
    let spec = server::storage::ArchiveSpec {
        users: number("--users")?.max(2),
        chats: number("--chats")?,
        per_chat: number("--per-chat")?,
        password_hash: server::auth::hash_password(password).await?,
    };
    let config = Config::from_env()?;
    let db = Db::connect(&config.database).await?;
    db.migrate().await?;
    let started = std::time::Instant::now();
    let total = spec.chats;
    db.seed_archive(&spec, |done| {
        eprintln!(
            "archive: {done}/{total} chats after {:.0} s",
            started.elapsed().as_secs_f64()
        );
    })
    .await?;
    println!(
        "{{\"users\":{},\"chats\":{},\"messages\":{},\"seconds\":{:.1}}}",
        spec.users + 1,
        spec.chats,
        spec.messages(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the masker over the labelled corpus and prints its figures, then
/// the time to mask one message (each message of the corpus, 50 times).
fn masking_bench(args: &[String]) -> anyhow::Result<()> {
    let region = match flag(args, "--region") {
        Ok(r) => r
            .parse()
            .map_err(|_| anyhow::anyhow!("--region: {r:?} is not a region"))?,
        Err(_) => phonenumber::country::Id::DE,
    };
    let path = flag(args, "--corpus").unwrap_or("server/tests/data/masking-corpus.tsv");
    let corpus = std::fs::read_to_string(path)?;
    let masker = server::masking::Masker::new(region);
    let report = server::masking::corpus::evaluate(&masker, &corpus).map_err(anyhow::Error::msg)?;
    print!("{}", report.render());
    let texts: Vec<&str> = corpus
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(3))
        .collect();
    let mut times = Vec::with_capacity(texts.len() * 50);
    for _ in 0..50 {
        for text in &texts {
            let t0 = std::time::Instant::now();
            std::hint::black_box(masker.mask(text));
            times.push(t0.elapsed());
        }
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    println!(
        "mask one message: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} runs)",
        at(0.5),
        at(0.99),
        at(1.0),
        times.len()
    );
    Ok(())
}

/// The live account with the `--email` given.
async fn account(service: &Service, args: &[String]) -> anyhow::Result<contract::model::User> {
    let email = Email::parse(flag(args, "--email")?)?;
    service
        .account(&email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account with email {}", email.as_str()))
}

async fn set_role(args: &[String]) -> anyhow::Result<()> {
    let role = role(args)?;
    let service = offline_service().await?;
    let user = account(&service, args).await?;
    let user = service.set_role(user.id, role).await?;
    println!(
        "{} <{}> (id {}) is now {}; their sessions ended",
        user.name, user.email, user.id, user.role
    );
    service.close().await;
    Ok(())
}

async fn delete_user(args: &[String]) -> anyhow::Result<()> {
    let service = offline_service().await?;
    let user = account(&service, args).await?;
    service.delete_user(user.id).await?;
    println!(
        "deleted {} <{}> (id {}): sign-in refused, sessions ended; their messages stay",
        user.name, user.email, user.id
    );
    service.close().await;
    Ok(())
}

async fn add_user(args: &[String]) -> anyhow::Result<()> {
    let role = role(args)?;
    let email = Email::parse(flag(args, "--email")?)?;
    let name = Name::parse(flag(args, "--name")?)?;
    let password = Password::parse(flag(args, "--password")?)?;
    let service = offline_service().await?;
    let user = service.create_user(&email, &password, &name, role).await?;
    println!(
        "created {} user {} <{}> (id {})",
        user.role, user.name, user.email, user.id
    );
    service.close().await;
    Ok(())
}

/// The largest transcript file `verify` reads.
const TRANSCRIPT_MAX_BYTES: u64 = 512 * 1024 * 1024;

fn verify_transcript(args: &[String]) -> anyhow::Result<()> {
    use server::transcript::signing::{PublicKey, SigningKey};
    use std::io::Read;
    let usage = || anyhow::anyhow!("usage: server transcript verify FILE [--key KEY]");
    let (file, key) = match args {
        [file] => (file, None),
        [file, flag, key] | [flag, key, file] if flag == "--key" => (file, Some(key)),
        _ => return Err(usage()),
    };
    // The key to trust: the one given, else this server's own (from its
    // secret; never a new one).
    let trusted = match key {
        Some(k) => PublicKey::parse(k).map_err(|e| anyhow::anyhow!(e))?,
        None => match server::config::existing_secret()? {
            Some(secret) => SigningKey::new(&secret).public(),
            None => anyhow::bail!(
                "no key to check the signature with: pass --key (the server publishes it at /api/transcripts/key) or set JWT_SECRET"
            ),
        },
    };
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {file}"))?;
    let mut text = String::new();
    f.take(TRANSCRIPT_MAX_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {file} as UTF-8 text"))?;
    if text.len() as u64 > TRANSCRIPT_MAX_BYTES {
        anyhow::bail!("{file} is larger than {TRANSCRIPT_MAX_BYTES} bytes");
    }
    let v = server::transcript::verify::verify_file(&text, &trusted)
        .map_err(|why| anyhow::anyhow!("NOT VERIFIED: {file}: {why}"))?;
    println!(
        "OK: {file} is intact and signed by {}. {}; {} messages, {} of them in the hash chain; head {}",
        v.key,
        v.digest,
        v.messages,
        v.chained,
        v.head.as_deref().unwrap_or("none (no chained messages)")
    );
    Ok(())
}
