//! The one owner of a member's applied state (ZooKeeper's ZKDatabase plus
//! the delivery half of its final request stage): the replicated state, the
//! watch registry, the session tracker and the sink of every client
//! connection. `consensus` drives it (apply, restore, snapshot) through
//! [`Applier`]; `server` reads it and registers connections through the
//! narrow API below; nothing else locks the state.
//!
//! Applying an entry, firing its watches and queueing their events happen
//! in one critical section, and a read registers its watch in one too, so
//! no event is lost between a read and its watch, and an event is always
//! queued before any reply that could reflect a later state. Once the lock
//! is let go, the events go to idle connections' sockets (see [`EventQueue`]).

mod event_queue;
mod summary;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;

use crate::config::Config;
use crate::consensus::Applier;
use crate::session::{LocalSessions, SessionTracker};
use crate::state::{Txn, TxnOp, TxnResult, ZkState};
use crate::types::{SessionId, Zxid};
use crate::watch::WatchRegistry;
pub use event_queue::{EventQueue, Events, Sent};
pub use summary::{Summary, SummarySnapshot};

/// One client connection of this member (also its watcher id).
pub type ConnId = u64;

/// Per-connection counters, shown by `cons`.
#[derive(Debug, Default)]
pub struct ConnStats {
    pub received: AtomicU64,
    pub sent: AtomicU64,
    pub session: AtomicI64,
    pub timeout: AtomicI64,
    pub last_zxid: AtomicI64,
    /// Set when the client itself asked to close its session, so the
    /// close is answered instead of cut.
    pub closing: AtomicBool,
    /// A read-only session (served without a quorum).
    pub read_only: AtomicBool,
}

pub struct ConnEntry {
    /// Its watch events, and the way to close it (its session ended).
    pub queue: Arc<EventQueue>,
    pub peer: SocketAddr,
    pub stats: Arc<ConnStats>,
}

/// Everything under the lock.
struct Inner {
    state: ZkState,
    watches: WatchRegistry,
    conns: HashMap<ConnId, ConnEntry>,
    session_conn: HashMap<SessionId, ConnId>,
}

/// The client opcodes timed one by one.
const TIMED_OPS: [i32; 24] = {
    use crate::proto::op::*;
    [
        CREATE,
        DELETE,
        EXISTS,
        GET_DATA,
        SET_DATA,
        GET_ACL,
        SET_ACL,
        GET_CHILDREN,
        SYNC,
        GET_CHILDREN2,
        CHECK,
        MULTI,
        CREATE2,
        RECONFIG,
        CHECK_WATCHES,
        REMOVE_WATCHES,
        CREATE_CONTAINER,
        CREATE_TTL,
        MULTI_READ,
        GET_EPHEMERALS,
        GET_ALL_CHILDREN_NUMBER,
        ADD_WATCH,
        WHO_AM_I,
        CLOSE_SESSION,
    ]
};

