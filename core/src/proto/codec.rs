//! Jute primitives: a `Writer` that appends big-endian values to a byte
//! vector and a `Reader` that takes them back off a borrowed slice, plus the
//! `Record` trait every wire record implements.
//!
//! The reader trusts nothing: every length is checked against the bytes that
//! are actually left before anything is allocated, so a hostile length
//! prefix costs an error, never memory or a panic.

use super::ProtoError;
use crate::types::{Acl, Id, Stat};

/// A jute record: something with a fixed field order on the wire.
pub trait Record: Sized {
    /// Appends the record's fields in wire order.
    fn write(&self, w: &mut Writer);
    /// Reads the record's fields in wire order.
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtoError>;
}

/// Appends jute-encoded values to a growable buffer. Writing cannot fail.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn with_capacity(cap: usize) -> Writer {
        Writer {
            buf: Vec::with_capacity(cap),
        }
    }

    /// Appends to an existing buffer, so callers can reuse allocations.
    pub fn from_vec(buf: Vec<u8>) -> Writer {
        Writer { buf }
    }

    pub fn write_int(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn write_long(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn write_bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    /// A length-prefixed byte buffer; `None` is jute's null (length -1).
    pub fn write_buffer(&mut self, v: Option<&[u8]>) {
        match v {
            None => self.write_int(-1),
            Some(b) => {
                self.write_int(len_i32(b.len()));
                self.buf.extend_from_slice(b);
            }
        }
    }

    /// A UTF-8 string with a 4-byte length prefix (jute `ustring`).
    pub fn write_string(&mut self, s: &str) {
        self.write_buffer(Some(s.as_bytes()));
    }

    /// A count-prefixed vector of records.
    pub fn write_vector<T: Record>(&mut self, items: &[T]) {
        self.write_int(len_i32(items.len()));
        for item in items {
            item.write(self);
        }
    }

    /// Bytes with no length prefix (only for bodies that are not jute).
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// A record by value, for symmetry with `Reader::read_record`.
    pub fn write_record<T: Record>(&mut self, rec: &T) {
        rec.write(self);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    /// Overwrites 4 bytes at `at` with `v`; used to patch a length prefix
    /// once the body after it is written.
    pub(crate) fn patch_int(&mut self, at: usize, v: i32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
}

/// Jute lengths are i32; anything bigger could never be framed anyway
/// (frames are capped far below 2 GiB), so saturating keeps `write` total.
fn len_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Reads jute-encoded values off a borrowed slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unconsumed bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        if n > self.buf.len() {
            return Err(ProtoError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], ProtoError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn read_int(&mut self) -> Result<i32, ProtoError> {
        Ok(i32::from_be_bytes(self.take_array()?))
    }

    pub fn read_long(&mut self) -> Result<i64, ProtoError> {
        Ok(i64::from_be_bytes(self.take_array()?))
    }

    /// Jute writes booleans as one byte; like Java, any non-zero is true.
    pub fn read_bool(&mut self) -> Result<bool, ProtoError> {
        Ok(self.take_array::<1>()?[0] != 0)
    }

    /// A length prefix for `count` units of at least `unit` bytes each:
    /// -1 is null, other negatives and counts the remaining bytes cannot
    /// hold are `BadLength`.
    fn read_len(&mut self, unit: usize) -> Result<Option<usize>, ProtoError> {
        let len = self.read_int()?;
        if len == -1 {
            return Ok(None);
        }
        let n = usize::try_from(len).map_err(|_| ProtoError::BadLength(len))?;
        if n.saturating_mul(unit) > self.buf.len() {
            return Err(ProtoError::BadLength(len));
        }
        Ok(Some(n))
    }

    /// A buffer as a borrowed slice; `None` for jute's null.
    pub fn read_buffer_ref(&mut self) -> Result<Option<&'a [u8]>, ProtoError> {
        match self.read_len(1)? {
            None => Ok(None),
            Some(n) => self.take(n).map(Some),
        }
    }

    /// A buffer; `None` for jute's null (length -1).
    pub fn read_opt_buffer(&mut self) -> Result<Option<Vec<u8>>, ProtoError> {
        Ok(self.read_buffer_ref()?.map(<[u8]>::to_vec))
    }

    /// A buffer with null read as empty, which is how records hold data.
    pub fn read_buffer(&mut self) -> Result<Vec<u8>, ProtoError> {
        Ok(self.read_opt_buffer()?.unwrap_or_default())
    }

    /// A `ustring`; Java's null string (length -1) reads as "".
    pub fn read_string(&mut self) -> Result<String, ProtoError> {
        let bytes = self.read_buffer_ref()?.unwrap_or_default();
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| ProtoError::BadUtf8)
    }

    /// A vector of records; null (-1) reads as empty. Every jute record
    /// takes at least one byte, so a count above the bytes left is refused
    /// before the vector is allocated.
    pub fn read_vector<T: Record>(&mut self) -> Result<Vec<T>, ProtoError> {
        let Some(n) = self.read_len(1)? else {
            return Ok(Vec::new());
        };
        // The count is bounded by bytes, not elements: start small so a
        // count of a million one-byte "records" cannot reserve a million
        // full-size structs up front.
        let mut out = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            out.push(T::read(self)?);
        }
        Ok(out)
    }

    pub fn read_record<T: Record>(&mut self) -> Result<T, ProtoError> {
        T::read(self)
    }
}

