//! `zkrs bench`: a load generator that speaks ZooKeeper's client protocol
//! (through zkrs's own client), so it measures zkrs and Apache ZooKeeper
//! alike. Four modes:
//!
//! - `load`: sessions x in-flight requests of one op (or a read/write mix)
//!   for a duration after a warm-up; ops/s and latency percentiles
//!   (HdrHistogram, microseconds).
//! - `populate`: creates N znodes (1,000 per parent) as fast as the server
//!   takes them, for memory, snapshot and restart measurements.
//! - `fanout`: N sessions watch one znode; one write; the time until the
//!   last of them has its notification, over several rounds. The watching
//!   sessions are bare connections (`watchers.rs`), so the figure is the
//!   server's, not the load generator's.
//! - `restart`: the time until a member being (re)started serves: a
//!   session on it reads a given znode. Started with the member.
//!
//! Each prints a table (progress on stderr while it runs) and, with
//! `--json FILE`, the same figures as JSON.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::{Args, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use serde::Serialize;
use zkrs::client::{Client, ClientOptions, RetryPolicy};
use zkrs::{Acl, CreateMode, Error};

use crate::watchers::Watcher;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    mode: Mode,
}

/// What every mode takes.
#[derive(Args, Debug, Clone)]
struct Common {
    /// Connect string of the servers under test (zkrs or ZooKeeper).
    #[arg(long, default_value = "127.0.0.1:2181")]
    hosts: String,
    /// Parent of every znode the benchmark creates.
    #[arg(long, default_value = "/zkrs-bench")]
    root: String,
    /// Also write the results as JSON to this file ("-": stdout).
    #[arg(long)]
    json: Option<String>,
    /// No progress lines on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Mode {
    /// Sessions x in-flight requests of one op for a fixed time.
    Load {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Create N znodes (value size each), 1,000 per parent.
    Populate {
        #[command(flatten)]
        common: Common,
        /// How many znodes.
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        #[arg(long, default_value_t = 100)]
        value_size: usize,
        #[arg(long, default_value_t = 16)]
        sessions: usize,
        /// Creates in flight per session.
        #[arg(long, default_value_t = 64)]
        inflight: usize,
    },
    /// N sessions watch one znode; one write notifies them all.
    Fanout {
        #[command(flatten)]
        common: Common,
        /// Watching sessions (one watch each).
        #[arg(long, default_value_t = 1000)]
        watchers: usize,
        #[arg(long, default_value_t = 10)]
        rounds: usize,
    },
    /// Time until a member being (re)started serves: a session on it (the
    /// one host in --hosts) reads --path. Start it with the member.
    Restart {
        #[command(flatten)]
        common: Common,
        /// A znode the member must have to count as serving (say, the last
        /// one populated).
        #[arg(long)]
        path: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout_s: u64,
    },
}

#[derive(Clone, Copy, ValueEnum, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Op {
    Create,
    Set,
    Get,
    Exists,
    /// `--read-pct` gets, the rest sets.
    Mixed,
}

#[derive(Args, Debug, Clone)]
struct LoadArgs {
    #[arg(long, value_enum, default_value_t = Op::Get)]
    op: Op,
    #[arg(long, default_value_t = 16)]
    sessions: usize,
    /// Requests in flight per session.
    #[arg(long, default_value_t = 16)]
    inflight: usize,
    /// Bytes per value written (and per key read).
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Znodes that set/get/exists spread over.
    #[arg(long, default_value_t = 1000)]
    keys: usize,
    /// Share of gets in `--op mixed`, percent.
    #[arg(long, default_value_t = 80)]
    read_pct: u32,
}

/// Latency percentiles in microseconds.
#[derive(Serialize, Debug)]
struct Latency {
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
    mean: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        Latency {
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: (h.mean() * 10.0).round() / 10.0,
        }
    }
}

#[derive(Serialize, Debug)]
struct LoadReport {
    mode: &'static str,
    op: Op,
    sessions: usize,
    inflight: usize,
    value_size: usize,
    duration_s: f64,
    ops: u64,
    errors: u64,
    ops_per_s: f64,
    latency_us: Latency,
}

#[derive(Serialize, Debug)]
struct PopulateReport {
    mode: &'static str,
    count: u64,
    value_size: usize,
    created: u64,
    existed: u64,
    elapsed_s: f64,
    creates_per_s: f64,
}