/// Service-wide counters for `srvr`, `stat` and `mntr`.
#[derive(Debug, Default)]
pub struct Stats {
    pub packets_received: AtomicU64,
    pub packets_sent: AtomicU64,
    pub outstanding: AtomicI64,
    pub latency_count: AtomicU64,
    pub latency_total_us: AtomicU64,
    pub latency_min_us: AtomicU64,
    pub latency_max_us: AtomicU64,
    /// Sizes of write requests handed to replication (bytes); -1 before any.
    pub proposal_last: AtomicI64,
    pub proposal_min: AtomicI64,
    pub proposal_max: AtomicI64,
    /// ZooKeeper's `readlatency` and `updatelatency` summaries.
    pub read_latency: Summary,
    pub update_latency: Summary,
    /// Latency per opcode (`request_latency{op=...}` in Prometheus), in
    /// the order of [`TIMED_OPS`]; the last slot takes any other opcode.
    per_op: [Summary; TIMED_OPS.len() + 1],
    /// Entries applied (ZooKeeper's `commit_count`).
    pub commit_count: AtomicU64,
    /// Times this member lost its leader and looked for one
    /// (ZooKeeper's `looking_count`).
    pub looking_count: AtomicU64,
    /// From losing a leader to having one again (`election_time`).
    pub election_time: Summary,
    /// Writes this member handed to replication (`proposal_count`).
    pub proposal_count: AtomicU64,
    /// Client handshakes (`connection_request_count`).
    pub connection_request_count: AtomicU64,
    /// Request bytes from clients, frames included (`bytes_received_count`).
    pub bytes_received_count: AtomicU64,
    /// Reply and event bytes to clients (`response_bytes`).
    pub response_bytes: AtomicU64,
    /// Connections refused by maxClientCnxns (`connection_rejected`).
    pub connection_rejected: AtomicU64,
    /// Connections closed before or at the handshake: unreadable connect
    /// request, refused session (`unsuccessful_handshake`).
    pub unsuccessful_handshake: AtomicU64,
    /// Watchers fired per event, by event type
    /// (`node_created_watch_count`, ...).
    pub node_created_watch_count: Summary,
    pub node_deleted_watch_count: Summary,
    pub node_changed_watch_count: Summary,
    pub node_children_watch_count: Summary,
    /// Time without a leader to serve with (`unavailable_time`).
    pub unavailable_time: Summary,
    /// Writing a snapshot (`snapshottime`).
    pub snapshot_time: Summary,
    /// Loading the newest snapshot at start (`startup_snap_load_time`).
    pub startup_snap_load_time: Summary,
    /// Failed authentications: an unsupported auth scheme, a failed SASL
    /// exchange (`auth_failed_count`).
    pub auth_failed_count: AtomicU64,
    /// Sessions this member expired while leading (`stale_sessions_expired`).
    pub stale_sessions_expired: AtomicU64,
    /// When this member's current leadership began (`leader_uptime`).
    leading_since: std::sync::Mutex<Option<Instant>>,
    /// Each group fsync of the log (`fsynctime`).
    pub fsync_time: Summary,
    /// Flushes one group fsync made durable (`sync_processor_batch_size`).
    pub sync_batch_size: Summary,
}

impl Stats {
    /// Every summary `mntr` and `/metrics` report, with ZooKeeper's name
    /// for it and a line of help: the one list both read.
    pub fn summaries(&self) -> [(&'static str, &'static str, &Summary); 12] {
        [
            (
                "readlatency",
                "read request latency, ms",
                &self.read_latency,
            ),
            (
                "updatelatency",
                "update request latency, ms",
                &self.update_latency,
            ),
            (
                "election_time",
                "from losing a leader to having one, ms",
                &self.election_time,
            ),
            (
                "unavailable_time",
                "time without a leader to serve with, ms",
                &self.unavailable_time,
            ),
            (
                "node_created_watch_count",
                "watchers fired per NodeCreated",
                &self.node_created_watch_count,
            ),
            (
                "node_deleted_watch_count",
                "watchers fired per NodeDeleted",
                &self.node_deleted_watch_count,
            ),
            (
                "node_changed_watch_count",
                "watchers fired per NodeDataChanged",
                &self.node_changed_watch_count,
            ),
            (
                "node_children_watch_count",
                "watchers fired per NodeChildrenChanged",
                &self.node_children_watch_count,
            ),
            (
                "snapshottime",
                "writing a snapshot, ms",
                &self.snapshot_time,
            ),
            (
                "startup_snap_load_time",
                "loading the newest snapshot at start, ms",
                &self.startup_snap_load_time,
            ),
            (
                "fsynctime",
                "one group fsync of the log, ms",
                &self.fsync_time,
            ),
            (
                "sync_processor_batch_size",
                "log flushes made durable by one group fsync",
                &self.sync_batch_size,
            ),
        ]
    }

    /// When this member's current leadership began, if it leads.
    pub fn leading_since(&self) -> Option<Instant> {
        *crate::lock(&self.leading_since)
    }

    pub fn set_leading_since(&self, since: Option<Instant>) {
        *crate::lock(&self.leading_since) = since;
    }

    /// One answered request: the server-wide figures, its read or update
    /// summary and its opcode's. Lock-free: every request passes here.
    pub fn record_request(&self, started: Instant, opcode: i32, write: bool) {
        let us = started.elapsed().as_micros() as u64;
        self.record_us(us);
        match write {
            true => self.update_latency.observe_us(us),
            false => self.read_latency.observe_us(us),
        }
        let slot = TIMED_OPS
            .iter()
            .position(|op| *op == opcode)
            .unwrap_or(TIMED_OPS.len());
        self.per_op[slot].observe_us(us);
    }

