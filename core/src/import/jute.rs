//! Reading ZooKeeper's jute binary encoding (big-endian, length-prefixed
//! buffers and strings, -1 for null) and its Adler-32 checksums. Only what
//! the snapshot and transaction log formats use.

use crate::{Acl, Id};

/// A cursor over bytes. Running out of bytes is its own error, because at
/// the end of a transaction log it means a torn write, not corruption.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JuteError {
    /// The bytes ended inside a record.
    Eof,
    /// A length or value no writer produces.
    Bad(String),
}

pub(crate) type JuteResult<T> = Result<T, JuteError>;

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Every byte, read or not (checksums cover what was read so far).
    pub fn as_read(&self) -> &'a [u8] {
        self.buf
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn take(&mut self, n: usize) -> JuteResult<&'a [u8]> {
        if self.remaining() < n {
            return Err(JuteError::Eof);
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn byte(&mut self) -> JuteResult<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn bool(&mut self) -> JuteResult<bool> {
        Ok(self.byte()? != 0)
    }

    pub fn int(&mut self) -> JuteResult<i32> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    pub fn long(&mut self) -> JuteResult<i64> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// A buffer; `None` is jute's null (length -1), kept apart from empty.
    pub fn buffer(&mut self) -> JuteResult<Option<&'a [u8]>> {
        let len = self.int()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(JuteError::Bad(format!("negative length {len}")));
        }
        self.take(len as usize).map(Some)
    }

    /// A string; null reads as empty (no ZooKeeper record stores a null one).
    pub fn string(&mut self) -> JuteResult<String> {
        let bytes = self.buffer()?.unwrap_or_default();
        String::from_utf8(bytes.to_vec()).map_err(|_| JuteError::Bad("string not UTF-8".into()))
    }

    /// A vector's element count; null (-1) reads as none.
    pub fn count(&mut self) -> JuteResult<usize> {
        match self.int()? {
            -1 => Ok(0),
            n if n < 0 => Err(JuteError::Bad(format!("negative count {n}"))),
            // Each element takes at least one byte: a larger count is garbage.
            n if n as usize > self.remaining() => Err(JuteError::Eof),
            n => Ok(n as usize),
        }
    }

    pub fn acl_list(&mut self) -> JuteResult<Vec<Acl>> {
        let n = self.count()?;
        (0..n)
            .map(|_| {
                let perms = self.int()?;
                let scheme = self.string()?;
                let id = self.string()?;
                Ok(Acl {
                    perms,
                    id: Id::new(&scheme, &id),
                })
            })
            .collect()
    }

    pub fn strings(&mut self) -> JuteResult<Vec<String>> {
        let n = self.count()?;
        (0..n).map(|_| self.string()).collect()
    }
}

/// Adler-32 (java.util.zip.Adler32), which ZooKeeper uses for both file
/// kinds.
pub(crate) fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that cannot overflow u32 before the modulo.
    for chunk in bytes.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_known_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let big = vec![0xffu8; 100_000];
        // Reference: the naive per-byte modulo.
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &big {
            a = (a + x as u64) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler32(&big), ((b << 16) | a) as u32);
    }

    #[test]
    fn null_and_empty_buffers_differ() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 9];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.buffer().unwrap(), None);
        assert_eq!(r.buffer().unwrap(), Some(&[][..]));
        assert_eq!(r.buffer(), Err(JuteError::Eof));
    }
}
