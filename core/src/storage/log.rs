//! The durable log. Entries are opaque payload bytes keyed by [`LogId`].
//! A write is durable only once the callback given to [`DurableLog::flush`]
//! reports success; callers acknowledge nothing before that.

use std::fmt;
use std::io::{self, Read};
use std::sync::{mpsc, Arc, Mutex};

use bytes::Bytes;
use raft_log::api::raft_log_writer::RaftLogWriter;
use raft_log::codeq::{Decode, Encode};
use raft_log::{Callback, RaftLog, Types};

use crate::lock;

/// Position of an entry: the leader term and node that wrote it, and its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogId {
    pub term: u64,
    pub node: u64,
    pub index: u64,
}

/// A persisted vote. Ordered by (term, node, committed), which is the order
/// in which a member's vote may advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct StoredVote {
    pub term: u64,
    pub node: u64,
    pub committed: bool,
}

/// Runs once a flush finished (or failed); called on the flush worker thread.
pub struct FlushCallback(Box<dyn FnOnce(io::Result<()>) + Send>);

impl FlushCallback {
    pub fn new(f: impl FnOnce(io::Result<()>) + Send + 'static) -> Self {
        FlushCallback(Box::new(f))
    }
}

impl Callback for FlushCallback {
    fn send(self, res: Result<(), io::Error>) {
        (self.0)(res)
    }
}

/// Opaque entry payload bytes. Shared, not copied, when raft-log keeps a
/// payload in its cache as well as handing it on (at every append, and for
/// every entry read back when the log is opened).
#[derive(Clone, PartialEq, Eq)]
pub struct Payload(pub Bytes);

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} bytes)", self.0.len())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ZkLogTypes;

impl Types for ZkLogTypes {
    type LogId = LogId;
    type LogPayload = Payload;
    type Vote = StoredVote;
    type Callback = FlushCallback;
    type UserData = Vec<u8>;

    fn log_index(log_id: &LogId) -> u64 {
        log_id.index
    }

    fn payload_size(payload: &Payload) -> u64 {
        payload.0.len() as u64
    }
}

fn write_u64s<W: io::Write>(mut w: W, vals: &[u64]) -> io::Result<usize> {
    for v in vals {
        w.write_all(&v.to_be_bytes())?;
    }
    Ok(vals.len() * 8)
}

fn read_u64<R: io::Read>(r: &mut R) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

impl Encode for LogId {
    fn encode<W: io::Write>(&self, w: W) -> io::Result<usize> {
        write_u64s(w, &[self.term, self.node, self.index])
    }
}

impl Decode for LogId {
    fn decode<R: io::Read>(mut r: R) -> io::Result<Self> {
        Ok(LogId {
            term: read_u64(&mut r)?,
            node: read_u64(&mut r)?,
            index: read_u64(&mut r)?,
        })
    }
}

impl Encode for StoredVote {
    fn encode<W: io::Write>(&self, w: W) -> io::Result<usize> {
        write_u64s(w, &[self.term, self.node, self.committed as u64])
    }
}

impl Decode for StoredVote {
    fn decode<R: io::Read>(mut r: R) -> io::Result<Self> {
        let term = read_u64(&mut r)?;
        let node = read_u64(&mut r)?;
        let committed = read_u64(&mut r)? != 0;
        Ok(StoredVote {
            term,
            node,
            committed,
        })
    }
}

/// As codeq encodes a `Vec<u8>`: its length as a big-endian u32, then
/// the bytes.
impl Encode for Payload {
    fn encode<W: io::Write>(&self, mut w: W) -> io::Result<usize> {
        let len = u32::try_from(self.0.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        w.write_all(&len.to_be_bytes())?;
        w.write_all(&self.0)?;
        Ok(self.0.len() + 4)
    }
}

/// Payloads this size or smaller are read into a buffer of their size
/// at once; a larger length is trusted only as far as bytes come, so a
/// length torn by a crash cannot ask for gigabytes.
const PAYLOAD_PREALLOC: usize = 1 << 20;

impl Decode for Payload {
    fn decode<R: io::Read>(mut r: R) -> io::Result<Self> {
        let mut len = [0u8; 4];
        r.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len) as usize;
        let mut buf = Vec::with_capacity(len.min(PAYLOAD_PREALLOC));
        r.take(len as u64).read_to_end(&mut buf)?;
        if buf.len() != len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(Payload(Bytes::from(buf)))
    }
}

/// Recent entries kept decoded-ready in memory: replication and apply read
/// the newest entries, so a small cache serves them; older ones are read
/// from disk (a lagging follower's catch-up). Counted in every member's RSS.
const LOG_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// The log of one member, in `<dir>`. Not thread-safe by itself: the
/// consensus adapter owns it behind a mutex.
pub struct DurableLog {
    inner: RaftLog<ZkLogTypes>,
    reserve: Reserve,
}

