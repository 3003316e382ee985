//! Quotas as ZooKeeper keeps them: `/zookeeper/quota/<path>/zookeeper_limits`
//! holds the limits (`count=10,bytes=-1` soft, `;countHardLimit=..;
//! byteHardLimit=..` hard, ZooKeeper's `StatsTrack` text) and the tree keeps
//! `.../zookeeper_stats` current (`count=N,bytes=M` for the subtree at
//! `<path>`, the node itself included) on every create, delete and setData.
//! Hard limits refuse a write (QuotaExceeded) only when the writing member
//! has `enforceQuota=true`, decided when the write was logged; soft limits
//! are reported in the log.

use std::collections::HashMap;

use bytes::Bytes;

use super::{DataTree, Node};
use crate::{Error, Result};

pub const QUOTA_ROOT: &str = "/zookeeper/quota";
const LIMITS: &str = "zookeeper_limits";
const STATS: &str = "zookeeper_stats";

/// ZooKeeper's `StatsTrack` parse: `k=v` pairs split on `,` or `;`, an
/// empty value is -1. None where Java throws (a pair without `=`, a value
/// that is no number): ZooKeeper then refuses the write with
/// MarshallingError.
pub fn parse_stats(data: &[u8]) -> Option<HashMap<String, i64>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut out = HashMap::new();
    if text.is_empty() {
        return Some(out);
    }
    for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
        // Java's split("=") drops trailing empty parts: "bytes=5=" is
        // ["bytes", "5"].
        let mut parts: Vec<&str> = pair.split('=').collect();
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        let value = match parts.get(1) {
            None => return None,
            Some(&"") => -1,
            Some(v) => v.parse().ok()?,
        };
        out.insert(parts[0].to_string(), value);
    }
    Some(out)
}

fn get(stats: &HashMap<String, i64>, key: &str) -> i64 {
    stats.get(key).copied().unwrap_or(-1)
}

/// `<path>` of a `/zookeeper/quota/<path>/<leaf>` node named `leaf`.
fn quota_target<'a>(path: &'a str, leaf: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(QUOTA_ROOT)?;
    let target = rest.strip_suffix(leaf)?.strip_suffix('/')?;
    target.starts_with('/').then_some(target)
}

fn stats_path(root: &str) -> String {
    format!("{QUOTA_ROOT}{root}/{STATS}")
}

fn limits_path(root: &str) -> String {
    format!("{QUOTA_ROOT}{root}/{LIMITS}")
}

fn under(path: &str, root: &str) -> bool {
    path == root || (path.starts_with(root) && path.as_bytes().get(root.len()) == Some(&b'/'))
}

impl DataTree {
    /// Keeps the set of quota roots as limit nodes come and go.
    pub(super) fn quota_index(&mut self, path: &str, added: bool) {
        if let Some(root) = quota_target(path, LIMITS) {
            if added {
                self.quota_roots.insert(root.into());
            } else {
                self.quota_roots.remove(root);
            }
        }
    }

    /// The deepest quota root over `path` (ZooKeeper's
    /// `getMaxPrefixWithQuota`; "/" is never one).
    fn quota_root(&self, path: &str) -> Option<String> {
        self.quota_roots
            .iter()
            .filter(|r| &***r != "/" && under(path, r))
            .max_by_key(|r| r.len())
            .map(|r| r.to_string())
    }

    /// After a create: a new stats node gets its subtree's count; any
    /// write under a quota root moves that root's stats.
    pub(super) fn quota_created(&mut self, path: &str, data_len: usize) {
        if let Some(root) = quota_target(path, STATS) {
            let root = root.to_string();
            self.recount(&root);
        }
        self.quota_moved(path, data_len as i64, 1);
    }

    pub(super) fn quota_moved(&mut self, path: &str, bytes: i64, count: i64) {
        let Some(root) = self.quota_root(path) else {
            return;
        };
        let stats = stats_path(&root);
        let Ok(node) = self.node(&stats) else {
            tracing::error!("missing node for stat {stats}");
            return;
        };
        let old = node
            .data
            .as_deref()
            .and_then(parse_stats)
            .unwrap_or_default();
        let (c, b) = (get(&old, "count") + count, get(&old, "bytes") + bytes);
        self.write_stats(&root, c, b);
        self.warn_soft(&root, c, b);
    }

