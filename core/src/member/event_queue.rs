//! A connection's outgoing watch events, shared by the core, which queues
//! them as it applies entries, and the connection's writer task.
//!
//! When the writer is idle (nothing in flight, nothing unflushed) the core
//! writes the queued events to a plain TCP socket itself, without waking
//! the writer: with a thousand watchers of one znode, the hand-off to a
//! thousand writer tasks was about a quarter of a member's CPU. Otherwise
//! the events wait for the writer, which writes them before any reply it
//! sends later. Either way one writer at a time: the core writes only
//! under the lock, and only while the writer has said it is idle.

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::sync::Mutex;

use bytes::{Buf, Bytes};
use tokio::sync::Notify;

use crate::types::Zxid;

/// Event frames with the zxid of the entry that caused them.
pub type Events = VecDeque<(Zxid, Bytes)>;

pub struct EventQueue {
    state: Mutex<State>,
    wake: Notify,
}

struct State {
    events: Events,
    closed: bool,
    /// The writer task is writing, or holds bytes it has not flushed.
    writing: bool,
    /// A second handle on a plain TCP socket (non-blocking, as the
    /// runtime set it); None over TLS and once the writer is done.
    socket: Option<TcpStream>,
}

/// What a direct write sent, for the member's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub frames: u64,
    pub bytes: u64,
}

impl EventQueue {
    /// A new queue; the writer starts out busy (it sends the handshake).
    pub fn new(socket: Option<TcpStream>) -> EventQueue {
        EventQueue {
            state: Mutex::new(State {
                events: VecDeque::new(),
                closed: false,
                writing: true,
                socket,
            }),
            wake: Notify::new(),
        }
    }

    /// Queues an event (called as the entry is applied).
    pub fn push(&self, zxid: Zxid, frame: Bytes) {
        crate::lock(&self.state).events.push_back((zxid, frame));
    }

    /// Asks the writer to close the connection.
    pub fn close(&self) {
        crate::lock(&self.state).closed = true;
        self.wake.notify_one();
    }

    /// Writes the queued events now if the writer is idle and the socket
    /// takes them whole; whatever is left is the writer's, woken for it.
    pub fn send_queued(&self) -> Sent {
        let mut st = crate::lock(&self.state);
        if st.events.is_empty() {
            return Sent::default();
        }
        let mut sent = Sent::default();
        let done = !st.writing && !st.closed && st.write_now(&mut sent);
        drop(st);
        if !done {
            self.wake.notify_one();
        }
        sent
    }

    /// The writer starts writing: takes the queued events. None if the
    /// core asked to close.
    pub fn claim(&self) -> Option<Events> {
        let mut st = crate::lock(&self.state);
        st.writing = true;
        (!st.closed).then(|| std::mem::take(&mut st.events))
    }

    /// The writer has flushed everything: it is idle unless more events
    /// came meanwhile, which it gets to write. None if asked to close.
    pub fn rest(&self) -> Option<Events> {
        let mut st = crate::lock(&self.state);
        if st.closed {
            return None;
        }
        st.writing = !st.events.is_empty();
        Some(std::mem::take(&mut st.events))
    }

    /// Resolves when the core has queued events the writer must write, or
    /// asked to close.
    pub async fn woken(&self) {
        self.wake.notified().await
    }

    /// Resolves once the core asks to close the connection.
    pub async fn closed(&self) {
        while !self.is_closed() {
            self.woken().await;
        }
    }

    pub fn is_closed(&self) -> bool {
        crate::lock(&self.state).closed
    }

    /// The writer is done with the socket: no more direct writes.
    pub fn detach(&self) {
        let mut st = crate::lock(&self.state);
        st.writing = true;
        st.socket = None;
    }
}

impl State {
    /// True if every queued event went out. On a short write the rest of
    /// the frame stays first in the queue; on an error (the socket full,
    /// or broken) the writer meets it itself.
    fn write_now(&mut self, sent: &mut Sent) -> bool {
        let State { events, socket, .. } = self;
        let Some(mut socket) = socket.as_ref() else {
            return false;
        };
        while let Some((_, frame)) = events.front_mut() {
            match socket.write(&frame[..]) {
                Ok(n) if n == frame.len() => {
                    sent.frames += 1;
                    sent.bytes += n as u64;
                    events.pop_front();
                }
                Ok(n) => {
                    sent.bytes += n as u64;
                    frame.advance(n);
                    return false;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    fn frame(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn an_idle_writer_leaves_the_events_to_the_core() {
        let (mut client, server) = pair();
        let out = EventQueue::new(Some(server));
        assert_eq!(out.rest().unwrap().len(), 0);
        out.push(1, frame("one"));
        out.push(2, frame("two"));
        assert_eq!(
            out.send_queued(),
            Sent {
                frames: 2,
                bytes: 6
            }
        );
        let mut got = [0u8; 6];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"onetwo");
        assert_eq!(out.claim().unwrap().len(), 0);
    }

    #[test]
    fn a_busy_writer_gets_the_events_in_order() {
        let (_client, server) = pair();
        let out = EventQueue::new(Some(server));
        out.push(1, frame("one"));
        assert_eq!(out.send_queued(), Sent::default());
        out.push(2, frame("two"));
        let got: Vec<_> = out.claim().unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(got, [1, 2]);
    }

    #[test]
    fn events_queued_while_writing_keep_the_writer_busy() {
        let (_client, server) = pair();
        let out = EventQueue::new(Some(server));
        out.claim().unwrap();
        out.push(3, frame("three"));
        assert_eq!(out.rest().unwrap().len(), 1);
        // Still the writer's: it has not flushed those yet.
        out.push(4, frame("four"));
        assert_eq!(out.send_queued(), Sent::default());
        assert_eq!(out.rest().unwrap().len(), 1);
        assert_eq!(out.rest().unwrap().len(), 0);
    }

    #[test]
    fn a_full_socket_leaves_the_rest_of_a_frame_first() {
        let (client, server) = pair();
        let out = EventQueue::new(Some(server));
        out.rest().unwrap();
        let big = Bytes::from(vec![7u8; 64 << 20]);
        out.push(1, big.clone());
        out.push(2, frame("next"));
        let sent = out.send_queued();
        assert_eq!(sent.frames, 0);
        assert!(sent.bytes > 0 && sent.bytes < big.len() as u64);
        let left = out.claim().unwrap();
        assert_eq!(left[0].1.len() as u64, big.len() as u64 - sent.bytes);
        assert_eq!(left[1].0, 2);
        drop(client);
    }

    #[test]
    fn without_a_socket_or_once_closed_the_core_does_not_write() {
        let out = EventQueue::new(None);
        out.rest().unwrap();
        out.push(1, frame("one"));
        assert_eq!(out.send_queued(), Sent::default());
        out.close();
        assert!(out.claim().is_none());
        assert!(out.rest().is_none());
        assert!(out.is_closed());
    }
}
