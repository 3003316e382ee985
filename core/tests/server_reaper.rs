//! Container and TTL cleanup with znode.container.checkIntervalMs=200:
//! an emptied container and an expired TTL node are removed (watchers hear
//! NodeDeleted); a never-used container, a container with children and an
//! unexpired or parent TTL node stay.

mod common;

use std::time::Duration;

use common::*;
use zkrs::proto::{self, Request};
use zkrs::Acl;

const NODE_DELETED: i32 = 2;
const REAPER: &str = "znode.container.checkIntervalMs=200\n";

fn container(path: &str) -> Request {
    Request::CreateContainer(create_req(path, b"", Acl::open_unsafe(), 4))
}

fn ttl(path: &str, flags: i32, ttl: i64) -> Request {
    Request::CreateTTL(proto::CreateTTLRequest {
        path: path.into(),
        data: Some(b"t".to_vec()),
        acl: Acl::open_unsafe(),
        flags,
        ttl,
    })
}

async fn gone_within(c: &mut Conn, path: &str, secs: u64) -> bool {
    c.wait_gone(path, secs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emptied_container_is_reaped() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), REAPER).await;
        let mut c = Conn::open(server.addr(), 4000).await;
        let (_, st) = c.create2(container("/box")).await.unwrap();
        // ZooKeeper shows clients 0, not its internal marker
        // (DataNode.getClientEphemeralOwner).
        assert_eq!(st.ephemeral_owner, 0);
        c.create2(container("/unused")).await.unwrap();
        c.create2(container("/full")).await.unwrap();
        c.create("/full/item", b"", 0).await.unwrap();
        c.create("/box/item", b"", 0).await.unwrap();
        let mut watcher = Conn::open(server.addr(), 4000).await;
        watcher.exists("/box", true).await.unwrap();
        // Still has a child: a few intervals pass and it stays.
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(c.exists("/box", false).await.is_ok());
        c.delete("/box/item", -1).await.unwrap();
        assert!(gone_within(&mut c, "/box", 5).await, "/box not reaped");
        let ev = watcher.next_event().await;
        assert_eq!((ev.event_type, ev.path.as_str()), (NODE_DELETED, "/box"));
        // Never had a child, or has one: both stay.
        assert!(c.exists("/unused", false).await.is_ok());
        assert!(c.exists("/full", false).await.is_ok());
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_ttl_nodes_are_reaped() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), REAPER).await;
        let mut c = Conn::open(server.addr(), 4000).await;
        let (_, st) = c.create2(ttl("/short", 5, 300)).await.unwrap();
        // The TTL marker in ephemeralOwner stays internal: clients see 0.
        assert_eq!(st.ephemeral_owner, 0);
        let (seq, _) = c.create2(ttl("/short-seq-", 6, 300)).await.unwrap();
        assert_eq!(seq, "/short-seq-0000000001");
        c.create2(ttl("/long", 5, 600_000)).await.unwrap();
        c.create2(ttl("/parent", 5, 300)).await.unwrap();
        c.create("/parent/child", b"", 0).await.unwrap();
        let mut watcher = Conn::open(server.addr(), 4000).await;
        watcher.exists("/short", true).await.unwrap();
        assert!(gone_within(&mut c, "/short", 5).await, "/short not reaped");
        assert!(gone_within(&mut c, &seq, 5).await, "{seq} not reaped");
        let ev = watcher.next_event().await;
        assert_eq!((ev.event_type, ev.path.as_str()), (NODE_DELETED, "/short"));
        assert!(c.exists("/long", false).await.is_ok());
        assert!(
            c.exists("/parent", false).await.is_ok(),
            "TTL parent reaped"
        );
        // Once its child is gone, the TTL parent expires too.
        c.delete("/parent/child", -1).await.unwrap();
        assert!(
            gone_within(&mut c, "/parent", 5).await,
            "/parent not reaped"
        );
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_needs_extended_types() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "extendedTypesEnabled=false\n").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        assert_eq!(c.create2(ttl("/t", 5, 1000)).await, Err(-6));
        // Containers are not an extended type.
        assert!(c.create2(container("/k")).await.is_ok());
        server.stop().await;
    })
    .await
}
