//! zkrs's peer protocol, on the peer port of `server.N`. Frames are
//! `[u32 length][u64 request id][bincode body]`; many requests are in flight
//! on one connection (pipelined) and replies carry the id of their request.
//! It carries openraft's RPCs and what followers ask of the leader:
//! forwarded writes, read indexes (`sync`) and session touches.
//!
//! A member binds its outgoing connections to its own configured address,
//! so tests can give members distinct loopback addresses and cut the link
//! between any two.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::tls::ReloadingConnector;
use futures::future::{poll_fn, BoxFuture};
use futures::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::tls::{opens_with_client_hello, ReloadingAcceptor};

mod auth;
pub use auth::QuorumAuth;
use tokio::sync::{mpsc, oneshot};

use super::log_store::{decode, encode_any};
use super::TypeConfig;
use crate::state::{Txn, TxnResult};
use crate::types::{SessionId, Zxid};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::type_config::alias::{SnapshotMetaOf, VoteOf};

type C = TypeConfig;

/// Largest peer frame (a snapshot travels in one frame).
const MAX_FRAME: usize = 1 << 30;

#[derive(Serialize, Deserialize)]
pub enum PeerRequest {
    Append(AppendEntriesRequest<C>),
    Vote(VoteRequest<C>),
    PreVote(VoteRequest<C>),
    Snapshot {
        vote: VoteOf<C>,
        meta: SnapshotMetaOf<C>,
        data: Vec<u8>,
    },
    /// A write a follower's client sent, for the leader of `term`, on the
    /// follower's `link`; the leader proposes it.
    Forward {
        txn: Txn,
        term: u64,
        link: super::forward::Link,
    },
    /// The leader's commit index after confirming it still leads.
    ReadIndex,
    /// Retires the follower's older links, waits until no write that came
    /// on one is still pending, then answers as `ReadIndex` does.
    Fence(super::forward::Link),
    /// Sessions a follower heard from since its last touch.
    Touch(Vec<SessionId>),
    /// A client's `reconfig`, run by the leader.
    Reconfig(super::Reconfig),
    /// The sender has just started: a leader replicates to it at once,
    /// rather than at its next heartbeat, so that it serves sooner.
    Started,
}

#[derive(Serialize, Deserialize)]
pub enum PeerResponse {
    Append(Result<AppendEntriesResponse<C>, String>),
    Vote(Result<VoteResponse<C>, String>),
    Snapshot(Result<SnapshotResponse<C>, String>),
    /// The zxid and result, or a ZooKeeper error code.
    Forward(Result<(Zxid, TxnResult), i32>),
    /// A forwarded write the leader did not take (not leading in that
    /// term, or it came on a retired link): it was not appended.
    NotTaken,
    ReadIndex(Result<u64, i32>),
    /// The log index of the new configuration with `/zookeeper/config`'s
    /// data and Stat there, or an error code.
    Reconfig(Result<(u64, Vec<u8>, crate::types::Stat), i32>),
    Ack,
}

/// What serves incoming peer requests (the member's consensus).
pub trait PeerHandler: Send + Sync + 'static {
    /// Two stages: the outer future runs in arrival order, one at a time
    /// per connection (raft RPCs, submitting a forwarded write); the inner
    /// one completes the reply and may finish out of order.
    fn handle(&self, req: PeerRequest) -> BoxFuture<'static, BoxFuture<'static, PeerResponse>>;
    /// The entries of an append about to be handled, each with its bytes
    /// as they came (see `wire`).
    fn offer_entries(&self, _entries: Vec<super::wire::RawEntry>) {}
    /// A connection on which `leader` sent appends has closed.
    fn leader_link_closed(&self, _leader: u64) {}
}

/// A peer connection's two directions: plain TCP halves or TLS ones
/// (`sslQuorum`), boxed behind 256 KiB buffers.
type Rd = Box<dyn AsyncRead + Send + Unpin>;
type Wr = Box<dyn AsyncWrite + Send + Unpin>;

