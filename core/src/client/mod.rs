//! The zkrs client: speaks ZooKeeper's client protocol to any ensemble
//! (zkrs or Apache ZooKeeper). It owns the host list and chroot, the
//! session (connect, reconnect with lastZxidSeen, expiry), pipelined
//! requests, the client-side watch tables and their ordered delivery, and
//! auth re-sent after reconnects; plus [`blocking`], the synchronous facade
//! the C, Python and Node bindings wrap.
//!
//! It must not know server internals: only `proto` (bytes), `types` and
//! `Error`. No binding-specific logic lives here, and user callbacks never
//! run on the socket task.
//!
//! - [`Client`]: the async API (one background task owns the socket).
//! - `conn`: that task. `dispatch`: the event thread running callbacks.
//! - `watches`: the watch tables. `hosts`: connect string and chroot.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zkrs::Error> {
//! use zkrs::client::{Client, ClientOptions};
//! use zkrs::{Acl, CreateMode};
//! let zk = Client::connect("127.0.0.1:2181/app", ClientOptions::default()).await?;
//! zk.create("/x", b"hello", &Acl::open_unsafe(), CreateMode::Persistent).await?;
//! let (data, stat) = zk.get_data("/x", None).await?;
//! # Ok(()) }
//! ```

pub mod blocking;
mod conn;
mod dispatch;
mod faults;
mod hosts;
mod retry;
mod watches;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::proto::{self, MultiOp, Request, Response};
use crate::types::{Acl, CreateMode, KeeperState, Stat, WatchedEvent};
use crate::Error;
use conn::{Command, Packet, WatchReg};
use dispatch::{Dispatcher, Job, Listeners};
pub use hosts::chroot_of;
use hosts::{Chroot, ConnectString};
use watches::WatchTables;

pub use crate::watch::WatcherType;
pub use dispatch::StateListener;
pub use retry::RetryPolicy;
pub use watches::Watcher;

/// The connector for `ClientOptions::tls`; why it failed goes to the log
/// too (C callers see only a result code).
fn tls_connector(t: &crate::tls::ClientTls) -> Result<crate::tls::Dialer, Error> {
    t.connector()
        .inspect_err(|e| tracing::warn!("TLS settings: {e}"))
}

/// Wraps a closure as a [`Watcher`].
pub fn watcher(f: impl Fn(WatchedEvent) + Send + Sync + 'static) -> Watcher {
    Arc::new(f)
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Requested session timeout; the server clamps it (see
    /// [`Client::negotiated_timeout`]).
    pub session_timeout: Duration,
    /// How long [`Client::connect`] waits for the first session, and the
    /// limit on each TCP connect + handshake attempt.
    pub connect_timeout: Duration,
    /// Accept a read-only server (ZooKeeper's canBeReadOnly).
    pub read_only: bool,
    /// (scheme, credentials) sent right after every (re)connect, as
    /// `add_auth` would, e.g. `("digest", b"user:password")`.
    pub auth: Vec<(String, Vec<u8>)>,
    /// Resume this session (id, password) instead of opening a new one
    /// (kazoo's `client_id`); if the server no longer knows it, `connect`
    /// fails with SessionExpired.
    pub resume: Option<(i64, Vec<u8>)>,
    /// Try the hosts in a random order (ZooKeeper's and kazoo's default),
    /// or in the order given.
    pub randomize_hosts: bool,
    /// After the session expires, open a new one (kazoo's behaviour):
    /// listeners hear Expired, then Connecting and Connected; calls made
    /// meanwhile wait for the new session. Off: Expired is final.
    pub renew_expired: bool,
    /// The longest a call waits for its reply, then fails with
    /// RequestTimeout (ZooKeeper's `zookeeper.request.timeout`); the
    /// request may still take effect. `None`: as long as the session lives.
    pub request_timeout: Option<Duration>,
    /// Connect over TLS (the servers' `secureClientPort`).
    pub tls: Option<crate::tls::ClientTls>,
    /// Log in with SASL DIGEST-MD5 on every connection (a member's JAAS
    /// users); a refusal ends the session as AuthFailed.
    pub sasl: Option<crate::sasl::SaslClient>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            session_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            read_only: false,
            auth: Vec::new(),
            resume: None,
            randomize_hosts: true,
            renew_expired: false,
            request_timeout: None,
            tls: None,
            sasl: None,
        }
    }
}

/// `[3, 8, 4]` from an `envi` answer's `zookeeper.version=3.8.4-...`.
fn parse_version(envi: &str) -> Option<Vec<u32>> {
    let value = envi
        .lines()
        .find_map(|l| l.trim().strip_prefix("zookeeper.version="))?;
    let digits = value.split(['-', ',', ' ']).next()?;
    digits.split('.').map(|d| d.parse().ok()).collect()
}

