//! The jute wire codec ZooKeeper clients speak: length-prefixed frames,
//! primitive encoding, every client-facing record, opcodes and reserved
//! xids, and the `Request`/`Response` enums that tie an opcode to its body.
//!
//! This module owns bytes ⇄ values and nothing else. It must not do I/O,
//! hold state, validate paths or ACLs, or decide what a request means; a
//! decode error here only says the bytes were not a well-formed record.
//!
//! - [`codec`]: `Writer`, `Reader`, the `Record` trait (+ Stat, Id, Acl).
//! - [`records`]: the jute records, one struct per jute class.
//! - [`request`]: `Request` (opcode → request record), multi ops.
//! - [`response`]: `Response` (opcode → response body), multi results.
//! - [`frame`]: the 4-byte length prefix, reply and notification frames.

pub mod codec;
pub mod frame;
pub mod records;
pub mod request;
pub mod response;

pub use codec::{from_bytes, to_bytes, Reader, Record, Writer};
pub use frame::DEFAULT_MAX_BUFFER;
pub use records::*;
pub use request::{decode_request, MultiOp, MultiReadOp, Request};
pub use response::{OpResult, Response};

/// Why bytes could not be decoded (or framed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The input ended inside a value.
    #[error("record truncated")]
    Truncated,
    /// A length or count was negative (other than -1, jute's null) or
    /// larger than the bytes that follow it.
    #[error("bad length {0}")]
    BadLength(i32),
    /// A `ustring` was not valid UTF-8.
    #[error("string is not valid UTF-8")]
    BadUtf8,
    /// A request or response opcode this codec does not know.
    #[error("unknown opcode {0}")]
    UnknownOpcode(i32),
    /// An op type that is not allowed inside a multi / multiRead.
    #[error("op type {0} not allowed in this multi")]
    BadMultiOp(i32),
    /// A frame's length prefix is negative or over the configured maximum.
    #[error("frame length {len} exceeds maximum {max}")]
    FrameTooLarge { len: i64, max: usize },
    /// A whole-record decode found bytes after the record.
    #[error("{0} trailing bytes after record")]
    TrailingBytes(usize),
}

/// A malformed packet is what ZooKeeper calls a marshalling error.
impl From<ProtoError> for crate::Error {
    fn from(_: ProtoError) -> Self {
        crate::Error::MarshallingError
    }
}

/// Opcodes (ZooDefs.OpCode).
pub mod op {
    pub const NOTIFICATION: i32 = 0;
    pub const CREATE: i32 = 1;
    pub const DELETE: i32 = 2;
    pub const EXISTS: i32 = 3;
    pub const GET_DATA: i32 = 4;
    pub const SET_DATA: i32 = 5;
    pub const GET_ACL: i32 = 6;
    pub const SET_ACL: i32 = 7;
    pub const GET_CHILDREN: i32 = 8;
    pub const SYNC: i32 = 9;
    pub const PING: i32 = 11;
    pub const GET_CHILDREN2: i32 = 12;
    pub const CHECK: i32 = 13;
    pub const MULTI: i32 = 14;
    pub const CREATE2: i32 = 15;
    pub const RECONFIG: i32 = 16;
    pub const CHECK_WATCHES: i32 = 17;
    pub const REMOVE_WATCHES: i32 = 18;
    pub const CREATE_CONTAINER: i32 = 19;
    pub const DELETE_CONTAINER: i32 = 20;
    pub const CREATE_TTL: i32 = 21;
    pub const MULTI_READ: i32 = 22;
    pub const AUTH: i32 = 100;
    pub const SET_WATCHES: i32 = 101;
    pub const SASL: i32 = 102;
    pub const GET_EPHEMERALS: i32 = 103;
    pub const GET_ALL_CHILDREN_NUMBER: i32 = 104;
    pub const SET_WATCHES2: i32 = 105;
    pub const ADD_WATCH: i32 = 106;
    pub const WHO_AM_I: i32 = 107;
    pub const CREATE_SESSION: i32 = -10;
    pub const CLOSE_SESSION: i32 = -11;
    /// Marks a failed op in a multi response (and an error txn).
    pub const ERROR: i32 = -1;

    /// ZooKeeper's name for an opcode (`Request.op2String`), as metrics
    /// and the admin commands print it.
    pub fn name(op: i32) -> &'static str {
        match op {
            NOTIFICATION => "notification",
            CREATE => "create",
            DELETE => "delete",
            EXISTS => "exists",
            GET_DATA => "getData",
            SET_DATA => "setData",
            GET_ACL => "getACL",
            SET_ACL => "setACL",
            GET_CHILDREN => "getChildren",
            SYNC => "sync",
            PING => "ping",
            GET_CHILDREN2 => "getChildren2",
            CHECK => "check",
            MULTI => "multi",
            CREATE2 => "create2",
            RECONFIG => "reconfig",
            CHECK_WATCHES => "checkWatches",
            REMOVE_WATCHES => "removeWatches",
            CREATE_CONTAINER => "createContainer",
            DELETE_CONTAINER => "deleteContainer",
            CREATE_TTL => "createTtl",
            MULTI_READ => "multiRead",
            AUTH => "auth",
            SET_WATCHES => "setWatches",
            SASL => "sasl",
            GET_EPHEMERALS => "getEphemerals",
            GET_ALL_CHILDREN_NUMBER => "getAllChildrenNumber",
            SET_WATCHES2 => "setWatches2",
            ADD_WATCH => "addWatch",
            WHO_AM_I => "whoAmI",
            CREATE_SESSION => "createSession",
            CLOSE_SESSION => "closeSession",
            ERROR => "error",
            _ => "unknown",
        }
    }
}

/// Reserved xids (ClientCnxn): replies carrying these are not answers to a
/// numbered client request.
pub const NOTIFICATION_XID: i32 = -1;
pub const PING_XID: i32 = -2;
pub const AUTH_XID: i32 = -4;
pub const SET_WATCHES_XID: i32 = -8;
