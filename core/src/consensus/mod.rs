//! The replication engine binding. zkrs replicates its log with openraft;
//! this module is the only one that names an openraft type. It adapts
//! `storage` (log + snapshot files) to openraft's storage traits, drives the
//! state machine through the [`Applier`] the member provides, carries
//! openraft's RPCs over zkrs's peer protocol, and offers the rest of zkrs a
//! small handle: submit a write (forwarded to the leader from followers and
//! observers), wait for a read index (`sync`), forward session touches.

mod applied;
mod forward;
mod handler;
mod log_store;
mod network;
mod peer;
mod state_machine;
mod wire;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;
use openraft::Instant as _;
use openraft::{BasicNode, Raft, ServerState};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::state::{Txn, TxnResult, ZkState};
use crate::types::{SessionId, Zxid};
use crate::Error;
use forward::{Forwarder, Outbox, Sending};
pub use log_store::LogStore;
pub use peer::QuorumAuth;
use peer::{PeerPool, PeerRequest, PeerResponse};
pub use state_machine::{read_snapshot_file, write_seed_snapshot, SnapshotContents, StateMachine};

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
            std::mem::discriminant(&*self.op)
        )
    }
}

/// What the member plugs in to receive applied entries. Called on the
/// state-machine task, in log order, one entry at a time.
pub trait Applier: Send + Sync + 'static {
    /// Applies a client entry at `zxid`, appended by the leader of `term`,
    /// and delivers its watch events before returning the reply.
    fn apply(&self, zxid: Zxid, term: u64, txn: &Txn) -> TxnResult;
    /// An entry with no client payload (leader blank, membership) at `zxid`.
    fn advance(&self, zxid: Zxid);
    /// A copy of the state for a snapshot (cheap: persistent maps).
    fn snapshot(&self) -> ZkState;
    /// Replaces the state wholesale (snapshot install or recovery).
    fn restore(&self, state: ZkState);
    /// Sessions that clients of another member were heard from (leader).
    fn touched(&self, sessions: &[SessionId]);
    /// A membership entry at `zxid` applied: the new `/zookeeper/config`.
    fn config_changed(&self, zxid: Zxid, text: String);
    /// `/zookeeper/config`'s data and Stat as applied here.
    fn config_node(&self) -> Option<(Vec<u8>, crate::types::Stat)>;
    /// How long a storage step took, for the metrics.
    fn timed(&self, _step: Timed, _took: Duration) {}
    /// One group fsync of the log: how long it took and how many flushes
    /// (appended batches) it made durable, for the metrics.
    fn fsynced(&self, _took: Duration, _flushes: usize) {}
}

/// Storage steps whose duration the metrics report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timed {
    /// Writing a snapshot (ZooKeeper's `snapshottime`).
    Snapshot,
    /// Loading the newest snapshot at start (`startup_snap_load_time`).
    StartupSnapshotLoad,
}

/// Where and how a member keeps its log and snapshots.
#[derive(Debug, Clone)]
pub struct StorageOptions {
    pub log_dir: PathBuf,
    pub snapshot_dir: PathBuf,
    /// Entries between snapshots (zoo.cfg snapCount).
    pub snap_count: u64,
    /// How snapshots are written (snapshot.compression.method).
    pub snapshot_compression: crate::storage::Compression,
    /// Snapshots kept on disk (autopurge.snapRetainCount).
    pub snap_retain_count: usize,
}

/// One member of the replication group, as configured (`server.N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub id: u64,
    /// ZooKeeper's server spec ("host:peerPort:electionPort:role[;client]"),
    /// kept in the replicated membership so `/zookeeper/config` shows it.
    pub spec: String,
    /// Observers replicate and serve clients but never vote.
    pub observer: bool,
}

/// The peer-protocol address ("host:peerPort") inside a server spec.
pub fn dial_addr(spec: &str) -> Option<String> {
    crate::config::ServerEntry::parse(0, spec).ok().map(|e| {
        let host = if e.host.contains(':') {
            format!("[{}]", e.host)
        } else {
            e.host.clone()
        };
        format!("{host}:{}", e.peer_port)
    })
}

/// A member's role as the four-letter words print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Standalone,
    Leader,
    Follower,
    Observer,
    /// No leader known (election, or cut off from the quorum).
    Looking,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Standalone => "standalone",
            Mode::Leader => "leader",
            Mode::Follower => "follower",
            Mode::Observer => "observer",
            Mode::Looking => "looking",
        }
    }
}

/// A write handed to replication, not yet known to be committed.
pub struct PendingWrite {
    raft: Raft<TypeConfig, StateMachine>,
    clock: LeaderClock,
    rx: Pending,
}

type LocalReply = oneshot::Receiver<openraft::raft::ClientWriteResult<TypeConfig>>;

/// A write tracked through a leader change (see `forward`).
type Tracked = (Arc<Forwarder>, forward::Ticket);

