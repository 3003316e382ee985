use super::*;
use EventType::{
    ChildWatchRemoved, DataWatchRemoved, NodeChildrenChanged, NodeCreated, NodeDataChanged,
    NodeDeleted, PersistentWatchRemoved,
};

fn fire(reg: &mut WatchRegistry, path: &str, event: EventType) -> Vec<WatcherId> {
    reg.trigger(path, event).0
}

/// No index may keep an empty entry or a stale count behind.
fn assert_clean(reg: &WatchRegistry) {
    for t in [&reg.data, &reg.child] {
        assert!(t
            .by_path
            .values()
            .all(|ws| !ws.is_empty() && ws.values().all(|m| *m != 0)));
        assert!(t.by_watcher.values().all(|ps| !ps.is_empty()));
        let from_paths: usize = t.by_path.values().map(HashMap::len).sum();
        let from_watchers: usize = t.by_watcher.values().map(HashSet::len).sum();
        assert_eq!(from_paths, from_watchers);
        let rec = t
            .by_path
            .values()
            .flat_map(|ws| ws.values())
            .filter(|m| **m & RECURSIVE != 0);
        assert_eq!(rec.count(), t.recursive);
    }
}

#[test]
fn event_carries_sync_connected_type_and_path() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 7, WatchKind::Data);
    let events = reg.trigger("/a", NodeDataChanged);
    assert_eq!(
        events,
        (
            vec![7],
            WatchedEvent {
                event_type: NodeDataChanged,
                state: KeeperState::SyncConnected,
                path: "/a".into()
            }
        )
    );
}

#[test]
fn data_watch_is_one_shot_for_created_and_changed() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Data);
    assert_eq!(fire(&mut reg, "/a", NodeCreated), vec![1]);
    assert!(fire(&mut reg, "/a", NodeCreated).is_empty());
    reg.add("/a", 1, WatchKind::Data);
    assert_eq!(fire(&mut reg, "/a", NodeDataChanged), vec![1]);
    assert!(fire(&mut reg, "/a", NodeDataChanged).is_empty());
    assert!(reg.is_empty());
    assert_clean(&reg);
}

#[test]
fn data_watch_ignores_children_changed_and_other_paths() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Data);
    assert!(fire(&mut reg, "/a", NodeChildrenChanged).is_empty());
    assert!(fire(&mut reg, "/a/b", NodeCreated).is_empty());
    assert!(fire(&mut reg, "/", NodeDataChanged).is_empty());
    assert!(reg.contains("/a", 1, WatcherType::Data));
}

#[test]
fn child_watch_fires_on_children_changed_and_deleted_only() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Child);
    assert!(fire(&mut reg, "/a", NodeDataChanged).is_empty());
    assert!(fire(&mut reg, "/a", NodeCreated).is_empty());
    assert_eq!(fire(&mut reg, "/a", NodeChildrenChanged), vec![1]);
    assert!(fire(&mut reg, "/a", NodeChildrenChanged).is_empty());
    reg.add("/a", 1, WatchKind::Child);
    assert_eq!(fire(&mut reg, "/a", NodeDeleted), vec![1]);
    assert!(reg.is_empty());
    assert_clean(&reg);
}

#[test]
fn deleted_reaches_each_watcher_once() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Data);
    reg.add("/a", 1, WatchKind::Child);
    reg.add("/a", 1, WatchKind::Persistent);
    reg.add("/a", 1, WatchKind::PersistentRecursive);
    reg.add("/a", 2, WatchKind::Child);
    reg.add("/", 3, WatchKind::PersistentRecursive);
    let (who, event) = reg.trigger("/a", NodeDeleted);
    assert_eq!(who, vec![1, 2, 3]);
    assert!(event.event_type == NodeDeleted && event.path == "/a");
    // Both one-shots of watcher 1 are spent; its persistent modes stay.
    assert!(!reg.contains("/a", 1, WatcherType::Data));
    assert!(!reg.contains("/a", 1, WatcherType::Children));
    assert!(reg.contains("/a", 1, WatcherType::Persistent));
    assert!(reg.contains("/a", 1, WatcherType::PersistentRecursive));
    assert!(!reg.contains("/a", 2, WatcherType::Any));
    assert_clean(&reg);
}