#[derive(Serialize, Debug)]
struct FanoutReport {
    mode: &'static str,
    watchers: usize,
    rounds: usize,
    /// Write issued to the last notification's arrival at its socket (the
    /// kernel's receive time), milliseconds, per round.
    rounds_ms: Vec<f64>,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    /// The same, to the load generator's read of the last notification:
    /// the measure before arrival times, which adds the generator's own
    /// wait for a core and its thousand reads.
    read_median_ms: f64,
    /// Per member in the host list, medians over the rounds: the first
    /// and the last of its watchers' notifications.
    member_first_ms: Vec<f64>,
    member_last_ms: Vec<f64>,
}

/// Runs `zkrs bench ...`; the process exit code.
pub fn run(args: BenchArgs) -> i32 {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("zkrs bench: cannot start a runtime: {e}");
            return 1;
        }
    };
    let done = rt.block_on(async move {
        match args.mode {
            Mode::Load { common, load } => {
                let r = run_load(&common, &load).await?;
                print_load(&r);
                emit(&common, &r)
            }
            Mode::Populate {
                common,
                count,
                value_size,
                sessions,
                inflight,
            } => {
                let r = run_populate(&common, count, value_size, sessions, inflight).await?;
                println!(
                    "populate: {} znodes of {} B ({} new, {} there already) in {:.1} s, {:.0} creates/s",
                    r.count, r.value_size, r.created, r.existed, r.elapsed_s, r.creates_per_s
                );
                emit(&common, &r)
            }
            Mode::Fanout {
                common,
                watchers,
                rounds,
            } => {
                let r = run_fanout(&common, watchers, rounds).await?;
                println!(
                    "fanout: {} watchers, {} rounds: median {:.2} ms, min {:.2}, max {:.2} (read by the load generator: median {:.2} ms)",
                    r.watchers, r.rounds, r.median_ms, r.min_ms, r.max_ms, r.read_median_ms
                );
                emit(&common, &r)
            }
            Mode::Restart {
                common,
                path,
                timeout_s,
            } => {
                let r = run_restart(&common, &path, Duration::from_secs(timeout_s)).await?;
                println!(
                    "restart: {} served {} after {:.2} s ({} attempts)",
                    r.host, r.path, r.serving_s, r.attempts
                );
                emit(&common, &r)
            }
        }
    });
    match done {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("zkrs bench: {e}");
            1
        }
    }
}

fn emit(common: &Common, report: &impl Serialize) -> Result<(), Error> {
    let Some(target) = &common.json else {
        return Ok(());
    };
    let text = serde_json::to_string_pretty(report).map_err(|e| Error::Io(e.to_string()))?;
    if target == "-" {
        println!("{text}");
        return Ok(());
    }
    std::fs::write(target, text + "\n").map_err(|e| Error::Io(format!("{target}: {e}")))
}

fn print_load(r: &LoadReport) {
    println!(
        "{:<7} {:>8} {:>8} {:>6} {:>11} {:>9} {:>9} {:>10} {:>7}",
        "op", "sessions", "inflight", "bytes", "ops/s", "p50 us", "p99 us", "p99.9 us", "errors"
    );
    println!(
        "{:<7} {:>8} {:>8} {:>6} {:>11.0} {:>9} {:>9} {:>10} {:>7}",
        format!("{:?}", r.op).to_lowercase(),
        r.sessions,
        r.inflight,
        r.value_size,
        r.ops_per_s,
        r.latency_us.p50,
        r.latency_us.p99,
        r.latency_us.p999,
        r.errors
    );
}