enum Pending {
    /// Appended here; tracked unless standalone (no other leader can come).
    Local(LocalReply, Option<Tracked>),
    Remote(Tracked, oneshot::Receiver<PeerResponse>),
}

/// Appends `txn` to this member's log, stamped with its clock (leaders only).
async fn append_local(
    raft: &Raft<TypeConfig, StateMachine>,
    clock: &LeaderClock,
    mut txn: Txn,
) -> Result<LocalReply, Error> {
    clock.stamp(&mut txn);
    let (responder, rx) = openraft::impls::ProgressResponder::complete_only();
    raft.client_write_ff(txn, Some(responder))
        .await
        .map_err(|e| {
            tracing::warn!("write not accepted: {e}");
            Error::ConnectionLoss
        })?;
    Ok(rx)
}

/// A local append's outcome. One that cannot be committed (lost
/// leadership, shutdown) is ConnectionLoss: its outcome is unknown.
async fn local_outcome(rx: LocalReply) -> Result<(Zxid, TxnResult), Error> {
    match rx.await {
        Ok(Ok(resp)) => Ok((resp.log_id.index as Zxid, resp.data)),
        Ok(Err(e)) => {
            tracing::warn!("write not committed: {e}");
            Err(Error::ConnectionLoss)
        }
        Err(_) => Err(Error::ConnectionLoss),
    }
}

/// How long a follower waits to apply a write its leader committed.
const APPLY_WAIT: Duration = Duration::from_secs(30);

impl PendingWrite {
    /// Waits until the write is durable on a quorum and applied here, and
    /// returns its zxid and result. ConnectionLoss: its outcome is unknown
    /// (a forwarded write survives a leader change; see `forward`).
    pub async fn wait(self) -> Result<(Zxid, TxnResult), Error> {
        let mut pending = self.rx;
        let mut give_up = None;
        loop {
            let ((fwd, ticket), rx) = match pending {
                Pending::Local(rx, Some(tracked)) => match rx.await {
                    Ok(Ok(resp)) => return Ok((resp.log_id.index as Zxid, resp.data)),
                    // Refused before it was appended (the lead was not ours
                    // yet, or gone): send it again, no fate to settle.
                    Ok(Err(openraft::errors::ClientWriteError::ForwardToLeader(_))) => {
                        (tracked, Some(forward::not_taken()))
                    }
                    // Lost the lead before it committed: settle it.
                    _ => (tracked, None),
                },
                Pending::Local(rx, None) => return local_outcome(rx).await,
                Pending::Remote(tracked, rx) => (tracked, Some(rx)),
            };
            // This member leads by now and the write never committed: it
            // is appended here, tracked like any other.
            let txn = match fwd.settle(&ticket, rx).await? {
                Ok(done) => return Ok(done),
                Err(txn) => txn,
            };
            // Appended again at most for one hold, as a forwarded write.
            let now = std::time::Instant::now();
            if now >= *give_up.get_or_insert(now + fwd.hold) {
                return Err(Error::ConnectionLoss);
            }
            let rx = append_local(&self.raft, &self.clock, txn).await?;
            pending = Pending::Local(rx, Some((fwd, ticket)));
        }
    }
}

/// A reconfig's reply waits until this member applied it, through
/// openraft's metrics: these calls are rare and hold only the raft handle.
/// A forwarded write or a sync waits on the outbox's `AppliedIndex`.
pub(crate) async fn wait_applied(
    raft: &Raft<TypeConfig, StateMachine>,
    index: u64,
) -> Result<(), Error> {
    raft.wait(Some(APPLY_WAIT))
        .applied_index_at_least(Some(index), "apply forwarded write")
        .await
        .map(|_| ())
        .map_err(|_| Error::ConnectionLoss)
}

/// How long a reconfig may take (new members must catch up first).
const RECONFIG_WAIT: Duration = Duration::from_secs(60);

/// A `reconfig` request: incremental (joining/leaving) or a whole new
/// membership; `from_version` -1 skips the version check.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Reconfig {
    /// "server.N=spec" entries, comma or newline separated.
    pub joining: String,
    /// Server ids, comma separated.
    pub leaving: String,
    /// A complete new membership ("server.N=spec" entries); if non-empty,
    /// joining and leaving must be empty.
    pub new_members: String,
    pub from_version: i64,
}

impl Reconfig {
    /// BadArguments for text ZooKeeper would not parse: a `joining` or
    /// `new_members` entry that is not `server.N=spec`, a `leaving` id that
    /// is not a number, or both an incremental and a whole change. Checked
    /// before the caller's rights, as ZooKeeper does.
    pub fn validate(&self) -> Result<(), Error> {
        if self.is_incremental() && !self.new_members.trim().is_empty() {
            return Err(Error::BadArguments);
        }
        self.joining_entries()?;
        self.leaving_ids()?;
        self.new_member_entries().map(drop)
    }

