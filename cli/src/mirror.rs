//! `zkrs mirror --from ZK --to ZKRS`: a live migration path. It watches the
//! source tree (one persistent recursive watch, placed before the copy so
//! no change is missed), copies every znode through the client protocol,
//! then replays each change it hears of until interrupted, so clients can
//! be cut over to the copy at any moment.
//!
//! What the client protocol cannot carry stays behind: Stats (zxids, times,
//! versions start afresh), and ephemeral znodes, which belong to their
//! sessions on the source (their owners create them anew after the
//! cut-over). ACL changes fire no watch in ZooKeeper; a full pass every
//! `--resync-secs` catches them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use zkrs::client::{watcher, AddWatchMode, Client, ClientOptions};
use zkrs::tree::{join_child as join, EphemeralType};
use zkrs::types::{CreateMode, EventType, Stat};
use zkrs::Error;

use crate::progress::Progress;

#[derive(clap::Args)]
pub struct MirrorArgs {
    /// The ZooKeeper ensemble to copy from (a connect string).
    #[arg(long)]
    pub from: String,
    /// The zkrs ensemble to copy into.
    #[arg(long)]
    pub to: String,
    /// Copy this subtree (default: everything but /zookeeper).
    #[arg(long, default_value = "/")]
    pub path: String,
    /// Digest credentials used on both sides, user:password (repeatable).
    #[arg(long = "digest")]
    pub digest: Vec<String>,
    /// Copy once and exit instead of following changes.
    #[arg(long)]
    pub once: bool,
    /// Seconds between full passes while following (catches ACL changes).
    #[arg(long, default_value_t = 60)]
    pub resync_secs: u64,
}

/// What a pass or the follower did, for the progress line.
#[derive(Default, Debug)]
struct Counts {
    copied: u64,
    deleted: u64,
    ephemeral_skipped: u64,
}

pub fn run(args: MirrorArgs) -> i32 {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    match rt.block_on(mirror(args)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("zkrs mirror: {e}");
            1
        }
    }
}

async fn connect(hosts: &str, digest: &[String]) -> Result<Client, String> {
    let opts = ClientOptions {
        auth: digest
            .iter()
            .map(|d| ("digest".to_string(), d.as_bytes().to_vec()))
            .collect(),
        ..Default::default()
    };
    Client::connect(hosts, opts)
        .await
        .map_err(|e| format!("cannot connect to {hosts}: {e}"))
}

async fn mirror(args: MirrorArgs) -> Result<(), String> {
    let src = connect(&args.from, &args.digest).await?;
    let dst = connect(&args.to, &args.digest).await?;
    let (tx, mut changes) = mpsc::unbounded_channel();
    if !args.once {
        let w = watcher(move |ev| {
            let _ = tx.send((ev.event_type, ev.path));
        });
        src.add_watch(&args.path, AddWatchMode::PersistentRecursive, w)
            .await
            .map_err(|e| format!("cannot watch {} on the source: {e}", args.path))?;
    }
    let started = Instant::now();
    let shown = Progress::new("zkrs mirror");
    let counts = full_pass(&src, &dst, &args.path, Some(&shown)).await;
    shown.finish();
    let counts = counts?;
    eprintln!(
        "zkrs mirror: copied {} znodes, deleted {} ({} ephemerals left to their owners) in {:.1?}",
        counts.copied,
        counts.deleted,
        counts.ephemeral_skipped,
        started.elapsed()
    );
    if args.once {
        return Ok(());
    }
    eprintln!("zkrs mirror: in sync; following changes (Ctrl-C stops)");
    follow(&src, &dst, &args, &mut changes).await
}

/// Replays changes until a signal; a full pass now and then.
async fn follow(
    src: &Client,
    dst: &Client,
    args: &MirrorArgs,
    changes: &mut mpsc::UnboundedReceiver<(EventType, String)>,
) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut resync = tokio::time::interval(Duration::from_secs(args.resync_secs.max(1)));
    resync.tick().await;
    let mut counts = Counts::default();
    let mut report = Instant::now();
    loop {
        tokio::select! {
            change = changes.recv() => {
                let Some((kind, path)) = change else { return Err("the source watch ended".into()) };
                apply_change(src, dst, kind, &path, &mut counts).await?;
            }
            _ = resync.tick() => {
                let pass = full_pass(src, dst, &args.path, None).await?;
                counts.copied += pass.copied;
                counts.deleted += pass.deleted;
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        }
        if src.state().is_terminal() {
            return Err("the source session ended; run the mirror again".into());
        }
        if report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "zkrs mirror: {} changes copied, {} deletions",
                counts.copied, counts.deleted
            );
            report = Instant::now();
        }
    }
    eprintln!("zkrs mirror: stopped");
    Ok(())
}

async fn apply_change(
    src: &Client,
    dst: &Client,
    kind: EventType,
    path: &str,
    counts: &mut Counts,
) -> Result<(), String> {
    if skipped(path) {
        return Ok(());
    }
    match kind {
        EventType::NodeCreated | EventType::NodeDataChanged => {
            ensure_parents(src, dst, path, counts).await?;
            copy_node(src, dst, path, counts).await.map(|_| ())
        }
        EventType::NodeDeleted => delete_copy(dst, path, counts).await,
        _ => Ok(()),
    }
}

