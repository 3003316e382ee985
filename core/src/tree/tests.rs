//! Unit tests for the DataTree: stats after each op, ZooKeeper's error
//! cases, indexes, ACLs, paths, snapshots and determinism.

use std::borrow::Cow;

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::{owner_ttl, perms};

const S1: SessionId = 0x1000;
const S2: SessionId = 0x2000;

fn open() -> Vec<Acl> {
    Acl::open_unsafe()
}

fn mk(t: &mut DataTree, path: &str, mode: CreateMode, zxid: Zxid) -> Result<String> {
    let ttl = if mode.is_ttl() { 1000 } else { -1 };
    t.create(
        path,
        Some(Bytes::from_static(b"d")),
        &open(),
        mode,
        ttl,
        S1,
        zxid,
        zxid * 10,
    )
    .map(|(p, _)| p)
}

fn persistent(t: &mut DataTree, path: &str, zxid: Zxid) {
    mk(t, path, CreateMode::Persistent, zxid).unwrap();
}

#[test]
fn fresh_tree_matches_zookeeper() {
    let t = DataTree::new();
    let root = t.stat("/").unwrap();
    // Stored cversion 0 with one child reads as -1, as on a fresh ZooKeeper.
    assert_eq!((root.cversion, root.num_children, root.czxid), (-1, 1, 0));
    assert_eq!(t.stat("/zookeeper").unwrap().cversion, -2);
    let (acl, stat) = t.get_acl("/zookeeper/config").unwrap();
    assert_eq!((acl, stat.aversion), (Acl::read_unsafe(), -1));
    assert_eq!(t.get_acl("/zookeeper/quota").unwrap().0, open());
    assert_eq!(t.node_count(), 4);
    assert_eq!(t.approximate_data_size(), 1 + 10 + 16 + 17);
    assert_eq!(t.all_children_number("/").unwrap(), 3);
    assert_eq!(
        t.get_children("/zookeeper").unwrap().0,
        vec!["config", "quota"]
    );
}

#[test]
fn create_sets_every_stat_field() {
    let mut t = DataTree::new();
    let (p, s) = t
        .create(
            "/a",
            Some(Bytes::from_static(b"abc")),
            &open(),
            CreateMode::Persistent,
            -1,
            S1,
            7,
            70,
        )
        .unwrap();
    assert_eq!(p, "/a");
    let want = Stat {
        czxid: 7,
        mzxid: 7,
        pzxid: 7,
        ctime: 70,
        mtime: 70,
        data_length: 3,
        ..Stat::default()
    };
    assert_eq!(s, want);
    assert_eq!(t.stat("/a"), Some(want));
    let (_, e) = t
        .create(
            "/e",
            Some(Bytes::new()),
            &open(),
            CreateMode::Ephemeral,
            -1,
            S1,
            8,
            80,
        )
        .unwrap();
    assert_eq!(e.ephemeral_owner, S1);
    let (data, _) = t.get_data("/a").unwrap();
    assert_eq!(data.as_deref(), Some(&b"abc"[..]));
}

#[test]
fn parent_cversion_and_pzxid_follow_creates_and_deletes() {
    let mut t = DataTree::new();
    persistent(&mut t, "/p", 1);
    persistent(&mut t, "/p/a", 2);
    persistent(&mut t, "/p/b", 3);
    let s = t.stat("/p").unwrap();
    assert_eq!((s.cversion, s.num_children, s.pzxid, s.mzxid), (2, 2, 3, 1));
    t.delete("/p/a", -1, 4).unwrap();
    let s = t.stat("/p").unwrap();
    assert_eq!((s.cversion, s.num_children, s.pzxid), (3, 1, 4));
    // An older zxid never moves pzxid back.
    t.delete("/p/b", -1, 2).unwrap();
    assert_eq!(t.stat("/p").unwrap().pzxid, 4);
    assert_eq!(t.stat("/p").unwrap().cversion, 4);
    assert_eq!(t.stat("/").unwrap().cversion, 0);
}

#[test]
fn sequential_suffix_counts_creations_including_deleted_ones() {
    let mut t = DataTree::new();
    persistent(&mut t, "/q", 1);
    assert_eq!(
        mk(&mut t, "/q/n-", CreateMode::PersistentSequential, 2).unwrap(),
        "/q/n-0000000000"
    );
    assert_eq!(
        mk(&mut t, "/q/", CreateMode::EphemeralSequential, 3).unwrap(),
        "/q/0000000001"
    );
    t.delete("/q/n-0000000000", -1, 4).unwrap();
    persistent(&mut t, "/q/plain", 5);
    // Deletes do not advance the counter; creations of any mode do.
    assert_eq!(
        mk(&mut t, "/q/n-", CreateMode::PersistentSequential, 6).unwrap(),
        "/q/n-0000000003"
    );
    assert_eq!(t.stat("/q").unwrap().cversion, 5);
}

#[test]
fn create_errors_follow_zookeeper() {
    let mut t = DataTree::new();
    let e = |t: &mut DataTree, p: &str, m: CreateMode, ttl: i64, acl: Vec<Acl>| {
        t.create(p, Some(Bytes::new()), &acl, m, ttl, S1, 9, 9)
            .unwrap_err()
    };
    assert_eq!(
        e(&mut t, "/x/y", CreateMode::Persistent, -1, open()),
        Error::NoNode
    );
    assert_eq!(
        e(&mut t, "/zookeeper", CreateMode::Persistent, -1, open()),
        Error::NodeExists
    );
    assert_eq!(
        e(&mut t, "/a", CreateMode::Persistent, -1, vec![]),
        Error::InvalidAcl
    );
    assert_eq!(
        e(&mut t, "/a", CreateMode::Persistent, 0, open()),
        Error::BadArguments
    );
    assert_eq!(
        e(&mut t, "/a", CreateMode::PersistentWithTtl, 0, open()),
        Error::BadArguments
    );
    assert_eq!(
        e(&mut t, "/a", CreateMode::PersistentWithTtl, 1 << 40, open()),
        Error::BadArguments
    );
    assert_eq!(
        e(&mut t, "/zookeeper/", CreateMode::Persistent, -1, open()),
        Error::BadArguments
    );
    assert_eq!(
        e(&mut t, "a", CreateMode::Persistent, -1, open()),
        Error::BadArguments
    );
    assert_eq!(
        e(&mut t, "/a\0b", CreateMode::Persistent, -1, open()),
        Error::BadArguments
    );
    // The parent is looked up before the final path is validated.
    assert_eq!(
        e(&mut t, "/x/.", CreateMode::Persistent, -1, open()),
        Error::NoNode
    );
    mk(&mut t, "/eph", CreateMode::Ephemeral, 1).unwrap();
    assert_eq!(
        e(&mut t, "/eph/c", CreateMode::Persistent, -1, open()),
        Error::NoChildrenForEphemerals
    );
    assert_eq!(t.node_count(), 5, "failed creates change nothing");
    persistent(&mut t, "/p", 3);
    persistent(&mut t, "/p/c", 4);
    let before = t.stat("/p");
    assert_eq!(
        e(&mut t, "/p/c", CreateMode::Persistent, -1, open()),
        Error::NodeExists
    );
    assert_eq!(
        t.stat("/p"),
        before,
        "a taken name leaves its parent as it was"
    );
    // Creating under /zookeeper is allowed, as in ZooKeeper (quotas do it).
    persistent(&mut t, "/zookeeper/quota/app", 2);
}

