//! setquota / listquota / delquota: the quota znodes under
//! /zookeeper/quota exactly as zkCli 3.8 writes them, so a server (zkrs or
//! Apache) enforces them and zkCli reads them back unchanged.

use std::collections::BTreeMap;

use zkrs::{Acl, CreateMode, Error};

use super::commands::{keeper, parse_cmd, parse_num, Ctx};
use super::{CliError, CmdResult};

const QUOTA_ROOT: &str = "/zookeeper/quota";
const LIMIT_NODE: &str = "zookeeper_limits";
const STAT_NODE: &str = "zookeeper_stats";

/// StatsTrack: `key=value` pairs. Its text is "count=C,bytes=B", then,
/// when other keys exist, "=" and ";key=value" for each in name order
/// (zkCli 3.8's own format, odd "=" included).
#[derive(Debug, Default, PartialEq)]
struct StatsTrack(BTreeMap<String, i64>);

impl StatsTrack {
    fn parse(text: &str) -> StatsTrack {
        let mut map = BTreeMap::new();
        for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut parts = pair.split('=').filter(|p| !p.is_empty());
            if let (Some(k), Some(v)) = (parts.next(), parts.next()) {
                if let Ok(v) = v.trim().parse() {
                    map.insert(k.trim().to_string(), v);
                }
            }
        }
        StatsTrack(map)
    }

    fn get(&self, key: &str) -> i64 {
        self.0.get(key).copied().unwrap_or(-1)
    }

    fn set(&mut self, key: &str, v: i64) {
        self.0.insert(key.to_string(), v);
    }

    fn text(&self) -> String {
        let mut s = format!("count={},bytes={}", self.get("count"), self.get("bytes"));
        let extra: Vec<_> = self
            .0
            .iter()
            .filter(|(k, _)| *k != "count" && *k != "bytes")
            .collect();
        if !extra.is_empty() {
            s.push('=');
            for (k, v) in extra {
                s.push_str(&format!(";{k}={v}"));
            }
        }
        s
    }
}

/// setquota's option letter -> the StatsTrack key it sets.
const LIMIT_KEYS: &[(&str, &str)] = &[
    ("n", "count"),
    ("b", "bytes"),
    ("N", "countHardLimit"),
    ("B", "byteHardLimit"),
];

pub async fn setquota(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &["n", "b", "N", "B"], 2)?;
    let Some((key, value)) = LIMIT_KEYS
        .iter()
        .find_map(|(opt, key)| p.value(opt).map(|v| (*key, v)))
    else {
        return Err(CliError::new(
            "org.apache.commons.cli.MissingOptionException: Missing required option: [-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]",
        ));
    };
    let value: i64 = parse_num(value)?;
    let path = &p.args[1];
    if path.starts_with(QUOTA_ROOT) {
        eprintln!("cannot set a quota under the path: {QUOTA_ROOT}");
        return Ok(());
    }
    if ctx
        .zk
        .exists(path, None)
        .await
        .map_err(keeper(path))?
        .is_none()
    {
        return Err(CliError::new(format!("{path} does not exist.")));
    }
    check_no_other_quota(ctx, path).await?;
    write_limit(ctx, path, key, value).await
}

/// zkCli refuses a quota above or below another one.
async fn check_no_other_quota(ctx: &Ctx, path: &str) -> CmdResult {
    let mut parent = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        parent.push('/');
        parent.push_str(part);
        if parent != path && has_limits(ctx, &parent).await? {
            return Err(CliError::new(format!(
                "{path} has a parent {parent} which has a quota"
            )));
        }
    }
    let root = format!("{QUOTA_ROOT}{path}");
    let Ok(below) = super::commands::subtree_dfs(&ctx.zk, &root).await else {
        return Ok(());
    };
    for node in below.iter().filter(|n| **n != root) {
        let client = &node[QUOTA_ROOT.len()..];
        if has_limits(ctx, client).await? {
            return Err(CliError::new(format!(
                "{path} has a child {client} which has a quota"
            )));
        }
    }
    Ok(())
}

async fn has_limits(ctx: &Ctx, path: &str) -> Result<bool, CliError> {
    let node = format!("{QUOTA_ROOT}{path}/{LIMIT_NODE}");
    let stat = ctx.zk.exists(&node, None).await.map_err(keeper(&node))?;
    Ok(stat.is_some())
}

/// Creates a node with null data, as zkCli does; an existing one is fine.
async fn ensure(ctx: &Ctx, node: &str) -> CmdResult {
    match ctx
        .zk
        .create_node(
            node,
            None,
            &Acl::open_unsafe(),
            CreateMode::Persistent,
            None,
        )
        .await
    {
        Ok(_) | Err(Error::NodeExists) => Ok(()),
        Err(e) => Err(keeper(node)(e)),
    }
}