fn skipped(path: &str) -> bool {
    path == "/zookeeper" || path.starts_with("/zookeeper/")
}

/// Every source znode copied, every copy the source no longer has deleted;
/// `shown` draws a bar of the znodes visited.
async fn full_pass(
    src: &Client,
    dst: &Client,
    root: &str,
    shown: Option<&Progress>,
) -> Result<Counts, String> {
    let mut counts = Counts::default();
    ensure_parents(src, dst, root, &mut counts).await?;
    // ZooKeeper 3.6+ counts a subtree in one request; older ones do not,
    // and the bar is a spinner then.
    let total = match shown {
        Some(_) => src.get_all_children_number(root).await.ok(),
        None => None,
    };
    let mut queue = VecDeque::from([root.to_string()]);
    let mut visited = 0u64;
    while let Some(path) = queue.pop_front() {
        if let Some(shown) = shown {
            match total {
                Some(n) => shown.advance(visited, n as u64 + 1, "copying"),
                None => shown.working(&format!("copying: {visited} znodes")),
            }
        }
        visited += 1;
        if skipped(&path) {
            continue;
        }
        if !copy_node(src, dst, &path, &mut counts).await? {
            continue;
        }
        let theirs = children(src, &path).await?;
        for extra in children(dst, &path).await? {
            if !theirs.contains(&extra) && !skipped(&join(&path, &extra)) {
                delete_copy(dst, &join(&path, &extra), &mut counts).await?;
            }
        }
        queue.extend(theirs.iter().map(|c| join(&path, c)));
    }
    Ok(counts)
}

async fn children(c: &Client, path: &str) -> Result<Vec<String>, String> {
    match c.get_children(path, None).await {
        Ok(ch) => Ok(ch),
        Err(Error::NoNode) => Ok(Vec::new()),
        Err(e) => Err(format!("listing {path}: {e}")),
    }
}

/// Copies the ancestors of `path` the target lacks (a change can name a
/// znode whose parent was created after the last pass).
async fn ensure_parents(
    src: &Client,
    dst: &Client,
    path: &str,
    counts: &mut Counts,
) -> Result<(), String> {
    let mut at = String::new();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        at.push('/');
        at.push_str(part);
        if dst
            .exists(&at, None)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            copy_node(src, dst, &at, counts).await?;
        }
    }
    Ok(())
}

/// Makes the target's `path` equal the source's (data, ACL, mode); false
/// when the source has no such znode (its copy is deleted) or it is an
/// ephemeral (left to its owner).
async fn copy_node(
    src: &Client,
    dst: &Client,
    path: &str,
    counts: &mut Counts,
) -> Result<bool, String> {
    let read = async {
        let (data, stat) = src.get_data_or_null(path, None).await?;
        let (acl, _) = src.get_acl(path).await?;
        Ok::<_, Error>((data, stat, acl))
    };
    let (data, stat, acl) = match read.await {
        Ok(x) => x,
        Err(Error::NoNode) => {
            delete_copy(dst, path, counts).await?;
            return Ok(false);
        }
        Err(e) => return Err(format!("reading {path}: {e}")),
    };
    if EphemeralType::of(stat.ephemeral_owner) == EphemeralType::Normal {
        counts.ephemeral_skipped += 1;
        return Ok(false);
    }
    if path == "/" {
        return Ok(true);
    }
    let fail = |e: Error| format!("writing {path}: {e}");
    match dst.get_data_or_null(path, None).await {
        Ok((theirs, _)) => {
            if theirs != data {
                dst.set_data_or_null(path, data.as_deref(), -1)
                    .await
                    .map_err(fail)?;
                counts.copied += 1;
            }
            if dst.get_acl(path).await.map_err(fail)?.0 != acl {
                dst.set_acl(path, &acl, -1).await.map_err(fail)?;
            }
        }
        Err(Error::NoNode) => {
            let (mode, ttl) = mode_of(&stat);
            match dst
                .create_node(path, data.as_deref(), &acl, mode, ttl)
                .await
            {
                Ok(_) | Err(Error::NodeExists) => counts.copied += 1,
                Err(e) => return Err(fail(e)),
            }
        }
        Err(e) => return Err(fail(e)),
    }
    Ok(true)
}

/// The create mode that gives the copy the source's kind of node.
fn mode_of(stat: &Stat) -> (CreateMode, Option<i64>) {
    match EphemeralType::of(stat.ephemeral_owner) {
        EphemeralType::Container => (CreateMode::Container, None),
        EphemeralType::Ttl(ttl) => (CreateMode::PersistentWithTtl, Some(ttl)),
        _ => (CreateMode::Persistent, None),
    }
}

async fn delete_copy(dst: &Client, path: &str, counts: &mut Counts) -> Result<(), String> {
    if path == "/" || skipped(path) {
        return Ok(());
    }
    match dst.delete_recursive(path).await {
        Ok(()) => {
            counts.deleted += 1;
            Ok(())
        }
        Err(Error::NoNode) => Ok(()),
        Err(e) => Err(format!("deleting {path}: {e}")),
    }
}
