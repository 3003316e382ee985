//! Bare watching sessions for `zkrs bench fanout`.
//!
//! The fan-out figure times the server: one write, then N notifications on
//! N connections. Full clients as receivers spent more CPU than the three
//! members together (a callback thread and a reader task per session, all
//! woken per event), so the measure was mostly the load generator's. These
//! sessions only speak what the measure needs (handshake, `exists` with a
//! watch, read frames) and are all driven from the caller's one task.

use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use zkrs::proto::{
    frame, ConnectRequest, ConnectResponse, ExistsRequest, Reader, Record, ReplyHeader, Request,
};
use zkrs::Error;

/// The xid ZooKeeper puts on a watch notification.
const NOTIFICATION_XID: i32 = -1;

/// Long enough for the slowest round of a large fan-out; each round's
/// `exists` keeps the session alive in between.
const SESSION_TIMEOUT_MS: i32 = 30_000;

pub struct Watcher {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    xid: i32,
}

impl Watcher {
    /// Opens a session on `host` ("ip:port").
    pub async fn connect(host: &str) -> Result<Watcher, Error> {
        let stream = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(host))
            .await
            .map_err(|_| Error::Io(format!("connect {host}: timed out")))?
            .map_err(|e| Error::Io(format!("connect {host}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let mut w = Watcher {
            rd: BufReader::new(rd),
            wr,
            xid: 0,
        };
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: SESSION_TIMEOUT_MS,
            session_id: 0,
            passwd: vec![0; 16],
            read_only: false,
        };
        w.send(&frame::encode_record(&req)).await?;
        let body = w.read_frame().await?;
        let resp = ConnectResponse::read(&mut Reader::new(&body)).map_err(proto_error)?;
        if resp.session_id == 0 {
            return Err(Error::Io(format!("{host} refused the session")));
        }
        Ok(w)
    }

    /// Sets a one-shot data watch on `path` (which must exist).
    pub async fn watch(&mut self, path: &str) -> Result<(), Error> {
        self.xid += 1;
        let exists = Request::Exists(ExistsRequest {
            path: path.to_string(),
            watch: true,
        });
        self.send(&frame::encode(&exists.to_packet(self.xid)))
            .await?;
        loop {
            let header = self.read_header().await?;
            if header.xid == self.xid {
                return match header.err {
                    0 => Ok(()),
                    err => Err(Error::Io(format!("exists {path}: error {err}"))),
                };
            }
        }
    }

    /// Waits for the next watch notification.
    pub async fn notified(&mut self) -> Result<(), Error> {
        while self.read_header().await?.xid != NOTIFICATION_XID {}
        Ok(())
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.wr.write_all(bytes).await.map_err(io_error)
    }

    async fn read_header(&mut self) -> Result<ReplyHeader, Error> {
        let body = self.read_frame().await?;
        ReplyHeader::read(&mut Reader::new(&body)).map_err(proto_error)
    }

    async fn read_frame(&mut self) -> Result<Vec<u8>, Error> {
        frame::read(&mut self.rd, zkrs::proto::DEFAULT_MAX_BUFFER)
            .await
            .map_err(io_error)
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::Io(e.to_string())
}

fn proto_error(e: zkrs::proto::ProtoError) -> Error {
    Error::Io(format!("bad reply: {e}"))
}