    /// Each opcode's latency so far, by ZooKeeper's name for it (only
    /// opcodes seen).
    pub fn per_op(&self) -> Vec<(&'static str, SummarySnapshot)> {
        let names = TIMED_OPS.iter().map(|op| crate::proto::op::name(*op));
        names
            .chain(["other"])
            .zip(&self.per_op)
            .map(|(name, s)| (name, s.snapshot()))
            .filter(|(_, s)| s.count > 0)
            .collect()
    }

    fn record_us(&self, us: u64) {
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_total_us.fetch_add(us, Ordering::Relaxed);
        self.latency_max_us.fetch_max(us, Ordering::Relaxed);
        let min = self.latency_min_us.load(Ordering::Relaxed);
        if min == 0 || us < min {
            self.latency_min_us.store(us.max(1), Ordering::Relaxed);
        }
    }

    pub fn record_proposal(&self, bytes: usize) {
        self.proposal_count.fetch_add(1, Ordering::Relaxed);
        let b = bytes as i64;
        self.proposal_last.store(b, Ordering::Relaxed);
        self.proposal_max.fetch_max(b, Ordering::Relaxed);
        let min = self.proposal_min.load(Ordering::Relaxed);
        if min < 0 || b < min {
            self.proposal_min.store(b, Ordering::Relaxed);
        }
    }

    pub fn reset(&self) {
        for a in [
            &self.packets_received,
            &self.packets_sent,
            &self.latency_count,
            &self.latency_total_us,
        ] {
            a.store(0, Ordering::Relaxed);
        }
        self.latency_min_us.store(0, Ordering::Relaxed);
        self.latency_max_us.store(0, Ordering::Relaxed);
        for (_, _, s) in self.summaries() {
            s.reset();
        }
        for s in &self.per_op {
            s.reset();
        }
    }
}

pub struct ZkDatabase {
    inner: Mutex<Inner>,
    tracker: Mutex<SessionTracker>,
    /// This member's local sessions (`localSessionsEnabled`). Lock order:
    /// the state, then the tracker, then these.
    local: Mutex<LocalSessions>,
    epoch: Instant,
    next_session: AtomicI64,
    /// Sessions heard from since the last touch sent to the leader.
    touched: Mutex<Vec<SessionId>>,
    pub stats: Stats,
    pub config: Arc<Config>,
    pub started: Instant,
}

impl ZkDatabase {
    pub fn new(config: Arc<Config>) -> ZkDatabase {
        let inner = Inner {
            state: ZkState::new(),
            watches: WatchRegistry::new(),
            conns: HashMap::new(),
            session_conn: HashMap::new(),
        };
        ZkDatabase {
            inner: Mutex::new(inner),
            tracker: Mutex::new(SessionTracker::new(config.tick_time as u64)),
            local: Mutex::new(LocalSessions::new(config.tick_time as u64)),
            epoch: Instant::now(),
            next_session: AtomicI64::new(initial_session_id(config.server_id.unwrap_or(0))),
            touched: Mutex::new(Vec::new()),
            stats: Stats {
                proposal_last: AtomicI64::new(-1),
                proposal_min: AtomicI64::new(-1),
                proposal_max: AtomicI64::new(-1),
                ..Stats::default()
            },
            config,
            started: Instant::now(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        crate::lock(&self.inner)
    }

    fn tracker(&self) -> MutexGuard<'_, SessionTracker> {
        crate::lock(&self.tracker)
    }

    fn local(&self) -> MutexGuard<'_, LocalSessions> {
        crate::lock(&self.local)
    }

    /// Opens a session only this member knows.
    pub fn add_local_session(&self, id: SessionId, timeout: i32, passwd: Vec<u8>) {
        self.local().add(id, timeout, passwd, self.now_ms());
    }

    /// A local session's timeout and password, if `id` is one of ours.
    pub fn local_session(&self, id: SessionId) -> Option<(i32, Vec<u8>)> {
        self.local().get(id)
    }

    /// Forgets a local session (closed by its client, or now global).
    pub fn remove_local_session(&self, id: SessionId) -> bool {
        self.local().remove(id)
    }

