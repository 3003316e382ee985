//! Client requests: which record follows a `RequestHeader` for each opcode,
//! and the multi / multiRead bodies (MultiOperationRecord).
//!
//! Decoding only checks shape. It does not check paths, versions, flags or
//! whether the server implements the op (reconfig and SASL decode so the
//! server can answer them with a proper error).

use super::codec::{Reader, Record, Writer};
use super::records::*;
use super::{op, ProtoError};

/// One write op inside a `multi` (opcode 14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    Create(CreateRequest),
    Create2(CreateRequest),
    CreateContainer(CreateRequest),
    CreateTTL(CreateTTLRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
}

impl MultiOp {
    pub fn op_type(&self) -> i32 {
        match self {
            MultiOp::Create(_) => op::CREATE,
            MultiOp::Create2(_) => op::CREATE2,
            MultiOp::CreateContainer(_) => op::CREATE_CONTAINER,
            MultiOp::CreateTTL(_) => op::CREATE_TTL,
            MultiOp::Delete(_) => op::DELETE,
            MultiOp::SetData(_) => op::SET_DATA,
            MultiOp::Check(_) => op::CHECK,
        }
    }

    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(c) | MultiOp::Create2(c) | MultiOp::CreateContainer(c) => &c.path,
            MultiOp::CreateTTL(c) => &c.path,
            MultiOp::Delete(d) => &d.path,
            MultiOp::SetData(s) => &s.path,
            MultiOp::Check(c) => &c.path,
        }
    }

    fn write_body(&self, w: &mut Writer) {
        match self {
            MultiOp::Create(c) | MultiOp::Create2(c) | MultiOp::CreateContainer(c) => c.write(w),
            MultiOp::CreateTTL(c) => c.write(w),
            MultiOp::Delete(d) => d.write(w),
            MultiOp::SetData(s) => s.write(w),
            MultiOp::Check(c) => c.write(w),
        }
    }

    fn read_body(op_type: i32, r: &mut Reader<'_>) -> Result<MultiOp, ProtoError> {
        Ok(match op_type {
            op::CREATE => MultiOp::Create(r.read_record()?),
            op::CREATE2 => MultiOp::Create2(r.read_record()?),
            op::CREATE_CONTAINER => MultiOp::CreateContainer(r.read_record()?),
            op::CREATE_TTL => MultiOp::CreateTTL(r.read_record()?),
            op::DELETE => MultiOp::Delete(r.read_record()?),
            op::SET_DATA => MultiOp::SetData(r.read_record()?),
            op::CHECK => MultiOp::Check(r.read_record()?),
            other => return Err(ProtoError::BadMultiOp(other)),
        })
    }
}

/// One read op inside a `multiRead` (opcode 22).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiReadOp {
    GetChildren(GetChildrenRequest),
    GetData(GetDataRequest),
}

impl MultiReadOp {
    pub fn op_type(&self) -> i32 {
        match self {
            MultiReadOp::GetChildren(_) => op::GET_CHILDREN,
            MultiReadOp::GetData(_) => op::GET_DATA,
        }
    }

    pub fn path(&self) -> &str {
        match self {
            MultiReadOp::GetChildren(g) => &g.path,
            MultiReadOp::GetData(g) => &g.path,
        }
    }

    fn write_body(&self, w: &mut Writer) {
        match self {
            MultiReadOp::GetChildren(g) => g.write(w),
            MultiReadOp::GetData(g) => g.write(w),
        }
    }

    fn read_body(op_type: i32, r: &mut Reader<'_>) -> Result<MultiReadOp, ProtoError> {
        Ok(match op_type {
            op::GET_CHILDREN => MultiReadOp::GetChildren(r.read_record()?),
            op::GET_DATA => MultiReadOp::GetData(r.read_record()?),
            other => return Err(ProtoError::BadMultiOp(other)),
        })
    }
}