/// How long a TLS handshake between members may take.
const TLS_HANDSHAKE: Duration = Duration::from_secs(2);

async fn read_frame(rd: &mut BufReader<Rd>) -> std::io::Result<(u64, Vec<u8>)> {
    let len = rd.read_u32().await? as usize;
    if !(8..=MAX_FRAME).contains(&len) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("bad peer frame length {len}"),
        ));
    }
    let id = rd.read_u64().await?;
    let mut body = vec![0u8; len - 8];
    rd.read_exact(&mut body).await?;
    Ok((id, body))
}

async fn write_frame(wr: &mut BufWriter<Wr>, id: u64, body: &[u8]) -> std::io::Result<()> {
    wr.write_u32((body.len() + 8) as u32).await?;
    wr.write_u64(id).await?;
    wr.write_all(body).await
}

/// Writes the requests queued on an outgoing link; flushes when the
/// queue runs dry (batching). While the link is busy (the last send
/// carried more than one frame), the writer first lets the tasks ready on
/// its thread run once: under load they queue more frames (a follower's
/// client connections each forward a write), which then share the send.
/// A link carrying one frame per send (a single client's writes) flushes
/// at once, as the yield would only add to its latency. Served
/// connections send their replies through `replier`.
async fn writer(mut wr: BufWriter<Wr>, mut rx: mpsc::Receiver<(u64, Vec<u8>)>) {
    let (mut frames, mut busy) = (0usize, false);
    while let Some((id, body)) = rx.recv().await {
        if write_frame(&mut wr, id, &body).await.is_err() {
            return;
        }
        frames += 1;
        if busy && rx.is_empty() {
            tokio::task::yield_now().await;
        }
        if rx.is_empty() {
            if wr.flush().await.is_err() {
                return;
            }
            busy = frames > 1;
            frames = 0;
        }
    }
}

/// A reply still to come, with the id of its request.
struct Reply(u64, BoxFuture<'static, PeerResponse>);

impl Future for Reply {
    type Output = (u64, PeerResponse);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.0;
        self.1.as_mut().poll(cx).map(|resp| (id, resp))
    }
}

/// Sends the replies of a served connection as they complete. One task
/// polls them all, so a request costs no task of its own (a leader under
/// load spawned one per forwarded write), and the replies that complete
/// together share one send. While the link is busy it yields once before
/// flushing, as `writer` does. Once the socket fails, the replies are
/// still awaited, unsent: a forwarded write counts as pending for the
/// leader's fences until it is decided (see `forward::Fences`), and
/// dropping its reply would end that early.
async fn replier(mut wr: BufWriter<Wr>, mut rx: mpsc::Receiver<Reply>) {
    let mut replies = Replies {
        rx: &mut rx,
        pending: FuturesUnordered::new(),
        open: true,
    };
    let (mut frames, mut busy, mut yielded) = (0usize, false, false);
    let mut broken = false;
    loop {
        let ready = poll_fn(|cx| Poll::Ready(replies.poll_next(cx))).await;
        let next = match ready {
            Poll::Ready(next) => next,
            Poll::Pending if frames == 0 => poll_fn(|cx| replies.poll_next(cx)).await,
            Poll::Pending if busy && !yielded => {
                yielded = true;
                tokio::task::yield_now().await;
                continue;
            }
            Poll::Pending => {
                broken = broken || wr.flush().await.is_err();
                (busy, frames, yielded) = (frames > 1, 0, false);
                continue;
            }
        };
        let Some((id, resp)) = next else {
            let _ = wr.flush().await;
            return;
        };
        if broken {
            continue;
        }
        let Ok(body) = encode_any(&resp) else {
            continue;
        };
        match write_frame(&mut wr, id, &body).await {
            Ok(()) => frames += 1,
            Err(_) => broken = true,
        }
    }
}

