//! Wire behaviour in raw bytes: the handshake, pings, bad frames, unknown
//! opcodes, malformed bodies, watch-event ordering against replies, the
//! shape of a failed multi, and what a stopping member does to its sockets.

mod common;

use common::*;
use zkrs::proto::{self, op, MultiOp, OpResult, Request, RequestHeader, Writer};
use zkrs::proto::{ConnectRequest, Record};
use zkrs::Acl;

const NODE_DATA_CHANGED: i32 = 3;
const SYNC_CONNECTED: i32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_clamps_timeout_to_ticks() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        // tickTime=200: [minSessionTimeout, maxSessionTimeout] = [400, 4000].
        for (asked, got) in [(100, 400), (1000, 1000), (100_000, 4000), (400, 400)] {
            let (_c, resp) = handshake(server.addr(), &connect_request(asked))
                .await
                .unwrap();
            assert_eq!(resp.time_out, got, "asked for {asked}");
            assert_eq!(resp.protocol_version, 0);
            assert_ne!(resp.session_id, 0);
            assert_eq!(resp.passwd.len(), 16);
            assert!(!resp.read_only);
        }
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_with_wrong_password_is_expired_then_closed() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let c = Conn::open(server.addr(), 4000).await;
        let mut wrong = c.passwd.clone();
        wrong[0] ^= 0xff;
        let req = ConnectRequest {
            session_id: c.session_id,
            passwd: wrong,
            ..connect_request(4000)
        };
        let (mut bad, resp) = handshake(server.addr(), &req).await.unwrap();
        assert_eq!((resp.session_id, resp.time_out), (0, 0));
        assert!(bad.closed().await, "expired handshake must close");
        // An unknown session id gets the same answer.
        let req = ConnectRequest {
            session_id: 0x1234_5678,
            passwd: vec![7; 16],
            ..connect_request(4000)
        };
        let (mut bad, resp) = handshake(server.addr(), &req).await.unwrap();
        assert_eq!((resp.session_id, resp.time_out), (0, 0));
        assert!(bad.closed().await);
        // The right password resumes the session.
        let again = Conn::resume(server.addr(), c.session_id, &c.passwd, 0).await;
        assert_eq!(again.session_id, c.session_id);
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ahead_of_server_is_refused() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        let zxid = c.server_zxid().await;
        let req = ConnectRequest {
            last_zxid_seen: zxid + 1000,
            ..connect_request(4000)
        };
        let refused = handshake(server.addr(), &req).await;
        assert!(refused.is_err(), "a client from the future was accepted");
        // Resuming a real session with a future zxid is refused too.
        let req = ConnectRequest {
            last_zxid_seen: zxid + 1000,
            session_id: c.session_id,
            passwd: c.passwd.clone(),
            ..connect_request(4000)
        };
        assert!(handshake(server.addr(), &req).await.is_err());
        // Equal is fine.
        let req = ConnectRequest {
            last_zxid_seen: zxid,
            ..connect_request(4000)
        };
        let (_ok, resp) = handshake(server.addr(), &req).await.unwrap();
        assert_ne!(resp.session_id, 0);
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_is_answered_with_xid_minus_two() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        for _ in 0..3 {
            let f = c.ping().await;
            assert_eq!(f.header.xid, -2);
            assert_eq!(f.header.err, 0);
            assert!(f.body.is_empty());
        }
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_closes_only_that_connection() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut victim = Conn::open(server.addr(), 4000).await;
        let mut bystander = Conn::open(server.addr(), 4000).await;
        victim.create("/kept", b"x", 0).await.unwrap();
        // jute.maxbuffer defaults to 0xfffff: announce one byte more.
        let len = (0xfffff_u32 + 1).to_be_bytes();
        victim.write_bytes(&len).await.unwrap();
        let _ = victim.write_bytes(&[0u8; 64]).await;
        assert!(victim.closed().await, "oversized frame must close");
        // The other connection, the session and the data are untouched.
        assert_eq!(bystander.ping().await.header.err, 0);
        assert_eq!(bystander.get_data("/kept", false).await.unwrap().0, b"x");
        let mut back = Conn::resume(server.addr(), victim.session_id, &victim.passwd, 0).await;
        assert_eq!(back.ping().await.header.err, 0);
        // A frame exactly at the limit is accepted (answered, not cut).
        let mut w = Writer::new();
        RequestHeader {
            xid: 77,
            op_type: op::SET_DATA,
        }
        .write(&mut w);
        proto::SetDataRequest {
            path: "/kept".into(),
            data: Some(vec![1; 0xfffff - 8 - 4 - 5 - 4 - 4]),
            version: -1,
        }
        .write(&mut w);
        assert_eq!(w.len(), 0xfffff);
        back.send_raw(w.as_slice()).await;
        let f = back.reply(77).await;
        assert_eq!(f.header.err, 0);
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_opcode_gets_unimplemented_then_close() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        let mut w = Writer::new();
        RequestHeader {
            xid: 5,
            op_type: 999,
        }
        .write(&mut w);
        c.send_raw(w.as_slice()).await;
        let f = c.reply(5).await;
        assert_eq!(f.header.err, -6, "Unimplemented");
        assert!(
            c.closed().await,
            "connection must close after Unimplemented"
        );
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_body_gets_marshalling_error_and_stays_open() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        c.create("/ok", b"fine", 0).await.unwrap();
        // getData whose path length says 100 bytes but 3 follow.
        let mut w = Writer::new();
        RequestHeader {
            xid: 9,
            op_type: op::GET_DATA,
        }
        .write(&mut w);
        w.write_int(100);
        w.write_raw(b"/ok");
        c.send_raw(w.as_slice()).await;
        let f = c.reply(9).await;
        assert_eq!(f.header.err, -5, "MarshallingError");
        assert_eq!(c.ping().await.header.err, 0);
        assert_eq!(c.get_data("/ok", false).await.unwrap().0, b"fine");
        // A malformed write is not applied either.
        let mut w = Writer::new();
        RequestHeader {
            xid: 10,
            op_type: op::CREATE,
        }
        .write(&mut w);
        w.write_string("/half");
        c.send_raw(w.as_slice()).await;
        assert_eq!(c.reply(10).await.header.err, -5);
        assert_eq!(c.exists("/half", false).await, Err(-101));
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_write_event_precedes_its_reply() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        c.create("/w", b"0", 0).await.unwrap();
        for round in 0..5 {
            c.get_data("/w", true).await.unwrap();
            let xid = c
                .send(&Request::SetData(proto::SetDataRequest {
                    path: "/w".into(),
                    data: Some(format!("{round}").into_bytes()),
                    version: -1,
                }))
                .await;
            let first = c.recv().await.unwrap();
            assert!(
                first.is_event(),
                "round {round}: reply (xid {}) came before the watch event",
                first.header.xid
            );
            let ev = first.event();
            assert_eq!(
                (ev.event_type, ev.state, ev.path.as_str()),
                (NODE_DATA_CHANGED, SYNC_CONNECTED, "/w")
            );
            assert_eq!(first.header.zxid, -1);
            let second = c.recv().await.unwrap();
            assert_eq!(second.header.xid, xid);
            assert_eq!(second.header.err, 0);
        }
        server.stop().await;
    })
    .await
}

