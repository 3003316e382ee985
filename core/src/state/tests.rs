use super::*;
use crate::types::{Acl, Id};

fn txn(session: SessionId, op: TxnOp) -> Txn {
    Txn {
        session,
        owner: 1,
        time: 1000,
        auth: std::sync::Arc::new([Id::new("ip", "127.0.0.1")]),
        super_user: false,
        op: op.into(),
    }
}

fn create(path: &str, flags: i32) -> TxnOp {
    TxnOp::Create {
        path: path.into(),
        data: Some(b"d".to_vec()),
        acl: Acl::open_unsafe(),
        flags,
        ttl: -1,
    }
}

fn session(id: SessionId) -> Txn {
    txn(
        id,
        TxnOp::CreateSession {
            timeout: 4000,
            passwd: vec![7; 16],
        },
    )
}

/// A log entry decodes to the write that was encoded (the op is moved
/// straight into its `Arc`).
#[test]
fn txn_round_trips_through_its_encoding() {
    let mut t = txn(5, create("/a/s-", 2));
    t.auth = vec![Id::new("digest", "u:hash")].into();
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&t, cfg).unwrap();
    let (back, used): (Txn, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert_eq!((back, used), (t, bytes.len()));
}

/// Log entries written before null data decode into the same writes.
#[test]
fn entries_from_before_null_data_still_apply() {
    // The old enum's first six variants, in their order.
    #[derive(serde::Serialize)]
    #[allow(dead_code)]
    enum OldOp {
        CreateSession {
            timeout: i32,
            #[serde(with = "serde_bytes")]
            passwd: Vec<u8>,
        },
        CloseSession,
        ClaimSession,
        Create {
            path: String,
            #[serde(with = "serde_bytes")]
            data: Vec<u8>,
            acl: Vec<Acl>,
            flags: i32,
            ttl: i64,
        },
        Delete {
            path: String,
            version: i32,
        },
        SetData {
            path: String,
            #[serde(with = "serde_bytes")]
            data: Vec<u8>,
            version: i32,
        },
    }
    let cfg = bincode::config::standard();
    let decode = |op: &OldOp| -> TxnOp {
        let bytes = bincode::serde::encode_to_vec(op, cfg).unwrap();
        bincode::serde::decode_from_slice(&bytes, cfg).unwrap().0
    };
    let sess = decode(&OldOp::CreateSession {
        timeout: 4000,
        passwd: vec![7; 16],
    });
    let create = decode(&OldOp::Create {
        path: "/old".into(),
        data: b"v1".to_vec(),
        acl: Acl::open_unsafe(),
        flags: 0,
        ttl: -1,
    });
    let set = decode(&OldOp::SetData {
        path: "/old".into(),
        data: vec![],
        version: 0,
    });
    let mut s = ZkState::new();
    s.apply(1, &txn(1, sess));
    s.apply(2, &txn(1, create));
    assert_eq!(
        s.tree.get_data("/old").unwrap().0.as_deref(),
        Some(&b"v1"[..])
    );
    s.apply(3, &txn(1, set));
    let (data, stat) = s.tree.get_data("/old").unwrap();
    assert_eq!((data.as_deref(), stat.version), (Some(&b""[..]), 1));
}

#[test]
fn create_reports_path_stat_and_triggers() {
    let mut s = ZkState::new();
    s.apply(1, &session(5));
    let a = s.apply(2, &txn(5, create("/a", 0)));
    let TxnResult::Create { path, stat } = a.result else {
        panic!("{:?}", a.result)
    };
    assert_eq!(path, "/a");
    assert_eq!((stat.czxid, stat.mzxid, stat.ctime), (2, 2, 1000));
    assert_eq!(
        a.triggers,
        vec![
            ("/a".to_string(), EventType::NodeCreated),
            ("/".to_string(), EventType::NodeChildrenChanged)
        ]
    );
    assert_eq!(s.last_zxid, 2);
}

#[test]
fn writes_from_unknown_session_fail_with_session_expired() {
    let mut s = ZkState::new();
    let a = s.apply(1, &txn(9, create("/a", 0)));
    assert_eq!(a.result, TxnResult::Failed(Error::SessionExpired.code()));
    assert!(s.tree.stat("/a").is_none());
}

#[test]
fn closing_a_session_removes_its_ephemerals_and_fires_deletes() {
    let mut s = ZkState::new();
    s.apply(1, &session(5));
    s.apply(2, &txn(5, create("/e", 1)));
    let a = s.apply(3, &txn(5, TxnOp::CloseSession));
    assert_eq!(a.result, TxnResult::Session);
    assert!(s.tree.stat("/e").is_none());
    assert!(a
        .triggers
        .contains(&("/e".to_string(), EventType::NodeDeleted)));
    assert!(!s.sessions.contains_key(&5));
}

