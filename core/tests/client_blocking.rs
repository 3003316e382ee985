//! The blocking facade: plain threads, no runtime of the caller's; calls
//! made from inside watcher callbacks and from inside a tokio runtime.

#[path = "client_support.rs"]
mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{opts, TestServer};
use zkrs::client::blocking::{self, Client};
use zkrs::client::{watcher, AddWatchMode, Op, SessionState, WatcherType};
use zkrs::{Acl, CreateMode, Error, EventType};

/// Runs `f` with a server on its own runtime, bounded in time.
fn with_server(f: impl FnOnce(&str) + Send + 'static) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ts = rt.block_on(TestServer::start());
    let hosts = ts.hosts();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        f(&hosts);
        let _ = tx.send(());
    });
    rx.recv_timeout(support::TEST_LIMIT)
        .expect("test finished in time");
    drop(ts);
}

#[test]
fn blocking_basics() {
    with_server(|hosts| {
        let zk = Client::connect(hosts, opts(4000)).unwrap();
        assert_eq!(zk.state(), SessionState::Connected);
        let open = Acl::open_unsafe();
        assert_eq!(
            zk.create("/b", b"1", &open, CreateMode::Persistent)
                .unwrap(),
            "/b"
        );
        let (p, st) = zk
            .create2("/b/e", b"", &open, CreateMode::Ephemeral)
            .unwrap();
        assert_eq!(p, "/b/e");
        assert_eq!(st.ephemeral_owner, zk.session_id());
        assert_eq!(zk.get_data("/b", None).unwrap().0, b"1");
        assert_eq!(zk.set_data("/b", b"2", 0).unwrap().version, 1);
        assert_eq!(zk.get_children("/b", None).unwrap(), ["e"]);
        assert_eq!(zk.get_children2("/b", None).unwrap().1.num_children, 1);
        assert_eq!(zk.get_all_children_number("/b").unwrap(), 1);
        assert_eq!(zk.get_ephemerals("/").unwrap(), ["/b/e"]);
        assert_eq!(zk.get_acl("/b").unwrap().0, open);
        assert_eq!(zk.set_acl("/b", &open, 0).unwrap().aversion, 1);
        zk.sync("/b").unwrap();
        assert_eq!(zk.exists("/nope", None).unwrap(), None);
        assert_eq!(zk.delete("/nope", -1), Err(Error::NoNode));
        assert_eq!(zk.multi(vec![Op::check("/b", 5)]), Err(Error::BadVersion));
        zk.multi(vec![Op::set_data("/b", b"3", -1)]).unwrap();
        assert_eq!(zk.multi_results(vec![Op::check("/b", 2)]).unwrap().len(), 1);
        let (_, st) = zk
            .create_ttl("/ttl", b"", &open, CreateMode::PersistentWithTtl, 60_000)
            .unwrap();
        assert_eq!(st.version, 0);
        zk.create_container("/box", b"", &open).unwrap();
        zk.add_auth("digest", b"u:p").unwrap();
        assert!(zk.who_am_i().unwrap().iter().any(|(s, _)| s == "digest"));

        // Watches and state listeners from plain threads.
        let (tx, rx) = mpsc::channel();
        let w = watcher(move |e| {
            let _ = tx.send(e);
        });
        zk.add_watch("/b", AddWatchMode::Persistent, w.clone())
            .unwrap();
        zk.set_data("/b", b"4", -1).unwrap();
        let e = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(e.event_type, EventType::NodeDataChanged);
        zk.remove_watches("/b", WatcherType::Persistent, false)
            .unwrap();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap().event_type,
            EventType::PersistentWatchRemoved
        );

        let states = Arc::new(Mutex::new(Vec::new()));
        let s = states.clone();
        let id = zk.add_state_listener(Arc::new(move |st| s.lock().unwrap().push(st)));
        let clone = zk.clone();
        clone.close().unwrap();
        assert_eq!(zk.state(), SessionState::Closed);
        assert_eq!(
            zk.wait_for_state(Duration::from_secs(1), |s| *s == SessionState::Closed),
            SessionState::Closed
        );
        assert_eq!(zk.get_data("/b", None), Err(Error::SessionExpired));
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(*states.lock().unwrap(), vec![SessionState::Closed]);
        assert!(zk.remove_state_listener(id));
        assert!(!zk.remove_state_listener(id));
    })
}

#[test]
fn callbacks_may_call_the_blocking_client() {
    with_server(|hosts| {
        let zk = Client::connect(hosts, opts(4000)).unwrap();
        let open = Acl::open_unsafe();
        zk.create("/cb", b"0", &open, CreateMode::Persistent)
            .unwrap();
        // A watcher that re-reads and re-arms itself, as a data watch
        // recipe does, from the event thread.
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let zk2 = zk.clone();
        let slot: Arc<Mutex<Option<zkrs::client::Watcher>>> = Arc::new(Mutex::new(None));
        let s = slot.clone();
        let w = watcher(move |_| {
            let again = s.lock().unwrap().clone();
            let (data, _) = zk2.get_data("/cb", again).unwrap();
            let _ = tx.send(data);
        });
        *slot.lock().unwrap() = Some(w.clone());
        zk.get_data("/cb", Some(w)).unwrap();
        for i in 1..=3 {
            zk.set_data("/cb", format!("{i}").as_bytes(), -1).unwrap();
            let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
            assert_eq!(got, format!("{i}").into_bytes());
        }
        // A state listener that calls the client too.
        let (stx, srx) = mpsc::channel();
        let zk3 = zk.clone();
        zk.add_state_listener(Arc::new(move |s| {
            let _ = stx.send((s, zk3.exists("/cb", None)));
        }));
        zk.close().unwrap();
        let (s, r) = srx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(s, SessionState::Closed);
        assert_eq!(r, Err(Error::SessionExpired));
        *slot.lock().unwrap() = None;
    })
}

#[test]
fn usable_from_inside_a_runtime_and_one_runtime_per_process() {
    with_server(|hosts| {
        let a = blocking::runtime().unwrap();
        let b = blocking::runtime().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let zk = Client::connect(hosts, opts(4000)).unwrap();
        assert!(Arc::ptr_eq(zk.runtime(), &a));
        // From a tokio worker thread (blocks it, but must not panic).
        let other = tokio::runtime::Runtime::new().unwrap();
        let zk2 = zk.clone();
        let st = other
            .block_on(async move { tokio::spawn(async move { zk2.exists("/", None) }).await })
            .unwrap()
            .unwrap();
        assert!(st.is_some());
        // And the async client underneath is the same session.
        let id = a.block_on(async { zk.as_async().exists("/", None).await.map(|s| s.is_some()) });
        assert_eq!(id, Ok(true));
    })
}
