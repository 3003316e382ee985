//! One client connection. After the handshake a request passes two named
//! stages, in request order:
//!
//! - **Prep** (the input loop): decode, apply auth packets, turn writes into
//!   [`Txn`]s and hand them to replication in request order.
//! - **Final** (the output task): complete each request in the same order:
//!   await a write's commit, run a read only after every earlier write of
//!   this connection applied, then write the reply. Watch events queued by
//!   the core are written before any reply whose zxid is at or past theirs;
//!   while this stage is idle, the core writes them itself.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;

use super::ops::{self, WriteKind};
use super::Shared;
use crate::consensus::{PendingWrite, Reconfig};
use crate::member::{ConnEntry, ConnId, ConnStats, EventQueue, Events, ZkDatabase};
use crate::proto::{
    self, frame, ConnectRequest, ConnectResponse, Reader, Record, ReplyHeader, Request, Response,
};
use crate::state::CONFIG_NODE;
use crate::state::{Txn, TxnOp, TxnResult};
use crate::types::perms;
use crate::types::{Id, SessionId, Zxid};
use crate::Error;

/// Requests in flight, completed strictly in this order by the output task.
enum Pending {
    /// A reply known at Prep time; `zxid` None means "last applied".
    Reply {
        xid: i32,
        err: i32,
        resp: Response,
        close: bool,
    },
    Write {
        xid: i32,
        /// The opcode, for the latency metrics.
        op: i32,
        kind: WriteKind,
        write: PendingWrite,
        started: Instant,
        close: bool,
        counted: Outstanding,
    },
    /// Carries the identities as of its place in the stream.
    Read {
        xid: i32,
        req: Request,
        started: Instant,
        auth: Arc<[Id]>,
        super_user: bool,
        /// Holds back this connection's later writes until it has run.
        taken: ReadTaken,
    },
    Sync {
        xid: i32,
        path: String,
        started: Instant,
    },
    Reconfig {
        xid: i32,
        change: Reconfig,
        started: Instant,
    },
}

/// A write counted in `mntr`'s outstanding requests until answered or
/// dropped with its connection.
struct Outstanding(Arc<ZkDatabase>);

impl Outstanding {
    fn new(shared: &Shared) -> Outstanding {
        shared.db.stats.outstanding.fetch_add(1, Ordering::Relaxed);
        Outstanding(shared.db.clone())
    }
}