/// The replier's requests: those queued and those pending.
struct Replies<'a> {
    rx: &'a mut mpsc::Receiver<Reply>,
    pending: FuturesUnordered<Reply>,
    /// Whether the connection may still queue requests.
    open: bool,
}

impl Replies<'_> {
    /// The next completed reply; `None` once the connection's reading
    /// has ended and every reply is sent.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(u64, PeerResponse)>> {
        while self.open {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(reply)) => self.pending.push(reply),
                Poll::Ready(None) => self.open = false,
                Poll::Pending => break,
            }
        }
        match self.pending.poll_next_unpin(cx) {
            Poll::Ready(None) if self.open => Poll::Pending,
            done => done,
        }
    }
}

/// Who a member's peer port lets in.
#[derive(Default)]
pub struct Admission {
    /// sslQuorum: only members whose certificate the trust store signed.
    pub tls: Option<Arc<ReloadingAcceptor>>,
    /// portUnification: plain links besides TLS ones.
    pub plain_too: bool,
    /// Quorum SASL: members that log in (or, unless required, do not).
    pub auth: QuorumAuth,
}

/// Accepts peer connections until the listener task is aborted, as
/// `admission` says.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<dyn PeerHandler>,
    admission: Admission,
    cut: Cut,
) {
    let Admission {
        tls,
        plain_too,
        auth,
    } = admission;
    let auth = Arc::new(auth);
    // The connections end with this task (a JoinSet aborts its tasks when
    // dropped): a member stopped inside a process that goes on, as in the
    // in-process ensembles, must not keep answering its peers from a
    // stopped raft, or they never dial the member that replaces it.
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        while conns.try_join_next().is_some() {}
        let h = handler.clone();
        let tls = tls.as_ref().map(|t| (t.current(), t.checks_diallers()));
        let cut = cut.clone();
        let auth = auth.clone();
        conns.spawn(async move {
            let _ = stream.set_nodelay(true);
            let tls = match tls {
                Some(t) if plain_too => match opens_with_client_hello(&stream, TLS_HANDSHAKE).await
                {
                    Some(true) => Some(t),
                    Some(false) => None,
                    None => return,
                },
                tls => tls,
            };
            let (rd, wr): (Rd, Wr) = match tls {
                None => {
                    let (rd, wr) = stream.into_split();
                    (Box::new(rd), Box::new(wr))
                }
                Some((tls, check)) => match tokio::time::timeout(
                    TLS_HANDSHAKE,
                    accept_member(&tls, check, stream, peer),
                )
                .await
                {
                    Ok(Ok(s)) => {
                        let (rd, wr) = tokio::io::split(s);
                        (Box::new(rd), Box::new(wr))
                    }
                    Ok(Err(e)) => return tracing::warn!("refused member at {peer}: {e}"),
                    Err(_) => return tracing::info!("TLS handshake with {peer} timed out"),
                },
            };
            if let Err(e) = serve_conn(rd, wr, h, cut, &auth, peer).await {
                match e.kind() {
                    std::io::ErrorKind::PermissionDenied => tracing::warn!("refused member: {e}"),
                    _ => tracing::debug!("peer connection from {peer} ended: {e}"),
                }
            }
        });
    }
}

/// The TLS handshake with a dialling member and, with `check`
/// (`ssl.quorum.hostnameVerification`), the check that its certificate
/// names the address it dials from.
async fn accept_member(
    tls: &tokio_rustls::TlsAcceptor,
    check: bool,
    stream: TcpStream,
    peer: SocketAddr,
) -> std::io::Result<tokio_rustls::server::TlsStream<TcpStream>> {
    let s = tls.accept(stream).await?;
    if check {
        crate::tls::check_dialler(&s, peer.ip()).await?;
    }
    Ok(s)
}

