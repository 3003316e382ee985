//! Snapshot compression, chosen as ZooKeeper chooses it: the setting
//! `snapshot.compression.method` (or its system property
//! `zookeeper.snapshot.compression.method`) is `gz` or `snappy`, and
//! snapshots are not compressed without it. Each file records how its body
//! was compressed, so a member reads every snapshot whatever the setting
//! is now.

use std::io::{self, Read, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    /// gzip at its fastest level: a snapshot is written while the member
    /// serves, on the same cores.
    Gzip,
    /// Snappy, in its framing format (each chunk with its own checksum).
    Snappy,
}

impl Compression {
    /// The method ZooKeeper calls `name` ("" for none); None for a name
    /// ZooKeeper does not know.
    pub fn from_name(name: &str) -> Option<Compression> {
        match name {
            "" => Some(Compression::None),
            "gz" => Some(Compression::Gzip),
            "snappy" => Some(Compression::Snappy),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gz",
            Compression::Snappy => "snappy",
        }
    }

    /// The method's number in a snapshot file's header.
    pub(super) fn code(self) -> u32 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
        }
    }

    pub(super) fn from_code(code: u32) -> Option<Compression> {
        [Compression::None, Compression::Gzip, Compression::Snappy]
            .into_iter()
            .find(|c| c.code() == code)
    }

    /// A stream that writes to `out` what is written to it, compressed;
    /// [`Encoder::finish`] ends it.
    pub(super) fn encoder(self, out: &mut dyn Write) -> Encoder<'_> {
        match self {
            Compression::None => Encoder::Plain(out),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::fast(),
            )),
            Compression::Snappy => Encoder::Snappy(Box::new(snap::write::FrameEncoder::new(out))),
        }
    }

    /// The bytes `stored` holds, uncompressed (also ZooKeeper's own
    /// `.gz` snapshots, for `zkrs import`).
    pub(crate) fn decompress(self, stored: &[u8]) -> io::Result<Vec<u8>> {
        let (what, mut reader): (&str, Box<dyn Read + '_>) = match self {
            Compression::None => return Ok(stored.to_vec()),
            // Java's GZIPInputStream reads concatenated members as one.
            Compression::Gzip => ("gzip", Box::new(flate2::read::MultiGzDecoder::new(stored))),
            Compression::Snappy => ("snappy", Box::new(snap::read::FrameDecoder::new(stored))),
        };
        // Sized up front: a snapshot of a large tree is hundreds of MB,
        // and growing a buffer that big copied it twice over.
        let mut plain = Vec::with_capacity(self.plain_len(stored));
        reader.read_to_end(&mut plain).map_err(|e| {
            let why = format!("bad {what} stream: {e}");
            io::Error::new(io::ErrorKind::InvalidData, why)
        })?;
        Ok(plain)
    }

    /// How long `stored` is uncompressed, as its own lengths say (only a
    /// hint: they are checked as it is uncompressed).
    fn plain_len(self, stored: &[u8]) -> usize {
        match self {
            Compression::None => stored.len(),
            // gzip's trailer ends with the length modulo 2^32.
            Compression::Gzip => stored
                .last_chunk::<4>()
                .map_or(0, |n| u32::from_le_bytes(*n) as usize),
            Compression::Snappy => snappy_frames_len(stored),
        }
    }
}

/// The uncompressed length of Snappy frames: each chunk is a type byte and
/// a 3-byte little-endian length; a compressed chunk's data is a checksum
/// and a block that starts with its own length, an uncompressed chunk's
/// a checksum and the bytes.
fn snappy_frames_len(mut frames: &[u8]) -> usize {
    let mut total = 0;
    while let Some((&[kind, a, b, c], rest)) = frames.split_first_chunk::<4>() {
        let len = u32::from_le_bytes([a, b, c, 0]) as usize;
        let Some((data, next)) = rest.split_at_checked(len) else {
            break;
        };
        total += match (kind, data.get(4..)) {
            (0x00, Some(block)) => snap::raw::decompress_len(block).unwrap_or(0),
            (0x01, Some(bytes)) => bytes.len(),
            _ => 0,
        };
        frames = next;
    }
    total
}

pub(super) enum Encoder<'a> {
    Plain(&'a mut dyn Write),
    Gzip(flate2::write::GzEncoder<&'a mut dyn Write>),
    /// Boxed: over 2 KiB in place, against a pointer for the others.
    Snappy(Box<snap::write::FrameEncoder<&'a mut dyn Write>>),
}

impl Encoder<'_> {
    /// Writes what is still buffered and the stream's end.
    pub fn finish(self) -> io::Result<()> {
        match self {
            Encoder::Plain(_) => Ok(()),
            Encoder::Gzip(e) => e.finish().map(drop),
            Encoder::Snappy(e) => e.into_inner().map(drop).map_err(|e| e.into_error()),
        }
    }

    fn inner(&mut self) -> &mut dyn Write {
        match self {
            Encoder::Plain(w) => w,
            Encoder::Gzip(e) => e,
            Encoder::Snappy(e) => e,
        }
    }
}

impl Write for Encoder<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_reads_back_what_it_wrote() {
        let body: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 1000).to_be_bytes())
            .collect();
        for c in [Compression::None, Compression::Gzip, Compression::Snappy] {
            let mut stored = Vec::new();
            let mut enc = c.encoder(&mut stored);
            body.chunks(7_000).for_each(|b| enc.write_all(b).unwrap());
            enc.finish().unwrap();
            if c != Compression::None {
                assert!(stored.len() < body.len() / 2, "{c:?}: {}", stored.len());
            }
            assert_eq!(c.plain_len(&stored), body.len(), "{c:?}");
            assert!(c.decompress(&stored).unwrap() == body, "{c:?}");
            assert_eq!(Compression::from_code(c.code()), Some(c));
            let name = if c == Compression::None { "" } else { c.name() };
            assert_eq!(Compression::from_name(name), Some(c));
        }
        assert_eq!(Compression::from_name("lz4"), None);
        assert_eq!(Compression::from_code(3), None);
    }

    #[test]
    fn a_damaged_stream_is_an_error() {
        for c in [Compression::Gzip, Compression::Snappy] {
            let mut stored = Vec::new();
            let mut enc = c.encoder(&mut stored);
            enc.write_all(&[7; 100_000]).unwrap();
            enc.finish().unwrap();
            let cut = &stored[..stored.len() - 3];
            let e = c.decompress(cut).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{c:?}");
            assert!(e.to_string().contains(c.name()), "{e}");
        }
    }
}