    /// Expires the local sessions past their deadline: they are forgotten
    /// and their connections closed, so their clients hear the session
    /// expired when they come back. Returns how many.
    pub fn expire_local_sessions(&self) -> usize {
        let due = self.local().take_expired(self.now_ms());
        if due.is_empty() {
            return 0;
        }
        let inner = self.lock();
        for id in &due {
            tracing::info!("local session {id:#x} expired");
            let conn = inner.session_conn.get(id).and_then(|c| inner.conns.get(c));
            if let Some(c) = conn {
                c.queue.close();
            }
        }
        due.len()
    }

    /// Runs `f` on the applied state (ACL checks, four-letter words).
    pub fn view<R>(&self, f: impl FnOnce(&ZkState) -> R) -> R {
        f(&self.lock().state)
    }

    /// Runs a read: `f` sees the applied state and registers its watches
    /// in the same critical section. Returns its result and the zxid the
    /// read saw.
    pub fn read<R>(&self, f: impl FnOnce(&ZkState, &mut WatchRegistry) -> R) -> (R, Zxid) {
        let mut inner = self.lock();
        let Inner { state, watches, .. } = &mut *inner;
        let out = f(state, watches);
        (out, state.last_zxid)
    }

    /// The replicated record of a session, if it is open.
    pub fn session(&self, id: SessionId) -> Option<crate::state::Session> {
        self.lock().state.sessions.get(&id).cloned()
    }

    /// Registers a client connection as the one serving `session` (a
    /// connection that served it before is closed: the session moved).
    /// False, and nothing registered, if `session` is replicated and no
    /// longer open: a close from another connection applied after the
    /// handshake looked, and would never reach this connection.
    pub fn register(
        &self,
        conn: ConnId,
        session: SessionId,
        entry: ConnEntry,
        replicated: bool,
    ) -> bool {
        let mut inner = self.lock();
        if replicated && !inner.state.sessions.contains_key(&session) {
            return false;
        }
        if let Some(old) = inner.session_conn.insert(session, conn) {
            if let Some(c) = inner.conns.get(&old) {
                c.queue.close();
            }
        }
        inner.conns.insert(conn, entry);
        true
    }

    /// Forgets a closed connection and its watches.
    pub fn unregister(&self, conn: ConnId, session: SessionId) {
        let mut inner = self.lock();
        inner.conns.remove(&conn);
        inner.watches.remove_watcher(conn);
        if inner.session_conn.get(&session) == Some(&conn) {
            inner.session_conn.remove(&session);
        }
    }

    /// The connection of a client of this member resuming its session:
    /// the session is alive as of now, here.
    pub fn resumed(&self, session: SessionId) {
        let now = self.now_ms();
        if !self.local().touch(session, now) {
            self.tracker().touch(session, now);
        }
    }

    /// Sessions past their deadline (leader); each is handed out once.
    pub fn take_expired(&self) -> Vec<SessionId> {
        let now = self.now_ms();
        self.tracker().take_expired(now)
    }

    /// `crst`: zeroes every connection's counters.
    pub fn reset_conn_stats(&self) {
        for c in self.lock().conns.values() {
            c.stats.received.store(0, Ordering::Relaxed);
            c.stats.sent.store(0, Ordering::Relaxed);
        }
    }

    /// Fills the four-letter words' picture of the state, the watches and
    /// the connections.
    pub fn describe(&self, info: &mut crate::fourlw::ServerInfo) {
        let inner = self.lock();
        let tree = &inner.state.tree;
        info.zxid = inner.state.last_zxid;
        // ZooKeeper's count includes the root twice; match what tools expect.
        info.node_count = tree.node_count() as u64 + 1;
        info.ephemerals_count = tree.ephemeral_count() as u64;
        info.approximate_data_size = tree.approximate_data_size().max(0) as u64;
        let local = self.local().len() as u64;
        info.session_count = inner.state.sessions.len() as u64 + local;
        info.local_session_count = local;
        info.sessions_with_ephemerals = tree.all_ephemerals();
        info.watch_count = inner.watches.count() as u64;
        let session_of = |conn: &u64| {
            inner
                .conns
                .get(conn)
                .map(|c| c.stats.session.load(Ordering::Relaxed))
                .unwrap_or(0)
        };
        info.watches_by_connection = inner
            .watches
            .by_watcher()
            .into_iter()
            .map(|(c, p)| (session_of(&c), p))
            .collect();
        info.watches_by_path = inner
            .watches
            .by_path()
            .into_iter()
            .map(|(p, cs)| (p, cs.iter().map(session_of).collect()))
            .collect();
        info.connections = inner
            .conns
            .values()
            .map(|c| crate::fourlw::ConnInfo {
                peer: c.peer,
                received: c.stats.received.load(Ordering::Relaxed),
                sent: c.stats.sent.load(Ordering::Relaxed),
                session_id: c.stats.session.load(Ordering::Relaxed),
                timeout_ms: c.stats.timeout.load(Ordering::Relaxed) as i32,
                last_zxid: c.stats.last_zxid.load(Ordering::Relaxed),
                ..Default::default()
            })
            .collect();
    }