impl Drop for Outstanding {
    fn drop(&mut self) {
        self.0.stats.outstanding.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reads of this connection taken at Prep and not yet run at Final. A
/// read sees the state right after the writes before it and none after:
/// Prep holds back a later write until the reads before it have run
/// (ZooKeeper's per-session order; a read pipelined between two writes
/// used to see the second).
#[derive(Clone)]
struct ReadsAhead(Arc<tokio::sync::watch::Sender<usize>>);

impl ReadsAhead {
    fn new() -> ReadsAhead {
        ReadsAhead(Arc::new(tokio::sync::watch::Sender::new(0)))
    }

    /// Counts a read in until the returned guard drops (when it ran, or
    /// was dropped with its connection).
    fn take(&self) -> ReadTaken {
        self.0.send_modify(|n| *n += 1);
        ReadTaken(self.clone())
    }

    /// No read will run any more (the output task ended).
    fn none_left(&self) {
        self.0.send_replace(0);
    }

    async fn drained(&self) {
        let _ = self.0.subscribe().wait_for(|n| *n == 0).await;
    }
}

struct ReadTaken(ReadsAhead);

impl Drop for ReadTaken {
    fn drop(&mut self) {
        self.0 .0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// What a connection knows about its session and identities.
pub(super) struct ConnCtx {
    pub id: ConnId,
    pub session: SessionId,
    /// Shared with each request that carries them: a write or a read
    /// takes a reference, not a copy of every identity.
    pub auth: Arc<[Id]>,
    pub super_user: bool,
    /// A read-only session (member without quorum): writes are refused.
    pub read_only: bool,
    /// A local session (`localSessionsEnabled`): only this member knows it.
    pub local: bool,
    /// Where this connection's SASL exchange stands.
    pub sasl: crate::sasl::DigestMd5,
}

impl ConnCtx {
    /// Adds an identity (auth, SASL, a client certificate): rare, so the
    /// list is copied here rather than at each request that carries it.
    fn add_id(&mut self, id: Id) {
        self.auth = self.auth.iter().cloned().chain([id]).collect();
    }
}

/// Reads one length-prefixed frame; `Ok(None)` on a clean end of stream.
async fn read_frame(rd: &mut BufReader<Rd>, max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = [0u8; 4];
    match rd.read_exact(&mut head).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    read_body(rd, head, max).await.map(Some)
}

async fn read_body(rd: &mut BufReader<Rd>, head: [u8; 4], max: usize) -> std::io::Result<Vec<u8>> {
    let len = i32::from_be_bytes(head);
    if len < 0 || len as usize > max {
        let why = format!("Len error {len} (jute.maxbuffer is {max})");
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, why));
    }
    let mut body = vec![0u8; len as usize];
    rd.read_exact(&mut body).await?;
    Ok(body)
}

/// A connection's two directions: a TCP socket's halves, or a TLS
/// stream's (boxed: one code path for both, behind 64 KiB buffers).
pub(super) type Rd = Box<dyn AsyncRead + Send + Unpin>;
pub(super) type Wr = Box<dyn AsyncWrite + Send + Unpin>;

/// Who the transport says the client is: its address, and over TLS the
/// subject of its certificate (ZooKeeper's `x509` scheme).
pub(super) struct Remote {
    pub addr: SocketAddr,
    pub x509: Option<String>,
    /// A second handle on a plain TCP socket, for the core's writes of
    /// watch events (None over TLS).
    pub socket: Option<std::net::TcpStream>,
}

/// Serves one accepted connection until it closes.
pub(super) async fn serve(shared: Arc<Shared>, rd: Rd, wr: Wr, who: Remote, id: ConnId) {
    let Remote {
        addr: peer,
        x509,
        socket,
    } = who;
    let mut rd = BufReader::with_capacity(64 * 1024, rd);
    let mut wr = BufWriter::with_capacity(64 * 1024, wr);
    let mut head = [0u8; 4];
    if rd.read_exact(&mut head).await.is_err() {
        return;
    }
    if crate::fourlw::is_command(&head) {
        let word = String::from_utf8_lossy(&head).to_string();
        let text = super::four_letter_word(&shared, &word);
        let _ = wr.write_all(text.as_bytes()).await;
        let _ = wr.flush().await;
        let _ = wr.shutdown().await;
        return;
    }
    let max = shared.db.config.jute_max_buffer as usize;
    let failed = || {
        let st = &shared.db.stats;
        st.unsuccessful_handshake.fetch_add(1, Ordering::Relaxed);
    };
    let body = match read_body(&mut rd, head, max).await {
        Ok(b) => b,
        Err(e) => {
            failed();
            return tracing::info!("closing {peer} before handshake: {e}");
        }
    };
    let req = match ConnectRequest::read(&mut Reader::new(&body)) {
        Ok(r) => r,
        Err(e) => {
            failed();
            return tracing::info!("closing {peer}: bad connect request: {e}");
        }
    };
    let stats = &shared.db.stats;
    stats
        .connection_request_count
        .fetch_add(1, Ordering::Relaxed);
    let Some((resp, mut ctx)) = handshake(&shared, &req, peer, id).await else {
        return failed();
    };
    if let Some(subject) = x509 {
        ctx.super_user |= shared.x509_super_user.as_deref() == Some(subject.as_str());
        ctx.add_id(Id::new("x509", &subject));
    }
    if resp.session_id == 0 {
        return refuse(&mut wr).await;
    }
    let hello = frame::encode_record(&resp);
    let queue = Arc::new(EventQueue::new(socket));
    let io = Io { rd, wr, queue };
    run(shared, ctx, io, peer, req.time_out, hello).await;
}

/// Establishes or resumes a session. `None` closes the socket silently
/// (ZooKeeper does that for a client that has seen a newer zxid).
async fn handshake(
    shared: &Shared,
    req: &ConnectRequest,
    peer: SocketAddr,
    id: ConnId,
) -> Option<(ConnectResponse, ConnCtx)> {
    let cfg = &shared.db.config;
    if shared.consensus.mode() == crate::consensus::Mode::Looking {
        if req.read_only && shared.read_only_enabled() {
            return Some(read_only_session(shared, req, peer, id));
        }
        if !wait_for_leader(shared, req.time_out).await {
            tracing::info!("refusing {peer}: this member has no leader");
            return None;
        }
    }
    let last = shared.db.last_zxid();
    if req.last_zxid_seen > last {
        tracing::info!(
            "refusing {peer}: it has seen zxid {:#x}, ours is {last:#x}",
            req.last_zxid_seen
        );
        return None;
    }
    let timeout = req.time_out.clamp(
        cfg.min_session_timeout as i32,
        cfg.max_session_timeout as i32,
    );
    let owner = shared.owner;
    let ctx = |session| ConnCtx {
        id,
        session,
        auth: Arc::new([Id::new("ip", &peer.ip().to_string())]),
        super_user: false,
        read_only: false,
        local: false,
        sasl: Default::default(),
    };
    let resp = |session_id, timeout, passwd: Vec<u8>| ConnectResponse {
        protocol_version: 0,
        time_out: timeout,
        session_id,
        passwd,
        read_only: false,
    };
    if req.session_id != 0 {
        if let Some((_, passwd)) = shared.db.local_session(req.session_id) {
            if passwd != req.passwd {
                tracing::info!("{peer}: wrong password for session {:#x}", req.session_id);
                return Some((expired(), ctx(0)));
            }
            shared.db.resumed(req.session_id);
            let local = ConnCtx {
                local: true,
                ..ctx(req.session_id)
            };
            return Some((resp(req.session_id, timeout, passwd), local));
        }
        let known = shared.db.session(req.session_id);
        // The session is gone: logged, then answered with `expired()`.
        let gone = || {
            tracing::info!("{peer}: session {:#x} expired or unknown", req.session_id);
            Some((expired(), ctx(0)))
        };
        return match known {
            Some(s) if s.passwd == req.passwd => {
                // Moving here from another member (or an earlier run of
                // this one): claim the session first.
                let claimed = if s.owner == owner {
                    Ok(())
                } else {
                    claim(shared, req.session_id, owner, req.time_out).await
                };
                match claimed {
                    Ok(()) => {}
                    Err(Error::SessionExpired) => return gone(),
                    Err(e) => {
                        tracing::info!("{peer}: cannot resume {:#x}: {e}", req.session_id);
                        return None;
                    }
                }
                shared.db.resumed(req.session_id);
                Some((resp(req.session_id, timeout, s.passwd), ctx(req.session_id)))
            }
            _ => gone(),
        };
    }
    let passwd: Vec<u8> = (0..16).map(|_| rand::random::<u8>()).collect();
    // A standalone ZooKeeper has no local sessions, whatever zoo.cfg says.
    let standalone = shared.consensus.mode() == crate::consensus::Mode::Standalone;
    if cfg.local_sessions_enabled && !standalone {
        // Ids carry this member's id in the top byte, so no other member
        // hands out the same one.
        let session = shared.db.new_session_id();
        shared
            .db
            .add_local_session(session, timeout, passwd.clone());
        let local = ConnCtx {
            local: true,
            ..ctx(session)
        };
        return Some((resp(session, timeout, passwd), local));
    }
    for _ in 0..8 {
        let session = shared.db.new_session_id();
        let op = TxnOp::CreateSession {
            timeout,
            passwd: passwd.clone(),
        };
        let txn = session_txn(session, owner, op);
        match shared.consensus.propose(txn).await {
            Ok((_, TxnResult::Session)) => {
                return Some((resp(session, timeout, passwd), ctx(session)))
            }
            Ok(_) => continue, // id taken: try the next one
            Err(e) => {
                tracing::warn!("{peer}: cannot create session: {e}");
                return None;
            }
        }
    }
    None
}

/// Makes this member the session's owner before the client hears it is
/// connected: from then on a write the client sent through another member
/// (still held there, or late on the wire) is refused instead of
/// committing after the client's newer writes. ZooKeeper revalidates a
/// moved session with its leader the same way, and like ZooKeeper the
/// owner is the member, not the connection: writes from one member reach
/// the leader in order anyway. Bounded by the session timeout: the client
/// gives up on this connection well before that.
async fn claim(shared: &Shared, session: SessionId, owner: u64, timeout: i32) -> Result<(), Error> {
    let txn = session_txn(session, owner, TxnOp::ClaimSession);
    let wait = std::time::Duration::from_millis(timeout.max(0) as u64);
    match tokio::time::timeout(wait, shared.consensus.propose(txn)).await {
        Ok(Ok((_, TxnResult::Failed(code)))) => {
            Err(Error::from_code(code).unwrap_or(Error::SystemError))
        }
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::OperationTimeout),
    }
}

/// A session's own entry (create, claim): no identities needed.
fn session_txn(session: SessionId, owner: u64, op: TxnOp) -> Txn {
    Txn {
        session,
        owner,
        time: 0, // the leader stamps its own clock
        auth: Arc::new([]),
        super_user: false,
        op: op.into(),
    }
}

/// A member in an election holds a new connection for a moment instead of
/// refusing it at once: elections after a crash take well under a second,
/// and a refused client backs off for longer than that. The hold stays
/// under the client's connect timeout (a third of its session timeout).
async fn wait_for_leader(shared: &Shared, session_timeout: i32) -> bool {
    let hold = std::time::Duration::from_millis((session_timeout.max(0) as u64 / 3).min(1000));
    let deadline = Instant::now() + hold;
    while Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if shared.consensus.mode() != crate::consensus::Mode::Looking {
            return true;
        }
    }
    false
}

