//! `zkrs snapshot inspect|dump PATH`: look into a member's snapshot files
//! without starting it (checksums verified). PATH is a snapshot file, a
//! snapshot directory or a dataDir (its newest snapshot is read). `dump`
//! prints every znode as ZooKeeper's SnapshotFormatter does, or JSON.

use std::path::{Path, PathBuf};

use serde_json::json;
use zkrs::consensus::{read_snapshot_file, SnapshotContents};
use zkrs::tree::EphemeralType;
use zkrs::types::Stat;

#[derive(clap::Args)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// A summary: position, membership, znode and session counts, sizes.
    Inspect {
        /// A snapshot file, a snapshot directory or a dataDir.
        path: PathBuf,
    },
    /// Every znode (path, Stat, data size) and every session.
    Dump {
        path: PathBuf,
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
        /// Include each znode's data (as text when it is UTF-8, else hex).
        #[arg(long)]
        data: bool,
    },
}

pub fn run(args: SnapshotArgs) -> i32 {
    let path = match &args.action {
        Action::Inspect { path } | Action::Dump { path, .. } => path,
    };
    let file = match newest_snapshot(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("zkrs snapshot: {e}");
            return 2;
        }
    };
    let contents = match read_snapshot_file(&file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zkrs snapshot: {e}");
            return 1;
        }
    };
    match args.action {
        Action::Inspect { .. } => inspect(&file, &contents),
        Action::Dump { json, data, .. } => dump(&contents, json, data),
    }
    0
}

/// The file itself, or the newest `snap-*` under the directory (a dataDir
/// keeps them in `zkrs/snapshots`).
fn newest_snapshot(path: &Path) -> Result<PathBuf, String> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    for dir in [path.join("zkrs").join("snapshots"), path.to_path_buf()] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let newest = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("snap-") && !n.ends_with(".tmp"))
            })
            .max();
        if let Some(f) = newest {
            return Ok(f);
        }
    }
    Err(format!("no zkrs snapshot at {}", path.display()))
}

/// Every znode path, parents before children.
fn paths(c: &SnapshotContents) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec!["/".to_string()];
    while let Some(p) = stack.pop() {
        if let Ok((mut children, _)) = c.state.tree.get_children(&p) {
            children.sort();
            for child in children.into_iter().rev() {
                stack.push(match p.as_str() {
                    "/" => format!("/{child}"),
                    _ => format!("{p}/{child}"),
                });
            }
        }
        out.push(p);
    }
    out
}

fn inspect(file: &Path, c: &SnapshotContents) {
    let all = paths(c);
    let kinds = all
        .iter()
        .filter_map(|p| c.state.tree.stat(p))
        .map(|s| EphemeralType::of(s.ephemeral_owner));
    let (mut eph, mut containers, mut ttl) = (0, 0, 0);
    for k in kinds {
        match k {
            EphemeralType::Normal => eph += 1,
            EphemeralType::Container => containers += 1,
            EphemeralType::Ttl(_) => ttl += 1,
            EphemeralType::Void => {}
        }
    }
    let size = std::fs::metadata(file).map_or(0, |m| m.len());
    println!(
        "file: {} ({size} bytes, layout {}, compression {})",
        file.display(),
        c.format,
        c.compression.name()
    );
    println!("last zxid: {:#x} (term {})", c.state.last_zxid, c.last_term);
    println!("membership: {}", c.membership);
    println!(
        "znodes: {} ({eph} ephemeral, {containers} container, {ttl} TTL)",
        all.len()
    );
    println!("data bytes: {}", c.state.tree.approximate_data_size());
    println!("sessions: {}", c.state.sessions.len());
}

fn dump(c: &SnapshotContents, as_json: bool, with_data: bool) {
    let all = paths(c);
    if as_json {
        let nodes: Vec<_> = all
            .iter()
            .filter_map(|p| {
                let (data, stat) = c.state.tree.get_data(p).ok()?;
                let mut v = json!({"path": p, "stat": stat_json(&stat)});
                if with_data {
                    v["data"] = data.map_or(serde_json::Value::Null, |d| json!(text(&d)));
                }
                Some(v)
            })
            .collect();
        let sessions: Vec<_> = c
            .state
            .sessions
            .iter()
            .map(|(id, s)| json!({"id": format!("{id:#x}"), "timeout": s.timeout}))
            .collect();
        let doc = json!({"last_zxid": c.state.last_zxid, "znodes": nodes, "sessions": sessions});
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return;
    }
    println!("ZNode Details (count={}):", all.len());
    for p in &all {
        let Ok((data, s)) = c.state.tree.get_data(p) else {
            continue;
        };
        println!("----\n{p}");
        for (k, v) in stat_lines(&s) {
            println!("  {k} = {v}");
        }
        if with_data {
            println!("  data = {}", data.map_or("null".into(), |d| text(&d)));
        }
    }
    println!("----");
    println!("Session Details (sid, timeout, ephemeralCount):");
    for (id, s) in c.state.sessions.iter() {
        let n = c.state.tree.ephemerals(*id).len();
        println!("{id:#x}, {}, {n}", s.timeout);
    }
}

fn stat_lines(s: &Stat) -> Vec<(&'static str, String)> {
    vec![
        ("cZxid", format!("{:#x}", s.czxid)),
        ("ctime", s.ctime.to_string()),
        ("mZxid", format!("{:#x}", s.mzxid)),
        ("mtime", s.mtime.to_string()),
        ("pZxid", format!("{:#x}", s.pzxid)),
        ("cversion", s.cversion.to_string()),
        ("dataVersion", s.version.to_string()),
        ("aclVersion", s.aversion.to_string()),
        ("ephemeralOwner", format!("{:#x}", s.ephemeral_owner)),
        ("dataLength", s.data_length.to_string()),
    ]
}

fn stat_json(s: &Stat) -> serde_json::Value {
    json!({
        "czxid": s.czxid, "mzxid": s.mzxid, "pzxid": s.pzxid, "ctime": s.ctime,
        "mtime": s.mtime, "version": s.version, "cversion": s.cversion,
        "aversion": s.aversion, "ephemeral_owner": s.ephemeral_owner,
        "data_length": s.data_length, "num_children": s.num_children,
    })
}

/// Data as text when it is UTF-8, else as hex.
fn text(d: &[u8]) -> String {
    match std::str::from_utf8(d) {
        Ok(s) => s.to_string(),
        Err(_) => d.iter().map(|b| format!("{b:02x}")).collect(),
    }
}
