//! The connect string ("h1:p1,h2:p2[/chroot]") and the chroot mapping
//! between the paths a caller sees and the paths the server stores.
//! Pure string handling: no I/O.

use crate::Error;

/// ZooKeeper's default client port, used when a host names none.
const DEFAULT_PORT: u16 = 2181;

/// A parsed connect string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectString {
    /// "host:port" entries, in the order given ("[v6]:port" kept bracketed).
    pub hosts: Vec<String>,
    pub chroot: Chroot,
}

/// Prefix every request path with the chroot; strip it from what comes
/// back. `None` is the root, where both are the identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Chroot(Option<String>);

/// The chroot of a connect string ("" for none); InvalidPath
/// (BadArguments for a malformed host list) as `Client::connect` would
/// refuse it.
pub fn chroot_of(connect_string: &str) -> Result<String, Error> {
    Ok(ConnectString::parse(connect_string)?
        .chroot
        .as_str()
        .to_string())
}

impl ConnectString {
    pub fn parse(s: &str) -> Result<ConnectString, Error> {
        let s = s.trim();
        let (host_part, chroot) = match s.find('/') {
            Some(i) => (&s[..i], Some(&s[i..])),
            None => (s, None),
        };
        let chroot = match chroot {
            None | Some("/") => Chroot(None),
            Some(c) => {
                crate::tree::validate_path(c, false)?;
                Chroot(Some(c.to_string()))
            }
        };
        let mut hosts = Vec::new();
        for h in host_part
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            hosts.push(with_port(h)?);
        }
        if hosts.is_empty() {
            return Err(Error::BadArguments);
        }
        Ok(ConnectString { hosts, chroot })
    }
}

/// "host" → "host:2181"; "[::1]" → "[::1]:2181"; a bare IPv6 address is
/// bracketed so the socket layer can split off the port.
fn with_port(h: &str) -> Result<String, Error> {
    if let Some(rest) = h.strip_prefix('[') {
        let close = rest.find(']').ok_or(Error::BadArguments)?;
        let after = &rest[close + 1..];
        return match after.strip_prefix(':') {
            Some(p) => port(p).map(|_| h.to_string()),
            None if after.is_empty() => Ok(format!("{h}:{DEFAULT_PORT}")),
            None => Err(Error::BadArguments),
        };
    }
    match h.matches(':').count() {
        0 => Ok(format!("{h}:{DEFAULT_PORT}")),
        1 => {
            let (host, p) = h.split_once(':').unwrap_or((h, ""));
            if host.is_empty() {
                return Err(Error::BadArguments);
            }
            port(p).map(|_| h.to_string())
        }
        _ => Ok(format!("[{h}]:{DEFAULT_PORT}")),
    }
}

fn port(p: &str) -> Result<u16, Error> {
    p.parse::<u16>().map_err(|_| Error::BadArguments)
}

impl Chroot {
    /// The chroot path, "" for none.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }

    /// No chroot: caller paths are server paths.
    pub fn is_root(&self) -> bool {
        self.0.is_none()
    }

    /// The server path for a caller's path.
    pub fn prepend(&self, path: &str) -> String {
        match &self.0 {
            None => path.to_string(),
            Some(c) if path == "/" => c.clone(),
            Some(c) => format!("{c}{path}"),
        }
    }

    /// The caller's path for a server path. A path outside the chroot
    /// (which the server should never send) is returned unchanged.
    pub fn strip(&self, path: &str) -> String {
        match &self.0 {
            None => path.to_string(),
            Some(c) if path == c => "/".to_string(),
            Some(c) => match path.strip_prefix(c.as_str()) {
                Some(rest) if rest.starts_with('/') => rest.to_string(),
                _ => path.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_chroot() {
        let c = ConnectString::parse("a:1, b ,[::1]:3,::2/app/x").unwrap();
        assert_eq!(c.hosts, ["a:1", "b:2181", "[::1]:3", "[::2]:2181"]);
        assert_eq!(c.chroot, Chroot(Some("/app/x".into())));
        assert_eq!(ConnectString::parse("h:1/").unwrap().chroot, Chroot(None));
        assert_eq!(ConnectString::parse(""), Err(Error::BadArguments));
        assert_eq!(ConnectString::parse("h:x"), Err(Error::BadArguments));
        assert_eq!(ConnectString::parse("h:1/a/"), Err(Error::BadArguments));
        assert_eq!(ConnectString::parse(":1"), Err(Error::BadArguments));
    }

    #[test]
    fn chroot_maps_both_ways() {
        let c = Chroot(Some("/app".into()));
        assert_eq!(c.prepend("/"), "/app");
        assert_eq!(c.prepend("/x/y"), "/app/x/y");
        assert_eq!(c.strip("/app"), "/");
        assert_eq!(c.strip("/app/x"), "/x");
        assert_eq!(c.strip("/apple"), "/apple");
        let root = Chroot(None);
        assert_eq!(root.prepend("/x"), "/x");
        assert_eq!(root.strip("/x"), "/x");
    }
}