/// Disk blocks reserved past the end of the log's newest chunk file
/// (fallocate with KEEP_SIZE: the file's length, and so what raft-log
/// reads back, is unchanged). An fdatasync after an append into blocks
/// that are allocated already has less to commit: on this machine's ext4
/// a 14 KB append and its fdatasync took 230 µs and 89 µs of CPU against
/// 357 µs and 158 µs into a growing file (200 B: 187 against 210 µs).
/// raft-log appends to its chunk files and cannot preallocate them.
struct Reserve {
    dir: std::path::PathBuf,
    /// Bytes appended since the last reservation.
    appended: u64,
}

/// How often the reservation is extended, in bytes appended, and how far
/// past the end of the file it then reaches. A chunk closed early keeps at
/// most `RESERVE_AHEAD` unused until it is purged.
const RESERVE_EVERY: u64 = 4 << 20;
const RESERVE_AHEAD: u64 = 16 << 20;

impl Reserve {
    fn appended(&mut self, bytes: u64) {
        self.appended += bytes;
        if self.appended >= RESERVE_EVERY {
            self.appended = 0;
            self.extend();
        }
    }

    /// Only a hint: a full disk or a file system without fallocate leaves
    /// the log as it was, growing block by block.
    fn extend(&self) {
        if let Err(e) = reserve_past_end(&self.dir) {
            tracing::debug!("log space not reserved: {e}");
        }
    }
}

/// Reserves `RESERVE_AHEAD` bytes past the end of the newest chunk file
/// (raft-log names them `r-<zero-padded offset>.wal`, so the newest sorts
/// last).
fn reserve_past_end(dir: &std::path::Path) -> io::Result<()> {
    let mut newest = None;
    for e in std::fs::read_dir(dir)? {
        let name = e?.file_name();
        let chunk = name
            .to_str()
            .is_some_and(|n| n.starts_with("r-") && n.ends_with(".wal"));
        if chunk && newest.as_ref().is_none_or(|n| &name > n) {
            newest = Some(name);
        }
    }
    let Some(name) = newest else {
        return Ok(());
    };
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join(name))?;
    let end = f.metadata()?.len();
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain syscall on an open file's descriptor.
        let r = unsafe {
            libc::fallocate(
                f.as_raw_fd(),
                libc::FALLOC_FL_KEEP_SIZE,
                end as libc::off_t,
                RESERVE_AHEAD as libc::off_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (f, end);
    Ok(())
}

impl DurableLog {
    /// Opens (or creates) the log in `dir`, recovering what was flushed.
    pub fn open(dir: &std::path::Path) -> io::Result<DurableLog> {
        std::fs::create_dir_all(dir)?;
        let mut config = raft_log::Config::new(dir.to_string_lossy());
        // A record torn by a crash was never acknowledged: drop it.
        config.wal.truncate_incomplete_record = Some(true);
        config.log_cache_capacity = Some(LOG_CACHE_BYTES);
        // Purging frees disk only a whole chunk at a time; raft-log's default
        // chunk (1 GiB) would keep every purged entry on disk for long.
        config.wal.chunk_max_size = Some(64 * 1024 * 1024);
        config.wal.chunk_max_records = Some(100_000);
        // Group commit is `GroupCommit`'s, with no timer: the worker's
        // batching wait (1 ms by default) would delay every lone write.
        config.wal.flush_batch_wait = Some(std::time::Duration::ZERO);
        let inner = RaftLog::open(Arc::new(config))?;
        let reserve = Reserve {
            dir: dir.to_path_buf(),
            appended: 0,
        };
        reserve.extend();
        Ok(DurableLog { inner, reserve })
    }

    pub fn vote(&self) -> Option<StoredVote> {
        self.inner.log_state().vote().copied()
    }

    pub fn last(&self) -> Option<LogId> {
        self.inner.log_state().last().copied()
    }

    pub fn purged(&self) -> Option<LogId> {
        self.inner.log_state().purged().copied()
    }

    pub fn committed(&self) -> Option<LogId> {
        self.inner.log_state().committed().copied()
    }

    pub fn save_vote(&mut self, vote: StoredVote) -> io::Result<()> {
        self.inner.save_vote(vote).map(|_| ())
    }

    pub fn save_committed(&mut self, id: LogId) -> io::Result<()> {
        self.inner.commit(id).map(|_| ())
    }

    pub fn append<B: Into<Bytes>>(
        &mut self,
        entries: impl IntoIterator<Item = (LogId, B)>,
    ) -> io::Result<()> {
        let mut bytes = 0;
        let items = entries.into_iter().map(|(id, b)| {
            let payload = Payload(b.into());
            bytes += payload.0.len() as u64;
            (id, payload)
        });
        self.inner.append(items)?;
        self.reserve.appended(bytes);
        Ok(())
    }

    /// Removes entries at and after `index`.
    pub fn truncate(&mut self, index: u64) -> io::Result<()> {
        self.inner.truncate(index).map(|_| ())
    }

    /// Removes entries up to and including `upto`.
    pub fn purge(&mut self, upto: LogId) -> io::Result<()> {
        self.inner.purge(upto).map(|_| ())
    }

    /// Hands pending writes to the flush worker; `cb` runs once they are
    /// fsynced. One fsync per call: see [`GroupCommit`] for sharing one.
    pub fn flush(&mut self, cb: FlushCallback) -> io::Result<()> {
        self.inner.flush(true, Some(cb))
    }

    /// Flushes and waits for the fsync.
    pub fn flush_blocking(&mut self) -> io::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.flush(FlushCallback::new(move |r| {
            // The waiter may have gone; nothing to do then.
            drop(std::sync::mpsc::SyncSender::send(&tx, r));
        }))?;
        rx.recv()
            .map_err(|_| io::Error::other("flush worker gone"))?
    }

    /// Entries with index in `[from, to)`.
    pub fn read(&self, from: u64, to: u64) -> io::Result<Vec<(LogId, Bytes)>> {
        self.inner
            .read(from, to)
            .map(|r| r.map(|(id, p)| (id, p.0)))
            .collect()
    }

    /// Bytes on disk, for `dirs` and `mntr`.
    pub fn disk_size(&self) -> u64 {
        self.inner.on_disk_size()
    }
}