    /// Milliseconds on this member's monotonic clock (session liveness).
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A session id no other session of this member had: ZooKeeper's
    /// layout (server id in the top byte, time-seeded counter below).
    pub fn new_session_id(&self) -> SessionId {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// A client of this member was heard from.
    pub fn touch(&self, session: SessionId) {
        let now = self.now_ms();
        if self.local().touch(session, now) {
            return; // nobody else needs to hear of it
        }
        self.tracker().touch(session, now);
        crate::lock(&self.touched).push(session);
    }

    /// Sessions touched since the last call (deduplicated).
    pub fn take_touched(&self) -> Vec<SessionId> {
        let mut v = std::mem::take(&mut *crate::lock(&self.touched));
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Every replicated session gets a full timeout from now (a new
    /// leader does not know when followers last heard from them).
    pub fn rearm_sessions(&self) {
        let now = self.now_ms();
        let sessions: Vec<(SessionId, i32)> = self
            .lock()
            .state
            .sessions
            .iter()
            .map(|(id, s)| (*id, s.timeout))
            .collect();
        let mut tracker = self.tracker();
        for (id, timeout) in sessions {
            tracker.add(id, timeout as u64, now);
        }
    }

    /// An expiry that did not close its session (fenced out, leadership
    /// lost, or the session is gone): if the session still exists, it is
    /// tried again a tick from now (a new leader re-arms it anyway).
    pub fn retry_expiry(&self, session: SessionId) {
        let Some(timeout) = self
            .lock()
            .state
            .sessions
            .get(&session)
            .map(|_| self.config.tick_time)
        else {
            self.tracker().remove(session);
            return;
        };
        self.tracker().add(session, timeout as u64, self.now_ms());
    }

    /// Drops every client connection (no leader: clients must move).
    pub fn close_all_connections(&self) {
        for c in self.lock().conns.values() {
            c.queue.close();
        }
    }

    /// Drops the read-only sessions (a leader is back: they must return
    /// as normal sessions).
    pub fn close_read_only_connections(&self) {
        for c in self.lock().conns.values() {
            if c.stats.read_only.load(Ordering::Relaxed) {
                c.queue.close();
            }
        }
    }

    pub fn last_zxid(&self) -> Zxid {
        self.lock().state.last_zxid
    }

    /// Queues the events of one applied entry on their connections, and
    /// returns those connections, to be written to once the lock is let go.
    fn deliver(
        &self,
        inner: &mut Inner,
        zxid: Zxid,
        txn_triggers: Vec<crate::state::Trigger>,
    ) -> Vec<Arc<EventQueue>> {
        let mut woken = Vec::new();
        for (path, ev) in txn_triggers {
            let (watchers, event) = inner.watches.trigger(&path, ev);
            if watchers.is_empty() {
                continue;
            }
            self.count_fired(ev, watchers.len());
            // Every watcher of one change gets the same bytes, encoded once.
            let frame = Bytes::from(crate::proto::frame::encode_notification(&event));
            for watcher in watchers {
                if let Some(c) = inner.conns.get(&watcher) {
                    c.queue.push(zxid, frame.clone());
                    woken.push(c.queue.clone());
                }
            }
        }
        woken
    }

    /// Sends queued events outside the lock, so reads go on meanwhile.
    fn send_events(&self, woken: Vec<Arc<EventQueue>>) {
        let mut sent = Sent::default();
        for queue in woken {
            let s = queue.send_queued();
            sent.frames += s.frames;
            sent.bytes += s.bytes;
        }
        let st = &self.stats;
        st.packets_sent.fetch_add(sent.frames, Ordering::Relaxed);
        st.response_bytes.fetch_add(sent.bytes, Ordering::Relaxed);
    }

    /// ZooKeeper's per-event-type summaries of how many watchers fired,
    /// taken as it takes them: only for a change that fired one or more.
    fn count_fired(&self, ev: crate::types::EventType, n: usize) {
        use crate::types::EventType as E;
        let st = &self.stats;
        let summary = match ev {
            E::NodeCreated => &st.node_created_watch_count,
            E::NodeDeleted => &st.node_deleted_watch_count,
            E::NodeDataChanged => &st.node_changed_watch_count,
            E::NodeChildrenChanged => &st.node_children_watch_count,
            _ => return,
        };
        summary.observe_count(n as u64);
    }

    /// Session bookkeeping after an entry: the tracker follows the
    /// replicated session table; a session closed by anyone but its own
    /// client loses its connection.
    fn after_session_change(&self, inner: &mut Inner, txn: &Txn, result: &TxnResult) {
        if matches!(result, TxnResult::Failed(_)) {
            return;
        }
        match &*txn.op {
            TxnOp::CreateSession { timeout, .. } => {
                self.tracker()
                    .add(txn.session, *timeout as u64, self.now_ms());
            }
            TxnOp::CloseSession | TxnOp::ExpireSession { .. } => {
                self.tracker().remove(txn.session);
                if let Some(conn) = inner.session_conn.remove(&txn.session) {
                    if let Some(c) = inner.conns.get(&conn) {
                        if !c.stats.closing.load(Ordering::Relaxed) {
                            c.queue.close();
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn initial_session_id(server_id: u64) -> SessionId {
    let now_ms = crate::types::wall_clock_ms().max(0) as u64;
    (((now_ms << 24) >> 8) | ((server_id & 0xff) << 56)) as SessionId
}

impl Applier for ZkDatabase {
    fn apply(&self, zxid: Zxid, term: u64, txn: &Txn) -> TxnResult {
        self.stats.commit_count.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        let applied = inner.state.apply_logged(zxid, term, txn);
        let woken = self.deliver(&mut inner, zxid, applied.triggers);
        self.after_session_change(&mut inner, txn, &applied.result);
        drop(inner);
        self.send_events(woken);
        applied.result
    }

    fn advance(&self, zxid: Zxid) {
        self.lock().state.last_zxid = zxid;
    }

    fn snapshot(&self) -> ZkState {
        self.lock().state.clone()
    }

    fn touched(&self, sessions: &[SessionId]) {
        let now = self.now_ms();
        let mut tracker = self.tracker();
        for s in sessions {
            tracker.touch(*s, now);
        }
    }

    fn config_changed(&self, zxid: Zxid, text: String) {
        let mut inner = self.lock();
        let triggers = inner.state.set_config(zxid, &text);
        let woken = self.deliver(&mut inner, zxid, triggers);
        drop(inner);
        self.send_events(woken);
    }

    fn timed(&self, step: crate::consensus::Timed, took: std::time::Duration) {
        let summary = match step {
            crate::consensus::Timed::Snapshot => &self.stats.snapshot_time,
            crate::consensus::Timed::StartupSnapshotLoad => &self.stats.startup_snap_load_time,
        };
        summary.observe_us(took.as_micros() as u64);
    }

    fn fsynced(&self, took: std::time::Duration, flushes: usize) {
        self.stats.fsync_time.observe_us(took.as_micros() as u64);
        self.stats.sync_batch_size.observe_count(flushes as u64);
    }

    fn config_node(&self) -> Option<(Vec<u8>, crate::types::Stat)> {
        let inner = self.lock();
        inner
            .state
            .tree
            .get_data(crate::state::CONFIG_NODE)
            .ok()
            .map(|(d, s)| (d.map_or_else(Vec::new, |d| d.to_vec()), s))
    }

    fn restore(&self, state: ZkState) {
        // Lock order everywhere: the state, then the tracker.
        let now = self.now_ms();
        let mut inner = self.lock();
        let mut tracker = self.tracker();
        for (id, s) in state.sessions.iter() {
            tracker.add(*id, s.timeout as u64, now);
        }
        inner.state = state;
    }
}