#[test]
fn delete_checks_version_children_and_special_paths() {
    let mut t = DataTree::new();
    persistent(&mut t, "/d", 1);
    persistent(&mut t, "/d/c", 2);
    assert_eq!(t.delete("/d", -1, 3), Err(Error::NotEmpty));
    assert_eq!(t.delete("/d/c", 5, 3), Err(Error::BadVersion));
    assert_eq!(t.delete("/d/none", -1, 3), Err(Error::NoNode));
    assert_eq!(t.delete("/none/x", -1, 3), Err(Error::NoNode));
    assert_eq!(t.delete("/d/", -1, 3), Err(Error::NoNode));
    for p in SPECIAL_PATHS {
        assert_eq!(t.delete(p, -1, 3), Err(Error::BadArguments), "{p}");
    }
    t.delete("/d/c", 0, 3).unwrap();
    t.delete("/d", -1, 4).unwrap();
    assert_eq!(t.stat("/d"), None);
    assert_eq!(
        t.approximate_data_size(),
        DataTree::new().approximate_data_size()
    );
}

#[test]
fn set_data_set_acl_and_check_versions() {
    let mut t = DataTree::new();
    persistent(&mut t, "/v", 1);
    let s = t
        .set_data("/v", Some(Bytes::from_static(b"hello")), 0, 5, 500)
        .unwrap();
    assert_eq!(
        (s.version, s.mzxid, s.mtime, s.data_length, s.czxid, s.ctime),
        (1, 5, 500, 5, 1, 10)
    );
    assert_eq!(
        t.set_data("/v", Some(Bytes::new()), 0, 6, 600),
        Err(Error::BadVersion)
    );
    assert_eq!(
        t.set_data("/nope", Some(Bytes::new()), -1, 6, 600),
        Err(Error::NoNode)
    );
    assert_eq!(
        t.set_data("/v/", Some(Bytes::new()), -1, 6, 600),
        Err(Error::BadArguments)
    );
    assert_eq!(
        t.set_data("/v", Some(Bytes::new()), -1, 6, 600)
            .unwrap()
            .version,
        2
    );
    assert_eq!(t.check_version("/v", 2), Ok(()));
    assert_eq!(t.check_version("/v", -1), Ok(()));
    assert_eq!(t.check_version("/v", 1), Err(Error::BadVersion));
    assert_eq!(t.check_version("/w", 1), Err(Error::NoNode));
    // setACL checks aversion, not version, and leaves mzxid alone.
    assert_eq!(
        t.set_acl("/v", &Acl::read_unsafe(), 2),
        Err(Error::BadVersion)
    );
    let s = t.set_acl("/v", &Acl::read_unsafe(), 0).unwrap();
    assert_eq!((s.aversion, s.version, s.mzxid), (1, 2, 6));
    assert_eq!(t.set_acl("/v", &[], -1), Err(Error::InvalidAcl));
    assert_eq!(t.get_acl("/v").unwrap().0, Acl::read_unsafe());
    assert_eq!(
        t.set_acl("/zookeeper/config", &open(), -1)
            .unwrap()
            .aversion,
        0
    );
}

#[test]
fn ephemeral_index_and_kill_session() {
    let mut t = DataTree::new();
    persistent(&mut t, "/s", 1);
    for (i, p) in ["/s/b", "/s/a", "/top"].iter().enumerate() {
        t.create(
            p,
            Some(Bytes::new()),
            &open(),
            CreateMode::Ephemeral,
            -1,
            S1,
            2 + i as i64,
            0,
        )
        .unwrap();
    }
    t.create(
        "/s/other",
        Some(Bytes::new()),
        &open(),
        CreateMode::Ephemeral,
        -1,
        S2,
        5,
        0,
    )
    .unwrap();
    assert_eq!(t.ephemerals(S1), vec!["/s/a", "/s/b", "/top"]);
    assert_eq!(t.ephemeral_count(), 4);
    t.delete("/s/a", -1, 6).unwrap();
    assert_eq!(t.ephemerals(S1), vec!["/s/b", "/top"]);
    assert_eq!(t.kill_session(S1, 7), vec!["/s/b", "/top"]);
    assert_eq!(t.ephemerals(S1), Vec::<String>::new());
    assert_eq!(t.all_ephemerals(), vec![(S2, vec!["/s/other".to_string()])]);
    let s = t.stat("/s").unwrap();
    assert_eq!((s.num_children, s.pzxid, s.cversion), (1, 7, 5));
    assert_eq!(t.stat("/").unwrap().pzxid, 7);
    assert!(t.kill_session(S1, 8).is_empty());
    assert_eq!(t.kill_session(S2, 9), vec!["/s/other"]);
    assert_eq!(t.ephemeral_count(), 0);
}