async fn serve_conn(
    rd: Rd,
    wr: Wr,
    handler: Arc<dyn PeerHandler>,
    cut: Cut,
    auth: &QuorumAuth,
    peer: SocketAddr,
) -> std::io::Result<()> {
    let mut rd = BufReader::with_capacity(256 * 1024, rd);
    let mut wr = BufWriter::with_capacity(256 * 1024, wr);
    let mut first = auth::admit(&mut rd, &mut wr, auth, peer).await?;
    let (tx, rx) = mpsc::channel(1024);
    // In a set so that the replier, and the socket's write half with it,
    // ends if this connection's task is aborted.
    let mut writer_task = tokio::task::JoinSet::new();
    writer_task.spawn(replier(wr, rx));
    // The member whose appends arrive here (a leader dials its followers).
    let mut appends_from = None;
    let result = loop {
        let next = match first.take() {
            Some(f) => Ok(f),
            None => read_frame(&mut rd).await,
        };
        let (id, body) = match next {
            Ok(f) => f,
            Err(e) => break Err(e),
        };
        if cut.is_on() {
            // Unanswered, as behind a partition; gone once it heals.
            cut.healed().await;
            break Err(std::io::Error::other("cut off from the other members"));
        }
        let (req, entries) = match super::wire::decode_request(body.into()) {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        if !entries.is_empty() {
            handler.offer_entries(entries);
        }
        if let PeerRequest::Append(rpc) = &req {
            appends_from = Some(rpc.vote.leader_id.node_id);
        }
        // Submission happens here, in order; the reply may come later.
        let reply = handler.handle(req).await;
        if tx.send(Reply(id, reply)).await.is_err() {
            break Err(std::io::Error::other("the connection's replies failed"));
        }
    };
    if let Some(leader) = appends_from {
        handler.leader_link_closed(leader);
    }
    drop(tx);
    let _ = writer_task.join_next().await;
    result
}

/// A member's switch that cuts it off from the other members (see
/// `PeerPool::set_cut`).
#[derive(Clone)]
pub struct Cut(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Cut {
    fn default() -> Cut {
        Cut(Arc::new(tokio::sync::watch::Sender::new(false)))
    }
}

impl Cut {
    fn set(&self, on: bool) {
        self.0.send_replace(on);
    }

    fn is_on(&self) -> bool {
        *self.0.borrow()
    }

    async fn healed(&self) {
        let _ = self.0.subscribe().wait_for(|on| !on).await;
    }
}

type Waiters = Arc<Mutex<HashMap<u64, oneshot::Sender<PeerResponse>>>>;

struct Link {
    tx: mpsc::Sender<(u64, Vec<u8>)>,
    waiters: Waiters,
    /// Set when the reply reader stops: the link must be re-dialled.
    dead: Arc<std::sync::atomic::AtomicBool>,
    /// When the last reply arrived (ms on the process clock).
    last_reply: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Link {
    /// Ends both halves; with SO_LINGER 0 the kernel resets the connection
    /// and drops whatever it had not delivered yet.
    fn abort(&self) {
        self.dead.store(true, Ordering::Relaxed);
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A link silent this long while calls time out on it is re-dialled (a
/// half-open or wedged connection would otherwise stall a peer forever).
const SILENT_LINK_MS: u64 = 2000;

/// Longest wait for a peer connection to open.
const DIAL_TIMEOUT: Duration = Duration::from_secs(1);

fn clock_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

/// The client side of one peer: one connection, re-dialled on demand.
pub struct PeerClient {
    addr: String,
    local_ip: Option<IpAddr>,
    tls: Option<Arc<ReloadingConnector>>,
    /// Quorum SASL: the login this member dials with.
    login: Option<Arc<crate::sasl::SaslClient>>,
    next_id: AtomicU64,
    link: tokio::sync::Mutex<Option<Arc<Link>>>,
    cut: Cut,
}

impl PeerClient {
    pub fn new(
        addr: String,
        local_ip: Option<IpAddr>,
        tls: Option<Arc<ReloadingConnector>>,
    ) -> PeerClient {
        PeerClient {
            addr,
            local_ip,
            tls,
            login: None,
            next_id: AtomicU64::new(1),
            link: tokio::sync::Mutex::new(None),
            cut: Cut::default(),
        }
    }

    async fn dial(&self) -> std::io::Result<TcpStream> {
        let target: SocketAddr = tokio::net::lookup_host(&self.addr)
            .await?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("cannot resolve {}", self.addr)))?;
        let socket = if target.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // Linger 0: dropping a link resets it and discards unsent bytes.
        // (tokio deprecates linger because a positive one blocks on drop;
        // zero never does.)
        #[allow(deprecated)]
        socket.set_linger(Some(Duration::ZERO))?;
        if let Some(ip) = self.local_ip.filter(|ip| ip.is_ipv4() == target.is_ipv4()) {
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        let stream = socket.connect(target).await?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// The connection's halves, after a TLS handshake under sslQuorum
    /// (with hostname verification, the other member's certificate must
    /// name the address dialled).
    async fn secure(&self, stream: TcpStream) -> std::io::Result<(Rd, Wr)> {
        let Some(tls) = &self.tls else {
            let (rd, wr) = stream.into_split();
            return Ok((Box::new(rd), Box::new(wr)));
        };
        let s = tokio::time::timeout(TLS_HANDSHAKE, tls.current().connect(&self.addr, stream))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS timed out"))??;
        let (rd, wr) = tokio::io::split(s);
        Ok((Box::new(rd), Box::new(wr)))
    }

    async fn link(&self) -> std::io::Result<Arc<Link>> {
        let mut slot = self.link.lock().await;
        if let Some(l) = slot
            .as_ref()
            .filter(|l| !l.tx.is_closed() && !l.dead.load(Ordering::Relaxed))
        {
            return Ok(l.clone());
        }
        if self.cut.is_on() {
            // As a dial into a partition: nothing comes back.
            tokio::time::sleep(DIAL_TIMEOUT).await;
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "cut off from the other members",
            ));
        }
        // A dial into a partition never hears back (SYNs are dropped); no
        // caller may wait on it for the kernel's two minutes.
        let stream = tokio::time::timeout(DIAL_TIMEOUT, self.dial())
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
            })??;
        let (rd, wr) = self.secure(stream).await?;
        let mut rd = BufReader::with_capacity(256 * 1024, rd);
        let mut wr = BufWriter::with_capacity(256 * 1024, wr);
        if let Some(who) = &self.login {
            let login = auth::log_in(&mut rd, &mut wr, who);
            tokio::time::timeout(TLS_HANDSHAKE, login)
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "login timed out"))?
                .inspect_err(|e| tracing::warn!("login to the member at {}: {e}", self.addr))?;
        }
        let (tx, rx) = mpsc::channel(1024);
        let write_task = tokio::spawn(writer(wr, rx));
        let waiters: Waiters = Arc::default();
        let dead = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let last_reply = Arc::new(AtomicU64::new(clock_ms()));
        let read_task = tokio::spawn(read_replies(
            rd,
            waiters.clone(),
            dead.clone(),
            last_reply.clone(),
        ));
        let link = Arc::new(Link {
            tx,
            waiters,
            dead,
            last_reply,
            tasks: vec![write_task, read_task],
        });
        *slot = Some(link.clone());
        Ok(link)
    }

    /// Queues `req` on the link (requests leave in the order of `send`
    /// calls) and returns the receiver of its reply.
    pub async fn send(&self, req: &PeerRequest) -> Result<oneshot::Receiver<PeerResponse>, String> {
        let body = encode_any(req).map_err(|e| e.to_string())?;
        self.send_body(body).await
    }

    /// As `send`, for a request already encoded.
    async fn send_body(&self, body: Vec<u8>) -> Result<oneshot::Receiver<PeerResponse>, String> {
        let link = self
            .link()
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        crate::lock(&link.waiters).insert(id, tx);
        if link.tx.send((id, body)).await.is_err() {
            return Err(format!("connection to {} closed", self.addr));
        }
        Ok(rx)
    }

    /// Sends `req` and waits for its reply at most `timeout`.
    pub async fn call(&self, req: &PeerRequest, timeout: Duration) -> Result<PeerResponse, String> {
        let body = encode_any(req).map_err(|e| e.to_string())?;
        self.call_body(body, timeout).await
    }

    /// As `call`, for a request already encoded.
    pub async fn call_body(
        &self,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<PeerResponse, String> {
        let fut = async {
            let rx = self.send_body(body).await?;
            rx.await
                .map_err(|_| format!("connection to {} lost", self.addr))
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                self.drop_if_silent().await;
                Err(format!(
                    "timeout after {timeout:?} talking to {}",
                    self.addr
                ))
            }
        }
    }

    /// Drops the link at once; unsent and unacknowledged bytes are discarded
    /// (the socket is reset, not closed gracefully).
    pub async fn reset(&self) {
        if let Some(l) = self.link.lock().await.take() {
            l.abort();
        }
    }

    /// Forgets a link that timed out and has been silent for long: the next
    /// call re-dials (a wedged or half-open connection heals this way).
    async fn drop_if_silent(&self) {
        let mut slot = self.link.lock().await;
        let silent_for =
            |l: &Arc<Link>| clock_ms().saturating_sub(l.last_reply.load(Ordering::Relaxed));
        if slot
            .as_ref()
            .is_some_and(|l| silent_for(l) > SILENT_LINK_MS)
        {
            tracing::info!("peer link to {} went silent; re-dialling", self.addr);
            if let Some(l) = slot.take() {
                l.abort();
            }
        }
    }
}