#[test]
fn failed_multi_changes_nothing_and_reports_zookeeper_shape() {
    let mut s = ZkState::new();
    s.apply(1, &session(5));
    let ops = vec![
        create("/m1", 0),
        TxnOp::Delete {
            path: "/missing".into(),
            version: -1,
        },
        create("/m2", 0),
    ];
    let a = s.apply(2, &txn(5, TxnOp::Multi(ops)));
    assert_eq!(
        a.result,
        TxnResult::Multi(vec![
            OpResult::Error(0),
            OpResult::Error(-101),
            OpResult::Error(-2)
        ])
    );
    assert!(a.triggers.is_empty());
    assert!(s.tree.stat("/m1").is_none());
    let ok = s.apply(
        3,
        &txn(
            5,
            TxnOp::Multi(vec![
                create("/m1", 0),
                TxnOp::Check {
                    path: "/m1".into(),
                    version: 0,
                },
            ]),
        ),
    );
    assert!(
        matches!(&ok.result, TxnResult::Multi(r) if matches!(r[0], OpResult::Create { .. }) && r[1] == OpResult::Check)
    );
    assert_eq!(s.tree.stat("/m1").unwrap().czxid, 3);
}

/// "/locked", every permission for `id` only.
fn create_locked(id: &Id) -> TxnOp {
    TxnOp::Create {
        path: "/locked".into(),
        data: Some(vec![]),
        acl: vec![Acl {
            perms: perms::ALL,
            id: id.clone(),
        }],
        flags: 0,
        ttl: -1,
    }
}

fn set_locked(version: i32) -> TxnOp {
    TxnOp::SetData {
        path: "/locked".into(),
        data: Some(b"x".to_vec()),
        version,
    }
}

#[test]
fn acl_is_checked_at_apply() {
    let mut s = ZkState::new();
    s.apply(1, &session(5));
    let digest = Id::new("digest", "u:hash");
    let mut t = txn(5, create_locked(&digest));
    assert!(matches!(s.apply(2, &t).result, TxnResult::Create { .. }));
    let set = set_locked(-1);
    assert_eq!(
        s.apply(3, &txn(5, set.clone())).result,
        TxnResult::Failed(Error::NoAuth.code())
    );
    let stale = set_locked(7);
    assert_eq!(
        s.apply(4, &txn(5, stale)).result,
        TxnResult::Failed(Error::NoAuth.code()),
        "NoAuth comes before BadVersion"
    );
    assert_eq!(s.tree.stat("/locked").unwrap().version, 0, "unchanged");
    t.auth = t.auth.iter().cloned().chain([digest]).collect();
    t.op = set.clone().into();
    assert!(matches!(s.apply(5, &t).result, TxnResult::SetData { .. }));
    let mut su = txn(5, set);
    su.super_user = true;
    assert!(matches!(s.apply(6, &su).result, TxnResult::SetData { .. }));
}

/// Same log, same state: replaying a mixed log twice gives equal trees,
/// equal replies and equal triggers.
#[test]
fn replay_is_deterministic() {
    let log: Vec<Txn> = vec![
        session(5),
        txn(5, create("/a", 0)),
        txn(5, create("/a/s-", 2)),
        txn(5, create("/a/s-", 3)),
        txn(
            5,
            TxnOp::SetData {
                path: "/a".into(),
                data: Some(b"v2".to_vec()),
                version: 0,
            },
        ),
        txn(
            5,
            TxnOp::SetData {
                path: "/a".into(),
                data: Some(b"v3".to_vec()),
                version: 0,
            },
        ),
        txn(5, create("/c", 4)),
        txn(5, create("/c/x", 0)),
        txn(
            5,
            TxnOp::Delete {
                path: "/c/x".into(),
                version: -1,
            },
        ),
        txn(0, TxnOp::ReapNode { path: "/c".into() }),
        txn(5, TxnOp::CloseSession),
    ];
    let run = || {
        let mut s = ZkState::new();
        let out: Vec<Applied> = log
            .iter()
            .enumerate()
            .map(|(i, t)| s.apply(i as i64 + 1, t))
            .collect();
        (s, out)
    };
    let (s1, o1) = run();
    let (s2, o2) = run();
    assert_eq!(o1, o2);
    assert_eq!(s1.tree, s2.tree);
    assert_eq!(o1[5].result, TxnResult::Failed(Error::BadVersion.code()));
    assert!(matches!(&o1[2].result, TxnResult::Create { path, .. } if path == "/a/s-0000000000"));
    assert!(matches!(&o1[3].result, TxnResult::Create { path, .. } if path == "/a/s-0000000001"));
    assert_eq!(o1[9].result, TxnResult::Delete);
    assert!(s1.tree.stat("/c").is_none());
    assert_eq!(
        s1.tree.get_children("/a").unwrap().0,
        vec!["s-0000000000".to_string()]
    );
}