/// A member cut off from its quorum serves read-only clients with a
/// session of its own that is never replicated (ZooKeeper's read-only mode).
fn read_only_session(
    shared: &Shared,
    req: &ConnectRequest,
    peer: SocketAddr,
    id: ConnId,
) -> (ConnectResponse, ConnCtx) {
    let cfg = &shared.db.config;
    let timeout = req.time_out.clamp(
        cfg.min_session_timeout as i32,
        cfg.max_session_timeout as i32,
    );
    let session = if req.session_id != 0 {
        req.session_id
    } else {
        shared.db.new_session_id()
    };
    let passwd = if req.session_id != 0 {
        req.passwd.clone()
    } else {
        vec![0; 16]
    };
    let resp = ConnectResponse {
        protocol_version: 0,
        time_out: timeout,
        session_id: session,
        passwd,
        read_only: true,
    };
    let auth = Arc::new([Id::new("ip", &peer.ip().to_string())]);
    (
        resp,
        ConnCtx {
            id,
            session,
            auth,
            super_user: false,
            read_only: true,
            local: false,
            sasl: Default::default(),
        },
    )
}

/// A connection's two directions, and the core's way to its socket.
struct Io {
    rd: BufReader<Rd>,
    wr: BufWriter<Wr>,
    queue: Arc<EventQueue>,
}

