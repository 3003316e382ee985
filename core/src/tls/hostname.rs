//! Whether a peer's certificate names the host it connects from or was
//! dialled at, as ZooKeeper's `ZKTrustManager` and `ZKHostnameVerifier`
//! decide it (`ssl.hostnameVerification`, `ssl.quorum.hostnameVerification`).
//!
//! ZooKeeper checks the peer's IP address first and, failing that, the
//! name a reverse lookup of the address gives. A certificate with DNS or
//! IP subject alternative names is matched against those only (an IP
//! against IP entries, a name against DNS entries, `*` standing for part
//! of one label); one without falls back to its most specific common name.
//! The dialling side here also accepts the name it dialled, as TLS clients
//! commonly do, so a member dialled by a DNS name needs no reverse record.
//!
//! The check runs after the handshake, outside rustls: a reverse lookup can
//! block, and must not stall a runtime thread inside a handshake callback.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::X509Certificate;

/// Checks `cert` against `dialled` (if given), then `ip`, then the name a
/// reverse lookup of `ip` gives (confirmed by a forward lookup, as Java's
/// `InetAddress.getHostName` does). The error says what was tried.
pub async fn check(
    cert: Option<&CertificateDer<'_>>,
    dialled: Option<&str>,
    ip: IpAddr,
) -> Result<(), String> {
    let Some(parsed) = cert.and_then(super::parse) else {
        return Err("no certificate to check the peer's name against".into());
    };
    let named = Names::of(&parsed);
    let mut tried: Vec<String> = dialled.map(host_of).into_iter().collect();
    tried.push(ip.to_string());
    if tried.iter().any(|h| named.cover(h)) {
        return Ok(());
    }
    let reverse = tokio::task::spawn_blocking(move || reverse_name(ip))
        .await
        .ok()
        .flatten();
    if let Some(name) = reverse {
        if named.cover(&name) {
            return Ok(());
        }
        tried.push(name);
    }
    Err(format!(
        "its certificate names {} but the peer is {}",
        named,
        tried.join(" / ")
    ))
}

/// The host part of "host:port" (or "[v6]:port"), or the whole.
fn host_of(addr: &str) -> String {
    if let Ok(sa) = addr.parse::<SocketAddr>() {
        return sa.ip().to_string();
    }
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// What a certificate names: its DNS and IP alternative names, or (with
/// none of those) its most specific common name.
#[derive(Debug, Default, PartialEq)]
struct Names {
    dns: Vec<String>,
    ips: Vec<IpAddr>,
    common_name: Option<String>,
}

impl Names {
    fn of(cert: &X509Certificate<'_>) -> Names {
        let mut names = Names::default();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(d) => names.dns.push(d.to_string()),
                    GeneralName::IPAddress(b) => names.ips.extend(ip_from(b)),
                    _ => {}
                }
            }
        }
        if names.dns.is_empty() && names.ips.is_empty() {
            // RFC 2253 order puts the most specific name first; x509-parser
            // iterates in the certificate's order, most specific last.
            names.common_name = cert
                .subject()
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok())
                .last()
                .map(str::to_string);
        }
        names
    }

    /// ZooKeeper's `ZKHostnameVerifier.verify(host, cert)`.
    fn cover(&self, host: &str) -> bool {
        if self.dns.is_empty() && self.ips.is_empty() {
            let host = host.to_ascii_lowercase();
            return self
                .common_name
                .as_ref()
                .is_some_and(|cn| identity_matches(&host, &cn.to_ascii_lowercase()));
        }
        match host.parse::<IpAddr>() {
            Ok(ip) => self.ips.contains(&ip),
            Err(_) => {
                let host = host.to_ascii_lowercase();
                self.dns
                    .iter()
                    .any(|d| identity_matches(&host, &d.to_ascii_lowercase()))
            }
        }
    }
}

impl std::fmt::Display for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut all: Vec<String> = self.dns.iter().map(|d| format!("DNS:{d}")).collect();
        all.extend(self.ips.iter().map(|ip| format!("IP:{ip}")));
        all.extend(self.common_name.iter().map(|cn| format!("CN={cn}")));
        match all.is_empty() {
            true => f.write_str("no host"),
            false => f.write_str(&all.join(", ")),
        }
    }
}

fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// RFC 2818's rule as ZooKeeper applies it (strict): a `*` in `identity`
/// stands for any characters of `host` but a dot; only the first `*` is a
/// wildcard. Both are lower case.
fn identity_matches(host: &str, identity: &str) -> bool {
    let Some((prefix, suffix)) = identity.split_once('*') else {
        return host == identity;
    };
    if host.len() < prefix.len() + suffix.len() {
        return false;
    }
    host.starts_with(prefix)
        && host.ends_with(suffix)
        && !host[prefix.len()..host.len() - suffix.len()].contains('.')
}

/// The name a reverse lookup gives for `ip`, if a forward lookup of that
/// name gives `ip` back.
fn reverse_name(ip: IpAddr) -> Option<String> {
    let name = lookup_addr(ip)?;
    let forward = (name.as_str(), 0).to_socket_addrs().ok()?;
    forward.into_iter().any(|sa| sa.ip() == ip).then_some(name)
}

