//! The member's shared core: the applied state, the watch registry and the
//! sink of every client connection, under one lock. Applying an entry,
//! firing its watches and queueing their events happen in one critical
//! section, and reads register their watches in one too, so no event is
//! lost between a read and its watch, and an event is always queued before
//! any reply that could reflect a later state.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::config::Config;
use crate::consensus::Applier;
use crate::session::SessionTracker;
use crate::state::{Txn, TxnOp, TxnResult, ZkState};
use crate::types::{SessionId, WatchedEvent, Zxid};
use crate::watch::WatchRegistry;

/// One client connection of this member (also its watcher id).
pub type ConnId = u64;

/// What the core pushes to a connection outside the request/reply flow.
#[derive(Debug)]
pub enum Outbound {
    /// A watch event caused by the entry at `zxid`.
    Event { zxid: Zxid, event: WatchedEvent },
    /// The session ended (expired, or reopened elsewhere): close the socket.
    Close,
}

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
    pub tx: UnboundedSender<Outbound>,
    pub peer: SocketAddr,
    pub stats: Arc<ConnStats>,
}

/// Everything under the core lock.
pub struct Inner {
    pub state: ZkState,
    pub watches: WatchRegistry,
    pub conns: HashMap<ConnId, ConnEntry>,
    pub session_conn: HashMap<SessionId, ConnId>,
}

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
}

impl Stats {
    pub fn record_latency(&self, started: Instant) {
        let us = started.elapsed().as_micros() as u64;
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_total_us.fetch_add(us, Ordering::Relaxed);
        self.latency_max_us.fetch_max(us, Ordering::Relaxed);
        let min = self.latency_min_us.load(Ordering::Relaxed);
        if min == 0 || us < min {
            self.latency_min_us.store(us.max(1), Ordering::Relaxed);
        }
    }

    pub fn record_proposal(&self, bytes: usize) {
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
    }
}

pub struct MemberCore {
    inner: Mutex<Inner>,
    tracker: Mutex<SessionTracker>,
    epoch: Instant,
    next_session: AtomicI64,
    /// Sessions heard from since the last touch sent to the leader.
    touched: Mutex<Vec<SessionId>>,
    pub stats: Stats,
    pub config: Arc<Config>,
    pub started: Instant,
}

impl MemberCore {
    pub fn new(config: Arc<Config>) -> MemberCore {
        let inner = Inner {
            state: ZkState::new(),
            watches: WatchRegistry::new(),
            conns: HashMap::new(),
            session_conn: HashMap::new(),
        };
        MemberCore {
            inner: Mutex::new(inner),
            tracker: Mutex::new(SessionTracker::new(config.tick_time as u64)),
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

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn tracker(&self) -> MutexGuard<'_, SessionTracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
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
        self.tracker().touch(session, self.now_ms());
        self.touched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(session);
    }

    /// Sessions touched since the last call (deduplicated).
    pub fn take_touched(&self) -> Vec<SessionId> {
        let mut v = std::mem::take(&mut *self.touched.lock().unwrap_or_else(|p| p.into_inner()));
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
            let _ = c.tx.send(Outbound::Close);
        }
    }

    /// Drops the read-only sessions (a leader is back: they must return
    /// as normal sessions).
    pub fn close_read_only_connections(&self) {
        for c in self.lock().conns.values() {
            if c.stats.read_only.load(Ordering::Relaxed) {
                let _ = c.tx.send(Outbound::Close);
            }
        }
    }

    pub fn last_zxid(&self) -> Zxid {
        self.lock().state.last_zxid
    }

    fn deliver(inner: &mut Inner, zxid: Zxid, txn_triggers: Vec<crate::state::Trigger>) {
        for (path, ev) in txn_triggers {
            for (watcher, event) in inner.watches.trigger(&path, ev) {
                if let Some(c) = inner.conns.get(&watcher) {
                    let _ = c.tx.send(Outbound::Event { zxid, event });
                }
            }
        }
    }

    /// Session bookkeeping after an entry: the tracker follows the
    /// replicated session table; a session closed by anyone but its own
    /// client loses its connection.
    fn after_session_change(&self, inner: &mut Inner, txn: &Txn, result: &TxnResult) {
        if matches!(result, TxnResult::Failed(_)) {
            return;
        }
        match &txn.op {
            TxnOp::CreateSession { timeout, .. } => {
                self.tracker()
                    .add(txn.session, *timeout as u64, self.now_ms());
            }
            TxnOp::CloseSession | TxnOp::ExpireSession { .. } => {
                self.tracker().remove(txn.session);
                if let Some(conn) = inner.session_conn.remove(&txn.session) {
                    if let Some(c) = inner.conns.get(&conn) {
                        if !c.stats.closing.load(Ordering::Relaxed) {
                            let _ = c.tx.send(Outbound::Close);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn initial_session_id(server_id: u64) -> SessionId {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    (((now_ms << 24) >> 8) | ((server_id & 0xff) << 56)) as SessionId
}

impl Applier for MemberCore {
    fn apply(&self, zxid: Zxid, term: u64, txn: &Txn) -> TxnResult {
        let mut inner = self.lock();
        let applied = inner.state.apply_logged(zxid, term, txn);
        Self::deliver(&mut inner, zxid, applied.triggers);
        self.after_session_change(&mut inner, txn, &applied.result);
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
        Self::deliver(&mut inner, zxid, triggers);
    }

    fn config_node(&self) -> Option<(Vec<u8>, crate::types::Stat)> {
        let inner = self.lock();
        inner
            .state
            .tree
            .get_data(crate::state::CONFIG_NODE)
            .ok()
            .map(|(d, s)| (d.to_vec(), s))
    }

    fn restore(&self, state: ZkState) {
        let now = self.now_ms();
        let mut tracker = self.tracker();
        for (id, s) in state.sessions.iter() {
            tracker.add(*id, s.timeout as u64, now);
        }
        self.lock().state = state;
    }
}