async fn write_limit(ctx: &Ctx, path: &str, key: &str, value: i64) -> CmdResult {
    let mut node = QUOTA_ROOT.to_string();
    // Only when missing: each failed create still costs a zxid, and
    // zxids should advance as under zkCli.
    if ctx
        .zk
        .exists(QUOTA_ROOT, None)
        .await
        .map_err(keeper(QUOTA_ROOT))?
        .is_none()
    {
        ensure(ctx, "/zookeeper").await?;
        ensure(ctx, QUOTA_ROOT).await?;
    }
    for part in path.split('/').filter(|p| !p.is_empty()) {
        node = format!("{node}/{part}");
        ensure(ctx, &node).await?;
    }
    let limits = format!("{node}/{LIMIT_NODE}");
    let mut track = StatsTrack::default();
    for (_, k) in LIMIT_KEYS {
        track.set(k, if *k == key { value } else { -1 });
    }
    let acl = Acl::open_unsafe();
    let created = ctx
        .zk
        .create(
            &limits,
            track.text().as_bytes(),
            &acl,
            CreateMode::Persistent,
        )
        .await;
    match created {
        Ok(_) => {
            let stats = format!("{node}/{STAT_NODE}");
            let zero = "count=0,bytes=0";
            match ctx
                .zk
                .create(&stats, zero.as_bytes(), &acl, CreateMode::Persistent)
                .await
            {
                Ok(_) | Err(Error::NodeExists) => Ok(()),
                Err(e) => Err(keeper(&stats)(e)),
            }
        }
        Err(Error::NodeExists) => update_limits(ctx, &limits, |t| t.set(key, value)).await,
        Err(e) => Err(keeper(&limits)(e)),
    }
}

async fn update_limits(ctx: &Ctx, limits: &str, change: impl FnOnce(&mut StatsTrack)) -> CmdResult {
    let (data, _) = ctx
        .zk
        .get_data(limits, None)
        .await
        .map_err(keeper(limits))?;
    let mut track = StatsTrack::parse(&String::from_utf8_lossy(&data));
    change(&mut track);
    ctx.zk
        .set_data(limits, track.text().as_bytes(), -1)
        .await
        .map(|_| ())
        .map_err(keeper(limits))
}

pub async fn listquota(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &[], 2)?;
    let path = &p.args[1];
    let limits = format!("{QUOTA_ROOT}{path}/{LIMIT_NODE}");
    eprintln!("absolute path is {limits}");
    let data = match ctx.zk.get_data(&limits, None).await {
        Ok((d, _)) => d,
        Err(Error::NoNode) => {
            eprintln!("quota for {path} does not exist.");
            return Ok(());
        }
        Err(e) => return Err(keeper(&limits)(e)),
    };
    let track = StatsTrack::parse(&String::from_utf8_lossy(&data));
    println!("Output quota for {path} {}", track.text());
    let stats = format!("{QUOTA_ROOT}{path}/{STAT_NODE}");
    let (data, _) = ctx
        .zk
        .get_data(&stats, None)
        .await
        .map_err(keeper(&stats))?;
    let track = StatsTrack::parse(&String::from_utf8_lossy(&data));
    println!("Output stat for {path} {}", track.text());
    Ok(())
}

pub async fn delquota(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["n", "b", "N", "B"], &[], 2)?;
    let path = &p.args[1];
    let parent = format!("{QUOTA_ROOT}{path}");
    let limits = format!("{parent}/{LIMIT_NODE}");
    if ctx
        .zk
        .exists(&limits, None)
        .await
        .map_err(keeper(&limits))?
        .is_none()
    {
        println!("Quota does not exist for {path}");
        return Ok(());
    }
    let key = LIMIT_KEYS
        .iter()
        .find(|(opt, _)| p.has(opt))
        .map(|(_, k)| *k);
    match key {
        Some(key) => update_limits(ctx, &limits, |t| t.set(key, -1)).await,
        None => remove_quota(ctx, &parent).await,
    }
}

/// Deletes the quota's nodes, then the now-empty ancestors up to (not
/// including) /zookeeper/quota, as zkCli's trimProcQuotas.
async fn remove_quota(ctx: &Ctx, parent: &str) -> CmdResult {
    let kids = ctx
        .zk
        .get_children(parent, None)
        .await
        .map_err(keeper(parent))?;
    for kid in kids {
        let node = format!("{parent}/{kid}");
        ctx.zk.delete(&node, -1).await.map_err(keeper(&node))?;
    }
    let mut node = parent.to_string();
    while node != QUOTA_ROOT {
        let kids = ctx
            .zk
            .get_children(&node, None)
            .await
            .map_err(keeper(&node))?;
        if !kids.is_empty() {
            break;
        }
        ctx.zk.delete(&node, -1).await.map_err(keeper(&node))?;
        node.truncate(node.rfind('/').unwrap_or(0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_track_text_as_zkcli_38() {
        let mut t = StatsTrack::default();
        for (_, k) in LIMIT_KEYS {
            t.set(k, -1);
        }
        t.set("count", 5);
        let text = t.text();
        assert_eq!(text, "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1");
        assert_eq!(StatsTrack::parse(&text), t);
        assert_eq!(
            StatsTrack::parse("count=1,bytes=0").text(),
            "count=1,bytes=0"
        );
    }
}