/// getnameinfo(3) with NI_NAMEREQD: None when the address has no name.
fn lookup_addr(ip: IpAddr) -> Option<String> {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut sa: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match ip {
        IpAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any
            // sockaddr; this one is written as a sockaddr_in only.
            let sin = unsafe { &mut *(&mut sa as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
            std::mem::size_of::<libc::sockaddr_in>()
        }
        IpAddr::V6(v6) => {
            // SAFETY: as above, as a sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut sa as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr.s6_addr = v6.octets();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    let mut host = [0 as libc::c_char; libc::NI_MAXHOST as usize];
    // SAFETY: `sa` holds a sockaddr of `len` bytes; `host` is a writable
    // buffer of the given length, NUL-terminated on success.
    let r = unsafe {
        libc::getnameinfo(
            (&sa as *const libc::sockaddr_storage).cast(),
            len as libc::socklen_t,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if r != 0 {
        return None;
    }
    // SAFETY: getnameinfo succeeded, so `host` holds a NUL-terminated string.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    name.to_str().ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    fn cert(sans: Vec<SanType>, cn: Option<&str>) -> CertificateDer<'static> {
        let mut params = CertificateParams::default();
        params.subject_alt_names = sans;
        params.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(cn) = cn {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn names(c: &CertificateDer<'_>) -> Names {
        Names::of(&super::super::parse(c).unwrap())
    }

    fn dns(n: &str) -> SanType {
        SanType::DnsName(n.try_into().unwrap())
    }

    #[test]
    fn alternative_names_match_by_kind() {
        let c = cert(
            vec![
                SanType::IpAddress("10.0.0.7".parse().unwrap()),
                SanType::IpAddress("2001:db8::1".parse().unwrap()),
                dns("zk1.example.com"),
                dns("*.zk.example.com"),
            ],
            Some("ignored.example.com"),
        );
        let n = names(&c);
        assert!(n.cover("10.0.0.7"));
        assert!(
            n.cover("2001:0db8:0:0:0:0:0:1"),
            "IPv6 compared as addresses"
        );
        assert!(!n.cover("10.0.0.8"));
        assert!(n.cover("ZK1.Example.com"));
        assert!(n.cover("a.zk.example.com"));
        assert!(!n.cover("a.b.zk.example.com"), "a wildcard spans one label");
        assert!(!n.cover("zk.example.com"));
        assert!(
            !n.cover("ignored.example.com"),
            "the common name counts only without alternative names"
        );
        assert_eq!(
            n.to_string(),
            "DNS:zk1.example.com, DNS:*.zk.example.com, IP:10.0.0.7, IP:2001:db8::1"
        );
    }

    #[test]
    fn without_alternative_names_the_common_name_counts() {
        let n = names(&cert(vec![], Some("zk*.example.com")));
        assert!(n.cover("zk2.example.com"));
        assert!(n.cover("zk.example.com"));
        assert!(!n.cover("zk2.other.com"));
        let ip = names(&cert(vec![], Some("127.0.0.1")));
        assert!(ip.cover("127.0.0.1"));
        assert!(!ip.cover("127.0.0.2"));
        let none = names(&cert(vec![], None));
        assert!(!none.cover("127.0.0.1"));
        assert_eq!(none.to_string(), "no host");
    }

    #[test]
    fn wildcards_follow_zookeepers_strict_rule() {
        assert!(identity_matches("zk1.a.com", "zk*.a.com"));
        assert!(identity_matches("x.a.com", "*.a.com"));
        assert!(!identity_matches("a.com", "*.a.com"));
        assert!(!identity_matches("x.y.a.com", "*.a.com"));
        assert!(!identity_matches("a", "a*a"), "too short for both ends");
        assert!(identity_matches("aa", "a*a"));
        assert!(identity_matches("a.com", "a.com"));
    }

    #[test]
    fn host_of_takes_the_address_part() {
        assert_eq!(host_of("127.0.0.1:2888"), "127.0.0.1");
        assert_eq!(host_of("[::1]:2888"), "::1");
        assert_eq!(host_of("zk1.example.com:2888"), "zk1.example.com");
        assert_eq!(host_of("zk1"), "zk1");
    }

    #[tokio::test]
    async fn check_tries_the_dialled_name_then_the_address() {
        let c = cert(vec![dns("zk1.example.com")], None);
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        assert_eq!(
            check(Some(&c), Some("zk1.example.com:2888"), ip).await,
            Ok(())
        );
        let by_ip = cert(vec![SanType::IpAddress(ip)], None);
        assert_eq!(check(Some(&by_ip), Some("zk1:2888"), ip).await, Ok(()));
        assert_eq!(check(Some(&by_ip), None, ip).await, Ok(()));
        let e = check(Some(&c), None, ip).await.unwrap_err();
        assert!(
            e.contains("DNS:zk1.example.com") && e.contains("127.0.0.9"),
            "{e}"
        );
        assert!(check(None, None, ip).await.is_err());
    }

    #[tokio::test]
    async fn the_reverse_name_of_an_address_counts() {
        // The loopback address has a name (localhost) in /etc/hosts.
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let name = reverse_name(ip).expect("a name for 127.0.0.1 in /etc/hosts");
        let c = cert(vec![dns(&name)], None);
        assert_eq!(check(Some(&c), None, ip).await, Ok(()));
    }
}