async fn run(
    shared: Arc<Shared>,
    mut ctx: ConnCtx,
    io: Io,
    peer: SocketAddr,
    timeout: i32,
    hello: Vec<u8>,
) {
    let Io {
        mut rd,
        mut wr,
        queue,
    } = io;
    let stats = Arc::new(ConnStats::default());
    stats.session.store(ctx.session, Ordering::Relaxed);
    stats.timeout.store(timeout as i64, Ordering::Relaxed);
    stats.read_only.store(ctx.read_only, Ordering::Relaxed);
    // Registered before the client hears it is connected: from then on
    // `cons`, `stat` and the admin commands list it, and its session's
    // events reach it.
    if !register(&shared, &ctx, peer, queue.clone(), stats.clone()) {
        tracing::info!(
            "{peer}: session {:#x} closed during its handshake",
            ctx.session
        );
        return refuse(&mut wr).await;
    }
    if wr.write_all(&hello).await.is_err() || wr.flush().await.is_err() {
        return unregister(&shared, &ctx);
    }
    let (pending_tx, pending_rx) = mpsc::channel(1024);
    let reads = ReadsAhead::new();
    let out = Output {
        shared: shared.clone(),
        conn: ctx.id,
        session: ctx.session,
        stats: stats.clone(),
        wr,
        events: VecDeque::new(),
        queue,
        reads: reads.clone(),
    };
    let output = tokio::spawn(out.run(pending_rx));
    let max = shared.db.config.jute_max_buffer as usize;
    loop {
        tokio::select! {
            frame = read_frame(&mut rd, max) => {
                let frame = match frame {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => { tracing::info!("closing {peer}: {e}"); break; }
                };
                stats.received.fetch_add(1, Ordering::Relaxed);
                shared.db.stats.packets_received.fetch_add(1, Ordering::Relaxed);
                let bytes = frame.len() as u64 + 4;
                shared.db.stats.bytes_received_count.fetch_add(bytes, Ordering::Relaxed);
                shared.db.touch(ctx.session);
                match prep(&shared, &mut ctx, &stats, &reads, &frame).await {
                    Ok(Some(p)) => if pending_tx.send(p).await.is_err() { break },
                    Ok(None) => {}
                    Err(why) => { tracing::info!("closing {peer}: {why}"); break; }
                }
            }
            _ = pending_tx.closed() => break,
        }
    }
    drop(pending_tx);
    let _ = output.await;
    unregister(&shared, &ctx);
}

/// False if the session closed since the handshake looked (see
/// `ZkDatabase::register`); local and read-only sessions are not
/// replicated, and only their own connection closes them.
fn register(
    shared: &Shared,
    ctx: &ConnCtx,
    peer: SocketAddr,
    queue: Arc<EventQueue>,
    stats: Arc<ConnStats>,
) -> bool {
    let entry = ConnEntry { queue, peer, stats };
    let replicated = !ctx.local && !ctx.read_only;
    shared.db.register(ctx.id, ctx.session, entry, replicated)
}

/// Answers the handshake of a session that is gone (expired, unknown, a
/// wrong password), then the caller closes: the client learns it expired.
async fn refuse(wr: &mut BufWriter<Wr>) {
    let _ = wr.write_all(&frame::encode_record(&expired())).await;
    let _ = wr.flush().await;
}

