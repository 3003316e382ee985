//! Server replies: the body that follows a `ReplyHeader` for each opcode,
//! and the multi / multiRead result list (MultiResponse).
//!
//! A reply whose header carries a non-zero err has no body (or one clients
//! ignore): send `Response::Empty` then, and only call `Response::decode`
//! when err is 0.

use super::codec::{Reader, Record, Writer};
use super::records::*;
use super::{op, ProtoError};
use crate::types::Stat;

/// The outcome of one op inside a multi or multiRead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// `stat` is `Some` for create2 / createContainer / createTTL ops,
    /// which answer with Create2Response (header type 15).
    Create {
        path: String,
        stat: Option<Stat>,
    },
    Delete,
    SetData {
        stat: Stat,
    },
    Check,
    GetData {
        data: Option<Vec<u8>>,
        stat: Stat,
    },
    GetChildren {
        children: Vec<String>,
    },
    /// A failed op, or (in a failed multi) an op rolled back: ZooKeeper
    /// reports 0 for ops before the failure and RuntimeInconsistency after.
    Error {
        err: i32,
    },
}

impl OpResult {
    /// The MultiHeader type that announces this result.
    pub fn op_type(&self) -> i32 {
        match self {
            OpResult::Create { stat: None, .. } => op::CREATE,
            OpResult::Create { stat: Some(_), .. } => op::CREATE2,
            OpResult::Delete => op::DELETE,
            OpResult::SetData { .. } => op::SET_DATA,
            OpResult::Check => op::CHECK,
            OpResult::GetData { .. } => op::GET_DATA,
            OpResult::GetChildren { .. } => op::GET_CHILDREN,
            OpResult::Error { .. } => op::ERROR,
        }
    }

    fn write(&self, w: &mut Writer) {
        let err = match self {
            OpResult::Error { err } => *err,
            _ => 0,
        };
        MultiHeader {
            type_: self.op_type(),
            done: false,
            err,
        }
        .write(w);
        match self {
            OpResult::Create { path, stat: None } => w.write_string(path),
            OpResult::Create {
                path,
                stat: Some(stat),
            } => {
                w.write_string(path);
                stat.write(w);
            }
            OpResult::Delete | OpResult::Check => {}
            OpResult::SetData { stat } => stat.write(w),
            OpResult::GetData { data, stat } => {
                w.write_buffer(data.as_deref());
                stat.write(w);
            }
            OpResult::GetChildren { children } => w.write_vector(children),
            OpResult::Error { err } => w.write_int(*err),
        }
    }

    /// The result announced by a header of type `op_type`. For errors the
    /// ErrorResponse body, not the header's err, is authoritative (as in
    /// ZooKeeper's MultiResponse).
    fn read(op_type: i32, r: &mut Reader<'_>) -> Result<OpResult, ProtoError> {
        Ok(match op_type {
            op::CREATE => OpResult::Create {
                path: r.read_string()?,
                stat: None,
            },
            op::CREATE2 => {
                let c = Create2Response::read(r)?;
                OpResult::Create {
                    path: c.path,
                    stat: Some(c.stat),
                }
            }
            op::DELETE => OpResult::Delete,
            op::SET_DATA => OpResult::SetData {
                stat: Stat::read(r)?,
            },
            op::CHECK => OpResult::Check,
            op::GET_DATA => {
                let g = GetDataResponse::read(r)?;
                OpResult::GetData {
                    data: g.data,
                    stat: g.stat,
                }
            }
            op::GET_CHILDREN => OpResult::GetChildren {
                children: r.read_vector()?,
            },
            op::ERROR => OpResult::Error { err: r.read_int()? },
            other => return Err(ProtoError::BadMultiOp(other)),
        })
    }
}

/// A reply body. Several opcodes share a body shape; `decode` picks the
/// shape from the request's opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Header only: delete, deleteContainer, check, ping, auth, setWatches,
    /// setWatches2, checkWatches, removeWatches, closeSession, and any
    /// reply whose header err is non-zero.
    Empty,
    Create(CreateResponse),
    /// create2, createContainer, createTTL.
    Create2(Create2Response),
    Exists(ExistsResponse),
    /// getData, and reconfig (the new config as data).
    GetData(GetDataResponse),
    SetData(SetDataResponse),
    GetAcl(GetACLResponse),
    SetAcl(SetACLResponse),
    GetChildren(GetChildrenResponse),
    GetChildren2(GetChildren2Response),
    Sync(SyncResponse),
    /// multi and multiRead.
    Multi(Vec<OpResult>),
    Sasl(SetSASLResponse),
    GetEphemerals(GetEphemeralsResponse),
    GetAllChildrenNumber(GetAllChildrenNumberResponse),
    /// addWatch answers with ErrorResponse{0}.
    Error(ErrorResponse),
    WhoAmI(WhoAmIResponse),
}

