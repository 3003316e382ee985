use super::*;
use crate::storage::SnapshotStore;

fn config(dir: &Path) -> Config {
    let data = dir.join("zkrs-data");
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!("tickTime=2000\nclientPort=0\ndataDir={}\n", data.display()),
    )
    .unwrap();
    Config::load(&cfg).unwrap()
}

/// A ZooKeeper dataDir: the sample snapshot at zxid 9, the sample log
/// after it (a session, an ephemeral create, a multi setData).
fn zk_dir(dir: &Path) -> PathBuf {
    let v2 = dir.join("zk").join("version-2");
    std::fs::create_dir_all(&v2).unwrap();
    std::fs::write(v2.join("snapshot.9"), snap::tests::sample_snapshot()).unwrap();
    std::fs::write(v2.join("log.a"), txnlog::tests::sample_log().0).unwrap();
    dir.join("zk")
}

fn dirs(data_dir: &Path) -> ZkDirs<'_> {
    ZkDirs {
        data_dir,
        data_log_dir: None,
    }
}

#[test]
fn a_gap_in_the_logs_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let zk = zk_dir(tmp.path());
    // The log now starts at zxid 11: zxid 10 is missing.
    std::fs::rename(
        zk.join("version-2/snapshot.9"),
        zk.join("version-2/snapshot.8"),
    )
    .unwrap();
    let cfg = config(tmp.path());
    let err = import(dirs(&zk), &cfg, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("gap"), "{err}");
    assert_eq!(
        check_follows(0x1_0000_0007, 0x2_0000_0001, Path::new("x")),
        Ok(())
    );
}

#[test]
fn java_random_matches_java() {
    // new Random(0).nextInt() == -1155484576 (0xBB20B460), low byte first.
    assert_eq!(java_random_bytes(0, 4), vec![0x60, 0xB4, 0x20, 0xBB]);
}

#[test]
fn imports_snapshot_and_log_into_a_zkrs_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let summary = import(dirs(&zk_dir(tmp.path())), &cfg, &mut |_| {}).unwrap();
    assert_eq!((summary.snapshot_zxid, summary.last_zxid), (9, 12));
    assert_eq!(summary.txns_replayed, 3);
    let store = SnapshotStore::open(&cfg.data_dir.join("zkrs").join("snapshots")).unwrap();
    let (file, read) = store.latest().unwrap().unwrap();
    assert_eq!((file.index, read.format), (12, 3));
    let body = read.body();
    let (_meta, used): (
        openraft::type_config::alias::SnapshotMetaOf<crate::consensus::TypeConfig>,
        usize,
    ) = bincode::serde::decode_from_slice(body, bincode::config::standard()).unwrap();
    let (state, _): (ZkState, usize) =
        bincode::serde::decode_from_slice(&body[used..], bincode::config::standard()).unwrap();
    assert_eq!(state.last_zxid, 12);
    assert_eq!(state.sessions[&0x77].timeout, 5000);
    let (data, stat) = state.tree.get_data("/b").unwrap();
    assert_eq!(
        (data.as_deref(), stat.version, stat.ephemeral_owner),
        (Some(&b"v"[..]), 1, 0x77)
    );
    assert_eq!(state.tree.get_data("/a").unwrap().0, None);
    // "/" had cversion 3 from the create's parentCVersion.
    assert_eq!(state.tree.stat("/").unwrap().pzxid, 11);
    // No "/zookeeper" in this snapshot: no config node added under it.
    assert!(state.tree.stat(crate::state::CONFIG_NODE).is_none());
}

#[test]
fn refuses_a_target_with_data_and_a_dir_without_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let zk = zk_dir(tmp.path());
    import(dirs(&zk), &cfg, &mut |_| {}).unwrap();
    let snaps = cfg.data_dir.join("zkrs").join("snapshots");
    let before: Vec<_> = std::fs::read_dir(&snaps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let err = import(dirs(&zk), &cfg, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("already holds zkrs data"), "{err}");
    let after: Vec<_> = std::fs::read_dir(&snaps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before, after);

    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let cfg2 = config(&empty);
    let err = import(dirs(&empty), &cfg2, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("no ZooKeeper snapshot"), "{err}");
}

#[test]
fn corrupt_newest_snapshot_falls_back_and_corrupt_log_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let zk = zk_dir(tmp.path());
    let v2 = zk.join("version-2");
    let mut bad = snap::tests::sample_snapshot();
    let at = bad.len() - 19;
    bad[at] ^= 1;
    std::fs::write(v2.join("snapshot.b"), bad).unwrap();
    let cfg = config(tmp.path());
    let summary = import(dirs(&zk), &cfg, &mut |_| {}).unwrap();
    assert_eq!(summary.snapshot_zxid, 9);

    let tmp2 = tempfile::tempdir().unwrap();
    let zk = zk_dir(tmp2.path());
    let log = zk.join("version-2").join("log.a");
    let mut bytes = std::fs::read(&log).unwrap();
    let at = bytes.len() - 3;
    bytes[at] ^= 1;
    std::fs::write(&log, bytes).unwrap();
    let cfg = config(tmp2.path());
    let err = import(dirs(&zk), &cfg, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("checksum"), "{err}");
    assert!(!cfg.data_dir.join("zkrs").exists());
}
