//! Snapshot files: `snap-<index>` holding opaque bytes behind a header with
//! a CRC32C, written to a temporary name, fsynced, then renamed, so a crash
//! leaves either the old set or the new file whole, never a torn one. The
//! body is streamed in and its checksum written last, so a snapshot of a
//! large tree is never held in memory whole while it is written. A store
//! may compress the bodies it writes (`compression.rs`); the header's
//! format word says how (layout in the low 16 bits, method above), so a
//! reader that predates compression refuses such a file as of an unknown
//! format instead of misreading it.

use std::fs;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::compression::Compression;

const MAGIC: &[u8; 8] = b"ZKRSSNAP";
/// Body layouts this store reads; what a layout means is the writer's.
const FORMATS: [u32; 3] = [1, 2, 3];
const HEADER_LEN: usize = 8 + 4 + 4 + 8;

/// One snapshot on disk: the last log index it includes, and its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    pub index: u64,
    pub path: PathBuf,
}

/// The snapshot directory of one member.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
    compression: Compression,
}

/// Stops a snapshot being written once nobody waits for it: its member
/// stopped, or the runtime under the member was dropped while the writer,
/// a thread of its own, went on. Such a writer must not rename its file
/// into place or purge: the next member on the same directory (in the same
/// process) is already writing snapshots of its own there.
#[derive(Debug, Clone, Default)]
pub struct Abandon(Arc<AtomicBool>);

impl Abandon {
    pub fn now(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Abandons the snapshot when the returned guard drops (held by the
    /// task that waits for the snapshot, however that task ends).
    pub fn on_drop(&self) -> AbandonOnDrop {
        AbandonOnDrop(self.clone())
    }

    fn check(&self) -> io::Result<()> {
        match self.is_set() {
            true => Err(io::Error::other("snapshot abandoned: its member stopped")),
            false => Ok(()),
        }
    }
}

/// See [`Abandon::on_drop`].
pub struct AbandonOnDrop(Abandon);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.now();
    }
}

/// Numbers each temporary file, so that two writers of the same index
/// (an abandoned one still running, and its successor) never share one.
static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A verified snapshot as read: its body's layout, how the file stored it,
/// and the body.
#[derive(Debug)]
pub struct SnapshotBody {
    pub format: u32,
    pub compression: Compression,
    body: Stored,
}

#[derive(Debug)]
enum Stored {
    /// The file mapped into memory, the body after the header.
    Mapped(memmap2::Mmap),
    /// A compressed body, uncompressed.
    Unpacked(Vec<u8>),
}

impl SnapshotBody {
    pub fn body(&self) -> &[u8] {
        match &self.body {
            Stored::Mapped(map) => &map[HEADER_LEN..],
            Stored::Unpacked(body) => body,
        }
    }

    /// The body from byte `at` on, as a buffer of its own: an uncompressed
    /// body is moved, not copied (it can be hundreds of MB).
    pub fn into_body_from(self, at: usize) -> Vec<u8> {
        match self.body {
            Stored::Mapped(map) => map[HEADER_LEN + at..].to_vec(),
            Stored::Unpacked(mut body) => {
                body.drain(..at);
                body
            }
        }
    }
}

impl SnapshotFile {
    /// Reads and verifies one snapshot. The file is mapped, not read: a
    /// snapshot of a large tree is hundreds of MB that reading would copy
    /// into fresh memory, page by page, only to decode them once.
    pub fn read(&self) -> io::Result<SnapshotBody> {
        let file = fs::File::open(&self.path)?;
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {why}", self.path.display()),
            )
        };
        if file.metadata()?.len() < HEADER_LEN as u64 {
            return Err(bad("not a zkrs snapshot"));
        }
        // SAFETY: a mapped file that shrinks under the mapping faults on
        // access. Snapshot files are written whole under a temporary name
        // and renamed; nothing writes to or truncates one after that (a
        // purge unlinks it, which leaves a mapping intact).
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
        if &map[..8] != MAGIC {
            return Err(bad("not a zkrs snapshot"));
        }
        let word = u32::from_be_bytes(map[8..12].try_into().unwrap());
        let (format, compression) = (word & 0xffff, Compression::from_code(word >> 16));
        let Some(compression) = compression.filter(|_| FORMATS.contains(&format)) else {
            return Err(bad("unknown snapshot format"));
        };
        let crc = u32::from_be_bytes(map[12..16].try_into().unwrap());
        let len = u64::from_be_bytes(map[16..24].try_into().unwrap());
        let stored = &map[HEADER_LEN..];
        if stored.len() as u64 != len || crc32c::crc32c(stored) != crc {
            return Err(bad("checksum or length mismatch"));
        }
        let body = match compression {
            Compression::None => Stored::Mapped(map),
            c => Stored::Unpacked(c.decompress(stored).map_err(|e| bad(&e.to_string()))?),
        };
        Ok(SnapshotBody {
            format,
            compression,
            body,
        })
    }
}

