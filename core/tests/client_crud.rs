//! Client CRUD against an in-process server: Stat fields, every create
//! mode, error codes, ACL reads, multi, sync, chroot, pipelining.

#[path = "client_support.rs"]
mod support;

use std::time::Duration;

use support::{bounded, connect, TestServer};
use zkrs::client::{Op, OpResult};
use zkrs::{Acl, CreateMode, Error};

#[tokio::test(flavor = "multi_thread")]
async fn crud_with_stat_checks() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let open = Acl::open_unsafe();

        let (p, st) = zk
            .create2("/a", b"hello", &open, CreateMode::Persistent)
            .await
            .unwrap();
        assert_eq!(p, "/a");
        assert_eq!(st.czxid, st.mzxid);
        assert_eq!(st.czxid, st.pzxid);
        assert_eq!(st.ctime, st.mtime);
        assert_eq!((st.version, st.cversion, st.aversion), (0, 0, 0));
        assert_eq!(st.ephemeral_owner, 0);
        assert_eq!(st.data_length, 5);
        assert_eq!(st.num_children, 0);

        let (data, st2) = zk.get_data("/a", None).await.unwrap();
        assert_eq!(data, b"hello");
        assert_eq!(st2, st);
        assert_eq!(zk.exists("/a", None).await.unwrap(), Some(st));
        assert_eq!(zk.exists("/nope", None).await.unwrap(), None);

        let st3 = zk.set_data("/a", b"bye", 0).await.unwrap();
        assert_eq!(st3.version, 1);
        assert!(st3.mzxid > st.mzxid);
        assert_eq!(st3.czxid, st.czxid);
        assert_eq!(st3.data_length, 3);
        assert_eq!(zk.set_data("/a", b"x", 0).await, Err(Error::BadVersion));
        assert_eq!(zk.set_data("/a", b"x", -1).await.unwrap().version, 2);

        let c = zk
            .create("/a/c1", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        assert_eq!(c, "/a/c1");
        zk.create("/a/c2", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        let (mut kids, pst) = zk.get_children2("/a", None).await.unwrap();
        kids.sort();
        assert_eq!(kids, ["c1", "c2"]);
        assert_eq!(pst.num_children, 2);
        assert_eq!(pst.cversion, 2);
        let (_, c2) = zk.get_data("/a/c2", None).await.unwrap();
        assert_eq!(pst.pzxid, c2.czxid);
        assert_eq!(zk.get_children("/a", None).await.unwrap().len(), 2);
        assert_eq!(zk.get_all_children_number("/a").await.unwrap(), 2);

        assert_eq!(
            zk.create("/a", b"", &open, CreateMode::Persistent).await,
            Err(Error::NodeExists)
        );
        assert_eq!(
            zk.create("/x/y", b"", &open, CreateMode::Persistent).await,
            Err(Error::NoNode)
        );
        assert_eq!(zk.delete("/a", -1).await, Err(Error::NotEmpty));
        assert_eq!(zk.delete("/a/c1", 5).await, Err(Error::BadVersion));
        zk.delete("/a/c1", 0).await.unwrap();
        zk.delete("/a/c2", -1).await.unwrap();
        zk.delete("/a", -1).await.unwrap();
        assert_eq!(zk.delete("/a", -1).await, Err(Error::NoNode));
        assert_eq!(zk.get_data("/a", None).await, Err(Error::NoNode));
        assert_eq!(zk.get_children("/a", None).await, Err(Error::NoNode));

        // Bad paths are refused locally, as ZooKeeper's client does.
        assert_eq!(zk.get_data("a", None).await, Err(Error::BadArguments));
        assert_eq!(zk.delete("/a/", -1).await, Err(Error::BadArguments));
        assert_eq!(
            zk.create("/a//b", b"", &open, CreateMode::Persistent).await,
            Err(Error::BadArguments)
        );
        zk.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_create_mode() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let open = Acl::open_unsafe();
        zk.create("/m", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();

        let (_, st) = zk
            .create2("/m/eph", b"", &open, CreateMode::Ephemeral)
            .await
            .unwrap();
        assert_eq!(st.ephemeral_owner, zk.session_id());
        assert_eq!(
            zk.create("/m/eph/child", b"", &open, CreateMode::Persistent)
                .await,
            Err(Error::NoChildrenForEphemerals)
        );

        let s1 = zk
            .create("/m/seq-", b"", &open, CreateMode::PersistentSequential)
            .await
            .unwrap();
        let s2 = zk
            .create("/m/seq-", b"", &open, CreateMode::PersistentSequential)
            .await
            .unwrap();
        // The suffix comes from the parent's cversion: 10 digits.
        assert_eq!(s1, "/m/seq-0000000001");
        assert_eq!(s2, "/m/seq-0000000002");
        let (es, st) = zk
            .create2("/m/eseq-", b"", &open, CreateMode::EphemeralSequential)
            .await
            .unwrap();
        assert_eq!(es, "/m/eseq-0000000003");
        assert_eq!(st.ephemeral_owner, zk.session_id());
        // A sequential path may end with '/'.
        let dir = zk
            .create("/m/", b"", &open, CreateMode::PersistentSequential)
            .await
            .unwrap();
        assert_eq!(dir, "/m/0000000004");

        let mut eph = zk.get_ephemerals("/m").await.unwrap();
        eph.sort();
        assert_eq!(eph, ["/m/eph", "/m/eseq-0000000003"]);
        assert_eq!(zk.get_ephemerals("/m/eph").await.unwrap(), ["/m/eph"]);

        // Container: reaped after its last child goes. Clients see owner 0
        // for containers and TTL nodes (DataTree.getClientEphemeralOwner).
        let (cp, st) = zk.create_container("/m/box", b"", &open).await.unwrap();
        assert_eq!(cp, "/m/box");
        assert_eq!(st.ephemeral_owner, 0);
        let p = zk
            .create("/m/box2", b"", &open, CreateMode::Container)
            .await
            .unwrap();
        assert_eq!(p, "/m/box2");
        zk.create("/m/box/x", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        zk.delete("/m/box/x", -1).await.unwrap();
        wait_gone(&zk, "/m/box").await;

        // TTL: removed when unmodified that long.
        let (tp, st) = zk
            .create_ttl("/m/ttl", b"", &open, CreateMode::PersistentWithTtl, 300)
            .await
            .unwrap();
        assert_eq!(tp, "/m/ttl");
        assert_eq!(st.ephemeral_owner, 0);
        let (tsp, _) = zk
            .create_ttl(
                "/m/ttls-",
                b"",
                &open,
                CreateMode::PersistentSequentialWithTtl,
                300,
            )
            .await
            .unwrap();
        assert!(tsp.starts_with("/m/ttls-"), "{tsp}");
        wait_gone(&zk, "/m/ttl").await;
        assert_eq!(
            zk.create("/m/t", b"", &open, CreateMode::PersistentWithTtl)
                .await,
            Err(Error::BadArguments)
        );
        assert_eq!(
            zk.create_ttl("/m/t", b"", &open, CreateMode::Persistent, 10)
                .await,
            Err(Error::BadArguments)
        );

        // Ephemerals go with the session.
        let sid = zk.session_id();
        zk.close().await.unwrap();
        let zk2 = connect(&ts.hosts()).await;
        assert_ne!(zk2.session_id(), sid);
        assert_eq!(zk2.exists("/m/eph", None).await.unwrap(), None);
        assert_eq!(zk2.exists("/m/eseq-0000000003", None).await.unwrap(), None);
        assert!(zk2
            .exists("/m/seq-0000000001", None)
            .await
            .unwrap()
            .is_some());
    })
    .await
}

async fn wait_gone(zk: &zkrs::client::Client, path: &str) {
    for _ in 0..100 {
        if zk.exists(path, None).await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} was not removed");
}

#[tokio::test(flavor = "multi_thread")]
async fn multi_committed_and_failed() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let open = Acl::open_unsafe();
        let res = zk
            .multi(vec![
                Op::create("/t", b"1", &open, CreateMode::Persistent),
                Op::create("/t/s-", b"", &open, CreateMode::PersistentSequential),
                Op::set_data("/t", b"2", 0),
                Op::check("/t", 1),
            ])
            .await
            .unwrap();
        assert_eq!(res.len(), 4);
        match &res[0] {
            OpResult::Create { path, stat } => {
                assert_eq!(path, "/t");
                assert!(stat.is_some());
            }
            r => panic!("{r:?}"),
        }
        assert!(matches!(&res[1], OpResult::Create { path, .. } if path == "/t/s-0000000000"));
        assert!(matches!(&res[2], OpResult::SetData { stat } if stat.version == 1));
        assert_eq!(res[3], OpResult::Check);
        assert_eq!(zk.get_data("/t", None).await.unwrap().0, b"2");

        // Failed: nothing applies; the first failing op's error.
        let ops = vec![
            Op::create("/t/new", b"", &open, CreateMode::Persistent),
            Op::check("/t", 7),
            Op::delete("/t", -1),
        ];
        assert_eq!(zk.multi(ops.clone()).await, Err(Error::BadVersion));
        let res = zk.multi_results(ops).await.unwrap();
        assert_eq!(
            res,
            vec![
                OpResult::Error { err: None },
                OpResult::Error {
                    err: Some(Error::BadVersion)
                },
                OpResult::Error {
                    err: Some(Error::RuntimeInconsistency)
                },
            ]
        );
        assert_eq!(zk.exists("/t/new", None).await.unwrap(), None);
        assert_eq!(
            zk.multi(vec![Op::delete("/nope", -1)]).await,
            Err(Error::NoNode)
        );
        // Empty multi succeeds with no results.
        assert_eq!(zk.multi(vec![]).await.unwrap(), vec![]);
        zk.multi(vec![
            Op::delete("/t/s-0000000000", -1),
            Op::delete("/t", -1),
        ])
        .await
        .unwrap();
        assert_eq!(zk.exists("/t", None).await.unwrap(), None);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn acl_sync_who_am_i_and_pipelining() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let open = Acl::open_unsafe();
        zk.create("/acl", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        let (acl, st) = zk.get_acl("/acl").await.unwrap();
        assert_eq!(acl, open);
        assert_eq!(st.aversion, 0);
        let st = zk.set_acl("/acl", &Acl::read_unsafe(), 0).await.unwrap();
        assert_eq!(st.aversion, 1);
        // ADMIN is checked before the version.
        assert_eq!(zk.set_acl("/acl", &open, 0).await, Err(Error::NoAuth));
        assert_eq!(zk.get_acl("/acl").await.unwrap().0, Acl::read_unsafe());
        assert_eq!(zk.set_data("/acl", b"x", -1).await, Err(Error::NoAuth));

        zk.sync("/").await.unwrap();
        zk.sync("/acl").await.unwrap();
        let ids = zk.who_am_i().await.unwrap();
        assert!(
            ids.iter().any(|(s, id)| s == "ip" && id == "127.0.0.1"),
            "{ids:?}"
        );

        // Many requests in flight at once complete, each with its own reply.
        zk.create("/p", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let zk = zk.clone();
            tasks.push(tokio::spawn(async move {
                let path = format!("/p/n{i}");
                let data = format!("{i}");
                zk.create(
                    &path,
                    data.as_bytes(),
                    &Acl::open_unsafe(),
                    CreateMode::Persistent,
                )
                .await
                .unwrap();
                let (d, _) = zk.get_data(&path, None).await.unwrap();
                assert_eq!(d, data.as_bytes());
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(zk.get_all_children_number("/p").await.unwrap(), 200);
        // Pipelined from one task: replies match requests in order.
        let futs: Vec<_> = (0..50)
            .map(|i| {
                let zk = zk.clone();
                async move { zk.get_data(&format!("/p/n{i}"), None).await.unwrap().0 }
            })
            .collect();
        let all = futures::future::join_all(futs).await;
        for (i, d) in all.into_iter().enumerate() {
            assert_eq!(d, format!("{i}").into_bytes());
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn chroot_prefixes_and_strips() {
    bounded(async {
        let ts = TestServer::start().await;
        let root = connect(&ts.hosts()).await;
        let open = Acl::open_unsafe();
        root.create("/app", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        let zk = connect(&format!("{}/app", ts.hosts())).await;
        assert_eq!(
            zk.create("/x", b"1", &open, CreateMode::Persistent)
                .await
                .unwrap(),
            "/x"
        );
        let (p, _) = zk
            .create2("/s-", b"", &open, CreateMode::EphemeralSequential)
            .await
            .unwrap();
        assert_eq!(p, "/s-0000000001");
        assert_eq!(root.get_data("/app/x", None).await.unwrap().0, b"1");
        let mut kids = zk.get_children("/", None).await.unwrap();
        kids.sort();
        assert_eq!(kids, ["s-0000000001", "x"]);
        assert_eq!(zk.get_ephemerals("/").await.unwrap(), ["/s-0000000001"]);
        let res = zk
            .multi(vec![
                Op::create("/y", b"", &open, CreateMode::Persistent),
                Op::set_data("/x", b"2", -1),
            ])
            .await
            .unwrap();
        assert!(matches!(&res[0], OpResult::Create { path, .. } if path == "/y"));
        assert!(root.exists("/app/y", None).await.unwrap().is_some());
        zk.sync("/").await.unwrap();
        // A chroot that does not exist yet: operations fail with NoNode.
        let missing = connect(&format!("{}/missing", ts.hosts())).await;
        assert_eq!(
            missing
                .create("/a", b"", &open, CreateMode::Persistent)
                .await,
            Err(Error::NoNode)
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn ensure_path_and_recursive_delete() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let open = Acl::open_unsafe();
        zk.create("/keep", b"k", &open, CreateMode::Persistent)
            .await
            .unwrap();
        zk.ensure_path("/t/a/b/c", &open).await.unwrap();
        // Idempotent, and existing data is left alone.
        zk.set_data("/t/a", b"x", -1).await.unwrap();
        zk.ensure_path("/t/a/b/c", &open).await.unwrap();
        assert_eq!(zk.get_data("/t/a", None).await.unwrap().0, b"x");
        for p in ["/t/a/b/d", "/t/a/e", "/t/f"] {
            zk.create(p, b"", &open, CreateMode::Persistent)
                .await
                .unwrap();
        }
        zk.delete_recursive("/t").await.unwrap();
        assert!(zk.exists("/t", None).await.unwrap().is_none());
        assert!(zk.exists("/keep", None).await.unwrap().is_some());
        // A missing node is fine; the root survives a recursive delete of "/"
        // minus ZooKeeper's own nodes.
        zk.delete_recursive("/missing").await.unwrap();
        zk.delete_recursive("/").await.unwrap();
        assert!(zk.exists("/keep", None).await.unwrap().is_none());
        assert!(zk.exists("/zookeeper", None).await.unwrap().is_some());
    })
    .await;
}

/// Null data (ZooKeeper's `create(path, null)`) reads back as null, not
/// as empty, through create modes, setData, multi, the log and a snapshot.
#[tokio::test(flavor = "multi_thread")]
async fn null_data_is_kept_apart_from_empty() {
    bounded(async {
        let mut ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let open = Acl::open_unsafe();
        let (_, st) = zk
            .create_node("/null", None, &open, CreateMode::Persistent, None)
            .await
            .unwrap();
        assert_eq!(st.data_length, 0);
        zk.create_node(
            "/ttl",
            None,
            &open,
            CreateMode::PersistentWithTtl,
            Some(60_000),
        )
        .await
        .unwrap();
        zk.create("/empty", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        zk.create("/full", b"x", &open, CreateMode::Persistent)
            .await
            .unwrap();
        zk.set_data_or_null("/full", None, 0).await.unwrap();
        let ops = vec![
            Op::Create {
                path: "/m".into(),
                data: None,
                acl: open.clone(),
                mode: CreateMode::Persistent,
            },
            Op::SetData {
                path: "/empty".into(),
                data: Some(vec![]),
                version: 0,
            },
        ];
        zk.multi(ops).await.unwrap();
        let expect = [
            ("/null", None),
            ("/full", None),
            ("/m", None),
            ("/ttl", None),
            ("/empty", Some(vec![])),
        ];
        for (path, want) in &expect {
            let (got, _) = zk.get_data_or_null(path, None).await.unwrap();
            assert_eq!(&got, want, "{path}");
        }
        assert_eq!(zk.get_data("/null", None).await.unwrap().0, b"");
        zk.close().await.unwrap();

        // From the log, then from a snapshot.
        ts.restart().await;
        ts.server.as_ref().unwrap().snapshot_now().await.unwrap();
        ts.restart().await;
        let zk = connect(&ts.hosts()).await;
        for (path, want) in &expect {
            let (got, _) = zk.get_data_or_null(path, None).await.unwrap();
            assert_eq!(&got, want, "{path} after restarts");
        }
        zk.close().await.unwrap();
    })
    .await;
}
