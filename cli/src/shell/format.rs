//! How zkCli prints things: Stat blocks, Java `Date.toString()` times,
//! ACL lines, watch events and KeeperException messages. Text only; no I/O
//! to the server here.

use zkrs::client::SessionState;
use zkrs::types::{perms, EventType, KeeperState, Stat, WatchedEvent};
use zkrs::{Acl, Error, Id};

/// StatPrinter's block, one field a line.
pub fn stat_lines(s: &Stat) -> String {
    format!(
        "cZxid = 0x{:x}\nctime = {}\nmZxid = 0x{:x}\nmtime = {}\npZxid = 0x{:x}\n\
         cversion = {}\ndataVersion = {}\naclVersion = {}\nephemeralOwner = 0x{:x}\n\
         dataLength = {}\nnumChildren = {}",
        s.czxid,
        java_date(s.ctime),
        s.mzxid,
        java_date(s.mtime),
        s.pzxid,
        s.cversion,
        s.version,
        s.aversion,
        s.ephemeral_owner,
        s.data_length,
        s.num_children
    )
}

/// Java's `new Date(ms).toString()` in the local time zone
/// ("Sat Dec 05 16:13:03 UTC 2026"): libc's strftime gives the same fields
/// and, unlike chrono, the zone's abbreviation.
pub fn java_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000) as libc::time_t;
    // SAFETY: tm and buf are local, properly sized, and only read after
    // localtime_r/strftime report success.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return ms.to_string();
        }
        let mut buf = [0u8; 64];
        let fmt = c"%a %b %d %H:%M:%S %Z %Y";
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// ZKUtil.getPermString: the letters in zkCli's order.
pub fn perm_string(p: i32) -> String {
    let bits = [
        (perms::CREATE, 'c'),
        (perms::DELETE, 'd'),
        (perms::READ, 'r'),
        (perms::WRITE, 'w'),
        (perms::ADMIN, 'a'),
    ];
    bits.iter()
        .filter(|(b, _)| p & b != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// getAcl's two lines per entry.
pub fn acl_lines(acl: &[Acl]) -> String {
    acl.iter()
        .map(|a| format!("'{},'{}\n: {}", a.id.scheme, a.id.id, perm_string(a.perms)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// AclParser: "scheme:id:perms[,...]". A malformed entry is reported (on
/// stderr, as zkCli does) and skipped; the server or the client then
/// refuses an empty list.
pub fn parse_acl(text: &str) -> Vec<Acl> {
    let mut out = Vec::new();
    for entry in text.split(',') {
        let (first, last) = match (entry.find(':'), entry.rfind(':')) {
            (Some(f), Some(l)) if f != l => (f, l),
            _ => {
                eprintln!("{entry} does not have the form scheme:id:perm");
                continue;
            }
        };
        out.push(Acl {
            perms: parse_perms(&entry[last + 1..]),
            id: Id::new(&entry[..first], &entry[first + 1..last]),
        });
    }
    out
}

fn parse_perms(letters: &str) -> i32 {
    let mut p = 0;
    for c in letters.chars() {
        p |= match c.to_ascii_lowercase() {
            'r' => perms::READ,
            'w' => perms::WRITE,
            'c' => perms::CREATE,
            'd' => perms::DELETE,
            'a' => perms::ADMIN,
            other => {
                eprintln!("Unknown perm type: {other}");
                0
            }
        };
    }
    p
}

/// KeeperException.Code's own text (used after "KeeperErrorCode = ").
fn code_text(e: &Error) -> String {
    let s = match e {
        Error::SystemError => "SystemError",
        Error::RuntimeInconsistency => "RuntimeInconsistency",
        Error::DataInconsistency => "DataInconsistency",
        Error::ConnectionLoss => "ConnectionLoss",
        Error::MarshallingError => "MarshallingError",
        Error::NewConfigNoQuorum => "NewConfigNoQuorum",
        Error::ReconfigInProgress => "ReconfigInProgress",
        Error::Unimplemented => "Unimplemented",
        Error::OperationTimeout => "OperationTimeout",
        Error::BadArguments => "BadArguments",
        Error::ApiError => "APIError",
        Error::NoNode => "NoNode",
        Error::NoAuth => "NoAuth",
        Error::BadVersion => "BadVersion",
        Error::NoChildrenForEphemerals => "NoChildrenForEphemerals",
        Error::NodeExists => "NodeExists",
        Error::InvalidAcl => "InvalidACL",
        Error::AuthFailed => "AuthFailed",
        Error::NotEmpty => "Directory not empty",
        Error::SessionExpired => "Session expired",
        Error::InvalidCallback => "Invalid callback",
        Error::SessionMoved => "Session moved",
        Error::NotReadOnly => "Not a read-only call",
        Error::EphemeralOnLocalSession => "Ephemeral node on local session",
        Error::NoWatcher => "No such watcher",
        Error::ReconfigDisabled => "Reconfig is disabled",
        Error::SessionClosedRequireSaslAuth => {
            "Session closed because client failed to authenticate"
        }
        Error::QuotaExceeded => "Quota has exceeded",
        Error::ThrottledOp => "Op throttled due to high load",
        Error::Io(m) | Error::Config(m) => return m.clone(),
        _ => "Unknown error",
    };
    s.to_string()
}

/// CliWrapperException's message for a failed call on `path` (`None`
/// where ZooKeeper's exception carries no path, printed as "null").
pub fn error_message(e: &Error, path: Option<&str>) -> String {
    let p = path.unwrap_or("null");
    match e {
        Error::NoNode => format!("Node does not exist: {p}"),
        Error::NoChildrenForEphemerals => format!("Ephemerals cannot have children: {p}"),
        Error::NodeExists => format!("Node already exists: {p}"),
        Error::NotEmpty => format!("Node not empty: {p}"),
        Error::NotReadOnly => format!("Not a read-only call: {p}"),
        Error::InvalidAcl => format!("Acl is not valid : {p}"),
        Error::NoAuth => format!("Insufficient permission : {p}"),
        Error::BadArguments => format!("Arguments are not valid : {p}"),
        Error::BadVersion => format!("version No is not valid : {p}"),
        Error::QuotaExceeded => format!("Quota has exceeded : {p}"),
        Error::ReconfigInProgress => {
            "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
                .to_string()
        }
        Error::NewConfigNoQuorum => "No quorum of new config is connected and up-to-date with \
            the leader of last committed config - try invoking reconfiguration after new \
            servers are connected and synced"
            .to_string(),
        _ => match path {
            Some(p) => format!("KeeperErrorCode = {} for {p}", code_text(e)),
            None => format!("KeeperErrorCode = {}", code_text(e)),
        },
    }
}

fn keeper_state_name(s: KeeperState) -> &'static str {
    match s {
        KeeperState::Disconnected => "Disconnected",
        KeeperState::SyncConnected => "SyncConnected",
        KeeperState::AuthFailed => "AuthFailed",
        KeeperState::ConnectedReadOnly => "ConnectedReadOnly",
        KeeperState::SaslAuthenticated => "SaslAuthenticated",
        KeeperState::Expired => "Expired",
        KeeperState::Closed => "Closed",
    }
}

fn event_type_name(t: EventType) -> &'static str {
    match t {
        EventType::None => "None",
        EventType::NodeCreated => "NodeCreated",
        EventType::NodeDeleted => "NodeDeleted",
        EventType::NodeDataChanged => "NodeDataChanged",
        EventType::NodeChildrenChanged => "NodeChildrenChanged",
        EventType::DataWatchRemoved => "DataWatchRemoved",
        EventType::ChildWatchRemoved => "ChildWatchRemoved",
        EventType::PersistentWatchRemoved => "PersistentWatchRemoved",
    }
}

/// WatchedEvent.toString() as zkCli 3.8 prints it.
pub fn event_text(ev: &WatchedEvent) -> String {
    format!(
        "WatchedEvent state:{} type:{} path:{}",
        keeper_state_name(ev.state),
        event_type_name(ev.event_type),
        ev.path
    )
}

/// The session event (type None, path null) for a state change.
pub fn session_event_text(s: SessionState) -> String {
    format!(
        "WatchedEvent state:{} type:None path:null",
        keeper_state_name(s.keeper_state())
    )
}

/// ZooKeeper.States as the prompt shows it.
pub fn state_name(s: Option<SessionState>) -> &'static str {
    match s {
        None => "CLOSED",
        Some(SessionState::Connecting) | Some(SessionState::Disconnected) => "CONNECTING",
        Some(SessionState::Connected) => "CONNECTED",
        Some(SessionState::ConnectedReadOnly) => "CONNECTEDREADONLY",
        Some(SessionState::AuthFailed) => "AUTH_FAILED",
        Some(SessionState::Expired) | Some(SessionState::Closed) => "CLOSED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perms_in_zkcli_order() {
        assert_eq!(perm_string(perms::ALL), "cdrwa");
        assert_eq!(perm_string(perms::READ | perms::ADMIN), "ra");
    }

    #[test]
    fn acl_parse_keeps_colons_in_id() {
        let acl = parse_acl("ip:127.0.0.1:rw,digest:u:h=:a");
        assert_eq!(acl[0].id, Id::new("ip", "127.0.0.1"));
        assert_eq!(acl[0].perms, perms::READ | perms::WRITE);
        assert_eq!(acl[1].id, Id::new("digest", "u:h="));
    }

    #[test]
    fn messages_match_zkcli() {
        assert_eq!(
            error_message(&Error::BadVersion, Some("/x")),
            "version No is not valid : /x"
        );
        assert_eq!(
            error_message(&Error::NoWatcher, Some("/w")),
            "KeeperErrorCode = No such watcher for /w"
        );
    }
}
