//! Snapshots and purge: with snapCount=50 and snapRetainCount=3, hundreds
//! of writes leave at most three snapshot files, the log is purged up to
//! (near) the newest snapshot, and a restart still recovers exactly.

mod common;

use common::*;
use zkrs::consensus::read_snapshot_file;
use zkrs::proto::{self, Request};
use zkrs::storage::{Compression, DurableLog};
use zkrs::Acl;

/// Sends `n` writes pipelined in windows of `window`, checking every reply.
async fn write_many(c: &mut Conn, n: usize, window: usize) {
    let mut i = 0;
    while i < n {
        let mut xids = Vec::new();
        for _ in 0..window.min(n - i) {
            let req = if i % 4 == 3 {
                Request::SetData(proto::SetDataRequest {
                    path: format!("/s/n{}", i - 1),
                    data: Some(format!("updated {i}").into_bytes()),
                    version: -1,
                })
            } else {
                Request::Create(create_req(
                    &format!("/s/n{i}"),
                    format!("data {i}").as_bytes(),
                    Acl::open_unsafe(),
                    0,
                ))
            };
            xids.push(c.send(&req).await);
            i += 1;
        }
        for xid in xids {
            let f = c.reply(xid).await;
            assert_eq!(f.header.err, 0, "write xid {xid} failed");
        }
    }
}

fn snap_index(name: &str) -> u64 {
    name.strip_prefix("snap-").unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_retained_and_log_is_purged() {
    bounded(90, async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        c.create("/s", b"", 0).await.unwrap();
        write_many(&mut c, 400, 20).await;
        let last = c.server_zxid().await;
        assert!(last >= 400);
        // Snapshots are built in the background; purge follows each save.
        let settled = eventually(20, || async {
            let snaps = snapshot_files(dir.path());
            !snaps.is_empty()
                && snaps.len() <= 3
                && snap_index(snaps.last().unwrap()) + 50 > last as u64
        })
        .await;
        let snaps = snapshot_files(dir.path());
        assert!(
            settled,
            "snapshots did not settle: {snaps:?} (last zxid {last})"
        );
        let before = dump_tree(&mut c).await;
        assert_eq!(before["/s"].children.len(), 300);
        drop(c);
        server.stop().await;

        let snaps = snapshot_files(dir.path());
        assert!(
            (1..=3).contains(&snaps.len()),
            "snapRetainCount=3: {snaps:?}"
        );
        let newest = snap_index(snaps.last().unwrap());
        // The log: entries before the newest snapshot, minus the tail kept
        // for lagging followers (at most snapCount entries), are purged and
        // no longer readable.
        let log_dir = dir.path().join("zkrs").join("log");
        {
            let log = DurableLog::open(&log_dir).unwrap();
            let purged = log.purged().expect("log was never purged").index;
            assert!(
                purged + 50 + 50 >= newest && purged <= newest,
                "purged up to {purged}, newest snapshot {newest}"
            );
            assert!(log.read(1, purged + 1).unwrap_or_default().is_empty());
            let last_in_log = log.last().unwrap().index;
            assert!(last_in_log >= last as u64);
            let kept = log.read(purged + 1, last_in_log + 1).unwrap();
            assert_eq!(kept.len() as u64, last_in_log - purged);
        }

        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        let after = dump_tree(&mut c).await;
        assert_eq!(after.len(), before.len());
        for (path, node) in &before {
            assert_eq!(&after[path], node, "{path} differs after restart");
        }
        // Still consistent after more writes and another restart.
        c.set_data("/s/n0", b"again", -1).await.unwrap();
        drop(c);
        server.stop().await;
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        assert_eq!(c.get_data("/s/n0", false).await.unwrap().0, b"again");
        assert_eq!(c.children("/s").await.unwrap().0.len(), 300);
        drop(c);
        server.stop().await;
    })
    .await
}

/// The method of the newest snapshot in `dir`, once it includes `zxid`.
async fn newest_snapshot_method(dir: &std::path::Path, zxid: i64) -> Compression {
    let snaps = dir.join("zkrs").join("snapshots");
    let newest = || {
        snapshot_files(dir)
            .pop()
            .filter(|s| snap_index(s) + 50 > zxid as u64)
    };
    assert!(eventually(20, || async { newest().is_some() }).await);
    let contents = read_snapshot_file(&snaps.join(newest().unwrap())).unwrap();
    contents.compression
}

/// Snapshots are written as `snapshot.compression.method` says, and a
/// member reads back those written under another setting: snappy, then gz,
/// then none, each restart recovering every znode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_snapshots_survive_a_change_of_method() {
    bounded(120, async {
        let dir = tempfile::tempdir().unwrap();
        let methods = [
            ("snapshot.compression.method=snappy\n", Compression::Snappy),
            (
                "zookeeper.snapshot.compression.method=gz\n",
                Compression::Gzip,
            ),
            ("", Compression::None),
        ];
        let mut before = None;
        for (round, (setting, method)) in methods.into_iter().enumerate() {
            let server = start(dir.path(), setting).await;
            let mut c = Conn::open(server.addr(), 4000).await;
            if let Some(before) = before.take() {
                assert_eq!(dump_tree(&mut c).await, before, "after restart {round}");
            } else {
                c.create("/s", b"", 0).await.unwrap();
            }
            let first = round * 200;
            for i in first..first + 200 {
                let data = format!("value {i} ").repeat(20);
                c.create(&format!("/s/n{i}"), data.as_bytes(), 0)
                    .await
                    .unwrap();
            }
            let last = c.server_zxid().await;
            assert_eq!(newest_snapshot_method(dir.path(), last).await, method);
            before = Some(dump_tree(&mut c).await);
            drop(c);
            server.stop().await;
        }
        let server = start(dir.path(), "").await;
        let mut c = Conn::open(server.addr(), 4000).await;
        assert_eq!(Some(dump_tree(&mut c).await), before);
        assert_eq!(c.children("/s").await.unwrap().0.len(), 600);
        drop(c);
        server.stop().await;
    })
    .await
}
