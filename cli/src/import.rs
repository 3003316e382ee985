//! `zkrs import`: an Apache ZooKeeper dataDir into the (empty) dataDir a
//! zoo.cfg names; `zkrs server` on that zoo.cfg then serves the same data.
//! The work is `zkrs::import`; this only reports.

#[derive(clap::Args)]
pub struct ImportArgs {
    /// ZooKeeper's dataDir (with `version-2/` inside, or that folder).
    #[arg(long)]
    pub zk_data_dir: std::path::PathBuf,
    /// ZooKeeper's dataLogDir, when its transaction logs are kept apart
    /// from the snapshots.
    #[arg(long)]
    pub zk_data_log_dir: Option<std::path::PathBuf>,
    /// The zoo.cfg whose dataDir receives the data.
    #[arg(long)]
    pub config: std::path::PathBuf,
}

pub fn run(args: ImportArgs) -> i32 {
    let config = match zkrs::config::Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zkrs import: {e}");
            return 2;
        }
    };
    let mut progress = |line: &str| eprintln!("zkrs import: {line}");
    let zk = zkrs::import::ZkDirs {
        data_dir: &args.zk_data_dir,
        data_log_dir: args.zk_data_log_dir.as_deref(),
    };
    match zkrs::import::import(zk, &config, &mut progress) {
        Ok(s) => {
            eprintln!(
                "zkrs import: done: {} znodes, {} sessions, last zxid {:#x} \
                 (snapshot {:#x} + {} txns) -> {}",
                s.znodes,
                s.sessions,
                s.last_zxid,
                s.snapshot_zxid,
                s.txns_replayed,
                s.written.display()
            );
            0
        }
        Err(e) => {
            eprintln!("zkrs import: refused, nothing written: {e}");
            2
        }
    }
}
