//! The connection task: the only owner of the socket. It connects to the
//! hosts in turn, performs the handshake (resuming the session with
//! lastZxidSeen), re-sends auth and watches after a reconnect, pipelines
//! requests with increasing xids, matches replies in order, pings when
//! idle, and decides the session's fate (Disconnected, Expired, Closed,
//! AuthFailed). Replies and events go to the event thread (`dispatch`) in
//! wire order; this task never runs user code.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::dispatch::Job;
use super::watches::{Table, Watcher};
use super::{SessionState, Shared};
use crate::proto::{
    self, frame, AuthPacket, ConnectRequest, ConnectResponse, Reader, Record, ReplyHeader, Request,
    Response, WatcherEvent,
};
use crate::Error;

/// Replies larger than this close the connection (ZooKeeper's client
/// checks jute.maxbuffer; this is generous so big listings still work).
const MAX_REPLY: usize = 16 * 1024 * 1024;

/// ZooKeeper splits SetWatches so no packet carries more path bytes.
const SET_WATCHES_MAX_BYTES: usize = 128 * 1024;

pub(crate) type Reply = oneshot::Sender<Result<Response, Error>>;
pub(crate) type Done = oneshot::Sender<Result<(), Error>>;

/// Which table a successful (or, for exists, NoNode) reply registers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchReg {
    Exists,
    Data,
    Child,
    Persistent,
    Recursive,
}

/// One caller request on its way to the server.
pub(crate) struct Packet {
    pub req: Request,
    pub reply: Reply,
    /// (kind, caller path, watcher) registered when the reply allows it.
    pub watch: Option<(WatchReg, String, Watcher)>,
    /// Issued from the event thread: complete without queueing there.
    pub direct: bool,
    pub queued_at: Instant,
}

pub(crate) enum Command {
    Request(Packet),
    AddAuth {
        scheme: String,
        auth: Vec<u8>,
        done: Done,
    },
    Close(Done),
}

/// What a sent frame expects back, in order.
enum InFlight {
    Request {
        op_type: i32,
        reply: Reply,
        watch: Option<(WatchReg, String, Watcher)>,
        direct: bool,
    },
    Auth(Option<Done>),
    SetWatches,
    Close,
}

/// How a session ends for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Closed,
    Expired,
    AuthFailed,
}

/// The timing and handshake settings the task needs.
pub(crate) struct Settings {
    pub hosts: Vec<String>,
    pub session_timeout: Duration,
    pub connect_timeout: Duration,
    pub read_only: bool,
    pub auth: Vec<(String, Vec<u8>)>,
    pub resume: Option<(i64, Vec<u8>)>,
    pub renew_expired: bool,
    pub tls: Option<crate::tls::Dialer>,
    pub sasl: Option<crate::sasl::SaslClient>,
}

/// A socket after a successful handshake.
struct Established {
    host: String,
    rd: Box<dyn AsyncRead + Send + Unpin>,
    wr: Box<dyn AsyncWrite + Send + Unpin>,
    buf: BytesMut,
    resp: ConnectResponse,
}

pub(crate) struct Task {
    shared: Arc<Shared>,
    cmds: mpsc::UnboundedReceiver<Command>,
    cmds_open: bool,
    settings: Settings,
    next_host: usize,
    last_zxid: i64,
    session_id: i64,
    passwd: Vec<u8>,
    timeout: Duration,
    next_xid: i32,
    /// Requests made while disconnected, oldest first.
    waiting: VecDeque<Packet>,
    /// Close was asked for (by `close()` or by dropping every handle).
    closing: bool,
    close_waiters: Vec<Done>,
}

impl Task {
    pub fn new(
        shared: Arc<Shared>,
        cmds: mpsc::UnboundedReceiver<Command>,
        settings: Settings,
    ) -> Task {
        let timeout = settings.session_timeout;
        let (session_id, passwd) = settings.resume.clone().unwrap_or((0, vec![0; 16]));
        Task {
            shared,
            cmds,
            cmds_open: true,
            settings,
            next_host: 0,
            last_zxid: 0,
            session_id,
            passwd,
            timeout,
            next_xid: 1,
            waiting: VecDeque::new(),
            closing: false,
            close_waiters: Vec::new(),
        }
    }