#[test]
fn expiry_decided_in_another_term_changes_nothing() {
    let mut s = ZkState::new();
    s.apply_logged(1, 3, &session(5));
    s.apply_logged(2, 3, &txn(5, create("/e", 1))); // ephemeral
                                                    // Decided by the leader of term 3, appended by the leader of term 4.
    let stale = s.apply_logged(3, 4, &txn(5, TxnOp::ExpireSession { term: 3 }));
    assert_eq!(stale.result, TxnResult::Failed(Error::SessionMoved.code()));
    assert!(stale.triggers.is_empty());
    assert!(s.sessions.contains_key(&5));
    assert!(s.tree.stat("/e").is_some());
    assert_eq!(s.last_zxid, 3);
    // Decided and appended in term 4: the session and its ephemeral go.
    let fresh = s.apply_logged(4, 4, &txn(5, TxnOp::ExpireSession { term: 4 }));
    assert_eq!(fresh.result, TxnResult::Session);
    assert!(!s.sessions.contains_key(&5));
    assert!(s.tree.stat("/e").is_none());
}

#[test]
fn expiry_inside_multi_is_refused() {
    let mut s = ZkState::new();
    s.apply(1, &session(5));
    let m = s.apply(
        2,
        &txn(5, TxnOp::Multi(vec![TxnOp::ExpireSession { term: 1 }])),
    );
    assert!(matches!(m.result, TxnResult::Multi(_)));
    assert!(s.sessions.contains_key(&5));
}

fn from(owner: u64, mut t: Txn) -> Txn {
    t.owner = owner;
    t
}

#[test]
fn writes_apply_only_from_the_connection_that_last_claimed_the_session() {
    let mut s = ZkState::new();
    s.apply(1, &session(5)); // created by connection 1
    let moved = TxnResult::Failed(Error::SessionMoved.code());
    assert_eq!(s.apply(2, &from(2, txn(5, create("/a", 0)))).result, moved);
    assert_eq!(
        s.apply(3, &from(2, txn(5, TxnOp::ClaimSession))).result,
        TxnResult::Session
    );
    // The old connection's late write, alone or in a multi, and its close.
    assert_eq!(s.apply(4, &txn(5, create("/b", 0))).result, moved);
    let multi = s.apply(5, &txn(5, TxnOp::Multi(vec![create("/b", 0)])));
    assert_eq!(multi.result, moved);
    assert_eq!(s.apply(6, &txn(5, TxnOp::CloseSession)).result, moved);
    assert!(s.tree.stat("/b").is_none());
    // The claiming connection writes; the leader's own entries need no claim.
    assert!(matches!(
        s.apply(7, &from(2, txn(5, create("/c", 1)))).result,
        TxnResult::Create { .. }
    ));
    let expire = s.apply_logged(8, 1, &from(0, txn(5, TxnOp::ExpireSession { term: 1 })));
    assert_eq!(expire.result, TxnResult::Session);
    assert!(s.tree.stat("/c").is_none());
    let gone = s.apply(9, &from(3, txn(5, TxnOp::ClaimSession)));
    assert_eq!(gone.result, TxnResult::Failed(Error::SessionExpired.code()));
}

/// With quotas enforced, setData checks the ACL before the quota (once):
/// a writer without WRITE gets NoAuth, one with it writes.
#[test]
fn acl_is_checked_under_enforced_quotas() {
    let mut s = ZkState::new();
    s.apply(1, &session(5));
    let digest = Id::new("digest", "u:hash");
    assert!(matches!(
        s.apply(2, &txn(5, create_locked(&digest))).result,
        TxnResult::Create { .. }
    ));
    let set = TxnOp::EnforceQuota(Box::new(set_locked(-1)));
    assert_eq!(
        s.apply(3, &txn(5, set.clone())).result,
        TxnResult::Failed(Error::NoAuth.code())
    );
    assert_eq!(s.tree.stat("/locked").unwrap().version, 0, "unchanged");
    let mut allowed = txn(5, set);
    allowed.auth = allowed.auth.iter().cloned().chain([digest]).collect();
    assert!(matches!(
        s.apply(4, &allowed).result,
        TxnResult::SetData { .. }
    ));
    assert_eq!(s.tree.stat("/locked").unwrap().version, 1);
}
