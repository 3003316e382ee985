//! ACL semantics: ZooKeeper's `checkACL`, `fixupACL` and the two built-in
//! authentication providers (digest, ip). Pure functions over ids; the
//! session layer decides which ids a connection holds.

use base64::Engine;
use sha1::{Digest, Sha1};

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, Weak};

use crate::{Acl, Error, Id, Result};

/// The authentication providers ZooKeeper registers by default
/// (`ProviderRegistry`), and x509 and sasl (registered with TLS or SASL
/// there; always here, as an ACL's validity must not depend on one member's
/// settings): a scheme without one is not a valid ACL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Digest,
    Ip,
    /// A client certificate's subject (RFC 2253), matched exactly.
    X509,
    /// A SASL authorization id, matched exactly.
    Sasl,
}

impl Provider {
    fn of(scheme: &str) -> Option<Provider> {
        match scheme {
            "digest" => Some(Provider::Digest),
            "ip" => Some(Provider::Ip),
            "x509" => Some(Provider::X509),
            "sasl" => Some(Provider::Sasl),
            _ => None,
        }
    }

    /// Whether an id of this scheme names an authenticated user, and so may
    /// stand in for the "auth" scheme. An address proves nothing.
    fn is_authenticated(self) -> bool {
        self != Provider::Ip
    }

    fn is_valid(self, id: &str) -> bool {
        match self {
            // Java's id.split(":").length == 2 (trailing empties dropped).
            Provider::Digest => java_split_len(id, ':') == 2,
            Provider::Ip => ip_valid(id),
            Provider::X509 | Provider::Sasl => !id.is_empty(),
        }
    }

    fn matches(self, id: &str, acl_expr: &str) -> bool {
        match self {
            Provider::Digest | Provider::X509 | Provider::Sasl => id == acl_expr,
            Provider::Ip => ip_matches(id, acl_expr),
        }
    }
}

/// Whether `scheme` names an authentication provider (digest, ip, x509,
/// sasl).
pub fn is_auth_scheme(scheme: &str) -> bool {
    Provider::of(scheme).is_some()
}

/// Live ACL lists by content, as ZooKeeper's `ReferenceCountedACLCache`:
/// a million znodes with the same ACL share one copy instead of holding
/// a million (about 80 bytes each).
static ACLS: Mutex<Option<Interned>> = Mutex::new(None);

#[derive(Default)]
struct Interned {
    /// By a hash of the list's content.
    lists: HashMap<u64, Vec<Weak<Vec<Acl>>>>,
    len: usize,
    /// Drop dead entries when `len` reaches this.
    sweep_at: usize,
}

/// The shared copy of `acl` (made if no live node holds one).
pub(crate) fn intern_acl(acl: &[Acl]) -> Arc<Vec<Acl>> {
    let key = {
        let mut h = std::hash::DefaultHasher::new();
        acl.hash(&mut h);
        h.finish()
    };
    let mut guard = crate::lock(&ACLS);
    let cache = guard.get_or_insert_with(Interned::default);
    let bucket = cache.lists.entry(key).or_default();
    if let Some(live) = bucket
        .iter()
        .filter_map(Weak::upgrade)
        .find(|l| l[..] == *acl)
    {
        return live;
    }
    let shared = Arc::new(acl.to_vec());
    bucket.push(Arc::downgrade(&shared));
    cache.len += 1;
    if cache.len >= cache.sweep_at {
        cache.lists.retain(|_, b| {
            b.retain(|w| w.strong_count() > 0);
            !b.is_empty()
        });
        cache.len = cache.lists.values().map(Vec::len).sum();
        cache.sweep_at = (cache.len * 2).max(64);
    }
    shared
}

/// "user:" + base64(sha1("user:password")), the id a digest login yields
/// and the form of `superDigest` (`DigestAuthenticationProvider.generateDigest`).
pub fn digest(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or("");
    let hash = Sha1::digest(user_password.as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// Whether `ids` may use `perm` on a node with `acl` (`checkACL`): NoAuth
/// otherwise. An empty ACL and a super user (flag or a "super" id) pass.
pub fn check_acl_list(acl: &[Acl], perm: i32, ids: &[Id], is_super: bool) -> Result<()> {
    if acl.is_empty() || is_super || ids.iter().any(|i| i.scheme == "super") {
        return Ok(());
    }
    if acl
        .iter()
        .any(|a| a.perms & perm != 0 && grants(&a.id, ids))
    {
        return Ok(());
    }
    Err(Error::NoAuth)
}

fn grants(acl_id: &Id, ids: &[Id]) -> bool {
    if acl_id.scheme == "world" && acl_id.id == "anyone" {
        return true;
    }
    let Some(p) = Provider::of(&acl_id.scheme) else {
        return false;
    };
    ids.iter()
        .any(|i| i.scheme == acl_id.scheme && p.matches(&i.id, &acl_id.id))
}

/// Validates an ACL from a request and expands "auth" into the session's
/// authenticated ids (`fixupACL`). InvalidACL for an empty list, an unknown
/// scheme, a malformed id, or "auth" from a session with no authenticated id.
/// A list with no "auth" entry and no repeat, as most are, comes back
/// borrowed: a create then copies it only if no node holds it yet.
pub fn fix_acl<'a>(acl: &'a [Acl], auth_ids: &[Id]) -> Result<Cow<'a, [Acl]>> {
    if acl.is_empty() {
        return Err(Error::InvalidAcl);
    }
    // Set at the first entry where the result departs from `acl`.
    let mut fixed: Option<Vec<Acl>> = None;
    for (i, a) in acl.iter().enumerate() {
        let repeat = acl[..i].contains(a);
        let expanded = if repeat { None } else { expand(a, auth_ids)? };
        if repeat || expanded.is_some() {
            let out = fixed.get_or_insert_with(|| acl[..i].to_vec());
            out.extend(expanded.into_iter().flatten());
        } else if let Some(out) = &mut fixed {
            out.push(a.clone());
        }
    }
    Ok(fixed.map_or(Cow::Borrowed(acl), Cow::Owned))
}

