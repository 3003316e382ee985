//! The replication engine binding. zkrs replicates its log with openraft;
//! this module is the only one that names an openraft type. It adapts
//! `storage` (log + snapshot files) to openraft's storage traits, drives the
//! state machine through the [`Applier`] the member provides, and offers the
//! rest of zkrs a small handle: propose a write, wait for a read index.

mod log_store;
mod network;
mod state_machine;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openraft::{BasicNode, Raft};

use crate::state::{Txn, TxnResult, ZkState};
use crate::types::Zxid;
use crate::Error;
pub use log_store::LogStore;
pub use state_machine::StateMachine;

openraft::declare_raft_types!(
    /// zkrs's openraft types: log entries carry [`Txn`], applying yields [`TxnResult`].
    pub TypeConfig:
        D = Txn,
        R = TxnResult,
        Node = BasicNode,
);

impl fmt::Display for Txn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Txn(session={:#x}, {:?})",
            self.session,
            std::mem::discriminant(&self.op)
        )
    }
}

/// What the member plugs in to receive applied entries. Called on the
/// state-machine task, in log order, one entry at a time.
pub trait Applier: Send + Sync + 'static {
    /// Applies a client entry at `zxid` and delivers its watch events before
    /// returning the reply.
    fn apply(&self, zxid: Zxid, txn: &Txn) -> TxnResult;
    /// An entry with no client payload (leader blank, membership) at `zxid`.
    fn advance(&self, zxid: Zxid);
    /// A copy of the state for a snapshot (cheap: persistent maps).
    fn snapshot(&self) -> ZkState;
    /// Replaces the state wholesale (snapshot install or recovery).
    fn restore(&self, state: ZkState);
}

/// Where and how a member keeps its log and snapshots.
#[derive(Debug, Clone)]
pub struct StorageOptions {
    pub log_dir: PathBuf,
    pub snapshot_dir: PathBuf,
    /// Entries between snapshots (zoo.cfg snapCount).
    pub snap_count: u64,
    /// Snapshots kept on disk (autopurge.snapRetainCount).
    pub snap_retain_count: usize,
}

/// A write handed to replication, not yet known to be committed.
pub struct PendingWrite {
    rx: tokio::sync::oneshot::Receiver<openraft::raft::ClientWriteResult<TypeConfig>>,
}

impl PendingWrite {
    /// Waits until the write is durable on a quorum and applied here, and
    /// returns its zxid and result. A write that cannot be committed (lost
    /// leadership, shutdown) is ConnectionLoss: its outcome is unknown.
    pub async fn wait(self) -> Result<(Zxid, TxnResult), Error> {
        match self.rx.await {
            Ok(Ok(resp)) => Ok((resp.log_id.index as Zxid, resp.data)),
            Ok(Err(e)) => {
                tracing::warn!("write not committed: {e}");
                Err(Error::ConnectionLoss)
            }
            Err(_) => Err(Error::ConnectionLoss),
        }
    }
}

/// A running replication group member.
pub struct Consensus {
    raft: Raft<TypeConfig, StateMachine>,
    node_id: u64,
    /// Kept so `shutdown` can close the log itself (see there).
    log: std::sync::Mutex<Option<LogStore>>,
}

fn raft_config(opts: &StorageOptions) -> Result<Arc<openraft::Config>, Error> {
    let cfg = openraft::Config {
        cluster_name: "zkrs".into(),
        heartbeat_interval: 100,
        election_timeout_min: 300,
        election_timeout_max: 600,
        snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(opts.snap_count.max(1)),
        // Keep a tail of the log after a snapshot so a follower that is
        // slightly behind catches up from the log, not a full snapshot.
        max_in_snapshot_log_to_keep: 1000.min(opts.snap_count),
        enable_pre_vote: Some(true),
        ..Default::default()
    };
    cfg.validate()
        .map(Arc::new)
        .map_err(|e| Error::Config(format!("raft config: {e}")))
}

impl Consensus {
    /// Starts a one-voter group (standalone member) and waits until it leads
    /// and has re-applied everything it had committed before a restart.
    pub async fn start_standalone(
        node_id: u64,
        addr: String,
        opts: StorageOptions,
        applier: Arc<dyn Applier>,
    ) -> Result<Consensus, Error> {
        let log = LogStore::open(&opts.log_dir)?;
        let sm = StateMachine::open(&opts, applier)?;
        let config = raft_config(&opts)?;
        let raft = Raft::new(node_id, config, network::NoPeers, log.clone(), sm)
            .await
            .map_err(|e| Error::Io(format!("raft start: {e}")))?;
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|e| Error::Io(e.to_string()))?;
        if !initialized {
            let members = BTreeMap::from([(node_id, BasicNode { addr })]);
            raft.initialize(members)
                .await
                .map_err(|e| Error::Io(format!("raft init: {e}")))?;
        }
        let c = Consensus {
            raft,
            node_id,
            log: std::sync::Mutex::new(Some(log)),
        };
        c.wait_leader(Duration::from_secs(30)).await?;
        Ok(c)
    }

    async fn wait_leader(&self, timeout: Duration) -> Result<(), Error> {
        let waited = self
            .raft
            .wait(Some(timeout))
            .current_leader(self.node_id, "become leader")
            .await;
        waited.map_err(|e| Error::Io(format!("no leadership: {e}")))?;
        self.raft
            .wait_for_recovery(Some(timeout))
            .await
            .map_err(|e| Error::Io(format!("recovery: {e}")))?;
        Ok(())
    }

    /// Hands `txn` to replication. Entries enter the log in the order of
    /// `submit` calls, so a connection that submits in request order keeps
    /// ZooKeeper's FIFO client order while many writes are in flight.
    pub async fn submit(&self, txn: Txn) -> Result<PendingWrite, Error> {
        let (responder, rx) = openraft::impls::ProgressResponder::complete_only();
        self.raft
            .client_write_ff(txn, Some(responder))
            .await
            .map_err(|e| {
                tracing::warn!("write not accepted: {e}");
                Error::ConnectionLoss
            })?;
        Ok(PendingWrite { rx })
    }

    /// Replicates `txn` and waits for it (see [`PendingWrite::wait`]).
    pub async fn propose(&self, txn: Txn) -> Result<(Zxid, TxnResult), Error> {
        self.submit(txn).await?.wait().await
    }

    /// Waits until this member has applied everything the leader had
    /// committed when the call arrived (ZooKeeper's `sync`).
    pub async fn sync(&self) -> Result<(), Error> {
        self.raft
            .ensure_linearizable(openraft::raft::ReadPolicy::ReadIndex)
            .await
            .map(|_| ())
            .map_err(|e| {
                tracing::warn!("sync failed: {e}");
                Error::ConnectionLoss
            })
    }

    pub fn is_leader(&self) -> bool {
        self.raft.is_leader()
    }

    /// Builds a snapshot now (tests and tools).
    pub async fn snapshot_now(&self) -> Result<(), Error> {
        self.raft
            .trigger()
            .snapshot()
            .await
            .map_err(|e| Error::Io(e.to_string()))
    }

    /// Stops the engine and returns once the log is closed, so the data
    /// directory can be opened again at once (a restart in the same
    /// process). openraft joins only its core task; its state-machine
    /// worker drops its log reader a moment later.
    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(log) = log {
            log.close(Duration::from_secs(10)).await;
        }
    }
}