/// The session as the client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// Before the first session is established.
    Connecting,
    Connected,
    ConnectedReadOnly,
    /// Connection lost; reconnecting with the same session.
    Disconnected,
    /// The server said the session is gone. Terminal.
    Expired,
    /// `close()` finished (or every handle was dropped). Terminal.
    Closed,
    /// The server rejected an auth packet. Terminal.
    AuthFailed,
}

impl SessionState {
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            SessionState::Connected | SessionState::ConnectedReadOnly
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionState::Expired | SessionState::Closed | SessionState::AuthFailed
        )
    }

    /// The error every call gets once the session is in this state
    /// (ZooKeeper's `ClientCnxn.conLossPacket`).
    fn terminal_error(self) -> Option<Error> {
        match self {
            SessionState::Expired | SessionState::Closed => Some(Error::SessionExpired),
            SessionState::AuthFailed => Some(Error::AuthFailed),
            _ => None,
        }
    }

    /// The KeeperState a session event carries for this state.
    pub fn keeper_state(self) -> KeeperState {
        match self {
            SessionState::Connecting | SessionState::Disconnected => KeeperState::Disconnected,
            SessionState::Connected => KeeperState::SyncConnected,
            SessionState::ConnectedReadOnly => KeeperState::ConnectedReadOnly,
            SessionState::Expired => KeeperState::Expired,
            SessionState::Closed => KeeperState::Closed,
            SessionState::AuthFailed => KeeperState::AuthFailed,
        }
    }
}

/// addWatch modes (ZooDefs.AddWatchModes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddWatchMode {
    /// Data and child events on the path; stays after firing.
    Persistent = 0,
    /// Data events on the path and all descendants; stays after firing.
    PersistentRecursive = 1,
}

/// One operation of a [`Client::multi`] transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Any mode but the TTL ones (use `CreateTtl`).
    /// `data` `None` is null data.
    Create {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
    },
    CreateTtl {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
        ttl_ms: i64,
    },
    Delete {
        path: String,
        version: i32,
    },
    SetData {
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    },
    Check {
        path: String,
        version: i32,
    },
}

impl Op {
    pub fn create(path: &str, data: &[u8], acl: &[Acl], mode: CreateMode) -> Op {
        Op::Create {
            path: path.into(),
            data: Some(data.to_vec()),
            acl: acl.to_vec(),
            mode,
        }
    }
    pub fn delete(path: &str, version: i32) -> Op {
        Op::Delete {
            path: path.into(),
            version,
        }
    }
    pub fn set_data(path: &str, data: &[u8], version: i32) -> Op {
        Op::SetData {
            path: path.into(),
            data: Some(data.to_vec()),
            version,
        }
    }
    pub fn check(path: &str, version: i32) -> Op {
        Op::Check {
            path: path.into(),
            version,
        }
    }

    fn into_wire(self, chroot: &Chroot) -> Result<MultiOp, Error> {
        Ok(match self {
            Op::Create {
                path,
                data,
                acl,
                mode,
            } => {
                validate(&path, mode.is_sequential())?;
                if mode.is_ttl() {
                    return Err(Error::BadArguments);
                }
                let req = proto::CreateRequest {
                    path: chroot.prepend(&path),
                    data,
                    acl,
                    flags: mode.flag(),
                };
                if mode.is_container() {
                    MultiOp::CreateContainer(req)
                } else {
                    MultiOp::Create2(req)
                }
            }
            Op::CreateTtl {
                path,
                data,
                acl,
                mode,
                ttl_ms,
            } => {
                validate(&path, mode.is_sequential())?;
                if !mode.is_ttl() {
                    return Err(Error::BadArguments);
                }
                MultiOp::CreateTTL(proto::CreateTTLRequest {
                    path: chroot.prepend(&path),
                    data,
                    acl,
                    flags: mode.flag(),
                    ttl: ttl_ms,
                })
            }
            Op::Delete { path, version } => {
                validate(&path, false)?;
                MultiOp::Delete(proto::DeleteRequest {
                    path: chroot.prepend(&path),
                    version,
                })
            }
            Op::SetData {
                path,
                data,
                version,
            } => {
                validate(&path, false)?;
                MultiOp::SetData(proto::SetDataRequest {
                    path: chroot.prepend(&path),
                    data,
                    version,
                })
            }
            Op::Check { path, version } => {
                validate(&path, false)?;
                MultiOp::Check(proto::CheckVersionRequest {
                    path: chroot.prepend(&path),
                    version,
                })
            }
        })
    }
}

/// The outcome of one [`Op`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    Create {
        path: String,
        stat: Option<Stat>,
    },
    Delete,
    SetData {
        stat: Stat,
    },
    Check,
    /// In a failed transaction: the op that failed carries its error; ops
    /// before it report `Ok` (code 0 has no `Error`, so it is `None`) and
    /// ops after it `RuntimeInconsistency`, as ZooKeeper reports them.
    Error {
        err: Option<Error>,
    },
}