/// Requests pipelined in one TCP write: each read sees the state right
/// after the writes before it, never the writes after it (a read between
/// two writes used to run after both had applied).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_read_sees_only_the_writes_before_it() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        for round in 0..20 {
            let path = format!("/p{round}");
            let create = Request::Create(proto::CreateRequest {
                path: path.clone(),
                data: Some(b"first".to_vec()),
                acl: Acl::open_unsafe(),
                flags: 0,
            });
            let get = Request::GetData(proto::GetDataRequest {
                path: path.clone(),
                watch: false,
            });
            let set = Request::SetData(proto::SetDataRequest {
                path: path.clone(),
                data: Some(b"second".to_vec()),
                version: -1,
            });
            let delete = Request::Delete(proto::DeleteRequest {
                path: path.clone(),
                version: -1,
            });
            let exists = Request::Exists(proto::ExistsRequest {
                path: path.clone(),
                watch: false,
            });
            let reqs = [create, get.clone(), set, get, delete, exists];
            let mut batch = Vec::new();
            let mut xids = Vec::new();
            for r in &reqs {
                let xid = c.next_xid();
                batch.extend(zkrs::proto::frame::encode(&r.to_packet(xid)));
                xids.push(xid);
            }
            c.write_bytes(&batch).await.unwrap();
            let mut replies = Vec::new();
            for xid in xids {
                replies.push(c.reply(xid).await);
            }
            let data = |f: &Frame| {
                let r = proto::GetDataResponse::read(&mut proto::Reader::new(&f.body)).unwrap();
                r.data.unwrap_or_default()
            };
            let errs: Vec<i32> = replies.iter().map(|f| f.header.err).collect();
            assert_eq!(errs, [0, 0, 0, 0, 0, -101], "round {round}");
            assert_eq!(
                data(&replies[1]),
                b"first",
                "round {round}: the read saw a later write"
            );
            assert_eq!(data(&replies[3]), b"second", "round {round}");
            let zxids: Vec<i64> = replies.iter().map(|f| f.header.zxid).collect();
            assert!(
                zxids.windows(2).all(|w| w[0] <= w[1]),
                "round {round}: {zxids:?}"
            );
        }
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_event_comes_in_zxid_order_among_replies() {
    bounded(60, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut a = Conn::open(server.addr(), 4000).await;
        let mut b = Conn::open(server.addr(), 4000).await;
        let exists = Request::Exists(proto::ExistsRequest {
            path: "/".into(),
            watch: false,
        });
        for round in 0..40 {
            let path = format!("/fw{round}");
            b.create(&path, b"", 0).await.unwrap();
            a.get_data(&path, true).await.unwrap();
            // A keeps reads in flight while B changes the node: many (its
            // writer is busy and queues the event), or none (the core
            // writes the event to A's socket itself).
            let mut xids = Vec::new();
            for _ in 0..[100, 10, 2, 0][round % 4] {
                xids.push(a.send(&exists).await);
            }
            let changed = b.set_data(&path, b"x", -1).await.unwrap().mzxid;
            // A request sent after the change is answered after its event.
            xids.push(a.send(&exists).await);
            let mut seen_event = false;
            let mut replies = 0;
            while replies < xids.len() || !seen_event {
                let f = a.recv().await.expect("A's connection closed");
                if f.is_event() {
                    assert!(!seen_event, "event delivered twice");
                    assert_eq!(f.event().path, path);
                    seen_event = true;
                    continue;
                }
                assert_eq!(f.header.xid, xids[replies]);
                replies += 1;
                // In zxid order: the event after the replies that came
                // before the change, and before those that came after it.
                assert_eq!(
                    seen_event,
                    f.header.zxid >= changed,
                    "round {round}: reply at zxid {:#x}, the event of zxid {changed:#x} seen: {seen_event}",
                    f.header.zxid
                );
            }
        }
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_multi_reply_shape() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        c.create("/mf", b"", 0).await.unwrap();
        let before = c.children("/mf").await.unwrap().1;
        let xid = c
            .send(&Request::Multi(vec![
                MultiOp::Create(create_req("/mf/a", b"", Acl::open_unsafe(), 0)),
                MultiOp::SetData(proto::SetDataRequest {
                    path: "/mf/missing".into(),
                    data: Some(vec![]),
                    version: -1,
                }),
                MultiOp::Create(create_req("/mf/b", b"", Acl::open_unsafe(), 0)),
            ]))
            .await;
        let f = c.reply(xid).await;
        assert_eq!(f.header.err, 0, "a failed multi still answers err 0");
        // Raw bytes: each result is MultiHeader{type -1, done false, err}
        // then ErrorResponse{err}; then the done marker.
        let want: Vec<u8> = [
            &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0][..],
            &[0, 0, 0, 0],
            &[0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0x9b],
            &[0xff, 0xff, 0xff, 0x9b],
            &[0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xfe],
            &[0xff, 0xff, 0xff, 0xfe],
            &[0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff],
        ]
        .concat();
        assert_eq!(f.body, want);
        let (err, results) = c
            .multi(vec![
                MultiOp::Check(proto::CheckVersionRequest {
                    path: "/mf".into(),
                    version: 42,
                }),
                MultiOp::Delete(proto::DeleteRequest {
                    path: "/mf".into(),
                    version: -1,
                }),
            ])
            .await;
        assert_eq!(err, 0);
        assert_eq!(
            results,
            vec![OpResult::Error { err: -103 }, OpResult::Error { err: -2 }]
        );
        // Nothing of either multi was applied.
        let after = c.children("/mf").await.unwrap();
        assert!(after.0.is_empty());
        assert_eq!(after.1.cversion, before.cversion);
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_closes_client_connections() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        c.create("/x", b"", 0).await.unwrap();
        server.stop().await;
        // A stopped member must not keep answering pings: the client would
        // believe it is connected while no write can ever commit.
        let mut w = Writer::new();
        RequestHeader {
            xid: proto::PING_XID,
            op_type: op::PING,
        }
        .write(&mut w);
        let _ = c.write_bytes(&proto::frame::encode(w.as_slice())).await;
        assert!(c.closed().await, "connection still served after stop()");
    })
    .await
}