/// Group commit with no timer: one fsync in flight at a time; appends
/// that come meanwhile are written at once and their callbacks wait for
/// the next fsync, which starts the moment the current one ends and covers
/// them all. A lone write waits for nothing but its own fsync; a loaded
/// member issues one fsync per batch of whatever came during the last.
pub struct GroupCommit {
    state: Mutex<Group>,
    /// Wakes the thread that starts the next fsync.
    wake: mpsc::Sender<()>,
    /// Told each fsync's duration and how many flushes it answered.
    observer: Option<SyncObserver>,
}

/// Receives (fsync duration, flushes it answered) after each group fsync.
pub type SyncObserver = Box<dyn Fn(std::time::Duration, usize) + Send + Sync>;

#[derive(Default)]
struct Group {
    syncing: bool,
    waiting: Vec<FlushCallback>,
}

impl GroupCommit {
    /// Group commit for `log`; its thread ends once `log` and the
    /// returned handle are both gone.
    pub fn start(log: &Arc<Mutex<DurableLog>>, observer: Option<SyncObserver>) -> Arc<GroupCommit> {
        let (tx, rx) = mpsc::channel();
        let group = Arc::new(GroupCommit {
            state: Mutex::default(),
            wake: tx,
            observer,
        });
        let weak_log = Arc::downgrade(log);
        let weak_group = Arc::downgrade(&group);
        std::thread::Builder::new()
            .name("zkrs-group-commit".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    let (Some(log), Some(group)) = (weak_log.upgrade(), weak_group.upgrade())
                    else {
                        return;
                    };
                    group.sync_waiting(&mut lock(&log));
                }
            })
            .expect("spawn group-commit thread");
        group
    }

    /// Called with the log locked, after `done`'s entries were appended:
    /// `done` runs once they are fsynced.
    pub fn flush(self: &Arc<Self>, log: &mut DurableLog, done: FlushCallback) {
        let mut g = lock(&self.state);
        g.waiting.push(done);
        if !g.syncing {
            g.syncing = true;
            drop(g);
            self.sync_waiting(log);
        }
    }

    /// Starts one fsync for every waiting callback (the log locked).
    fn sync_waiting(self: &Arc<Self>, log: &mut DurableLog) {
        let batch = std::mem::take(&mut lock(&self.state).waiting);
        let group = self.clone();
        let started = std::time::Instant::now();
        let done = move |res| group.synced(batch, started, res);
        if let Err(e) = log.flush(FlushCallback::new(done)) {
            // The worker is gone, and the callbacks with its request: the
            // store fails on its next call.
            tracing::error!("log flush not started: {e}");
        }
    }

    /// On the flush worker: answers the batch, and wakes the next fsync if
    /// more appends came meanwhile (never flushing from this thread, which
    /// must not wait for the log lock).
    fn synced(&self, batch: Vec<FlushCallback>, started: std::time::Instant, res: io::Result<()>) {
        if let Some(observe) = &self.observer {
            observe(started.elapsed(), batch.len());
        }
        for done in batch {
            let res = match &res {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            };
            (done.0)(res);
        }
        let mut g = lock(&self.state);
        if g.waiting.is_empty() {
            g.syncing = false;
        } else {
            drop(g);
            let _ = self.wake.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u64) -> LogId {
        LogId {
            term: 1,
            node: 1,
            index: i,
        }
    }

    /// Payloads are stored as codeq stores a `Vec<u8>`, so logs written
    /// before they became `Bytes` read back; a length that promises more
    /// than the record holds is an error, not a huge allocation.
    #[test]
    fn payload_codec_is_codeqs_vec_codec() {
        let data: Vec<u8> = (0..=255).collect();
        let mut ours = Vec::new();
        Payload(Bytes::from(data.clone()))
            .encode(&mut ours)
            .unwrap();
        let mut theirs = Vec::new();
        data.encode(&mut theirs).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(Payload::decode(&theirs[..]).unwrap().0, data);
        let mut torn = u32::MAX.to_be_bytes().to_vec();
        torn.extend_from_slice(b"short");
        let err = Payload::decode(&torn[..]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn append_flush_reopen_truncate_purge() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = DurableLog::open(dir.path()).unwrap();
            log.save_vote(StoredVote {
                term: 1,
                node: 1,
                committed: true,
            })
            .unwrap();
            let entries: Vec<_> = (1..=10).map(|i| (id(i), vec![i as u8; 3])).collect();
            log.append(entries).unwrap();
            log.save_committed(id(6)).unwrap();
            log.flush_blocking().unwrap();
        }
        let mut log = DurableLog::open(dir.path()).unwrap();
        assert_eq!(log.last(), Some(id(10)));
        assert_eq!(
            log.vote(),
            Some(StoredVote {
                term: 1,
                node: 1,
                committed: true
            })
        );
        assert_eq!(log.committed(), Some(id(6)));
        let got = log.read(3, 5).unwrap();
        let want = [(id(3), vec![3; 3]), (id(4), vec![4; 3])];
        assert!(got.iter().map(|(i, b)| (*i, b.to_vec())).eq(want));
        log.truncate(8).unwrap();
        assert_eq!(log.last(), Some(id(7)));
        log.purge(id(4)).unwrap();
        log.flush_blocking().unwrap();
        drop(log);
        let log = DurableLog::open(dir.path()).unwrap();
        assert_eq!(log.purged(), Some(id(4)));
        assert_eq!(log.last(), Some(id(7)));
        assert_eq!(log.read(5, 8).unwrap().len(), 3);
    }

    /// Blocks past the end of the newest chunk file.
    #[cfg(target_os = "linux")]
    fn reserved_past_end(dir: &std::path::Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let newest = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "wal"))
            .max()
            .unwrap();
        let m = std::fs::metadata(newest).unwrap();
        (m.blocks() * 512).saturating_sub(m.len())
    }

    /// Space is reserved ahead of the log as it grows, and the log reads
    /// back whole, and goes on, across a reopen.
    #[cfg(target_os = "linux")]
    #[test]
    fn space_is_reserved_ahead_and_the_log_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |i: u64| (id(i), vec![i as u8; 64 << 10]);
        let per_reserve = RESERVE_EVERY / (64 << 10);
        {
            let mut log = DurableLog::open(dir.path()).unwrap();
            log.append((1..=per_reserve + 1).map(entry)).unwrap();
            log.flush_blocking().unwrap();
            assert!(reserved_past_end(dir.path()) >= RESERVE_AHEAD / 2);
        }
        let mut log = DurableLog::open(dir.path()).unwrap();
        assert_eq!(log.last(), Some(id(per_reserve + 1)));
        log.append((per_reserve + 2..=2 * per_reserve).map(entry))
            .unwrap();
        log.flush_blocking().unwrap();
        drop(log);
        let log = DurableLog::open(dir.path()).unwrap();
        let all = log.read(1, 2 * per_reserve + 1).unwrap();
        assert!(all
            .iter()
            .map(|(i, b)| (*i, b.to_vec()))
            .eq((1..=2 * per_reserve).map(entry)));
    }

    #[test]
    fn group_commit_answers_every_flush_in_order_and_all_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = Arc::new(Mutex::new(DurableLog::open(dir.path()).unwrap()));
            let group = GroupCommit::start(&log, None);
            let (tx, rx) = mpsc::channel();
            for i in 1..=200 {
                let mut l = lock(&log);
                l.append(vec![(id(i), vec![1; 8])]).unwrap();
                let tx = tx.clone();
                group.flush(
                    &mut l,
                    FlushCallback::new(move |r| tx.send((i, r)).unwrap()),
                );
            }
            drop(tx);
            let answered: Vec<u64> = rx.iter().map(|(i, r)| r.map(|_| i).unwrap()).collect();
            assert_eq!(answered, (1..=200).collect::<Vec<_>>());
        }
        let log = DurableLog::open(dir.path()).unwrap();
        assert_eq!(log.last(), Some(id(200)));
    }
}
