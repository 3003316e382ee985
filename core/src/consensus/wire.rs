//! Append requests on the peer protocol, encoded and decoded around each
//! entry's bytes: a leader sends the bytes its log stored for an entry,
//! and a follower stores the bytes it received, so an entry is encoded
//! once, by the leader that appended it. The layout is bincode's for
//! `PeerRequest::Append`, byte for byte, so members of either kind read
//! each other.

use std::io;

use bytes::Bytes;
use openraft::entry::RaftEntry;
use openraft::raft::AppendEntriesRequest;
use openraft::type_config::alias::{EntryOf, LogIdOf};

use super::log_store::{decode, decode_at as take};
use super::peer::PeerRequest;
use super::TypeConfig;

type C = TypeConfig;

/// `PeerRequest::Append`'s variant index (its first variant).
const APPEND: u32 = 0;

/// An entry's log id and its encoded bytes.
pub type RawEntry = (LogIdOf<C>, Bytes);

fn put<T: serde::Serialize>(v: &T, out: &mut Vec<u8>) -> io::Result<()> {
    bincode::serde::encode_into_std_write(v, out, bincode::config::standard())
        .map(drop)
        .map_err(io::Error::other)
}

/// `PeerRequest::Append(req)` as bincode encodes it, with each entry's
/// bytes taken from `stored` where it has them (same order as the entries).
pub fn encode_append(
    req: &AppendEntriesRequest<C>,
    stored: &[Option<Bytes>],
) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + stored.iter().flatten().map(Bytes::len).sum::<usize>());
    put(&APPEND, &mut out)?;
    put(&req.vote, &mut out)?;
    put(&req.prev_log_id, &mut out)?;
    put(&(req.entries.len() as u64), &mut out)?;
    for (i, e) in req.entries.iter().enumerate() {
        match stored.get(i) {
            Some(Some(bytes)) => out.extend_from_slice(bytes),
            _ => put(e, &mut out)?,
        }
    }
    put(&req.leader_commit, &mut out)?;
    Ok(out)
}

/// A request from its frame body; for an append, also each entry with its
/// bytes in the frame.
pub fn decode_request(body: Bytes) -> io::Result<(PeerRequest, Vec<RawEntry>)> {
    let mut at = 0;
    if take::<u32>(&body, &mut at)? != APPEND {
        return Ok((decode(&body)?, Vec::new()));
    }
    let vote = take(&body, &mut at)?;
    let prev_log_id = take(&body, &mut at)?;
    let count: u64 = take(&body, &mut at)?;
    // The count is the sender's word: room only for what the frame can hold.
    let mut entries = Vec::with_capacity(count.min(body.len() as u64) as usize);
    let mut raw = Vec::with_capacity(entries.capacity());
    for _ in 0..count {
        let start = at;
        let e: EntryOf<C> = take(&body, &mut at)?;
        raw.push((e.log_id(), body.slice(start..at)));
        entries.push(e);
    }
    let leader_commit = take(&body, &mut at)?;
    let req = AppendEntriesRequest {
        vote,
        prev_log_id,
        entries,
        leader_commit,
    };
    Ok((PeerRequest::Append(req), raw))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::consensus::log_store::encode_any;
    use crate::state::{Txn, TxnOp};
    use openraft::impls::leader_id_adv::LeaderId;
    use openraft::{EntryPayload, LogId, Vote};

    fn log_id(term: u64, index: u64) -> LogIdOf<C> {
        LogId::new(LeaderId { term, node_id: 2 }, index)
    }

    fn write(i: u64) -> EntryOf<C> {
        let op = TxnOp::SetData {
            path: format!("/n{i}"),
            data: (!i.is_multiple_of(3)).then(|| vec![i as u8; (i % 200) as usize]),
            version: -1,
        };
        let txn = Txn {
            session: i as i64,
            owner: 9,
            time: 1_700_000_000_000 + i as i64,
            auth: Arc::new([]),
            super_user: false,
            op: Arc::new(op),
        };
        EntryOf::<C> {
            log_id: log_id(3, i),
            payload: EntryPayload::Normal(txn),
        }
    }

    fn append(entries: Vec<EntryOf<C>>) -> AppendEntriesRequest<C> {
        AppendEntriesRequest {
            vote: Vote::new_committed(3, 2),
            prev_log_id: Some(log_id(2, 4)),
            entries,
            leader_commit: Some(log_id(3, 6)),
        }
    }

    fn entry_bytes(e: &EntryOf<C>) -> Option<Bytes> {
        Some(Bytes::from(encode_any(e).unwrap()))
    }

    /// With stored bytes for some entries or none, an append encodes as
    /// bincode encodes the request, and decodes back to the same entries,
    /// each with the bytes it was stored as.
    #[test]
    fn appends_encode_as_bincode_and_carry_their_entries_bytes() {
        for n in [0u64, 1, 5, 40] {
            let entries: Vec<_> = (5..5 + n).map(write).collect();
            let req = append(entries.clone());
            let whole = encode_any(&PeerRequest::Append(req.clone())).unwrap();
            let some: Vec<_> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| if i % 2 == 0 { entry_bytes(e) } else { None })
                .collect();
            for stored in [Vec::new(), some, entries.iter().map(entry_bytes).collect()] {
                assert_eq!(encode_append(&req, &stored).unwrap(), whole, "{n} entries");
            }
            let (got, raw) = decode_request(Bytes::from(whole)).unwrap();
            let PeerRequest::Append(got) = got else {
                panic!("not an append")
            };
            assert_eq!(got.entries, entries);
            assert_eq!((got.vote, got.prev_log_id), (req.vote, req.prev_log_id));
            assert_eq!(got.leader_commit, req.leader_commit);
            let want: Vec<_> = entries
                .iter()
                .map(|e| (e.log_id, entry_bytes(e).unwrap()))
                .collect();
            assert_eq!(raw, want);
        }
    }

    /// Other requests decode as before, and a cut or lying append is an
    /// error, not a panic or a huge allocation.
    #[test]
    fn other_requests_and_broken_appends() {
        let touch = encode_any(&PeerRequest::Touch(vec![7, 8])).unwrap();
        let (got, raw) = decode_request(Bytes::from(touch)).unwrap();
        assert!(matches!(got, PeerRequest::Touch(s) if s == vec![7, 8]));
        assert!(raw.is_empty());

        let whole = encode_any(&PeerRequest::Append(append((1..4).map(write).collect()))).unwrap();
        for cut in [1, 5, whole.len() / 2, whole.len() - 1] {
            assert!(
                decode_request(Bytes::copy_from_slice(&whole[..cut])).is_err(),
                "cut at {cut}"
            );
        }
        // An entry count far beyond what the frame holds.
        let mut lying = Vec::new();
        put(&APPEND, &mut lying).unwrap();
        let vote: openraft::type_config::alias::VoteOf<C> = Vote::new(1, 1);
        put(&vote, &mut lying).unwrap();
        put(&None::<LogIdOf<C>>, &mut lying).unwrap();
        put(&u64::MAX, &mut lying).unwrap();
        assert!(decode_request(Bytes::from(lying)).is_err());
    }
}
