//! The `zkrs` command: run a member, and tools around it.

mod bench;
mod import;
mod mirror;
mod progress;
mod shell;
mod snapshot;
mod watchers;

// jemalloc, not glibc malloc, in the server binary: the write path allocates
// and frees many mid-sized buffers, which glibc answers with costly
// consolidation of its small-chunk bins. (Libraries loaded into Python or
// Node keep the host's allocator.)
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use zkrs::config::Config;
use zkrs::embed::{Ensemble, EnsembleOptions};
use zkrs::server::Server;

#[derive(Parser)]
#[command(
    name = "zkrs",
    version,
    about = "A ZooKeeper-compatible coordination service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a member. With no --config: 127.0.0.1:2181, data in ./zkrs-data.
    Server {
        /// A zoo.cfg file, read as ZooKeeper reads it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// A throw-away ensemble on localhost for tests and demos; prints its
    /// connect string and runs until interrupted.
    Local {
        /// Voting members.
        #[arg(long, default_value_t = 3)]
        members: usize,
        /// Non-voting observers.
        #[arg(long, default_value_t = 0)]
        observers: usize,
        /// Keep data here instead of a temporary directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Load generator for any ZooKeeper-protocol server: `bench load`,
    /// `bench populate`, `bench fanout` (see `zkrs bench <mode> --help`).
    Bench(bench::BenchArgs),
    /// zkCli's commands, with zkCli's own invocation: `zkrs shell -server
    /// HOSTS` is interactive, `zkrs shell -server HOSTS ls /` runs one
    /// command, commands on stdin run in order.
    Shell {
        /// zkCli's arguments, passed through as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Bring an Apache ZooKeeper dataDir (snapshot plus transaction logs)
    /// into the dataDir a zoo.cfg names.
    Import(import::ImportArgs),
    /// Copy a live ZooKeeper's tree into a zkrs ensemble through the client
    /// protocol and keep it in sync until interrupted.
    Mirror(mirror::MirrorArgs),
    /// Look into zkrs data files: `snapshot inspect|dump FILE`.
    Snapshot(snapshot::SnapshotArgs),
}

fn main() {
    init_logging();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Server { config } => run_server(config),
        Command::Local {
            members,
            observers,
            data_dir,
        } => run_local(members, observers, data_dir),
        Command::Bench(args) => bench::run(args),
        Command::Shell { args } => shell::run(args),
        Command::Import(args) => import::run(args),
        Command::Mirror(args) => mirror::run(args),
        Command::Snapshot(args) => snapshot::run(args),
    };
    std::process::exit(code);
}

/// Logs to stderr: `ZKRS_LOG` filters (tracing's EnvFilter syntax),
/// `ZKRS_LOG_FORMAT=json` writes one JSON object per line for log
/// collectors.
fn init_logging() {
    let quiet = zkrs::logging::QUIET_BELOW_DEBUG.map(|c| format!(",{c}=warn"));
    let filter = tracing_subscriber::EnvFilter::try_from_env("ZKRS_LOG")
        .unwrap_or_else(|_| format!("info{}", quiet.concat()).into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match std::env::var("ZKRS_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().init(),
        _ => logs.init(),
    }
}

fn run_server(path: Option<PathBuf>) -> i32 {
    let config = match path {
        Some(p) => Config::load(&p),
        None => Ok(Config::default()),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zkrs: {e}");
            return 2;
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async move {
        let server = match Server::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("zkrs: {e}");
                return 1;
            }
        };
        eprintln!("zkrs: serving on {}", server.addr());
        wait_for_signal().await;
        server.stop().await;
        0
    })
}

fn run_local(members: usize, observers: usize, data_dir: Option<PathBuf>) -> i32 {
    let opts = EnsembleOptions {
        members,
        observers,
        data_dir,
        ..Default::default()
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async move {
        let ensemble = match Ensemble::start(opts).await {
            Ok(e) => e,
            Err(e) => {
                eprintln!("zkrs: {e}");
                return 1;
            }
        };
        // The connect string alone on stdout, so scripts can read it.
        println!("{}", ensemble.connect_string());
        eprintln!("zkrs: {members} members + {observers} observers; Ctrl-C stops them");
        wait_for_signal().await;
        ensemble.stop().await;
        0
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
