//! Recovery exactness: after a restart on the same data directory a client
//! sees exactly the tree it saw before (data, every Stat field, ACLs,
//! sequential counters), its session with its ephemerals, and a last zxid
//! no lower than the one it had seen. Once from the log alone, once from a
//! snapshot plus the log tail.

mod common;

use std::collections::BTreeMap;

use common::*;
use zkrs::proto::{self, MultiOp, OpResult, Request};
use zkrs::{perms, Acl, Id};

const PERSISTENT: i32 = 0;
const EPHEMERAL: i32 = 1;
const PERSISTENT_SEQ: i32 = 2;
const EPHEMERAL_SEQ: i32 = 3;

fn acl_mixed() -> Vec<Acl> {
    vec![
        Acl {
            perms: perms::READ | perms::WRITE | perms::ADMIN,
            id: Id::new("world", "anyone"),
        },
        Acl {
            perms: perms::ALL,
            id: Id::new("digest", &zkrs::tree::digest("alice:secret")),
        },
    ]
}

/// A varied tree: persistent and sequential nodes, ephemerals of `c`'s
/// session, repeated setData, setACL, deletes, a successful and a failed
/// multi, a container and a TTL node.
async fn build_tree(c: &mut Conn, root: &str) {
    c.create(root, b"root", PERSISTENT).await.unwrap();
    let cfg = format!("{root}/cfg");
    c.create(&cfg, b"v0", PERSISTENT).await.unwrap();
    for (i, v) in [b"v1", b"v2", b"v3"].iter().enumerate() {
        let st = c.set_data(&cfg, *v, i as i32).await.unwrap();
        assert_eq!(st.version, i as i32 + 1);
    }
    for _ in 0..3 {
        c.create(&format!("{root}/seq-"), b"s", PERSISTENT_SEQ)
            .await
            .unwrap();
    }
    c.create(&format!("{root}/eph"), b"mine", EPHEMERAL)
        .await
        .unwrap();
    c.create(&format!("{root}/eseq-"), b"", EPHEMERAL_SEQ)
        .await
        .unwrap();
    let acl_node = format!("{root}/acl");
    c.create(&acl_node, b"guarded", PERSISTENT).await.unwrap();
    c.set_acl(&acl_node, acl_mixed(), 0).await.unwrap();
    // A delete leaves its mark in the parent's cversion and pzxid.
    c.create(&format!("{root}/gone"), b"x", PERSISTENT)
        .await
        .unwrap();
    c.delete(&format!("{root}/gone"), 0).await.unwrap();
    let seq2 = format!("{root}/seq-0000000002");
    c.delete(&seq2, -1).await.unwrap();
    let m = format!("{root}/m");
    c.create(&m, b"", PERSISTENT).await.unwrap();
    let (err, results) = c
        .multi(vec![
            MultiOp::Create(create_req(
                &format!("{m}/a"),
                b"a",
                Acl::open_unsafe(),
                PERSISTENT,
            )),
            MultiOp::Create2(create_req(
                &format!("{m}/b-"),
                b"b",
                Acl::open_unsafe(),
                PERSISTENT_SEQ,
            )),
            MultiOp::SetData(proto::SetDataRequest {
                path: cfg.clone(),
                data: Some(b"v4".to_vec()),
                version: 3,
            }),
            MultiOp::Check(proto::CheckVersionRequest {
                path: root.into(),
                version: 0,
            }),
        ])
        .await;
    assert_eq!(err, 0);
    assert!(results.iter().all(|r| !matches!(r, OpResult::Error { .. })));
    // A failed multi changes nothing but still takes a zxid.
    let (err, results) = c
        .multi(vec![
            MultiOp::Create(create_req(
                &format!("{m}/never"),
                b"",
                Acl::open_unsafe(),
                PERSISTENT,
            )),
            MultiOp::Delete(proto::DeleteRequest {
                path: format!("{m}/missing"),
                version: -1,
            }),
        ])
        .await;
    assert_eq!(err, 0);
    assert!(matches!(results[1], OpResult::Error { err: -101 }));
    let cont = format!("{root}/cont");
    c.create2(Request::CreateContainer(create_req(
        &cont,
        b"c",
        Acl::open_unsafe(),
        4,
    )))
    .await
    .unwrap();
    c.create(&format!("{cont}/child"), b"", PERSISTENT)
        .await
        .unwrap();
    c.create2(Request::CreateTTL(proto::CreateTTLRequest {
        path: format!("{root}/ttl"),
        data: Some(b"t".to_vec()),
        acl: Acl::open_unsafe(),
        flags: 5,
        ttl: 3_600_000,
    }))
    .await
    .unwrap();
}

