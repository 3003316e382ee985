//! Session lifetime: a silent session expires after its timeout (its
//! ephemerals go, watchers hear NodeDeleted, its socket is closed), a
//! pinging one does not, closeSession removes ephemerals at once, and a
//! session nobody resumes after a restart still expires.

mod common;

use std::time::{Duration, Instant};

use common::*;

const NODE_DELETED: i32 = 2;

/// Pings `c` every 100 ms until it has an event, which it returns.
async fn ping_until_event(c: &mut Conn) -> zkrs::proto::WatcherEvent {
    loop {
        if !c.events.is_empty() {
            return c.events.remove(0);
        }
        c.ping().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_session_expires_and_its_ephemerals_go() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut doomed = Conn::open(server.addr(), 400).await;
        assert_eq!(doomed.timeout, 400);
        doomed.create("/e", b"", 1).await.unwrap();
        doomed.create("/eseq-", b"", 3).await.unwrap();
        let mut watcher = Conn::open(server.addr(), 4000).await;
        watcher.exists("/e", true).await.unwrap();
        let silent_since = Instant::now();
        let ev = ping_until_event(&mut watcher).await;
        let waited = silent_since.elapsed();
        assert_eq!((ev.event_type, ev.path.as_str()), (NODE_DELETED, "/e"));
        assert!(
            waited >= Duration::from_millis(300),
            "expired too early: {waited:?}"
        );
        assert!(
            waited < Duration::from_millis(2500),
            "expired too late: {waited:?}"
        );
        assert_eq!(watcher.exists("/e", false).await, Err(-101));
        assert!(watcher
            .children("/")
            .await
            .unwrap()
            .0
            .iter()
            .all(|c| !c.starts_with("eseq-")));
        // The expired session's socket is closed, and it cannot come back.
        assert!(doomed.closed().await);
        let req = zkrs::proto::ConnectRequest {
            session_id: doomed.session_id,
            passwd: doomed.passwd.clone(),
            ..connect_request(400)
        };
        let (_c, resp) = handshake(server.addr(), &req).await.unwrap();
        assert_eq!((resp.session_id, resp.time_out), (0, 0));
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinging_session_outlives_its_timeout() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut live = Conn::open(server.addr(), 400).await;
        live.create("/alive", b"", 1).await.unwrap();
        let until = Instant::now() + Duration::from_millis(1600);
        while Instant::now() < until {
            assert_eq!(live.ping().await.header.err, 0);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let st = live.exists("/alive", false).await.unwrap();
        assert_eq!(st.ephemeral_owner, live.session_id);
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_session_removes_ephemerals_at_once() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut owner = Conn::open(server.addr(), 4000).await;
        owner.create("/c", b"", 0).await.unwrap();
        owner.create("/c/e1", b"", 1).await.unwrap();
        owner.create("/c/e2-", b"", 3).await.unwrap();
        let mut watcher = Conn::open(server.addr(), 4000).await;
        watcher.exists("/c/e1", true).await.unwrap();
        let t0 = Instant::now();
        let f = owner.close_session().await;
        assert_eq!(f.header.err, 0);
        assert!(owner.closed().await, "server must close after closeSession");
        // Gone as soon as the close is answered, long before the timeout.
        assert_eq!(
            watcher.children("/c").await.unwrap().0,
            Vec::<String>::new()
        );
        let ev = watcher.next_event().await;
        assert_eq!((ev.event_type, ev.path.as_str()), (NODE_DELETED, "/c/e1"));
        assert!(t0.elapsed() < Duration::from_millis(2000));
        // The closed session cannot be resumed.
        let req = zkrs::proto::ConnectRequest {
            session_id: owner.session_id,
            passwd: owner.passwd.clone(),
            ..connect_request(4000)
        };
        let (_c, resp) = handshake(server.addr(), &req).await.unwrap();
        assert_eq!(resp.session_id, 0);
        server.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresumed_session_expires_after_restart() {
    bounded(30, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 400).await;
        c.create("/orphan", b"", 1).await.unwrap();
        drop(c);
        server.stop().await;
        let server = start(dir.path(), "").await;
        let mut watcher = Conn::open(server.addr(), 4000).await;
        // Recovered with a fresh timeout, then expired by the new leader.
        let gone = watcher.wait_gone("/orphan", 5).await;
        assert!(gone, "an unresumed session's ephemeral outlived a restart");
        server.stop().await;
    })
    .await
}
