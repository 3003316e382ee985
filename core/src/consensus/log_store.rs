//! openraft's log storage traits over [`storage::DurableLog`]. Entries are
//! stored as bincode bytes; the vote and committed id as raft-log state.
//!
//! Correctness requirements (from openraft): `append` must make entries
//! readable on return and call the callback only once they are fsynced;
//! `save_vote` must be durable before it returns; `truncate_after` and
//! `purge` may be lazy because openraft re-derives both on restart.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, Weak};

use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::type_config::alias::{EntryOf, LogIdOf, VoteOf};
use openraft::{OptionalSend, Vote};

use super::wire::RawEntry;
use super::TypeConfig;
use bytes::Bytes;

use crate::storage::{DurableLog, FlushCallback, GroupCommit, LogId, StoredVote, SyncObserver};
use crate::Error;

type C = TypeConfig;

/// Shared handle: openraft clones readers off the store.
#[derive(Clone)]
pub struct LogStore {
    log: Arc<Mutex<DurableLog>>,
    group: Arc<GroupCommit>,
    recent: Arc<Mutex<Recent>>,
    ahead: Arc<Mutex<Option<Ahead>>>,
    offered: Arc<Mutex<Offered>>,
}

/// Entries kept as appended, with their stored bytes: each new entry is
/// read right away by every replication stream and by apply, which would
/// otherwise decode it from its stored bytes each time, and the leader
/// sends each follower those bytes rather than encoding it again. Clones
/// are cheap (the op and the bytes are shared).
#[derive(Default)]
struct Recent {
    /// Consecutive entries, oldest first.
    entries: VecDeque<(EntryOf<C>, Bytes)>,
}

/// How many appended entries stay decoded.
const RECENT_ENTRIES: usize = 4096;

impl Recent {
    fn first(&self) -> Option<u64> {
        self.entries.front().map(|(e, _)| e.log_id().index)
    }

    fn push(&mut self, e: EntryOf<C>, bytes: Bytes) {
        let next = self.entries.back().map(|(l, _)| l.log_id().index + 1);
        if next.is_some_and(|n| n != e.log_id().index) {
            self.entries.clear();
        }
        if self.entries.len() == RECENT_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back((e, bytes));
    }

    /// Drops entries at and after `index`.
    fn truncate(&mut self, index: u64) {
        let keep = self.first().map_or(0, |f| index.saturating_sub(f) as usize);
        self.entries.truncate(keep);
    }

    /// Entries in `[from, to)` if every one of them is here.
    fn get(&self, from: u64, to: u64) -> Option<Vec<EntryOf<C>>> {
        let first = self.first()?;
        let end = first + self.entries.len() as u64;
        let to = to.min(end);
        if from < first || from > to {
            return None;
        }
        let range = (from - first) as usize..(to - first) as usize;
        Some(self.entries.range(range).map(|(e, _)| e.clone()).collect())
    }

    /// The stored bytes of the entry `id`, if it is here.
    fn encoded(&self, id: &LogIdOf<C>) -> Option<Bytes> {
        let at = id.index.checked_sub(self.first()?)? as usize;
        let (e, bytes) = self.entries.get(at)?;
        (e.log_id() == *id).then(|| bytes.clone())
    }
}

/// Entries as a leader's append carried them, offered by the peer
/// connection before openraft hands them to `append`: a follower stores
/// those bytes rather than encoding each entry again. Kept in index order:
/// an offer replaces whatever was offered from its first index on (after
/// a conflict a leader sends earlier entries again). What is not taken is
/// dropped as later entries are appended, or once the offers hold more
/// than `OFFERED_BYTES`.
#[derive(Default)]
struct Offered {
    entries: VecDeque<RawEntry>,
    /// Their lengths, summed.
    bytes: usize,
}

/// Offered bytes kept at most (each offer also keeps the frame it came
/// in alive). Tiny under test, so tests reach it.
const OFFERED_BYTES: usize = if cfg!(test) { 1 << 10 } else { 64 << 20 };