/// One client per peer address, shared by raft replication and forwarding.
pub struct PeerPool {
    local_ip: Option<IpAddr>,
    tls: Option<Arc<ReloadingConnector>>,
    login: Option<Arc<crate::sasl::SaslClient>>,
    clients: Mutex<HashMap<String, Arc<PeerClient>>>,
    cut: Cut,
    /// Member id -> peer address that overrides the replicated membership's
    /// (see `with_addresses`).
    addresses: HashMap<u64, String>,
}

impl PeerPool {
    pub fn new(local_ip: Option<IpAddr>, tls: Option<Arc<ReloadingConnector>>) -> PeerPool {
        PeerPool {
            local_ip,
            tls,
            login: None,
            clients: Mutex::new(HashMap::new()),
            cut: Cut::default(),
            addresses: HashMap::new(),
        }
    }

    /// Links this member dials open with a quorum SASL login as `who`.
    pub fn with_login(mut self, who: Option<crate::sasl::SaslClient>) -> PeerPool {
        self.login = who.map(Arc::new);
        self
    }

    /// Members are dialled at these addresses (id -> "host:peerPort")
    /// rather than at those their membership entry recorded.
    pub fn with_addresses(mut self, addresses: HashMap<u64, String>) -> PeerPool {
        self.addresses = addresses;
        self
    }