/// Request headers inside a multi carry err -1; ZooKeeper ignores it.
fn write_multi<T>(
    w: &mut Writer,
    ops: &[T],
    op_type: impl Fn(&T) -> i32,
    body: impl Fn(&T, &mut Writer),
) {
    for o in ops {
        MultiHeader {
            type_: op_type(o),
            done: false,
            err: -1,
        }
        .write(w);
        body(o, w);
    }
    MultiHeader {
        type_: -1,
        done: true,
        err: -1,
    }
    .write(w);
}

/// Reads (header, op) pairs until a header with `done` set; like ZooKeeper,
/// only `done` ends the list, whatever the end header's type and err.
fn read_multi<T>(
    r: &mut Reader<'_>,
    read_body: impl Fn(i32, &mut Reader<'_>) -> Result<T, ProtoError>,
) -> Result<Vec<T>, ProtoError> {
    let mut ops = Vec::new();
    loop {
        let h = MultiHeader::read(r)?;
        if h.done {
            return Ok(ops);
        }
        ops.push(read_body(h.type_, r)?);
    }
}

/// A decoded client request: the body that follows a `RequestHeader`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Create(CreateRequest),
    Create2(CreateRequest),
    CreateContainer(CreateRequest),
    CreateTTL(CreateTTLRequest),
    Delete(DeleteRequest),
    /// Internal in ZooKeeper (the container reaper): the body is the raw
    /// UTF-8 path with no length prefix.
    DeleteContainer(String),
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    SetData(SetDataRequest),
    GetAcl(GetACLRequest),
    SetAcl(SetACLRequest),
    GetChildren(GetChildrenRequest),
    GetChildren2(GetChildren2Request),
    Sync(SyncRequest),
    Ping,
    Check(CheckVersionRequest),
    Multi(Vec<MultiOp>),
    MultiRead(Vec<MultiReadOp>),
    Reconfig(ReconfigRequest),
    Auth(AuthPacket),
    SetWatches(SetWatches),
    SetWatches2(SetWatches2),
    Sasl(GetSASLRequest),
    GetEphemerals(GetEphemeralsRequest),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    AddWatch(AddWatchRequest),
    CheckWatches(CheckWatchesRequest),
    RemoveWatches(RemoveWatchesRequest),
    WhoAmI,
    CloseSession,
}

impl Request {
    /// Decodes the body for `op_type`. Bytes after the body are left in
    /// `body` and ignored, as ZooKeeper does.
    pub fn decode(op_type: i32, body: &mut Reader<'_>) -> Result<Request, ProtoError> {
        let r = body;
        Ok(match op_type {
            op::CREATE => Request::Create(r.read_record()?),
            op::CREATE2 => Request::Create2(r.read_record()?),
            op::CREATE_CONTAINER => Request::CreateContainer(r.read_record()?),
            op::CREATE_TTL => Request::CreateTTL(r.read_record()?),
            op::DELETE => Request::Delete(r.read_record()?),
            op::DELETE_CONTAINER => {
                let raw = r.rest();
                *r = Reader::new(&[]);
                let path = std::str::from_utf8(raw).map_err(|_| ProtoError::BadUtf8)?;
                Request::DeleteContainer(path.to_owned())
            }
            op::EXISTS => Request::Exists(r.read_record()?),
            op::GET_DATA => Request::GetData(r.read_record()?),
            op::SET_DATA => Request::SetData(r.read_record()?),
            op::GET_ACL => Request::GetAcl(r.read_record()?),
            op::SET_ACL => Request::SetAcl(r.read_record()?),
            op::GET_CHILDREN => Request::GetChildren(r.read_record()?),
            op::GET_CHILDREN2 => Request::GetChildren2(r.read_record()?),
            op::SYNC => Request::Sync(r.read_record()?),
            op::PING => Request::Ping,
            op::CHECK => Request::Check(r.read_record()?),
            op::MULTI => Request::Multi(read_multi(r, MultiOp::read_body)?),
            op::MULTI_READ => Request::MultiRead(read_multi(r, MultiReadOp::read_body)?),
            op::RECONFIG => Request::Reconfig(r.read_record()?),
            op::AUTH => Request::Auth(r.read_record()?),
            op::SET_WATCHES => Request::SetWatches(r.read_record()?),
            op::SET_WATCHES2 => Request::SetWatches2(r.read_record()?),
            op::SASL => Request::Sasl(r.read_record()?),
            op::GET_EPHEMERALS => Request::GetEphemerals(r.read_record()?),
            op::GET_ALL_CHILDREN_NUMBER => Request::GetAllChildrenNumber(r.read_record()?),
            op::ADD_WATCH => Request::AddWatch(r.read_record()?),
            op::CHECK_WATCHES => Request::CheckWatches(r.read_record()?),
            op::REMOVE_WATCHES => Request::RemoveWatches(r.read_record()?),
            op::WHO_AM_I => Request::WhoAmI,
            op::CLOSE_SESSION => Request::CloseSession,
            other => return Err(ProtoError::UnknownOpcode(other)),
        })
    }

