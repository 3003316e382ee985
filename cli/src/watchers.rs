//! Bare watching sessions for `zkrs bench fanout`.
//!
//! The fan-out figure times the server: one write, then N notifications on
//! N connections. Full clients as receivers spent more CPU than the three
//! members together (a callback thread and a reader task per session, all
//! woken per event), so the measure was mostly the load generator's. These
//! sessions only speak what the measure needs (handshake, `exists` with a
//! watch, read frames) and are all driven from the caller's one task.
//!
//! Each notification is timed by the kernel as it reaches the watcher's
//! socket (`SO_TIMESTAMPNS`), so the figure is the server's: not how long
//! the load generator, which shares the machine's cores with the members,
//! took to get round to reading a thousand sockets.

use std::time::{Duration, SystemTime};

use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use zkrs::proto::{
    frame, ConnectRequest, ConnectResponse, ExistsRequest, Reader, Record, ReplyHeader, Request,
    SyncRequest,
};
use zkrs::Error;

/// The xid ZooKeeper puts on a watch notification.
const NOTIFICATION_XID: i32 = -1;

/// Long enough for the slowest round of a large fan-out; each round's
/// `exists` keeps the session alive in between.
const SESSION_TIMEOUT_MS: i32 = 30_000;

pub struct Watcher {
    stream: TcpStream,
    /// Bytes received and not yet taken as frames.
    buf: Vec<u8>,
    /// When the last of them reached the socket.
    arrived: SystemTime,
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
        stamp_arrivals(&stream).map_err(|e| Error::Io(format!("SO_TIMESTAMPNS: {e}")))?;
        let mut w = Watcher {
            stream,
            buf: Vec::new(),
            arrived: SystemTime::now(),
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
        let exists = Request::Exists(ExistsRequest {
            path: path.to_string(),
            watch: true,
        });
        self.call(&exists, "exists", path).await
    }

    /// Waits until this session's member has applied every write the
    /// leader had committed (another member made `path`, say).
    pub async fn sync(&mut self, path: &str) -> Result<(), Error> {
        let sync = Request::Sync(SyncRequest {
            path: path.to_string(),
        });
        self.call(&sync, "sync", path).await
    }

    /// Sends `req` and waits for its reply, which must not be an error.
    async fn call(&mut self, req: &Request, what: &str, path: &str) -> Result<(), Error> {
        self.xid += 1;
        self.send(&frame::encode(&req.to_packet(self.xid))).await?;
        loop {
            let header = self.read_header().await?;
            if header.xid == self.xid {
                return match header.err {
                    0 => Ok(()),
                    err => Err(Error::Io(format!("{what} {path}: error {err}"))),
                };
            }
        }
    }

    /// Waits for the next watch notification; when it reached the socket.
    pub async fn notified(&mut self) -> Result<SystemTime, Error> {
        while self.read_header().await?.xid != NOTIFICATION_XID {}
        Ok(self.arrived)
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.stream.write_all(bytes).await.map_err(io_error)
    }

    async fn read_header(&mut self) -> Result<ReplyHeader, Error> {
        let body = self.read_frame().await?;
        ReplyHeader::read(&mut Reader::new(&body)).map_err(proto_error)
    }

    async fn read_frame(&mut self) -> Result<Vec<u8>, Error> {
        loop {
            if let Some(frame) = self.take_frame()? {
                return Ok(frame);
            }
            self.receive().await?;
        }
    }

    /// The next whole frame's body, if the buffer holds one.
    fn take_frame(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let max = zkrs::proto::DEFAULT_MAX_BUFFER;
        let Some((used, body)) = frame::decode(&self.buf, max).map_err(proto_error)? else {
            return Ok(None);
        };
        let body = body.to_vec();
        self.buf.drain(..used);
        Ok(Some(body))
    }

    /// Reads what the socket has, noting when it arrived.
    async fn receive(&mut self) -> Result<(), Error> {
        let mut chunk = [0u8; 4096];
        loop {
            self.stream.readable().await.map_err(io_error)?;
            let read = self.stream.try_io(Interest::READABLE, || {
                recv_stamped(&self.stream, &mut chunk)
            });
            match read {
                Ok((0, _)) => return Err(Error::Io("connection closed".into())),
                Ok((n, at)) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    self.arrived = at.unwrap_or_else(SystemTime::now);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(io_error(e)),
            }
        }
    }
}

/// Asks the kernel to stamp each received packet with its arrival time.
#[cfg(target_os = "linux")]
fn stamp_arrivals(stream: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a socket option set on an open socket from a live int.
    let r = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    match r {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

#[cfg(not(target_os = "linux"))]
fn stamp_arrivals(_stream: &TcpStream) -> std::io::Result<()> {
    Ok(())
}

/// One `recvmsg`: the bytes read and the kernel's arrival time of the
/// last packet among them (none where the kernel gives none).
#[cfg(target_os = "linux")]
fn recv_stamped(
    stream: &TcpStream,
    buf: &mut [u8],
) -> std::io::Result<(usize, Option<SystemTime>)> {
    use std::os::fd::AsRawFd;
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for a few control messages, aligned as cmsghdr needs.
    let mut control = [0u64; 16];
    // SAFETY: msghdr is plain data; every pointer in it points at a live
    // local for the duration of the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: as above.
    let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut at = None;
    // SAFETY: walking the control messages the kernel just wrote, with
    // the kernel's own bounds (msg_controllen) and libc's macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                at = Some(
                    SystemTime::UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                );
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n as usize, at))
}

#[cfg(not(target_os = "linux"))]
fn recv_stamped(
    stream: &TcpStream,
    buf: &mut [u8],
) -> std::io::Result<(usize, Option<SystemTime>)> {
    stream.try_read(buf).map(|n| (n, None))
}

fn io_error(e: std::io::Error) -> Error {
    Error::Io(e.to_string())
}

fn proto_error(e: zkrs::proto::ProtoError) -> Error {
    Error::Io(format!("bad reply: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;
    use zkrs::types::{EventType, KeeperState, WatchedEvent};

    /// A notification that comes in two packets is read as one frame,
    /// stamped with the arrival of its last bytes: after they were sent,
    /// not when the reader got round to them.
    #[tokio::test]
    async fn a_notification_is_stamped_when_its_last_bytes_arrive() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        stamp_arrivals(&client).unwrap();
        let mut w = Watcher {
            stream: client,
            buf: Vec::new(),
            arrived: SystemTime::UNIX_EPOCH,
            xid: 0,
        };
        let event = WatchedEvent {
            event_type: EventType::NodeDataChanged,
            state: KeeperState::SyncConnected,
            path: "/f".into(),
        };
        let frame = frame::encode_notification(&event);
        let reply = frame::encode_reply(
            &ReplyHeader {
                xid: 7,
                zxid: 1,
                err: 0,
            },
            &zkrs::proto::Response::Empty,
        );
        server.write_all(&reply).await.unwrap();
        server.write_all(&frame[..5]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let sent = SystemTime::now();
        server.write_all(&frame[5..]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let read = SystemTime::now();
        let at = w.notified().await.unwrap();
        assert!(sent <= at, "stamped before its last bytes were sent");
        assert!(at <= read, "stamped when read, not when it arrived");
        assert!(w.buf.is_empty());
    }
}