    pub(crate) fn is_incremental(&self) -> bool {
        !self.joining.trim().is_empty() || !self.leaving.trim().is_empty()
    }

    pub(crate) fn joining_entries(&self) -> Result<Vec<crate::config::ServerEntry>, Error> {
        parse_entries(&self.joining)
    }

    pub(crate) fn new_member_entries(&self) -> Result<Vec<crate::config::ServerEntry>, Error> {
        parse_entries(&self.new_members)
    }

    pub(crate) fn leaving_ids(&self) -> Result<Vec<u64>, Error> {
        items(&self.leaving)
            .map(|id| id.parse().map_err(|_| Error::BadArguments))
            .collect()
    }
}

/// The non-empty items of a comma- or newline-separated list.
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `server.N=spec` entries; BadArguments for any other shape.
fn parse_entries(text: &str) -> Result<Vec<crate::config::ServerEntry>, Error> {
    items(text)
        .map(|item| {
            let (key, spec) = item.split_once('=').ok_or(Error::BadArguments)?;
            let id = key
                .trim()
                .strip_prefix("server.")
                .and_then(|n| n.parse().ok())
                .ok_or(Error::BadArguments)?;
            crate::config::ServerEntry::parse(id, spec.trim()).map_err(|_| Error::BadArguments)
        })
        .collect()
}

/// The `/zookeeper/config` text for a membership: one `server.N=` line per
/// member with its role as the membership has it, then `version=<hex>`.
pub fn config_text(members: &[(u64, String, bool)], version: Zxid) -> String {
    let mut out = String::new();
    for (id, spec, voter) in members {
        let Ok(mut e) = crate::config::ServerEntry::parse(*id, spec) else {
            continue;
        };
        e.role = if *voter {
            crate::config::Role::Participant
        } else {
            crate::config::Role::Observer
        };
        out.push_str(&format!("server.{id}={e}\n"));
    }
    if !out.is_empty() {
        out.push_str(&format!("version={version:x}"));
    }
    out
}

/// The leader's clock for `Txn::time`. Every entry the leader appends,
/// its own clients' and forwarded ones alike, gets the leader's wall time,
/// never less than the previous entry's: ctime/mtime and TTLs follow one
/// clock that does not run backwards.
#[derive(Clone, Default)]
pub(crate) struct LeaderClock {
    last: Arc<std::sync::atomic::AtomicI64>,
}

impl LeaderClock {
    pub(crate) fn stamp(&self, txn: &mut Txn) {
        let now = crate::types::wall_clock_ms();
        let prev = self
            .last
            .fetch_max(now, std::sync::atomic::Ordering::Relaxed);
        txn.time = now.max(prev);
    }
}

/// Failure-detection times, from zoo.cfg's tickTime and syncLimit.
/// ZooKeeper's follower gives up on a silent leader after syncLimit x
/// tickTime; zkrs elects within that time: the election timeout (also the
/// leader lease that voters honour) is a third of it, so that a first
/// pre-vote refused by a peer whose lease still runs and a second round
/// both fit. Floors keep a loaded machine from electing spuriously at very
/// small ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub heartbeat_ms: u64,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
}

impl Timing {
    pub(crate) fn new(tick_ms: u64, sync_limit: u64) -> Timing {
        let limit = tick_ms.max(1) * sync_limit.max(1);
        let election_max_ms = (limit / 3).max(1000);
        let election_min_ms = (election_max_ms / 2).max(500);
        let heartbeat_ms = (tick_ms / 2).min(election_min_ms / 4).max(50);
        Timing {
            heartbeat_ms,
            election_min_ms,
            election_max_ms,
        }
    }

    /// How long a leader without quorum acks, or a follower without
    /// appends, keeps serving clients: the leader lease, plus two
    /// heartbeats for the one in flight.
    fn stale_after_ms(&self) -> u64 {
        self.election_max_ms + 2 * self.heartbeat_ms
    }
}

/// When this member last heard from a leader, to tell a live follower or
/// observer from one that was removed or cut off (openraft keeps a learner
/// "following" a leader that no longer replicates to it).
#[derive(Clone)]
pub(crate) struct Liveness {
    standalone: bool,
    /// Milliseconds since `epoch` of the last append, plus one; 0 until the
    /// first (a restarted member trusts no leader its saved vote names).
    last_append_ms: Arc<std::sync::atomic::AtomicU64>,
    stale_after_ms: u64,
    epoch: std::time::Instant,
}

impl Liveness {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(crate) fn heard_from_leader(&self) {
        self.last_append_ms
            .store(self.now_ms() + 1, std::sync::atomic::Ordering::Relaxed);
    }

