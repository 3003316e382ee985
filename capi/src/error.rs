//! Result numbers and their messages. Every function that can fail returns
//! an `int`: `ZKRS_OK` (0) or a negative number equal to the official
//! ZooKeeper C client's (`ZOK`, `ZNONODE`, ...), so a C programmer's habits
//! carry over. Core errors map through `zkrs::Error::code()`; this module
//! only names the numbers.

use std::ffi::{c_char, c_int, CString};
use std::sync::OnceLock;

/// Everything is OK (ZOK).
pub const ZKRS_OK: c_int = 0;
/// A system or internal error, including a panic inside libzkrs (ZSYSTEMERROR).
pub const ZKRS_SYSTEMERROR: c_int = -1;
/// A runtime inconsistency was found; in a failed multi, the result of the
/// ops after the failing one (ZRUNTIMEINCONSISTENCY).
pub const ZKRS_RUNTIMEINCONSISTENCY: c_int = -2;
/// A data inconsistency was found (ZDATAINCONSISTENCY).
pub const ZKRS_DATAINCONSISTENCY: c_int = -3;
/// The connection to the server was lost (ZCONNECTIONLOSS).
pub const ZKRS_CONNECTIONLOSS: c_int = -4;
/// Error while marshalling or unmarshalling data (ZMARSHALLINGERROR).
pub const ZKRS_MARSHALLINGERROR: c_int = -5;
/// The operation is not implemented (ZUNIMPLEMENTED).
pub const ZKRS_UNIMPLEMENTED: c_int = -6;
/// The operation timed out (ZOPERATIONTIMEOUT).
pub const ZKRS_OPERATIONTIMEOUT: c_int = -7;
/// Invalid arguments, e.g. a NULL pointer or an invalid path (ZBADARGUMENTS).
pub const ZKRS_BADARGUMENTS: c_int = -8;
/// The handle is in a state that does not allow the call (ZINVALIDSTATE).
pub const ZKRS_INVALIDSTATE: c_int = -9;
/// The server does not know the session (Java's UnknownSession).
pub const ZKRS_UNKNOWNSESSION: c_int = -12;
/// The new configuration has no quorum (ZNEWCONFIGNOQUORUM).
pub const ZKRS_NEWCONFIGNOQUORUM: c_int = -13;
/// Another reconfiguration is in progress (ZRECONFIGINPROGRESS).
pub const ZKRS_RECONFIGINPROGRESS: c_int = -14;
/// The SSL connection failed (ZSSLCONNECTIONERROR).
pub const ZKRS_SSLCONNECTIONERROR: c_int = -15;
/// Lower bound of the API errors; never returned itself (ZAPIERROR).
pub const ZKRS_APIERROR: c_int = -100;
/// The node does not exist (ZNONODE).
pub const ZKRS_NONODE: c_int = -101;
/// Not authorized by the node's ACL (ZNOAUTH).
pub const ZKRS_NOAUTH: c_int = -102;
/// The expected version does not match the node's (ZBADVERSION).
pub const ZKRS_BADVERSION: c_int = -103;
/// Ephemeral nodes may not have children (ZNOCHILDRENFOREPHEMERALS).
pub const ZKRS_NOCHILDRENFOREPHEMERALS: c_int = -108;
/// The node already exists (ZNODEEXISTS).
pub const ZKRS_NODEEXISTS: c_int = -110;
/// The node has children (ZNOTEMPTY).
pub const ZKRS_NOTEMPTY: c_int = -111;
/// The session has been expired by the server (ZSESSIONEXPIRED).
pub const ZKRS_SESSIONEXPIRED: c_int = -112;
/// An invalid callback was given (ZINVALIDCALLBACK).
pub const ZKRS_INVALIDCALLBACK: c_int = -113;
/// An invalid ACL was given (ZINVALIDACL).
pub const ZKRS_INVALIDACL: c_int = -114;
/// Client authentication failed (ZAUTHFAILED).
pub const ZKRS_AUTHFAILED: c_int = -115;
/// The client is closing (ZCLOSING).
pub const ZKRS_CLOSING: c_int = -116;
/// Not an error: nothing to process (ZNOTHING).
pub const ZKRS_NOTHING: c_int = -117;
/// The session moved to another server (ZSESSIONMOVED).
pub const ZKRS_SESSIONMOVED: c_int = -118;
/// A write was sent to a read-only server (ZNOTREADONLY).
pub const ZKRS_NOTREADONLY: c_int = -119;
/// An ephemeral node was requested on a local session (ZEPHEMERALONLOCALSESSION).
pub const ZKRS_EPHEMERALONLOCALSESSION: c_int = -120;
/// The watch to remove could not be found (ZNOWATCHER).
pub const ZKRS_NOWATCHER: c_int = -121;
/// The request timed out (Java's RequestTimeout).
pub const ZKRS_REQUESTTIMEOUT: c_int = -122;
/// Reconfiguration is disabled (ZRECONFIGDISABLED).
pub const ZKRS_RECONFIGDISABLED: c_int = -123;
/// The server requires SASL authentication (ZSESSIONCLOSEDREQUIRESASLAUTH).
pub const ZKRS_SESSIONCLOSEDREQUIRESASLAUTH: c_int = -124;
/// A quota was exceeded (Java's QuotaExceeded).
pub const ZKRS_QUOTAEXCEEDED: c_int = -125;
/// The operation was throttled and not executed; retry (ZTHROTTLEDOP).
pub const ZKRS_THROTTLEDOP: c_int = -127;