/// `ustring` as a record, so `vector<ustring>` is just `Vec<String>`.
impl Record for String {
    fn write(&self, w: &mut Writer) {
        w.write_string(self);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        r.read_string()
    }
}

impl Record for Stat {
    fn write(&self, w: &mut Writer) {
        w.write_long(self.czxid);
        w.write_long(self.mzxid);
        w.write_long(self.ctime);
        w.write_long(self.mtime);
        w.write_int(self.version);
        w.write_int(self.cversion);
        w.write_int(self.aversion);
        w.write_long(self.ephemeral_owner);
        w.write_int(self.data_length);
        w.write_int(self.num_children);
        w.write_long(self.pzxid);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        Ok(Stat {
            czxid: r.read_long()?,
            mzxid: r.read_long()?,
            ctime: r.read_long()?,
            mtime: r.read_long()?,
            version: r.read_int()?,
            cversion: r.read_int()?,
            aversion: r.read_int()?,
            ephemeral_owner: r.read_long()?,
            data_length: r.read_int()?,
            num_children: r.read_int()?,
            pzxid: r.read_long()?,
        })
    }
}

impl Record for Id {
    fn write(&self, w: &mut Writer) {
        w.write_string(&self.scheme);
        w.write_string(&self.id);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        Ok(Id {
            scheme: r.read_string()?,
            id: r.read_string()?,
        })
    }
}

impl Record for Acl {
    fn write(&self, w: &mut Writer) {
        w.write_int(self.perms);
        self.id.write(w);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        Ok(Acl {
            perms: r.read_int()?,
            id: Id::read(r)?,
        })
    }
}

/// Encodes one record into a fresh buffer.
pub fn to_bytes<T: Record>(rec: &T) -> Vec<u8> {
    let mut w = Writer::new();
    rec.write(&mut w);
    w.into_inner()
}