async fn connect_all(hosts: &str, n: usize) -> Result<Vec<Client>, Error> {
    let opts = ClientOptions {
        session_timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(n);
    // In batches: a thousand handshakes at once would only queue up.
    for batch in (0..n).collect::<Vec<_>>().chunks(50) {
        let tasks = batch
            .iter()
            .map(|_| Client::connect(hosts, opts.clone()))
            .collect::<Vec<_>>();
        for c in futures::future::join_all(tasks).await {
            out.push(c?);
        }
    }
    Ok(out)
}

/// "a:1,b:2/chroot" -> ["a:1", "b:2"].
fn host_list(hosts: &str) -> Vec<&str> {
    hosts.split('/').next().unwrap_or("").split(',').collect()
}

/// `n` bare watching sessions spread over the hosts in turn.
async fn connect_watchers(hosts: &str, n: usize) -> Result<Vec<Watcher>, Error> {
    let hosts = host_list(hosts);
    let mut out = Vec::with_capacity(n);
    for batch in (0..n).collect::<Vec<_>>().chunks(50) {
        let tasks = batch
            .iter()
            .map(|i| Watcher::connect(hosts[i % hosts.len()]));
        out.extend(futures::future::try_join_all(tasks).await?);
    }
    Ok(out)
}

/// Creates `path` with `data` unless it exists.
async fn create_if_missing(zk: &Client, path: String, data: &[u8]) -> Result<bool, Error> {
    match zk
        .create(&path, data, &Acl::open_unsafe(), CreateMode::Persistent)
        .await
    {
        Ok(_) => Ok(true),
        Err(Error::NodeExists) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A small, fast, seedable generator (op and key choice only).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What one load task shares with the others.
struct LoadShared {
    args: LoadArgs,
    root: String,
    value: Vec<u8>,
    stop: AtomicBool,
    measuring: AtomicBool,
    /// Completed requests, for the progress line.
    done: AtomicU64,
    /// Latencies (µs) of the measured requests, all tasks'.
    hist: std::sync::Mutex<Histogram<u64>>,
}

/// Latencies a load task keeps before it counts them into the shared
/// histogram (64 KiB a task; one lock per this many requests).
const LATENCY_BATCH: usize = 16 * 1024;

async fn run_load(common: &Common, args: &LoadArgs) -> Result<LoadReport, Error> {
    let clients = connect_all(&common.hosts, args.sessions.max(1)).await?;
    let root = common.root.trim_end_matches('/').to_string();
    let value = vec![b'x'; args.value_size];
    let zk = &clients[0];
    zk.ensure_path(&format!("{root}/keys"), &Acl::open_unsafe())
        .await?;
    zk.ensure_path(&format!("{root}/create"), &Acl::open_unsafe())
        .await?;
    let keys = (0..args.keys.max(1))
        .map(|k| create_if_missing(zk, key_path(&root, k), &value))
        .collect::<Vec<_>>();
    for made in futures::future::join_all(keys).await {
        made?;
    }
    // A session on another member may not have the keys yet (reads there
    // are sequentially consistent): each catches up before the load.
    futures::future::try_join_all(clients.iter().map(|c| c.sync(&root))).await?;
    let shared = Arc::new(LoadShared {
        args: args.clone(),
        root,
        value,
        stop: AtomicBool::new(false),
        measuring: AtomicBool::new(false),
        done: AtomicU64::new(0),
        hist: std::sync::Mutex::new(new_histogram()),
    });
    let mut tasks = Vec::new();
    for (s, zk) in clients.iter().enumerate() {
        for t in 0..args.inflight.max(1) {
            let seed = 0x9E37_79B9_7F4A_7C15 ^ ((s as u64) << 32 | t as u64 | 1);
            tasks.push(tokio::spawn(load_task(
                zk.clone(),
                shared.clone(),
                format!("s{s}-t{t}"),
                seed,
            )));
        }
    }
    let warmup = Duration::from_secs_f64(args.warmup.max(0.0));
    let measured = Duration::from_secs_f64(args.duration.max(0.1));
    pace(&shared, warmup, "warm-up", common.quiet).await;
    shared.measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    pace(&shared, measured, "measuring", common.quiet).await;
    shared.stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let mut errors = 0;
    for t in tasks {
        errors += t.await.map_err(|e| Error::Io(e.to_string()))?;
    }
    let hist = std::mem::replace(&mut *zkrs::lock(&shared.hist), new_histogram());
    Ok(LoadReport {
        mode: "load",
        op: args.op,
        sessions: args.sessions,
        inflight: args.inflight,
        value_size: args.value_size,
        duration_s: (elapsed * 100.0).round() / 100.0,
        ops: hist.len(),
        errors,
        ops_per_s: (hist.len() as f64 / elapsed).round(),
        latency_us: Latency::of(&hist),
    })
}

fn key_path(root: &str, k: usize) -> String {
    format!("{root}/keys/k{k:06}")
}

fn new_histogram() -> Histogram<u64> {
    // 1 us .. 100 s at 3 significant digits.
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("histogram bounds")
}

/// Sleeps `span`, printing ops/s every second unless quiet.
async fn pace(shared: &LoadShared, span: Duration, what: &str, quiet: bool) {
    let end = Instant::now() + span;
    let mut last = shared.done.load(Ordering::Relaxed);
    while Instant::now() < end {
        let step = (end - Instant::now()).min(Duration::from_secs(1));
        tokio::time::sleep(step).await;
        let now = shared.done.load(Ordering::Relaxed);
        if !quiet && step.as_secs_f64() > 0.0 {
            eprintln!(
                "  {what}: {:.0} ops/s",
                (now - last) as f64 / step.as_secs_f64()
            );
        }
        last = now;
    }
}

/// Counts `latencies` into the shared histogram and empties them.
fn count_latencies(shared: &LoadShared, latencies: &mut Vec<u32>) {
    let mut hist = zkrs::lock(&shared.hist);
    for us in latencies.drain(..) {
        let _ = hist.record(u64::from(us.max(1)));
    }
}

/// One request at a time until told to stop; the measured requests'
/// latencies (µs) go to the shared histogram in batches, and the errors
/// are returned. A histogram per task (256 of them at 16x16, 150 KB each)
/// made the load generator's own cache misses part of what it measured.
async fn load_task(zk: Client, shared: Arc<LoadShared>, name: String, seed: u64) -> u64 {
    let mut latencies = Vec::with_capacity(LATENCY_BATCH);
    let mut errors = 0;
    let mut rng = XorShift(seed);
    let args = &shared.args;
    let mut n = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        let key = key_path(&shared.root, rng.next() as usize % args.keys.max(1));
        let op = match args.op {
            Op::Mixed if (rng.next() % 100) < args.read_pct as u64 => Op::Get,
            Op::Mixed => Op::Set,
            op => op,
        };
        let t0 = Instant::now();
        let res = match op {
            Op::Create => {
                let path = format!("{}/create/{name}-{n}", shared.root);
                zk.create(
                    &path,
                    &shared.value,
                    &Acl::open_unsafe(),
                    CreateMode::Persistent,
                )
                .await
                .map(drop)
            }
            Op::Set => zk.set_data(&key, &shared.value, -1).await.map(drop),
            Op::Get => zk.get_data(&key, None).await.map(drop),
            Op::Exists | Op::Mixed => zk.exists(&key, None).await.map(drop),
        };
        let us = t0.elapsed().as_micros() as u64;
        n += 1;
        shared.done.fetch_add(1, Ordering::Relaxed);
        if !shared.measuring.load(Ordering::Relaxed) {
            continue;
        }
        match res {
            Ok(()) => {
                latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                if latencies.len() == LATENCY_BATCH {
                    count_latencies(&shared, &mut latencies);
                }
            }
            Err(_) => errors += 1,
        }
    }
    count_latencies(&shared, &mut latencies);
    errors
}

/// Each populate create is retried through lost connections for this long.
const POPULATE_RETRY: RetryPolicy = RetryPolicy {
    max_tries: None,
    delay: Duration::from_millis(100),
    backoff: 2.0,
    max_jitter: 0.4,
    max_delay: Duration::from_secs(5),
    deadline: Some(Duration::from_secs(120)),
    ignore_expire: false,
};

/// New sessions a populate task may open after its session expired.
const POPULATE_REOPENS: u32 = 5;

async fn run_populate(
    common: &Common,
    count: u64,
    value_size: usize,
    sessions: usize,
    inflight: usize,
) -> Result<PopulateReport, Error> {
    let clients = connect_all(&common.hosts, sessions.max(1)).await?;
    let root = format!("{}/pop", common.root.trim_end_matches('/'));
    let zk = &clients[0];
    zk.ensure_path(&root, &Acl::open_unsafe()).await?;
    let parents = count.div_ceil(1000);
    let made = (0..parents)
        .map(|p| create_if_missing(zk, format!("{root}/p{p:05}"), b""))
        .collect::<Vec<_>>();
    for m in futures::future::join_all(made).await {
        m?;
    }
    let next = Arc::new(AtomicU64::new(0));
    let created = Arc::new(AtomicU64::new(0));
    let value = Arc::new(vec![b'x'; value_size]);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for zk in &clients {
        for _ in 0..inflight.max(1) {
            let (mut zk, next, created, value, root, hosts) = (
                zk.clone(),
                next.clone(),
                created.clone(),
                value.clone(),
                root.clone(),
                common.hosts.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut reopened = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok::<(), Error>(());
                    }
                    let path = format!("{root}/p{:05}/n{:03}", i / 1000, i % 1000);
                    // A stalled server (a long pause, a leader change) costs
                    // time, not the run; a retried create that had landed
                    // finds its node and is counted as already there.
                    let made = loop {
                        let create = || create_if_missing(&zk, path.clone(), &value);
                        match POPULATE_RETRY.run(create).await {
                            // Stalled past the session timeout: go on in a
                            // new session, a few times at most.
                            Err(Error::SessionExpired) if reopened < POPULATE_REOPENS => {
                                reopened += 1;
                                eprintln!("  populate: session expired; opening a new one");
                                zk = connect_all(&hosts, 1).await?.remove(0);
                            }
                            done => break done?,
                        }
                    };
                    if made {
                        created.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    let progress = {
        let next = next.clone();
        let quiet = common.quiet;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let at = next.load(Ordering::Relaxed).min(count);
                if !quiet {
                    eprintln!("  populate: {at} of {count}");
                }
            }
        })
    };
    let mut failed = None;
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed = Some(e),
            Err(e) => failed = Some(Error::Io(e.to_string())),
        }
    }
    progress.abort();
    if let Some(e) = failed {
        return Err(e);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let created = created.load(Ordering::Relaxed);
    Ok(PopulateReport {
        mode: "populate",
        count,
        value_size,
        created,
        existed: count - created,
        elapsed_s: (elapsed * 10.0).round() / 10.0,
        creates_per_s: (count as f64 / elapsed).round(),
    })
}

async fn run_fanout(
    common: &Common,
    watchers: usize,
    rounds: usize,
) -> Result<FanoutReport, Error> {
    let root = common.root.trim_end_matches('/').to_string();
    let path = format!("{root}/fanout");
    let writer = connect_all(&common.hosts, 1).await?.remove(0);
    writer.ensure_path(&path, &Acl::open_unsafe()).await?;
    if !common.quiet {
        eprintln!("  connecting {watchers} watching sessions");
    }
    let mut sessions = connect_watchers(&common.hosts, watchers.max(1)).await?;
    // Each watcher's member must have the znode before the watch is set
    // (an exists watch on a znode not there yet would fire on its creation).
    futures::future::try_join_all(sessions.iter_mut().map(|w| w.sync(&path))).await?;
    let members = host_list(&common.hosts).len().min(sessions.len());
    let (mut times, mut read_times) = (Vec::new(), Vec::new());
    let (mut firsts, mut lasts) = (vec![Vec::new(); members], vec![Vec::new(); members]);
    for round in 0..rounds.max(1) {
        futures::future::try_join_all(sessions.iter_mut().map(|w| w.watch(&path))).await?;
        // Every session is already waiting when the write goes out, and is
        // read while the write's reply is awaited: the first poll of a
        // thousand reads (each a syscall) would otherwise be timed too.
        let t0 = std::cell::Cell::new((Instant::now(), SystemTime::now()));
        let t0 = &t0;
        let all = futures::future::try_join_all(sessions.iter_mut().map(|w| async move {
            let at = w.notified().await?;
            let (read, wall) = t0.get();
            Ok::<_, Error>((at.duration_since(wall).unwrap_or_default(), read.elapsed()))
        }));
        let mut all = std::pin::pin!(tokio::time::timeout(Duration::from_secs(60), all));
        if let std::task::Poll::Ready(r) = futures::poll!(all.as_mut()) {
            r.map_err(|_| Error::Io("no watcher notified".into()))??;
            return Err(Error::Io("notified before the write".into()));
        }
        t0.set((Instant::now(), SystemTime::now()));
        let data = round.to_string();
        let set = writer.set_data(&path, data.as_bytes(), -1);
        let (set, arrived) = tokio::join!(set, all);
        set?;
        let arrived = arrived
            .map_err(|_| Error::Io("not every watcher was notified within 60 s".into()))??;
        let read_ms = t0.get().0.elapsed().as_secs_f64() * 1000.0;
        let (arrived, _): (Vec<Duration>, Vec<Duration>) = arrived.into_iter().unzip();
        let ms = arrived
            .iter()
            .max()
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let spans = member_spans(&arrived, members);
        if !common.quiet {
            let each: Vec<String> = spans
                .iter()
                .map(|(first, last)| format!("{first:.2}-{last:.2}"))
                .collect();
            eprintln!(
                "  round {round}: {ms:.2} ms, read by {read_ms:.2} ms (each member's first-last: {each:?})"
            );
        }
        for (m, (first, last)) in spans.into_iter().enumerate() {
            firsts[m].push(first);
            lasts[m].push(last);
        }
        times.push(round2(ms));
        read_times.push(round2(read_ms));
    }
    Ok(FanoutReport {
        mode: "fanout",
        watchers,
        rounds: times.len(),
        median_ms: median(&times),
        min_ms: times.iter().copied().fold(f64::INFINITY, f64::min),
        max_ms: times.iter().copied().fold(0.0, f64::max),
        rounds_ms: times,
        read_median_ms: median(&read_times),
        member_first_ms: firsts.iter().map(|t| median(t)).collect(),
        member_last_ms: lasts.iter().map(|t| median(t)).collect(),
    })
}

#[derive(Serialize, Debug)]
struct RestartReport {
    mode: &'static str,
    host: String,
    path: String,
    /// From the start of the command to the first successful read.
    serving_s: f64,
    /// Sessions asked for (each may retry its connection for up to
    /// `RESTART_TRY`).
    attempts: u32,
}

/// How long one attempt may wait for a session: a member still loading
/// refuses or closes at once, so a short wait only skips a stalled try.
const RESTART_TRY: Duration = Duration::from_secs(2);

/// Between attempts.
const RESTART_PAUSE: Duration = Duration::from_millis(20);

async fn run_restart(common: &Common, path: &str, limit: Duration) -> Result<RestartReport, Error> {
    let host = match host_list(&common.hosts)[..] {
        [one] if !one.is_empty() => one.to_string(),
        _ => {
            return Err(Error::Io(
                "restart: --hosts must name the one member".into(),
            ))
        }
    };
    let opts = ClientOptions {
        session_timeout: Duration::from_secs(10),
        connect_timeout: RESTART_TRY,
        ..Default::default()
    };
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        if serves(&host, path, &opts).await {
            return Ok(RestartReport {
                mode: "restart",
                host,
                path: path.to_string(),
                serving_s: round2(started.elapsed().as_secs_f64()),
                attempts,
            });
        }
        if started.elapsed() > limit {
            return Err(Error::Io(format!(
                "restart: {host} did not serve {path} within {} s",
                limit.as_secs()
            )));
        }
        if !common.quiet && attempts % 50 == 0 {
            eprintln!("  {host}: not serving after {attempts} attempts");
        }
        tokio::time::sleep(RESTART_PAUSE).await;
    }
}

/// Whether a new session on `host` finds `path` there (not while the
/// member refuses sessions, or has not caught up to `path`).
async fn serves(host: &str, path: &str, opts: &ClientOptions) -> bool {
    let Ok(zk) = Client::connect(host, opts.clone()).await else {
        return false;
    };
    let found = tokio::time::timeout(RESTART_TRY, zk.exists(path, None)).await;
    let _ = zk.close().await;
    matches!(found, Ok(Ok(Some(_))))
}

/// Per member (watchers are spread over the hosts in turn): the first and
/// the last notification's time, milliseconds.
fn member_spans(arrived: &[Duration], members: usize) -> Vec<(f64, f64)> {
    (0..members)
        .map(|m| {
            let mine = arrived.iter().skip(m).step_by(members);
            let ms = mine.map(|d| d.as_secs_f64() * 1000.0);
            ms.fold((f64::INFINITY, 0.0_f64), |(lo, hi), t| {
                (lo.min(t), hi.max(t))
            })
        })
        .map(|(lo, hi)| (round2(lo), round2(hi)))
        .collect()
}

fn round2(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}

fn median(v: &[f64]) -> f64 {
    let mut sorted = v.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}