/// The handshake's answer for a session that is gone.
fn expired() -> ConnectResponse {
    ConnectResponse {
        protocol_version: 0,
        time_out: 0,
        session_id: 0,
        passwd: vec![0; 16],
        read_only: false,
    }
}

fn unregister(shared: &Shared, ctx: &ConnCtx) {
    shared.db.unregister(ctx.id, ctx.session);
}

/// Prep stage for one frame. `Err` closes the connection (ZooKeeper closes
/// on a frame it cannot read); ZooKeeper errors become replies.
async fn prep(
    shared: &Shared,
    ctx: &mut ConnCtx,
    stats: &ConnStats,
    reads: &ReadsAhead,
    frame: &[u8],
) -> Result<Option<Pending>, String> {
    let mut r = Reader::new(frame);
    let hdr = proto::RequestHeader::read(&mut r).map_err(|e| format!("bad request header: {e}"))?;
    let req = match Request::decode(hdr.op_type, &mut r) {
        Ok(req) => req,
        // ZooKeeper answers an unknown opcode with Unimplemented and then
        // closes; a body it cannot decode gets MarshallingError and the
        // connection stays usable.
        Err(proto::ProtoError::UnknownOpcode(op)) => {
            tracing::info!("unknown opcode {op} (xid {})", hdr.xid);
            let err = Error::Unimplemented.code();
            return Ok(Some(Pending::Reply {
                xid: hdr.xid,
                err,
                resp: Response::Empty,
                close: true,
            }));
        }
        Err(e) => {
            tracing::info!("cannot decode opcode {}: {e}", hdr.op_type);
            return Ok(Some(reply_err(hdr.xid, Error::MarshallingError)));
        }
    };
    let xid = hdr.xid;
    let started = Instant::now();
    if !matches!(req, Request::Auth(_) | Request::Sasl(_)) && !authenticated_enough(shared, ctx) {
        tracing::info!(
            "closing session {:#x}: not authenticated (enforce.auth)",
            ctx.session
        );
        return Ok(Some(Pending::Reply {
            xid,
            err: Error::SessionClosedRequireSaslAuth.code(),
            resp: Response::Empty,
            close: true,
        }));
    }
    match req {
        Request::Ping => Ok(Some(Pending::Reply {
            xid,
            err: 0,
            resp: Response::Empty,
            close: false,
        })),
        Request::Auth(p) => Ok(Some(auth(shared, ctx, xid, &p.scheme, &p.auth))),
        Request::Sync(s) => Ok(Some(Pending::Sync {
            xid,
            path: s.path,
            started,
        })),
        Request::Sasl(r) => Ok(Some(sasl(shared, ctx, xid, &r.token))),
        Request::Reconfig(r) => Ok(Some(prep_reconfig(shared, ctx, xid, r, started))),
        req if ops::is_read(&req) => Ok(Some(Pending::Read {
            taken: reads.take(),
            xid,
            req,
            started,
            auth: ctx.auth.clone(),
            super_user: ctx.super_user,
        })),
        _ if ctx.read_only => Ok(Some(reply_err(xid, Error::NotReadOnly))),
        req => {
            let close = matches!(req, Request::CloseSession);
            if close {
                stats.closing.store(true, Ordering::Relaxed);
            }
            let (op, kind) = match ops::to_txn(req, shared.db.config.extended_types_enabled) {
                Ok(x) => x,
                Err(e) => return Ok(Some(reply_err(xid, e))),
            };
            if ctx.local {
                if close {
                    shared.db.remove_local_session(ctx.session);
                    return Ok(Some(Pending::Reply {
                        xid,
                        err: 0,
                        resp: Response::Empty,
                        close: true,
                    }));
                }
                if creates_ephemeral(&op) {
                    match upgrade(shared, ctx).await {
                        Ok(()) => {}
                        Err(e @ Error::EphemeralOnLocalSession) => {
                            return Ok(Some(reply_err(xid, e)))
                        }
                        Err(e) => return Err(format!("cannot upgrade local session: {e}")),
                    }
                }
            }
            let op = match op {
                TxnOp::Create { .. } | TxnOp::SetData { .. } | TxnOp::Multi(_)
                    if shared.enforce_quota =>
                {
                    TxnOp::EnforceQuota(Box::new(op))
                }
                op => op,
            };
            let txn = Txn {
                // The log knows no local session: its writes (never an
                // ephemeral) go in as the member's own, as ZooKeeper's
                // leader lets a follower's local sessions write.
                session: if ctx.local { 0 } else { ctx.session },
                owner: shared.owner,
                time: 0, // the leader stamps its own clock
                auth: ctx.auth.clone(),
                super_user: ctx.super_user,
                op: op.into(),
            };
            reads.drained().await;
            let write = shared
                .consensus
                .submit(txn)
                .await
                .map_err(|e| format!("write not accepted: {e}"))?;
            shared.db.stats.record_proposal(frame.len());
            Ok(Some(Pending::Write {
                xid,
                op: hdr.op_type,
                kind,
                write,
                started,
                close,
                counted: Outstanding::new(shared),
            }))
        }
    }
}

