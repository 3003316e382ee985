//! `zkrs import`: reads an Apache ZooKeeper 3.4–3.9 dataDir (the newest
//! snapshot whose checksum verifies, then every logged transaction after
//! it) and writes the result as a zkrs member's first snapshot, zxids kept.
//!
//! It owns ZooKeeper's on-disk formats and nothing else: it never starts a
//! member, and it writes only into an empty target, at the very end, so a
//! refused or failed import changes nothing.

mod compressed;
mod image;
mod jute;
mod snap;
mod target;
mod txnlog;

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::config::Config;
use crate::state::{Session, ZkState};
use crate::tree::{DataTree, NodeRecord};
use crate::Error;
pub use image::{Image, TxnHeader, ZNode, ZkTxn};
pub use target::TargetDirs;

/// What an import loaded and wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub snapshot: PathBuf,
    pub snapshot_zxid: i64,
    pub txns_replayed: usize,
    pub znodes: usize,
    pub sessions: usize,
    pub last_zxid: i64,
    /// The zkrs snapshot written.
    pub written: PathBuf,
}

/// Where ZooKeeper kept its files: dataDir, and dataLogDir when that was
/// set apart (`None`: the logs are in dataDir too).
pub struct ZkDirs<'a> {
    pub data_dir: &'a Path,
    pub data_log_dir: Option<&'a Path>,
}