    /// No append from a leader within the stale time, or none since start.
    pub(crate) fn silent(&self) -> bool {
        match self
            .last_append_ms
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            0 => true,
            last => self.now_ms().saturating_sub(last - 1) > self.stale_after_ms,
        }
    }

    fn mode(&self, raft: &Raft<TypeConfig, StateMachine>) -> Mode {
        if self.standalone {
            return Mode::Standalone;
        }
        // Borrowed, not cloned: a follower asks for every write it forwards.
        let metrics = raft.metrics();
        let m = metrics.borrow_watched();
        // A leader cut off from its quorum stops serving too (it could only
        // serve stale reads and hang writes).
        let quorum_lost = m
            .last_quorum_acked
            .as_ref()
            .is_some_and(|t| t.elapsed().as_millis() as u64 > self.stale_after_ms);
        mode_of(&m, self.silent(), quorum_lost)
    }
}

/// The role a member in state `m` reports; `silent`: no leader heard for
/// the stale time.
fn mode_of(m: &openraft::RaftMetrics<TypeConfig>, silent: bool, quorum_lost: bool) -> Mode {
    match (m.state, m.current_leader) {
        (ServerState::Leader, _) if quorum_lost || !applied_own_term(m) => Mode::Looking,
        (ServerState::Leader, _) => Mode::Leader,
        (_, Some(_)) if silent => Mode::Looking,
        // A voter of a new ensemble is a learner until the first
        // membership entry reaches it: not an observer.
        (ServerState::Learner, Some(_)) if listed_as_learner(m) => Mode::Observer,
        (ServerState::Follower, Some(_)) => Mode::Follower,
        _ => Mode::Looking,
    }
}

fn listed_as_learner(m: &openraft::RaftMetrics<TypeConfig>) -> bool {
    m.membership_config
        .membership()
        .learner_ids()
        .any(|id| id == m.id)
}

/// A new leader serves clients only once it applied an entry of its own
/// term (its first, blank one): by then it applied everything committed
/// before it, so no client that saw a zxid is told this member is behind.
fn applied_own_term(m: &openraft::RaftMetrics<TypeConfig>) -> bool {
    m.last_applied
        .as_ref()
        .is_some_and(|l| l.leader_id.term == m.current_term)
}

/// A running replication group member.
/// See [`Consensus::status`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    pub leader: Option<u64>,
    pub term: u64,
    pub last_log_index: u64,
    pub last_applied: u64,
    /// Leader only: (member id, entries it lacks).
    pub learner_lag: Vec<(u64, u64)>,
}

pub struct Consensus {
    raft: Raft<TypeConfig, StateMachine>,
    node_id: u64,
    standalone: bool,
    pool: Arc<PeerPool>,
    peer_task: Option<JoinHandle<()>>,
    duty_task: Option<JoinHandle<()>>,
    liveness: Liveness,
    /// Kept so `shutdown` can close the log itself: openraft's workers may
    /// still hold readers, and a restart in the same process needs the log
    /// directory lock released.
    log: std::sync::Mutex<Option<LogStore>>,
    clock: LeaderClock,
    forwarder: Arc<Forwarder>,
    applier: Arc<dyn Applier>,
}

fn raft_config(opts: &StorageOptions, timing: Timing) -> Result<Arc<openraft::Config>, Error> {
    let cfg = openraft::Config {
        cluster_name: "zkrs".into(),
        heartbeat_interval: timing.heartbeat_ms,
        election_timeout_min: timing.election_min_ms,
        election_timeout_max: timing.election_max_ms,
        snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(opts.snap_count.max(1)),
        // Keep a tail of the log after a snapshot so a follower that is
        // slightly behind catches up from the log, not a full snapshot.
        max_in_snapshot_log_to_keep: 1000.min(opts.snap_count),
        install_snapshot_timeout: 30_000,
        enable_pre_vote: Some(true),
        // The state machine lives in memory and is rebuilt from snapshot +
        // log, so a restarted leader must win a vote like anyone else.
        enable_leader_restore: Some(false),
        // A member whose disk was wiped comes back with an empty log; the
        // leader refills it instead of refusing (and stalling on) it.
        allow_log_reversion: Some(true),
        ..Default::default()
    };
    cfg.validate()
        .map(Arc::new)
        .map_err(|e| Error::Config(format!("raft config: {e}")))
}

/// What a member needs to join its group.
pub struct GroupOptions {
    pub node_id: u64,
    /// Every configured member, this one included. Empty: standalone.
    pub peers: Vec<Peer>,
    pub storage: StorageOptions,
    pub tick_ms: u64,
    /// zoo.cfg syncLimit (ticks a follower may lag or be silent).
    pub sync_limit: u64,
    /// `sslQuorum` / `portUnification`: TLS on member links.
    pub peer_tls: Option<crate::tls::QuorumTls>,
    /// `quorum.auth.*`: members logging in to each other.
    pub peer_auth: QuorumAuth,
    /// `quorumListenOnAllIPs`: the peer port listens on every address (a
    /// member behind NAT, whose `server.N` address is not its own), and
    /// links leave from whichever address the system picks.
    pub listen_on_all_ips: bool,
    /// zoo.cfg `reconfigEnabled`. Off, `peers` say where each member is,
    /// as ZooKeeper reads its server lines at every start: members moved
    /// to new ports in zoo.cfg are found there. On, the replicated
    /// membership does (a `reconfig` may have moved them since).
    pub reconfig_enabled: bool,
}