/// Whether a write would create an ephemeral node, which needs a session
/// the whole ensemble knows.
fn creates_ephemeral(op: &TxnOp) -> bool {
    match op {
        TxnOp::Create { flags, .. } => {
            crate::types::CreateMode::from_flag(*flags).is_some_and(|m| m.is_ephemeral())
        }
        TxnOp::Multi(ops) => ops.iter().any(creates_ephemeral),
        _ => false,
    }
}

/// Makes a local session global before its first ephemeral, keeping its
/// id, password and timeout (`localSessionsUpgradingEnabled`); without
/// upgrading, an ephemeral on a local session is refused, as in ZooKeeper.
async fn upgrade(shared: &Shared, ctx: &mut ConnCtx) -> Result<(), Error> {
    if !shared.db.config.local_sessions_upgrading_enabled {
        return Err(Error::EphemeralOnLocalSession);
    }
    let (timeout, passwd) = shared
        .db
        .local_session(ctx.session)
        .ok_or(Error::SessionExpired)?;
    let op = TxnOp::CreateSession { timeout, passwd };
    let txn = session_txn(ctx.session, shared.owner, op);
    match shared.consensus.propose(txn).await? {
        (_, TxnResult::Session) => {
            shared.db.remove_local_session(ctx.session);
            ctx.local = false;
            tracing::info!("local session {:#x} is now global", ctx.session);
            Ok(())
        }
        (_, TxnResult::Failed(code)) => Err(Error::from_code(code).unwrap_or(Error::SystemError)),
        _ => Err(Error::SystemError),
    }
}

/// reconfig needs `reconfigEnabled`, text that parses, and WRITE on
/// /zookeeper/config (by default only the super user has it), checked in
/// ZooKeeper's order.
fn prep_reconfig(
    shared: &Shared,
    ctx: &ConnCtx,
    xid: i32,
    r: proto::ReconfigRequest,
    started: Instant,
) -> Pending {
    if !shared.db.config.reconfig_enabled {
        return reply_err(xid, Error::ReconfigDisabled);
    }
    // ZooKeeper: "standalone mode - reconfiguration currently not supported".
    if shared.consensus.mode() == crate::consensus::Mode::Standalone {
        return reply_err(xid, Error::Unimplemented);
    }
    if ctx.read_only {
        return reply_err(xid, Error::NotReadOnly);
    }
    let change = Reconfig {
        joining: r.joining_servers.unwrap_or_default(),
        leaving: r.leaving_servers.unwrap_or_default(),
        new_members: r.new_members.unwrap_or_default(),
        from_version: r.cur_config_id,
    };
    // The leader checks the version again; this member's view answers
    // first so the order of errors is ZooKeeper's: version, text, rights.
    if change.from_version != -1 && Some(change.from_version) != config_version(shared) {
        return reply_err(xid, Error::BadVersion);
    }
    if let Err(e) = change.validate() {
        return reply_err(xid, e);
    }
    let allowed = shared.db.view(|state| {
        state
            .tree
            .check_acl(CONFIG_NODE, perms::WRITE, &ctx.auth, ctx.super_user)
    });
    if let Err(e) = allowed {
        return reply_err(xid, e);
    }
    Pending::Reconfig {
        xid,
        change,
        started,
    }
}

/// The `version=` of this member's /zookeeper/config.
fn config_version(shared: &Shared) -> Option<i64> {
    shared.db.view(|state| {
        let (data, _) = state.tree.get_data(CONFIG_NODE).ok()?;
        let text = String::from_utf8_lossy(data.as_deref()?).into_owned();
        let hex = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("version="))?;
        i64::from_str_radix(hex.trim(), 16).ok()
    })
}

fn reply_err(xid: i32, e: Error) -> Pending {
    Pending::Reply {
        xid,
        err: e.code(),
        resp: Response::Empty,
        close: false,
    }
}

/// Auth packets change the identities later requests carry, so they are
/// handled at Prep, in order. A failed auth is answered and then closed.
fn auth(shared: &Shared, ctx: &mut ConnCtx, xid: i32, scheme: &str, secret: &[u8]) -> Pending {
    if scheme != "digest" {
        tracing::info!("auth scheme {scheme:?} not supported");
        let failed = &shared.db.stats.auth_failed_count;
        failed.fetch_add(1, Ordering::Relaxed);
        return Pending::Reply {
            xid,
            err: Error::AuthFailed.code(),
            resp: Response::Empty,
            close: true,
        };
    }
    let user_pass = String::from_utf8_lossy(secret);
    let id = crate::tree::digest(&user_pass);
    if shared.db.config.super_digest.as_deref() == Some(id.as_str()) {
        ctx.super_user = true;
        ctx.add_id(Id::new("super", ""));
    }
    ctx.add_id(Id::new("digest", &id));
    Pending::Reply {
        xid,
        err: 0,
        resp: Response::Empty,
        close: false,
    }
}

