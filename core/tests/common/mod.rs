//! Shared helpers for the server integration tests: start a standalone
//! member on a temporary data directory, and a tiny raw-wire ZooKeeper
//! client that speaks frames through `zkrs::proto` only (no zkrs client).
//!
//! Every wait is bounded: a test that hangs fails with a timeout instead.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use zkrs::config::Config;
use zkrs::proto::{
    self, frame, op, ConnectRequest, ConnectResponse, MultiOp, Reader, Record, ReplyHeader,
    Request, Response, WatcherEvent,
};
use zkrs::server::Server;
use zkrs::{Acl, Stat};

/// How long any single wire wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// The config text every test starts from; `extra` lines are appended.
pub fn config_text(dir: &Path, extra: &str) -> String {
    format!(
        "tickTime=200\ndataDir={}\nclientPort=0\nclientPortAddress=127.0.0.1\n\
         4lw.commands.whitelist=*\nextendedTypesEnabled=true\nsnapCount=50\n\
         autopurge.snapRetainCount=3\n{extra}",
        dir.display()
    )
}

pub async fn start(dir: &Path, extra: &str) -> Server {
    log_to_test_output();
    let cfg = Config::parse(&config_text(dir, extra)).expect("config parses");
    tokio::time::timeout(Duration::from_secs(30), Server::start(cfg))
        .await
        .expect("server start timed out")
        .expect("server starts")
}

/// The member's info and warnings go to the test's output, which the
/// runner shows only when the test fails: the reason a member refused or
/// closed something is then in the report (`RUST_LOG` overrides).
fn log_to_test_output() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,zkrs=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Runs `f` under a deadline so no test can hang the suite.
pub async fn bounded<F: std::future::Future>(secs: u64, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test exceeded its time bound")
}

/// One frame from the server, split into its reply header and body bytes.
#[derive(Debug, Clone)]
pub struct Frame {
    pub header: ReplyHeader,
    pub body: Vec<u8>,
}

impl Frame {
    /// The watch event this notification frame carries.
    pub fn event(&self) -> WatcherEvent {
        assert_eq!(self.header.xid, proto::NOTIFICATION_XID, "not an event");
        WatcherEvent::read(&mut Reader::new(&self.body)).expect("event decodes")
    }

    pub fn is_event(&self) -> bool {
        self.header.xid == proto::NOTIFICATION_XID
    }
}

/// A raw ZooKeeper connection.
pub struct Conn {
    stream: TcpStream,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub timeout: i32,
    next_xid: i32,
    /// Notifications that arrived while waiting for a reply.
    pub events: Vec<WatcherEvent>,
    /// The highest zxid seen in a reply header.
    pub last_zxid: i64,
}

pub fn connect_request(timeout: i32) -> ConnectRequest {
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: timeout,
        session_id: 0,
        passwd: vec![0; 16],
        read_only: false,
    }
}

/// Sends a handshake and reads the answer. `Err` if the server closed
/// without answering.
pub async fn handshake(
    addr: SocketAddr,
    req: &ConnectRequest,
) -> Result<(Conn, ConnectResponse), String> {
    let mut stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    stream.write_all(&frame::encode_record(req)).await.unwrap();
    let body = read_frame(&mut stream)
        .await
        .ok_or_else(|| "closed before ConnectResponse".to_string())?;
    let resp = ConnectResponse::read(&mut Reader::new(&body)).expect("ConnectResponse");
    let conn = Conn {
        stream,
        session_id: resp.session_id,
        passwd: resp.passwd.clone(),
        timeout: resp.time_out,
        next_xid: 1,
        events: Vec::new(),
        last_zxid: 0,
    };
    Ok((conn, resp))
}

/// Reads one length-prefixed frame; `None` at end of stream (or reset).
async fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let read = async {
        let mut head = [0u8; 4];
        stream.read_exact(&mut head).await.ok()?;
        let len = i32::from_be_bytes(head);
        assert!(len >= 0, "negative frame length from server");
        let mut body = vec![0u8; len as usize];
        stream.read_exact(&mut body).await.ok()?;
        Some(body)
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("no frame from server in time")
}

impl Conn {
    /// A new session with the given requested timeout.
    pub async fn open(addr: SocketAddr, timeout: i32) -> Conn {
        let (conn, resp) = handshake(addr, &connect_request(timeout))
            .await
            .expect("handshake");
        assert_ne!(resp.session_id, 0, "server refused a new session");
        conn
    }

    /// Resumes an existing session; panics if the server refuses it.
    pub async fn resume(addr: SocketAddr, session_id: i64, passwd: &[u8], last_zxid: i64) -> Conn {
        let req = ConnectRequest {
            session_id,
            passwd: passwd.to_vec(),
            last_zxid_seen: last_zxid,
            ..connect_request(30_000)
        };
        let (conn, resp) = handshake(addr, &req).await.expect("handshake");
        assert_eq!(resp.session_id, session_id, "session was not resumed");
        conn
    }