/// What `import` reports as it goes.
pub enum Step<'a> {
    /// A step done, or something skipped: a line for the operator.
    Note(&'a str),
    /// Reading and checking this snapshot file.
    LoadingSnapshot(&'a Path),
    /// Replaying transaction logs: `done` of `total` files.
    Replaying { done: usize, total: usize },
}

/// Imports ZooKeeper's data into the member `config` describes.
/// `progress` hears each step.
pub fn import(
    zk: ZkDirs,
    config: &Config,
    progress: &mut dyn FnMut(Step),
) -> Result<Summary, Error> {
    let target = TargetDirs::of(config)?;
    target.check_empty()?;
    let dir = version2(zk.data_dir);
    let log_dir = zk.data_log_dir.map_or_else(|| dir.clone(), version2);
    let (snapshot, snapshot_zxid, mut image) = load_snapshot(&dir, progress)?;
    note(
        progress,
        &format!(
            "loaded {} znodes, {} sessions from {}",
            image.nodes.len(),
            image.sessions.len(),
            snapshot.display()
        ),
    );
    let txns_replayed = replay_logs(&log_dir, &mut image, progress)?;
    note(progress, &format!("replayed {txns_replayed} transactions"));
    let orphans = image.drop_orphan_ephemerals();
    if orphans > 0 {
        note(
            progress,
            &format!("dropped {orphans} ephemerals of sessions already closed"),
        );
    }
    let state = to_state(image)?;
    let written = target.write(&state)?;
    Ok(Summary {
        snapshot,
        snapshot_zxid,
        txns_replayed,
        znodes: state.tree.node_count(),
        sessions: state.sessions.len(),
        last_zxid: state.last_zxid,
        written,
    })
}

/// ZooKeeper keeps its files in `<dataDir>/version-2`; accept either.
fn version2(dir: &Path) -> PathBuf {
    let inner = dir.join("version-2");
    if inner.is_dir() {
        inner
    } else {
        dir.to_path_buf()
    }
}

/// Files named `<prefix>.<hex zxid>[.suffix]`, by zxid, oldest first.
fn files_by_zxid(dir: &Path, prefix: &str) -> Result<Vec<(i64, PathBuf)>, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        let hex = rest.split('.').next().unwrap_or("");
        if let Ok(zxid) = i64::from_str_radix(hex, 16) {
            out.push((zxid, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The newest snapshot that parses and whose checksums verify; older ones
/// are tried when it does not, as ZooKeeper does.
fn load_snapshot(
    dir: &Path,
    progress: &mut dyn FnMut(Step),
) -> Result<(PathBuf, i64, Image), Error> {
    let snaps = files_by_zxid(dir, "snapshot")?;
    if snaps.is_empty() {
        return Err(Error::Config(format!(
            "no ZooKeeper snapshot in {}",
            dir.display()
        )));
    }
    for (zxid, path) in snaps.into_iter().rev() {
        progress(Step::LoadingSnapshot(&path));
        // A stream that does not decompress is corrupt, as a bad checksum.
        let parsed = match compressed::snapshot_bytes(&path) {
            Ok(bytes) => snap::parse_snapshot(&bytes).map_err(|e| e.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(e.to_string()),
            Err(e) => return Err(e.into()),
        };
        match parsed {
            Ok(mut image) => {
                image.last_zxid = zxid;
                return Ok((path, zxid, image));
            }
            Err(why) => note(
                progress,
                &format!("skipping corrupt {}: {why}", path.display()),
            ),
        }
    }
    Err(Error::Io(format!(
        "no valid ZooKeeper snapshot in {}",
        dir.display()
    )))
}

/// Applies every logged txn above the image's zxid. Logs are read from
/// the newest one starting at or before that zxid (it may hold later
/// txns too). A torn record ends its file, as in ZooKeeper.
fn replay_logs(
    dir: &Path,
    image: &mut Image,
    progress: &mut dyn FnMut(Step),
) -> Result<usize, Error> {
    let logs = files_by_zxid(dir, "log")?;
    let first = logs
        .iter()
        .rposition(|(start, _)| *start <= image.last_zxid)
        .unwrap_or(0);
    if logs.is_empty() {
        note(
            progress,
            &format!("no transaction logs in {}", dir.display()),
        );
    }
    let (mut replayed, mut ignored) = (0, 0);
    let total = logs.len() - first;
    for (done, (_, path)) in logs[first..].iter().enumerate() {
        progress(Step::Replaying { done, total });
        let bytes = std::fs::read(path)?;
        let log = txnlog::parse_log(&bytes).map_err(|why| {
            Error::Io(format!("corrupt transaction log {}: {why}", path.display()))
        })?;
        for (hdr, txn) in &log.entries {
            if hdr.zxid > image.last_zxid {
                check_follows(image.last_zxid, hdr.zxid, path)?;
                ignored += usize::from(!image.apply(hdr, txn));
                replayed += 1;
            }
        }
        if let Some(at) = log.torn_at {
            note(
                progress,
                &format!("{}: torn record at byte {at}, ignored", path.display()),
            );
        }
        note(
            progress,
            &format!(
                "{}: {} txns, now at zxid {:#x}",
                path.display(),
                log.entries.len(),
                image.last_zxid
            ),
        );
    }
    if ignored > 0 {
        // Expected near the snapshot: ZooKeeper's snapshots are fuzzy, so
        // some txns after its zxid are already in it.
        note(
            progress,
            &format!("{ignored} txns changed nothing (already in the snapshot)"),
        );
    }
    Ok(replayed)
}

fn note(progress: &mut dyn FnMut(Step), line: &str) {
    progress(Step::Note(line));
}

/// Within an epoch (the high 32 bits) ZooKeeper numbers txns one by one; a
/// gap means a log file is missing (purged, or another dataLogDir), and
/// importing past it would silently lose writes.
fn check_follows(last: i64, next: i64, file: &Path) -> Result<(), Error> {
    let new_epoch = (next >> 32) > (last >> 32);
    if new_epoch || next == last + 1 {
        return Ok(());
    }
    Err(Error::Io(format!(
        "transaction log gap in {}: zxid {next:#x} follows {last:#x}; a log file is missing",
        file.display()
    )))
}

/// The zkrs state holding exactly the image: every node's data, ACL and
/// persisted stat, and each open session with the password ZooKeeper's
/// clients hold for it.
fn to_state(mut image: Image) -> Result<ZkState, Error> {
    add_config_node(&mut image);
    let records = image.nodes.into_iter().map(|(path, n)| NodeRecord {
        path,
        data: n.data.map(Bytes::from),
        acl: n.acl,
        stat: n.stat,
    });
    let tree = DataTree::from_records(records)?;
    let sessions = image
        .sessions
        .iter()
        .map(|(id, timeout)| (*id, imported_session(*id, *timeout)))
        .collect();
    Ok(ZkState {
        tree,
        sessions,
        last_zxid: image.last_zxid,
        last_time: image.last_time,
    })
}

/// ZooKeeper 3.4 had no `/zookeeper/config`; zkrs always has one, shaped
/// as a fresh tree's.
fn add_config_node(image: &mut Image) {
    let present = image.nodes.contains_key(crate::state::CONFIG_NODE);
    if present || !image.nodes.contains_key("/zookeeper") {
        return;
    }
    let (_, stat) = DataTree::new()
        .get_acl(crate::state::CONFIG_NODE)
        .expect("a fresh tree has it");
    let node = ZNode {
        data: Some(Vec::new()),
        acl: crate::Acl::read_unsafe(),
        stat: crate::tree::StatPersisted {
            aversion: stat.aversion,
            ..Default::default()
        },
    };
    image.insert(crate::state::CONFIG_NODE.to_string(), node);
}

/// ZooKeeper stores no password: it derives it from the session id
/// (`ZooKeeperServer.generatePasswd`). Owner 0 is no member, so the first
/// member a client resumes on claims it.
fn imported_session(id: i64, timeout: i32) -> Session {
    Session {
        timeout,
        passwd: java_random_bytes(id ^ 0xB341_5C00, 16),
        owner: 0,
    }
}

/// `new java.util.Random(seed).nextBytes(new byte[len])`.
fn java_random_bytes(seed: i64, len: usize) -> Vec<u8> {
    const MULT: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;
    let mut s = (seed as u64 ^ MULT) & MASK;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        s = (s.wrapping_mul(MULT).wrapping_add(0xB)) & MASK;
        let mut word = (s >> 16) as u32;
        for _ in 0..(len - out.len()).min(4) {
            out.push(word as u8);
            word >>= 8;
        }
    }
    out
}

#[cfg(test)]
mod tests;