/// `enforce.auth.enabled`: a connection may send requests other than auth
/// and SASL only once it holds an identity of one of `enforce.auth.schemes`.
fn authenticated_enough(shared: &Shared, ctx: &ConnCtx) -> bool {
    match &shared.enforce_auth {
        None => true,
        Some(schemes) => ctx.auth.iter().any(|id| schemes.contains(&id.scheme)),
    }
}

/// One step of a SASL exchange (opcode 102). A failure is AuthFailed and
/// closes the connection, as in ZooKeeper; so is SASL on a member with no
/// JAAS users.
fn sasl(shared: &Shared, ctx: &mut ConnCtx, xid: i32, token: &[u8]) -> Pending {
    let failed = |why: &str| {
        tracing::info!("SASL authentication failed: {why}");
        let failed = &shared.db.stats.auth_failed_count;
        failed.fetch_add(1, Ordering::Relaxed);
        Pending::Reply {
            xid,
            err: Error::AuthFailed.code(),
            resp: Response::Empty,
            close: true,
        }
    };
    let Some(users) = &shared.sasl_users else {
        return failed("no JAAS Server section is configured");
    };
    let token = match ctx.sasl.step(users, token) {
        Ok(crate::sasl::Step::Continue(token)) => token,
        Ok(crate::sasl::Step::Authenticated { user, token }) => {
            ctx.super_user |= shared.sasl_super_user.as_deref() == Some(user.as_str());
            ctx.add_id(Id::new("sasl", &user));
            token
        }
        Err(why) => return failed(&why),
    };
    Pending::Reply {
        xid,
        err: 0,
        resp: Response::Sasl(proto::SetSASLResponse { token }),
        close: false,
    }
}

/// The Final stage: the connection's writer.
struct Output {
    shared: Arc<Shared>,
    conn: ConnId,
    session: SessionId,
    stats: Arc<ConnStats>,
    wr: BufWriter<Wr>,
    /// Event frames taken from the queue, waiting for their turn.
    events: Events,
    queue: Arc<EventQueue>,
    reads: ReadsAhead,
}

impl Output {
    async fn run(mut self, mut pending: mpsc::Receiver<Pending>) {
        loop {
            // Idle: the core may write events to the socket meanwhile.
            match self.queue.rest() {
                None => break,
                Some(evs) if !evs.is_empty() => {
                    self.events.extend(evs);
                    if self.flush_all().await.is_err() {
                        break;
                    }
                    continue;
                }
                Some(_) => {}
            }
            tokio::select! {
                biased;
                p = pending.recv() => {
                    let Some(p) = p else { break };
                    if self.answer(p, &mut pending).await.is_err() {
                        break;
                    }
                }
                () = self.queue.woken() => {}
            }
        }
        self.queue.detach();
        self.reads.none_left();
        let _ = self.wr.flush().await;
        let _ = self.wr.shutdown().await;
    }

    /// Answers `p` and whatever follows it at once, then flushes. Err ends
    /// the connection (a write failed, or it is to close).
    async fn answer(
        &mut self,
        mut p: Pending,
        pending: &mut mpsc::Receiver<Pending>,
    ) -> Result<(), ()> {
        loop {
            self.take_events()?;
            // A close (no leader for too long) must not wait for a write
            // that is still settling; its client moves on.
            let queue = self.queue.clone();
            let done = tokio::select! {
                done = self.complete(p) => done,
                () = queue.closed() => return Err(()),
            };
            let (zxid, frame, close) = done;
            self.take_events()?;
            if self.send(zxid, frame).await.is_err() || close {
                return Err(());
            }
            match pending.try_recv() {
                Ok(next) => p = next,
                Err(_) => return self.flush_all().await.map_err(drop),
            }
        }
    }

    /// Moves the queued events here; Err if the core asked to close.
    fn take_events(&mut self) -> Result<(), ()> {
        let evs = self.queue.claim().ok_or(())?;
        self.events.extend(evs);
        Ok(())
    }