#[test]
fn persistent_watch_fires_for_all_events_on_its_path_and_survives() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Persistent);
    for _ in 0..2 {
        for ev in [
            NodeCreated,
            NodeDataChanged,
            NodeChildrenChanged,
            NodeDeleted,
        ] {
            assert_eq!(fire(&mut reg, "/a", ev), vec![1], "{ev:?}");
        }
    }
    assert!(fire(&mut reg, "/a/b", NodeCreated).is_empty());
    assert!(fire(&mut reg, "/", NodeChildrenChanged).is_empty());
    assert!(reg.contains("/a", 1, WatcherType::Persistent));
}

#[test]
fn recursive_watch_sees_path_and_descendants_but_never_children_changed() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::PersistentRecursive);
    for ev in [NodeCreated, NodeDataChanged, NodeDeleted] {
        assert_eq!(fire(&mut reg, "/a", ev), vec![1], "{ev:?}");
        assert_eq!(fire(&mut reg, "/a/b", ev), vec![1], "{ev:?}");
        assert_eq!(fire(&mut reg, "/a/b/c/d", ev), vec![1], "{ev:?}");
    }
    assert!(fire(&mut reg, "/a", NodeChildrenChanged).is_empty());
    assert!(fire(&mut reg, "/a/b", NodeChildrenChanged).is_empty());
    // Siblings sharing a prefix are not descendants.
    assert!(fire(&mut reg, "/ab", NodeCreated).is_empty());
    assert!(fire(&mut reg, "/", NodeDataChanged).is_empty());
    assert!(reg.contains("/a", 1, WatcherType::PersistentRecursive));
}

#[test]
fn recursive_watch_on_root_sees_everything() {
    let mut reg = WatchRegistry::new();
    reg.add("/", 4, WatchKind::PersistentRecursive);
    assert_eq!(fire(&mut reg, "/", NodeDataChanged), vec![4]);
    assert_eq!(fire(&mut reg, "/x", NodeCreated), vec![4]);
    assert_eq!(fire(&mut reg, "/x/y/z", NodeDeleted), vec![4]);
    assert!(fire(&mut reg, "/x", NodeChildrenChanged).is_empty());
}

#[test]
fn ancestor_one_shot_and_persistent_watches_do_not_see_descendants() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Data);
    reg.add("/a", 2, WatchKind::Persistent);
    reg.add("/", 3, WatchKind::PersistentRecursive); // forces the ancestor walk
    assert_eq!(fire(&mut reg, "/a/b", NodeCreated), vec![3]);
    assert!(reg.contains("/a", 1, WatcherType::Data));
}

#[test]
fn standard_and_persistent_on_same_path_coexist() {
    let mut reg = WatchRegistry::new();
    assert!(reg.add("/a", 1, WatchKind::Data));
    assert!(reg.add("/a", 1, WatchKind::Persistent));
    assert!(!reg.add("/a", 1, WatchKind::Persistent));
    assert!(!reg.add("/a", 1, WatchKind::Data));
    assert_eq!(fire(&mut reg, "/a", NodeDataChanged), vec![1]);
    assert!(!reg.contains("/a", 1, WatcherType::Data));
    assert!(reg.contains("/a", 1, WatcherType::Persistent));
    assert_eq!(fire(&mut reg, "/a", NodeDataChanged), vec![1]);
    assert_clean(&reg);
}

#[test]
fn exists_watch_on_missing_node_fires_on_create() {
    // The server registers exists-watches in the data table either way.
    let mut reg = WatchRegistry::new();
    reg.add("/missing", 9, WatchKind::Data);
    assert_eq!(fire(&mut reg, "/missing", NodeCreated), vec![9]);
}

#[test]
fn create_and_delete_as_datatree_calls_them() {
    let mut reg = WatchRegistry::new();
    reg.add("/p", 1, WatchKind::Child);
    reg.add("/p/c", 2, WatchKind::Data);
    reg.add("/p", 3, WatchKind::PersistentRecursive);
    reg.add("/p", 4, WatchKind::Persistent);
    // create /p/c
    assert_eq!(fire(&mut reg, "/p/c", NodeCreated), vec![2, 3]);
    assert_eq!(fire(&mut reg, "/p", NodeChildrenChanged), vec![1, 4]);
    // delete /p/c
    assert_eq!(fire(&mut reg, "/p/c", NodeDeleted), vec![3]);
    assert_eq!(fire(&mut reg, "/p", NodeChildrenChanged), vec![4]);
}