#[test]
fn container_candidates_need_a_past_child() {
    let mut t = DataTree::new();
    let (_, s) = t
        .create(
            "/c",
            Some(Bytes::new()),
            &open(),
            CreateMode::Container,
            -1,
            S1,
            1,
            0,
        )
        .unwrap();
    assert_eq!(s.ephemeral_owner, 0, "clients see 0 for containers");
    persistent(&mut t, "/c2", 2);
    mk(&mut t, "/c3", CreateMode::Container, 3).unwrap();
    assert!(t.empty_containers().is_empty(), "never had a child");
    persistent(&mut t, "/c/kid", 4);
    assert!(t.empty_containers().is_empty(), "has a child");
    assert!(!t.is_reapable("/c", 0), "has a child");
    t.delete("/c/kid", -1, 5).unwrap();
    assert_eq!(t.empty_containers(), vec!["/c"]);
    assert!(t.is_reapable("/c", 0));
    assert!(!t.is_reapable("/c3", 0), "never had a child");
    assert!(!t.is_reapable("/c2", 0), "not a container");
    assert!(!t.is_reapable("/missing", 0));
    assert_eq!(t.unused_containers(1000, 0), Vec::<String>::new());
    assert_eq!(t.unused_containers(1000, 500), vec!["/c3"]);
    assert_eq!(
        t.delete_container("/c2", 6),
        Ok(()),
        "ZooKeeper only refuses ephemerals"
    );
    t.delete_container("/c", 7).unwrap();
    assert!(t.empty_containers().is_empty());
    mk(&mut t, "/e", CreateMode::Ephemeral, 8).unwrap();
    assert_eq!(t.delete_container("/e", 9), Err(Error::BadVersion));
    assert_eq!(
        t.delete_container("/zookeeper", 9),
        Err(Error::BadArguments)
    );
}

#[test]
fn ttl_candidates_expire_from_mtime() {
    let mut t = DataTree::new();
    let (_, s) = t
        .create(
            "/t",
            Some(Bytes::new()),
            &open(),
            CreateMode::PersistentWithTtl,
            100,
            S1,
            1,
            1000,
        )
        .unwrap();
    assert_eq!(s.ephemeral_owner, 0, "clients see 0 for TTL nodes");
    assert_eq!(
        owner_ttl(t.node("/t").unwrap().stat.ephemeral_owner),
        Some(100)
    );
    assert!(t.expired_ttls(1100).is_empty(), "not more than the TTL yet");
    assert!(!t.is_reapable("/t", 1100));
    assert_eq!(t.expired_ttls(1101), vec!["/t"]);
    assert!(t.is_reapable("/t", 1101));
    t.set_data("/t", Some(Bytes::new()), -1, 2, 1050).unwrap();
    assert!(
        t.expired_ttls(1101).is_empty(),
        "a write restarts the clock"
    );
    persistent(&mut t, "/t/kid", 3);
    assert!(t.expired_ttls(9999).is_empty(), "has a child");
    assert!(!t.is_reapable("/t", 9999), "has a child");
    let (p, _) = t
        .create(
            "/t/",
            Some(Bytes::new()),
            &open(),
            CreateMode::PersistentSequentialWithTtl,
            5,
            S1,
            4,
            0,
        )
        .unwrap();
    assert_eq!(t.expired_ttls(6), vec![p.clone()]);
    t.delete(&p, -1, 5).unwrap();
    assert!(!t.ttls.contains(p.as_str()));
}

#[test]
fn path_validation_matches_path_utils() {
    for ok in [
        "/", "/a", "/a/b", "/a.b", "/...", "/a/..b", "/.a", "/a/b.", "/ü", "/a-b_c:1", "/a b",
    ] {
        assert_eq!(validate_path(ok, false), Ok(()), "{ok:?}");
    }
    let bad = [
        "",
        "a",
        "/a/",
        "//",
        "/a//b",
        "/.",
        "/..",
        "/a/.",
        "/a/../b",
        "/a/./b",
        "/a\0",
        "/a\u{1}",
        "/\u{7f}",
        "/\u{9f}",
        "/\u{e000}",
        "/\u{f8ff}",
        "/\u{fff0}",
        "/\u{ffff}",
        "/\u{1f600}",
    ];
    for p in bad {
        assert_eq!(validate_path(p, false), Err(Error::BadArguments), "{p:?}");
    }
    assert_eq!(validate_path("/\u{f900}", false), Ok(()));
    assert_eq!(validate_path("/a/", true), Ok(()));
    assert_eq!(validate_path("/", true), Ok(()));
    assert_eq!(validate_path("/a//", true), Err(Error::BadArguments));
    assert_eq!(split_parent("/a"), Ok(("/", "a")));
    assert_eq!(split_parent("/a/b"), Ok(("/a", "b")));
    assert_eq!(split_parent("ab"), Err(Error::BadArguments));
}

fn id(scheme: &str, i: &str) -> Id {
    Id::new(scheme, i)
}

fn acl(perms: i32, scheme: &str, i: &str) -> Acl {
    Acl {
        perms,
        id: id(scheme, i),
    }
}

#[test]
fn check_acl_world_digest_ip_and_super() {
    let alice = digest("alice:secret");
    let list = vec![
        acl(perms::READ, "world", "anyone"),
        acl(perms::ALL, "digest", &alice),
        acl(perms::WRITE, "ip", "10.1.0.0/16"),
        acl(perms::DELETE, "ip", "fe80::/64"),
    ];
    let none: &[Id] = &[];
    assert_eq!(check_acl_list(&list, perms::READ, none, false), Ok(()));
    assert_eq!(
        check_acl_list(&list, perms::ADMIN, none, false),
        Err(Error::NoAuth)
    );
    assert_eq!(
        check_acl_list(&list, perms::ADMIN, &[id("digest", &alice)], false),
        Ok(())
    );
    assert_eq!(
        check_acl_list(
            &list,
            perms::ADMIN,
            &[id("digest", &digest("alice:x"))],
            false
        ),
        Err(Error::NoAuth)
    );
    assert_eq!(
        check_acl_list(&list, perms::WRITE, &[id("ip", "10.1.200.3")], false),
        Ok(())
    );
    assert_eq!(
        check_acl_list(&list, perms::WRITE, &[id("ip", "10.2.0.1")], false),
        Err(Error::NoAuth)
    );
    assert_eq!(
        check_acl_list(
            &list,
            perms::DELETE,
            &[id("ip", "fe80:0:0:0:1:2:3:4")],
            false
        ),
        Ok(())
    );
    assert_eq!(
        check_acl_list(&list, perms::DELETE, &[id("ip", "fe81::1")], false),
        Err(Error::NoAuth)
    );
    // Matching is per scheme: an ip id never satisfies a digest entry.
    assert_eq!(
        check_acl_list(&list, perms::ADMIN, &[id("ip", &alice)], false),
        Err(Error::NoAuth)
    );
    assert_eq!(check_acl_list(&list, perms::ADMIN, none, true), Ok(()));
    assert_eq!(
        check_acl_list(&list, perms::ADMIN, &[id("super", "")], false),
        Ok(())
    );
    assert_eq!(check_acl_list(&[], perms::ADMIN, none, false), Ok(()));
    let mut t = DataTree::new();
    t.create(
        "/locked",
        Some(Bytes::new()),
        &Acl::read_unsafe(),
        CreateMode::Persistent,
        -1,
        S1,
        1,
        1,
    )
    .unwrap();
    assert_eq!(
        t.check_acl("/locked", perms::WRITE, none, false),
        Err(Error::NoAuth)
    );
    assert_eq!(t.check_acl("/locked", perms::READ, none, false), Ok(()));
    assert_eq!(
        t.check_acl("/missing", perms::READ, none, false),
        Err(Error::NoNode)
    );
}