    async fn send(&mut self, zxid: Zxid, frame: Vec<u8>) -> std::io::Result<()> {
        while self.events.front().is_some_and(|(z, _)| *z <= zxid) {
            let (_, ev) = self.events.pop_front().unwrap();
            self.write_event(&ev).await?;
        }
        self.stats.sent.fetch_add(1, Ordering::Relaxed);
        self.stats.last_zxid.store(zxid, Ordering::Relaxed);
        let st = &self.shared.db.stats;
        st.packets_sent.fetch_add(1, Ordering::Relaxed);
        st.response_bytes
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
        self.wr.write_all(&frame).await
    }

    async fn write_event(&mut self, frame: &[u8]) -> std::io::Result<()> {
        let st = &self.shared.db.stats;
        st.packets_sent.fetch_add(1, Ordering::Relaxed);
        st.response_bytes
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
        self.wr.write_all(frame).await
    }

    async fn flush_all(&mut self) -> std::io::Result<()> {
        while let Some((_, ev)) = self.events.pop_front() {
            self.write_event(&ev).await?;
        }
        self.wr.flush().await
    }

    fn reply(xid: i32, zxid: Zxid, err: i32, resp: &Response) -> Vec<u8> {
        let resp = if err != 0 { &Response::Empty } else { resp };
        frame::encode_reply(&ReplyHeader { xid, zxid, err }, resp)
    }

    /// Completes one request: returns its zxid, reply frame, and whether
    /// the connection closes after it.
    async fn complete(&mut self, p: Pending) -> (Zxid, Vec<u8>, bool) {
        let db = &self.shared.db;
        match p {
            Pending::Reply {
                xid,
                err,
                resp,
                close,
            } => {
                let zxid = db.last_zxid();
                (zxid, Self::reply(xid, zxid, err, &resp), close)
            }
            Pending::Write {
                xid,
                op,
                kind,
                write,
                started,
                close,
                counted,
            } => {
                let done = write.wait().await;
                drop(counted);
                db.stats.record_request(started, op, true);
                match done {
                    // Another member claimed the session: like ZooKeeper,
                    // close without a reply (ConnectionLoss); the client's
                    // reconnect claims it back if this is its live one.
                    Ok((zxid, TxnResult::Failed(code))) if code == Error::SessionMoved.code() => {
                        (zxid, Vec::new(), true)
                    }
                    Ok((zxid, result)) => {
                        let (err, resp) = ops::write_reply(&kind, result);
                        (zxid, Self::reply(xid, zxid, err, &resp), close)
                    }
                    // Outcome unknown: drop the connection so the client
                    // reports ConnectionLoss, as ZooKeeper's clients expect.
                    Err(_) => (db.last_zxid(), Vec::new(), true),
                }
            }
            Pending::Read {
                xid,
                req,
                started,
                auth,
                super_user,
                taken,
            } => {
                let ctx = ConnCtx {
                    id: self.conn,
                    session: self.session,
                    auth,
                    super_user,
                    read_only: false,
                    local: false,
                    sasl: Default::default(),
                };
                // Optional linearizable reads: wait for the leader's read
                // index first (ZooKeeper reads are otherwise sequential).
                if db.config.linearizable_reads {
                    if let Err(e) = self.shared.consensus.sync().await {
                        let zxid = db.last_zxid();
                        return (
                            zxid,
                            Self::reply(xid, zxid, e.code(), &Response::Empty),
                            false,
                        );
                    }
                }
                let op = req.op_type();
                let (out, zxid) = db.read(|state, watches| ops::read(state, watches, &ctx, req));
                drop(taken); // the writes after it may go now
                for ev in out.immediate {
                    let frame = Bytes::from(frame::encode_notification(&ev));
                    self.events.push_back((zxid, frame));
                }
                db.stats.record_request(started, op, false);
                (zxid, Self::reply(xid, zxid, out.err, &out.resp), false)
            }
            Pending::Reconfig {
                xid,
                change,
                started,
            } => {
                let res = self.shared.consensus.reconfig(change).await;
                db.stats.record_request(started, proto::op::RECONFIG, true);
                let zxid = db.last_zxid();
                let (err, resp) = match res {
                    Ok((data, stat)) => (
                        0,
                        Response::GetData(proto::GetDataResponse {
                            data: Some(data),
                            stat,
                        }),
                    ),
                    Err(e) => (e.code(), Response::Empty),
                };
                (zxid, Self::reply(xid, zxid, err, &resp), false)
            }
            Pending::Sync { xid, path, started } => {
                let res = self.shared.consensus.sync().await;
                db.stats.record_request(started, proto::op::SYNC, false);
                let zxid = db.last_zxid();
                let err = res.err().map(|e| e.code()).unwrap_or(0);
                (
                    zxid,
                    Self::reply(
                        xid,
                        zxid,
                        err,
                        &Response::Sync(proto::SyncResponse { path }),
                    ),
                    false,
                )
            }
        }
    }
}
