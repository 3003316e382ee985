//! ZooKeeper transaction logs (`log.<first zxid hex>`): a FileHeader, then
//! records of {long Adler-32, int length, bytes, byte 'B'}, the bytes being
//! a TxnHeader, the txn record and, in 3.6+, a digest (`FileTxnLog`,
//! `Util.readTxnBytes`, `SerializeUtils.deserializeTxn`). Files are
//! preallocated with zeros, so a zero length ends the log; a record cut
//! short by a crash (no 'B') ends it too; a checksum mismatch is an error.

use super::image::{NodeKind, TxnHeader, ZkTxn};
use super::jute::{adler32, JuteError, JuteResult, Reader};

/// "ZKLG".
const LOG_MAGIC: i32 = 0x5A4B_4C47;

/// One log's transactions and how it ended.
#[derive(Debug)]
pub struct LogContents {
    pub entries: Vec<(TxnHeader, ZkTxn)>,
    /// Byte offset of a torn record that ended the log, if one did.
    pub torn_at: Option<usize>,
}

/// Reads a log file's bytes; Err (with the offset) on a bad magic, a
/// checksum mismatch or an undecodable record.
pub fn parse_log(bytes: &[u8]) -> Result<LogContents, String> {
    let mut r = Reader::new(bytes);
    let header = (r.int(), r.int(), r.long());
    if header.0 != Ok(LOG_MAGIC) || header.2.is_err() {
        return Err("not a ZooKeeper transaction log (magic)".into());
    }
    let mut entries = Vec::new();
    loop {
        let start = r.pos();
        match next_record(&mut r) {
            Ok(Some(bytes)) => {
                let entry = decode_entry(bytes)
                    .map_err(|e| format!("undecodable txn at byte {start}: {e:?}"))?;
                entries.push(entry);
            }
            Ok(None) => {
                return Ok(LogContents {
                    entries,
                    torn_at: None,
                })
            }
            Err(JuteError::Eof) => {
                let torn_at = Some(start);
                return Ok(LogContents { entries, torn_at });
            }
            Err(JuteError::Bad(why)) => return Err(format!("{why} at byte {start}")),
        }
    }
}

/// The next record's txn bytes: None at the (zero-filled) end, Eof when
/// torn, Bad on a checksum mismatch.
fn next_record<'a>(r: &mut Reader<'a>) -> JuteResult<Option<&'a [u8]>> {
    if r.remaining() == 0 {
        return Ok(None);
    }
    let crc = r.long()?;
    let len = r.int()?;
    if len == 0 {
        return Ok(None);
    }
    if len < 0 || len as usize > r.remaining() {
        return Err(JuteError::Eof);
    }
    let bytes = r.take(len as usize)?;
    if r.byte()? != b'B' {
        return Err(JuteError::Eof);
    }
    if crc != adler32(bytes) as i64 {
        return Err(JuteError::Bad("transaction checksum mismatch".into()));
    }
    Ok(Some(bytes))
}

fn decode_entry(bytes: &[u8]) -> JuteResult<(TxnHeader, ZkTxn)> {
    let mut r = Reader::new(bytes);
    let hdr = TxnHeader {
        client_id: r.long()?,
        cxid: r.int()?,
        zxid: r.long()?,
        time: r.long()?,
        kind: r.int()?,
    };
    let txn = decode_txn(hdr.kind, &mut r)?;
    Ok((hdr, txn))
}

/// Decodes the record of a txn of type `kind` (ZooDefs.OpCode).
fn decode_txn(kind: i32, r: &mut Reader) -> JuteResult<ZkTxn> {
    Ok(match kind {
        -10 => ZkTxn::CreateSession { timeout: r.int()? },
        -11 => ZkTxn::CloseSession {
            paths: close_paths(r),
        },
        1 | 15 => create(r)?,
        19 | 21 => create_extended(kind, r)?,
        2 | 20 => ZkTxn::Delete { path: r.string()? },
        5 | 16 => ZkTxn::SetData {
            path: r.string()?,
            data: r.buffer()?.map(<[u8]>::to_vec),
            version: r.int()?,
        },
        7 => ZkTxn::SetAcl {
            path: r.string()?,
            acl: r.acl_list()?,
            version: r.int()?,
        },
        13 | -1 => ZkTxn::Nothing,
        14 => multi(r)?,
        other => return Err(JuteError::Bad(format!("unsupported txn type {other}"))),
    })
}

/// CloseSessionTxn's paths, when this log has them: before 3.6 (or with
/// closeSessionTxn disabled) the record is empty or only a digest.
fn close_paths(r: &mut Reader) -> Option<Vec<String>> {
    if r.remaining() == 0 {
        return None;
    }
    r.strings()
        .ok()
        .filter(|p| p.iter().all(|p| p.starts_with('/')))
}

/// CreateTxn, or CreateTxnV0 (no parentCVersion) from the oldest logs.
fn create(r: &mut Reader) -> JuteResult<ZkTxn> {
    let path = r.string()?;
    let data = r.buffer()?.map(<[u8]>::to_vec);
    let acl = r.acl_list()?;
    let kind = match r.bool()? {
        true => NodeKind::Ephemeral,
        false => NodeKind::Persistent,
    };
    let parent_cversion = r.int().unwrap_or(-1);
    Ok(ZkTxn::Create {
        path,
        data,
        acl,
        kind,
        parent_cversion,
    })
}

