//! openraft's state machine traits over the member's [`Applier`]. Snapshots
//! are exact at their last log index: the applier hands over a copy-on-write
//! clone of the state, which is encoded off the apply path and written to a
//! checksummed file; old files beyond the retain count are purged.

use std::io;
use std::sync::{Arc, Mutex};

use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::type_config::alias::{LogIdOf, SnapshotMetaOf, SnapshotOf, StoredMembershipOf};
use openraft::{EntryPayload, OptionalSend};
use serde::{Deserialize, Serialize};

use super::forward::Outbox;
use super::log_store::decode;
use super::{Applier, StorageOptions, Timed, TypeConfig};
use crate::state::ZkState;
use crate::storage::{Abandon, SnapshotBody, SnapshotFile, SnapshotStore};
use crate::types::Zxid;
use crate::Error;

type C = TypeConfig;

/// Body layout 1 (read only): the meta and the encoded state as one value,
/// which needs the whole encoded state in memory before the file is written.
#[derive(Serialize, Deserialize)]
struct SnapshotBodyV1 {
    meta: SnapshotMetaOf<C>,
    /// As bytes, not a sequence of u8: the same encoding, decoded in one
    /// copy instead of one call per byte.
    #[serde(with = "serde_bytes")]
    state: Vec<u8>,
}

/// Body layout 2: the encoded meta, then the encoded state, streamed.
const BODY_V2: u32 = 2;
/// Body layout 3: as 2, with null data kept apart from empty in the state.
const BODY_V3: u32 = 3;

/// A snapshot's state as openraft hands it around: a file this member
/// wrote, or the encoded state (read to send, or received).
pub enum SnapshotData {
    File(SnapshotFile),
    Encoded(Vec<u8>),
}

impl SnapshotData {
    /// The encoded state, read from disk if need be.
    pub(crate) fn into_encoded(self) -> io::Result<Vec<u8>> {
        match self {
            SnapshotData::Encoded(bytes) => Ok(bytes),
            SnapshotData::File(file) => {
                split_body(file.read()?).map(|(_, state)| state.into_state())
            }
        }
    }
}

/// A snapshot body's meta and encoded state.
fn split_body(read: SnapshotBody) -> io::Result<(SnapshotMetaOf<C>, Body)> {
    if read.format < BODY_V2 {
        let v1: SnapshotBodyV1 = decode(read.body())?;
        return Ok((v1.meta, Body::Owned(v1.state)));
    }
    let (meta, used) = bincode::serde::decode_from_slice(read.body(), bincode::config::standard())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let body = Body::Mapped {
        file: read,
        state_at: used,
    };
    Ok((meta, body))
}

/// A snapshot's encoded state: in the mapped file after the meta (read in
/// place, so loading copies nothing), or a copy of its own (layout 1
/// stored it as one value).
enum Body {
    Mapped { file: SnapshotBody, state_at: usize },
    Owned(Vec<u8>),
}

impl Body {
    fn state(&self) -> &[u8] {
        match self {
            Body::Mapped { file, state_at } => &file.body()[*state_at..],
            Body::Owned(bytes) => bytes,
        }
    }

    /// The encoded state alone, to send.
    fn into_state(self) -> Vec<u8> {
        match self {
            Body::Mapped { file, state_at } => file.into_body_from(state_at),
            Body::Owned(bytes) => bytes,
        }
    }
}

/// The state of a snapshot body of layout `format`.
fn decode_state(format: u32, encoded: &[u8]) -> io::Result<ZkState> {
    if format < BODY_V3 {
        let old: crate::state::ZkStateNonNull = decode(encoded)?;
        return ZkState::try_from(old).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
    }
    decode(encoded)
}

fn encode_state(state: &ZkState, w: &mut dyn io::Write) -> io::Result<()> {
    // bincode writes each field on its own: into a buffer of a known type
    // that is an inlined copy, where each write to `w` is a dynamic call.
    let mut w = io::BufWriter::with_capacity(64 << 10, w);
    bincode::serde::encode_into_std_write(state, &mut w, bincode::config::standard())
        .map_err(io::Error::other)?;
    io::Write::flush(&mut w)
}