impl Response {
    pub fn encode(&self, w: &mut Writer) {
        match self {
            Response::Empty => {}
            Response::Create(x) => x.write(w),
            Response::Create2(x) => x.write(w),
            Response::Exists(x) => x.write(w),
            Response::GetData(x) => x.write(w),
            Response::SetData(x) => x.write(w),
            Response::GetAcl(x) => x.write(w),
            Response::SetAcl(x) => x.write(w),
            Response::GetChildren(x) => x.write(w),
            Response::GetChildren2(x) => x.write(w),
            Response::Sync(x) => x.write(w),
            Response::Multi(results) => {
                for res in results {
                    res.write(w);
                }
                MultiHeader {
                    type_: -1,
                    done: true,
                    err: -1,
                }
                .write(w);
            }
            Response::Sasl(x) => x.write(w),
            Response::GetEphemerals(x) => x.write(w),
            Response::GetAllChildrenNumber(x) => x.write(w),
            Response::Error(x) => x.write(w),
            Response::WhoAmI(x) => x.write(w),
        }
    }

    /// Decodes the success body for a request of `op_type` (client side).
    pub fn decode(op_type: i32, r: &mut Reader<'_>) -> Result<Response, ProtoError> {
        Ok(match op_type {
            op::DELETE
            | op::DELETE_CONTAINER
            | op::CHECK
            | op::PING
            | op::AUTH
            | op::SET_WATCHES
            | op::SET_WATCHES2
            | op::CHECK_WATCHES
            | op::REMOVE_WATCHES
            | op::CLOSE_SESSION => Response::Empty,
            op::CREATE => Response::Create(r.read_record()?),
            op::CREATE2 | op::CREATE_CONTAINER | op::CREATE_TTL => {
                Response::Create2(r.read_record()?)
            }
            op::EXISTS => Response::Exists(r.read_record()?),
            op::GET_DATA | op::RECONFIG => Response::GetData(r.read_record()?),
            op::SET_DATA => Response::SetData(r.read_record()?),
            op::GET_ACL => Response::GetAcl(r.read_record()?),
            op::SET_ACL => Response::SetAcl(r.read_record()?),
            op::GET_CHILDREN => Response::GetChildren(r.read_record()?),
            op::GET_CHILDREN2 => Response::GetChildren2(r.read_record()?),
            op::SYNC => Response::Sync(r.read_record()?),
            op::MULTI | op::MULTI_READ => {
                let mut results = Vec::new();
                loop {
                    let h = MultiHeader::read(r)?;
                    if h.done {
                        break Response::Multi(results);
                    }
                    results.push(OpResult::read(h.type_, r)?);
                }
            }
            op::SASL => Response::Sasl(r.read_record()?),
            op::GET_EPHEMERALS => Response::GetEphemerals(r.read_record()?),
            op::GET_ALL_CHILDREN_NUMBER => Response::GetAllChildrenNumber(r.read_record()?),
            op::ADD_WATCH => Response::Error(r.read_record()?),
            op::WHO_AM_I => Response::WhoAmI(r.read_record()?),
            other => return Err(ProtoError::UnknownOpcode(other)),
        })
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Acl, Id};

    fn stat() -> Stat {
        Stat {
            czxid: 1,
            mzxid: 2,
            version: 1,
            num_children: 2,
            pzxid: 3,
            ..Stat::default()
        }
    }

