//! Recipes against an in-process server, each with several real clients
//! (separate sessions on real TCP): mutual exclusion, queue order, lease
//! counts, leadership hand-over, and what session loss does to each.

#[path = "client_support.rs"]
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{bounded, connect, opts, Proxy, TestServer};
use zkrs::client::{Client, SessionState};
use zkrs::recipes::{
    obtain_lease, Barrier, CacheEvent, ChildrenWatch, Counter, CounterFormat, DataWatch,
    DoubleBarrier, Election, LeaderLatch, Lock, LockingQueue, Number, PartitionState,
    PartitionerOptions, Party, Queue, Semaphore, ServiceRegistry, SetPartitioner, ShallowParty,
    TreeCache,
};
use zkrs::{Acl, CreateMode, Error, EventType};

const SHORT: Option<Duration> = Some(Duration::from_millis(300));

async fn clients(ts: &TestServer, n: usize) -> Vec<Client> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(connect(&ts.hosts()).await);
    }
    out
}

/// Polls `check` for up to 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_gives_mutual_exclusion_to_read_modify_write() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 4).await;
        let open = Acl::open_unsafe();
        cs[0]
            .create("/n", b"0", &open, CreateMode::Persistent)
            .await
            .unwrap();
        let inside = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            let (c, inside) = (c.clone(), inside.clone());
            tasks.push(tokio::spawn(async move {
                let lock = Lock::new(&c, "/locks/n", format!("w{i}").as_bytes());
                for _ in 0..25 {
                    assert!(lock.acquire(None).await.unwrap());
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    // Read, then write without a version check: only the
                    // lock keeps increments from being lost.
                    let (d, _) = c.get_data("/n", None).await.unwrap();
                    let v: i64 = std::str::from_utf8(&d).unwrap().parse().unwrap();
                    tokio::task::yield_now().await;
                    c.set_data("/n", (v + 1).to_string().as_bytes(), -1)
                        .await
                        .unwrap();
                    inside.store(false, Ordering::SeqCst);
                    assert!(lock.release().await.unwrap());
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(cs[0].get_data("/n", None).await.unwrap().0, b"100");
        assert!(cs[0]
            .get_children("/locks/n", None)
            .await
            .unwrap()
            .is_empty());
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_cancel_shared_value_and_persistent_node() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 2).await;
        let a = Arc::new(Lock::new(&cs[0], "/l", b"a"));
        let b = Arc::new(Lock::new(&cs[1], "/l", b"b"));
        assert!(a.try_acquire().await.unwrap());
        // A waiter cancelled from elsewhere leaves the line at once.
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.acquire(None).await }
        });
        eventually("b queued", || async {
            a.contenders().await.unwrap().len() == 2
        })
        .await;
        b.cancel();
        assert!(!waiter.await.unwrap().unwrap());
        assert!(b.was_cancelled());
        assert_eq!(a.contenders().await.unwrap(), vec![b"a".to_vec()]);
        // Two tasks sharing one value: the second waits for the release.
        assert!(!a.try_acquire().await.unwrap());
        assert!(!a.acquire(SHORT).await.unwrap());
        let second = tokio::spawn({
            let a = a.clone();
            async move { a.acquire(None).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!second.is_finished());
        assert!(a.release().await.unwrap());
        assert!(second.await.unwrap().unwrap());
        assert!(a.release().await.unwrap());
        // A persistent lock node outlives its session.
        assert!(b.acquire_with(None, false).await.unwrap());
        let node = format!("/l/{}", b.node().unwrap());
        cs[1].close().await.unwrap();
        assert!(cs[0].exists(&node, None).await.unwrap().is_some());
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_try_timeout_and_dropped_wait_leave_the_line() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 2).await;
        let a = Lock::new(&cs[0], "/l", b"a");
        let b = Lock::new(&cs[1], "/l", b"b");
        assert!(a.try_acquire().await.unwrap());
        assert!(a.is_acquired());
        assert!(!b.try_acquire().await.unwrap());
        assert!(!b.acquire(SHORT).await.unwrap());
        assert_eq!(a.contenders().await.unwrap(), vec![b"a".to_vec()]);
        // A wait dropped from outside (a timeout around it) is cleaned up.
        let dropped = tokio::time::timeout(Duration::from_millis(200), b.acquire(None)).await;
        assert!(dropped.is_err());
        eventually("dropped waiter's node removed", || async {
            a.contenders().await.unwrap() == vec![b"a".to_vec()]
        })
        .await;
        assert!(a.release().await.unwrap());
        assert!(!a.release().await.unwrap());
        assert!(b.try_acquire().await.unwrap());
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_passes_on_when_the_holder_closes_its_session() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 2).await;
        let a = Lock::new(&cs[0], "/l", b"a");
        assert!(a.acquire(None).await.unwrap());
        let c1 = cs[1].clone();
        let waiter = tokio::spawn(async move {
            let b = Lock::new(&c1, "/l", b"b");
            b.acquire(None).await.unwrap()
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiter.is_finished());
        cs[0].close().await.unwrap();
        assert!(waiter.await.unwrap());
        assert!(!a.is_acquired(), "a closed session holds nothing");
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_is_reported_lost_when_the_session_expires() {
    bounded(async {
        let ts = TestServer::start().await;
        let proxy = Proxy::start(ts.addr).await;
        let holder = Client::connect(&proxy.addr.to_string(), opts(1000))
            .await
            .unwrap();
        let other = connect(&ts.hosts()).await;
        let a = Lock::new(&holder, "/l", b"a");
        assert!(a.acquire(None).await.unwrap());
        proxy.cut();
        // The server expires the session: the lock passes on.
        let b = Lock::new(&other, "/l", b"b");
        assert!(b.acquire(Some(Duration::from_secs(10))).await.unwrap());
        proxy.restore();
        let mut st = holder.state_receiver();
        st.wait_for(|s| *s == SessionState::Expired).await.unwrap();
        assert!(
            !a.is_acquired(),
            "an expired session must not report the lock held"
        );
        assert_eq!(a.acquire(None).await, Err(Error::SessionExpired));
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renewing_client_goes_on_in_a_new_session() {
    bounded(async {
        let ts = TestServer::start().await;
        let proxy = Proxy::start(ts.addr).await;
        let renewing = zkrs::client::ClientOptions {
            renew_expired: true,
            ..opts(1000)
        };
        let c = Client::connect(&proxy.addr.to_string(), renewing)
            .await
            .unwrap();
        let other = connect(&ts.hosts()).await;
        other
            .create("/w", b"1", &Acl::open_unsafe(), CreateMode::Persistent)
            .await
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let _watch = DataWatch::new(&c, "/w", {
            let seen = seen.clone();
            move |now, _| {
                seen.lock().unwrap().push(now.map(|(d, _)| d));
                true
            }
        });
        let held = Lock::new(&c, "/l", b"held");
        assert!(held.acquire(None).await.unwrap());
        let lease = Semaphore::new(&c, "/s", b"lease", 1);
        assert!(lease.acquire(None).await.unwrap());
        let party = Party::new(&c, "/p", b"member");
        party.join().await.unwrap();
        let blocker = Lock::new(&other, "/m", b"other");
        assert!(blocker.acquire(None).await.unwrap());
        let waiter = Arc::new(Lock::new(&c, "/m", b"waiter"));
        let waiting = tokio::spawn({
            let w = waiter.clone();
            async move { w.acquire(None).await }
        });
        eventually("waiter queued", || async {
            blocker.contenders().await.unwrap().len() == 2
        })
        .await;
        let full = Semaphore::new(&other, "/s2", b"other", 1);
        assert!(full.acquire(None).await.unwrap());
        let woken = Arc::new(AtomicUsize::new(0));
        let sem_waiter = Arc::new(Semaphore::new(&c, "/s2", b"waiter", 1).on_wake({
            let woken = woken.clone();
            move || {
                woken.fetch_add(1, Ordering::SeqCst);
            }
        }));
        let sem_waiting = tokio::spawn({
            let s = sem_waiter.clone();
            async move { s.acquire(None).await }
        });
        eventually("semaphore waiter counts the leases", || async {
            other.get_children("/s2/lock", None).await.map(|k| k.len()) == Ok(1)
        })
        .await;
        let old = c.session_id();
        proxy.cut();
        eventually("session expired on the server", || async {
            blocker.contenders().await.unwrap().len() == 1
        })
        .await;
        proxy.restore();
        eventually("a new session", || async {
            c.state().is_connected() && c.session_id() != old
        })
        .await;
        assert!(!held.is_acquired(), "the old session's lock is gone");
        assert!(!lease.is_acquired(), "the old session's lease is gone");
        assert!(!party.is_member(), "the old session's membership is gone");
        // The waiter queued again in the new session and gets the lock.
        eventually("waiter queued again", || async {
            blocker.contenders().await.unwrap().len() == 2
        })
        .await;
        assert!(blocker.release().await.unwrap());
        assert!(waiting.await.unwrap().unwrap());
        // The waiting semaphore was woken by the expiry and waits on in
        // the new session, for the lease it then gets.
        assert!(woken.load(Ordering::SeqCst) >= 1);
        assert!(full.release().await.unwrap());
        assert!(sem_waiting.await.unwrap().unwrap());
        assert_eq!(full.lease_holders().await.unwrap(), [b"waiter".to_vec()]);
        // The standing watch re-armed in the new session.
        other.set_data("/w", b"2", -1).await.unwrap();
        eventually("watch saw the change", || async {
            seen.lock().unwrap().last() == Some(&Some(b"2".to_vec()))
        })
        .await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn locking_queue_items_return_when_their_worker_goes() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 2).await;
        let a = LockingQueue::new(&cs[0], "/lq");
        let b = LockingQueue::new(&cs[1], "/lq");
        a.put_all(&[b"1".to_vec(), b"2".to_vec()], 100)
            .await
            .unwrap();
        assert_eq!(a.get(SHORT).await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(b.get(SHORT).await.unwrap(), Some(b"2".to_vec()));
        assert_eq!(a.len().await.unwrap(), 2);
        cs[1].close().await.unwrap(); // b's lock goes with its session
        let c = LockingQueue::new(&cs[0], "/lq");
        assert_eq!(c.get(SHORT).await.unwrap(), Some(b"2".to_vec()));
        assert!(a.consume().await.unwrap());
        assert!(c.release().await.unwrap());
        assert_eq!(a.get(SHORT).await.unwrap(), Some(b"2".to_vec()));
        assert!(a.consume().await.unwrap());
        assert!(a.is_empty().await.unwrap());
        assert_eq!(a.get(SHORT).await.unwrap(), None);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_is_exclusive_until_it_ends() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 2).await;
        let t0 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let hour = Duration::from_secs(3600);
        assert!(obtain_lease(&cs[0], "/lease", hour, "a", t0).await.unwrap());
        assert!(!obtain_lease(&cs[1], "/lease", hour, "b", t0).await.unwrap());
        assert!(obtain_lease(&cs[0], "/lease", hour, "a", t0).await.unwrap());
        let later = t0 + chrono::TimeDelta::hours(2);
        assert!(obtain_lease(&cs[1], "/lease", hour, "b", later)
            .await
            .unwrap());
        let (raw, _) = cs[0].get_data("/lease/lease_holder", None).await.unwrap();
        let held: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(held["holder"], "b");
        assert_eq!(held["end"], "2026-01-01T15:00:00"); // kazoo's format
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_in_float_and_curator_formats() {
    bounded(async {
        let ts = TestServer::start().await;
        let c = connect(&ts.hosts()).await;
        let f = Counter::with_format(&c, "/f", Number::Float(0.5), CounterFormat::Text).unwrap();
        assert_eq!(
            f.add_number(Number::Float(-1.5)).await.unwrap(),
            (Number::Float(0.5), Number::Float(-1.0))
        );
        assert_eq!(c.get_data("/f", None).await.unwrap().0, b"-1.0".to_vec());
        assert_eq!(f.add_number(Number::Int(1)).await, Err(Error::BadArguments));
        let cur = Counter::with_format(&c, "/cur", Number::Int(0), CounterFormat::Curator).unwrap();
        assert_eq!(cur.add(i32::MAX as i64).await.unwrap(), i32::MAX as i64);
        assert_eq!(
            c.get_data("/cur", None).await.unwrap().0,
            i32::MAX.to_be_bytes().to_vec()
        );
        assert_eq!(cur.add(1).await, Err(Error::BadArguments)); // past Curator's int
        assert!(
            Counter::with_format(&c, "/x", Number::Float(0.0), CounterFormat::Curator).is_err()
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn readers_share_and_writers_exclude_in_queue_order() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 4).await;
        let r1 = Lock::read(&cs[0], "/rw", b"r1");
        let r2 = Lock::read(&cs[1], "/rw", b"r2");
        let w = Lock::new(&cs[2], "/rw", b"w");
        assert!(r1.try_acquire().await.unwrap());
        assert!(r2.try_acquire().await.unwrap(), "readers share");
        assert!(
            !w.try_acquire().await.unwrap(),
            "a writer waits for readers"
        );
        // A writer queues; a reader that comes after it waits for it.
        let c2 = cs[2].clone();
        let writer = tokio::spawn(async move {
            let w = Lock::new(&c2, "/rw", b"w");
            assert!(w.acquire(None).await.unwrap());
            tokio::time::sleep(Duration::from_millis(100)).await;
            w.release().await.unwrap();
        });
        eventually("writer queued", || async {
            r1.contenders().await.unwrap().len() == 3
        })
        .await;
        let r3 = Lock::read(&cs[3], "/rw", b"r3");
        assert!(
            !r3.try_acquire().await.unwrap(),
            "a reader behind a writer waits"
        );
        r1.release().await.unwrap();
        r2.release().await.unwrap();
        writer.await.unwrap();
        assert!(r3.acquire(Some(Duration::from_secs(5))).await.unwrap());
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn semaphore_admits_at_most_max_leases() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 3).await;
        let s: Vec<Semaphore> = cs
            .iter()
            .enumerate()
            .map(|(i, c)| Semaphore::new(c, "/sem", format!("s{i}").as_bytes(), 2))
            .collect();
        assert!(s[0].acquire(None).await.unwrap());
        assert!(s[1].acquire(None).await.unwrap());
        assert!(!s[2].acquire(SHORT).await.unwrap());
        assert_eq!(s[2].lease_holders().await.unwrap().len(), 2);
        assert!(s[0].release().await.unwrap());
        assert!(s[2].acquire(Some(Duration::from_secs(5))).await.unwrap());
        let mut holders = s[1].lease_holders().await.unwrap();
        holders.sort();
        assert_eq!(holders, vec![b"s1".to_vec(), b"s2".to_vec()]);
        // The path holds max_leases (kazoo's check): another count is refused.
        assert_eq!(cs[0].get_data("/sem", None).await.unwrap().0, b"2".to_vec());
        let other = Semaphore::new(&cs[0], "/sem", b"x", 3);
        assert_eq!(other.acquire(SHORT).await, Err(Error::BadArguments));
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn one_leader_at_a_time_and_the_next_takes_over() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 3).await;
        let mut latches: Vec<(usize, LeaderLatch)> = cs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    i,
                    LeaderLatch::start(c, "/elect", format!("c{i}").as_bytes()),
                )
            })
            .collect();
        let leader = |ls: &[(usize, LeaderLatch)]| {
            let leading: Vec<usize> = ls
                .iter()
                .filter(|(_, l)| l.has_leadership())
                .map(|(i, _)| *i)
                .collect();
            assert!(leading.len() <= 1, "two leaders: {leading:?}");
            leading.first().copied()
        };
        eventually("a first leader", || async { leader(&latches).is_some() }).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let first = leader(&latches).unwrap();
        let at = latches.iter().position(|(i, _)| *i == first).unwrap();
        latches.remove(at).1.close().await.unwrap();
        eventually("a second leader", || async { leader(&latches).is_some() }).await;
        let second = leader(&latches).unwrap();
        assert_ne!(second, first);
        // The last candidate leads once the leader's session ends.
        cs[second].close().await.unwrap();
        let (_, last) = latches.iter().find(|(i, _)| *i != second).unwrap();
        assert!(last
            .await_leadership(Some(Duration::from_secs(5)))
            .await
            .unwrap());
        let (_, closed) = latches.iter().find(|(i, _)| *i == second).unwrap();
        assert!(!closed.has_leadership(), "a closed session does not lead");
        assert_eq!(
            closed.await_leadership(None).await,
            Err(Error::SessionExpired)
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn election_runs_one_task_at_a_time() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 3).await;
        let running = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            let (c, running, ran) = (c.clone(), running.clone(), ran.clone());
            tasks.push(tokio::spawn(async move {
                let e = Election::new(&c, "/e", format!("c{i}").as_bytes());
                e.run(|| async {
                    assert_eq!(running.fetch_add(1, Ordering::SeqCst), 0, "two leaders");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    ran.lock().unwrap().push(i);
                })
                .await
                .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(ran.lock().unwrap().len(), 3);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn counter_adds_are_never_lost() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 3).await;
        let mut tasks = Vec::new();
        for c in &cs {
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                let n = Counter::new(&c, "/counters/hits", 10);
                for _ in 0..20 {
                    n.add(1).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let n = Counter::new(&cs[0], "/counters/hits", 10);
        assert_eq!(n.value().await.unwrap(), 70);
        assert_eq!(n.add(-5).await.unwrap(), 65);
        assert_eq!(
            Counter::new(&cs[0], "/counters/none", 3)
                .value()
                .await
                .unwrap(),
            3
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn barrier_holds_until_removed() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 2).await;
        let b = Barrier::new(&cs[0], "/b/gate");
        b.create().await.unwrap();
        let waiter = Barrier::new(&cs[1], "/b/gate");
        assert!(!waiter.wait(SHORT).await.unwrap());
        let c1 = cs[1].clone();
        let passing = tokio::spawn(async move { Barrier::new(&c1, "/b/gate").wait(None).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!passing.is_finished());
        assert!(b.remove().await.unwrap());
        assert!(passing.await.unwrap().unwrap());
        assert!(!b.remove().await.unwrap());
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn double_barrier_enters_and_leaves_together() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 3).await;
        let entered = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            let (c, entered) = (c.clone(), entered.clone());
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100 * i as u64)).await;
                let b = DoubleBarrier::new(&c, "/db", 3, format!("c{i}").as_bytes());
                assert!(b.enter(None).await.unwrap());
                // Nobody gets past enter before all three joined.
                assert_eq!(entered.fetch_add(1, Ordering::SeqCst) / 3, 0);
                assert!(b.leave(None).await.unwrap());
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(entered.load(Ordering::SeqCst), 3);
        // Too few members: enter times out and leaves no member node.
        let lone = DoubleBarrier::new(&cs[0], "/db2", 2, b"x");
        assert!(!lone.enter(SHORT).await.unwrap());
        assert!(cs[0].get_children("/db2", None).await.unwrap().is_empty());
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_is_priority_then_fifo_and_each_item_is_taken_once() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 3).await;
        let q = Queue::new(&cs[0], "/q");
        assert_eq!(q.get().await.unwrap(), None);
        q.put(b"a", 100).await.unwrap();
        q.put(b"b", 100).await.unwrap();
        q.put(b"urgent", 1).await.unwrap();
        assert_eq!(q.put(b"x", 1000).await, Err(Error::BadArguments));
        assert_eq!(q.len().await.unwrap(), 3);
        assert_eq!(q.get().await.unwrap().unwrap(), b"urgent");
        assert_eq!(q.get().await.unwrap().unwrap(), b"a");
        assert_eq!(q.get().await.unwrap().unwrap(), b"b");
        assert!(q.is_empty().await.unwrap());
        // Two consumers racing over 40 items: each item exactly once.
        for i in 0..40 {
            q.put(format!("{i}").as_bytes(), 500).await.unwrap();
        }
        let mut takers = Vec::new();
        for c in &cs[1..] {
            let c = c.clone();
            takers.push(tokio::spawn(async move {
                let q = Queue::new(&c, "/q");
                let mut got = Vec::new();
                while let Some(item) = q.get().await.unwrap() {
                    got.push(String::from_utf8(item).unwrap());
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in takers {
            all.extend(t.await.unwrap());
        }
        all.sort_by_key(|s| s.parse::<i32>().unwrap());
        assert_eq!(all, (0..40).map(|i| i.to_string()).collect::<Vec<_>>());
        // get_wait takes an item that arrives while it waits.
        let c1 = cs[1].clone();
        let waiting = tokio::spawn(async move { Queue::new(&c1, "/q").get_wait(None).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        q.put(b"late", 5).await.unwrap();
        assert_eq!(waiting.await.unwrap().unwrap().unwrap(), b"late");
        assert_eq!(q.get_wait(SHORT).await.unwrap(), None);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn party_members_come_and_go_with_their_sessions() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 3).await;
        let p0 = Party::new(&cs[0], "/party", b"zero");
        let p1 = Party::new(&cs[1], "/party", b"one");
        p0.join().await.unwrap();
        p1.join().await.unwrap();
        let mut m = p0.members().await.unwrap();
        m.sort();
        assert_eq!(m, vec![b"one".to_vec(), b"zero".to_vec()]);
        assert!(p0.leave().await.unwrap());
        assert!(!p0.is_member());
        assert_eq!(p1.len().await.unwrap(), 1);
        cs[1].close().await.unwrap();
        assert_eq!(p0.len().await.unwrap(), 0, "a closed session leaves");
        let s = ShallowParty::new(&cs[2], "/shallow", "worker-7");
        s.join().await.unwrap();
        assert!(s.is_member());
        assert_eq!(s.members().await.unwrap(), vec!["worker-7".to_string()]);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn data_and_children_watches_see_every_change_in_order() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 1).await;
        let c = &cs[0];
        let open = Acl::open_unsafe();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let events = Arc::new(Mutex::new(Vec::new()));
        let (log, elog) = (seen.clone(), events.clone());
        let _dw = DataWatch::new(c, "/w", move |v, event| {
            log.lock()
                .unwrap()
                .push(v.map(|(d, _)| String::from_utf8(d).unwrap()));
            elog.lock().unwrap().push(event.map(|e| e.event_type));
            true
        });
        let kids = Arc::new(Mutex::new(Vec::new()));
        let watch_kids = |c: &Client| {
            let klog = kids.clone();
            ChildrenWatch::new(c, "/w", move |names, event| {
                klog.lock()
                    .unwrap()
                    .push((names, event.map(|e| e.event_type)));
                true
            })
        };
        let missing = watch_kids(c);
        eventually("first callback", || async {
            seen.lock().unwrap().len() == 1
        })
        .await;
        eventually("children watch of no node ends", || async {
            !missing.is_running()
        })
        .await;
        c.create("/w", b"1", &open, CreateMode::Persistent)
            .await
            .unwrap();
        eventually("created", || async { seen.lock().unwrap().len() == 2 }).await;
        let cw = watch_kids(c);
        c.set_data("/w", b"2", -1).await.unwrap();
        eventually("changed", || async { seen.lock().unwrap().len() == 3 }).await;
        c.create("/w/a", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        eventually("child", || async { kids.lock().unwrap().len() == 2 }).await;
        cw.stop();
        c.create("/w/b", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        c.delete("/w/a", -1).await.unwrap();
        c.delete("/w/b", -1).await.unwrap();
        c.delete("/w", -1).await.unwrap();
        eventually("deleted", || async { seen.lock().unwrap().len() == 4 }).await;
        assert_eq!(
            *seen.lock().unwrap(),
            vec![None, Some("1".to_string()), Some("2".to_string()), None]
        );
        assert_eq!(
            *events.lock().unwrap(),
            [
                None,
                Some(EventType::NodeCreated),
                Some(EventType::NodeDataChanged),
                Some(EventType::NodeDeleted)
            ]
        );
        assert_eq!(
            *kids.lock().unwrap(),
            vec![
                (Vec::<String>::new(), None),
                (vec!["a".to_string()], Some(EventType::NodeChildrenChanged))
            ],
            "children callbacks stop after stop()"
        );
        // A children watch ends when its node is deleted.
        c.create("/w", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        let cw = watch_kids(c);
        eventually("watching", || async { kids.lock().unwrap().len() == 3 }).await;
        c.delete("/w", -1).await.unwrap();
        eventually("ended with the node", || async { !cw.is_running() }).await;
        assert_eq!(kids.lock().unwrap().len(), 3);
    })
    .await
}

async fn partitioner(c: &Client, id: &str) -> SetPartitioner {
    let opts = PartitionerOptions {
        time_boundary: Duration::from_millis(200),
        ..PartitionerOptions::new(id)
    };
    let items = ["a", "b", "c"].map(String::from).to_vec();
    SetPartitioner::new(c, "/parts", items, opts).await.unwrap()
}

async fn acquired(parts: &[&SetPartitioner]) -> Vec<Vec<String>> {
    let mut owned = Vec::new();
    for p in parts {
        assert!(p.wait_for_acquire(Some(Duration::from_secs(10))).await);
        assert_eq!(p.state(), PartitionState::Acquired);
        owned.push(p.partitions());
    }
    owned
}

#[tokio::test(flavor = "multi_thread")]
async fn partitioner_splits_the_set_and_again_when_the_party_changes() {
    bounded(async {
        let ts = TestServer::start().await;
        let cs = clients(&ts, 3).await;
        let p0 = partitioner(&cs[0], "m0").await;
        let p1 = partitioner(&cs[1], "m1").await;
        assert_eq!(acquired(&[&p0, &p1]).await, [vec!["a", "c"], vec!["b"]]);
        // A third member: the owners are told to release, then all split.
        let p2 = partitioner(&cs[2], "m2").await;
        eventually("owners told to release", || async {
            p0.state() == PartitionState::Release && p1.state() == PartitionState::Release
        })
        .await;
        p0.release_set().await;
        p1.release_set().await;
        let owned = acquired(&[&p0, &p1, &p2]).await;
        assert_eq!(owned, [vec!["a"], vec!["b"], vec!["c"]]);
        // A member's session ends: it fails; the others split again.
        cs[2].close().await.unwrap();
        eventually("closed member failed", || async {
            p2.state() == PartitionState::Failure
        })
        .await;
        eventually("owners told to release", || async {
            p0.state() == PartitionState::Release && p1.state() == PartitionState::Release
        })
        .await;
        p0.release_set().await;
        p1.release_set().await;
        assert_eq!(acquired(&[&p0, &p1]).await, [vec!["a", "c"], vec!["b"]]);
        p0.finish().await;
        assert_eq!(p0.state(), PartitionState::Failure);
        p0.release_set().await;
        assert_eq!(p0.state(), PartitionState::Failure, "failure is final");
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn service_registry_tracks_live_instances_and_registers_again_after_expiry() {
    bounded(async {
        let ts = TestServer::start().await;
        let proxy = Proxy::start(ts.addr).await;
        let renewing = zkrs::client::ClientOptions {
            renew_expired: true,
            ..opts(1000)
        };
        let a = Client::connect(&proxy.addr.to_string(), renewing)
            .await
            .unwrap();
        let b = connect(&ts.hosts()).await;
        let (ra, rb) = (
            ServiceRegistry::new(&a, "/services"),
            ServiceRegistry::new(&b, "/services/"),
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let watch = rb
            .watch("api", {
                let seen = seen.clone();
                move |now| {
                    let ids: Vec<String> = now.iter().map(|i| i.id.clone()).collect();
                    seen.lock().unwrap().push(ids);
                    true
                }
            })
            .unwrap();
        let ids = |want: &[&str]| {
            let seen = seen.clone();
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            move || {
                let ok = seen.lock().unwrap().last() == Some(&want);
                async move { ok }
            }
        };
        eventually("empty set first", ids(&[])).await;
        ra.register("api", "a1", b"10.0.0.1:80").await.unwrap();
        rb.register("api", "b1", b"10.0.0.2:80").await.unwrap();
        eventually("both registered", ids(&["a1", "b1"])).await;
        // Another session cannot take a live id; our own may update it.
        assert_eq!(rb.register("api", "a1", b"x").await, Err(Error::NodeExists));
        ra.register("api", "a1", b"10.0.0.1:81").await.unwrap();
        let now = rb.instances("api").await.unwrap();
        assert_eq!(now[0].payload, b"10.0.0.1:81");
        assert_eq!(
            rb.register("api", "a/b", b"").await,
            Err(Error::BadArguments)
        );
        assert_eq!(rb.register("", "x", b"").await, Err(Error::BadArguments));
        // b leaves; a's session expires and comes back registered again.
        assert!(rb.unregister("api", "b1").await.unwrap());
        assert!(!rb.unregister("api", "b1").await.unwrap());
        eventually("b1 gone", ids(&["a1"])).await;
        let old = a.session_id();
        proxy.cut();
        eventually("a1 expired on the server", ids(&[])).await;
        proxy.restore();
        eventually("a new session", || async {
            a.state().is_connected() && a.session_id() != old
        })
        .await;
        eventually("a1 registered again", ids(&["a1"])).await;
        let again = rb.instances("api").await.unwrap();
        assert_eq!(again[0].payload, b"10.0.0.1:81");
        assert!(watch.is_running());
        watch.stop();
        assert!(ra.unregister("api", "a1").await.unwrap());
        assert!(rb.instances("api").await.unwrap().is_empty());
        assert!(rb.instances("none").await.unwrap().is_empty());
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn tree_cache_mirrors_a_subtree_and_reports_each_change() {
    bounded(async {
        let ts = TestServer::start().await;
        let proxy = Proxy::start(ts.addr).await;
        let renewing = zkrs::client::ClientOptions {
            renew_expired: true,
            ..opts(1000)
        };
        let c = Client::connect(&proxy.addr.to_string(), renewing)
            .await
            .unwrap();
        let other = connect(&ts.hosts()).await;
        let open = Acl::open_unsafe();
        for p in ["/t", "/t/a", "/t/a/x"] {
            other
                .create(p, p.as_bytes(), &open, CreateMode::Persistent)
                .await
                .unwrap();
        }
        let heard = Arc::new(Mutex::new(Vec::new()));
        let cache = TreeCache::start(&c, "/t", {
            let heard = heard.clone();
            move |e| heard.lock().unwrap().push(e)
        });
        let has = |want: CacheEvent| {
            let heard = heard.clone();
            move || {
                let ok = heard.lock().unwrap().contains(&want);
                async move { ok }
            }
        };
        eventually("initialized", has(CacheEvent::Initialized)).await;
        assert_eq!(cache.paths(), ["/t", "/t/a", "/t/a/x"]);
        assert_eq!(cache.children("/t").unwrap(), ["a"]);
        assert_eq!(cache.get("/t/a/x").unwrap().data, b"/t/a/x");
        // Changes from another session, each heard and mirrored.
        other
            .create("/t/b", b"b", &open, CreateMode::Persistent)
            .await
            .unwrap();
        other.set_data("/t/a", b"a2", -1).await.unwrap();
        other.delete("/t/a/x", -1).await.unwrap();
        eventually("b added", || {
            let ok = cache.get("/t/b").is_some();
            async move { ok }
        })
        .await;
        eventually("x removed", has(CacheEvent::Removed("/t/a/x".into()))).await;
        eventually("a updated", || {
            let ok = cache.get("/t/a").map(|n| n.data) == Some(b"a2".to_vec());
            async move { ok }
        })
        .await;
        assert_eq!(cache.children("/t").unwrap(), ["a", "b"]);
        assert_eq!(cache.children("/t/a").unwrap(), Vec::<String>::new());
        {
            let h = heard.lock().unwrap();
            assert!(h
                .iter()
                .any(|e| matches!(e, CacheEvent::Added(p, _) if p == "/t/b")));
            assert!(h.iter().any(
                |e| matches!(e, CacheEvent::Updated(p, n) if p == "/t/a" && n.stat.version == 1)
            ));
            let inits = h.iter().filter(|e| **e == CacheEvent::Initialized).count();
            assert_eq!(inits, 1);
        }
        // The session expires; the renewed session loads again and reports
        // what changed while the cache was away.
        c.create("/e", b"", &open, CreateMode::Ephemeral)
            .await
            .unwrap();
        proxy.cut();
        other.delete("/t/b", -1).await.unwrap();
        other
            .create("/t/c", b"c", &open, CreateMode::Persistent)
            .await
            .unwrap();
        eventually("expired on the server", || async {
            other.exists("/e", None).await == Ok(None)
        })
        .await;
        proxy.restore();
        eventually("c added after the renewal", || {
            let ok = cache.get("/t/c").is_some() && cache.get("/t/b").is_none();
            async move { ok }
        })
        .await;
        assert!(cache.is_running());
        cache.stop();
        other
            .create("/t/d", b"", &open, CreateMode::Persistent)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            cache.get("/t/d").is_none(),
            "a stopped cache does not follow"
        );
    })
    .await
}