/// Writes `state` as a member's first snapshot (`zkrs import`): its log
/// index is `state.last_zxid`, so the log continues above it and every
/// later write gets a higher zxid; its membership is `voters` (id, peer
/// spec; an empty spec for a standalone member), as `initialize` would
/// record them, so the member starts initialized. Every member of an
/// ensemble seeded from the same state gets the same file: the log id
/// names the lowest voter as its leader, in term 0, below any election.
pub fn write_seed_snapshot(
    snapshot_dir: &std::path::Path,
    state: &ZkState,
    voters: &[(u64, String)],
) -> Result<std::path::PathBuf, Error> {
    use std::collections::{BTreeMap, BTreeSet};
    let index =
        u64::try_from(state.last_zxid).map_err(|_| Error::Config("a negative last zxid".into()))?;
    let first = voters.iter().map(|(id, _)| *id).min().unwrap_or(1);
    let log_id = openraft::LogId::new(
        openraft::impls::leader_id_adv::LeaderId {
            term: 0,
            node_id: first,
        },
        index,
    );
    let nodes: BTreeMap<u64, openraft::BasicNode> = voters
        .iter()
        .map(|(id, spec)| (*id, openraft::BasicNode { addr: spec.clone() }))
        .collect();
    let ids: BTreeSet<u64> = nodes.keys().copied().collect();
    let membership = openraft::Membership::new(vec![ids], nodes)
        .map_err(|e| Error::Config(format!("membership: {e}")))?;
    let meta = SnapshotMetaOf::<C> {
        last_log_id: Some(log_id),
        last_membership: StoredMembershipOf::<C>::new(Some(log_id), membership),
    };
    let store = SnapshotStore::open(snapshot_dir)?;
    let file = save_snapshot(&store, &meta, &Abandon::default(), |w| {
        encode_state(state, w)
    })?;
    Ok(file.path)
}

/// What one snapshot file holds, for tools (`zkrs snapshot inspect`).
#[derive(Debug)]
pub struct SnapshotContents {
    /// The body layout (1 to 3).
    pub format: u32,
    /// How the file stores the body.
    pub compression: crate::storage::Compression,
    /// The last log entry it includes (its zxid) and that entry's term.
    pub last_index: u64,
    pub last_term: u64,
    /// The membership it records, as openraft prints it.
    pub membership: String,
    pub state: ZkState,
}

/// Reads and checks a snapshot file (checksum, layout) and decodes it.
pub fn read_snapshot_file(path: &std::path::Path) -> io::Result<SnapshotContents> {
    let file = SnapshotFile {
        index: 0,
        path: path.to_path_buf(),
    };
    let read = file.read()?;
    let (format, compression) = (read.format, read.compression);
    let (meta, encoded) = split_body(read)?;
    let state = decode_state(format, encoded.state())?;
    let last = meta.last_log_id.as_ref();
    Ok(SnapshotContents {
        format,
        compression,
        last_index: last.map_or(0, |l| l.index),
        last_term: last.map_or(0, |l| l.committed_leader_id().term),
        membership: format!("{}", meta.last_membership.membership()),
        state,
    })
}