/// Messages for the numbers the core error type has no variant for
/// (C-client-only ones, and OK).
const LOCAL_MESSAGES: &[(c_int, &str)] = &[
    (ZKRS_OK, "ok"),
    (ZKRS_INVALIDSTATE, "invalid handle state"),
    (ZKRS_SSLCONNECTIONERROR, "SSL connection error"),
    (ZKRS_CLOSING, "zookeeper is closing"),
    (ZKRS_NOTHING, "(not error) no server responses to process"),
];

/// Every number this header defines, in one list, so the message table
/// covers exactly them.
pub(crate) const ALL_CODES: &[c_int] = &[
    ZKRS_OK,
    ZKRS_SYSTEMERROR,
    ZKRS_RUNTIMEINCONSISTENCY,
    ZKRS_DATAINCONSISTENCY,
    ZKRS_CONNECTIONLOSS,
    ZKRS_MARSHALLINGERROR,
    ZKRS_UNIMPLEMENTED,
    ZKRS_OPERATIONTIMEOUT,
    ZKRS_BADARGUMENTS,
    ZKRS_INVALIDSTATE,
    ZKRS_UNKNOWNSESSION,
    ZKRS_NEWCONFIGNOQUORUM,
    ZKRS_RECONFIGINPROGRESS,
    ZKRS_SSLCONNECTIONERROR,
    ZKRS_APIERROR,
    ZKRS_NONODE,
    ZKRS_NOAUTH,
    ZKRS_BADVERSION,
    ZKRS_NOCHILDRENFOREPHEMERALS,
    ZKRS_NODEEXISTS,
    ZKRS_NOTEMPTY,
    ZKRS_SESSIONEXPIRED,
    ZKRS_INVALIDCALLBACK,
    ZKRS_INVALIDACL,
    ZKRS_AUTHFAILED,
    ZKRS_CLOSING,
    ZKRS_NOTHING,
    ZKRS_SESSIONMOVED,
    ZKRS_NOTREADONLY,
    ZKRS_EPHEMERALONLOCALSESSION,
    ZKRS_NOWATCHER,
    ZKRS_REQUESTTIMEOUT,
    ZKRS_RECONFIGDISABLED,
    ZKRS_SESSIONCLOSEDREQUIRESASLAUTH,
    ZKRS_QUOTAEXCEEDED,
    ZKRS_THROTTLEDOP,
];

fn message_table() -> &'static [(c_int, CString)] {
    static TABLE: OnceLock<Vec<(c_int, CString)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        ALL_CODES
            .iter()
            .map(|&code| {
                let text = match LOCAL_MESSAGES.iter().find(|(c, _)| *c == code) {
                    Some((_, m)) => m.to_string(),
                    // The core's messages, so every binding says the same.
                    None => zkrs_core::Error::from_code(code)
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                };
                (code, CString::new(text).unwrap_or_default())
            })
            .collect()
    })
}

/// A short English description of a result number, e.g. "node does not
/// exist" for `ZKRS_NONODE`; "unknown error" for a number zkrs does not
/// define. The string is static: never free it.
#[no_mangle]
pub extern "C" fn zkrs_error_message(code: c_int) -> *const c_char {
    const UNKNOWN: &std::ffi::CStr = c"unknown error";
    crate::ffi::guard_or(UNKNOWN.as_ptr(), || {
        message_table()
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, m)| m.as_ptr())
            .unwrap_or(UNKNOWN.as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn msg(code: c_int) -> String {
        unsafe { CStr::from_ptr(zkrs_error_message(code)) }
            .to_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn every_core_code_is_named_here() {
        for code in -130..0 {
            if let Some(e) = zkrs_core::Error::from_code(code) {
                if !matches!(e, zkrs_core::Error::Other(_)) {
                    assert!(ALL_CODES.contains(&code), "missing {code}");
                }
            }
        }
    }

    #[test]
    fn messages() {
        assert_eq!(msg(ZKRS_OK), "ok");
        assert_eq!(msg(ZKRS_NONODE), "node does not exist");
        assert_eq!(msg(ZKRS_INVALIDSTATE), "invalid handle state");
        assert_eq!(msg(12345), "unknown error");
        for &c in ALL_CODES {
            assert!(!msg(c).is_empty());
        }
    }
}