/// CreateContainerTxn (19) and CreateTTLTxn (21).
fn create_extended(kind: i32, r: &mut Reader) -> JuteResult<ZkTxn> {
    let path = r.string()?;
    let data = r.buffer()?.map(<[u8]>::to_vec);
    let acl = r.acl_list()?;
    let parent_cversion = r.int()?;
    let kind = match kind {
        19 => NodeKind::Container,
        _ => {
            let ttl = r.long()?;
            let owner = crate::ttl_owner(ttl)
                .ok_or_else(|| JuteError::Bad(format!("TTL {ttl} out of range")))?;
            NodeKind::Ttl(owner)
        }
    };
    Ok(ZkTxn::Create {
        path,
        data,
        acl,
        kind,
        parent_cversion,
    })
}

/// MultiTxn: {int type, buffer record} per op. A multi that failed logs
/// an error op, and then nothing of it applies.
fn multi(r: &mut Reader) -> JuteResult<ZkTxn> {
    let n = r.count()?;
    let mut ops = Vec::with_capacity(n);
    let mut failed = false;
    for _ in 0..n {
        let kind = r.int()?;
        let bytes = r.buffer()?.unwrap_or_default();
        failed |= kind == -1;
        if !failed {
            ops.push(decode_txn(kind, &mut Reader::new(bytes))?);
        }
    }
    Ok(match failed {
        true => ZkTxn::Nothing,
        false => ZkTxn::Multi(ops),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::snap::tests::Out;
    use super::*;

    fn header(o: &mut Out, session: i64, zxid: i64, kind: i32) {
        o.long(session).int(1).long(zxid).long(2000).int(kind);
    }

    /// A record around `txn` as FileTxnLog appends it.
    fn record(log: &mut Out, txn: &[u8]) {
        log.long(adler32(txn) as i64).buf(Some(txn));
        log.0.push(b'B');
    }

    pub fn sample_log() -> Out {
        let mut log = Out::default();
        log.int(LOG_MAGIC).int(2).long(0);
        let mut t = Out::default();
        header(&mut t, 0x77, 10, -10);
        t.int(5000);
        record(&mut log, &t.0);
        let mut t = Out::default();
        header(&mut t, 0x77, 11, 15);
        t.str("/b").buf(None).acl_world(31).0.push(1);
        t.int(3);
        record(&mut log, &t.0);
        let mut t = Out::default();
        header(&mut t, 0x77, 12, 14);
        let mut op = Out::default();
        op.str("/b").buf(Some(b"v")).int(1);
        t.int(1).int(5).buf(Some(&op.0));
        record(&mut log, &t.0);
        log
    }

    #[test]
    fn parses_session_create_and_multi() {
        let mut log = sample_log();
        log.0.extend([0u8; 64]); // preallocated tail
        let got = parse_log(&log.0).unwrap();
        assert_eq!(got.torn_at, None);
        assert_eq!(got.entries.len(), 3);
        assert_eq!(got.entries[0].1, ZkTxn::CreateSession { timeout: 5000 });
        let ZkTxn::Create {
            kind,
            data,
            parent_cversion,
            ..
        } = &got.entries[1].1
        else {
            panic!("not a create: {:?}", got.entries[1].1);
        };
        assert_eq!(
            (*kind, data, *parent_cversion),
            (NodeKind::Ephemeral, &None, 3)
        );
        assert!(matches!(&got.entries[2].1, ZkTxn::Multi(ops) if ops.len() == 1));
    }

    #[test]
    fn torn_tail_ends_the_log() {
        let log = sample_log();
        // Cut inside the last record, then with the 'B' missing.
        let cut = &log.0[..log.0.len() - 4];
        let got = parse_log(cut).unwrap();
        assert_eq!(got.entries.len(), 2);
        assert!(got.torn_at.is_some());
        let mut no_eor = log.0.clone();
        *no_eor.last_mut().unwrap() = 0;
        assert_eq!(parse_log(&no_eor).unwrap().entries.len(), 2);
    }

    #[test]
    fn checksum_mismatch_is_an_error() {
        let mut log = sample_log();
        let at = log.0.len() - 3; // inside the last txn's bytes
        log.0[at] ^= 0x01;
        let err = parse_log(&log.0).unwrap_err();
        assert!(err.contains("checksum"), "{err}");
    }

    #[test]
    fn a_failed_multi_changes_nothing_and_v0_creates_read() {
        let mut t = Out::default();
        let mut ok_op = Out::default();
        ok_op.str("/x").buf(None).acl_world(31).0.push(0);
        ok_op.int(1);
        t.int(2)
            .int(1)
            .buf(Some(&ok_op.0))
            .int(-1)
            .buf(Some(&(-101i32).to_be_bytes()));
        assert_eq!(multi(&mut Reader::new(&t.0)).unwrap(), ZkTxn::Nothing);
        // CreateTxnV0: no parentCVersion at all.
        let mut v0 = Out::default();
        v0.str("/old").buf(Some(b"d")).acl_world(31).0.push(0);
        let txn = decode_txn(1, &mut Reader::new(&v0.0)).unwrap();
        assert!(matches!(
            txn,
            ZkTxn::Create {
                parent_cversion: -1,
                ..
            }
        ));
        // CloseSessionTxn's paths (3.6+), and none before.
        let mut close = Out::default();
        close.int(1).str("/e");
        let paths = close_paths(&mut Reader::new(&close.0));
        assert_eq!(paths, Some(vec!["/e".to_string()]));
        assert_eq!(close_paths(&mut Reader::new(&[])), None);
    }
}
