//! The jute records of ZooKeeper's client protocol, one struct per jute
//! class (`zookeeper.jute`), fields in wire order and named in snake_case.
//! `buffer` fields are `Vec<u8>` (null reads as empty), `ustring` fields
//! `String`, vectors `Vec<_>`.
//!
//! Only shapes live here; which opcode carries which record is in
//! `request` and `response`.

use super::codec::{Reader, Record, Writer};
use super::ProtoError;
use crate::types::{Acl, EventType, KeeperState, Stat, WatchedEvent};

/// How one field type is written and read; lets `jute_record!` stay a
/// plain list of fields.
trait Field: Sized {
    fn put(&self, w: &mut Writer);
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError>;
}

impl Field for i32 {
    fn put(&self, w: &mut Writer) {
        w.write_int(*self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        r.read_int()
    }
}

impl Field for i64 {
    fn put(&self, w: &mut Writer) {
        w.write_long(*self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        r.read_long()
    }
}

impl Field for bool {
    fn put(&self, w: &mut Writer) {
        w.write_bool(*self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        r.read_bool()
    }
}

impl Field for String {
    fn put(&self, w: &mut Writer) {
        w.write_string(self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        r.read_string()
    }
}

/// A jute `ustring` that may be null (length -1): reconfig's lists, where
/// ZooKeeper tells "not given" from "empty".
impl Field for Option<String> {
    fn put(&self, w: &mut Writer) {
        w.write_buffer(self.as_deref().map(str::as_bytes));
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        match r.read_opt_buffer()? {
            None => Ok(None),
            Some(b) => String::from_utf8(b)
                .map(Some)
                .map_err(|_| ProtoError::BadUtf8),
        }
    }
}

/// A jute `buffer`.
impl Field for Vec<u8> {
    fn put(&self, w: &mut Writer) {
        w.write_buffer(Some(self));
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        r.read_buffer()
    }
}

/// A jute `buffer` that may be null (length -1): znode data, where null
/// and empty are different values.
impl Field for Option<Vec<u8>> {
    fn put(&self, w: &mut Writer) {
        w.write_buffer(self.as_deref());
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        r.read_opt_buffer()
    }
}

/// A jute `vector<T>`.
impl<T: Record> Field for Vec<T> {
    fn put(&self, w: &mut Writer) {
        w.write_vector(self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        r.read_vector()
    }
}

impl Field for Stat {
    fn put(&self, w: &mut Writer) {
        self.write(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        Stat::read(r)
    }
}

/// Declares a record struct and its `Record` impl from one field list, so
/// the wire order cannot drift from the declaration order.
macro_rules! jute_record {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl Record for $name {
            #[allow(unused_variables)]
            fn write(&self, w: &mut Writer) {
                $(Field::put(&self.$field, w);)*
            }
            #[allow(unused_variables)]
            fn read(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
                Ok($name { $($field: Field::get(r)?,)* })
            }
        }
    };
}

jute_record!(
    /// Precedes every client request after the handshake.
    RequestHeader { xid: i32, op_type: i32 }
);
jute_record!(
    /// Precedes every server reply and notification.
    ReplyHeader { xid: i32, zxid: i64, err: i32 }
);
jute_record!(
    /// Precedes each op (and each result) inside a multi.
    MultiHeader { type_: i32, done: bool, err: i32 }
);
jute_record!(
    /// A watch notification body (xid -1).
    WatcherEvent { event_type: i32, state: i32, path: String }
);
jute_record!(AuthPacket { type_: i32, scheme: String, auth: Vec<u8> });
jute_record!(SetWatches {
    relative_zxid: i64,
    data_watches: Vec<String>,
    exist_watches: Vec<String>,
    child_watches: Vec<String>,
});
jute_record!(SetWatches2 {
    relative_zxid: i64,
    data_watches: Vec<String>,
    exist_watches: Vec<String>,
    child_watches: Vec<String>,
    persistent_watches: Vec<String>,
    persistent_recursive_watches: Vec<String>,
});

// Requests.
jute_record!(CreateRequest { path: String, data: Option<Vec<u8>>, acl: Vec<Acl>, flags: i32 });
jute_record!(CreateTTLRequest { path: String, data: Option<Vec<u8>>, acl: Vec<Acl>, flags: i32, ttl: i64 });
jute_record!(DeleteRequest {
    path: String,
    version: i32
});
jute_record!(ExistsRequest {
    path: String,
    watch: bool
});
jute_record!(GetDataRequest {
    path: String,
    watch: bool
});
jute_record!(SetDataRequest { path: String, data: Option<Vec<u8>>, version: i32 });
jute_record!(GetACLRequest { path: String });
jute_record!(SetACLRequest { path: String, acl: Vec<Acl>, version: i32 });
jute_record!(GetChildrenRequest {
    path: String,
    watch: bool
});
jute_record!(GetChildren2Request {
    path: String,
    watch: bool
});
jute_record!(SyncRequest { path: String });
jute_record!(CheckVersionRequest {
    path: String,
    version: i32
});
jute_record!(GetAllChildrenNumberRequest { path: String });
jute_record!(GetEphemeralsRequest {
    prefix_path: String
});
jute_record!(
    /// `mode`: 0 persistent, 1 persistent recursive.
    AddWatchRequest { path: String, mode: i32 }
);
jute_record!(
    /// `type_` is a WatcherType: 1 children, 2 data, 3 any.
    CheckWatchesRequest { path: String, type_: i32 }
);
jute_record!(RemoveWatchesRequest {
    path: String,
    type_: i32
});
jute_record!(ReconfigRequest {
    joining_servers: Option<String>,
    leaving_servers: Option<String>,
    new_members: Option<String>,
    cur_config_id: i64,
});
jute_record!(GetSASLRequest { token: Vec<u8> });

// Responses.
jute_record!(CreateResponse { path: String });
jute_record!(Create2Response {
    path: String,
    stat: Stat
});
jute_record!(ExistsResponse { stat: Stat });
jute_record!(SetDataResponse { stat: Stat });
jute_record!(SetACLResponse { stat: Stat });
jute_record!(GetDataResponse { data: Option<Vec<u8>>, stat: Stat });
jute_record!(GetACLResponse { acl: Vec<Acl>, stat: Stat });
jute_record!(GetChildrenResponse { children: Vec<String> });
jute_record!(GetChildren2Response { children: Vec<String>, stat: Stat });
jute_record!(SyncResponse { path: String });
jute_record!(GetAllChildrenNumberResponse { total_number: i32 });
jute_record!(GetEphemeralsResponse { ephemerals: Vec<String> });
jute_record!(ClientInfo {
    auth_scheme: String,
    user: String
});
jute_record!(WhoAmIResponse { client_info: Vec<ClientInfo> });
jute_record!(ErrorResponse { err: i32 });
jute_record!(SetSASLResponse { token: Vec<u8> });

/// The session handshake, first frame from a client. `read_only` is a
/// trailing byte that pre-3.4 clients do not send; absent means false.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    pub time_out: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub read_only: bool,
}

impl Record for ConnectRequest {
    fn write(&self, w: &mut Writer) {
        w.write_int(self.protocol_version);
        w.write_long(self.last_zxid_seen);
        w.write_int(self.time_out);
        w.write_long(self.session_id);
        w.write_buffer(Some(&self.passwd));
        w.write_bool(self.read_only);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        Ok(ConnectRequest {
            protocol_version: r.read_int()?,
            last_zxid_seen: r.read_long()?,
            time_out: r.read_int()?,
            session_id: r.read_long()?,
            passwd: r.read_buffer()?,
            read_only: optional_bool(r)?,
        })
    }
}

/// The server's handshake answer; `read_only` is optional on read for the
/// same reason as in `ConnectRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    pub time_out: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub read_only: bool,
}

impl Record for ConnectResponse {
    fn write(&self, w: &mut Writer) {
        w.write_int(self.protocol_version);
        w.write_int(self.time_out);
        w.write_long(self.session_id);
        w.write_buffer(Some(&self.passwd));
        w.write_bool(self.read_only);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        Ok(ConnectResponse {
            protocol_version: r.read_int()?,
            time_out: r.read_int()?,
            session_id: r.read_long()?,
            passwd: r.read_buffer()?,
            read_only: optional_bool(r)?,
        })
    }
}

fn optional_bool(r: &mut Reader<'_>) -> Result<bool, ProtoError> {
    if r.is_empty() {
        Ok(false)
    } else {
        r.read_bool()
    }
}

impl From<&WatchedEvent> for WatcherEvent {
    fn from(e: &WatchedEvent) -> Self {
        WatcherEvent {
            event_type: e.event_type as i32,
            state: e.state as i32,
            path: e.path.clone(),
        }
    }
}

impl WatcherEvent {
    /// The typed event, or `None` if the type or state number is unknown.
    pub fn to_watched_event(&self) -> Option<WatchedEvent> {
        Some(WatchedEvent {
            event_type: event_type_from_i32(self.event_type)?,
            state: keeper_state_from_i32(self.state)?,
            path: self.path.clone(),
        })
    }
}

fn event_type_from_i32(v: i32) -> Option<EventType> {
    use EventType::*;
    [
        None,
        NodeCreated,
        NodeDeleted,
        NodeDataChanged,
        NodeChildrenChanged,
        DataWatchRemoved,
        ChildWatchRemoved,
        PersistentWatchRemoved,
    ]
    .into_iter()
    .find(|t| *t as i32 == v)
}

fn keeper_state_from_i32(v: i32) -> Option<KeeperState> {
    use KeeperState::*;
    [
        Disconnected,
        SyncConnected,
        AuthFailed,
        ConnectedReadOnly,
        SaslAuthenticated,
        Expired,
        Closed,
    ]
    .into_iter()
    .find(|s| *s as i32 == v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::codec::{from_bytes, to_bytes};
    use crate::types::Id;

    fn rt<T: Record + PartialEq + std::fmt::Debug>(v: T) {
        let bytes = to_bytes(&v);
        assert_eq!(from_bytes::<T>(&bytes).unwrap(), v);
        // Every strict prefix must fail cleanly (optional trailing bools
        // aside, which the Connect tests cover).
        for cut in 0..bytes.len() {
            let _ = from_bytes::<T>(&bytes[..cut]);
        }
    }

    fn stat() -> Stat {
        Stat {
            czxid: 7,
            mzxid: 8,
            version: 2,
            data_length: 3,
            pzxid: 9,
            ..Stat::default()
        }
    }

    #[test]
    fn connect_request_golden_bytes() {
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0x10,
            time_out: 30000,
            session_id: 0,
            passwd: vec![0; 16],
            read_only: false,
        };
        let mut want = vec![0, 0, 0, 0]; // protocolVersion
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x10]); // lastZxidSeen
        want.extend_from_slice(&[0, 0, 0x75, 0x30]); // timeOut 30000
        want.extend_from_slice(&[0; 8]); // sessionId
        want.extend_from_slice(&[0, 0, 0, 16]); // passwd length
        want.extend_from_slice(&[0; 16]);
        want.push(0); // readOnly
        assert_eq!(want.len(), 45);
        assert_eq!(to_bytes(&req), want);
        assert_eq!(from_bytes::<ConnectRequest>(&want).unwrap(), req);
        // An old client leaves readOnly out.
        assert_eq!(from_bytes::<ConnectRequest>(&want[..44]).unwrap(), req);
        let ro = ConnectRequest {
            read_only: true,
            ..req
        };
        rt(ro);
    }