    /// Where member `id`, whose membership entry is `node`, is dialled.
    pub fn addr_of(&self, id: u64, node: &openraft::BasicNode) -> Option<String> {
        self.addresses
            .get(&id)
            .cloned()
            .or_else(|| super::dial_addr(&node.addr))
    }

    /// The switch `serve` must obey too.
    pub fn cut(&self) -> Cut {
        self.cut.clone()
    }

    /// Cuts this member off from the others, or heals it: the in-process
    /// ensembles' partition for users' tests. While cut, no peer
    /// connection carries anything either way, as when a firewall drops
    /// the packets (nothing is refused or reset).
    pub async fn set_cut(&self, on: bool) {
        self.cut.set(on);
        if on {
            self.close_all().await;
        }
    }

    /// Drops every outgoing connection (the member is stopping): the
    /// members at the other ends see them close, as when a process exits.
    pub async fn close_all(&self) {
        let clients: Vec<_> = crate::lock(&self.clients).values().cloned().collect();
        for c in clients {
            c.reset().await;
        }
    }

    /// Whether the member at `addr` is gone (its process died): its peer
    /// port refuses or resets a connection, or accepts one and closes it
    /// at once (a dying process's listener outlives its other sockets for
    /// a moment). A silent dial (partition, overload) or a connection that
    /// stays open answers false.
    pub async fn is_gone(&self, addr: &str) -> bool {
        use std::io::ErrorKind::{ConnectionRefused, ConnectionReset, UnexpectedEof};
        if self.cut.is_on() {
            return false; // a partitioned member cannot tell
        }
        // Plain TCP even under sslQuorum: only the connection's fate counts.
        let probe = PeerClient::new(addr.to_string(), self.local_ip, None);
        let gone = |e: &std::io::Error| matches!(e.kind(), ConnectionRefused | ConnectionReset);
        let mut stream = match tokio::time::timeout(Duration::from_millis(500), probe.dial()).await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return gone(&e),
            Err(_) => return false,
        };
        // A live member waits for our first frame; a dying one hangs up.
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut byte)).await {
            Ok(Ok(0)) => true,
            Ok(Err(e)) => gone(&e) || e.kind() == UnexpectedEof,
            _ => false,
        }
    }

    pub fn client(&self, addr: &str) -> Arc<PeerClient> {
        let mut map = crate::lock(&self.clients);
        map.entry(addr.to_string())
            .or_insert_with(|| {
                let tls = self.tls.clone();
                let mut c = PeerClient::new(addr.to_string(), self.local_ip, tls);
                c.cut = self.cut.clone();
                c.login = self.login.clone();
                Arc::new(c)
            })
            .clone()
    }
}