impl Offered {
    fn offer(&mut self, entries: Vec<RawEntry>) {
        let Some(first) = entries.first().map(|(id, _)| id.index) else {
            return;
        };
        while self.entries.back().is_some_and(|(id, _)| id.index >= first) {
            self.pop(VecDeque::pop_back);
        }
        for e in entries {
            self.bytes += e.1.len();
            self.entries.push_back(e);
        }
        while self.bytes > OFFERED_BYTES {
            self.pop(VecDeque::pop_front);
        }
    }

    /// The bytes offered for `id`; older offers are dropped on the way.
    fn take(&mut self, id: &LogIdOf<C>) -> Option<Bytes> {
        while self.entries.front()?.0.index < id.index {
            self.pop(VecDeque::pop_front);
        }
        if self.entries.front()?.0 != *id {
            return None;
        }
        self.pop(VecDeque::pop_front)
    }

    fn pop(&mut self, end: fn(&mut VecDeque<RawEntry>) -> Option<RawEntry>) -> Option<Bytes> {
        let (_, b) = end(&mut self.entries)?;
        self.bytes -= b.len();
        Some(b)
    }
}

/// Committed entries decoded ahead on a thread of their own, for the
/// replay at start-up: openraft reads them in order, 64 at a time, and
/// applies each batch before it asks for the next, so decoding them as
/// asked left the other core idle for a third of the replay.
struct Ahead {
    /// Decoded entries not yet taken, oldest first.
    ready: VecDeque<EntryOf<C>>,
    /// Batches from the decoding thread; it stops at the first error
    /// (the reader then reads for itself and meets the error there).
    batches: mpsc::Receiver<io::Result<Vec<EntryOf<C>>>>,
    /// The thread sent its last batch, or stopped.
    ended: bool,
}

/// Entries per batch decoded ahead, and batches decoded ahead at most.
const AHEAD_BATCH: u64 = 256;
const AHEAD_BATCHES: usize = 16;

impl Ahead {
    /// Entries `[from, to)` if they come next; none taken otherwise.
    fn take(&mut self, from: u64, to: u64) -> Option<Vec<EntryOf<C>>> {
        let want = to.checked_sub(from)? as usize;
        if self.ready.is_empty() {
            self.pull()?;
        }
        if self.ready.front()?.log_id().index != from {
            return None;
        }
        while self.ready.len() < want && self.pull().is_some() {}
        let last = self.ready.get(want.checked_sub(1)?)?.log_id().index;
        if last != to - 1 {
            return None;
        }
        Some(self.ready.drain(..want).collect())
    }

    fn pull(&mut self) -> Option<()> {
        match self.batches.recv() {
            Ok(Ok(batch)) => self.ready.extend(batch),
            Ok(Err(_)) | Err(_) => self.ended = true,
        }
        (!self.ended).then_some(())
    }

    /// Nothing left to hand out: the replay is over.
    fn spent(&self) -> bool {
        self.ended && self.ready.is_empty()
    }
}

fn to_stored(id: &LogIdOf<C>) -> LogId {
    LogId {
        term: id.leader_id.term,
        node: id.leader_id.node_id,
        index: id.index,
    }
}

fn from_stored(id: &LogId) -> LogIdOf<C> {
    openraft::LogId::new(
        openraft::impls::leader_id_adv::LeaderId {
            term: id.term,
            node_id: id.node,
        },
        id.index,
    )
}