    #[test]
    fn connect_response_optional_read_only() {
        let resp = ConnectResponse {
            protocol_version: 0,
            time_out: 4000,
            session_id: 0x0102_0304_0506_0708,
            passwd: (0..16).collect(),
            read_only: true,
        };
        let bytes = to_bytes(&resp);
        assert_eq!(bytes.len(), 4 + 4 + 8 + 4 + 16 + 1);
        assert_eq!(&bytes[8..16], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(from_bytes::<ConnectResponse>(&bytes).unwrap(), resp);
        let short = from_bytes::<ConnectResponse>(&bytes[..bytes.len() - 1]).unwrap();
        assert!(!short.read_only);
    }

    #[test]
    fn headers_golden_bytes() {
        assert_eq!(
            to_bytes(&RequestHeader { xid: 1, op_type: 4 }),
            [0, 0, 0, 1, 0, 0, 0, 4]
        );
        assert_eq!(
            to_bytes(&ReplyHeader {
                xid: -1,
                zxid: -1,
                err: 0
            }),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(
            to_bytes(&MultiHeader {
                type_: -1,
                done: true,
                err: -1
            }),
            [0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn every_record_round_trips() {
        let acl = vec![
            Acl {
                perms: 31,
                id: Id::new("world", "anyone"),
            },
            Acl {
                perms: 1,
                id: Id::new("digest", "u:h"),
            },
        ];
        let names = vec!["a".to_string(), "b/c".to_string()];
        rt(RequestHeader { xid: 5, op_type: 1 });
        rt(ReplyHeader {
            xid: 5,
            zxid: 99,
            err: -101,
        });
        rt(MultiHeader {
            type_: 1,
            done: false,
            err: -1,
        });
        rt(WatcherEvent {
            event_type: 3,
            state: 3,
            path: "/x".into(),
        });
        rt(AuthPacket {
            type_: 0,
            scheme: "digest".into(),
            auth: b"u:p".to_vec(),
        });
        rt(SetWatches {
            relative_zxid: 3,
            data_watches: names.clone(),
            exist_watches: vec![],
            child_watches: names.clone(),
        });
        rt(SetWatches2 {
            relative_zxid: 3,
            data_watches: names.clone(),
            exist_watches: names.clone(),
            child_watches: vec![],
            persistent_watches: names.clone(),
            persistent_recursive_watches: names.clone(),
        });
        rt(CreateRequest {
            path: "/a".into(),
            data: Some(b"d".to_vec()),
            acl: acl.clone(),
            flags: 3,
        });
        rt(CreateTTLRequest {
            path: "/a".into(),
            data: Some(vec![]),
            acl: acl.clone(),
            flags: 5,
            ttl: 100,
        });
        rt(DeleteRequest {
            path: "/a".into(),
            version: -1,
        });
        rt(ExistsRequest {
            path: "/a".into(),
            watch: true,
        });
        rt(GetDataRequest {
            path: "/a".into(),
            watch: true,
        });
        rt(SetDataRequest {
            path: "/a".into(),
            data: Some(vec![1, 2]),
            version: 4,
        });
        rt(GetACLRequest { path: "/a".into() });
        rt(SetACLRequest {
            path: "/a".into(),
            acl: acl.clone(),
            version: 0,
        });
        rt(GetChildrenRequest {
            path: "/".into(),
            watch: false,
        });
        rt(GetChildren2Request {
            path: "/".into(),
            watch: true,
        });
        rt(SyncRequest { path: "/".into() });
        rt(CheckVersionRequest {
            path: "/a".into(),
            version: 7,
        });
        rt(GetAllChildrenNumberRequest { path: "/".into() });
        rt(GetEphemeralsRequest {
            prefix_path: "/e".into(),
        });
        rt(AddWatchRequest {
            path: "/w".into(),
            mode: 1,
        });
        rt(CheckWatchesRequest {
            path: "/w".into(),
            type_: 3,
        });
        rt(RemoveWatchesRequest {
            path: "/w".into(),
            type_: 2,
        });
        rt(ReconfigRequest {
            joining_servers: Some("server.4=h:1:2".into()),
            leaving_servers: Some("3".into()),
            new_members: None,
            cur_config_id: -1,
        });
        rt(GetSASLRequest { token: vec![9; 5] });
        rt(CreateResponse {
            path: "/a0000000001".into(),
        });
        rt(Create2Response {
            path: "/a".into(),
            stat: stat(),
        });
        rt(ExistsResponse { stat: stat() });
        rt(SetDataResponse { stat: stat() });
        rt(SetACLResponse { stat: stat() });
        rt(GetDataResponse {
            data: Some(b"xyz".to_vec()),
            stat: stat(),
        });
        rt(GetACLResponse { acl, stat: stat() });
        rt(GetChildrenResponse {
            children: names.clone(),
        });
        rt(GetChildren2Response {
            children: names.clone(),
            stat: stat(),
        });
        rt(SyncResponse { path: "/".into() });
        rt(GetAllChildrenNumberResponse { total_number: 12 });
        rt(GetEphemeralsResponse { ephemerals: names });
        rt(WhoAmIResponse {
            client_info: vec![
                ClientInfo {
                    auth_scheme: "ip".into(),
                    user: "127.0.0.1".into(),
                },
                ClientInfo {
                    auth_scheme: "digest".into(),
                    user: "bob".into(),
                },
            ],
        });
        rt(ErrorResponse { err: -110 });
        rt(SetSASLResponse { token: vec![1] });
    }

    #[test]
    fn watcher_event_from_watched_event() {
        let e = WatchedEvent {
            event_type: EventType::NodeDeleted,
            state: KeeperState::SyncConnected,
            path: "/gone".into(),
        };
        let w = WatcherEvent::from(&e);
        assert_eq!((w.event_type, w.state), (2, 3));
        assert_eq!(w.to_watched_event(), Some(e));
        let expired = WatcherEvent {
            event_type: -1,
            state: -112,
            path: String::new(),
        };
        assert_eq!(
            expired.to_watched_event().unwrap().state,
            KeeperState::Expired
        );
        assert_eq!(
            WatcherEvent {
                event_type: 99,
                ..expired
            }
            .to_watched_event(),
            None
        );
    }
}