#[test]
fn ip_rules_follow_ip_authentication_provider() {
    use super::acl::tests_api::{ip_matches, ip_valid};
    assert!(ip_matches("1.2.3.4", "1.2.3.4"));
    assert!(!ip_matches("1.2.3.5", "1.2.3.4"));
    assert!(ip_matches("1.2.3.4", "1.2.0.0/16"));
    assert!(ip_matches("9.9.9.9", "1.2.3.4/0"));
    assert!(ip_matches("1.2.3.130", "1.2.3.128/25"));
    assert!(!ip_matches("1.2.3.127", "1.2.3.128/25"));
    assert!(!ip_matches("::1", "0.0.0.0/0"), "families differ");
    assert!(ip_matches("::1", "0:0:0:0:0:0:0:1"));
    assert!(ip_matches("2001:db8::7", "2001:db8::/32"));
    assert!(!ip_matches("1.2.3.4", "1.2.3.4/33"));
    for ok in [
        "1.2.3.4",
        "1.2.3.4/32",
        "10.0.0.0/8",
        "::",
        "::1",
        "1::",
        "fe80::/10",
        "a:b:c:d:e:f:0:1",
    ] {
        assert!(ip_valid(ok), "{ok}");
    }
    for bad in [
        "1.2.3",
        "1.2.3.256",
        "1.2.3.4/33",
        "1.2.3.4/-1",
        "1.2.3.4/x",
        "host",
        "1::2::3",
        "12345::",
        "1:2:3:4:5:6:7:8::",
        "g::1",
        "1:2",
    ] {
        assert!(!ip_valid(bad), "{bad}");
    }
}

#[test]
fn fix_acl_expands_auth_and_rejects_bad_entries() {
    let alice = digest("alice:secret");
    let ids = [id("ip", "127.0.0.1"), id("super", ""), id("digest", &alice)];
    let fixed = fix_acl(
        &[acl(perms::ALL, "auth", ""), acl(perms::ALL, "auth", "")],
        &ids,
    )
    .unwrap()
    .into_owned();
    assert_eq!(
        fixed,
        vec![acl(perms::ALL, "digest", &alice)],
        "deduplicated, only authenticated ids"
    );
    assert_eq!(
        fix_acl(&Acl::creator_all(), &[id("ip", "127.0.0.1")]),
        Err(Error::InvalidAcl)
    );
    assert_eq!(fix_acl(&[], &ids), Err(Error::InvalidAcl));
    assert_eq!(
        fix_acl(&[acl(1, "world", "someone")], &ids),
        Err(Error::InvalidAcl)
    );
    assert_eq!(
        fix_acl(&[acl(1, "kerberos", "bob")], &ids),
        Err(Error::InvalidAcl)
    );
    // Registered here whether or not TLS or SASL is on (see Provider).
    for scheme in ["sasl", "x509"] {
        assert!(fix_acl(&[acl(1, scheme, "bob")], &ids).is_ok());
        assert_eq!(fix_acl(&[acl(1, scheme, "")], &ids), Err(Error::InvalidAcl));
    }
    assert_eq!(
        fix_acl(&[acl(1, "digest", "nohash")], &ids),
        Err(Error::InvalidAcl)
    );
    assert_eq!(
        fix_acl(&[acl(1, "digest", "a:b:c")], &ids),
        Err(Error::InvalidAcl)
    );
    assert_eq!(
        fix_acl(&[acl(1, "digest", "user:")], &ids),
        Err(Error::InvalidAcl)
    );
    assert_eq!(
        fix_acl(&[acl(1, "ip", "10.0.0.0/99")], &ids),
        Err(Error::InvalidAcl)
    );
    let ok = vec![
        acl(1, "world", "anyone"),
        acl(3, "digest", "u:h"),
        acl(1, "ip", "10.0.0.0/8"),
    ];
    assert!(
        matches!(fix_acl(&ok, &[]), Ok(Cow::Borrowed(same)) if same == &ok[..]),
        "a list needing no fix is not copied"
    );
    let repeated = [ok[0].clone(), ok[1].clone(), ok[0].clone(), ok[2].clone()];
    assert_eq!(fix_acl(&repeated, &[]).unwrap(), ok, "repeats dropped");
    let mixed = [ok[0].clone(), acl(perms::ALL, "auth", ""), ok[1].clone()];
    assert_eq!(
        fix_acl(&mixed, &ids).unwrap(),
        vec![
            ok[0].clone(),
            acl(perms::ALL, "digest", &alice),
            ok[1].clone()
        ],
        "auth expanded in its place"
    );
}