/// Session facts after the handshake.
#[derive(Debug, Clone)]
struct SessionInfo {
    id: i64,
    passwd: Vec<u8>,
    timeout: Duration,
    /// The server of the current (or last) connection, "host:port".
    host: String,
}

/// What the handles, the connection task and the event thread share.
pub(crate) struct Shared {
    chroot: Chroot,
    watches: Mutex<WatchTables>,
    dispatcher: Dispatcher,
    /// Call order for `call_in_order`'s outcomes.
    in_order: dispatch::Sequencer,
    state: watch::Sender<SessionState>,
    state_events: broadcast::Sender<SessionState>,
    session: Mutex<SessionInfo>,
    listeners: Listeners,
    next_listener: AtomicU64,
    renew_expired: bool,
    request_timeout: Option<Duration>,
}

impl Shared {
    fn watches(&self) -> MutexGuard<'_, WatchTables> {
        crate::lock(&self.watches)
    }

    /// Publishes a state change to `state()`, subscribers and listeners.
    fn set_state(&self, s: SessionState) {
        // The listener list is locked across the change so a listener added
        // by someone who saw the new state is not told about it again.
        let listeners = crate::lock(&self.listeners);
        let changed = self.state.send_if_modified(|cur| {
            let changed = *cur != s;
            *cur = s;
            changed
        });
        if changed {
            let ls = listeners.iter().map(|(_, l)| l.clone()).collect();
            drop(listeners);
            let _ = self.state_events.send(s);
            self.dispatcher.push(Job::State(s, ls));
        }
    }

    fn state(&self) -> SessionState {
        *self.state.borrow()
    }
}

fn validate(path: &str, sequential: bool) -> Result<(), Error> {
    crate::tree::validate_path(path, sequential)
}

/// An async ZooKeeper client. Cheap to clone; every clone drives the same
/// session. When the last clone is dropped the session is closed.
#[derive(Clone)]
pub struct Client {
    cmds: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("session_id", &format_args!("{:#x}", self.session_id()))
            .field("state", &self.state())
            .finish()
    }
}

impl Client {
    /// Connects to one of `hosts` ("h1:p1,h2:p2[/chroot]") and waits for
    /// the session (up to `opts.connect_timeout`). Must be called inside a
    /// tokio runtime; the connection task lives there.
    pub async fn connect(hosts: &str, opts: ClientOptions) -> Result<Client, Error> {
        let cs = ConnectString::parse(hosts)?;
        let mut hosts = cs.hosts;
        if opts.randomize_hosts {
            use rand::seq::SliceRandom;
            hosts.shuffle(&mut rand::rng());
        }
        let rt = tokio::runtime::Handle::current();
        let listeners: Listeners = Arc::new(Mutex::new(Vec::new()));
        let dispatcher = Dispatcher::start(rt.clone())?;
        let (state, mut state_rx) = watch::channel(SessionState::Connecting);
        let (state_events, _) = broadcast::channel(64);
        let shared = Arc::new(Shared {
            chroot: cs.chroot,
            watches: Mutex::new(WatchTables::default()),
            dispatcher,
            in_order: dispatch::Sequencer::default(),
            state,
            state_events,
            session: Mutex::new(SessionInfo {
                id: 0,
                passwd: vec![0; 16],
                timeout: opts.session_timeout,
                host: String::new(),
            }),
            renew_expired: opts.renew_expired,
            request_timeout: opts.request_timeout,
            listeners,
            next_listener: AtomicU64::new(1),
        });
        let (cmds, cmd_rx) = mpsc::unbounded_channel();
        let has_auth = !opts.auth.is_empty();
        let settings = conn::Settings {
            hosts,
            session_timeout: opts.session_timeout,
            connect_timeout: opts.connect_timeout,
            read_only: opts.read_only,
            auth: opts.auth,
            resume: opts.resume,
            renew_expired: opts.renew_expired,
            tls: opts.tls.as_ref().map(tls_connector).transpose()?,
            sasl: opts.sasl.clone(),
        };
        rt.spawn(conn::Task::new(shared.clone(), cmd_rx, settings).run());
        let client = Client { cmds, shared };
        let ready = tokio::time::timeout(
            opts.connect_timeout,
            state_rx.wait_for(|s| *s != SessionState::Connecting),
        )
        .await
        .map(|r| r.is_ok());
        match ready {
            Ok(true) => {}
            // Dropping `client` ends the task.
            _ => return Err(Error::ConnectionLoss),
        }
        if let Some(e) = client.state().terminal_error() {
            return Err(e);
        }
        if has_auth {
            // The auth packets went first; one round trip tells whether
            // the server took them (a failure ends the session).
            client.exists("/", None).await?;
        }
        Ok(client)
    }