/// What a client recorded before the restart.
struct Recorded {
    tree: BTreeMap<String, NodeDump>,
    zxid: i64,
    session: i64,
    passwd: Vec<u8>,
}

async fn record(c: &mut Conn) -> Recorded {
    let tree = dump_tree(c).await;
    Recorded {
        tree,
        zxid: c.server_zxid().await,
        session: c.session_id,
        passwd: c.passwd.clone(),
    }
}

/// Restart checks: the same tree, session, ephemerals and counters.
async fn verify(addr: std::net::SocketAddr, rec: &Recorded, roots: &[&str]) {
    let mut c = Conn::resume(addr, rec.session, &rec.passwd, rec.zxid).await;
    let zxid = c.server_zxid().await;
    // A restarted member wins a new term, whose leader commits one empty
    // entry first (Raft), and the resumed session is claimed by the
    // restarted member (a new owner): one more entry. The
    // last zxid moves by exactly those two entries, and no znode's zxids
    // change (checked below).
    assert_eq!(
        zxid,
        rec.zxid + 2,
        "last zxid after restart: {zxid:#x}, before: {:#x} (+1 for the new term's entry, +1 for the claim)",
        rec.zxid
    );
    let tree = dump_tree(&mut c).await;
    assert_eq!(
        tree.keys().collect::<Vec<_>>(),
        rec.tree.keys().collect::<Vec<_>>(),
        "set of paths differs"
    );
    for (path, before) in &rec.tree {
        assert_eq!(&tree[path], before, "{path} differs after restart");
    }
    for root in roots {
        let eph = c.exists(&format!("{root}/eph"), false).await.unwrap();
        assert_eq!(eph.ephemeral_owner, rec.session, "ephemeral lost its owner");
        // The sequential counter continues where it was. It counts child
        // creations; the client-visible cversion is ZooKeeper's
        // `2 * creations - children` (creates and deletes both count).
        let st = rec.tree[*root].stat;
        let counter = (st.cversion + st.num_children) / 2;
        let next = c
            .create(&format!("{root}/seq-"), b"", PERSISTENT_SEQ)
            .await
            .unwrap();
        assert_eq!(next, format!("{root}/seq-{counter:010}"));
    }
    // The first write after recovery gets a zxid past everything seen.
    let st = c.set_data(roots[0], b"after", -1).await.unwrap();
    assert!(st.mzxid > rec.zxid);
    // The resumed session still owns its ephemerals: closing removes them.
    let f = c.close_session().await;
    assert_eq!(f.header.err, 0);
    let mut other = Conn::open(addr, 4000).await;
    for root in roots {
        assert_eq!(
            other.exists(&format!("{root}/eph"), false).await,
            Err(-101),
            "ephemeral survived its session's close"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_exactly_from_log_only() {
    bounded(60, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        build_tree(&mut c, "/a").await;
        let rec = record(&mut c).await;
        assert!(
            snapshot_files(dir.path()).is_empty(),
            "this test must recover from the log alone"
        );
        drop(c);
        server.stop().await;
        let server = start(dir.path(), "").await;
        assert!(snapshot_files(dir.path()).is_empty());
        verify(server.addr(), &rec, &["/a"]).await;
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_exactly_from_snapshot_plus_log_tail() {
    bounded(60, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        build_tree(&mut c, "/a").await;
        server.snapshot_now().await.unwrap();
        assert!(
            eventually(10, || async { !snapshot_files(dir.path()).is_empty() }).await,
            "snapshot_now wrote no snapshot file"
        );
        // The tail: more of everything after the snapshot, on the same
        // session and on a subtree the snapshot has never seen.
        build_tree(&mut c, "/b").await;
        c.set_data("/a/cfg", b"tail", -1).await.unwrap();
        c.delete("/a/seq-0000000001", -1).await.unwrap();
        c.set_acl("/a/m", acl_mixed(), -1).await.unwrap();
        let rec = record(&mut c).await;
        let snaps = snapshot_files(dir.path());
        let snap_index: i64 = snaps
            .last()
            .and_then(|n| n.strip_prefix("snap-"))
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(snap_index < rec.zxid, "the log tail must be non-empty");
        drop(c);
        server.stop().await;
        let server = start(dir.path(), "").await;
        verify(server.addr(), &rec, &["/a", "/b"]).await;
        server.stop().await;
    })
    .await
}
