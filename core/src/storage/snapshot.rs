//! Snapshot files: `snap-<index>` holding opaque bytes behind a header with
//! a CRC32C, written to a temporary name, fsynced, then renamed, so a crash
//! leaves either the old set or the new file whole, never a torn one.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"ZKRSSNAP";
const FORMAT: u32 = 1;
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
}

impl SnapshotStore {
    pub fn open(dir: &Path) -> io::Result<SnapshotStore> {
        fs::create_dir_all(dir)?;
        Ok(SnapshotStore {
            dir: dir.to_path_buf(),
        })
    }

    fn file_name(index: u64) -> String {
        format!("snap-{index:020}")
    }

    /// Writes a snapshot durably and returns it.
    pub fn save(&self, index: u64, body: &[u8]) -> io::Result<SnapshotFile> {
        let path = self.dir.join(Self::file_name(index));
        let tmp = self.dir.join(format!("{}.tmp", Self::file_name(index)));
        let mut f = fs::File::create(&tmp)?;
        f.write_all(MAGIC)?;
        f.write_all(&FORMAT.to_be_bytes())?;
        f.write_all(&crc32c::crc32c(body).to_be_bytes())?;
        f.write_all(&(body.len() as u64).to_be_bytes())?;
        f.write_all(body)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        fs::File::open(&self.dir)?.sync_all()?;
        Ok(SnapshotFile { index, path })
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

    /// Reads and verifies one snapshot's body.
    pub fn read(&self, file: &SnapshotFile) -> io::Result<Vec<u8>> {
        let mut raw = Vec::new();
        fs::File::open(&file.path)?.read_to_end(&mut raw)?;
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {why}", file.path.display()),
            )
        };
        if raw.len() < HEADER_LEN || &raw[..8] != MAGIC {
            return Err(bad("not a zkrs snapshot"));
        }
        let format = u32::from_be_bytes(raw[8..12].try_into().unwrap());
        if format != FORMAT {
            return Err(bad("unknown snapshot format"));
        }
        let crc = u32::from_be_bytes(raw[12..16].try_into().unwrap());
        let len = u64::from_be_bytes(raw[16..24].try_into().unwrap());
        let body = &raw[HEADER_LEN..];
        if body.len() as u64 != len || crc32c::crc32c(body) != crc {
            return Err(bad("checksum or length mismatch"));
        }
        Ok(body.to_vec())
    }

    /// The newest snapshot that verifies; corrupt ones are skipped (logged).
    pub fn latest(&self) -> io::Result<Option<(SnapshotFile, Vec<u8>)>> {
        for file in self.list()?.into_iter().rev() {
            match self.read(&file) {
                Ok(body) => return Ok(Some((file, body))),
                Err(e) => tracing::warn!("skipping snapshot: {e}"),
            }
        }
        Ok(None)
    }

    /// Deletes all but the newest `retain` snapshots (and stray temp files).
    pub fn purge(&self, retain: usize) -> io::Result<Vec<SnapshotFile>> {
        let all = self.list()?;
        let cut = all.len().saturating_sub(retain);
        let old: Vec<SnapshotFile> = all.into_iter().take(cut).collect();
        for f in &old {
            fs::remove_file(&f.path)?;
        }
        for e in fs::read_dir(&self.dir)? {
            let path = e?.path();
            if path.extension().is_some_and(|x| x == "tmp") {
                let _ = fs::remove_file(path);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_latest_purge_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path()).unwrap();
        assert!(store.latest().unwrap().is_none());
        for i in [5u64, 10, 15, 20] {
            store.save(i, format!("body{i}").as_bytes()).unwrap();
        }
        let (f, body) = store.latest().unwrap().unwrap();
        assert_eq!((f.index, body.as_slice()), (20, &b"body20"[..]));
        // Corrupt the newest: latest falls back to the previous one.
        let mut raw = fs::read(&f.path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 0xff;
        fs::write(&f.path, raw).unwrap();
        assert_eq!(store.latest().unwrap().unwrap().0.index, 15);
        let removed = store.purge(3).unwrap();
        assert_eq!(removed.iter().map(|f| f.index).collect::<Vec<_>>(), vec![5]);
        assert_eq!(store.list().unwrap().len(), 3);
    }
}