    /// (request opcode, response body) for every body shape and opcode.
    fn samples() -> Vec<(i32, Response)> {
        let kids = vec!["a".to_string(), "b".to_string()];
        let get_data = GetDataResponse {
            data: Some(b"hello".to_vec()),
            stat: stat(),
        };
        let create2 = Create2Response {
            path: "/x".into(),
            stat: stat(),
        };
        let mut out = vec![
            (
                op::CREATE,
                Response::Create(CreateResponse {
                    path: "/x0000000003".into(),
                }),
            ),
            (op::CREATE2, Response::Create2(create2.clone())),
            (op::CREATE_CONTAINER, Response::Create2(create2.clone())),
            (op::CREATE_TTL, Response::Create2(create2)),
            (
                op::EXISTS,
                Response::Exists(ExistsResponse { stat: stat() }),
            ),
            (op::GET_DATA, Response::GetData(get_data.clone())),
            (op::RECONFIG, Response::GetData(get_data)),
            (
                op::SET_DATA,
                Response::SetData(SetDataResponse { stat: stat() }),
            ),
            (
                op::GET_ACL,
                Response::GetAcl(GetACLResponse {
                    acl: vec![Acl {
                        perms: 1,
                        id: Id::new("digest", "u:x"),
                    }],
                    stat: stat(),
                }),
            ),
            (
                op::SET_ACL,
                Response::SetAcl(SetACLResponse { stat: stat() }),
            ),
            (
                op::GET_CHILDREN,
                Response::GetChildren(GetChildrenResponse {
                    children: kids.clone(),
                }),
            ),
            (
                op::GET_CHILDREN2,
                Response::GetChildren2(GetChildren2Response {
                    children: kids.clone(),
                    stat: stat(),
                }),
            ),
            (op::SYNC, Response::Sync(SyncResponse { path: "/".into() })),
            (
                op::MULTI,
                Response::Multi(vec![
                    OpResult::Create {
                        path: "/a".into(),
                        stat: None,
                    },
                    OpResult::Create {
                        path: "/b".into(),
                        stat: Some(stat()),
                    },
                    OpResult::Delete,
                    OpResult::SetData { stat: stat() },
                    OpResult::Check,
                ]),
            ),
            (op::MULTI, Response::Multi(vec![])),
            (
                op::MULTI_READ,
                Response::Multi(vec![
                    OpResult::GetData {
                        data: Some(vec![1]),
                        stat: stat(),
                    },
                    OpResult::GetChildren {
                        children: kids.clone(),
                    },
                    OpResult::Error { err: -101 },
                ]),
            ),
            (
                op::SASL,
                Response::Sasl(SetSASLResponse { token: vec![4, 5] }),
            ),
            (
                op::GET_EPHEMERALS,
                Response::GetEphemerals(GetEphemeralsResponse { ephemerals: kids }),
            ),
            (
                op::GET_ALL_CHILDREN_NUMBER,
                Response::GetAllChildrenNumber(GetAllChildrenNumberResponse { total_number: 7 }),
            ),
            (op::ADD_WATCH, Response::Error(ErrorResponse { err: 0 })),
            (
                op::WHO_AM_I,
                Response::WhoAmI(WhoAmIResponse {
                    client_info: vec![ClientInfo {
                        auth_scheme: "ip".into(),
                        user: "::1".into(),
                    }],
                }),
            ),
        ];
        for code in [
            op::DELETE,
            op::DELETE_CONTAINER,
            op::CHECK,
            op::PING,
            op::AUTH,
            op::SET_WATCHES,
            op::SET_WATCHES2,
            op::CHECK_WATCHES,
            op::REMOVE_WATCHES,
            op::CLOSE_SESSION,
        ] {
            out.push((code, Response::Empty));
        }
        out
    }

    fn bytes_of(resp: &Response) -> Vec<u8> {
        let mut w = Writer::new();
        resp.encode(&mut w);
        w.into_inner()
    }

    #[test]
    fn every_response_round_trips() {
        for (code, resp) in samples() {
            let bytes = bytes_of(&resp);
            let mut r = Reader::new(&bytes);
            assert_eq!(
                Response::decode(code, &mut r).unwrap(),
                resp,
                "opcode {code}"
            );
            assert!(r.is_empty(), "opcode {code}");
            for cut in 0..bytes.len() {
                assert!(Response::decode(code, &mut Reader::new(&bytes[..cut])).is_err());
            }
        }
    }

    #[test]
    fn multi_error_response_golden_bytes() {
        // A failed multi of create + check: the create is rolled back (0),
        // the check failed with BadVersion (-103).
        let resp = Response::Multi(vec![
            OpResult::Error { err: 0 },
            OpResult::Error { err: -103 },
        ]);
        let want: Vec<u8> = [
            &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0][..], // type -1, !done, err 0
            &[0, 0, 0, 0],                                // ErrorResponse{0}
            &[0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0x99], // type -1, err -103
            &[0xff, 0xff, 0xff, 0x99],
            &[0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff], // done
        ]
        .concat();
        assert_eq!(bytes_of(&resp), want);
        assert_eq!(
            Response::decode(op::MULTI, &mut Reader::new(&want)).unwrap(),
            resp
        );
    }

    #[test]
    fn multi_success_header_types() {
        let resp = Response::Multi(vec![
            OpResult::Create {
                path: "/a".into(),
                stat: None,
            },
            OpResult::Delete,
        ]);
        let want: Vec<u8> = [
            &[0, 0, 0, 1, 0, 0, 0, 0, 0][..], // create, !done, err 0
            &[0, 0, 0, 2, b'/', b'a'],
            &[0, 0, 0, 2, 0, 0, 0, 0, 0], // delete, no body
            &[0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff],
        ]
        .concat();
        assert_eq!(bytes_of(&resp), want);
    }

    #[test]
    fn bad_multi_result_type_is_an_error() {
        let mut w = Writer::new();
        MultiHeader {
            type_: op::SET_ACL,
            done: false,
            err: 0,
        }
        .write(&mut w);
        let err = Response::decode(op::MULTI, &mut Reader::new(w.as_slice())).unwrap_err();
        assert_eq!(err, ProtoError::BadMultiOp(op::SET_ACL));
        let err = Response::decode(op::NOTIFICATION, &mut Reader::new(&[])).unwrap_err();
        assert_eq!(err, ProtoError::UnknownOpcode(0));
    }
}