    pub async fn run(mut self) {
        let end = loop {
            let end = match self.establish().await {
                Ok(est) => match self.serve(est).await {
                    Some(end) => end,
                    None if self.closing => End::Closed,
                    None => {
                        self.shared.set_state(SessionState::Disconnected);
                        continue;
                    }
                },
                Err(end) => end,
            };
            if matches!(end, End::Expired) && self.settings.renew_expired && !self.closing {
                self.renew();
                continue;
            }
            break end;
        };
        self.finish(end);
    }

    /// The session expired and a new one is wanted (kazoo's behaviour):
    /// everyone hears Expired, what waited for the old session fails with
    /// SessionExpired and its watches are gone; then we connect afresh.
    fn renew(&mut self) {
        self.end_session(SessionState::Expired, &Error::SessionExpired);
        self.session_id = 0;
        self.passwd = vec![0; 16];
        self.timeout = self.settings.session_timeout;
        self.shared.set_state(SessionState::Connecting);
    }

    fn xid(&mut self) -> i32 {
        let x = self.next_xid;
        self.next_xid = if x == i32::MAX { 1 } else { x + 1 };
        x
    }

    /// Connects to hosts in turn until a handshake succeeds, buffering
    /// requests meanwhile and failing those that waited a session timeout.
    async fn establish(&mut self) -> Result<Established, End> {
        let n = self.settings.hosts.len();
        let mut failures = 0u32;
        loop {
            if self.closing {
                return Err(End::Closed);
            }
            let host = self.settings.hosts[self.next_host % n].clone();
            self.next_host += 1;
            let req = ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: self.last_zxid,
                time_out: self
                    .settings
                    .session_timeout
                    .as_millis()
                    .min(i32::MAX as u128) as i32,
                session_id: self.session_id,
                passwd: self.passwd.clone(),
                read_only: self.settings.read_only,
            };
            // Back off only once every host has failed in this round.
            let rounds = failures / n as u32;
            let backoff = if failures > 0 && failures.is_multiple_of(n as u32) {
                Duration::from_millis((10u64 << rounds.min(6)).min(500))
            } else {
                Duration::ZERO
            };
            let limit = self.settings.connect_timeout;
            let (tls, sasl) = (self.settings.tls.clone(), self.settings.sasl.clone());
            let attempt = async move {
                tokio::time::sleep(backoff).await;
                let shake = handshake(&host, &req, tls.as_ref(), sasl.as_ref());
                match tokio::time::timeout(limit, shake).await {
                    Ok(r) => r.map_err(|e| (e.clone(), format!("{host}: {e}"))),
                    Err(_) => Err((Error::ConnectionLoss, format!("{host}: connect timed out"))),
                }
            };
            tokio::pin!(attempt);
            let res = loop {
                let deadline = self.waiting_deadline();
                tokio::select! {
                    r = &mut attempt => break r,
                    cmd = self.cmds.recv(), if self.cmds_open => self.on_command_offline(cmd),
                    _ = sleep_until(deadline) => self.expire_waiting(),
                }
                if self.closing {
                    return Err(End::Closed);
                }
            };
            match res {
                Ok(est) if est.resp.time_out <= 0 => return Err(End::Expired),
                Ok(est) => return Ok(est),
                // A refused SASL login ends the session, as a refused auth
                // packet does.
                Err((Error::AuthFailed, why)) => {
                    tracing::warn!("zkrs client: {why}");
                    return Err(End::AuthFailed);
                }
                Err((_, why)) => {
                    tracing::debug!("zkrs client: {why}");
                    failures += 1;
                }
            }
        }
    }

    fn waiting_deadline(&self) -> Option<Instant> {
        self.waiting.front().map(|p| p.queued_at + self.timeout)
    }

    fn expire_waiting(&mut self) {
        let now = Instant::now();
        while let Some(p) = self.waiting.front() {
            if p.queued_at + self.timeout > now {
                break;
            }
            let p = self.waiting.pop_front().expect("front exists");
            self.complete(p.direct, p.reply, Err(Error::ConnectionLoss));
        }
    }

    fn complete(&self, direct: bool, reply: Reply, res: Result<Response, Error>) {
        self.shared.dispatcher.complete(
            direct,
            Box::new(move || {
                let _ = reply.send(res);
            }),
        );
    }

    fn add_auth(&mut self, scheme: String, auth: Vec<u8>) {
        let entry = (scheme, auth);
        if !self.settings.auth.contains(&entry) {
            self.settings.auth.push(entry);
        }
    }

    fn on_command_offline(&mut self, cmd: Option<Command>) {
        match cmd {
            Some(Command::Request(p)) => self.waiting.push_back(p),
            // Sent with the other auth packets once connected; a failure
            // then ends the session as AuthFailed (ZooKeeper's behavior).
            Some(Command::AddAuth { scheme, auth, done }) => {
                self.add_auth(scheme, auth);
                let _ = done.send(Ok(()));
            }
            Some(Command::Close(done)) => {
                self.closing = true;
                self.close_waiters.push(done);
            }
            None => {
                self.cmds_open = false;
                self.closing = true;
            }
        }
    }

    /// Runs one connection. `None` means the connection was lost and the
    /// session may be resumed elsewhere.
    async fn serve(&mut self, est: Established) -> Option<End> {
        let Established {
            host,
            mut rd,
            wr,
            mut buf,
            resp,
        } = est;
        self.session_id = resp.session_id;
        self.passwd = resp.passwd.clone();
        self.timeout = Duration::from_millis(resp.time_out as u64);
        {
            let mut s = crate::lock(&self.shared.session);
            s.id = resp.session_id;
            s.passwd = resp.passwd.clone();
            s.timeout = self.timeout;
            s.host = host;
        }
        let (wtx, wrx) = mpsc::unbounded_channel();
        let mut writer = tokio::spawn(write_loop(wr, wrx));
        let mut link = Link {
            wtx,
            last_send: Instant::now(),
            inflight: VecDeque::new(),
        };
        // Prime the connection as ZooKeeper does: auth, then watches, then
        // whatever waited; the server handles them in this order.
        for (scheme, auth) in self.settings.auth.clone() {
            link.send_auth(scheme, auth, None);
        }
        for sw in self.set_watches() {
            link.send(
                Request::SetWatches2(sw).to_packet(proto::SET_WATCHES_XID),
                InFlight::SetWatches,
            );
        }
        while let Some(p) = self.waiting.pop_front() {
            self.send_packet(&mut link, p);
        }
        if self.closing {
            let xid = self.xid();
            link.send(Request::CloseSession.to_packet(xid), InFlight::Close);
        }
        self.shared.set_state(if resp.read_only {
            SessionState::ConnectedReadOnly
        } else {
            SessionState::Connected
        });
        let ping_every = self.timeout / 3;
        let read_timeout = self.timeout * 2 / 3;
        let mut last_recv = Instant::now();
        // One timer for both deadlines, moved only when it fires: sends and
        // reads push the deadlines later, and re-arming a timer for every
        // frame cost more than the frame's own work under load.
        let due = |last_send: Instant, last_recv: Instant| {
            (last_send + ping_every).min(last_recv + read_timeout)
        };
        let timer = tokio::time::sleep_until(due(link.last_send, last_recv));
        tokio::pin!(timer);
        let outcome = loop {
            tokio::select! {
                r = rd.read_buf(&mut buf) => {
                    match r {
                        Ok(0) => break Err(Error::ConnectionLoss),
                        Ok(_) => {}
                        Err(e) => break Err(e.into()),
                    }
                    last_recv = Instant::now();
                    match self.on_frames(&mut buf, &mut link) {
                        Ok(None) => {}
                        Ok(Some(end)) => break Ok(end),
                        Err(e) => break Err(e),
                    }
                }
                cmd = self.cmds.recv(), if self.cmds_open => self.on_command_online(cmd, &mut link),
                () = &mut timer => {
                    let now = Instant::now();
                    if now >= last_recv + read_timeout {
                        break Err(Error::Io(format!("no reply for {read_timeout:?}")));
                    }
                    if now >= link.last_send + ping_every {
                        // Ping replies carry xid -2 and are not matched in order.
                        link.send_untracked(Request::Ping.to_packet(proto::PING_XID));
                    }
                    timer.as_mut().reset(due(link.last_send, last_recv));
                }
                _ = &mut writer => break Err(Error::ConnectionLoss),
            }
        };
        drop(link.wtx);
        writer.abort();
        let fail = match outcome {
            Ok(End::Closed) => Error::ConnectionLoss,
            Ok(End::Expired) => Error::SessionExpired,
            Ok(End::AuthFailed) => Error::AuthFailed,
            Err(ref e) => {
                tracing::info!("zkrs client: connection lost: {e}");
                Error::ConnectionLoss
            }
        };
        for (_, f) in link.inflight.drain(..) {
            match f {
                InFlight::Request { reply, direct, .. } => {
                    self.complete(direct, reply, Err(fail.clone()))
                }
                InFlight::Auth(Some(done)) => {
                    let _ = done.send(Err(fail.clone()));
                }
                _ => {}
            }
        }
        outcome.ok()
    }

    fn send_packet(&mut self, link: &mut Link, p: Packet) {
        let xid = self.xid();
        link.send(
            p.req.to_packet(xid),
            InFlight::Request {
                op_type: p.req.op_type(),
                reply: p.reply,
                watch: p.watch,
                direct: p.direct,
            },
        );
    }

    fn on_command_online(&mut self, cmd: Option<Command>, link: &mut Link) {
        match cmd {
            Some(Command::Request(p)) if self.closing => {
                self.complete(p.direct, p.reply, Err(Error::ConnectionLoss))
            }
            Some(Command::Request(p)) => self.send_packet(link, p),
            Some(Command::AddAuth { scheme, auth, done }) => {
                self.add_auth(scheme.clone(), auth.clone());
                link.send_auth(scheme, auth, Some(done));
            }
            Some(Command::Close(done)) => {
                self.close_waiters.push(done);
                self.start_close(link);
            }
            None => {
                self.cmds_open = false;
                self.start_close(link);
            }
        }
    }

    fn start_close(&mut self, link: &mut Link) {
        if !self.closing {
            self.closing = true;
            let xid = self.xid();
            link.send(Request::CloseSession.to_packet(xid), InFlight::Close);
        }
    }

    /// Handles every complete frame in `buf`.
    fn on_frames(&mut self, buf: &mut BytesMut, link: &mut Link) -> Result<Option<End>, Error> {
        loop {
            let (used, end) = match frame::decode(buf, MAX_REPLY)? {
                None => return Ok(None),
                Some((used, payload)) => (used, self.on_frame(payload, link)?),
            };
            buf.advance(used);
            if end.is_some() {
                return Ok(end);
            }
        }
    }

    fn on_frame(&mut self, payload: &[u8], link: &mut Link) -> Result<Option<End>, Error> {
        let mut r = Reader::new(payload);
        let hdr = ReplyHeader::read(&mut r)?;
        match hdr.xid {
            proto::NOTIFICATION_XID => {
                let we = WatcherEvent::read(&mut r)?;
                if let Some(mut ev) = we.to_watched_event() {
                    ev.path = self.shared.chroot.strip(&ev.path);
                    let watchers = self.shared.watches().materialize(&ev);
                    if !watchers.is_empty() {
                        self.shared.dispatcher.push(Job::Event(watchers, ev));
                    }
                }
                return Ok(None);
            }
            proto::PING_XID => return Ok(None),
            _ => {}
        }
        let Some((want, f)) = link.inflight.pop_front() else {
            return Err(Error::Io(format!(
                "reply xid {} with nothing pending",
                hdr.xid
            )));
        };
        if want != hdr.xid {
            return Err(Error::Io(format!(
                "reply xid {} but {want} expected",
                hdr.xid
            )));
        }
        match f {
            InFlight::Request {
                op_type,
                reply,
                watch,
                direct,
            } => {
                if hdr.zxid > 0 {
                    self.last_zxid = hdr.zxid;
                }
                let res = match Error::from_code(hdr.err) {
                    Some(e) => Err(e),
                    None => Response::decode(op_type, &mut r).map_err(Error::from),
                };
                if let Some((kind, path, w)) = watch {
                    self.register(kind, hdr.err, &path, w);
                }
                self.complete(direct, reply, res);
                Ok(None)
            }
            InFlight::Auth(done) => {
                let failed = hdr.err != 0;
                if failed {
                    // Before the caller hears of it, so it sees the state.
                    self.shared.set_state(SessionState::AuthFailed);
                }
                if let Some(done) = done {
                    let _ = done.send(if failed {
                        Err(Error::AuthFailed)
                    } else {
                        Ok(())
                    });
                }
                Ok(failed.then_some(End::AuthFailed))
            }
            InFlight::SetWatches => {
                if hdr.err != 0 {
                    tracing::warn!("zkrs client: setWatches failed with {}", hdr.err);
                }
                Ok(None)
            }
            InFlight::Close => Ok(Some(End::Closed)),
        }
    }

    /// Registers a watch the way `WatchRegistration.register` does: only
    /// when the reply succeeded, and for exists also when the node is
    /// missing (then as an exist watch).
    fn register(&self, kind: WatchReg, err: i32, path: &str, w: Watcher) {
        let table = match (kind, err) {
            (WatchReg::Exists, 0) => Table::Data,
            (WatchReg::Exists, e) if e == Error::NoNode.code() => Table::Exist,
            (_, e) if e != 0 => return,
            (WatchReg::Exists | WatchReg::Data, _) => Table::Data,
            (WatchReg::Child, _) => Table::Child,
            (WatchReg::Persistent, _) => Table::Persistent,
            (WatchReg::Recursive, _) => Table::Recursive,
        };
        self.shared.watches().add(table, path, w);
    }

    /// SetWatches2 packets for every registered watch (server paths),
    /// relative to the last zxid seen.
    fn set_watches(&self) -> Vec<proto::SetWatches2> {
        let paths = self.shared.watches().paths();
        let chroot = &self.shared.chroot;
        let mut out = Vec::new();
        let mut cur = proto::SetWatches2 {
            relative_zxid: self.last_zxid,
            ..Default::default()
        };
        let mut bytes = 0;
        let lists = [
            (paths.data, 0),
            (paths.exist, 1),
            (paths.child, 2),
            (paths.persistent, 3),
            (paths.recursive, 4),
        ];
        for (list, which) in lists {
            for p in list {
                let p = chroot.prepend(&p);
                if bytes + p.len() > SET_WATCHES_MAX_BYTES && bytes > 0 {
                    out.push(std::mem::replace(
                        &mut cur,
                        proto::SetWatches2 {
                            relative_zxid: self.last_zxid,
                            ..Default::default()
                        },
                    ));
                    bytes = 0;
                }
                bytes += p.len();
                match which {
                    0 => cur.data_watches.push(p),
                    1 => cur.exist_watches.push(p),
                    2 => cur.child_watches.push(p),
                    3 => cur.persistent_watches.push(p),
                    _ => cur.persistent_recursive_watches.push(p),
                }
            }
        }
        if bytes > 0 {
            out.push(cur);
        }
        out
    }

    /// Reports `state`, drops the session's watches and fails what waited
    /// for it with `err`. The state first: a caller whose request is failed
    /// here, or whose command is dropped with the channel, reads it to pick
    /// its error.
    fn end_session(&mut self, state: SessionState, err: &Error) {
        self.shared.set_state(state);
        self.shared.watches().clear();
        while let Some(p) = self.waiting.pop_front() {
            self.complete(p.direct, p.reply, Err(err.clone()));
        }
    }

    /// The session is over: fail what is left and report the final state.
    fn finish(mut self, end: End) {
        let (state, err) = match end {
            End::Closed => (SessionState::Closed, Error::ConnectionLoss),
            End::Expired => (SessionState::Expired, Error::SessionExpired),
            End::AuthFailed => (SessionState::AuthFailed, Error::AuthFailed),
        };
        self.end_session(state, &err);
        for done in self.close_waiters.drain(..) {
            let _ = done.send(Ok(()));
        }
        self.cmds.close();
        while let Ok(cmd) = self.cmds.try_recv() {
            match cmd {
                Command::Request(p) => self.complete(p.direct, p.reply, Err(err.clone())),
                Command::AddAuth { done, .. } => {
                    let _ = done.send(Err(err.clone()));
                }
                Command::Close(done) => {
                    let _ = done.send(Ok(()));
                }
            }
        }
    }
}

