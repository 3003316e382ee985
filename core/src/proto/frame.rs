//! Framing: every packet in either direction is a 4-byte big-endian length
//! followed by that many bytes. Also builds the whole frames a server sends
//! most: replies and watch notifications.
//!
//! `decode` works on whatever bytes have arrived so far and never blocks or
//! buffers; the caller owns the read buffer. `read` is the plain async
//! form for a connection that reads one frame at a time (tools, tests).

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
        _ => {
            return Err(ProtoError::FrameTooLarge {
                len: i64::from(len),
                max: max_len,
            })
        }
    };
    let total = PREFIX + n;
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some((total, &buf[PREFIX..total])))
}

/// Reads one whole frame from `r`: its payload. A length over `max_len`
/// (or negative) is InvalidData.
pub async fn read<R: tokio::io::AsyncRead + Unpin>(
    r: &mut R,
    max_len: usize,
) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let len = r.read_i32().await?;
    let n = usize::try_from(len)
        .ok()
        .filter(|n| *n <= max_len)
        .ok_or_else(|| {
            let why = format!("frame of {len} bytes (the limit is {max_len})");
            std::io::Error::new(std::io::ErrorKind::InvalidData, why)
        })?;
    let mut body = vec![0; n];
    r.read_exact(&mut body).await?;
    Ok(body)
}

/// Prefixes `body` with its length.
pub fn encode(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Writes a frame in one buffer: a placeholder prefix, the body, then the
/// real length, so replies are not copied a second time.
fn framed(body: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::with_capacity(64);
    w.write_int(0);
    body(&mut w);
    let len = i32::try_from(w.len() - PREFIX).unwrap_or(i32::MAX);
    w.patch_int(0, len);
    w.into_inner()
}

/// A framed record (e.g. a `ConnectResponse`).
pub fn encode_record<T: Record>(rec: &T) -> Vec<u8> {
    framed(|w| rec.write(w))
}

/// A framed reply: header then body (`Response::Empty` for none).
pub fn encode_reply(header: &ReplyHeader, body: &Response) -> Vec<u8> {
    framed(|w| {
        header.write(w);
        body.encode(w);
    })
}

/// A framed watch notification: xid -1, zxid -1, err 0, then the event.
pub fn encode_notification(event: &WatchedEvent) -> Vec<u8> {
    framed(|w| {
        ReplyHeader {
            xid: NOTIFICATION_XID,
            zxid: -1,
            err: 0,
        }
        .write(w);
        WatcherEvent::from(event).write(w);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::codec::Reader;
    use crate::proto::records::SyncResponse;
    use crate::types::{EventType, KeeperState};
    use proptest::prelude::*;

    #[test]
    fn decode_waits_for_whole_frame() {
        assert_eq!(decode(&[], 10), Ok(None));
        assert_eq!(decode(&[0, 0, 0], 10), Ok(None));
        assert_eq!(decode(&[0, 0, 0, 3, 1, 2], 10), Ok(None));
        assert_eq!(
            decode(&[0, 0, 0, 3, 1, 2, 3, 9], 10),
            Ok(Some((7, &[1u8, 2, 3][..])))
        );
        assert_eq!(decode(&[0, 0, 0, 0], 10), Ok(Some((4, &[][..]))));
    }

    #[test]
    fn decode_rejects_negative_and_oversized() {
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], 10),
            Err(ProtoError::FrameTooLarge { len: -1, max: 10 })
        );
        assert_eq!(
            decode(&[0, 0, 0, 11], 10),
            Err(ProtoError::FrameTooLarge { len: 11, max: 10 })
        );
        // Exactly the maximum is allowed (and incomplete here).
        assert_eq!(decode(&[0, 0, 0, 10], 10), Ok(None));
        assert_eq!(
            decode(&[0, 0x10, 0, 0], DEFAULT_MAX_BUFFER),
            Err(ProtoError::FrameTooLarge {
                len: 0x10_0000,
                max: DEFAULT_MAX_BUFFER
            })
        );
    }

    #[test]
    fn encode_prefixes_length() {
        assert_eq!(encode(b"abc"), [0, 0, 0, 3, b'a', b'b', b'c']);
        let f = encode(&[7; 300]);
        assert_eq!(
            decode(&f, DEFAULT_MAX_BUFFER).unwrap().unwrap().1,
            &[7; 300][..]
        );
    }

    #[test]
    fn notification_golden_bytes() {
        let e = WatchedEvent {
            event_type: EventType::NodeDataChanged,
            state: KeeperState::SyncConnected,
            path: "/n".into(),
        };
        let want: Vec<u8> = [
            &[0, 0, 0, 30][..],        // frame length: 16 header + 14 event
            &[0xff, 0xff, 0xff, 0xff], // xid -1
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // zxid -1
            &[0, 0, 0, 0],             // err 0
            &[0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 2, b'/', b'n'], // type, state, path
        ]
        .concat();
        assert_eq!(encode_notification(&e), want);
    }

    #[test]
    fn reply_frames() {
        let h = ReplyHeader {
            xid: 7,
            zxid: 0x20,
            err: 0,
        };
        let f = encode_reply(&h, &Response::Sync(SyncResponse { path: "/".into() }));
        let (used, payload) = decode(&f, DEFAULT_MAX_BUFFER).unwrap().unwrap();
        assert_eq!(used, f.len());
        let mut r = Reader::new(payload);
        assert_eq!(ReplyHeader::read(&mut r).unwrap(), h);
        assert_eq!(r.read_string().unwrap(), "/");
        assert!(r.is_empty());
        let err = ReplyHeader {
            xid: 8,
            zxid: 0x20,
            err: -101,
        };
        assert_eq!(encode_reply(&err, &Response::Empty).len(), 4 + 16);
        assert_eq!(encode_record(&err)[..4], [0, 0, 0, 16]);
    }

    proptest! {
        #[test]
        fn frames_round_trip(body in proptest::collection::vec(any::<u8>(), 0..512), extra in 0usize..8) {
            let mut f = encode(&body);
            let total = f.len();
            f.extend(std::iter::repeat_n(0xAB, extra));
            prop_assert_eq!(decode(&f, DEFAULT_MAX_BUFFER).unwrap(), Some((total, &body[..])));
            for cut in 0..total {
                prop_assert_eq!(decode(&f[..cut], DEFAULT_MAX_BUFFER).unwrap(), None);
            }
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), max in 0usize..100) {
            let _ = decode(&bytes, max);
        }
    }
}
