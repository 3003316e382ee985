//! The one error type of zkrs. Variants mirror ZooKeeper's
//! `KeeperException.Code` so every binding can hand users the number they
//! already know; a few local variants cover I/O and configuration.

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A ZooKeeper error code, or a local failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("system error")]
    SystemError,
    #[error("runtime inconsistency")]
    RuntimeInconsistency,
    #[error("data inconsistency")]
    DataInconsistency,
    #[error("connection loss")]
    ConnectionLoss,
    #[error("marshalling error")]
    MarshallingError,
    #[error("operation unimplemented")]
    Unimplemented,
    #[error("operation timeout")]
    OperationTimeout,
    #[error("bad arguments")]
    BadArguments,
    #[error("unknown session")]
    UnknownSession,
    #[error("new config has no quorum")]
    NewConfigNoQuorum,
    #[error("reconfig in progress")]
    ReconfigInProgress,
    #[error("API error")]
    ApiError,
    #[error("node does not exist")]
    NoNode,
    #[error("not authorized")]
    NoAuth,
    #[error("bad version")]
    BadVersion,
    #[error("ephemeral nodes may not have children")]
    NoChildrenForEphemerals,
    #[error("node already exists")]
    NodeExists,
    #[error("node has children")]
    NotEmpty,
    #[error("session expired")]
    SessionExpired,
    #[error("invalid callback")]
    InvalidCallback,
    #[error("invalid ACL")]
    InvalidAcl,
    #[error("authentication failed")]
    AuthFailed,
    #[error("session moved")]
    SessionMoved,
    #[error("not a read-only call")]
    NotReadOnly,
    #[error("ephemeral node on local session")]
    EphemeralOnLocalSession,
    #[error("no watcher")]
    NoWatcher,
    #[error("request timeout")]
    RequestTimeout,
    #[error("reconfig disabled")]
    ReconfigDisabled,
    #[error("session closed, SASL auth required")]
    SessionClosedRequireSaslAuth,
    #[error("quota exceeded")]
    QuotaExceeded,
    #[error("operation throttled")]
    ThrottledOp,
    /// A ZooKeeper code zkrs has no variant for (kept so it round-trips).
    #[error("ZooKeeper error code {0}")]
    Other(i32),
    /// Local I/O failure (disk, socket) with its description.
    #[error("I/O error: {0}")]
    Io(String),
    /// A configuration key or value that cannot be used.
    #[error("config error: {0}")]
    Config(String),
}

/// (code, variant) pairs; one table so `code` and `from_code` cannot drift.
const CODES: &[(i32, Error)] = &[
    (-1, Error::SystemError),
    (-2, Error::RuntimeInconsistency),
    (-3, Error::DataInconsistency),
    (-4, Error::ConnectionLoss),
    (-5, Error::MarshallingError),
    (-6, Error::Unimplemented),
    (-7, Error::OperationTimeout),
    (-8, Error::BadArguments),
    (-12, Error::UnknownSession),
    (-13, Error::NewConfigNoQuorum),
    (-14, Error::ReconfigInProgress),
    (-100, Error::ApiError),
    (-101, Error::NoNode),
    (-102, Error::NoAuth),
    (-103, Error::BadVersion),
    (-108, Error::NoChildrenForEphemerals),
    (-110, Error::NodeExists),
    (-111, Error::NotEmpty),
    (-112, Error::SessionExpired),
    (-113, Error::InvalidCallback),
    (-114, Error::InvalidAcl),
    (-115, Error::AuthFailed),
    (-118, Error::SessionMoved),
    (-119, Error::NotReadOnly),
    (-120, Error::EphemeralOnLocalSession),
    (-121, Error::NoWatcher),
    (-122, Error::RequestTimeout),
    (-123, Error::ReconfigDisabled),
    (-124, Error::SessionClosedRequireSaslAuth),
    (-125, Error::QuotaExceeded),
    (-127, Error::ThrottledOp),
];

impl Error {
    /// ZooKeeper's numeric code. Local errors map to SystemError (-1),
    /// which is what ZooKeeper reports for server-side failures.
    pub fn code(&self) -> i32 {
        match self {
            Error::Other(c) => *c,
            Error::Io(_) | Error::Config(_) => -1,
            e => CODES
                .iter()
                .find(|(_, v)| v == e)
                .map(|(c, _)| *c)
                .unwrap_or(-1),
        }
    }

    /// The error for a ZooKeeper code; `None` for 0 (Ok).
    pub fn from_code(code: i32) -> Option<Error> {
        if code == 0 {
            return None;
        }
        let known = CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, e)| e.clone());
        Some(known.unwrap_or(Error::Other(code)))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for (code, err) in CODES {
            assert_eq!(err.code(), *code);
            assert_eq!(Error::from_code(*code).as_ref(), Some(err));
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(Error::from_code(-999), Some(Error::Other(-999)));
        assert_eq!(Error::Io("x".into()).code(), -1);
    }
}