/// An "auth" entry as the authenticated ids it stands for; `None` for a
/// valid entry that stays as it is.
fn expand(a: &Acl, auth_ids: &[Id]) -> Result<Option<Vec<Acl>>> {
    if a.id.scheme == "world" && a.id.id == "anyone" {
        Ok(None)
    } else if a.id.scheme == "auth" {
        let authenticated: Vec<Acl> = auth_ids
            .iter()
            .filter(|i| Provider::of(&i.scheme).is_some_and(Provider::is_authenticated))
            .map(|i| Acl {
                perms: a.perms,
                id: i.clone(),
            })
            .collect();
        if authenticated.is_empty() {
            return Err(Error::InvalidAcl);
        }
        Ok(Some(authenticated))
    } else if Provider::of(&a.id.scheme).is_some_and(|p| p.is_valid(&a.id.id)) {
        Ok(None)
    } else {
        Err(Error::InvalidAcl)
    }
}

/// Length of Java's `s.split(sep)`: trailing empty pieces are dropped, but
/// an empty string splits into one piece.
fn java_split_len(s: &str, sep: char) -> usize {
    if s.is_empty() {
        return 1;
    }
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts.len()
}

/// Parses "addr" or "addr/bits" into (address bytes, prefix bits), as
/// `IPAuthenticationProvider.isValid`/`matches` read an ACL expression.
fn ip_expr(expr: &str) -> Option<(Vec<u8>, usize)> {
    let (addr, bits) = match expr.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (expr, None),
    };
    let bytes = addr_bytes(addr)?;
    let max = bytes.len() * 8;
    let bits = match bits {
        None => max,
        Some(b) => usize::try_from(b.parse::<i32>().ok()?)
            .ok()
            .filter(|&b| b <= max)?,
    };
    Some((bytes, bits))
}

fn ip_valid(expr: &str) -> bool {
    ip_expr(expr).is_some()
}

/// Whether the client address `id` lies in the ACL's `addr[/bits]`; the
/// two must be the same family.
fn ip_matches(id: &str, acl_expr: &str) -> bool {
    let Some((acl_addr, bits)) = ip_expr(acl_expr) else {
        return false;
    };
    let Some(remote) = addr_bytes(id) else {
        return false;
    };
    remote.len() == acl_addr.len() && mask(remote, bits) == mask(acl_addr, bits)
}

fn mask(mut b: Vec<u8>, bits: usize) -> Vec<u8> {
    for (i, byte) in b.iter_mut().enumerate() {
        let keep = bits.saturating_sub(i * 8).min(8);
        *byte &= (0xFF00u16 >> keep) as u8;
    }
    b
}

/// Address text to bytes: a ':' means IPv6, else a '.' means IPv4
/// (`addr2Bytes`); None when it does not parse.
fn addr_bytes(addr: &str) -> Option<Vec<u8>> {
    if addr.contains(':') {
        v6_bytes(addr)
    } else if addr.contains('.') {
        v4_bytes(addr)
    } else {
        None
    }
}

fn v4_bytes(addr: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    // Java's Integer.parseInt, like Rust's, accepts a leading sign.
    parts
        .iter()
        .map(|p| p.parse::<i32>().ok().and_then(|v| u8::try_from(v).ok()))
        .collect()
}

fn v6_bytes(addr: &str) -> Option<Vec<u8>> {
    let halves: Vec<&str> = addr.split("::").collect();
    let (head, tail): (Vec<&str>, Vec<&str>) = match halves.as_slice() {
        [full] => (full.split(':').collect(), Vec::new()),
        [h, t] => (segments(h), segments(t)),
        _ => return None,
    };
    let compressed = halves.len() == 2;
    if (!compressed && head.len() != 8) || (compressed && head.len() + tail.len() >= 8) {
        return None;
    }
    let mut out = vec![0u8; 16];
    write_segments(&mut out[..head.len() * 2], &head)?;
    write_segments(&mut out[16 - tail.len() * 2..], &tail)?;
    Some(out)
}

fn segments(s: &str) -> Vec<&str> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(':').collect()
    }
}

fn write_segments(out: &mut [u8], segs: &[&str]) -> Option<()> {
    for (chunk, seg) in out.chunks_mut(2).zip(segs) {
        if seg.is_empty() || seg.chars().count() > 4 {
            return None;
        }
        let v = i32::from_str_radix(seg, 16).ok()?;
        chunk[0] = (v >> 8) as u8;
        chunk[1] = v as u8;
    }
    Some(())
}

/// The ip rules, exposed for the tree's unit tests.
#[cfg(test)]
pub(super) mod tests_api {
    pub fn ip_matches(id: &str, expr: &str) -> bool {
        super::ip_matches(id, expr)
    }
    pub fn ip_valid(expr: &str) -> bool {
        super::ip_valid(expr)
    }
}