    /// The session id (0 before the first handshake).
    pub fn session_id(&self) -> i64 {
        self.session_info().id
    }

    /// The 16-byte session password.
    pub fn session_password(&self) -> Vec<u8> {
        self.session_info().passwd
    }

    /// The timeout the server granted.
    pub fn negotiated_timeout(&self) -> Duration {
        self.session_info().timeout
    }

    /// The server ("host:port") of the current connection, or of the
    /// last one while reconnecting; empty before the first.
    pub fn server(&self) -> String {
        self.session_info().host
    }

    fn session_info(&self) -> SessionInfo {
        crate::lock(&self.shared.session).clone()
    }

    pub fn state(&self) -> SessionState {
        self.shared.state()
    }

    /// Sends a four-letter word (`"ruok"`, `"envi"`, ...) to the server
    /// this session last connected to and returns its answer (kazoo's
    /// `command`). Needs the word allowed by `4lw.commands.whitelist`.
    pub async fn four_letter_word(&self, word: &str) -> Result<String, Error> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.session_info().host;
        if host.is_empty() {
            return Err(Error::ConnectionLoss);
        }
        let answer = async {
            let mut s = tokio::net::TcpStream::connect(&host).await?;
            s.write_all(word.as_bytes()).await?;
            let mut out = Vec::new();
            s.read_to_end(&mut out).await?;
            Ok::<_, Error>(out)
        };
        let out = tokio::time::timeout(Duration::from_secs(10), answer)
            .await
            .map_err(|_| Error::OperationTimeout)??;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The connected server's version from its `envi` answer
    /// (`zookeeper.version=3.8.4-...` gives `[3, 8, 4]`). An answer that
    /// does not parse (a four-letter word's answer can come cut short) is
    /// asked again up to `retries` times (kazoo's `server_version`), then
    /// MarshallingError.
    pub async fn server_version(&self, retries: u32) -> Result<Vec<u32>, Error> {
        for _ in 0..retries {
            if let Some(v) = parse_version(&self.four_letter_word("envi").await?) {
                return Ok(v);
            }
        }
        let envi = self.four_letter_word("envi").await?;
        parse_version(&envi).ok_or(Error::MarshallingError)
    }

    /// The chroot of the connect string this client was made with ("" for
    /// none).
    pub fn chroot(&self) -> &str {
        self.shared.chroot.as_str()
    }

    /// A new session follows an expired one ([`ClientOptions::renew_expired`]).
    pub fn renews_sessions(&self) -> bool {
        self.shared.renew_expired
    }

    /// Every state change from now on (a lagging receiver loses the
    /// oldest; [`Client::state`] is always current).
    pub fn subscribe_state(&self) -> broadcast::Receiver<SessionState> {
        self.shared.state_events.subscribe()
    }

    /// A receiver that always holds the current state; `wait_for` on it
    /// waits for a state without missing one that is already there.
    pub fn state_receiver(&self) -> watch::Receiver<SessionState> {
        self.shared.state.subscribe()
    }

    /// Calls `listener` on the event thread for each state change, in
    /// order with watch events. Returns an id for `remove_state_listener`.
    pub fn add_state_listener(&self, listener: StateListener) -> u64 {
        let id = self.shared.next_listener.fetch_add(1, Ordering::Relaxed);
        crate::lock(&self.shared.listeners).push((id, listener));
        id
    }

    /// True if the listener was registered.
    pub fn remove_state_listener(&self, id: u64) -> bool {
        let mut ls = crate::lock(&self.shared.listeners);
        let before = ls.len();
        ls.retain(|(i, _)| *i != id);
        ls.len() != before
    }

    /// The error a call gets when the connection task is gone or dropped
    /// its reply.
    fn gone(&self) -> Error {
        self.state()
            .terminal_error()
            .unwrap_or(Error::ConnectionLoss)
    }

    /// Drives `fut` (calls on this client) and hands its outcome to `then`
    /// on the event thread, in wire order with watch events and the other
    /// replies, as the official C client's completion thread does: a reply
    /// that follows a watch event on the wire runs after that event's
    /// watchers, and one that precedes it runs before them. Requests `fut`
    /// sends first go out before this returns (call order); `then` never
    /// runs inside this call.
    pub fn call_in_order<F>(&self, fut: F, then: impl FnOnce(F::Output) + Send + 'static)
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        dispatch::InOrder::start(self.shared.clone(), fut, Box::new(then));
    }

