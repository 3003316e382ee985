//! ZooKeeper snapshot files (`snapshot.<zxid hex>`): a FileHeader, the
//! sessions, the ACL cache, every node in pre-order, then an Adler-32 seal;
//! 3.6+ may append a tree digest with a second seal (`FileSnap`,
//! `SerializeUtils`, `DataTree.serialize`).

use std::collections::HashMap;

use super::image::{parent_of, Image, ZNode};
use super::jute::{adler32, JuteError, Reader};
use crate::tree::StatPersisted;
use crate::Acl;

/// "ZKSN".
pub(crate) const SNAP_MAGIC: i32 = 0x5A4B_534E;

/// ReferenceCountedACLCache's id for OPEN_ACL_UNSAFE, never stored in the map.
const OPEN_ACL_ID: i64 = -1;

/// Parses a whole snapshot; any error means the file is unusable.
pub fn parse_snapshot(bytes: &[u8]) -> Result<Image, String> {
    let mut r = Reader::new(bytes);
    parse_body(&mut r).map_err(|e| match e {
        JuteError::Eof => format!("truncated at byte {}", r.pos()),
        JuteError::Bad(why) => format!("{why} at byte {}", r.pos()),
    })
}

fn parse_body(r: &mut Reader) -> Result<Image, JuteError> {
    let magic = r.int()?;
    if magic != SNAP_MAGIC {
        return Err(JuteError::Bad("not a ZooKeeper snapshot (magic)".into()));
    }
    let _version = r.int()?;
    let _dbid = r.long()?;
    let mut image = Image::default();
    for _ in 0..r.count()? {
        let id = r.long()?;
        let timeout = r.int()?;
        image.sessions.insert(id, timeout);
    }
    let acls = acl_cache(r)?;
    read_nodes(r, &acls, &mut image)?;
    check_seal(r)?;
    // The digest is optional; when present, a second seal covers it too.
    if r.remaining() > 0 {
        let _digest = (r.long()?, r.int()?, r.long()?);
        check_seal(r)?;
    }
    Ok(image)
}

fn acl_cache(r: &mut Reader) -> Result<HashMap<i64, Vec<Acl>>, JuteError> {
    let n = r.int()?;
    let mut acls = HashMap::new();
    for _ in 0..n.max(0) {
        let id = r.long()?;
        acls.insert(id, r.acl_list()?);
    }
    Ok(acls)
}

fn read_nodes(
    r: &mut Reader,
    acls: &HashMap<i64, Vec<Acl>>,
    image: &mut Image,
) -> Result<(), JuteError> {
    loop {
        let path = r.string()?;
        if path == "/" {
            return Ok(());
        }
        let data = r.buffer()?.map(<[u8]>::to_vec);
        let acl_id = r.long()?;
        let stat = stat_persisted(r)?;
        let acl = match acl_id {
            OPEN_ACL_ID => Acl::open_unsafe(),
            id => acls
                .get(&id)
                .cloned()
                .ok_or_else(|| JuteError::Bad(format!("{path}: unknown ACL id {id}")))?,
        };
        // The root is stored as "".
        let path = if path.is_empty() { "/".into() } else { path };
        if path != "/" && !image.nodes.contains_key(parent_of(&path)) {
            return Err(JuteError::Bad(format!("{path}: parent missing")));
        }
        image.insert(path, ZNode { data, acl, stat });
    }
}

fn stat_persisted(r: &mut Reader) -> Result<StatPersisted, JuteError> {
    Ok(StatPersisted {
        czxid: r.long()?,
        mzxid: r.long()?,
        ctime: r.long()?,
        mtime: r.long()?,
        version: r.int()?,
        cversion: r.int()?,
        aversion: r.int()?,
        ephemeral_owner: r.long()?,
        pzxid: r.long()?,
    })
}

/// `SnapStream.checkSealIntegrity`: the Adler-32 of every byte so far,
/// then the string "/".
fn check_seal(r: &mut Reader) -> Result<(), JuteError> {
    let expected = adler32(&r.as_read()[..r.pos()]);
    let got = r.long()?;
    if r.string()? != "/" {
        return Err(JuteError::Bad("seal without its \"/\"".into()));
    }
    if got != expected as i64 {
        return Err(JuteError::Bad("checksum mismatch".into()));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds jute bytes by hand, as ZooKeeper's BinaryOutputArchive writes.
    #[derive(Default)]
    pub struct Out(pub Vec<u8>);

    impl Out {
        pub fn int(&mut self, v: i32) -> &mut Self {
            self.0.extend(v.to_be_bytes());
            self
        }
        pub fn long(&mut self, v: i64) -> &mut Self {
            self.0.extend(v.to_be_bytes());
            self
        }
        pub fn buf(&mut self, v: Option<&[u8]>) -> &mut Self {
            match v {
                None => self.int(-1),
                Some(b) => {
                    self.int(b.len() as i32);
                    self.0.extend(b);
                    self
                }
            }
        }
        pub fn str(&mut self, s: &str) -> &mut Self {
            self.buf(Some(s.as_bytes()))
        }
        pub fn acl_world(&mut self, perms: i32) -> &mut Self {
            self.int(1).int(perms).str("world").str("anyone")
        }
        pub fn stat(&mut self, zxid: i64, owner: i64) -> &mut Self {
            self.long(zxid).long(zxid).long(1000).long(1000);
            self.int(0).int(0).int(0).long(owner).long(zxid)
        }
        pub fn seal(&mut self) -> &mut Self {
            let sum = adler32(&self.0) as i64;
            self.long(sum).str("/")
        }
    }

    /// A snapshot: one session, one cached ACL, "/", "/a" (null data,
    /// cached ACL) and "/a/e" (ephemeral of the session).
    pub fn sample_snapshot() -> Vec<u8> {
        let mut o = Out::default();
        o.int(SNAP_MAGIC).int(2).long(-1);
        o.int(1).long(0x77).int(30000);
        o.int(1).long(1).acl_world(1);
        o.str("").buf(Some(b"")).long(-1).stat(0, 0);
        o.str("/a").buf(None).long(1).stat(5, 0);
        o.str("/a/e").buf(Some(b"x")).long(-1).stat(6, 0x77);
        o.str("/");
        o.seal();
        o.0
    }

    #[test]
    fn parses_sessions_acls_and_null_data() {
        let image = parse_snapshot(&sample_snapshot()).unwrap();
        assert_eq!(image.sessions.get(&0x77), Some(&30000));
        let a = &image.nodes["/a"];
        assert_eq!(a.data, None);
        assert_eq!(a.acl[0].perms, 1);
        assert_eq!(image.nodes["/"].data, Some(vec![]));
        assert_eq!(image.nodes["/a/e"].stat.ephemeral_owner, 0x77);
    }

    #[test]
    fn digest_after_the_seal_is_checked_too() {
        let mut o = Out(sample_snapshot());
        o.long(9).int(2).long(1234).seal();
        assert!(parse_snapshot(&o.0).is_ok());
        let last = o.0.len() - 6;
        o.0[last] ^= 1;
        assert!(parse_snapshot(&o.0).is_err());
    }

    #[test]
    fn corrupt_or_truncated_snapshots_fail() {
        let mut bytes = sample_snapshot();
        // The last byte of "/a/e"'s pzxid: before "/" (5) and the seal (13).
        let at = bytes.len() - 19;
        bytes[at] ^= 0x10;
        assert!(parse_snapshot(&bytes).unwrap_err().contains("checksum"));
        let bytes = sample_snapshot();
        assert!(parse_snapshot(&bytes[..bytes.len() - 3]).is_err());
    }
}
