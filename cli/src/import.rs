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

use zkrs::import::Step;

pub fn run(args: ImportArgs) -> i32 {
    let config = match zkrs::config::Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zkrs import: {e}");
            return 2;
        }
    };
    let shown = crate::progress::Progress::new("zkrs import");
    let mut progress = |step: Step| match step {
        Step::Note(line) => shown.note(line),
        Step::LoadingSnapshot(path) => shown.working(&format!("loading {}", path.display())),
        Step::Replaying { done, total } => {
            shown.advance(done as u64, total as u64, "replaying transaction logs")
        }
    };
    let zk = zkrs::import::ZkDirs {
        data_dir: &args.zk_data_dir,
        data_log_dir: args.zk_data_log_dir.as_deref(),
    };
    let imported = zkrs::import::import(zk, &config, &mut progress);
    shown.finish();
    match imported {
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