    async fn call(
        &self,
        req: Request,
        watch: Option<(WatchReg, String, Watcher)>,
    ) -> Result<Response, Error> {
        if let Some(e) = self.state().terminal_error() {
            return Err(e);
        }
        let (tx, mut rx) = oneshot::channel();
        // Wait on the reply before it can come, so whoever drives this
        // future is woken by the reply's own completion (`call_in_order`).
        std::future::poll_fn(|cx| {
            let _ = std::future::Future::poll(std::pin::Pin::new(&mut rx), cx);
            std::task::Poll::Ready(())
        })
        .await;
        let p = Packet {
            req,
            reply: tx,
            watch,
            direct: dispatch::on_event_thread(),
            queued_at: Instant::now(),
        };
        if self.cmds.send(Command::Request(p)).is_err() {
            return Err(self.gone());
        }
        let reply = match self.shared.request_timeout {
            Some(t) => tokio::time::timeout(t, rx)
                .await
                .map_err(|_| Error::RequestTimeout)?,
            None => rx.await,
        };
        reply.unwrap_or_else(|_| Err(self.gone()))
    }

    fn server_path(&self, path: &str, sequential: bool) -> Result<String, Error> {
        validate(path, sequential)?;
        Ok(self.shared.chroot.prepend(path))
    }

    fn client_path(&self, path: &str) -> String {
        self.shared.chroot.strip(path)
    }

    /// Creates a znode; returns its path (with the sequence suffix).
    pub async fn create(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
    ) -> Result<String, Error> {
        if mode.is_ttl() {
            return Err(Error::BadArguments);
        }
        if mode.is_container() {
            return self.create_container(path, data, acl).await.map(|(p, _)| p);
        }
        let req = proto::CreateRequest {
            path: self.server_path(path, mode.is_sequential())?,
            data: Some(data.to_vec()),
            acl: acl.to_vec(),
            flags: mode.flag(),
        };
        match self.call(Request::Create(req), None).await? {
            Response::Create(r) => Ok(self.client_path(&r.path)),
            _ => Err(Error::MarshallingError),
        }
    }

    /// Creates a znode and returns its path and Stat (create2).
    pub async fn create2(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
    ) -> Result<(String, Stat), Error> {
        self.create_node(path, Some(data), acl, mode, None).await
    }

    /// Creates a TTL znode (`mode` must be one of the TTL modes).
    pub async fn create_ttl(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
        ttl_ms: i64,
    ) -> Result<(String, Stat), Error> {
        self.create_node(path, Some(data), acl, mode, Some(ttl_ms))
            .await
    }

    /// Creates a znode of any mode and returns its path and Stat: a TTL
    /// mode with `ttl_ms` (None for the others; a mismatch is
    /// BadArguments). `data` `None` is null data, which reads back as null
    /// from [`Client::get_data_or_null`] (and as empty from `get_data`).
    /// The one entry for callers that take the mode as data.
    pub async fn create_node(
        &self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        mode: CreateMode,
        ttl_ms: Option<i64>,
    ) -> Result<(String, Stat), Error> {
        if mode.is_ttl() != ttl_ms.is_some() {
            return Err(Error::BadArguments);
        }
        let path = self.server_path(path, mode.is_sequential())?;
        let (data, acl, flags) = (data.map(<[u8]>::to_vec), acl.to_vec(), mode.flag());
        let req = match ttl_ms {
            Some(ttl) => Request::CreateTTL(proto::CreateTTLRequest {
                path,
                data,
                acl,
                flags,
                ttl,
            }),
            None => {
                let req = proto::CreateRequest {
                    path,
                    data,
                    acl,
                    flags,
                };
                if mode.is_container() {
                    Request::CreateContainer(req)
                } else {
                    Request::Create2(req)
                }
            }
        };
        self.create_reply(req).await
    }

    /// Creates a container znode.
    pub async fn create_container(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
    ) -> Result<(String, Stat), Error> {
        self.create_node(path, Some(data), acl, CreateMode::Container, None)
            .await
    }

    async fn create_reply(&self, req: Request) -> Result<(String, Stat), Error> {
        match self.call(req, None).await? {
            Response::Create2(r) => Ok((self.client_path(&r.path), r.stat)),
            _ => Err(Error::MarshallingError),
        }
    }