/// The wildcard address with the port of `addr` ("host:port"): IPv6's if
/// the host is an IPv6 address, IPv4's otherwise.
fn all_ips(addr: &str) -> Result<String, Error> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| Error::Config(format!("{addr}: no port")))?;
    Ok(match host.starts_with('[') {
        true => format!("[::]:{port}"),
        false => format!("0.0.0.0:{port}"),
    })
}

impl Consensus {
    /// Starts a member. A standalone member (no peers) waits until it leads
    /// and has re-applied what it had committed before a restart; a member
    /// of an ensemble starts replicating and returns at once.
    pub async fn start(opts: GroupOptions, applier: Arc<dyn Applier>) -> Result<Consensus, Error> {
        let standalone = opts.peers.is_empty();
        let me = opts.peers.iter().find(|p| p.id == opts.node_id).cloned();
        if !standalone && me.is_none() {
            return Err(Error::Config(format!(
                "server.{} is not in the server list",
                opts.node_id
            )));
        }
        let my_addr = me.as_ref().and_then(|p| dial_addr(&p.spec));
        let local_ip = my_addr
            .as_ref()
            .filter(|_| !opts.listen_on_all_ips)
            .and_then(|a| a.rsplit_once(':'))
            .and_then(|(h, _)| {
                h.trim_matches(|c| c == '[' || c == ']')
                    .parse::<IpAddr>()
                    .ok()
            });
        let (acceptor, connector) = match &opts.peer_tls {
            Some(q) => (
                Some(Arc::new(crate::tls::ReloadingAcceptor::new(
                    q.settings.clone(),
                )?)),
                match q.dial_tls {
                    true => Some(Arc::new(crate::tls::ReloadingConnector::new(
                        q.settings.clone(),
                    )?)),
                    false => None,
                },
            ),
            None => (None, None),
        };
        let plain_too = opts.peer_tls.as_ref().is_some_and(|q| q.accept_plain);
        let addresses = match opts.reconfig_enabled {
            true => HashMap::new(),
            false => opts
                .peers
                .iter()
                .filter_map(|p| Some((p.id, dial_addr(&p.spec)?)))
                .collect(),
        };
        let pool = PeerPool::new(local_ip, connector)
            .with_addresses(addresses)
            .with_login(opts.peer_auth.learner.clone());
        let pool = Arc::new(pool);
        let observer: crate::storage::SyncObserver = {
            let applier = applier.clone();
            Box::new(move |took, writes| applier.fsynced(took, writes))
        };
        let outbox = Arc::new(Outbox::default());
        // The log is read while the snapshot loads: each takes a large
        // part of a restart with a big tree, and the snapshot's decode
        // leaves a core partly idle.
        let (log, sm) = std::thread::scope(|s| {
            let log = s.spawn(|| LogStore::open(&opts.storage.log_dir, Some(observer)));
            let sm = StateMachine::open(&opts.storage, applier.clone(), outbox.clone());
            let log = log.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (log, sm)
        });
        let (log, sm) = (log?, sm?);
        log.read_ahead(sm.applied_index());
        // A standalone member has no election to speed up; its lease only
        // gates its own proposals, so it keeps the old, generous one (5
        // ticks) and a slow machine (valgrind, a loaded CI) never refuses
        // a write for want of its own quorum ack.
        let sync_limit = match standalone {
            true => opts.sync_limit.max(15),
            false => opts.sync_limit,
        };
        let timing = Timing::new(opts.tick_ms, sync_limit);
        let config = raft_config(&opts.storage, timing)?;
        let listener = match &my_addr {
            Some(a) => {
                let at = match opts.listen_on_all_ips {
                    true => all_ips(a)?,
                    false => a.clone(),
                };
                let l = TcpListener::bind(&at)
                    .await
                    .map_err(|e| Error::Io(format!("cannot listen on {at}: {e}")))?;
                Some(l)
            }
            None => None,
        };
        let net = network::Network::new(pool.clone(), log.clone());
        let raft = Raft::new(opts.node_id, config.clone(), net, log.clone(), sm)
            .await
            .map_err(|e| Error::Io(format!("raft start: {e}")))?;
        let liveness = Liveness {
            standalone,
            last_append_ms: Arc::default(),
            stale_after_ms: timing.stale_after_ms(),
            epoch: std::time::Instant::now(),
        };
        let clock = LeaderClock::default();
        let forwarder = Arc::new(Forwarder::new(
            raft.clone(),
            pool.clone(),
            liveness.clone(),
            outbox,
            // A pending write may wait out a whole election after the
            // stale time; its connection is dropped sooner if no leader
            // comes (see `hold`).
            Duration::from_millis(3 * timing.stale_after_ms()),
        ));
        let cut = pool.cut();
        let peer_task = listener.map(|l| {
            let h = Arc::new(handler::Handler::new(
                raft.clone(),
                applier.clone(),
                liveness.clone(),
                clock.clone(),
                pool.clone(),
                log.clone(),
            ));
            let admission = peer::Admission {
                tls: acceptor,
                plain_too,
                auth: opts.peer_auth.clone(),
            };
            tokio::spawn(peer::serve(l, h, admission, cut))
        });
        let mut c = Consensus {
            raft,
            node_id: opts.node_id,
            standalone,
            pool,
            peer_task,
            duty_task: None,
            liveness,
            log: std::sync::Mutex::new(Some(log)),
            clock,
            forwarder,
            applier,
        };
        c.initialize(&opts.peers, me.as_ref()).await?;
        if standalone {
            c.lead_alone().await?;
        } else {
            c.duty_task = Some(tokio::spawn(handler::leader_duties(
                c.raft.clone(),
                opts.peers.clone(),
                !opts.reconfig_enabled,
            )));
            tokio::spawn(handler::stand_at_start(
                c.raft.clone(),
                c.liveness.clone(),
                Duration::from_millis(timing.heartbeat_ms),
            ));
            tokio::spawn(handler::announce_start(
                c.raft.clone(),
                c.pool.clone(),
                Duration::from_millis(timing.election_min_ms),
            ));
        }
        Ok(c)
    }

