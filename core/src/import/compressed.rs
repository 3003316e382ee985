//! ZooKeeper's compressed snapshots (`snapshot.compression.method`):
//! `snapshot.<zxid>.gz` is a gzip stream and `snapshot.<zxid>.snappy`
//! snappy-java's stream (a 16-byte header, then blocks, each a big-endian
//! length and a raw snappy block). Either holds what a plain snapshot file
//! holds, checksum and all.

use std::io;
use std::path::Path;

/// The start of snappy-java's stream header (then its version and the
/// oldest version that reads it, two big-endian ints).
const SNAPPY_JAVA_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const SNAPPY_JAVA_HEADER_LEN: usize = 16;

/// The snapshot in `path` as a plain snapshot file holds it, the method
/// told by the name's extension as ZooKeeper tells it.
pub(super) fn snapshot_bytes(path: &Path) -> io::Result<Vec<u8>> {
    let raw = std::fs::read(path)?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => gunzip(&raw),
        Some("snappy") => unsnappy(&raw),
        _ => Ok(raw),
    }
}

/// The same gzip as a zkrs snapshot's, which the snapshot store reads.
fn gunzip(raw: &[u8]) -> io::Result<Vec<u8>> {
    crate::storage::Compression::Gzip.decompress(raw)
}

fn unsnappy(mut raw: &[u8]) -> io::Result<Vec<u8>> {
    if !raw.starts_with(&SNAPPY_JAVA_MAGIC) {
        return Err(invalid("not a snappy-java stream".into()));
    }
    let mut plain = Vec::with_capacity(raw.len().saturating_mul(3));
    let mut decoder = ::snap::raw::Decoder::new();
    while !raw.is_empty() {
        // A header starts the stream, and each stream concatenated to it.
        if raw.starts_with(&SNAPPY_JAVA_MAGIC) {
            raw = raw
                .get(SNAPPY_JAVA_HEADER_LEN..)
                .ok_or_else(|| invalid("a snappy-java header cut short".into()))?;
            continue;
        }
        let (block, rest) = raw
            .split_first_chunk::<4>()
            .map(|(len, rest)| rest.split_at_checked(u32::from_be_bytes(*len) as usize))
            .and_then(|split| split)
            .ok_or_else(|| invalid("a snappy block cut short".into()))?;
        let bad = |e: ::snap::Error| invalid(format!("bad snappy block: {e}"));
        let len = ::snap::raw::decompress_len(block).map_err(bad)?;
        let at = plain.len();
        plain.resize(at + len, 0);
        decoder.decompress(block, &mut plain[at..]).map_err(bad)?;
        raw = rest;
    }
    Ok(plain)
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// snappy-java's stream as its SnappyOutputStream writes it: the header,
    /// then each block's length and the block.
    fn snappy_java(blocks: &[&[u8]]) -> Vec<u8> {
        let mut out = SNAPPY_JAVA_MAGIC.to_vec();
        out.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1]);
        for b in blocks {
            let packed = ::snap::raw::Encoder::new().compress_vec(b).unwrap();
            out.extend_from_slice(&(packed.len() as u32).to_be_bytes());
            out.extend_from_slice(&packed);
        }
        out
    }

    #[test]
    fn each_extension_reads_as_zookeeper_wrote_it() {
        let dir = tempfile::tempdir().unwrap();
        let plain: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 300).to_be_bytes())
            .collect();
        let (a, b) = plain.split_at(70_000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        let mut twice = snappy_java(&[a]);
        twice.extend(snappy_java(&[b]));
        let files = [
            ("snapshot.5", plain.clone()),
            ("snapshot.6.gz", gz.finish().unwrap()),
            (
                "snapshot.7.snappy",
                snappy_java(&[&a[..32_768], &a[32_768..], b]),
            ),
            ("snapshot.8.snappy", twice),
        ];
        for (name, bytes) in files {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert!(snapshot_bytes(&path).unwrap() == plain, "{name}");
        }
    }

    #[test]
    fn a_damaged_stream_is_an_error() {
        let whole = snappy_java(&[&[9; 50_000]]);
        let cases: [(&str, &[u8]); 4] = [
            ("not a snappy-java stream", &whole[4..]),
            ("header cut short", &whole[..12]),
            ("block cut short", &whole[..whole.len() - 1]),
            ("gzip", b"\x1f\x8b not really"),
        ];
        for (why, bytes) in cases {
            let e = match why {
                "gzip" => gunzip(bytes),
                _ => unsnappy(bytes),
            }
            .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
    }
}