    /// Creates `path` and every missing ancestor as empty persistent
    /// znodes (kazoo's `ensure_path`, `create(makepath=True)`). Nodes that
    /// already exist are left as they are.
    pub async fn ensure_path(&self, path: &str, acl: &[Acl]) -> Result<(), Error> {
        // Deepest first, as kazoo does: one create when the parent is there
        // (the usual case); on NoNode the parents are made, root-most first.
        // Under a chroot "/" is the chroot's own node, made like any other.
        let mut missing = vec![path.to_string()];
        while let Some(p) = missing.last() {
            if p == "/" && self.shared.chroot.is_root() {
                missing.pop();
                continue;
            }
            match self.create(p, b"", acl, CreateMode::Persistent).await {
                Ok(_) | Err(Error::NodeExists) => {
                    missing.pop();
                }
                Err(Error::NoNode) if p != "/" => {
                    let parent = match p.rfind('/') {
                        Some(0) | None => "/".to_string(),
                        Some(i) => p[..i].to_string(),
                    };
                    missing.push(parent);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Deletes `path` and everything below it, deepest first (kazoo's
    /// `delete(recursive=True)`). Not atomic: a node created meanwhile
    /// makes it fail with NotEmpty. A missing node is not an error; the
    /// root and ZooKeeper's own nodes are left in place.
    pub async fn delete_recursive(&self, path: &str) -> Result<(), Error> {
        // Depth-first listing, then deletion in reverse (children first).
        let mut order = Vec::new();
        let mut stack = vec![path.to_string()];
        while let Some(p) = stack.pop() {
            let children = match self.get_children(&p, None).await {
                Ok(ch) => ch,
                Err(Error::NoNode) => continue,
                Err(e) => return Err(e),
            };
            let base = if p == "/" { String::new() } else { p.clone() };
            stack.extend(children.into_iter().map(|c| format!("{base}/{c}")));
            order.push(p);
        }
        for p in order.into_iter().rev() {
            match self.delete(&p, -1).await {
                Ok(()) | Err(Error::NoNode) => {}
                Err(Error::BadArguments) if crate::tree::is_special_path(&p) || p == "/" => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Deletes a znode; `version` -1 matches any.
    pub async fn delete(&self, path: &str, version: i32) -> Result<(), Error> {
        let req = proto::DeleteRequest {
            path: self.server_path(path, false)?,
            version,
        };
        self.call(Request::Delete(req), None).await.map(|_| ())
    }

    /// The node's Stat, or `None` if it does not exist. A watcher is
    /// registered either way (NodeCreated fires on a missing node).
    pub async fn exists(&self, path: &str, watch: Option<Watcher>) -> Result<Option<Stat>, Error> {
        let req = proto::ExistsRequest {
            path: self.server_path(path, false)?,
            watch: watch.is_some(),
        };
        let w = watch.map(|w| (WatchReg::Exists, path.to_string(), w));
        match self.call(Request::Exists(req), w).await {
            Ok(Response::Exists(r)) => Ok(Some(r.stat)),
            Ok(_) => Err(Error::MarshallingError),
            Err(Error::NoNode) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The data (null data reads as empty; see `get_data_or_null`).
    pub async fn get_data(
        &self,
        path: &str,
        watch: Option<Watcher>,
    ) -> Result<(Vec<u8>, Stat), Error> {
        let (data, stat) = self.get_data_or_null(path, watch).await?;
        Ok((data.unwrap_or_default(), stat))
    }

    /// The data, `None` if the node's data is null (created or set with
    /// no data, as ZooKeeper keeps apart from empty).
    pub async fn get_data_or_null(
        &self,
        path: &str,
        watch: Option<Watcher>,
    ) -> Result<(Option<Vec<u8>>, Stat), Error> {
        let req = proto::GetDataRequest {
            path: self.server_path(path, false)?,
            watch: watch.is_some(),
        };
        let w = watch.map(|w| (WatchReg::Data, path.to_string(), w));
        match self.call(Request::GetData(req), w).await? {
            Response::GetData(r) => Ok((r.data, r.stat)),
            _ => Err(Error::MarshallingError),
        }
    }

    /// Sets the data; `version` -1 matches any. Returns the new Stat.
    pub async fn set_data(&self, path: &str, data: &[u8], version: i32) -> Result<Stat, Error> {
        self.set_data_or_null(path, Some(data), version).await
    }

    /// Sets the data, `None` for null data; `version` -1 matches any.
    pub async fn set_data_or_null(
        &self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
    ) -> Result<Stat, Error> {
        let req = proto::SetDataRequest {
            path: self.server_path(path, false)?,
            data: data.map(<[u8]>::to_vec),
            version,
        };
        match self.call(Request::SetData(req), None).await? {
            Response::SetData(r) => Ok(r.stat),
            _ => Err(Error::MarshallingError),
        }
    }

    pub async fn get_children(
        &self,
        path: &str,
        watch: Option<Watcher>,
    ) -> Result<Vec<String>, Error> {
        let req = proto::GetChildrenRequest {
            path: self.server_path(path, false)?,
            watch: watch.is_some(),
        };
        let w = watch.map(|w| (WatchReg::Child, path.to_string(), w));
        match self.call(Request::GetChildren(req), w).await? {
            Response::GetChildren(r) => Ok(r.children),
            _ => Err(Error::MarshallingError),
        }
    }

    pub async fn get_children2(
        &self,
        path: &str,
        watch: Option<Watcher>,
    ) -> Result<(Vec<String>, Stat), Error> {
        let req = proto::GetChildren2Request {
            path: self.server_path(path, false)?,
            watch: watch.is_some(),
        };
        let w = watch.map(|w| (WatchReg::Child, path.to_string(), w));
        match self.call(Request::GetChildren2(req), w).await? {
            Response::GetChildren2(r) => Ok((r.children, r.stat)),
            _ => Err(Error::MarshallingError),
        }
    }

    pub async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat), Error> {
        let req = proto::GetACLRequest {
            path: self.server_path(path, false)?,
        };
        match self.call(Request::GetAcl(req), None).await? {
            Response::GetAcl(r) => Ok((r.acl, r.stat)),
            _ => Err(Error::MarshallingError),
        }
    }

    /// Replaces the ACL; `version` is the expected aversion (-1 any).
    pub async fn set_acl(&self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, Error> {
        let req = proto::SetACLRequest {
            path: self.server_path(path, false)?,
            acl: acl.to_vec(),
            version,
        };
        match self.call(Request::SetAcl(req), None).await? {
            Response::SetAcl(r) => Ok(r.stat),
            _ => Err(Error::MarshallingError),
        }
    }

    /// Runs `ops` atomically. If any op fails, returns that op's error
    /// (the first failing one); see [`Client::multi_results`] for all.
    pub async fn multi(&self, ops: Vec<Op>) -> Result<Vec<OpResult>, Error> {
        let results = self.multi_results(ops).await?;
        for r in &results {
            if let OpResult::Error { err: Some(e) } = r {
                return Err(e.clone());
            }
        }
        Ok(results)
    }

    /// Runs `ops` atomically and returns every op's result, failed ones
    /// as `OpResult::Error` (`Err` only when the whole request failed).
    pub async fn multi_results(&self, ops: Vec<Op>) -> Result<Vec<OpResult>, Error> {
        let chroot = &self.shared.chroot;
        let wire = ops
            .into_iter()
            .map(|op| op.into_wire(chroot))
            .collect::<Result<Vec<_>, _>>()?;
        match self.call(Request::Multi(wire), None).await? {
            Response::Multi(results) => Ok(results
                .into_iter()
                .map(|r| match r {
                    proto::OpResult::Create { path, stat } => OpResult::Create {
                        path: self.client_path(&path),
                        stat,
                    },
                    proto::OpResult::Delete => OpResult::Delete,
                    proto::OpResult::SetData { stat } => OpResult::SetData { stat },
                    proto::OpResult::Check => OpResult::Check,
                    proto::OpResult::Error { err } => OpResult::Error {
                        err: Error::from_code(err),
                    },
                    // Only multiRead answers these.
                    proto::OpResult::GetData { .. } | proto::OpResult::GetChildren { .. } => {
                        OpResult::Error {
                            err: Some(Error::MarshallingError),
                        }
                    }
                })
                .collect()),
            _ => Err(Error::MarshallingError),
        }
    }

    /// Waits until the server this client talks to has caught up with the
    /// leader as of this call.
    pub async fn sync(&self, path: &str) -> Result<(), Error> {
        let req = proto::SyncRequest {
            path: self.server_path(path, false)?,
        };
        self.call(Request::Sync(req), None).await.map(|_| ())
    }

    /// Adds a persistent (optionally recursive) watch; it stays after
    /// firing until removed.
    pub async fn add_watch(
        &self,
        path: &str,
        mode: AddWatchMode,
        watcher: Watcher,
    ) -> Result<(), Error> {
        let req = proto::AddWatchRequest {
            path: self.server_path(path, false)?,
            mode: mode as i32,
        };
        let kind = match mode {
            AddWatchMode::Persistent => WatchReg::Persistent,
            AddWatchMode::PersistentRecursive => WatchReg::Recursive,
        };
        self.call(
            Request::AddWatch(req),
            Some((kind, path.to_string(), watcher)),
        )
        .await
        .map(|_| ())
    }

    /// Removes every watcher of `wtype` on `path` (ZooKeeper's
    /// removeAllWatches); each removed watcher gets a *WatchRemoved event.
    /// With `local`, the local watchers go even if the server cannot be
    /// told (no connection).
    pub async fn remove_watches(
        &self,
        path: &str,
        wtype: WatcherType,
        local: bool,
    ) -> Result<(), Error> {
        let server_path = self.server_path(path, false)?;
        if !self.shared.watches().contains(path, wtype) {
            return Err(Error::NoWatcher);
        }
        if !local || self.state().is_connected() {
            let req = proto::RemoveWatchesRequest {
                path: server_path,
                type_: wtype.code(),
            };
            match self.call(Request::RemoveWatches(req), None).await {
                Ok(_) => {}
                Err(_) if local => {}
                Err(e) => return Err(e),
            }
        }
        let removed = self.shared.watches().remove(path, wtype)?;
        for (w, kind) in removed {
            let ev = WatchedEvent {
                event_type: kind,
                state: KeeperState::SyncConnected,
                path: path.to_string(),
            };
            self.shared.dispatcher.push(Job::Event(vec![w], ev));
        }
        Ok(())
    }

    /// The number of descendants of `path` (not counting itself).
    pub async fn get_all_children_number(&self, path: &str) -> Result<i32, Error> {
        let req = proto::GetAllChildrenNumberRequest {
            path: self.server_path(path, false)?,
        };
        match self.call(Request::GetAllChildrenNumber(req), None).await? {
            Response::GetAllChildrenNumber(r) => Ok(r.total_number),
            _ => Err(Error::MarshallingError),
        }
    }

    /// This session's ephemeral nodes whose path starts with `prefix`.
    pub async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let req = proto::GetEphemeralsRequest {
            prefix_path: self.shared.chroot.prepend(prefix),
        };
        match self.call(Request::GetEphemerals(req), None).await? {
            Response::GetEphemerals(r) => {
                Ok(r.ephemerals.iter().map(|p| self.client_path(p)).collect())
            }
            _ => Err(Error::MarshallingError),
        }
    }

    /// Adds credentials to the session (also re-sent after reconnects).
    /// A rejected auth ends the session (state AuthFailed), as in
    /// ZooKeeper. While disconnected it returns once queued.
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<(), Error> {
        if let Some(e) = self.state().terminal_error() {
            return Err(e);
        }
        let (done, rx) = oneshot::channel();
        let cmd = Command::AddAuth {
            scheme: scheme.to_string(),
            auth: auth.to_vec(),
            done,
        };
        if self.cmds.send(cmd).is_err() {
            return Err(self.gone());
        }
        rx.await.unwrap_or_else(|_| Err(self.gone()))
    }

    /// Changes the ensemble's membership (ZooKeeper's `reconfigure`):
    /// incremental with `joining` ("server.N=spec,...") and/or `leaving`
    /// ("N,..."), or the whole membership with `new_members`; `None` is
    /// "not given". `from_config` is the config version it applies to (-1:
    /// any). Returns the new configuration text and its Stat. Needs the
    /// super user (or WRITE on /zookeeper/config) and `reconfigEnabled`.
    pub async fn reconfig(
        &self,
        joining: Option<&str>,
        leaving: Option<&str>,
        new_members: Option<&str>,
        from_config: i64,
    ) -> Result<(Vec<u8>, Stat), Error> {
        let req = proto::ReconfigRequest {
            joining_servers: joining.map(str::to_string),
            leaving_servers: leaving.map(str::to_string),
            new_members: new_members.map(str::to_string),
            cur_config_id: from_config,
        };
        match self.call(Request::Reconfig(req), None).await? {
            Response::GetData(r) => Ok((r.data.unwrap_or_default(), r.stat)),
            _ => Err(Error::MarshallingError),
        }
    }

    /// The identities the server holds for this session: (scheme, id).
    pub async fn who_am_i(&self) -> Result<Vec<(String, String)>, Error> {
        match self.call(Request::WhoAmI, None).await? {
            Response::WhoAmI(r) => Ok(r
                .client_info
                .into_iter()
                .map(|c| (c.auth_scheme, c.user))
                .collect()),
            _ => Err(Error::MarshallingError),
        }
    }

    /// Closes the session (ephemerals go at once) and the socket. Calls
    /// after this fail with SessionExpired, as in ZooKeeper.
    pub async fn close(&self) -> Result<(), Error> {
        if self.state().is_terminal() {
            return Ok(());
        }
        let (done, rx) = oneshot::channel();
        if self.cmds.send(Command::Close(done)).is_err() {
            return Ok(());
        }
        rx.await.unwrap_or(Ok(()))
    }

    /// Waits until the state satisfies `pred` or `limit` passes; returns
    /// the state then.
    pub async fn wait_for_state(
        &self,
        limit: Duration,
        pred: impl FnMut(&SessionState) -> bool,
    ) -> SessionState {
        let mut rx = self.state_receiver();
        let _ = tokio::time::timeout(limit, async { rx.wait_for(pred).await.is_ok() }).await;
        self.state()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn version_from_envi() {
        let zkrs = "Environment:\nzookeeper.version=3.8.4-zkrs-0.1.0, built on x\nhost.name=h\n";
        assert_eq!(parse_version(zkrs), Some(vec![3, 8, 4]));
        let apache = "Environment:\nzookeeper.version=3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022\n";
        assert_eq!(parse_version(apache), Some(vec![3, 8, 0]));
        assert_eq!(parse_version("Environment:\nhost.name=h\n"), None);
        assert_eq!(parse_version("zookeeper.version=x.y"), None);
    }
}