    /// Starts a one-voter group (standalone member).
    pub async fn start_standalone(
        node_id: u64,
        storage: StorageOptions,
        tick_ms: u64,
        applier: Arc<dyn Applier>,
    ) -> Result<Consensus, Error> {
        Consensus::start(
            GroupOptions {
                node_id,
                peers: vec![],
                storage,
                tick_ms,
                sync_limit: 1,
                peer_tls: None,
                peer_auth: QuorumAuth::default(),
                listen_on_all_ips: false,
                reconfig_enabled: false,
            },
            applier,
        )
        .await
    }

    /// Only the lowest-id configured voter initializes the group; every
    /// other member waits to be replicated to. A member joining later by
    /// `reconfig` therefore never starts a second history of its own.
    async fn initialize(&self, peers: &[Peer], me: Option<&Peer>) -> Result<(), Error> {
        if self
            .raft
            .is_initialized()
            .await
            .map_err(|e| Error::Io(e.to_string()))?
        {
            return Ok(());
        }
        let first_voter = peers.iter().filter(|p| !p.observer).map(|p| p.id).min();
        let voters: BTreeMap<u64, BasicNode> = if peers.is_empty() {
            BTreeMap::from([(
                self.node_id,
                BasicNode {
                    addr: String::new(),
                },
            )])
        } else if me.is_some_and(|p| p.observer) || first_voter != Some(self.node_id) {
            return Ok(());
        } else {
            let voter = |p: &Peer| {
                (
                    p.id,
                    BasicNode {
                        addr: p.spec.clone(),
                    },
                )
            };
            peers.iter().filter(|p| !p.observer).map(voter).collect()
        };
        match self.raft.initialize(voters).await {
            Ok(()) => Ok(()),
            // Another voter's initialization reached us first: fine.
            Err(e) if e.to_string().contains("NotAllowed") => Ok(()),
            Err(e) => Err(Error::Io(format!("raft init: {e}"))),
        }
    }