    pub fn next_xid(&mut self) -> i32 {
        let x = self.next_xid;
        self.next_xid += 1;
        x
    }

    pub async fn send_raw(&mut self, packet: &[u8]) {
        self.stream.write_all(&frame::encode(packet)).await.unwrap();
    }

    pub async fn write_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Sends `req` and returns its xid, without waiting.
    pub async fn send(&mut self, req: &Request) -> i32 {
        let xid = self.next_xid();
        self.send_raw(&req.to_packet(xid)).await;
        xid
    }

    /// The next frame, whatever it is; `None` when the server closed.
    pub async fn recv(&mut self) -> Option<Frame> {
        let body = read_frame(&mut self.stream).await?;
        let mut r = Reader::new(&body);
        let header = ReplyHeader::read(&mut r).expect("reply header");
        if header.xid != proto::NOTIFICATION_XID && header.zxid > self.last_zxid {
            self.last_zxid = header.zxid;
        }
        Some(Frame {
            header,
            body: r.rest().to_vec(),
        })
    }

    /// Waits for the reply to `xid`, stashing notifications on the way.
    pub async fn reply(&mut self, xid: i32) -> Frame {
        loop {
            let f = self.recv().await.expect("connection closed awaiting reply");
            if f.is_event() {
                self.events.push(f.event());
                continue;
            }
            assert_eq!(f.header.xid, xid, "replies out of order");
            return f;
        }
    }

    /// Sends `req`, waits for its reply: `Ok(body)` or `Err(code)`.
    pub async fn call(&mut self, req: Request) -> Result<Response, i32> {
        let op_type = req.op_type();
        let xid = self.send(&req).await;
        let f = self.reply(xid).await;
        if f.header.err != 0 {
            return Err(f.header.err);
        }
        let resp = Response::decode(op_type, &mut Reader::new(&f.body)).expect("reply decodes");
        Ok(resp)
    }

    /// Next event: a stashed one, or the next frame (which must be one).
    pub async fn next_event(&mut self) -> WatcherEvent {
        if !self.events.is_empty() {
            return self.events.remove(0);
        }
        let f = self.recv().await.expect("closed while awaiting event");
        assert!(f.is_event(), "expected a notification, got {:?}", f.header);
        f.event()
    }

    /// True once the server closed the connection (within `WAIT`).
    pub async fn closed(&mut self) -> bool {
        loop {
            match self.recv().await {
                None => return true,
                Some(f) if f.is_event() => self.events.push(f.event()),
                Some(f) => panic!("expected close, got {:?}", f.header),
            }
        }
    }

    pub async fn ping(&mut self) -> Frame {
        let mut w = proto::Writer::new();
        proto::RequestHeader {
            xid: proto::PING_XID,
            op_type: op::PING,
        }
        .write(&mut w);
        self.send_raw(w.as_slice()).await;
        self.reply(proto::PING_XID).await
    }

    pub async fn create(&mut self, path: &str, data: &[u8], flags: i32) -> Result<String, i32> {
        self.create_acl(path, data, Acl::open_unsafe(), flags).await
    }

    pub async fn create_acl(
        &mut self,
        path: &str,
        data: &[u8],
        acl: Vec<Acl>,
        flags: i32,
    ) -> Result<String, i32> {
        match self
            .call(Request::Create(create_req(path, data, acl, flags)))
            .await?
        {
            Response::Create(c) => Ok(c.path),
            other => panic!("create answered {other:?}"),
        }
    }

    pub async fn create2(&mut self, req: Request) -> Result<(String, Stat), i32> {
        match self.call(req).await? {
            Response::Create2(c) => Ok((c.path, c.stat)),
            other => panic!("create2 answered {other:?}"),
        }
    }

    pub async fn set_data(&mut self, path: &str, data: &[u8], version: i32) -> Result<Stat, i32> {
        let req = Request::SetData(proto::SetDataRequest {
            path: path.into(),
            data: Some(data.to_vec()),
            version,
        });
        match self.call(req).await? {
            Response::SetData(s) => Ok(s.stat),
            other => panic!("setData answered {other:?}"),
        }
    }

    pub async fn set_acl(&mut self, path: &str, acl: Vec<Acl>, version: i32) -> Result<Stat, i32> {
        let req = Request::SetAcl(proto::SetACLRequest {
            path: path.into(),
            acl,
            version,
        });
        match self.call(req).await? {
            Response::SetAcl(s) => Ok(s.stat),
            other => panic!("setACL answered {other:?}"),
        }
    }