#[test]
fn digest_matches_zookeeper_docs() {
    // The superDigest ZooKeeper's own build uses for password "test".
    assert_eq!(digest("super:test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    assert!(digest("nocolon").starts_with("nocolon:"));
}

#[test]
fn clone_is_independent() {
    let mut t = DataTree::new();
    persistent(&mut t, "/a", 1);
    let snapshot = t.clone();
    persistent(&mut t, "/a/b", 2);
    t.set_data("/a", Some(Bytes::from_static(b"new")), -1, 3, 3)
        .unwrap();
    mk(&mut t, "/e", CreateMode::Ephemeral, 4).unwrap();
    assert_eq!(snapshot.stat("/a/b"), None);
    assert_eq!(
        snapshot.get_data("/a").unwrap().0.as_deref(),
        Some(&b"d"[..])
    );
    assert_eq!(snapshot.stat("/a").unwrap().num_children, 0);
    assert_eq!(snapshot.ephemeral_count(), 0);
    assert_ne!(snapshot, t);
}

#[test]
fn counts_children_and_sizes() {
    let mut t = DataTree::new();
    persistent(&mut t, "/a", 1);
    persistent(&mut t, "/a/b", 2);
    persistent(&mut t, "/a/b/c", 3);
    persistent(&mut t, "/a0", 4);
    persistent(&mut t, "/a.x", 5);
    assert_eq!(t.all_children_number("/a").unwrap(), 2);
    assert_eq!(t.all_children_number("/a/b/c").unwrap(), 0);
    assert_eq!(t.all_children_number("/").unwrap(), 3 + 5);
    assert_eq!(t.all_children_number("/zz"), Err(Error::NoNode));
    assert_eq!(
        t.get_children("/").unwrap().0,
        vec!["a", "a.x", "a0", "zookeeper"]
    );
    assert_eq!(t.node_count(), 9);
    // Each node adds its path length plus one data byte ("d").
    assert_eq!(t.approximate_data_size(), 44 + (2 + 4 + 6 + 3 + 4) + 5);
}

#[test]
fn snapshot_round_trip_rebuilds_indexes() {
    let mut t = DataTree::new();
    persistent(&mut t, "/a", 1);
    mk(&mut t, "/a/e", CreateMode::Ephemeral, 2).unwrap();
    mk(&mut t, "/c", CreateMode::Container, 3).unwrap();
    mk(&mut t, "/t", CreateMode::PersistentWithTtl, 4).unwrap();
    t.set_data("/a", Some(Bytes::from_static(&[0, 1, 255])), -1, 5, 5)
        .unwrap();
    mk(&mut t, "/n", CreateMode::Persistent, 6).unwrap();
    t.set_data("/n", None, -1, 6, 6).unwrap();
    let bytes = bincode::serde::encode_to_vec(&t, bincode::config::standard()).unwrap();
    let (back, _): (DataTree, _) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(back, t);
    // The borrowed records the writer streams encode as the owned ones.
    #[derive(serde::Serialize)]
    #[serde(rename = "DataTree")]
    struct Owned {
        nodes: Vec<NodeRecord>,
    }
    let owned = Owned {
        nodes: t.records().collect(),
    };
    assert_eq!(
        bincode::serde::encode_to_vec(&owned, bincode::config::standard()).unwrap(),
        bytes
    );
    assert_eq!(DataTree::from_records(t.records()), Ok(t.clone()));
    let mut orphan: Vec<NodeRecord> = t.records().filter(|r| r.path != "/a").collect();
    orphan.reverse();
    assert_eq!(
        DataTree::from_records(orphan),
        Err(Error::DataInconsistency)
    );
    assert_eq!(
        DataTree::from_records(t.records().filter(|r| r.path != "/")),
        Err(Error::DataInconsistency)
    );
    let twice = t.records().chain(t.records().filter(|r| r.path == "/a"));
    assert_eq!(DataTree::from_records(twice), Err(Error::DataInconsistency));
    let mut shuffled: Vec<NodeRecord> = t.records().collect();
    shuffled.rotate_left(2);
    shuffled.reverse();
    assert_eq!(DataTree::from_records(shuffled), Ok(t.clone()));
}

#[test]
fn null_data_stays_apart_from_empty_through_writes_and_snapshots() {
    let mut t = DataTree::new();
    let create = |t: &mut DataTree, path: &str, data: Option<Bytes>| {
        t.create(path, data, &open(), CreateMode::Persistent, -1, S1, 1, 1)
            .unwrap()
            .1
    };
    assert_eq!(create(&mut t, "/null", None).data_length, 0);
    create(&mut t, "/empty", Some(Bytes::new()));
    create(&mut t, "/full", Some(Bytes::from_static(b"x")));
    assert_eq!(t.get_data("/null").unwrap().0, None);
    assert_eq!(t.get_data("/empty").unwrap().0, Some(Bytes::new()));
    t.set_data("/full", None, -1, 2, 2).unwrap();
    t.set_data("/null", Some(Bytes::new()), -1, 3, 3).unwrap();
    assert_eq!(t.get_data("/full").unwrap().0, None);
    assert_eq!(t.get_data("/null").unwrap().0, Some(Bytes::new()));
    assert_consistent(&t);
    let bytes = bincode::serde::encode_to_vec(&t, bincode::config::standard()).unwrap();
    let (back, _): (DataTree, _) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(back.get_data("/full").unwrap().0, None);
    assert_eq!(back.get_data("/null").unwrap().0, Some(Bytes::new()));
    assert_eq!(back, t);
}

/// A snapshot written before null data (every record's data a plain byte
/// string) still loads, its data as it was.
#[test]
fn tree_from_before_null_data_loads() {
    #[derive(serde::Serialize)]
    struct Old<'a> {
        path: &'a str,
        #[serde(with = "serde_bytes")]
        data: &'a [u8],
        acl: Vec<Acl>,
        stat: StatPersisted,
    }
    let t = DataTree::new();
    let mut old: Vec<Old> = Vec::new();
    let records: Vec<NodeRecord> = t.records().collect();
    for r in &records {
        old.push(Old {
            path: &r.path,
            data: r.data.as_deref().unwrap(),
            acl: r.acl.clone(),
            stat: r.stat,
        });
    }
    old.push(Old {
        path: "/a",
        data: b"kept",
        acl: open(),
        stat: StatPersisted::default(),
    });
    let bytes = bincode::serde::encode_to_vec((old,), bincode::config::standard()).unwrap();
    let (back, _): (TreeNonNull, _) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    let back = DataTree::try_from(back).unwrap();
    assert_eq!(
        back.get_data("/a").unwrap().0.as_deref(),
        Some(&b"kept"[..])
    );
    assert_eq!(back.get_data("/").unwrap().0, Some(Bytes::new()));
}

/// Everything derived must agree with the nodes themselves.
fn assert_consistent(t: &DataTree) {
    let (mut size, mut count) = (0, 0);
    let _ = t.each_node(|path, node| {
        size += node_size(path, node.data_len());
        count += 1;
        assert!(std::ptr::eq(t.node(path).unwrap(), node), "{path}");
        let owner = node.stat.ephemeral_owner;
        if EphemeralType::of(owner) == EphemeralType::Normal {
            assert!(t.ephemerals(owner).contains(&path.to_string()));
        }
        Ok::<(), ()>(())
    });
    assert_eq!(size, t.approximate_data_size());
    assert_eq!(count, t.node_count());
    let listed: usize = t.all_ephemerals().iter().map(|(_, p)| p.len()).sum();
    assert_eq!(listed, t.ephemeral_count());
}

#[derive(Debug, Clone)]
enum Op {
    Create(u8, u8, u8),
    Delete(u8, i32),
    SetData(u8, u8),
    Kill(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..12, 0u8..7, 0u8..3).prop_map(|(p, m, s)| Op::Create(p, m, s)),
        (0u8..12, -1i32..2).prop_map(|(p, v)| Op::Delete(p, v)),
        (0u8..12, 0u8..8).prop_map(|(p, n)| Op::SetData(p, n)),
        (0u8..3).prop_map(Op::Kill),
    ]
}

