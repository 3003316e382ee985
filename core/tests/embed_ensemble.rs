//! An in-process ensemble: members replicate over real TCP, one leads,
//! observers observe, and losing the leader elects another.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use zkrs::embed::{Ensemble, EnsembleOptions};
use zkrs::server::Mode;

/// `mntr` key -> value.
fn mntr(addr: &str) -> std::collections::HashMap<String, String> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"mntr").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let pairs = out.lines().filter_map(|l| l.split_once('\t'));
    pairs.map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn srvr_mode(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"srvr").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.lines()
        .find(|l| l.starts_with("Mode: "))
        .unwrap_or("no mode")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_and_an_observer_elect_and_fail_over() {
    let opts = EnsembleOptions {
        members: 3,
        observers: 1,
        ..Default::default()
    };
    let mut e = Ensemble::start(opts).await.unwrap();
    assert_eq!(e.connect_string().split(',').count(), 4);
    let leader = e.leader().expect("a leader");
    let modes: Vec<String> = (0..4)
        .map(|i| srvr_mode(&e.member_address(i).unwrap()))
        .collect();
    assert_eq!(
        modes.iter().filter(|m| *m == "Mode: leader").count(),
        1,
        "{modes:?}"
    );
    assert_eq!(modes[3], "Mode: observer", "{modes:?}");
    // The leader's mntr reports its followers and observers once they are
    // caught up (replication metrics settle within a few heartbeats).
    let leader_addr = e.member_address(leader).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let m = loop {
        let m = mntr(&leader_addr);
        let synced = |k: &str, n: &str| m.get(k).map(String::as_str) == Some(n);
        if synced("zk_synced_followers", "2") && synced("zk_synced_observers", "1")
            || Instant::now() > deadline
        {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        m.get("zk_server_state").map(String::as_str),
        Some("leader"),
        "{m:?}"
    );
    assert_eq!(
        m.get("zk_followers").map(String::as_str),
        Some("2"),
        "{m:?}"
    );
    assert_eq!(
        m.get("zk_synced_followers").map(String::as_str),
        Some("2"),
        "{m:?}"
    );
    assert_eq!(
        m.get("zk_synced_observers").map(String::as_str),
        Some("1"),
        "{m:?}"
    );
    assert_eq!(m.get("zk_learners").map(String::as_str), Some("3"), "{m:?}");
    assert_eq!(
        m.get("zk_quorum_size").map(String::as_str),
        Some("2"),
        "{m:?}"
    );
    assert!(
        m.contains_key("zk_last_proposal_size") && m.contains_key("zk_pending_syncs"),
        "{m:?}"
    );
    assert_eq!(
        mntr(&e.member_address(3).unwrap())
            .get("zk_server_state")
            .map(String::as_str),
        Some("observer")
    );
    e.stop_member(leader).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let new_leader = loop {
        if let Some(l) = e.leader() {
            break l;
        }
        assert!(Instant::now() < deadline, "no new leader");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_ne!(new_leader, leader);
    assert_ne!(new_leader, 3, "an observer must never lead");
    e.start_member(leader).await.unwrap();
    if let Err(err) = e.wait_serving(Duration::from_secs(20)).await {
        let modes: Vec<Option<Mode>> = (0..4).map(|i| e.mode(i)).collect();
        panic!("{err:?} after restarting {leader}: {modes:?}");
    }
    // A restarted leader may briefly believe in its old term; it steps
    // down once it hears the newer one.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let modes: Vec<Mode> = (0..4).filter_map(|i| e.mode(i)).collect();
        let leaders = modes.iter().filter(|m| **m == Mode::Leader).count();
        if leaders == 1 && modes[3] == Mode::Observer && !modes.contains(&Mode::Looking) {
            break;
        }
        assert!(Instant::now() < deadline, "did not converge: {modes:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    e.stop().await;
}

/// The partition helper: a cut-off leader is replaced by the majority and
/// stops leading; a session that was on it carries on elsewhere with its
/// ephemeral node; after the heal the member follows and has every write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_leader_is_replaced_and_rejoins() {
    use zkrs::client::{Client, ClientOptions};
    use zkrs::types::{Acl, CreateMode};

    let e = Ensemble::start(EnsembleOptions::default()).await.unwrap();
    let old = e.leader().expect("a leader");
    // The leader first in the connect string, in order: the session starts
    // there and must move.
    let mut hosts = vec![e.member_address(old).unwrap()];
    hosts.extend(
        (0..3)
            .filter(|&i| i != old)
            .map(|i| e.member_address(i).unwrap()),
    );
    let opts = ClientOptions {
        session_timeout: Duration::from_secs(6),
        randomize_hosts: false,
        ..Default::default()
    };
    let zk = Client::connect(&hosts.join(","), opts).await.unwrap();
    let session = zk.session_id();
    let open = Acl::open_unsafe();
    zk.create("/eph", b"", &open, CreateMode::Ephemeral)
        .await
        .unwrap();
    assert!(matches!(
        e.isolate_member(7).await,
        Err(zkrs::Error::BadArguments)
    ));
    e.isolate_member(old).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let new = (0..3).find(|&i| i != old && e.mode(i) == Some(Mode::Leader));
        if new.is_some() && e.mode(old) != Some(Mode::Leader) {
            break;
        }
        let modes: Vec<_> = (0..3).map(|i| e.mode(i)).collect();
        assert!(Instant::now() < deadline, "modes {modes:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The same session writes through the majority (after the connection
    // losses of its move, as any client sees them); its node is there.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match zk
            .create("/during", b"x", &open, CreateMode::Persistent)
            .await
        {
            Ok(_) | Err(zkrs::Error::NodeExists) => break,
            Err(zkrs::Error::ConnectionLoss) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(err) => panic!("create through the majority: {err:?}"),
        }
    }
    assert_eq!(zk.session_id(), session);
    let stat = zk
        .exists("/eph", None)
        .await
        .unwrap()
        .expect("ephemeral kept");
    assert_eq!(stat.ephemeral_owner, session);
    e.heal_member(old).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while e.mode(old) != Some(Mode::Follower) {
        assert!(
            Instant::now() < deadline,
            "did not rejoin: {:?}",
            e.mode(old)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let there = Client::connect(&hosts[0], ClientOptions::default())
        .await
        .unwrap();
    there.sync("/").await.unwrap();
    assert!(there.exists("/during", None).await.unwrap().is_some());
    e.stop().await;
}