    /// Sets a root's stats from its subtree (ZooKeeper's
    /// `updateQuotaForPath`).
    fn recount(&mut self, root: &str) {
        let (count, bytes) = self.subtree(root).map_or((0, 0), |nodes| {
            nodes.fold((0i64, 0i64), |(c, b), n| (c + 1, b + n.data_len() as i64))
        });
        self.write_stats(root, count, bytes);
    }

    /// ZooKeeper writes stats in place: no new version or mzxid.
    fn write_stats(&mut self, root: &str, count: i64, bytes: i64) {
        let Ok(node) = self.node_mut(&stats_path(root)) else {
            return;
        };
        let before = node.data_len() as i64;
        node.data = Some(Bytes::from(format!("count={count},bytes={bytes}")));
        let delta = node.data_len() as i64 - before;
        self.data_size += delta;
    }

    fn warn_soft(&self, root: &str, count: i64, bytes: i64) {
        let limits = self
            .node(&limits_path(root))
            .ok()
            .and_then(|n| n.data.as_deref().and_then(parse_stats));
        if let Some(l) = limits {
            let (lc, lb) = (get(&l, "count"), get(&l, "bytes"));
            if (lc > -1 && count > lc) || (lb > -1 && bytes > lb) {
                tracing::warn!(
                    "quota exceeded: {root} count={count},bytes={bytes} (limit {lc}/{lb})"
                );
            }
        }
    }

    /// ZooKeeper's `checkQuota` for a write that adds `count` nodes and
    /// `bytes` bytes under `path`: QuotaExceeded past a hard limit,
    /// MarshallingError for a limits or stats node that does not parse.
    pub fn check_quota(&self, path: &str, bytes: i64, count: i64) -> Result<()> {
        let Some(root) = self.quota_root(path) else {
            return Ok(());
        };
        let Ok(limits) = self.node(&limits_path(&root)) else {
            return Ok(());
        };
        let limits = stats_of(limits)?;
        let check_count =
            count != 0 && (get(&limits, "count") > -1 || get(&limits, "countHardLimit") > -1);
        let check_bytes =
            bytes != 0 && (get(&limits, "bytes") > -1 || get(&limits, "byteHardLimit") > -1);
        if !check_count && !check_bytes {
            return Ok(());
        }
        let Ok(stats) = self.node(&stats_path(&root)) else {
            return Ok(());
        };
        let now = stats_of(stats)?;
        let over_hard = |on: bool, used: &str, hard: &str, diff: i64| {
            let limit = get(&limits, hard);
            on && limit > -1 && get(&now, used) + diff > limit
        };
        if over_hard(check_count, "count", "countHardLimit", count)
            || over_hard(check_bytes, "bytes", "byteHardLimit", bytes)
        {
            return Err(Error::QuotaExceeded);
        }
        Ok(())
    }

    /// The data length a setData at `path` replaces (for its quota check).
    pub fn data_len(&self, path: &str) -> Result<usize> {
        self.node(path).map(Node::data_len)
    }
}

fn stats_of(node: &Node) -> Result<HashMap<String, i64>> {
    match &node.data {
        None => Ok(HashMap::new()),
        Some(d) => parse_stats(d).ok_or(Error::MarshallingError),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_parse_as_java_parses_them() {
        let s = parse_stats(b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3").unwrap();
        assert_eq!(get(&s, "countHardLimit"), 3);
        assert_eq!(get(&s, "bytes"), -1);
        // Java's "count==5".split("=") is ["count", "", "5"]: an empty value.
        assert_eq!(get(&parse_stats(b"count==5,bytes=7").unwrap(), "count"), -1);
        assert_eq!(parse_stats(b"").unwrap().len(), 0);
        for bad in [
            &b"garbage"[..],
            b"count=x",
            b"count=1,bytes",
            b"count=",
            b"\xff",
        ] {
            assert_eq!(parse_stats(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quota_paths() {
        assert_eq!(
            quota_target("/zookeeper/quota/a/b/zookeeper_limits", LIMITS),
            Some("/a/b")
        );
        assert_eq!(
            quota_target("/zookeeper/quota/zookeeper_limits", LIMITS),
            None
        );
        assert_eq!(
            quota_target("/zookeeper/quota/a/zookeeper_stats", LIMITS),
            None
        );
        assert!(under("/a/b", "/a") && under("/a", "/a") && !under("/ab", "/a"));
    }
}