/// A small fixed namespace so ops collide often.
fn path_of(i: u8) -> &'static str {
    [
        "/a",
        "/b",
        "/a/x",
        "/a/y",
        "/b/x",
        "/a/x/1",
        "/a/",
        "/b/",
        "/zookeeper",
        "/",
        "/c",
        "/a/x/",
    ][i as usize]
}

fn apply(t: &mut DataTree, op: &Op, zxid: Zxid) -> String {
    match *op {
        Op::Create(p, m, s) => {
            let mode = CreateMode::from_flag(m as i32).unwrap();
            let ttl = if mode.is_ttl() { 50 } else { -1 };
            let data = Some(Bytes::from(vec![m; p as usize]));
            format!(
                "{:?}",
                t.create(
                    path_of(p),
                    data,
                    &open(),
                    mode,
                    ttl,
                    s as i64 + 1,
                    zxid,
                    zxid * 3
                )
            )
        }
        Op::Delete(p, v) => format!("{:?}", t.delete(path_of(p), v, zxid)),
        Op::SetData(p, n) => format!(
            "{:?}",
            t.set_data(
                path_of(p),
                Some(Bytes::from(vec![n; n as usize])),
                -1,
                zxid,
                zxid
            )
        ),
        Op::Kill(s) => format!("{:?}", t.kill_session(s as i64 + 1, zxid)),
    }
}

proptest! {
    #[test]
    fn same_ops_same_tree(ops in proptest::collection::vec(op(), 0..60)) {
        let (mut a, mut b) = (DataTree::new(), DataTree::new());
        for (i, op) in ops.iter().enumerate() {
            let zxid = i as Zxid + 1;
            let before = a.clone();
            let ra = apply(&mut a, op, zxid);
            prop_assert_eq!(ra.clone(), apply(&mut b, op, zxid));
            if ra.starts_with("Err") {
                prop_assert_eq!(&before, &a, "a failed op changes nothing");
            }
            assert_consistent(&a);
        }
        prop_assert_eq!(&a, &b);
        let bytes = bincode::serde::encode_to_vec(&a, bincode::config::standard()).unwrap();
        let (back, _): (DataTree, _) = bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        prop_assert_eq!(&back, &a);
        prop_assert_eq!(a.empty_containers(), back.empty_containers());
        prop_assert_eq!(a.expired_ttls(1 << 20), back.expired_ttls(1 << 20));
    }
}

#[test]
fn equal_acls_are_stored_once_and_a_clone_copies_no_node_until_written() {
    let mut t = DataTree::new();
    persistent(&mut t, "/a", 2);
    persistent(&mut t, "/b", 3);
    let digest = vec![Acl {
        perms: perms::ALL,
        id: Id::new("digest", "u:x"),
    }];
    t.set_acl("/b", &digest, -1).unwrap();
    persistent(&mut t, "/c", 4);
    t.set_acl("/c", &digest, -1).unwrap();
    let acl = |t: &DataTree, p: &str| t.node(p).unwrap().acl.clone();
    assert!(Arc::ptr_eq(&acl(&t, "/a"), &acl(&t, "/")));
    assert!(Arc::ptr_eq(&acl(&t, "/b"), &acl(&t, "/c")));
    assert!(!Arc::ptr_eq(&acl(&t, "/a"), &acl(&t, "/b")));

    let copy = t.clone();
    assert!(Arc::ptr_eq(
        t.node_arc("/a").unwrap(),
        copy.node_arc("/a").unwrap()
    ));
    t.set_data("/a", Some(Bytes::from_static(b"new")), -1, 5, 50)
        .unwrap();
    assert!(!Arc::ptr_eq(
        t.node_arc("/a").unwrap(),
        copy.node_arc("/a").unwrap()
    ));
    assert_eq!(
        copy.get_data("/a").unwrap().0,
        Some(Bytes::from_static(b"d"))
    );
    assert!(Arc::ptr_eq(
        t.node_arc("/b").unwrap(),
        copy.node_arc("/b").unwrap()
    ));
}

/// A node and its `Arc` header fit jemalloc's 128-byte size class; one
/// byte more and every znode pays for a 160-byte block.
#[test]
fn a_node_fits_a_128_byte_block() {
    assert!(
        std::mem::size_of::<Node>() <= 112,
        "{}",
        std::mem::size_of::<Node>()
    );
}

#[test]
fn quota_stats_follow_creates_sets_and_deletes() {
    let mut t = DataTree::new();
    let mk = |t: &mut DataTree, path: &str, data: &[u8]| {
        t.create(
            path,
            Some(Bytes::copy_from_slice(data)),
            &open(),
            CreateMode::Persistent,
            -1,
            S1,
            1,
            1,
        )
        .unwrap();
    };
    mk(&mut t, "/q", b"12345");
    mk(&mut t, "/q/a", b"1");
    mk(&mut t, "/zookeeper/quota/q", b"");
    mk(
        &mut t,
        "/zookeeper/quota/q/zookeeper_limits",
        b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3",
    );
    mk(
        &mut t,
        "/zookeeper/quota/q/zookeeper_stats",
        b"count=0,bytes=0",
    );
    let stats = |t: &DataTree| t.get_data("/zookeeper/quota/q/zookeeper_stats").unwrap().0;
    assert_eq!(stats(&t).as_deref(), Some(&b"count=2,bytes=6"[..]));
    mk(&mut t, "/q/b", b"22");
    assert_eq!(t.check_quota("/q/c", 1, 1), Err(Error::QuotaExceeded));
    assert_eq!(t.check_quota("/other", 1, 1), Ok(()));
    t.set_data("/q/b", Some(Bytes::from_static(b"2222")), -1, 2, 2)
        .unwrap();
    t.delete("/q/a", -1, 3).unwrap();
    assert_eq!(stats(&t).as_deref(), Some(&b"count=2,bytes=9"[..]));
    assert_eq!(t.check_quota("/q/c", 1, 1), Ok(()));
    assert_consistent(&t);
    // A snapshot keeps the quota: the limit node is found again on load.
    let back = DataTree::from_records(t.records()).unwrap();
    assert_eq!(back.check_quota("/q/c", 0, 2), Err(Error::QuotaExceeded));
    t.set_data(
        "/zookeeper/quota/q/zookeeper_limits",
        Some(Bytes::from_static(b"junk")),
        -1,
        4,
        4,
    )
    .unwrap();
    assert_eq!(t.check_quota("/q/c", 1, 1), Err(Error::MarshallingError));
    t.delete("/zookeeper/quota/q/zookeeper_limits", -1, 5)
        .unwrap();
    assert_eq!(t.check_quota("/q/c", 1, 1), Ok(()));
}