    /// Writes the body (not the header).
    pub fn encode(&self, w: &mut Writer) {
        match self {
            Request::Create(c) | Request::Create2(c) | Request::CreateContainer(c) => c.write(w),
            Request::CreateTTL(c) => c.write(w),
            Request::Delete(d) => d.write(w),
            // Raw bytes, no length prefix: see the variant's doc.
            Request::DeleteContainer(path) => w.write_raw(path.as_bytes()),
            Request::Exists(x) => x.write(w),
            Request::GetData(x) => x.write(w),
            Request::SetData(x) => x.write(w),
            Request::GetAcl(x) => x.write(w),
            Request::SetAcl(x) => x.write(w),
            Request::GetChildren(x) => x.write(w),
            Request::GetChildren2(x) => x.write(w),
            Request::Sync(x) => x.write(w),
            Request::Ping | Request::WhoAmI | Request::CloseSession => {}
            Request::Check(x) => x.write(w),
            Request::Multi(ops) => write_multi(w, ops, MultiOp::op_type, MultiOp::write_body),
            Request::MultiRead(ops) => {
                write_multi(w, ops, MultiReadOp::op_type, MultiReadOp::write_body)
            }
            Request::Reconfig(x) => x.write(w),
            Request::Auth(x) => x.write(w),
            Request::SetWatches(x) => x.write(w),
            Request::SetWatches2(x) => x.write(w),
            Request::Sasl(x) => x.write(w),
            Request::GetEphemerals(x) => x.write(w),
            Request::GetAllChildrenNumber(x) => x.write(w),
            Request::AddWatch(x) => x.write(w),
            Request::CheckWatches(x) => x.write(w),
            Request::RemoveWatches(x) => x.write(w),
        }
    }

    pub fn op_type(&self) -> i32 {
        match self {
            Request::Create(_) => op::CREATE,
            Request::Create2(_) => op::CREATE2,
            Request::CreateContainer(_) => op::CREATE_CONTAINER,
            Request::CreateTTL(_) => op::CREATE_TTL,
            Request::Delete(_) => op::DELETE,
            Request::DeleteContainer(_) => op::DELETE_CONTAINER,
            Request::Exists(_) => op::EXISTS,
            Request::GetData(_) => op::GET_DATA,
            Request::SetData(_) => op::SET_DATA,
            Request::GetAcl(_) => op::GET_ACL,
            Request::SetAcl(_) => op::SET_ACL,
            Request::GetChildren(_) => op::GET_CHILDREN,
            Request::GetChildren2(_) => op::GET_CHILDREN2,
            Request::Sync(_) => op::SYNC,
            Request::Ping => op::PING,
            Request::Check(_) => op::CHECK,
            Request::Multi(_) => op::MULTI,
            Request::MultiRead(_) => op::MULTI_READ,
            Request::Reconfig(_) => op::RECONFIG,
            Request::Auth(_) => op::AUTH,
            Request::SetWatches(_) => op::SET_WATCHES,
            Request::SetWatches2(_) => op::SET_WATCHES2,
            Request::Sasl(_) => op::SASL,
            Request::GetEphemerals(_) => op::GET_EPHEMERALS,
            Request::GetAllChildrenNumber(_) => op::GET_ALL_CHILDREN_NUMBER,
            Request::AddWatch(_) => op::ADD_WATCH,
            Request::CheckWatches(_) => op::CHECK_WATCHES,
            Request::RemoveWatches(_) => op::REMOVE_WATCHES,
            Request::WhoAmI => op::WHO_AM_I,
            Request::CloseSession => op::CLOSE_SESSION,
        }
    }