    /// A standalone member is its own quorum: once it leads, it stops
    /// openraft's tick, which has nothing left to do (no follower to
    /// heartbeat, no leader to miss) and would otherwise wake the member
    /// every heartbeat/5: 50 times a second at tickTime=200, a steady load
    /// on an idle embedded member (and, under valgrind, more than a core).
    async fn lead_alone(&self) -> Result<(), Error> {
        self.wait_leader(Duration::from_secs(30)).await?;
        self.raft.runtime_config().tick(false);
        Ok(())
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
    /// `submit` calls (a follower forwards them in order on one link), so a
    /// connection keeps ZooKeeper's FIFO client order with many in flight.
    /// A follower without a leader holds the write until one is known
    /// (at most `hold`).
    pub async fn submit(&self, txn: Txn) -> Result<PendingWrite, Error> {
        let pending = |rx| PendingWrite {
            raft: self.raft.clone(),
            clock: self.clock.clone(),
            rx,
        };
        if self.standalone {
            let rx = append_local(&self.raft, &self.clock, txn).await?;
            return Ok(pending(Pending::Local(rx, None)));
        }
        let tracked = |ticket| (self.forwarder.clone(), ticket);
        match self.forwarder.send(txn).await? {
            Sending::Local(ticket, txn) => {
                let rx = append_local(&self.raft, &self.clock, txn).await?;
                Ok(pending(Pending::Local(rx, Some(tracked(ticket)))))
            }
            Sending::Remote(ticket, rx) => Ok(pending(Pending::Remote(tracked(ticket), rx))),
        }
    }

    /// Replicates `txn` and waits for it (see [`PendingWrite::wait`]).
    pub async fn propose(&self, txn: Txn) -> Result<(Zxid, TxnResult), Error> {
        self.submit(txn).await?.wait().await
    }

    /// The term this member leads in, if it leads and a quorum acked it
    /// within the lease (a paused or cut-off leader has no term to act in).
    pub fn leading_term(&self) -> Option<u64> {
        if self.standalone {
            return Some(self.raft.metrics().borrow_watched().current_term);
        }
        match self.mode() {
            Mode::Leader => Some(self.raft.metrics().borrow_watched().current_term),
            _ => None,
        }
    }

    /// Proposes the close of an expired session, fenced to `term`: only
    /// this member's own log takes it (never forwarded), and it applies
    /// only if appended in `term` (see `ZkState::apply_logged`). Returns
    /// whether the session was closed.
    pub async fn expire_session(&self, session: SessionId, term: u64) -> Result<bool, Error> {
        if self.leading_term() != Some(term) {
            return Err(Error::ConnectionLoss);
        }
        let mut txn = Txn {
            session,
            owner: 0, // the leader's decision, not a client's write
            time: 0,
            auth: Arc::new([]),
            super_user: false,
            op: std::sync::Arc::new(crate::state::TxnOp::ExpireSession { term }),
        };
        self.clock.stamp(&mut txn);
        let (responder, rx) = openraft::impls::ProgressResponder::complete_only();
        self.raft
            .client_write_ff(txn, Some(responder))
            .await
            .map_err(|_| Error::ConnectionLoss)?;
        match rx.await {
            Ok(Ok(resp)) => Ok(resp.data == TxnResult::Session),
            _ => Err(Error::ConnectionLoss),
        }
    }

    /// Waits until this member has applied everything the leader had
    /// committed when the call arrived (ZooKeeper's `sync`).
    pub async fn sync(&self) -> Result<(), Error> {
        if self.standalone || self.raft.is_leader() {
            return handler::read_index(&self.raft).await.map(|_| ());
        }
        self.forwarder.sync(APPLY_WAIT).await
    }

    /// Tells the leader these sessions are alive (followers, observers).
    pub async fn touch(&self, sessions: Vec<SessionId>) {
        if sessions.is_empty() || self.standalone || self.raft.is_leader() {
            return;
        }
        if let Some(addr) = self.forwarder.leader_addr() {
            tracing::debug!(
                "touching {} session(s) on the leader at {addr}",
                sessions.len()
            );
            let sent = self
                .pool
                .client(&addr)
                .send(&PeerRequest::Touch(sessions))
                .await;
            if let Err(e) = sent {
                tracing::debug!("touch not sent: {e}");
            }
        }
    }

    /// Changes the membership as ZooKeeper's `reconfig` does and returns
    /// the zxid at which the new configuration applied here.
    pub async fn reconfig(&self, change: Reconfig) -> Result<(Vec<u8>, crate::types::Stat), Error> {
        if self.standalone {
            return Err(Error::ReconfigDisabled);
        }
        let local = || self.applier.config_node().ok_or(Error::SystemError);
        if self.raft.is_leader() {
            handler::reconfig(&self.raft, change).await?;
            return local();
        }
        let addr = self.forwarder.leader_addr().ok_or(Error::ConnectionLoss)?;
        let resp = self
            .pool
            .client(&addr)
            .call(&PeerRequest::Reconfig(change), RECONFIG_WAIT)
            .await;
        match resp {
            Ok(PeerResponse::Reconfig(Ok((index, data, stat)))) => {
                // A member the change removed never applies it: it answers
                // with the leader's view; the others answer once they
                // applied it, like any forwarded write.
                let me = format!("server.{}=", self.node_id);
                if !String::from_utf8_lossy(&data)
                    .lines()
                    .any(|l| l.starts_with(&me))
                {
                    return Ok((data, stat));
                }
                wait_applied(&self.raft, index).await?;
                local()
            }
            Ok(PeerResponse::Reconfig(Err(code))) => {
                Err(Error::from_code(code).unwrap_or(Error::SystemError))
            }
            _ => Err(Error::ConnectionLoss),
        }
    }

    pub fn is_leader(&self) -> bool {
        self.raft.is_leader()
    }

    /// Drops the connection to the leader this member last forwarded to,
    /// discarding what is queued on it. Called when this member loses its
    /// leader: a write stuck in a partitioned connection must not reach
    /// that leader later; its writes settle once a new leader is known.
    /// Cuts this member off from the other members, or heals it (the
    /// in-process ensembles' partition, for tests).
    pub async fn set_cut(&self, on: bool) {
        self.pool.set_cut(on).await;
    }

    pub async fn reset_leader_link(&self) {
        self.forwarder.reset_leader_link().await;
    }

    /// How long a member without a leader keeps its clients before it
    /// lets them go elsewhere: the stale time (a third of what a pending
    /// write may wait for its fate).
    pub fn hold(&self) -> Duration {
        self.forwarder.hold / 3
    }

    /// This member's role now.
    pub fn mode(&self) -> Mode {
        self.liveness.mode(&self.raft)
    }

    /// Changes whenever the role or leader changes (servers watch it to
    /// re-arm sessions on election and to drop clients without a leader).
    pub fn watch_mode(&self) -> tokio::sync::watch::Receiver<Mode> {
        let (tx, rx) = tokio::sync::watch::channel(self.mode());
        let mut metrics = self.raft.metrics();
        let raft = self.raft.clone();
        let liveness = self.liveness.clone();
        tokio::spawn(async move {
            loop {
                // Metrics changes, plus a tick: a silent leader shows only
                // as the absence of appends.
                tokio::select! {
                    changed = metrics.changed() => if changed.is_err() { return },
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
                let mode = liveness.mode(&raft);
                tx.send_if_modified(|old| std::mem::replace(old, mode) != mode);
                if tx.is_closed() {
                    return;
                }
            }
        });
        rx
    }

    /// Followers and observers that replicate from this leader, and how
    /// many are caught up (for `mntr`).
    pub fn replication_summary(&self) -> Option<ReplicationSummary> {
        let m = self.raft.metrics().borrow_watched().clone();
        let repl = m.replication.as_ref()?;
        let membership = m.membership_config.membership();
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        let last = m.last_log_index.unwrap_or(0);
        let mut s = ReplicationSummary {
            quorum_size: voters.len() as u64 / 2 + 1,
            ..Default::default()
        };
        for (id, matched) in repl.iter() {
            if *id == self.node_id {
                continue;
            }
            let synced = matched.as_ref().is_some_and(|l| l.index + 100 >= last);
            if voters.contains(id) {
                s.followers += 1;
                s.synced_followers += synced as u64;
            } else {
                s.observers += 1;
                s.synced_observers += synced as u64;
            }
        }
        Some(s)
    }

    /// Where replication stands on this member, for the admin commands and
    /// the metrics: the leader it knows, the term (ZooKeeper's epoch), its
    /// log and apply positions and, on a leader, how far each member's
    /// copy of the log is behind.
    pub fn status(&self) -> Status {
        let m = self.raft.metrics().borrow_watched().clone();
        let last = m.last_log_index.unwrap_or(0);
        let learner_lag = m.replication.as_ref().map_or_else(Vec::new, |r| {
            r.iter()
                .filter(|(id, _)| **id != self.node_id)
                .map(|(id, matched)| {
                    (
                        *id,
                        last - matched.as_ref().map_or(0, |l| l.index).min(last),
                    )
                })
                .collect()
        });
        Status {
            leader: m.current_leader,
            term: m.current_term,
            last_log_index: last,
            last_applied: m.last_applied.as_ref().map_or(0, |l| l.index),
            learner_lag,
        }
    }

    /// Builds a snapshot now (tests and tools).
    pub async fn snapshot_now(&self) -> Result<(), Error> {
        self.raft
            .trigger()
            .snapshot()
            .await
            .map_err(|e| Error::Io(e.to_string()))
    }

    pub async fn shutdown(&self) {
        for t in [&self.peer_task, &self.duty_task].into_iter().flatten() {
            t.abort();
        }
        let _ = self.raft.shutdown().await;
        self.forwarder.outbox.applied.close();
        self.pool.close_all().await;
        let log = crate::lock(&self.log).take();
        if let Some(log) = log {
            log.close(Duration::from_secs(10)).await;
        }
    }
}

/// Leader's view of its followers for `mntr`.
#[derive(Debug, Clone, Default)]
pub struct ReplicationSummary {
    pub followers: u64,
    pub synced_followers: u64,
    pub observers: u64,
    pub synced_observers: u64,
    pub quorum_size: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::{Membership, StoredMembership};

    /// A voter that heard from the leader before the membership entry
    /// reached it reported "observer" for a moment at a new ensemble's start.
    #[test]
    fn a_learner_is_an_observer_only_once_the_membership_lists_it() {
        let mut m = openraft::RaftMetrics::<TypeConfig>::new_initial(2);
        m.state = ServerState::Learner;
        m.current_leader = Some(1);
        assert_eq!(mode_of(&m, false, false), Mode::Looking);
        let node = || BasicNode {
            addr: String::new(),
        };
        let nodes = BTreeMap::from([(1, node()), (2, node())]);
        let membership = Membership::new(vec![BTreeSet::from([1])], nodes).unwrap();
        m.membership_config = Arc::new(StoredMembership::new(None, membership));
        assert_eq!(mode_of(&m, false, false), Mode::Observer);
        assert_eq!(mode_of(&m, true, false), Mode::Looking);
        m.state = ServerState::Follower;
        assert_eq!(mode_of(&m, false, false), Mode::Follower);
    }
}