/// Records come depth first: a node's whole subtree before its next
/// sibling, even where byte order of the full paths differs ('-' < '/').
#[test]
fn records_come_depth_first_and_rebuild_from_any_order() {
    let mut t = DataTree::new();
    for (i, p) in ["/a", "/a/b", "/a-c", "/a/b/c", "/a0"].iter().enumerate() {
        persistent(&mut t, p, i as Zxid + 1);
    }
    let paths: Vec<String> = t.records().map(|r| r.path).collect();
    let want = [
        "/",
        "/a",
        "/a/b",
        "/a/b/c",
        "/a-c",
        "/a0",
        "/zookeeper",
        "/zookeeper/config",
        "/zookeeper/quota",
    ];
    assert_eq!(paths, want);
    let reversed: Vec<NodeRecord> = t.records().collect::<Vec<_>>().into_iter().rev().collect();
    assert_eq!(DataTree::from_records(reversed), Ok(t.clone()));
    assert_eq!(t.all_children_number("/a"), Ok(2));
    assert_eq!(t.all_children_number("/"), Ok(8));
    assert_eq!(
        t.create("/", None, &open(), CreateMode::Persistent, -1, 0, 9, 9),
        Err(Error::NodeExists)
    );
}

/// Snapshots of older zkrs list records in byte order of paths: decoding
/// builds those by sorting, and refuses what `from_records` refuses.
#[test]
fn decoding_takes_records_in_any_order_and_refuses_broken_ones() {
    #[derive(serde::Serialize)]
    #[serde(rename = "DataTree")]
    struct Owned {
        nodes: Vec<NodeRecord>,
    }
    let cfg = bincode::config::standard();
    let decode = |nodes: Vec<NodeRecord>| {
        let bytes = bincode::serde::encode_to_vec(Owned { nodes }, cfg).unwrap();
        bincode::serde::decode_from_slice::<DataTree, _>(&bytes, cfg)
            .map(|(t, _)| t)
            .map_err(|_| ())
    };
    let mut t = DataTree::new();
    for (i, p) in ["/a", "/a/b", "/a-c", "/a/b/c", "/a0"].iter().enumerate() {
        persistent(&mut t, p, i as Zxid + 1);
    }
    let records = || t.records();
    let mut byte_order: Vec<NodeRecord> = records().collect();
    byte_order.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(decode(byte_order), Ok(t.clone()));
    let mut reversed: Vec<NodeRecord> = records().collect();
    reversed.reverse();
    assert_eq!(decode(reversed), Ok(t.clone()));
    let twice = records().chain(records().filter(|r| r.path == "/a/b/c"));
    assert_eq!(decode(twice.collect()), Err(()));
    assert_eq!(
        decode(records().filter(|r| r.path != "/a").collect()),
        Err(())
    );
    assert_eq!(
        decode(records().filter(|r| r.path != "/").collect()),
        Err(())
    );
}

/// A snapshot cut short is an error, not a smaller tree (the records are
/// decoded on one thread and linked on another).
#[test]
fn a_truncated_snapshot_is_an_error() {
    let mut t = DataTree::new();
    for i in 0..3000 {
        persistent(&mut t, &format!("/n{i}"), i + 1);
    }
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&t, cfg).unwrap();
    let (back, _): (DataTree, _) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert_eq!(back, t);
    for cut in [1, bytes.len() / 2, bytes.len() - 1] {
        let short = bincode::serde::decode_from_slice::<DataTree, _>(&bytes[..cut], cfg);
        assert!(short.is_err(), "cut at {cut}");
    }
}

proptest! {
    /// Names sort as their strings do, whatever their lengths and bytes
    /// (zero bytes, multibyte characters, shared 8-byte prefixes).
    #[test]
    fn names_sort_as_strings(a in "[\\x00ab\u{e9}\u{4e2d}]{0,12}", b in "[\\x00ab\u{e9}\u{4e2d}]{0,12}") {
        let (na, nb) = (node::Name::from(a.as_str()), node::Name::from(b.as_str()));
        prop_assert_eq!(na.cmp(&nb), a.cmp(&b));
        prop_assert_eq!(na == nb, a == b);
    }
}

#[test]
fn names_sort_as_strings_at_the_word_edge() {
    let names = [
        "",
        "\0",
        "a",
        "a\0",
        "abcdefg",
        "abcdefgh",
        "abcdefgh\0",
        "abcdefgha",
        "abcdefghb",
        "abcdefgi",
        "abcdefh",
        "b",
        "n000",
        "n001",
        "n010",
        "p00999",
        "p01000",
    ];
    for a in names {
        for b in names {
            let (na, nb) = (node::Name::from(a), node::Name::from(b));
            assert_eq!(na.cmp(&nb), a.cmp(b), "{a:?} vs {b:?}");
        }
    }
}

/// A change to a map of children, by key number; `Keep` keeps a clone of
/// the map to check later that no change after it reached it.
#[derive(Debug, Clone)]
enum ChildOp {
    Insert(u16, i32),
    InsertNew(u16, i32),
    Remove(u16),
    Modify(u16, i32),
    Keep,
}

fn child_op() -> impl Strategy<Value = ChildOp> {
    prop_oneof![
        4 => (0..300u16, any::<i32>()).prop_map(|(k, v)| ChildOp::Insert(k, v)),
        2 => (0..300u16, any::<i32>()).prop_map(|(k, v)| ChildOp::InsertNew(k, v)),
        3 => (0..300u16).prop_map(ChildOp::Remove),
        1 => (0..300u16, any::<i32>()).prop_map(|(k, v)| ChildOp::Modify(k, v)),
        1 => Just(ChildOp::Keep),
    ]
}

