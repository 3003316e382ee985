//! Failures a test makes happen to a client, over the wire (any member or
//! ZooKeeper server): its connection dropped, its session expired. The
//! session is opened on a connection of our own with the client's id and
//! password (ZooKeeper's handshake), which makes the member drop the
//! client's connection; a closeSession right behind ends the session, as
//! an expiry does (ephemerals deleted, watchers told).

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Client;
use crate::proto::{frame, ConnectRequest, ConnectResponse, Reader, Record, Request};
use crate::Error;

impl Client {
    /// Cuts this client's connection; the session lives on and the client
    /// reconnects with it.
    pub async fn drop_connection_for_test(&self) -> Result<(), Error> {
        take_over(
            &self.server(),
            self.session_id(),
            &self.session_password(),
            false,
        )
        .await?;
        Ok(())
    }

    /// Ends this client's session on the server now, as an expiry does.
    /// Returns once the client has seen it: it is expired, or (renewing
    /// sessions) connected in a new one.
    pub async fn expire_session_for_test(&self, timeout: Duration) -> Result<(), Error> {
        let (old, passwd) = (self.session_id(), self.session_password());
        if old == 0 {
            return Err(Error::ConnectionLoss);
        }
        let deadline = Instant::now() + timeout;
        let mut state = self.state_receiver();
        while Instant::now() < deadline {
            // The client reconnects as soon as we take its connection and
            // may take the session back before our close is read: then
            // close it again.
            let _ = take_over(&self.server(), old, &passwd, true).await;
            // A client that renews sessions passes through Expired to a
            // new session: wait for that one.
            let renews = self.renews_sessions();
            let seen = state.wait_for(|s| match renews {
                true => s.is_connected() && self.session_id() != old,
                false => s.is_terminal(),
            });
            let until = (Instant::now() + Duration::from_secs(2)).min(deadline);
            if tokio::time::timeout_at(until, seen).await.is_ok() {
                return Ok(());
            }
            // Nudge the client: a call shows it the closed session.
            let _ = tokio::time::timeout(Duration::from_millis(500), self.exists("/", None)).await;
        }
        Err(Error::OperationTimeout)
    }
}

/// Opens `session` on `host` over a connection of our own; with `close`,
/// ends it. True if the server no longer knew the session.
async fn take_over(host: &str, session: i64, passwd: &[u8], close: bool) -> Result<bool, Error> {
    let io = |e: std::io::Error| Error::Io(e.to_string());
    let mut s = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(host))
        .await
        .map_err(|_| Error::OperationTimeout)?
        .map_err(io)?;
    let hello = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 10_000,
        session_id: session,
        passwd: passwd.to_vec(),
        read_only: false,
    };
    let mut packets = frame::encode_record(&hello);
    if close {
        packets.extend(frame::encode(&Request::CloseSession.to_packet(1)));
    }
    s.write_all(&packets).await.map_err(io)?;
    let reply = read_frame(&mut s).await?;
    let resp = ConnectResponse::read(&mut Reader::new(&reply))?;
    if resp.session_id != session {
        return Ok(true);
    }
    if close {
        read_frame(&mut s).await?;
        return Ok(true);
    }
    Ok(false)
}

async fn read_frame(s: &mut TcpStream) -> Result<Vec<u8>, Error> {
    let read = frame::read(s, frame::DEFAULT_MAX_BUFFER);
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .map_err(|_| Error::OperationTimeout)?
        .map_err(|e| Error::Io(e.to_string()))
}
