//! Where the imported state goes: the first snapshot of the member (or of
//! each member of the ensemble) that a zoo.cfg describes, written by
//! `consensus::write_seed_snapshot` so its zxids continue ZooKeeper's.

use std::path::{Path, PathBuf};

use crate::config::{Config, Role};
use crate::state::ZkState;
use crate::Error;

/// Where a member started with `config` keeps snapshots and its log
/// (as `Server::start` lays them out), and the voters it starts with.
pub struct TargetDirs {
    pub snapshots: PathBuf,
    pub log: PathBuf,
    /// (id, peer spec) of every voting member; one with an empty spec for
    /// a standalone member.
    pub voters: Vec<(u64, String)>,
}

impl TargetDirs {
    pub fn of(config: &Config) -> Result<TargetDirs, Error> {
        let voters = if config.servers.is_empty() {
            vec![(config.server_id.unwrap_or(1).max(1), String::new())]
        } else {
            config
                .servers
                .iter()
                .filter(|s| s.role != Role::Observer)
                .map(|s| (s.id, s.to_string()))
                .collect()
        };
        Ok(TargetDirs {
            snapshots: config.data_dir.join("zkrs").join("snapshots"),
            log: config.data_log_dir.join("zkrs").join("log"),
            voters,
        })
    }

    /// Refuses a target that already holds zkrs data: importing over it
    /// would fork that member's history.
    pub fn check_empty(&self) -> Result<(), Error> {
        for dir in [&self.snapshots, &self.log] {
            if has_entries(dir) {
                return Err(Error::Config(format!(
                    "{} already holds zkrs data; import only into an empty dataDir",
                    dir.display()
                )));
            }
        }
        Ok(())
    }

    /// Writes `state` as the member's first snapshot.
    pub fn write(&self, state: &ZkState) -> Result<PathBuf, Error> {
        crate::consensus::write_seed_snapshot(&self.snapshots, state, &self.voters)
    }
}

fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}