/// Measured first, then written into a buffer of that size: growing one
/// from empty took five reallocations for a small entry, a fifth of a
/// leader's time in encoding, and a `Bytes` made from a full vector needs
/// no header of its own.
fn encode<T: serde::Serialize>(v: &T) -> io::Result<Vec<u8>> {
    let config = bincode::config::standard();
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(v, &mut size, config).map_err(io::Error::other)?;
    let mut out = Vec::with_capacity(size.bytes_written);
    bincode::serde::encode_into_std_write(v, &mut out, config).map_err(io::Error::other)?;
    Ok(out)
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(b: &[u8]) -> io::Result<T> {
    decode_at(b, &mut 0)
}

/// Decodes one value at `*at` in `b` and moves `*at` past it.
pub(super) fn decode_at<T: serde::de::DeserializeOwned>(b: &[u8], at: &mut usize) -> io::Result<T> {
    let rest = b.get(*at..).unwrap_or_default();
    let (v, used) = bincode::serde::decode_from_slice(rest, bincode::config::standard())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    *at += used;
    Ok(v)
}

pub(super) fn encode_any<T: serde::Serialize>(v: &T) -> io::Result<Vec<u8>> {
    encode(v)
}

impl LogStore {
    /// `observer` hears of each group fsync (for the metrics).
    pub fn open(dir: &Path, observer: Option<SyncObserver>) -> Result<LogStore, Error> {
        let log = DurableLog::open(dir)
            .map_err(|e| Error::Io(format!("opening log in {}: {e}", dir.display())))?;
        let log = Arc::new(Mutex::new(log));
        let group = GroupCommit::start(&log, observer);
        Ok(LogStore {
            log,
            group,
            recent: Arc::default(),
            ahead: Arc::default(),
            offered: Arc::default(),
        })
    }

    /// Starts decoding the committed entries after `applied` (the last
    /// entry in the state machine's snapshot) for the replay that follows.
    pub(super) fn read_ahead(&self, applied: Option<u64>) {
        let Some(committed) = self.lock().committed() else {
            return;
        };
        let (from, to) = (applied.map_or(0, |a| a + 1), committed.index + 1);
        if from >= to {
            return;
        }
        let (tx, rx) = mpsc::sync_channel(AHEAD_BATCHES);
        // Weak: a decoder waiting for room must not keep the log open.
        let log = Arc::downgrade(&self.log);
        let decoder = std::thread::Builder::new()
            .name("zkrs-log-ahead".into())
            .spawn(move || decode_ahead(log, from, to, tx));
        if decoder.is_ok() {
            *crate::lock(&self.ahead) = Some(Ahead {
                ready: VecDeque::new(),
                batches: rx,
                ended: false,
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DurableLog> {
        crate::lock(&self.log)
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        crate::lock(&self.recent)
    }

    /// Waits (bounded) until this is the last handle, then closes the log:
    /// its flush worker is joined and its directory lock released before
    /// this returns.
    pub(super) async fn close(self, timeout: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut log = self.log;
        loop {
            match Arc::try_unwrap(log) {
                Ok(last) => {
                    let _ = tokio::task::spawn_blocking(move || drop(last)).await;
                    return;
                }
                Err(shared) if tokio::time::Instant::now() < deadline => {
                    log = shared;
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                Err(_) => {
                    tracing::warn!("log still in use after shutdown; not closed");
                    return;
                }
            }
        }
    }

    /// The stored bytes of each entry, where they are still at hand.
    pub(super) fn encoded(&self, entries: &[EntryOf<C>]) -> Vec<Option<Bytes>> {
        let recent = self.recent();
        entries
            .iter()
            .map(|e| recent.encoded(&e.log_id()))
            .collect()
    }

    /// Entries as they came from the leader, encoded, shortly before
    /// openraft appends them (see `Offered`).
    pub(super) fn offer(&self, entries: Vec<RawEntry>) {
        crate::lock(&self.offered).offer(entries);
    }

    /// The log size on disk, for four-letter words.
    pub fn disk_size(&self) -> u64 {
        self.lock().disk_size()
    }
}

/// The read-ahead thread: decodes `[from, to)` in batches until done, an
/// error, or nobody is left to take them.
fn decode_ahead(
    log: Weak<Mutex<DurableLog>>,
    from: u64,
    to: u64,
    tx: mpsc::SyncSender<io::Result<Vec<EntryOf<C>>>>,
) {
    let mut at = from;
    while at < to {
        let end = (at + AHEAD_BATCH).min(to);
        let Some(log) = log.upgrade() else { return };
        let raw = crate::lock(&log).read(at, end);
        drop(log);
        let batch = raw.and_then(|raw| decode_entries(&raw));
        let failed = batch.is_err();
        if tx.send(batch).is_err() || failed {
            return;
        }
        at = end;
    }
}

fn decode_entries(raw: &[(LogId, bytes::Bytes)]) -> io::Result<Vec<EntryOf<C>>> {
    raw.iter().map(|(_, bytes)| decode(bytes)).collect()
}

fn range_bounds<RB: RangeBounds<u64>>(range: &RB) -> (u64, u64) {
    let from = match range.start_bound() {
        Bound::Included(x) => *x,
        Bound::Excluded(x) => x + 1,
        Bound::Unbounded => 0,
    };
    let to = match range.end_bound() {
        Bound::Included(x) => x + 1,
        Bound::Excluded(x) => *x,
        Bound::Unbounded => u64::MAX,
    };
    (from, to)
}

impl RaftLogReader<C> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<EntryOf<C>>, io::Error> {
        let (from, to) = range_bounds(&range);
        if let Some(entries) = self.recent().get(from, to) {
            return Ok(entries);
        }
        let mut ahead = crate::lock(&self.ahead);
        if let Some(a) = ahead.as_mut() {
            let taken = a.take(from, to);
            if a.spent() {
                // Later reads go straight to the log.
                *ahead = None;
            }
            if let Some(entries) = taken {
                return Ok(entries);
            }
        }
        drop(ahead);
        let raw = self.lock().read(from, to)?;
        decode_entries(&raw)
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<C>>, io::Error> {
        Ok(self.lock().vote().map(|v| match v.committed {
            true => Vote::new_committed(v.term, v.node),
            false => Vote::new(v.term, v.node),
        }))
    }
}

impl RaftLogStorage<C> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        let log = self.lock();
        let purged = log.purged().map(|id| from_stored(&id));
        let last = log.last().map(|id| from_stored(&id)).or(purged);
        Ok(LogState {
            last_purged_log_id: purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &VoteOf<C>) -> Result<(), io::Error> {
        let v = StoredVote {
            term: vote.leader_id.term,
            node: vote.leader_id.node_id,
            committed: vote.committed,
        };
        let mut log = self.lock();
        log.save_vote(v)?;
        log.flush_blocking()
    }

    async fn save_committed(&mut self, committed: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        match committed {
            // Not flushed here: it rides along with the next log flush, and a
            // lost commit mark only means re-applying from the snapshot.
            Some(id) => self.lock().save_committed(to_stored(&id)),
            None => Ok(()),
        }
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<C>>, io::Error> {
        Ok(self.lock().committed().map(|id| from_stored(&id)))
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = EntryOf<C>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = Vec::new();
        let mut decoded = Vec::new();
        let mut offered = crate::lock(&self.offered);
        for e in entries {
            let bytes = match offered.take(&e.log_id()) {
                Some(b) => b,
                None => Bytes::from(encode(&e)?),
            };
            batch.push((to_stored(&e.log_id()), bytes.clone()));
            decoded.push((e, bytes));
        }
        drop(offered);
        let mut log = self.lock();
        log.append(batch)?;
        // Under the log lock: the cache changes in the log's order.
        let mut recent = self.recent();
        decoded.into_iter().for_each(|(e, b)| recent.push(e, b));
        drop(recent);
        let done = FlushCallback::new(move |res| callback.io_completed(res));
        self.group.flush(&mut log, done);
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        let from = last_log_id.map(|id| id.index + 1).unwrap_or(0);
        let mut log = self.lock();
        self.recent().truncate(from);
        log.truncate(from)
    }

    async fn purge(&mut self, log_id: LogIdOf<C>) -> Result<(), io::Error> {
        self.lock().purge(to_stored(&log_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Plain {
        data: Vec<u8>,
    }

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct AsBytes {
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }

    fn entry(index: u64) -> EntryOf<C> {
        EntryOf::<C>::new_blank(from_stored(&LogId {
            term: 1,
            node: 1,
            index,
        }))
    }

    fn indexes(got: Option<Vec<EntryOf<C>>>) -> Option<Vec<u64>> {
        got.map(|v| v.iter().map(|e| e.log_id().index).collect())
    }

    #[test]
    fn recent_entries_follow_appends_truncation_and_gaps() {
        let mut r = Recent::default();
        (5..10).for_each(|i| r.push(entry(i), Bytes::new()));
        assert_eq!(indexes(r.get(6, 8)), Some(vec![6, 7]));
        assert_eq!(indexes(r.get(8, u64::MAX)), Some(vec![8, 9]));
        assert_eq!(
            indexes(r.get(4, 8)),
            None,
            "older than the cache: read the log"
        );
        r.truncate(7);
        assert_eq!(indexes(r.get(5, 100)), Some(vec![5, 6]));
        r.push(entry(7), Bytes::new());
        assert_eq!(indexes(r.get(6, 100)), Some(vec![6, 7]));
        // Not the next index (a snapshot moved the log on): start over.
        r.push(entry(20), Bytes::new());
        assert_eq!(indexes(r.get(6, 100)), None);
        assert_eq!(indexes(r.get(20, 21)), Some(vec![20]));
        (21..21 + RECENT_ENTRIES as u64).for_each(|i| r.push(entry(i), Bytes::new()));
        assert_eq!(r.first(), Some(21));
    }

    /// A follower stores an entry offered with its log id as offered (the
    /// bytes a leader sent) and encodes the others; the leader finds each
    /// appended entry's stored bytes for its followers.
    #[tokio::test]
    async fn appends_store_offered_bytes_and_keep_them_at_hand() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LogStore::open(dir.path(), None).unwrap();
        // Offered bytes for entry 2 that tell it apart: a blank entry of
        // another term would not be stored for entry 2 of term 1, so this
        // one carries its log id and a membership payload.
        let mut other = entry(2);
        other.payload = openraft::EntryPayload::Membership(
            openraft::Membership::new_with_defaults(vec![[1u64].into()], []),
        );
        let offered = Bytes::from(encode(&other).unwrap());
        store.offer(vec![
            (entry(1).log_id(), Bytes::from_static(b"stale")),
            (entry(2).log_id(), offered.clone()),
        ]);
        store.offer(vec![(entry(9).log_id(), Bytes::from_static(b"later"))]);
        let entries: Vec<_> = (2..=4).map(entry).collect();
        // Readable on return; the fsync is not waited for here.
        store
            .append(entries.clone(), IOFlushed::noop())
            .await
            .unwrap();

        let stored = store.lock().read(2, 5).unwrap();
        let want = [
            offered.clone(),
            Bytes::from(encode(&entry(3)).unwrap()),
            Bytes::from(encode(&entry(4)).unwrap()),
        ];
        assert_eq!(
            stored.iter().map(|(_, b)| b.clone()).collect::<Vec<_>>(),
            want
        );
        assert_eq!(store.encoded(&entries), want.map(Some).to_vec());
        // Another term's entry at the same index has none.
        let mut moved = entry(3);
        moved.log_id = from_stored(&LogId {
            term: 2,
            node: 1,
            index: 3,
        });
        assert_eq!(store.encoded(&[moved]), vec![None]);
        assert_eq!(
            crate::lock(&store.offered).entries.len(),
            1,
            "entry 9 still offered"
        );
    }

    /// Offers stay in index order and bounded: a leader gone back to an
    /// earlier index replaces what was offered from there on, and the
    /// oldest offers go once they hold too many bytes.
    #[test]
    fn offers_follow_the_leader_back_and_stay_bounded() {
        let id = |i| entry(i).log_id();
        let b = |n: usize| Bytes::from(vec![7u8; n]);
        let mut o = Offered::default();
        o.offer((5..9).map(|i| (id(i), b(10))).collect());
        o.offer(vec![(id(3), b(11)), (id(4), b(11))]);
        let left: Vec<u64> = o.entries.iter().map(|(i, _)| i.index).collect();
        assert_eq!((left, o.bytes), (vec![3, 4], 22));
        assert_eq!(o.take(&id(4)).map(|b| b.len()), Some(11));
        assert_eq!((o.entries.len(), o.bytes), (0, 0));
        o.offer((10..20).map(|i| (id(i), b(OFFERED_BYTES / 4))).collect());
        let left: Vec<u64> = o.entries.iter().map(|(i, _)| i.index).collect();
        assert_eq!(left, vec![16, 17, 18, 19], "the newest that fit");
        assert_eq!(o.bytes, OFFERED_BYTES);
        assert_eq!(o.take(&id(12)), None, "dropped");
        assert_eq!(o.take(&id(16)).map(|b| b.len()), Some(OFFERED_BYTES / 4));
    }

    /// Logs and snapshots written before byte fields were marked
    /// `serde_bytes` read back unchanged: bincode encodes both alike.
    #[test]
    fn byte_fields_encode_as_before() {
        let data: Vec<u8> = (0..=255).chain(0..10).collect();
        let old = encode(&Plain { data: data.clone() }).unwrap();
        assert_eq!(old, encode(&AsBytes { data: data.clone() }).unwrap());
        assert_eq!(decode::<AsBytes>(&old).unwrap(), AsBytes { data });
    }

    /// An entry encodes as bincode always encoded it, into a buffer of
    /// exactly its size.
    #[test]
    fn entries_encode_into_a_buffer_of_their_size() {
        let op = crate::state::TxnOp::SetData {
            path: "/a/b".into(),
            data: Some(vec![5; 100]),
            version: -1,
        };
        let txn = crate::state::Txn {
            session: 1,
            owner: 2,
            time: 3,
            auth: vec![crate::Id::new("ip", "127.0.0.1")].into(),
            super_user: false,
            op: Arc::new(op),
        };
        let e = EntryOf::<C>::new_normal(entry(7).log_id(), txn);
        let bytes = encode(&e).unwrap();
        let plain = bincode::serde::encode_to_vec(&e, bincode::config::standard()).unwrap();
        assert_eq!(bytes, plain);
        assert_eq!(bytes.capacity(), bytes.len());
    }

    /// The read-ahead hands out committed entries after the snapshot in
    /// order, whatever ranges the replay asks for; a read of anything else
    /// (earlier, later, past the committed entries) is left to the log.
    #[test]
    fn read_ahead_serves_the_replay_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path(), None).unwrap();
        {
            let mut log = store.lock();
            let stored = |i| to_stored(&entry(i).log_id());
            let entries = (1..=1000).map(|i| (stored(i), encode(&entry(i)).unwrap()));
            log.append(entries).unwrap();
            log.save_committed(stored(900)).unwrap();
            log.flush_blocking().unwrap();
        }
        store.read_ahead(Some(100));
        let mut ahead = crate::lock(&store.ahead).take().expect("started");
        assert_eq!(indexes(ahead.take(50, 60)), None, "before the replay");
        assert_eq!(indexes(ahead.take(102, 110)), None, "not the next entry");
        let mut at = 101;
        for step in [64, 1, 300, 64] {
            let want: Vec<u64> = (at..at + step).collect();
            assert_eq!(indexes(ahead.take(at, at + step)), Some(want));
            at += step;
        }
        assert_eq!(indexes(ahead.take(at, 950)), None, "past the committed");
        assert_eq!(indexes(ahead.take(at, 901)), Some((at..901).collect()));
        assert_eq!(indexes(ahead.take(901, 902)), None);
        assert!(ahead.spent(), "all handed out, so reads go to the log");
    }
}