#[test]
fn many_watchers_are_sorted_and_unique() {
    let mut reg = WatchRegistry::new();
    for w in [5, 3, 9, 1] {
        reg.add("/a/b", w, WatchKind::Data);
        reg.add("/a", w, WatchKind::PersistentRecursive);
    }
    assert_eq!(fire(&mut reg, "/a/b", NodeDataChanged), vec![1, 3, 5, 9]);
}

#[test]
fn untriggered_event_types_notify_nobody() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Persistent);
    reg.add("/a", 1, WatchKind::Data);
    for ev in [
        EventType::None,
        DataWatchRemoved,
        ChildWatchRemoved,
        PersistentWatchRemoved,
    ] {
        assert!(fire(&mut reg, "/a", ev).is_empty());
    }
    assert!(reg.contains("/a", 1, WatcherType::Data));
}

#[test]
fn remove_by_type() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Data);
    reg.add("/a", 1, WatchKind::Child);
    assert!(reg.remove("/a", 1, WatcherType::Children));
    assert!(!reg.remove("/a", 1, WatcherType::Children));
    assert!(reg.contains("/a", 1, WatcherType::Data));
    assert!(!reg.remove("/a", 1, WatcherType::Persistent));
    assert!(!reg.remove("/a", 1, WatcherType::PersistentRecursive));
    assert!(reg.remove("/a", 1, WatcherType::Data));
    assert!(!reg.remove("/a", 1, WatcherType::Data));
    assert!(!reg.remove("/a", 1, WatcherType::Any));
    assert!(reg.is_empty());

    reg.add("/a", 1, WatchKind::Persistent);
    reg.add("/a", 1, WatchKind::PersistentRecursive);
    assert!(reg.remove("/a", 1, WatcherType::Persistent));
    assert!(!reg.contains("/a", 1, WatcherType::Persistent));
    assert!(reg.contains("/a", 1, WatcherType::PersistentRecursive));
    assert!(fire(&mut reg, "/a", NodeChildrenChanged).is_empty());
    assert!(reg.remove("/a", 1, WatcherType::PersistentRecursive));
    assert!(reg.is_empty());
    assert_eq!(reg.data.recursive, 0);

    // Removing one watcher's watch leaves another's.
    reg.add("/a", 1, WatchKind::Data);
    reg.add("/a", 2, WatchKind::Data);
    assert!(reg.remove("/a", 1, WatcherType::Data));
    assert!(!reg.remove("/b", 2, WatcherType::Data));
    assert_eq!(fire(&mut reg, "/a", NodeDataChanged), vec![2]);
    assert_clean(&reg);
}

#[test]
fn remove_any_drops_every_mode_in_both_tables() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Data);
    reg.add("/a", 1, WatchKind::Child);
    reg.add("/a", 1, WatchKind::Persistent);
    reg.add("/a", 1, WatchKind::PersistentRecursive);
    reg.add("/a", 2, WatchKind::Child);
    assert!(reg.remove("/a", 1, WatcherType::Any));
    assert!(!reg.contains("/a", 1, WatcherType::Any));
    assert!(reg.contains("/a", 2, WatcherType::Children));
    assert_eq!(reg.data.recursive, 0);
    assert!(fire(&mut reg, "/a/b", NodeCreated).is_empty());
    assert_clean(&reg);
    // Any also matches a child-only watch.
    assert!(reg.remove("/a", 2, WatcherType::Any));
    assert!(reg.is_empty());
}

#[test]
fn contains_by_type() {
    let mut reg = WatchRegistry::new();
    reg.add("/d", 1, WatchKind::Data);
    reg.add("/c", 1, WatchKind::Child);
    reg.add("/p", 1, WatchKind::Persistent);
    reg.add("/r", 1, WatchKind::PersistentRecursive);
    use WatcherType as T;
    let table = [
        ("/d", [true, false, true, false, false]),
        ("/c", [false, true, true, false, false]),
        ("/p", [false, false, true, true, false]),
        ("/r", [false, false, true, false, true]),
        ("/x", [false, false, false, false, false]),
    ];
    for (path, expect) in table {
        let got = [
            T::Data,
            T::Children,
            T::Any,
            T::Persistent,
            T::PersistentRecursive,
        ]
        .map(|t| reg.contains(path, 1, t));
        assert_eq!(got, expect, "{path}");
    }
    assert!(!reg.contains("/d", 2, T::Any));
}