/// Short names mostly, and some past the 24 bytes a name holds inline.
fn child_name(k: u16) -> String {
    if k.is_multiple_of(7) {
        format!("a-name-longer-than-twenty-four-bytes-{k:03}")
    } else {
        format!("n{k:03}")
    }
}

fn child(version: i32) -> Arc<node::Node> {
    let stat = StatPersisted {
        version,
        ..StatPersisted::default()
    };
    Arc::new(node::Node::new(None, Arc::default(), stat))
}

fn child_versions(c: &node::Children) -> Vec<(String, i32)> {
    c.iter()
        .map(|(n, node)| (n.to_string(), node.stat.version))
        .collect()
}

fn model_versions(m: &std::collections::BTreeMap<String, i32>) -> Vec<(String, i32)> {
    m.iter().map(|(n, v)| (n.clone(), *v)).collect()
}

proptest! {
    /// Children behave as a sorted map under inserts, removals and changes
    /// in place, from an empty map or one built from names in order; the
    /// tree keeps its shape rules after every change; and a clone never
    /// sees a change made after it was taken.
    #[test]
    fn children_behave_as_a_sorted_map(
        start in proptest::collection::btree_set(0..300u16, 0..120),
        ops in proptest::collection::vec(child_op(), 0..300),
    ) {
        let mut model: std::collections::BTreeMap<String, i32> =
            start.iter().map(|k| (child_name(*k), i32::from(*k))).collect();
        let mut kids: node::Children = model
            .iter()
            .map(|(n, v)| (node::Name::from(n.as_str()), child(*v)))
            .collect();
        kids.check();
        let mut kept = Vec::new();
        for op in ops {
            match op {
                ChildOp::Insert(k, v) => {
                    kids.insert(&child_name(k), child(v));
                    model.insert(child_name(k), v);
                }
                ChildOp::InsertNew(k, v) => {
                    let added = kids.insert_new(&child_name(k), child(v));
                    let new = !model.contains_key(&child_name(k));
                    model.entry(child_name(k)).or_insert(v);
                    prop_assert_eq!(added, new);
                }
                ChildOp::Remove(k) => {
                    let gone = kids.remove(&child_name(k)).map(|n| n.stat.version);
                    prop_assert_eq!(gone, model.remove(&child_name(k)));
                }
                ChildOp::Modify(k, v) => {
                    let found = kids.get_mut(&child_name(k)).map(|n| n.stat.version = v);
                    let had = model.get_mut(&child_name(k)).map(|m| *m = v);
                    prop_assert_eq!(found, had);
                }
                ChildOp::Keep => kept.push((kids.clone(), model.clone())),
            }
            kids.check();
            prop_assert_eq!(kids.len(), model.len());
            prop_assert_eq!(kids.is_empty(), model.is_empty());
        }
        prop_assert_eq!(child_versions(&kids), model_versions(&model));
        for k in 0..300u16 {
            let got = kids.get(&child_name(k)).map(|n| n.stat.version);
            prop_assert_eq!(got, model.get(&child_name(k)).copied());
        }
        for (old, old_model) in &kept {
            old.check();
            prop_assert_eq!(child_versions(old), model_versions(old_model));
        }
        let moved: Vec<(String, i32)> =
            kids.into_iter().map(|(n, node)| (n.to_string(), node.stat.version)).collect();
        prop_assert_eq!(moved, model_versions(&model));
    }

    /// Children that do not come in name order (or repeat a name, the
    /// later one winning) make the same map as sorted ones.
    #[test]
    fn children_from_any_order(keys in proptest::collection::vec((0..300u16, any::<i32>()), 0..200)) {
        let kids: node::Children = keys
            .iter()
            .map(|(k, v)| (node::Name::from(child_name(*k).as_str()), child(*v)))
            .collect();
        let model: std::collections::BTreeMap<String, i32> =
            keys.iter().map(|(k, v)| (child_name(*k), *v)).collect();
        kids.check();
        prop_assert_eq!(child_versions(&kids), model_versions(&model));
        let sorted: node::Children = model
            .iter()
            .map(|(n, v)| (node::Name::from(n.as_str()), child(*v)))
            .collect();
        prop_assert_eq!(kids, sorted);
    }
}

/// `PathUtils.validatePath` transcribed char by char, as `check` was before
/// it walked bytes: the reference the byte walk must agree with.
fn validate_path_by_chars(path: &str) -> bool {
    let chars: Vec<char> = path.chars().collect();
    let forbidden =
        |c: char| matches!(c as u32, 0x01..=0x1f | 0x7f..=0x9f | 0xd800..=0xf8ff | 0xfff0..);
    let bad_at = |i: usize| {
        let (c, last) = (chars[i], chars[i - 1]);
        let segment_ends = i + 1 == chars.len() || chars[i + 1] == '/';
        match c {
            '\0' => true,
            '/' => last == '/',
            '.' if last == '.' => chars[i - 2] == '/' && segment_ends,
            '.' => last == '/' && segment_ends,
            c => forbidden(c),
        }
    };
    match chars.len() {
        0 => false,
        _ if chars[0] != '/' => false,
        1 => true,
        n => chars[n - 1] != '/' && !(1..n).any(bad_at),
    }
}

proptest! {
    #[test]
    fn path_validation_walks_bytes_as_chars(
        parts in prop::collection::vec(
            prop_oneof![
                // Mostly parts a valid path is made of, so that one bad
                // char is often the only thing wrong.
                6 => prop::sample::select(vec![
                    "/", "/", "/", ".", "..", "a", "b1", "ü", "\u{a0}", "\u{d7ff}", "\u{f900}",
                    "\u{ffef}",
                ]),
                1 => prop::sample::select(vec![
                    "\0", "\u{1}", "\u{7f}", "\u{80}", "\u{9f}", "\u{e000}", "\u{f8ff}",
                    "\u{fff0}", "\u{1f600}",
                ]),
            ],
            0..10,
        ),
        rooted in any::<bool>(),
    ) {
        let path = if rooted { format!("/{}", parts.concat()) } else { parts.concat() };
        prop_assert_eq!(
            validate_path(&path, false).is_ok(),
            validate_path_by_chars(&path),
            "{:?}",
            path
        );
    }
}