/// Writes `meta`, then the state that `state` writes, into a snapshot file.
/// Stops with an error once `abandon` is set.
fn save_snapshot(
    store: &SnapshotStore,
    meta: &SnapshotMetaOf<C>,
    abandon: &Abandon,
    state: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> io::Result<SnapshotFile> {
    let index = meta.last_log_id.as_ref().map(|l| l.index).unwrap_or(0);
    store.save_unless(index, BODY_V3, abandon, |w| {
        bincode::serde::encode_into_std_write(meta, &mut &mut *w, bincode::config::standard())
            .map_err(io::Error::other)?;
        state(w)
    })
}

/// Logs that a slow step is still running, once a second after its first
/// second, and how long it took in the end: a member loading a large
/// snapshot says so instead of looking hung.
struct SlowNotice {
    done: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SlowNotice {
    fn start(what: &'static str) -> SlowNotice {
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let started = std::time::Instant::now();
        let thread = std::thread::spawn(move || {
            let second = std::time::Duration::from_secs(1);
            let mut slow = false;
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(second) {
                slow = true;
                tracing::info!("{what}: {}s so far", started.elapsed().as_secs());
            }
            if slow {
                tracing::info!("{what}: done in {:.1?}", started.elapsed());
            }
        });
        SlowNotice {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for SlowNotice {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Progress {
    last_applied: Option<LogIdOf<C>>,
    membership: StoredMembershipOf<C>,
}

/// A snapshot file and its meta.
type Newest = (SnapshotMetaOf<C>, SnapshotFile);

/// The state machine handle openraft drives.
#[derive(Clone)]
pub struct StateMachine {
    applier: Arc<dyn Applier>,
    /// This member's forwarded writes, answered from the apply if their
    /// leader's reply was lost.
    outbox: Arc<Outbox>,
    progress: Arc<Mutex<Progress>>,
    /// The newest snapshot on disk and its meta, kept so that openraft's
    /// asking for it (at start-up, and to send one) reads no file.
    newest: Arc<Mutex<Option<Newest>>>,
    snapshots: SnapshotStore,
    retain: usize,
}

impl StateMachine {
    /// The index of the last entry applied (at start-up: the snapshot's).
    pub(super) fn applied_index(&self) -> Option<u64> {
        self.progress().last_applied.map(|id| id.index)
    }

    /// Opens the snapshot directory and restores the newest snapshot into
    /// the applier; openraft then replays the log after it.
    pub(crate) fn open(
        opts: &StorageOptions,
        applier: Arc<dyn Applier>,
        outbox: Arc<Outbox>,
    ) -> Result<StateMachine, Error> {
        let snapshots =
            SnapshotStore::open(&opts.snapshot_dir)?.compressing(opts.snapshot_compression);
        snapshots.remove_unfinished()?;
        let mut progress = Progress {
            last_applied: None,
            membership: Default::default(),
        };
        let loading = SlowNotice::start("loading the newest snapshot");
        let started = std::time::Instant::now();
        let mut newest = None;
        if let Some((mut file, read)) = snapshots.latest()? {
            let format = read.format;
            let (meta, encoded) = split_body(read)?;
            let state = decode_state(format, encoded.state())?;
            tracing::info!(
                "restored snapshot {} (zxid {:#x})",
                file.path.display(),
                state.last_zxid
            );
            if format < BODY_V3 {
                // Rewritten at once: this member sends its newest file to
                // followers as is, and they read only the current layout.
                drop(encoded);
                let never = Abandon::default();
                file = save_snapshot(&snapshots, &meta, &never, |w| encode_state(&state, w))?;
            }
            newest = Some((meta.clone(), file));
            applier.restore(state);
            applier.timed(Timed::StartupSnapshotLoad, started.elapsed());
            if let Some(id) = &meta.last_log_id {
                outbox.applied.reached(id.index);
            }
            progress.last_applied = meta.last_log_id;
            progress.membership = meta.last_membership;
        }
        drop(loading);
        Ok(StateMachine {
            applier,
            outbox,
            progress: Arc::new(Mutex::new(progress)),
            newest: Arc::new(Mutex::new(newest)),
            snapshots,
            retain: opts.snap_retain_count.max(1),
        })
    }

    /// Records `file` as the newest snapshot unless a newer one is known.
    fn keep_newest(&self, meta: &SnapshotMetaOf<C>, file: &SnapshotFile) {
        let mut newest = crate::lock(&self.newest);
        if newest
            .as_ref()
            .is_none_or(|(_, known)| known.index <= file.index)
        {
            *newest = Some((meta.clone(), file.clone()));
        }
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        crate::lock(&self.progress)
    }
}

/// Puts the calling thread (a snapshot's own) behind every other thread
/// for the CPU. A snapshot of a large tree takes a core for a second or
/// more; at normal priority it took its fair share from the threads that
/// serve requests, which wait on one another, and creates under load ran
/// 5-8% slower. SCHED_IDLE still gets a small share of busy cores, so a
/// snapshot finishes under any load.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` outlives the call.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0 {
            let e = io::Error::last_os_error();
            tracing::debug!("snapshot thread keeps its priority: {e}");
        }
    }
}

impl RaftSnapshotBuilder<C> for StateMachine {
    type SnapshotData = SnapshotData;

    async fn build_snapshot(&mut self) -> Result<SnapshotOf<C, SnapshotData>, io::Error> {
        // The progress lock is held while cloning so the meta and the state
        // describe the same log index.
        let (meta, state) = {
            let p = self.progress();
            let meta = SnapshotMetaOf::<C> {
                last_log_id: p.last_applied,
                last_membership: p.membership.clone(),
            };
            (meta, self.applier.snapshot())
        };
        let store = self.snapshots.clone();
        let retain = self.retain;
        let meta2 = meta.clone();
        let started = std::time::Instant::now();
        // A thread of its own, not the blocking pool's: the pool reuses its
        // threads, and a thread cannot take its priority back unprivileged.
        let (done, file) = tokio::sync::oneshot::channel();
        // Dropped with this future: a member that stops (or whose runtime
        // is dropped) while the thread writes stops the thread too.
        let abandon = Abandon::default();
        let _abandon_on_drop = abandon.on_drop();
        std::thread::Builder::new()
            .name("zkrs-snapshot".into())
            .spawn(move || {
                yield_to_requests();
                let file = save_snapshot(&store, &meta2, &abandon, |w| encode_state(&state, w));
                let purged = file.and_then(|f| match abandon.is_set() {
                    true => Ok(f),
                    false => store.purge(retain).map(|_| f),
                });
                let _ = done.send(purged);
            })?;
        let file = file.await.map_err(io::Error::other)??;
        self.applier.timed(Timed::Snapshot, started.elapsed());
        self.keep_newest(&meta, &file);
        Ok(SnapshotOf::<C, _> {
            meta,
            snapshot: SnapshotData::File(file),
        })
    }
}

impl RaftStateMachine<C> for StateMachine {
    type SnapshotData = SnapshotData;
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogIdOf<C>>, StoredMembershipOf<C>), io::Error> {
        let p = self.progress();
        Ok((p.last_applied, p.membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<C>, io::Error>> + Unpin + OptionalSend,
    {
        while let Some((entry, responder)) = entries.try_next().await? {
            let zxid = entry.log_id.index as Zxid;
            let mut p = self.progress();
            p.last_applied = Some(entry.log_id);
            let reply = match &entry.payload {
                EntryPayload::Normal(txn) => {
                    let result = self.applier.apply(zxid, entry.log_id.leader_id.term, txn);
                    self.outbox.applied(zxid, txn, &result);
                    Some(result)
                }
                EntryPayload::Membership(m) => {
                    p.membership = StoredMembershipOf::<C>::new(Some(entry.log_id), m.clone());
                    let voters: std::collections::BTreeSet<u64> = m.voter_ids().collect();
                    let members: Vec<(u64, String, bool)> = m
                        .nodes()
                        .map(|(id, n)| (*id, n.addr.clone(), voters.contains(id)))
                        .collect();
                    let text = super::config_text(&members, zxid);
                    if text.is_empty() {
                        self.applier.advance(zxid);
                    } else {
                        self.applier.config_changed(zxid, text);
                    }
                    None
                }
                EntryPayload::Blank => {
                    self.applier.advance(zxid);
                    None
                }
            };
            drop(p);
            self.outbox.applied.reached(entry.log_id.index);
            if let Some(r) = responder {
                r.send(reply.unwrap_or(crate::state::TxnResult::Session));
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<C>,
        snapshot: SnapshotData,
    ) -> Result<(), io::Error> {
        let encoded = snapshot.into_encoded()?;
        let state: ZkState = decode(&encoded)?;
        let never = Abandon::default();
        let file = save_snapshot(&self.snapshots, meta, &never, |w| w.write_all(&encoded))?;
        drop(encoded);
        self.keep_newest(meta, &file);
        self.applier.restore(state);
        let mut p = self.progress();
        p.last_applied = meta.last_log_id;
        p.membership = meta.last_membership.clone();
        drop(p);
        if let Some(id) = &meta.last_log_id {
            self.outbox.applied.reached(id.index);
        }
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<SnapshotOf<C, SnapshotData>>, io::Error> {
        let newest = crate::lock(&self.newest);
        Ok(newest.as_ref().map(|(meta, file)| SnapshotOf::<C, _> {
            meta: meta.clone(),
            snapshot: SnapshotData::File(file.clone()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(index: u64) -> SnapshotMetaOf<C> {
        SnapshotMetaOf::<C> {
            last_log_id: Some(openraft::LogId::new(
                openraft::impls::leader_id_adv::LeaderId {
                    term: 3,
                    node_id: 1,
                },
                index,
            )),
            last_membership: Default::default(),
        }
    }

    fn state() -> ZkState {
        let mut s = ZkState::new();
        s.last_zxid = 42;
        s.tree
            .create(
                "/a",
                Some(bytes::Bytes::from_static(b"x")),
                &crate::Acl::open_unsafe(),
                crate::CreateMode::Persistent,
                -1,
                0,
                42,
                7,
            )
            .unwrap();
        s
    }

    /// A streamed snapshot reads back as the meta and the state's encoding,
    /// and one written in layout 1 by earlier releases still reads.
    #[test]
    fn streamed_and_layout_1_snapshots_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let encoded = super::super::log_store::encode_any(&state()).unwrap();

        let never = Abandon::default();
        let file = save_snapshot(&store, &meta(10), &never, |w| w.write_all(&encoded)).unwrap();
        let (m, got) = split_body(file.read().unwrap()).unwrap();
        assert_eq!((m, got.state()), (meta(10), &encoded[..]));

        let v1 = SnapshotBodyV1 {
            meta: meta(20),
            state: encoded.clone(),
        };
        let v1 = super::super::log_store::encode_any(&v1).unwrap();
        store.save_with(20, 1, |w| w.write_all(&v1)).unwrap();
        let (file, read) = store.latest().unwrap().unwrap();
        assert_eq!((file.index, read.format), (20, 1));
        let (m, got) = split_body(read).unwrap();
        assert_eq!((m, got.state()), (meta(20), &encoded[..]));
        let restored: ZkState = decode(got.state()).unwrap();
        assert_eq!(restored.tree, state().tree);
        assert_eq!(SnapshotData::File(file).into_encoded().unwrap(), encoded);

        // Compressed: the state to send is taken out of the body unpacked.
        let snappy = crate::storage::Compression::Snappy;
        let packed = SnapshotStore::open(dir.path()).unwrap().compressing(snappy);
        let file = save_snapshot(&packed, &meta(30), &never, |w| w.write_all(&encoded)).unwrap();
        assert_eq!(file.read().unwrap().compression, snappy);
        assert_eq!(SnapshotData::File(file).into_encoded().unwrap(), encoded);
    }

    /// The snapshot thread gives way to every other thread; the threads
    /// serving requests keep their priority.
    #[cfg(target_os = "linux")]
    #[test]
    fn only_the_snapshot_thread_yields() {
        let policy = || unsafe { libc::sched_getscheduler(0) };
        let theirs = std::thread::spawn(move || {
            yield_to_requests();
            policy()
        });
        assert_eq!(theirs.join().unwrap(), libc::SCHED_IDLE);
        assert_eq!(policy(), libc::SCHED_OTHER);
    }
}