#[test]
fn remove_watcher_cleans_everything_of_that_watcher() {
    let mut reg = WatchRegistry::new();
    for p in ["/a", "/a/b", "/c"] {
        reg.add(p, 1, WatchKind::Data);
        reg.add(p, 1, WatchKind::Child);
        reg.add(p, 1, WatchKind::Persistent);
        reg.add(p, 1, WatchKind::PersistentRecursive);
    }
    reg.add("/a", 2, WatchKind::Data);
    reg.remove_watcher(1);
    assert_clean(&reg);
    assert_eq!(reg.data.recursive, 0);
    assert!(reg.child.by_path.is_empty());
    assert_eq!(reg.by_path(), BTreeMap::from([("/a".to_string(), vec![2])]));
    assert_eq!(reg.count(), 1);
    assert!(fire(&mut reg, "/a/b", NodeCreated).is_empty());
    reg.remove_watcher(2);
    reg.remove_watcher(3); // unknown: a no-op
    assert!(reg.is_empty());
    assert!(reg.data.by_watcher.is_empty() && reg.child.by_watcher.is_empty());
}

#[test]
fn fired_one_shots_leave_no_empty_entries() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Data);
    reg.add("/a", 2, WatchKind::Data);
    reg.add("/b", 1, WatchKind::Child);
    fire(&mut reg, "/a", NodeDeleted);
    fire(&mut reg, "/b", NodeDeleted);
    assert!(reg.is_empty());
    assert!(reg.data.by_watcher.is_empty() && reg.child.by_watcher.is_empty());
}

#[test]
fn counts_and_dumps_follow_zookeeper() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::Data);
    reg.add("/a", 1, WatchKind::Persistent); // same data entry, plus a child entry
    reg.add("/b", 1, WatchKind::Child); // child table only
    reg.add("/b", 2, WatchKind::Data);
    reg.add("/c", 2, WatchKind::PersistentRecursive);
    // data: (/a,1) (/b,2) (/c,2); child: (/a,1) (/b,1)
    assert_eq!(reg.count(), 5);
    assert_eq!(reg.paths_count(), 3);
    let s = reg.summary();
    assert_eq!(
        s,
        WatchSummary {
            connections: 2,
            paths: 3,
            watches: 3
        }
    );
    assert_eq!(
        s.to_string(),
        "2 connections watching 3 paths\nTotal watches:3"
    );
    assert_eq!(
        reg.by_watcher(),
        BTreeMap::from([
            (1, vec!["/a".to_string()]),
            (2, vec!["/b".into(), "/c".into()])
        ])
    );
    assert_eq!(
        reg.by_path(),
        BTreeMap::from([
            ("/a".to_string(), vec![1]),
            ("/b".into(), vec![2]),
            ("/c".into(), vec![2])
        ])
    );
    assert_eq!(
        WatchRegistry::new().summary().to_string(),
        "0 connections watching 0 paths\nTotal watches:0"
    );
}

#[test]
fn watcher_type_and_add_watch_mode_codes() {
    for c in 1..=5 {
        assert_eq!(WatcherType::from_code(c).unwrap().code(), c);
    }
    assert!(WatcherType::from_code(0).is_none() && WatcherType::from_code(6).is_none());
    assert_eq!(
        WatchKind::from_add_watch_mode(0),
        Some(WatchKind::Persistent)
    );
    assert_eq!(
        WatchKind::from_add_watch_mode(1),
        Some(WatchKind::PersistentRecursive)
    );
    assert_eq!(WatchKind::from_add_watch_mode(2), None);
}

#[test]
fn parent_walk() {
    assert_eq!(parent_of("/"), None);
    assert_eq!(parent_of("/a"), Some("/"));
    assert_eq!(parent_of("/a/b/c"), Some("/a/b"));
}

#[test]
fn recursive_count_tracks_adds_fires_and_removes() {
    let mut reg = WatchRegistry::new();
    reg.add("/a", 1, WatchKind::PersistentRecursive);
    reg.add("/a", 1, WatchKind::PersistentRecursive);
    reg.add("/a", 1, WatchKind::Data);
    assert_eq!(reg.data.recursive, 1);
    fire(&mut reg, "/a", NodeDeleted);
    assert_eq!(reg.data.recursive, 1);
    reg.remove("/a", 1, WatcherType::PersistentRecursive);
    assert_eq!(reg.data.recursive, 0);
    assert_clean(&reg);
}
