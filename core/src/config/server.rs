//! One `server.N=` line of zoo.cfg, read as ZooKeeper's
//! `QuorumPeer.QuorumServer` reads it:
//! `host:peerPort:electionPort[:participant|observer][;[clientHost:]clientPort[;[secureHost:]securePort]]`.
//! IPv6 hosts are written in brackets. Names are not resolved here.

use std::fmt;

use crate::error::{Error, Result};

/// Whether a member votes (ZooKeeper's LearnerType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Role {
    #[default]
    Participant,
    Observer,
}

impl Role {
    /// "participant" or "observer", any case, blanks ignored.
    pub fn parse(s: &str) -> Result<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "participant" => Ok(Role::Participant),
            "observer" => Ok(Role::Observer),
            _ => Err(Error::Config(format!("unrecognised peertype: '{s}'"))),
        }
    }

    /// The `peerType=` number of the `conf` four-letter word (enum ordinal).
    pub fn ordinal(self) -> u8 {
        match self {
            Role::Participant => 0,
            Role::Observer => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Participant => "participant",
            Role::Observer => "observer",
        }
    }
}

/// A member of the ensemble as listed in zoo.cfg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    pub id: u64,
    pub host: String,
    /// Quorum (follower-to-leader) port; zkrs's peer protocol port.
    pub peer_port: u16,
    pub election_port: u16,
    pub role: Role,
    /// Client address given on the line itself; host "0.0.0.0" when only a
    /// port was given, as ZooKeeper does.
    pub client_addr: Option<(String, u16)>,
    pub secure_client_addr: Option<(String, u16)>,
}

const FORMAT: &str = "expected host:peerPort:electionPort[:participant|observer]\
                      [;[clientHost:]clientPort]";

fn bad(id: u64, value: &str, why: &str) -> Error {
    Error::Config(format!("server.{id}: '{value}': {why}"))
}

/// ZooKeeper's `ConfigUtils.getHostAndPort`: `[v6]:a:b` or `host:a:b`.
fn host_and_ports(s: &str) -> Option<Vec<&str>> {
    if let Some(rest) = s.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &rest[..close];
        let after = &rest[close + 1..];
        if after.is_empty() {
            return Some(vec![host]);
        }
        let ports = after.strip_prefix(':').filter(|p| !p.is_empty())?;
        let mut parts = vec![host];
        parts.extend(ports.split(':'));
        Some(parts)
    } else {
        Some(s.split(':').collect())
    }
}

fn port(id: u64, value: &str, p: &str) -> Result<u16> {
    p.trim()
        .parse::<u16>()
        .map_err(|_| bad(id, value, &format!("'{p}' is not a port")))
}

/// `[host:]port`, the host defaulting to the wildcard.
fn client_part(id: u64, value: &str, part: &str) -> Result<Option<(String, u16)>> {
    if part.trim().is_empty() {
        return Ok(None);
    }
    let parts = host_and_ports(part.trim()).ok_or_else(|| bad(id, value, FORMAT))?;
    match parts.as_slice() {
        [p] => Ok(Some(("0.0.0.0".to_string(), port(id, value, p)?))),
        [h, p] => Ok(Some((h.to_string(), port(id, value, p)?))),
        _ => Err(bad(id, value, FORMAT)),
    }
}

impl ServerEntry {
    /// Parses the value of a `server.<id>` key.
    pub fn parse(id: u64, value: &str) -> Result<ServerEntry> {
        let value = value.trim();
        let sections: Vec<&str> = value.split(';').collect();
        if sections.len() > 3 {
            return Err(bad(id, value, FORMAT));
        }
        let server = sections[0].trim();
        if server.contains('|') {
            return Err(bad(
                id,
                value,
                "multiple addresses per server are not supported",
            ));
        }
        let parts = host_and_ports(server).ok_or_else(|| bad(id, value, FORMAT))?;
        if !(3..=4).contains(&parts.len()) || parts[0].is_empty() {
            return Err(bad(id, value, FORMAT));
        }
        let peer_port = port(id, value, parts[1])?;
        let election_port = port(id, value, parts[2])?;
        if peer_port == election_port {
            return Err(bad(id, value, "peer and election ports must be different"));
        }
        let role = match parts.get(3) {
            Some(r) => Role::parse(r)?,
            None => Role::Participant,
        };
        let client_addr = match sections.get(1) {
            Some(part) => client_part(id, value, part)?,
            None => None,
        };
        let secure_client_addr = match sections.get(2) {
            Some(part) => client_part(id, value, part)?,
            None => None,
        };
        Ok(ServerEntry {
            id,
            host: parts[0].to_string(),
            peer_port,
            election_port,
            role,
            client_addr,
            secure_client_addr,
        })
    }
}

/// An IPv6 literal goes in brackets, as ZooKeeper prints it.
fn delimited(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The value part as ZooKeeper's QuorumServer.toString writes it (the
/// format of /zookeeper/config and of the `conf` membership block).
impl fmt::Display for ServerEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            delimited(&self.host),
            self.peer_port,
            self.election_port,
            self.role.as_str()
        )?;
        if let Some((h, p)) = &self.client_addr {
            write!(f, ";{}:{p}", delimited(h))?;
        }
        if let Some((h, p)) = &self.secure_client_addr {
            if self.client_addr.is_none() {
                f.write_str(";")?;
            }
            write!(f, ";{}:{p}", delimited(h))?;
        }
        Ok(())
    }
}
