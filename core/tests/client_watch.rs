//! Client watches: data, child, exist-on-missing, persistent, recursive,
//! one-shot semantics, removal, delivery order relative to replies.

#[path = "client_support.rs"]
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::{bounded, connect, next_event, no_event, recorder, TestServer};
use zkrs::client::{watcher, AddWatchMode, WatcherType};
use zkrs::{Acl, CreateMode, Error, EventType, KeeperState};

fn open() -> Vec<Acl> {
    Acl::open_unsafe()
}

#[tokio::test(flavor = "multi_thread")]
async fn data_child_and_exist_watches_are_one_shot() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let other = connect(&ts.hosts()).await;
        zk.create("/w", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();

        // Data watch.
        let (w, mut rx) = recorder();
        zk.get_data("/w", Some(w)).await.unwrap();
        other.set_data("/w", b"1", -1).await.unwrap();
        let e = next_event(&mut rx).await;
        assert_eq!(e.event_type, EventType::NodeDataChanged);
        assert_eq!(e.path, "/w");
        assert_eq!(e.state, KeeperState::SyncConnected);
        other.set_data("/w", b"2", -1).await.unwrap();
        no_event(&mut rx).await; // one-shot

        // Child watch: a child created; then one-shot again.
        let (w, mut rx) = recorder();
        assert!(zk.get_children("/w", Some(w)).await.unwrap().is_empty());
        other
            .create("/w/c", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let e = next_event(&mut rx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeChildrenChanged, "/w")
        );
        other.delete("/w/c", -1).await.unwrap();
        no_event(&mut rx).await;

        // Exists on a missing node registers; creation fires NodeCreated.
        let (w, mut rx) = recorder();
        assert_eq!(zk.exists("/w/later", Some(w)).await.unwrap(), None);
        other
            .create("/w/later", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let e = next_event(&mut rx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeCreated, "/w/later")
        );

        // Exists on a present node; deletion fires NodeDeleted, to both a
        // data and a child watcher on it.
        let (w, mut rx) = recorder();
        let (cw, mut crx) = recorder();
        assert!(zk.exists("/w/later", Some(w)).await.unwrap().is_some());
        zk.get_children2("/w/later", Some(cw)).await.unwrap();
        other.delete("/w/later", -1).await.unwrap();
        assert_eq!(next_event(&mut rx).await.event_type, EventType::NodeDeleted);
        assert_eq!(
            next_event(&mut crx).await.event_type,
            EventType::NodeDeleted
        );

        // A failed getData registers nothing.
        let (w, mut rx) = recorder();
        assert_eq!(zk.get_data("/w/none", Some(w)).await, Err(Error::NoNode));
        other
            .create("/w/none", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        no_event(&mut rx).await;
        assert_eq!(
            zk.remove_watches("/w/none", WatcherType::Any, false).await,
            Err(Error::NoWatcher)
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn one_watcher_on_many_tables_fires_once_and_many_watchers_all_fire() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        zk.create("/d", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        let w = watcher(move |_| {
            m.fetch_add(1, Ordering::SeqCst);
        });
        zk.get_data("/d", Some(w.clone())).await.unwrap();
        zk.exists("/d", Some(w.clone())).await.unwrap();
        let (w2, mut rx2) = recorder();
        zk.get_data("/d", Some(w2)).await.unwrap();
        zk.set_data("/d", b"x", -1).await.unwrap();
        assert_eq!(
            next_event(&mut rx2).await.event_type,
            EventType::NodeDataChanged
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(n.load(Ordering::SeqCst), 1);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_and_recursive_watches_stay() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let other = connect(&ts.hosts()).await;
        zk.create("/p", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let (w, mut rx) = recorder();
        zk.add_watch("/p", AddWatchMode::Persistent, w)
            .await
            .unwrap();
        for i in 0..3 {
            other
                .set_data("/p", format!("{i}").as_bytes(), -1)
                .await
                .unwrap();
            let e = next_event(&mut rx).await;
            assert_eq!(
                (e.event_type, e.path.as_str()),
                (EventType::NodeDataChanged, "/p")
            );
        }
        other
            .create("/p/c", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let e = next_event(&mut rx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeChildrenChanged, "/p")
        );
        // Not recursive: a grandchild's data change is not seen.
        other.set_data("/p/c", b"x", -1).await.unwrap();
        no_event(&mut rx).await;

        let (rw, mut rrx) = recorder();
        zk.add_watch("/p", AddWatchMode::PersistentRecursive, rw)
            .await
            .unwrap();
        other
            .create("/p/c/g", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let e = next_event(&mut rrx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeCreated, "/p/c/g")
        );
        other.set_data("/p/c/g", b"1", -1).await.unwrap();
        let e = next_event(&mut rrx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeDataChanged, "/p/c/g")
        );
        other.delete("/p/c/g", -1).await.unwrap();
        let e = next_event(&mut rrx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeDeleted, "/p/c/g")
        );
        // Recursive watches never see NodeChildrenChanged.
        no_event(&mut rrx).await;

        // Removing the persistent one leaves the recursive one.
        zk.remove_watches("/p", WatcherType::Persistent, false)
            .await
            .unwrap();
        let e = next_event(&mut rx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::PersistentWatchRemoved, "/p")
        );
        other.set_data("/p", b"z", -1).await.unwrap();
        let e = next_event(&mut rrx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeDataChanged, "/p")
        );
        no_event(&mut rx).await;
        zk.remove_watches("/p", WatcherType::PersistentRecursive, false)
            .await
            .unwrap();
        assert_eq!(
            next_event(&mut rrx).await.event_type,
            EventType::PersistentWatchRemoved
        );
        other.set_data("/p", b"w", -1).await.unwrap();
        no_event(&mut rrx).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_watches_by_type_and_locally() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        zk.create("/r", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let (dw, mut drx) = recorder();
        let (cw, mut crx) = recorder();
        zk.get_data("/r", Some(dw)).await.unwrap();
        zk.get_children("/r", Some(cw)).await.unwrap();
        zk.remove_watches("/r", WatcherType::Data, false)
            .await
            .unwrap();
        assert_eq!(
            next_event(&mut drx).await.event_type,
            EventType::DataWatchRemoved
        );
        zk.set_data("/r", b"1", -1).await.unwrap();
        no_event(&mut drx).await;
        assert_eq!(
            zk.remove_watches("/r", WatcherType::Data, false).await,
            Err(Error::NoWatcher)
        );
        // local: removed on the client whatever the server says.
        zk.remove_watches("/r", WatcherType::Any, true)
            .await
            .unwrap();
        assert_eq!(
            next_event(&mut crx).await.event_type,
            EventType::ChildWatchRemoved
        );
        zk.create("/r/c", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        no_event(&mut crx).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn events_run_before_later_replies_complete() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        zk.create("/o", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let seen = Arc::new(AtomicBool::new(false));
        let s = seen.clone();
        // A slow watcher: the reply after its event must still wait for it.
        let w = watcher(move |_| {
            std::thread::sleep(Duration::from_millis(300));
            s.store(true, Ordering::SeqCst);
        });
        zk.get_data("/o", Some(w)).await.unwrap();
        // The server writes the event before the setData reply.
        zk.set_data("/o", b"1", -1).await.unwrap();
        assert!(
            seen.load(Ordering::SeqCst),
            "reply completed before the event ran"
        );

        // The socket is not blocked by a slow callback: other requests
        // proceed while one runs (their completion waits, their I/O not).
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        let w = watcher(move |_| {
            std::thread::sleep(Duration::from_millis(200));
            m.fetch_add(1, Ordering::SeqCst);
        });
        for i in 0..5 {
            zk.create(&format!("/o/{i}"), b"", &open(), CreateMode::Persistent)
                .await
                .unwrap();
            zk.get_data(&format!("/o/{i}"), Some(w.clone()))
                .await
                .unwrap();
        }
        let futs: Vec<_> = (0..5)
            .map(|i| {
                let zk = zk.clone();
                async move { zk.delete(&format!("/o/{i}"), -1).await }
            })
            .collect();
        for r in futures::future::join_all(futs).await {
            r.unwrap();
        }
        assert_eq!(n.load(Ordering::SeqCst), 5);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn chroot_event_paths_are_stripped() {
    bounded(async {
        let ts = TestServer::start().await;
        let root = connect(&ts.hosts()).await;
        root.create("/ch", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let zk = connect(&format!("{}/ch", ts.hosts())).await;
        let (w, mut rx) = recorder();
        zk.exists("/n", Some(w)).await.unwrap();
        let (cw, mut crx) = recorder();
        zk.get_children("/", Some(cw)).await.unwrap();
        let (rw, mut rrx) = recorder();
        zk.add_watch("/", AddWatchMode::PersistentRecursive, rw)
            .await
            .unwrap();
        root.create("/ch/n", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let e = next_event(&mut rx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeCreated, "/n")
        );
        let e = next_event(&mut crx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeChildrenChanged, "/")
        );
        let e = next_event(&mut rrx).await;
        assert_eq!(
            (e.event_type, e.path.as_str()),
            (EventType::NodeCreated, "/n")
        );
    })
    .await
}

/// `call_in_order` hands outcomes to the event thread in wire order with
/// watch events, and in call order even when one fails before sending.
#[tokio::test(flavor = "multi_thread")]
async fn call_in_order_runs_outcomes_on_the_event_thread_in_wire_order() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let other = connect(&ts.hosts()).await;
        zk.create("/ord", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap();
        let seen = Arc::new(std::sync::Mutex::new(
            Vec::<(String, std::thread::ThreadId)>::new(),
        ));
        let log = |what: &str, seen: &Arc<std::sync::Mutex<Vec<_>>>| {
            seen.lock()
                .unwrap()
                .push((what.to_string(), std::thread::current().id()));
        };
        let s = seen.clone();
        let w = watcher(move |e| log(&format!("event {:?}", e.event_type), &s));
        zk.get_data("/ord", Some(w)).await.unwrap();
        // The change's event is sent before the reply to the read below.
        other.set_data("/ord", b"1", -1).await.unwrap();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        for (tag, path) in [
            ("read", "/ord"),
            ("bad path", "no-slash"),
            ("missing", "/nope"),
        ] {
            let (s, d, z) = (seen.clone(), done_tx.clone(), zk.clone());
            let path = path.to_string();
            zk.call_in_order(async move { z.get_data(&path, None).await }, move |r| {
                log(&format!("{tag} {:?}", r.map(|(data, _)| data)), &s);
                let _ = d.send(());
            });
        }
        for _ in 0..3 {
            done_rx.recv().await.unwrap();
        }
        let seen = seen.lock().unwrap();
        let order: Vec<&str> = seen.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(
            order,
            [
                "event NodeDataChanged",
                "read Ok([49])",
                "bad path Err(BadArguments)",
                "missing Err(NoNode)",
            ]
        );
        assert!(seen.iter().all(|(_, t)| *t == seen[0].1), "one thread");
        assert_ne!(seen[0].1, std::thread::current().id());
    })
    .await;
}