    pub async fn delete(&mut self, path: &str, version: i32) -> Result<(), i32> {
        let req = Request::Delete(proto::DeleteRequest {
            path: path.into(),
            version,
        });
        self.call(req).await.map(|_| ())
    }

    pub async fn get_data(&mut self, path: &str, watch: bool) -> Result<(Vec<u8>, Stat), i32> {
        let req = Request::GetData(proto::GetDataRequest {
            path: path.into(),
            watch,
        });
        match self.call(req).await? {
            Response::GetData(g) => Ok((g.data.unwrap_or_default(), g.stat)),
            other => panic!("getData answered {other:?}"),
        }
    }

    pub async fn exists(&mut self, path: &str, watch: bool) -> Result<Stat, i32> {
        let req = Request::Exists(proto::ExistsRequest {
            path: path.into(),
            watch,
        });
        match self.call(req).await? {
            Response::Exists(e) => Ok(e.stat),
            other => panic!("exists answered {other:?}"),
        }
    }

    pub async fn children(&mut self, path: &str) -> Result<(Vec<String>, Stat), i32> {
        let req = Request::GetChildren2(proto::GetChildren2Request {
            path: path.into(),
            watch: false,
        });
        match self.call(req).await? {
            Response::GetChildren2(g) => Ok((g.children, g.stat)),
            other => panic!("getChildren2 answered {other:?}"),
        }
    }

    pub async fn get_acl(&mut self, path: &str) -> Result<(Vec<Acl>, Stat), i32> {
        let req = Request::GetAcl(proto::GetACLRequest { path: path.into() });
        match self.call(req).await? {
            Response::GetAcl(g) => Ok((g.acl, g.stat)),
            other => panic!("getACL answered {other:?}"),
        }
    }

    pub async fn multi(&mut self, ops: Vec<MultiOp>) -> (i32, Vec<proto::OpResult>) {
        let xid = self.send(&Request::Multi(ops)).await;
        let f = self.reply(xid).await;
        let results = if f.body.is_empty() {
            Vec::new()
        } else {
            match Response::decode(op::MULTI, &mut Reader::new(&f.body)).expect("multi decodes") {
                Response::Multi(r) => r,
                other => panic!("multi answered {other:?}"),
            }
        };
        (f.header.err, results)
    }

    /// Sends closeSession and waits for its reply.
    pub async fn close_session(&mut self) -> Frame {
        let xid = self.send(&Request::CloseSession).await;
        self.reply(xid).await
    }

    /// Polls until `path` does not exist; false if it still does after
    /// `secs` seconds.
    pub async fn wait_gone(&mut self, path: &str, secs: u64) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while tokio::time::Instant::now() < deadline {
            if self.exists(path, false).await == Err(-101) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// The server's last zxid as a read reply reports it.
    pub async fn server_zxid(&mut self) -> i64 {
        let xid = self
            .send(&Request::Exists(proto::ExistsRequest {
                path: "/".into(),
                watch: false,
            }))
            .await;
        self.reply(xid).await.header.zxid
    }
}

pub fn create_req(path: &str, data: &[u8], acl: Vec<Acl>, flags: i32) -> proto::CreateRequest {
    proto::CreateRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        acl,
        flags,
    }
}

/// Everything a client can read about one znode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDump {
    pub data: Vec<u8>,
    pub stat: Stat,
    pub acl: Vec<Acl>,
    pub children: Vec<String>,
}

/// Walks the whole tree through the wire: data, Stat, ACL and children of
/// every node, keyed by path.
pub async fn dump_tree(c: &mut Conn) -> BTreeMap<String, NodeDump> {
    let mut out = BTreeMap::new();
    let mut todo = vec!["/".to_string()];
    while let Some(path) = todo.pop() {
        let (data, stat) = c.get_data(&path, false).await.expect("getData");
        let (acl, acl_stat) = c.get_acl(&path).await.expect("getACL");
        let (mut children, child_stat) = c.children(&path).await.expect("getChildren2");
        assert_eq!(stat, acl_stat, "{path}: Stat differs between reads");
        assert_eq!(stat, child_stat, "{path}: Stat differs between reads");
        children.sort();
        for ch in &children {
            todo.push(if path == "/" {
                format!("/{ch}")
            } else {
                format!("{path}/{ch}")
            });
        }
        out.insert(
            path,
            NodeDump {
                data,
                stat,
                acl,
                children,
            },
        );
    }
    out
}

/// Snapshot files (`snap-*`) in a member's data directory.
pub fn snapshot_files(dir: &Path) -> Vec<String> {
    let snaps = dir.join("zkrs").join("snapshots");
    let mut names: Vec<String> = std::fs::read_dir(snaps)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with("snap-") && !n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits until `cond` holds, polling; false if it never did within `secs`.
pub async fn eventually<F, Fut>(secs: u64, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
