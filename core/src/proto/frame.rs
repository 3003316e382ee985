//! Framing: every packet in either direction is a 4-byte big-endian length
//! followed by that many bytes. Also builds the whole frames a server sends
//! most: replies and watch notifications.
//!
//! `decode` works on whatever bytes have arrived so far and never blocks or
//! buffers; the caller owns the read buffer.

use super::codec::{Record, Writer};
use super::records::{ReplyHeader, WatcherEvent};
use super::response::Response;
use super::{ProtoError, NOTIFICATION_XID};
use crate::types::WatchedEvent;

/// ZooKeeper's default `jute.maxbuffer`: the largest frame accepted.
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;

const PREFIX: usize = 4;

/// Splits one frame off the front of `buf`. Returns the bytes consumed
/// (prefix included) and the payload, or `None` if the frame is not
/// complete yet. A negative length or one over `max_len` is an error: the
/// connection should be closed, as ZooKeeper does.
pub fn decode(buf: &[u8], max_len: usize) -> Result<Option<(usize, &[u8])>, ProtoError> {
    let Some(prefix) = buf.first_chunk::<PREFIX>() else {
        return Ok(None);
    };
    let len = i32::from_be_bytes(*prefix);
    let n = match usize::try_from(len) {
        Ok(n) if n <= max_len => n,
        _ => return Err(ProtoError::FrameTooLarge { len: i64::from(len), max: max_len }),
    };
    let total = PREFIX + n;
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some((total, &buf[PREFIX..total])))
}

/// Prefixes `body` with its length.
pub fn encode(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A framed record (e.g. a `ConnectResponse`).
pub fn encode_record<T: Record>(rec: &T) -> Vec<u8> {
    let mut w = Writer::new();
    rec.write(&mut w);
    encode(w.as_slice())
}

/// A framed reply: header then body (`Response::Empty` for none).
pub fn encode_reply(header: &ReplyHeader, body: &Response) -> Vec<u8> {
    let mut w = Writer::new();
    header.write(&mut w);
    body.encode(&mut w);
    encode(w.as_slice())
}

/// A framed watch notification: xid -1, zxid -1, err 0, then the event.
pub fn encode_notification(event: &WatchedEvent) -> Vec<u8> {
    let mut w = Writer::new();
    ReplyHeader { xid: NOTIFICATION_XID, zxid: -1, err: 0 }.write(&mut w);
    WatcherEvent::from(event).write(&mut w);
    encode(w.as_slice())
}
