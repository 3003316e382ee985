//! Acknowledged means durable: 500 writes sent back to back without
//! waiting (many in flight, so the log commits them in groups) are all
//! there after a restart, whether the member stopped cleanly or its
//! runtime was simply dropped with no shutdown at all.

mod common;

use common::*;
use zkrs::proto::Request;
use zkrs::Acl;

const N: usize = 500;

/// Pipelines `N` creates, then reads every reply: all succeed, in request
/// order, with strictly increasing zxids.
async fn pipelined_writes(c: &mut Conn) -> i64 {
    c.create("/d", b"", 0).await.unwrap();
    let mut batch = Vec::new();
    let mut xids = Vec::with_capacity(N);
    for i in 0..N {
        let xid = c.next_xid();
        let req = Request::Create(create_req(
            &format!("/d/k{i:04}"),
            format!("value-{i}").as_bytes(),
            Acl::open_unsafe(),
            0,
        ));
        batch.extend(zkrs::proto::frame::encode(&req.to_packet(xid)));
        xids.push(xid);
    }
    // One write of all 500 frames: every request is in flight at once.
    c.write_bytes(&batch).await.unwrap();
    let mut last = 0;
    for xid in xids {
        let f = c.reply(xid).await;
        assert_eq!(f.header.err, 0, "xid {xid}");
        assert!(f.header.zxid > last, "zxids must increase");
        last = f.header.zxid;
    }
    last
}

async fn check_all_there(c: &mut Conn, acked_zxid: i64) {
    assert!(c.server_zxid().await >= acked_zxid);
    let (children, stat) = c.children("/d").await.unwrap();
    assert_eq!(children.len(), N);
    assert_eq!(stat.num_children as usize, N);
    for i in (0..N).step_by(7).chain([N - 1]) {
        let (data, _) = c.get_data(&format!("/d/k{i:04}"), false).await.unwrap();
        assert_eq!(data, format!("value-{i}").into_bytes());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_acked_writes_survive_stop() {
    bounded(60, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        let acked = pipelined_writes(&mut c).await;
        drop(c);
        server.stop().await;
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        check_all_there(&mut c, acked).await;
        drop(c);
        server.stop().await;
    })
    .await
}

/// No `stop()`: the runtime that ran the member is torn down under it, as
/// close to a crash as one process allows (a SIGKILL test lives elsewhere).
#[test]
fn pipelined_acked_writes_survive_dropped_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let acked = rt.block_on(bounded(60, async {
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        let acked = pipelined_writes(&mut c).await;
        // Forget the handle: nothing is stopped or flushed on purpose.
        drop(server);
        acked
    }));
    rt.shutdown_timeout(std::time::Duration::from_secs(5));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bounded(60, async {
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        check_all_there(&mut c, acked).await;
        drop(c);
        server.stop().await;
    }));
}