/// Decodes one record and insists the input holds nothing else.
pub fn from_bytes<T: Record>(buf: &[u8]) -> Result<T, ProtoError> {
    let mut r = Reader::new(buf);
    let v = T::read(&mut r)?;
    if !r.is_empty() {
        return Err(ProtoError::TrailingBytes(r.remaining()));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ints_are_big_endian() {
        let mut w = Writer::new();
        w.write_int(0x0102_0304);
        w.write_long(-2);
        w.write_bool(true);
        w.write_bool(false);
        assert_eq!(
            w.as_slice(),
            &[1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 1, 0]
        );
    }

    #[test]
    fn null_and_empty_buffers() {
        let mut w = Writer::new();
        w.write_buffer(None);
        w.write_buffer(Some(b""));
        w.write_string("ab");
        let bytes = w.into_inner();
        assert_eq!(
            bytes,
            [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 2, b'a', b'b']
        );
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read_opt_buffer().unwrap(), None);
        assert_eq!(r.read_opt_buffer().unwrap(), Some(vec![]));
        assert_eq!(r.read_string().unwrap(), "ab");
        assert!(r.is_empty());
    }

    #[test]
    fn null_string_and_vector_read_empty() {
        let bytes = [0xffu8; 8];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read_string().unwrap(), "");
        assert_eq!(r.read_vector::<String>().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn truncated_reads_fail() {
        assert_eq!(
            Reader::new(&[0, 0, 0]).read_int(),
            Err(ProtoError::Truncated)
        );
        assert_eq!(Reader::new(&[0; 7]).read_long(), Err(ProtoError::Truncated));
        assert_eq!(Reader::new(&[]).read_bool(), Err(ProtoError::Truncated));
    }

    #[test]
    fn hostile_lengths_fail_without_allocating() {
        // 2 GiB claimed, 2 bytes present.
        let bytes = [0x7f, 0xff, 0xff, 0xff, 1, 2];
        assert_eq!(
            Reader::new(&bytes).read_buffer(),
            Err(ProtoError::BadLength(i32::MAX))
        );
        assert_eq!(
            Reader::new(&bytes).read_vector::<Stat>().unwrap_err(),
            ProtoError::BadLength(i32::MAX)
        );
        let neg = [0xff, 0xff, 0xff, 0xfe];
        assert_eq!(
            Reader::new(&neg).read_string(),
            Err(ProtoError::BadLength(-2))
        );
        assert_eq!(
            Reader::new(&neg).read_vector::<Id>().unwrap_err(),
            ProtoError::BadLength(-2)
        );
    }

    #[test]
    fn bad_utf8_is_reported() {
        let bytes = [0, 0, 0, 2, 0xc3, 0x28];
        assert_eq!(Reader::new(&bytes).read_string(), Err(ProtoError::BadUtf8));
    }

    #[test]
    fn stat_golden_bytes() {
        let stat = Stat {
            czxid: 1,
            mzxid: 2,
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: 6,
            aversion: 7,
            ephemeral_owner: 8,
            data_length: 9,
            num_children: 10,
            pzxid: 11,
        };
        let mut want = Vec::new();
        for (v, wide) in [
            (1, true),
            (2, true),
            (3, true),
            (4, true),
            (5, false),
            (6, false),
            (7, false),
            (8, true),
            (9, false),
            (10, false),
            (11, true),
        ] {
            if wide {
                want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, v]);
            } else {
                want.extend_from_slice(&[0, 0, 0, v]);
            }
        }
        assert_eq!(want.len(), 68);
        assert_eq!(to_bytes(&stat), want);
        assert_eq!(from_bytes::<Stat>(&want).unwrap(), stat);
    }

    #[test]
    fn acl_golden_bytes() {
        let acl = Acl::open_unsafe();
        let mut w = Writer::new();
        w.write_vector(&acl);
        let mut want = vec![0, 0, 0, 1, 0, 0, 0, 31, 0, 0, 0, 5];
        want.extend_from_slice(b"world");
        want.extend_from_slice(&[0, 0, 0, 6]);
        want.extend_from_slice(b"anyone");
        assert_eq!(w.as_slice(), &want[..]);
        assert_eq!(Reader::new(&want).read_vector::<Acl>().unwrap(), acl);
    }

    #[test]
    fn from_bytes_rejects_trailing() {
        let mut bytes = to_bytes(&Id::new("a", "b"));
        bytes.push(0);
        assert_eq!(from_bytes::<Id>(&bytes), Err(ProtoError::TrailingBytes(1)));
    }

    proptest! {
        #[test]
        fn primitives_round_trip(
            i in any::<i32>(),
            l in any::<i64>(),
            b in any::<bool>(),
            buf in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
            s in ".{0,32}",
            v in proptest::collection::vec(".{0,8}", 0..8),
        ) {
            let mut w = Writer::new();
            w.write_int(i);
            w.write_long(l);
            w.write_bool(b);
            w.write_buffer(buf.as_deref());
            w.write_string(&s);
            w.write_vector(&v);
            let bytes = w.into_inner();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.read_int().unwrap(), i);
            prop_assert_eq!(r.read_long().unwrap(), l);
            prop_assert_eq!(r.read_bool().unwrap(), b);
            prop_assert_eq!(r.read_opt_buffer().unwrap(), buf);
            prop_assert_eq!(r.read_string().unwrap(), s);
            prop_assert_eq!(r.read_vector::<String>().unwrap(), v);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = Reader::new(&bytes).read_vector::<Acl>();
            let _ = Reader::new(&bytes).read_vector::<String>();
            let _ = Reader::new(&bytes).read_buffer();
            let _ = Reader::new(&bytes).read_record::<Stat>();
        }

        #[test]
        fn stat_round_trips(a in any::<[i64; 5]>(), b in any::<[i32; 6]>()) {
            let stat = Stat {
                czxid: a[0], mzxid: a[1], ctime: a[2], mtime: a[3],
                version: b[0], cversion: b[1], aversion: b[2],
                ephemeral_owner: a[4], data_length: b[3], num_children: b[4],
                pzxid: i64::from(b[5]),
            };
            prop_assert_eq!(from_bytes::<Stat>(&to_bytes(&stat)).unwrap(), stat);
        }
    }
}