/// The write side of one connection and what it awaits.
struct Link {
    wtx: mpsc::UnboundedSender<Vec<u8>>,
    last_send: Instant,
    inflight: VecDeque<(i32, InFlight)>,
}

impl Link {
    fn send(&mut self, packet: Vec<u8>, f: InFlight) {
        let xid = i32::from_be_bytes(packet[..4].try_into().expect("header has an xid"));
        self.send_untracked(packet);
        self.inflight.push_back((xid, f));
    }

    fn send_untracked(&mut self, packet: Vec<u8>) {
        // A closed writer shows up as the writer task ending.
        let _ = self.wtx.send(frame::encode(&packet));
        self.last_send = Instant::now();
    }

    fn send_auth(&mut self, scheme: String, auth: Vec<u8>, done: Option<Done>) {
        let p = Request::Auth(AuthPacket {
            type_: 0,
            scheme,
            auth,
        });
        self.send(p.to_packet(proto::AUTH_XID), InFlight::Auth(done));
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// TCP connect (then TLS, if set), ConnectRequest, ConnectResponse, then
/// SASL if set (AuthFailed when the server refuses it).
async fn handshake(
    host: &str,
    req: &ConnectRequest,
    tls: Option<&crate::tls::Dialer>,
    sasl: Option<&crate::sasl::SaslClient>,
) -> Result<Established, Error> {
    let (mut rd, mut wr) = open(host, tls).await?;
    wr.write_all(&frame::encode_record(req)).await?;
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let payload = next_frame(&mut rd, &mut buf).await?;
    let resp = ConnectResponse::read(&mut Reader::new(&payload))?;
    if let Some(sasl) = sasl.filter(|_| resp.time_out > 0) {
        authenticate(&mut rd, &mut wr, &mut buf, sasl).await?;
    }
    Ok(Established {
        host: host.to_string(),
        rd,
        wr,
        buf,
        resp,
    })
}

/// One frame's payload; what follows it stays in `buf`.
async fn next_frame(
    rd: &mut Box<dyn AsyncRead + Send + Unpin>,
    buf: &mut BytesMut,
) -> Result<Vec<u8>, Error> {
    loop {
        if let Some((used, payload)) = frame::decode(buf, MAX_REPLY)? {
            let payload = payload.to_vec();
            buf.advance(used);
            return Ok(payload);
        }
        if rd.read_buf(buf).await? == 0 {
            return Err(Error::Io("closed during handshake".into()));
        }
    }
}

/// SASL DIGEST-MD5 before the session is used, as ZooKeeper's clients do:
/// an empty token, the server's challenge, our response, its rspauth.
async fn authenticate(
    rd: &mut Box<dyn AsyncRead + Send + Unpin>,
    wr: &mut Box<dyn AsyncWrite + Send + Unpin>,
    buf: &mut BytesMut,
    sasl: &crate::sasl::SaslClient,
) -> Result<(), Error> {
    let exchange = |token: Vec<u8>, xid: i32| {
        let req = Request::Sasl(proto::GetSASLRequest { token });
        frame::encode(&req.to_packet(xid))
    };
    wr.write_all(&exchange(Vec::new(), 1)).await?;
    let challenge = sasl_reply(rd, buf).await?;
    let (token, rspauth) = sasl.respond(&challenge).map_err(|why| {
        tracing::warn!("SASL: {why}");
        Error::AuthFailed
    })?;
    wr.write_all(&exchange(token, 2)).await?;
    let last = sasl_reply(rd, buf).await?;
    if !crate::sasl::SaslClient::check_rspauth(&last, &rspauth) {
        tracing::warn!("SASL: the server's rspauth does not prove it knows the password");
        return Err(Error::AuthFailed);
    }
    Ok(())
}

async fn sasl_reply(
    rd: &mut Box<dyn AsyncRead + Send + Unpin>,
    buf: &mut BytesMut,
) -> Result<Vec<u8>, Error> {
    // A server that refuses closes the connection after its answer.
    let payload = next_frame(rd, buf).await.map_err(|_| Error::AuthFailed)?;
    let mut r = Reader::new(&payload);
    let hdr = ReplyHeader::read(&mut r)?;
    if hdr.err != 0 {
        return Err(Error::from_code(hdr.err).unwrap_or(Error::AuthFailed));
    }
    Ok(proto::SetSASLResponse::read(&mut r)?.token)
}

type Halves = (
    Box<dyn AsyncRead + Send + Unpin>,
    Box<dyn AsyncWrite + Send + Unpin>,
);

async fn open(host: &str, tls: Option<&crate::tls::Dialer>) -> Result<Halves, Error> {
    let stream = TcpStream::connect(host).await?;
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        let (rd, wr) = stream.into_split();
        return Ok((Box::new(rd), Box::new(wr)));
    };
    let stream = tls
        .connect(host, stream)
        .await
        .map_err(|e| Error::Io(format!("TLS with {host}: {e}")))?;
    let (rd, wr) = tokio::io::split(stream);
    Ok((Box::new(rd), Box::new(wr)))
}

/// Writes frames in order, flushing when the queue runs dry. Ends on a
/// write error, or (after a clean shutdown) when the sender is dropped.
async fn write_loop(
    wr: Box<dyn AsyncWrite + Send + Unpin>,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let mut wr = BufWriter::with_capacity(64 * 1024, wr);
    while let Some(f) = rx.recv().await {
        if wr.write_all(&f).await.is_err() {
            return;
        }
        while let Ok(f) = rx.try_recv() {
            if wr.write_all(&f).await.is_err() {
                return;
            }
        }
        if wr.flush().await.is_err() {
            return;
        }
    }
    let _ = wr.shutdown().await;
}