    /// The header plus body, unframed.
    pub fn to_packet(&self, xid: i32) -> Vec<u8> {
        let mut w = Writer::new();
        RequestHeader {
            xid,
            op_type: self.op_type(),
        }
        .write(&mut w);
        self.encode(&mut w);
        w.into_inner()
    }
}

/// Decodes one request packet (a frame's payload after the length prefix):
/// the `RequestHeader`, then the body its opcode names.
pub fn decode_request(packet: &[u8]) -> Result<(RequestHeader, Request), ProtoError> {
    let mut r = Reader::new(packet);
    let header = RequestHeader::read(&mut r)?;
    let req = Request::decode(header.op_type, &mut r)?;
    Ok((header, req))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Acl, Id};
    use proptest::prelude::*;

    fn create(path: &str) -> CreateRequest {
        CreateRequest {
            path: path.into(),
            data: Some(b"v".to_vec()),
            acl: Acl::open_unsafe(),
            flags: 1,
        }
    }

    /// One request per opcode the decoder knows.
    fn samples() -> Vec<Request> {
        let names = vec!["/a".to_string(), "/b".to_string()];
        vec![
            Request::Create(create("/c")),
            Request::Create2(create("/c2")),
            Request::CreateContainer(create("/cc")),
            Request::CreateTTL(CreateTTLRequest {
                path: "/t".into(),
                data: Some(vec![]),
                acl: Acl::creator_all(),
                flags: 5,
                ttl: 60_000,
            }),
            Request::Delete(DeleteRequest {
                path: "/d".into(),
                version: -1,
            }),
            Request::DeleteContainer("/cc".into()),
            Request::Exists(ExistsRequest {
                path: "/e".into(),
                watch: true,
            }),
            Request::GetData(GetDataRequest {
                path: "/g".into(),
                watch: false,
            }),
            Request::SetData(SetDataRequest {
                path: "/s".into(),
                data: Some(vec![0, 1]),
                version: 3,
            }),
            Request::GetAcl(GetACLRequest { path: "/ga".into() }),
            Request::SetAcl(SetACLRequest {
                path: "/sa".into(),
                acl: Acl::read_unsafe(),
                version: 0,
            }),
            Request::GetChildren(GetChildrenRequest {
                path: "/".into(),
                watch: true,
            }),
            Request::GetChildren2(GetChildren2Request {
                path: "/".into(),
                watch: false,
            }),
            Request::Sync(SyncRequest { path: "/".into() }),
            Request::Ping,
            Request::Check(CheckVersionRequest {
                path: "/k".into(),
                version: 2,
            }),
            Request::Multi(vec![
                MultiOp::Create(create("/m1")),
                MultiOp::Create2(create("/m2")),
                MultiOp::CreateContainer(create("/m3")),
                MultiOp::CreateTTL(CreateTTLRequest {
                    path: "/m4".into(),
                    ttl: 5,
                    ..Default::default()
                }),
                MultiOp::Delete(DeleteRequest {
                    path: "/m5".into(),
                    version: 1,
                }),
                MultiOp::SetData(SetDataRequest {
                    path: "/m6".into(),
                    data: Some(vec![7]),
                    version: -1,
                }),
                MultiOp::Check(CheckVersionRequest {
                    path: "/m7".into(),
                    version: 0,
                }),
            ]),
            Request::Multi(vec![]),
            Request::MultiRead(vec![
                MultiReadOp::GetChildren(GetChildrenRequest {
                    path: "/r1".into(),
                    watch: false,
                }),
                MultiReadOp::GetData(GetDataRequest {
                    path: "/r2".into(),
                    watch: false,
                }),
            ]),
            Request::Reconfig(ReconfigRequest {
                cur_config_id: -1,
                ..Default::default()
            }),
            Request::Auth(AuthPacket {
                type_: 0,
                scheme: "digest".into(),
                auth: b"u:p".to_vec(),
            }),
            Request::SetWatches(SetWatches {
                relative_zxid: 9,
                data_watches: names.clone(),
                exist_watches: vec![],
                child_watches: names.clone(),
            }),
            Request::SetWatches2(SetWatches2 {
                relative_zxid: 9,
                persistent_watches: names.clone(),
                persistent_recursive_watches: names,
                ..Default::default()
            }),
            Request::Sasl(GetSASLRequest {
                token: vec![1, 2, 3],
            }),
            Request::GetEphemerals(GetEphemeralsRequest {
                prefix_path: "/".into(),
            }),
            Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: "/".into() }),
            Request::AddWatch(AddWatchRequest {
                path: "/w".into(),
                mode: 1,
            }),
            Request::CheckWatches(CheckWatchesRequest {
                path: "/w".into(),
                type_: 1,
            }),
            Request::RemoveWatches(RemoveWatchesRequest {
                path: "/w".into(),
                type_: 3,
            }),
            Request::WhoAmI,
            Request::CloseSession,
        ]
    }

    fn all_opcodes() -> Vec<i32> {
        let mut ops: Vec<i32> = samples().iter().map(Request::op_type).collect();
        ops.dedup();
        ops
    }

    #[test]
    fn every_request_round_trips() {
        for (xid, req) in samples().into_iter().enumerate() {
            let xid = xid as i32 + 1;
            let packet = req.to_packet(xid);
            let (h, back) = decode_request(&packet).unwrap();
            assert_eq!(
                h,
                RequestHeader {
                    xid,
                    op_type: req.op_type()
                }
            );
            assert_eq!(back, req);
        }
    }

    #[test]
    fn truncated_requests_fail_cleanly() {
        for req in samples() {
            let packet = req.to_packet(1);
            for cut in 0..packet.len() {
                let _ = decode_request(&packet[..cut]);
            }
        }
    }

    #[test]
    fn create_request_golden_bytes() {
        let req = Request::Create(CreateRequest {
            path: "/a".into(),
            data: Some(b"x".to_vec()),
            acl: vec![Acl {
                perms: 31,
                id: Id::new("world", "anyone"),
            }],
            flags: 0,
        });
        let mut want: Vec<u8> = vec![0, 0, 0, 1, 0, 0, 0, 1]; // xid 1, create
        want.extend_from_slice(&[0, 0, 0, 2, b'/', b'a']);
        want.extend_from_slice(&[0, 0, 0, 1, b'x']);
        want.extend_from_slice(&[0, 0, 0, 1]); // one ACL
        want.extend_from_slice(&[0, 0, 0, 31, 0, 0, 0, 5]);
        want.extend_from_slice(b"world");
        want.extend_from_slice(&[0, 0, 0, 6]);
        want.extend_from_slice(b"anyone");
        want.extend_from_slice(&[0, 0, 0, 0]); // flags
        assert_eq!(req.to_packet(1), want);
        assert_eq!(decode_request(&want).unwrap().1, req);
    }

    #[test]
    fn multi_golden_bytes() {
        let req = Request::Multi(vec![
            MultiOp::Create(CreateRequest {
                path: "/m".into(),
                data: Some(vec![]),
                acl: vec![],
                flags: 0,
            }),
            MultiOp::Check(CheckVersionRequest {
                path: "/m".into(),
                version: 0,
            }),
        ]);
        let mut w = Writer::new();
        req.encode(&mut w);
        let want: Vec<u8> = [
            &[0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff][..], // header create, !done, err -1
            &[0, 0, 0, 2, b'/', b'm', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0, 0, 0, 13, 0, 0xff, 0xff, 0xff, 0xff], // header check
            &[0, 0, 0, 2, b'/', b'm', 0, 0, 0, 0],
            &[0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff], // done
        ]
        .concat();
        assert_eq!(w.as_slice(), &want[..]);
        assert_eq!(
            Request::decode(op::MULTI, &mut Reader::new(&want)).unwrap(),
            req
        );
    }

    #[test]
    fn multi_rejects_ops_of_the_wrong_kind() {
        let read = Request::MultiRead(vec![MultiReadOp::GetData(GetDataRequest::default())]);
        let mut w = Writer::new();
        read.encode(&mut w);
        // A read op inside a write multi, and vice versa.
        let err = Request::decode(op::MULTI, &mut Reader::new(w.as_slice())).unwrap_err();
        assert_eq!(err, ProtoError::BadMultiOp(op::GET_DATA));
        let write = Request::Multi(vec![MultiOp::Delete(DeleteRequest::default())]);
        let mut w = Writer::new();
        write.encode(&mut w);
        let err = Request::decode(op::MULTI_READ, &mut Reader::new(w.as_slice())).unwrap_err();
        assert_eq!(err, ProtoError::BadMultiOp(op::DELETE));
        // setACL is not allowed in a multi at all.
        let mut w = Writer::new();
        MultiHeader {
            type_: op::SET_ACL,
            done: false,
            err: -1,
        }
        .write(&mut w);
        SetACLRequest::default().write(&mut w);
        let err = Request::decode(op::MULTI, &mut Reader::new(w.as_slice())).unwrap_err();
        assert_eq!(err, ProtoError::BadMultiOp(op::SET_ACL));
    }

    #[test]
    fn multi_without_done_header_is_truncated() {
        let mut w = Writer::new();
        MultiHeader {
            type_: op::DELETE,
            done: false,
            err: -1,
        }
        .write(&mut w);
        DeleteRequest {
            path: "/x".into(),
            version: 0,
        }
        .write(&mut w);
        let err = Request::decode(op::MULTI, &mut Reader::new(w.as_slice())).unwrap_err();
        assert_eq!(err, ProtoError::Truncated);
    }

    #[test]
    fn unknown_and_non_request_opcodes() {
        for code in [
            op::NOTIFICATION,
            op::CREATE_SESSION,
            op::ERROR,
            10,
            23,
            99,
            108,
            i32::MIN,
        ] {
            let err = Request::decode(code, &mut Reader::new(&[])).unwrap_err();
            assert_eq!(err, ProtoError::UnknownOpcode(code));
        }
    }

    #[test]
    fn delete_container_body_is_raw_path() {
        let mut w = Writer::new();
        Request::DeleteContainer("/c".into()).encode(&mut w);
        assert_eq!(w.as_slice(), b"/c");
    }

    #[test]
    fn trailing_bytes_after_body_are_left_unread() {
        let mut packet = Request::Ping.to_packet(-2);
        packet.push(7);
        let mut r = Reader::new(&packet[8..]);
        assert_eq!(Request::decode(op::PING, &mut r).unwrap(), Request::Ping);
        assert_eq!(r.remaining(), 1);
    }

    proptest! {
        #[test]
        fn random_bodies_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
            pick in any::<prop::sample::Index>(),
        ) {
            let ops = all_opcodes();
            let op_type = ops[pick.index(ops.len())];
            let _ = Request::decode(op_type, &mut Reader::new(&bytes));
            let _ = decode_request(&bytes);
        }

        #[test]
        fn mutated_requests_never_panic(
            pick in any::<prop::sample::Index>(),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let all = samples();
            let req = &all[pick.index(all.len())];
            let mut packet = req.to_packet(1);
            let i = at.index(packet.len());
            packet[i] = byte;
            let _ = decode_request(&packet);
        }

        #[test]
        fn create_round_trips(
            path in "/[a-z0-9/]{0,20}",
            data in proptest::collection::vec(any::<u8>(), 0..64),
            perms in 0i32..32,
            scheme in "[a-z]{0,8}",
            id in ".{0,16}",
            flags in any::<i32>(),
        ) {
            let req = Request::Create2(CreateRequest {
                path, data: Some(data), acl: vec![Acl { perms, id: Id { scheme, id } }], flags,
            });
            let packet = req.to_packet(42);
            prop_assert_eq!(decode_request(&packet).unwrap().1, req);
        }
    }
}