impl SnapshotStore {
    pub fn open(dir: &Path) -> io::Result<SnapshotStore> {
        fs::create_dir_all(dir)?;
        Ok(SnapshotStore {
            dir: dir.to_path_buf(),
            compression: Compression::None,
        })
    }

    /// The same store, compressing the snapshots it writes from now on.
    pub fn compressing(self, compression: Compression) -> SnapshotStore {
        SnapshotStore {
            compression,
            ..self
        }
    }

    fn file_name(index: u64) -> String {
        format!("snap-{index:020}")
    }

    /// Writes a snapshot durably, its body in layout `format` written by
    /// `body` into a stream, and returns it.
    pub fn save_with(
        &self,
        index: u64,
        format: u32,
        body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<SnapshotFile> {
        self.save_unless(index, format, &Abandon::default(), body)
    }

    /// As [`SnapshotStore::save_with`], but fails, leaving nothing behind,
    /// once `abandon` is set (checked at each write of the body and once
    /// more right before the file takes its name).
    pub fn save_unless(
        &self,
        index: u64,
        format: u32,
        abandon: &Abandon,
        body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<SnapshotFile> {
        let path = self.dir.join(Self::file_name(index));
        let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!("{}.{seq}.tmp", Self::file_name(index)));
        let saved = write_temp(&tmp, format, self.compression, abandon, body).and_then(|()| {
            abandon.check()?;
            fs::rename(&tmp, &path)
        });
        if let Err(e) = saved {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::File::open(&self.dir)?.sync_all()?;
        Ok(SnapshotFile { index, path })
    }

    /// Deletes the temporary files of snapshots never finished (a crash
    /// mid-write). Only a member starting on this directory calls it: a
    /// tool reading snapshots beside a running member must not.
    pub fn remove_unfinished(&self) -> io::Result<()> {
        for e in fs::read_dir(&self.dir)? {
            let path = e?.path();
            if path.extension().is_some_and(|x| x == "tmp") {
                let _ = fs::remove_file(path);
            }
        }
        Ok(())
    }

    /// Every complete snapshot file name, oldest first (contents unchecked).
    pub fn list(&self) -> io::Result<Vec<SnapshotFile>> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.dir)? {
            let path = e?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let index = name
                .strip_prefix("snap-")
                .and_then(|s| s.parse::<u64>().ok());
            if let Some(index) = index {
                out.push(SnapshotFile { index, path });
            }
        }
        out.sort_by_key(|s| s.index);
        Ok(out)
    }

    /// The newest snapshot that verifies; corrupt ones are skipped (logged).
    pub fn latest(&self) -> io::Result<Option<(SnapshotFile, SnapshotBody)>> {
        for file in self.list()?.into_iter().rev() {
            match file.read() {
                Ok(body) => return Ok(Some((file, body))),
                Err(e) => tracing::warn!("skipping snapshot: {e}"),
            }
        }
        Ok(None)
    }