async fn read_replies(
    mut rd: BufReader<Rd>,
    waiters: Waiters,
    dead: Arc<std::sync::atomic::AtomicBool>,
    last_reply: Arc<AtomicU64>,
) {
    while let Ok((id, body)) = read_frame(&mut rd).await {
        last_reply.store(clock_ms(), Ordering::Relaxed);
        let Ok(resp) = decode::<PeerResponse>(&body) else {
            break;
        };
        let waiter = crate::lock(&waiters).remove(&id);
        if let Some(w) = waiter {
            let _ = w.send(resp);
        }
    }
    dead.store(true, Ordering::Relaxed);
    // Dropping the senders fails every call still waiting on this link.
    crate::lock(&waiters).clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    /// Answers every request with an Ack.
    struct AckAll;

    impl PeerHandler for AckAll {
        fn handle(&self, _: PeerRequest) -> BoxFuture<'static, BoxFuture<'static, PeerResponse>> {
            let reply = async { PeerResponse::Ack }.boxed();
            futures::future::ready(reply).boxed()
        }
    }

    const WAIT: Duration = Duration::from_secs(2);

    /// Answers `Started` only when told to, anything else at once.
    struct Held(Mutex<Option<oneshot::Receiver<()>>>);

    impl PeerHandler for Held {
        fn handle(&self, req: PeerRequest) -> BoxFuture<'static, BoxFuture<'static, PeerResponse>> {
            let reply = match req {
                PeerRequest::Started => {
                    let go = crate::lock(&self.0).take().unwrap();
                    async move {
                        let _ = go.await;
                        PeerResponse::Ack
                    }
                    .boxed()
                }
                _ => async { PeerResponse::ReadIndex(Ok(7)) }.boxed(),
            };
            futures::future::ready(reply).boxed()
        }
    }

    /// Answers each `Started` when its turn is released, counting the
    /// requests taken and the replies completed (not dropped).
    #[derive(Default)]
    struct Turns {
        release: Mutex<std::collections::VecDeque<oneshot::Receiver<()>>>,
        taken: AtomicU64,
        completed: Arc<AtomicU64>,
    }

    impl PeerHandler for Turns {
        fn handle(&self, _: PeerRequest) -> BoxFuture<'static, BoxFuture<'static, PeerResponse>> {
            let go = crate::lock(&self.release).pop_front().unwrap();
            self.taken.fetch_add(1, Ordering::SeqCst);
            let completed = self.completed.clone();
            let reply = async move {
                let _ = go.await;
                completed.fetch_add(1, Ordering::SeqCst);
                PeerResponse::Ack
            };
            futures::future::ready(reply.boxed()).boxed()
        }
    }

    async fn until(what: impl Fn() -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !what() {
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// A leader's fences count a forwarded write pending until its reply
    /// completes: the reply must not be dropped when its connection fails.
    #[tokio::test]
    async fn replies_on_a_broken_connection_still_complete() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let handler = Arc::new(Turns::default());
        let mut go = Vec::new();
        for _ in 0..3 {
            let (tx, rx) = oneshot::channel();
            crate::lock(&handler.release).push_back(rx);
            go.push(tx);
        }
        let serving = tokio::spawn(serve(
            listener,
            handler.clone(),
            Admission::default(),
            Cut::default(),
        ));
        let pool = PeerPool::new(None, None);
        let client = pool.client(&addr);
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(client.send(&PeerRequest::Started).await.unwrap());
        }
        assert!(until(|| handler.taken.load(Ordering::SeqCst) == 3).await);
        pool.close_all().await;
        // The first reply goes into the closed connection (the peer
        // resets it), the second fails to send, the third comes after.
        for tx in go {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = tx.send(());
        }
        let completed = handler.completed.clone();
        assert!(
            until(|| completed.load(Ordering::SeqCst) == 3).await,
            "a pending reply was dropped: {} of 3 completed",
            completed.load(Ordering::SeqCst)
        );
        serving.abort();
    }

    #[tokio::test]
    async fn replies_go_out_as_they_complete_each_to_its_request() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (go, held) = oneshot::channel();
        let handler = Arc::new(Held(Mutex::new(Some(held))));
        let serving = tokio::spawn(serve(
            listener,
            handler,
            Admission::default(),
            Cut::default(),
        ));
        let pool = PeerPool::new(None, None);
        let client = pool.client(&addr);
        let slow = client.send(&PeerRequest::Started).await.unwrap();
        let fast = client.call(&PeerRequest::ReadIndex, WAIT).await;
        assert!(matches!(fast, Ok(PeerResponse::ReadIndex(Ok(7)))));
        go.send(()).unwrap();
        let slow = tokio::time::timeout(WAIT, slow).await;
        assert!(matches!(slow, Ok(Ok(PeerResponse::Ack))));
        serving.abort();
    }

    #[tokio::test]
    async fn a_stopped_listener_ends_its_connections() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let serving = tokio::spawn(serve(
            listener,
            Arc::new(AckAll),
            Admission::default(),
            Cut::default(),
        ));
        let pool = PeerPool::new(None, None);
        let client = pool.client(&addr);
        let first = client.call(&PeerRequest::Started, WAIT).await;
        assert!(matches!(first, Ok(PeerResponse::Ack)));
        serving.abort();
        let _ = serving.await;
        // The open connection no longer answers, and no new one is taken.
        let after = client.call(&PeerRequest::Started, WAIT).await;
        assert!(after.is_err(), "a stopped member still answered");
    }

    #[tokio::test]
    async fn close_all_ends_the_outgoing_connections() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let pool = PeerPool::new(None, None);
        let _reply = pool
            .client(&addr)
            .send(&PeerRequest::Started)
            .await
            .unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        let len = peer.read_u32().await.unwrap() as usize;
        let mut frame = vec![0; len];
        peer.read_exact(&mut frame).await.unwrap();
        pool.close_all().await;
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(WAIT, peer.read(&mut byte)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "the connection is still open: {read:?}"
        );
    }
}