    /// Deletes all but the newest `retain` snapshots.
    pub fn purge(&self, retain: usize) -> io::Result<Vec<SnapshotFile>> {
        let all = self.list()?;
        let cut = all.len().saturating_sub(retain);
        let old: Vec<SnapshotFile> = all.into_iter().take(cut).collect();
        for f in &old {
            match fs::remove_file(&f.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(old)
    }

    pub fn disk_size(&self) -> u64 {
        let files = self.list().unwrap_or_default();
        files
            .iter()
            .filter_map(|f| fs::metadata(&f.path).ok())
            .map(|m| m.len())
            .sum()
    }
}

/// Writes a whole snapshot file (header, body, checksum) under the
/// temporary name `tmp` and fsyncs it.
fn write_temp(
    tmp: &Path,
    format: u32,
    compression: Compression,
    abandon: &Abandon,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut f = fs::File::create(tmp)?;
    f.write_all(&[0; HEADER_LEN])?;
    let mut out = BufWriter::with_capacity(
        1 << 20,
        Summed {
            file: f,
            crc: 0,
            len: 0,
            paced: Paced::default(),
            abandon: abandon.clone(),
        },
    );
    let mut encoder = compression.encoder(&mut out);
    body(&mut encoder)?;
    encoder.finish()?;
    let Summed {
        mut file, crc, len, ..
    } = out.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(MAGIC)?;
    file.write_all(&(format | compression.code() << 16).to_be_bytes())?;
    file.write_all(&crc.to_be_bytes())?;
    file.write_all(&len.to_be_bytes())?;
    file.sync_all()
}

/// The file under a snapshot body, with the body's CRC32C and length.
struct Summed {
    file: fs::File,
    crc: u32,
    len: u64,
    paced: Paced,
    abandon: Abandon,
}

impl Write for Summed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.abandon.check()?;
        let n = self.file.write(buf)?;
        self.crc = crc32c::crc32c_append(self.crc, &buf[..n]);
        self.len += n as u64;
        self.paced.wrote(&self.file, HEADER_LEN as u64 + self.len);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A snapshot's bytes are sent to the disk as they are written, a few MiB
/// at a time, rather than all by the fsync at the end. The log shares the
/// file system's journal: on ext4 an fdatasync of the log waits for the
/// data of every file whose blocks its journal commit allocates, so a
/// snapshot flushed whole at its end (tens of MiB) stalled the log's
/// fsyncs, and every write behind them: under a create load the slowest
/// log fsync was 19-48 ms with whole flushes, 10-31 ms paced.
#[derive(Default)]
struct Paced {
    /// Where writeback was started up to, and where it was started before.
    started: u64,
    before: u64,
}

/// Bytes written between two starts of writeback.
const PACE_BYTES: u64 = 4 << 20;

impl Paced {
    /// The file now holds `end` bytes: once another `PACE_BYTES` are
    /// written, waits for the writeback started last time (so no more than
    /// two paces are ever in flight) and starts it for the new ones. Only
    /// a hint: an error leaves it to the final fsync.
    fn wrote(&mut self, file: &fs::File, end: u64) {
        if end < self.started + PACE_BYTES {
            return;
        }
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd = file.as_raw_fd();
            let wait = libc::SYNC_FILE_RANGE_WAIT_BEFORE
                | libc::SYNC_FILE_RANGE_WRITE
                | libc::SYNC_FILE_RANGE_WAIT_AFTER;
            let (old, new) = (self.started - self.before, end - self.started);
            // SAFETY: plain syscalls on an open file's descriptor. (A
            // length of 0 would mean "to the end of the file".)
            unsafe {
                if old > 0 {
                    libc::sync_file_range(fd, self.before as i64, old as i64, wait);
                }
                libc::sync_file_range(
                    fd,
                    self.started as i64,
                    new as i64,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = file;
        (self.before, self.started) = (self.started, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot of many paces (written to disk as it goes) reads back
    /// whole, checksum and all, and the writeback marks follow the file.
    #[test]
    fn a_large_snapshot_is_paced_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let body: Vec<u8> = (0..(3 * PACE_BYTES + 12345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        store
            .save_with(9, 2, |w| {
                body.chunks(100_000).try_for_each(|c| w.write_all(c))
            })
            .unwrap();
        let (f, read) = store.latest().unwrap().unwrap();
        assert_eq!((f.index, read.format), (9, 2));
        assert!(read.body() == &body[..]);

        let file = fs::File::create(dir.path().join("marks")).unwrap();
        let mut paced = Paced::default();
        paced.wrote(&file, PACE_BYTES - 1);
        assert_eq!((paced.before, paced.started), (0, 0), "less than a pace");
        paced.wrote(&file, PACE_BYTES + 5);
        assert_eq!((paced.before, paced.started), (0, PACE_BYTES + 5));
        paced.wrote(&file, 2 * PACE_BYTES + 4);
        assert_eq!(
            (paced.before, paced.started),
            (0, PACE_BYTES + 5),
            "not yet"
        );
        paced.wrote(&file, 2 * PACE_BYTES + 9);
        assert_eq!(
            (paced.before, paced.started),
            (PACE_BYTES + 5, 2 * PACE_BYTES + 9)
        );
    }

    /// Whatever the store's own setting, every file reads back by what its
    /// header says; a method this build does not know is refused.
    #[test]
    fn compressed_snapshots_read_back_and_say_how() {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..(PACE_BYTES + 999)).map(|i| (i % 97) as u8).collect();
        let methods = [Compression::None, Compression::Gzip, Compression::Snappy];
        for (i, c) in methods.into_iter().enumerate() {
            let store = SnapshotStore::open(dir.path()).unwrap().compressing(c);
            let f = store
                .save_with(i as u64 + 1, 3, |w| w.write_all(&body))
                .unwrap();
            let size = fs::metadata(&f.path).unwrap().len();
            assert_eq!(
                size < body.len() as u64 / 4,
                c != Compression::None,
                "{c:?}"
            );
        }
        let plain = SnapshotStore::open(dir.path()).unwrap();
        for (f, c) in plain.list().unwrap().into_iter().zip(methods) {
            let read = f.read().unwrap();
            assert_eq!((read.format, read.compression), (3, c));
            assert!(read.body() == &body[..], "{c:?}");
        }
        let newest = plain.list().unwrap().pop().unwrap();
        let mut raw = fs::read(&newest.path).unwrap();
        raw[8..12].copy_from_slice(&(3u32 << 16 | 3).to_be_bytes());
        fs::write(&newest.path, raw).unwrap();
        let e = newest.read().unwrap_err();
        assert!(e.to_string().contains("unknown snapshot format"), "{e}");
    }

    #[test]
    fn save_latest_purge_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        assert!(store.latest().unwrap().is_none());
        for i in [5u64, 10, 15] {
            let body = format!("body{i}");
            store
                .save_with(i, 1, |w| w.write_all(body.as_bytes()))
                .unwrap();
        }
        // Streamed in pieces: the same file as one write.
        store
            .save_with(20, 2, |w| {
                w.write_all(b"body")?;
                w.write_all(b"20")
            })
            .unwrap();
        let (f, body) = store.latest().unwrap().unwrap();
        assert_eq!((f.index, body.format, body.body()), (20, 2, &b"body20"[..]));
        let first = store.list().unwrap()[0].read().unwrap();
        assert_eq!((first.format, first.body()), (1, &b"body5"[..]));
        // Corrupt the newest: latest falls back to the previous one.
        let mut raw = fs::read(&f.path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 0xff;
        fs::write(&f.path, raw).unwrap();
        assert_eq!(store.latest().unwrap().unwrap().0.index, 15);
        // Empty, shorter than the header, or cut in the body: refused.
        let cut = dir.path().join(SnapshotStore::file_name(30));
        let whole = fs::read(&f.path).unwrap();
        for len in [0, 10, whole.len() - 1] {
            fs::write(&cut, &whole[..len]).unwrap();
            let file = store.list().unwrap().pop().unwrap();
            assert_eq!(file.index, 30);
            let e = file.read().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{len} bytes: {e}");
            assert_eq!(store.latest().unwrap().unwrap().0.index, 15);
        }
        fs::remove_file(&cut).unwrap();
        let removed = store.purge(3).unwrap();
        assert_eq!(removed.iter().map(|f| f.index).collect::<Vec<_>>(), vec![5]);
        assert_eq!(store.list().unwrap().len(), 3);
    }

    /// A snapshot abandoned mid-body, or after its body but before its
    /// rename, fails and leaves no file behind; a writer's temporary file
    /// survives another writer's purge, and is removed only when a member
    /// starts on the directory.
    #[test]
    fn abandoned_saves_leave_nothing_and_purges_spare_writers() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        let names = || {
            let mut v: Vec<String> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        let abandon = Abandon::default();
        let mid_body = store.save_unless(7, 3, &abandon, |w| {
            w.write_all(&[1; 3 << 20])?;
            abandon.now();
            w.write_all(&[2; 3 << 20])
        });
        assert!(mid_body.unwrap_err().to_string().contains("abandoned"));
        assert!(names().is_empty(), "{:?}", names());

        let abandon = Abandon::default();
        let guard = abandon.on_drop();
        let after_body = store.save_unless(8, 3, &abandon, |w| {
            w.write_all(b"whole")?;
            drop(guard);
            Ok(())
        });
        assert!(after_body.is_err());
        assert!(names().is_empty(), "{:?}", names());

        let other_writer = dir.path().join("snap-00000000000000000009.41.tmp");
        fs::write(&other_writer, b"half").unwrap();
        for i in [1u64, 2, 3, 4] {
            store.save_with(i, 3, |w| w.write_all(b"x")).unwrap();
        }
        store.purge(3).unwrap();
        assert_eq!(store.list().unwrap().len(), 3);
        assert!(other_writer.exists());
        store.remove_unfinished().unwrap();
        assert!(!other_writer.exists());
        assert_eq!(store.list().unwrap().len(), 3);
    }
}
