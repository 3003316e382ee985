//! The znode commands: each takes zkCli's words (`args[0]` the command),
//! calls the client and prints what zkCli prints. Failures come back as
//! [`CliError`] carrying zkCli's message.

use zkrs::client::{AddWatchMode, Client, Watcher, WatcherType};
use zkrs::{Acl, CreateMode, Error, Stat};

use super::format::{acl_lines, error_message, parse_acl, stat_lines};
use super::parse::{parse_opts, Parsed};
use super::{quota, CliError, CmdResult};

/// What a command runs with.
pub struct Ctx {
    pub zk: Client,
    pub watcher: Watcher,
}

/// (name, option string) as zkCli's usage lists them, sorted as it
/// prints them.
pub const COMMANDS: &[(&str, &str)] = &[
    ("addWatch", "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE"),
    ("addauth", "scheme auth"),
    ("close", ""),
    ("config", "[-c] [-w] [-s]"),
    ("connect", "host:port"),
    ("create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]"),
    ("delete", "[-v version] path"),
    ("deleteall", "path [-b batch size]"),
    ("delquota", "[-n|-b|-N|-B] path"),
    ("get", "[-s] [-w] path"),
    ("getAcl", "[-s] path"),
    ("getAllChildrenNumber", "path"),
    ("getEphemerals", "path"),
    ("history", ""),
    ("listquota", "path"),
    ("ls", "[-s] [-w] [-R] path"),
    ("printwatches", "on|off"),
    ("quit", ""),
    ("reconfig", "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]"),
    ("redo", "cmdno"),
    ("removewatches", "path [-c|-d|-a] [-l]"),
    ("set", "[-s] [-v version] path data"),
    ("setAcl", "[-s] [-v version] [-R] path acl"),
    ("setquota", "-n|-b|-N|-B val path"),
    ("stat", "[-w] path"),
    ("sync", "path"),
    ("version", ""),
    ("whoami", ""),
];

pub fn is_command(name: &str) -> bool {
    COMMANDS.iter().any(|(n, _)| *n == name)
}

/// ZooKeeperMain.usage(), on stderr.
pub fn usage() {
    eprintln!("ZooKeeper -server host:port -client-configuration properties-file cmd args");
    for (name, opts) in COMMANDS {
        eprintln!("\t{name} {opts}");
    }
}

/// The command's own usage line, zkCli's answer to missing arguments.
pub fn usage_error(name: &str) -> CliError {
    let opts = COMMANDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, o)| *o);
    CliError::new(format!("{name} {opts}"))
}

/// Parses options and requires at least `min_args` words (command
/// included), as each zkCli command's parse() does.
pub fn parse_cmd(
    words: &[String],
    flags: &[&str],
    valued: &[&str],
    min_args: usize,
) -> Result<Parsed, CliError> {
    let p = parse_opts(words, flags, valued)?;
    if p.args.len() < min_args {
        return Err(usage_error(&words[0]));
    }
    Ok(p)
}

/// A client error on `path` as zkCli words it.
pub fn keeper(path: &str) -> impl Fn(Error) -> CliError + '_ {
    move |e| CliError::new(error_message(&e, Some(path)))
}

/// PathUtils.validatePath's messages for the mistakes people make; zkCli
/// prints them instead of a KeeperException.
pub fn check_path(path: &str, sequential: bool) -> CmdResult {
    let fail = |m: String| Err(CliError::new(m));
    if path.is_empty() {
        return fail("Path length must be > 0".into());
    }
    if !path.starts_with('/') {
        return fail("Path must start with / character".into());
    }
    if path.len() > 1 && path.ends_with('/') && !sequential {
        return fail("Path must not end with / character".into());
    }
    let bytes = path.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == b'/' && bytes[i - 1] == b'/' {
            return fail(invalid(path, &format!("empty node name specified @{i}")));
        }
    }
    for part in path.split('/').skip(1) {
        if part == "." || part == ".." {
            let at = path.find(&format!("/{part}")).unwrap_or(0) + part.len();
            return fail(invalid(path, &format!("relative paths not allowed @{at}")));
        }
    }
    Ok(())
}

fn invalid(path: &str, reason: &str) -> String {
    format!("Invalid path string \"{path}\" caused by {reason}")
}

/// Java's `Integer.parseInt` failure, which zkCli does not catch.
pub fn parse_num<T: std::str::FromStr>(v: &str) -> Result<T, CliError> {
    v.parse().map_err(|_| {
        CliError::new(format!(
            "java.lang.NumberFormatException: For input string: \"{v}\""
        ))
    })
}

/// Java's `List.toString()`.
pub fn java_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn print_stat(s: &Stat) {
    println!("{}", stat_lines(s));
}

/// Runs a znode command (anything but the shell's own commands).
pub async fn run(ctx: &Ctx, words: &[String]) -> CmdResult {
    match words[0].as_str() {
        "ls" => ls(ctx, words).await,
        "get" => get(ctx, words).await,
        "set" => set(ctx, words).await,
        "create" => create(ctx, words).await,
        "delete" => delete(ctx, words).await,
        "deleteall" => deleteall(ctx, words).await,
        "stat" => stat(ctx, words).await,
        "getAcl" => get_acl(ctx, words).await,
        "setAcl" => set_acl(ctx, words).await,
        "addauth" => addauth(ctx, words).await,
        "sync" => sync(ctx, words).await,
        "addWatch" => add_watch(ctx, words).await,
        "removewatches" => remove_watches(ctx, words).await,
        "config" => config(ctx, words).await,
        "reconfig" => reconfig(ctx, words).await,
        "whoami" => whoami(ctx).await,
        "getEphemerals" => get_ephemerals(ctx, words).await,
        "getAllChildrenNumber" => all_children_number(ctx, words).await,
        "setquota" => quota::setquota(ctx, words).await,
        "listquota" => quota::listquota(ctx, words).await,
        "delquota" => quota::delquota(ctx, words).await,
        other => Err(CliError::new(format!(
            "Command not found: Command not found {other}"
        ))),
    }
}

fn watch_if(ctx: &Ctx, on: bool) -> Option<Watcher> {
    on.then(|| ctx.watcher.clone())
}

async fn ls(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["s", "w", "R"], &[], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    let watch = watch_if(ctx, p.has("w"));
    if p.has("R") {
        for node in subtree_dfs(&ctx.zk, path).await? {
            println!("{node}");
        }
        return Ok(());
    }
    let (mut kids, stat) = ctx
        .zk
        .get_children2(path, watch)
        .await
        .map_err(keeper(path))?;
    kids.sort();
    println!("{}", java_list(&kids));
    if p.has("s") {
        print_stat(&stat);
    }
    Ok(())
}

/// ZKUtil.visitSubTreeDFS's order: a node, then its children sorted,
/// each followed by its own subtree.
pub async fn subtree_dfs(zk: &Client, root: &str) -> Result<Vec<String>, CliError> {
    zk.exists(root, None)
        .await
        .map_err(keeper(root))?
        .ok_or_else(|| keeper(root)(Error::NoNode))?;
    let mut out = Vec::new();
    let mut stack = vec![root.to_string()];
    while let Some(node) = stack.pop() {
        let mut kids = match zk.get_children(&node, None).await {
            Ok(k) => k,
            Err(Error::NoNode) => Vec::new(),
            Err(e) => return Err(keeper(&node)(e)),
        };
        kids.sort();
        let base = if node == "/" { "" } else { node.as_str() };
        stack.extend(kids.iter().rev().map(|k| format!("{base}/{k}")));
        out.push(node);
    }
    Ok(out)
}

async fn get(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["s", "w"], &[], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    let watch = watch_if(ctx, p.has("w"));
    let (data, stat) = ctx
        .zk
        .get_data_or_null(path, watch)
        .await
        .map_err(keeper(path))?;
    match data {
        Some(d) => println!("{}", String::from_utf8_lossy(&d)),
        None => println!("null"),
    }
    if p.has("s") {
        print_stat(&stat);
    }
    Ok(())
}

fn version_opt(p: &Parsed) -> Result<i32, CliError> {
    p.value("v").map_or(Ok(-1), parse_num)
}

async fn set(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["s"], &["v"], 3)?;
    let (path, data) = (&p.args[1], &p.args[2]);
    check_path(path, false)?;
    let version = version_opt(&p)?;
    let stat = ctx
        .zk
        .set_data(path, data.as_bytes(), version)
        .await
        .map_err(keeper(path))?;
    if p.has("s") {
        print_stat(&stat);
    }
    Ok(())
}

fn create_mode(p: &Parsed) -> Result<CreateMode, CliError> {
    let (seq, eph, container, ttl) = (p.has("s"), p.has("e"), p.has("c"), p.has("t"));
    if container && (seq || eph) {
        return Err(CliError::new(
            "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
        ));
    }
    if ttl && eph {
        return Err(CliError::new("TTLs cannot be used with Ephemeral znodes"));
    }
    if ttl && container {
        return Err(CliError::new("TTLs cannot be used with Container znodes"));
    }
    Ok(match (seq, eph, container, ttl) {
        (_, _, true, _) => CreateMode::Container,
        (true, _, _, true) => CreateMode::PersistentSequentialWithTtl,
        (false, _, _, true) => CreateMode::PersistentWithTtl,
        (true, true, _, _) => CreateMode::EphemeralSequential,
        (false, true, _, _) => CreateMode::Ephemeral,
        (true, false, _, _) => CreateMode::PersistentSequential,
        _ => CreateMode::Persistent,
    })
}

async fn create(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["s", "e", "c"], &["t"], 2)?;
    let mode = create_mode(&p)?;
    let ttl = p.value("t").map(parse_num::<i64>).transpose()?;
    let path = &p.args[1];
    check_path(path, mode.is_sequential())?;
    let data = p.arg(2).map(str::as_bytes);
    let acl = match p.arg(3) {
        Some(text) => non_empty_acl(parse_acl(text))?,
        None => Acl::open_unsafe(),
    };
    let (created, _) = ctx
        .zk
        .create_node(path, data, &acl, mode, ttl)
        .await
        .map_err(keeper(path))?;
    eprintln!("Created {created}");
    Ok(())
}

/// The Java client refuses an empty ACL itself, with no path.
fn non_empty_acl(acl: Vec<Acl>) -> Result<Vec<Acl>, CliError> {
    if acl.is_empty() {
        return Err(CliError::new(error_message(&Error::InvalidAcl, None)));
    }
    Ok(acl)
}

async fn delete(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &["v"], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    let version = version_opt(&p)?;
    ctx.zk.delete(path, version).await.map_err(keeper(path))
}

async fn deleteall(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &["b"], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    // Deepest first, as ZKUtil.deleteRecursive; unlike the client's
    // delete_recursive a missing node is zkCli's NoNode error.
    let nodes = subtree_dfs(&ctx.zk, path).await?;
    let mut by_depth: Vec<&String> = nodes.iter().collect();
    by_depth.sort_by_key(|n| std::cmp::Reverse(n.matches('/').count()));
    for node in by_depth {
        match ctx.zk.delete(node, -1).await {
            Ok(()) | Err(Error::NoNode) => {}
            Err(e) => return Err(keeper(node)(e)),
        }
    }
    Ok(())
}

async fn stat(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["w"], &[], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    let watch = watch_if(ctx, p.has("w"));
    match ctx.zk.exists(path, watch).await.map_err(keeper(path))? {
        Some(s) => {
            print_stat(&s);
            Ok(())
        }
        None => Err(keeper(path)(Error::NoNode)),
    }
}

async fn get_acl(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["s"], &[], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    let (acl, stat) = ctx.zk.get_acl(path).await.map_err(keeper(path))?;
    println!("{}", acl_lines(&acl));
    if p.has("s") {
        print_stat(&stat);
    }
    Ok(())
}

async fn set_acl(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["s", "R"], &["v"], 3)?;
    let path = &p.args[1];
    check_path(path, false)?;
    let acl = non_empty_acl(parse_acl(&p.args[2]))?;
    let version = version_opt(&p)?;
    if p.has("R") {
        for node in subtree_dfs(&ctx.zk, path).await? {
            ctx.zk
                .set_acl(&node, &acl, version)
                .await
                .map_err(keeper(&node))?;
        }
        return Ok(());
    }
    let stat = ctx
        .zk
        .set_acl(path, &acl, version)
        .await
        .map_err(keeper(path))?;
    if p.has("s") {
        print_stat(&stat);
    }
    Ok(())
}

async fn addauth(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &[], 2)?;
    let auth = p.arg(2).unwrap_or("").as_bytes();
    ctx.zk
        .add_auth(&p.args[1], auth)
        .await
        .map_err(|e| CliError::new(error_message(&e, None)))
}

async fn sync(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &[], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    match ctx.zk.sync(path).await {
        Ok(()) => println!("Sync is OK"),
        Err(e) => println!("Sync has failed. rc={}", e.code()),
    }
    Ok(())
}

async fn add_watch(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &["m"], 2)?;
    let mode = match p.value("m") {
        None | Some("PERSISTENT_RECURSIVE") => AddWatchMode::PersistentRecursive,
        Some("PERSISTENT") => AddWatchMode::Persistent,
        Some(_) => return Err(usage_error("addWatch")),
    };
    let path = &p.args[1];
    check_path(path, false)?;
    ctx.zk
        .add_watch(path, mode, ctx.watcher.clone())
        .await
        .map_err(keeper(path))
}

async fn remove_watches(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["c", "d", "a", "l"], &[], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    let kind = if p.has("c") {
        WatcherType::Children
    } else if p.has("d") {
        WatcherType::Data
    } else {
        WatcherType::Any
    };
    ctx.zk
        .remove_watches(path, kind, p.has("l"))
        .await
        .map_err(keeper(path))
}

const CONFIG_NODE: &str = "/zookeeper/config";

async fn config(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["c", "w", "s"], &[], 1)?;
    let watch = watch_if(ctx, p.has("w"));
    let (data, stat) = ctx
        .zk
        .get_data(CONFIG_NODE, watch)
        .await
        .map_err(keeper(CONFIG_NODE))?;
    let text = String::from_utf8_lossy(&data);
    if p.has("c") {
        println!("{}", client_config(&text));
    } else {
        println!("{text}");
    }
    if p.has("s") {
        print_stat(&stat);
    }
    Ok(())
}

/// ConfigUtils.getClientConfigStr: "version host:port,host:port" from the
/// servers' client addresses.
fn client_config(config: &str) -> String {
    let mut version = "";
    let mut clients = Vec::new();
    for line in config.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "version" {
            version = value;
        }
        if !key.starts_with("server.") {
            continue;
        }
        if let Some((quorum, client)) = value.split_once(';') {
            let host = quorum.split(':').next().unwrap_or("");
            clients.push(match client.rsplit_once(':') {
                Some((h, port)) if h != "0.0.0.0" => format!("{h}:{port}"),
                Some((_, port)) => format!("{host}:{port}"),
                None => format!("{host}:{client}"),
            });
        }
    }
    format!("{version} {}", clients.join(","))
}

/// ReconfigCommand: incremental (-add, -remove) or whole (-members,
/// -file); -v is the config version in hex.
async fn reconfig(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &["s"], &["v", "file", "members", "add", "remove"], 1)?;
    let whole = p.has("file") || p.has("members");
    if !whole && !p.has("add") && !p.has("remove") {
        return Err(usage_error(&words[0]));
    }
    let version = match p.value("v") {
        Some(v) => i64::from_str_radix(v, 16)
            .map_err(|_| CliError::new("-v must be followed by a long (configuration version)"))?,
        None => -1,
    };
    if whole && (p.has("add") || p.has("remove")) {
        return Err(CliError::new(
            "Can't use -file or -members together with -add or -remove (mixing incremental \
             and non-incremental modes is not allowed)",
        ));
    }
    if p.has("file") && p.has("members") {
        return Err(CliError::new(
            "Can't use -file and -members together (conflicting non-incremental modes)",
        ));
    }
    let lower = |o: &str| p.value(o).map(str::to_lowercase);
    let members = match p.value("file") {
        Some(f) => Some(members_of_file(f)?),
        None => lower("members"),
    };
    let (joining, leaving) = (lower("add"), lower("remove"));
    let (data, stat) = ctx
        .zk
        .reconfig(
            joining.as_deref(),
            leaving.as_deref(),
            members.as_deref(),
            version,
        )
        .await
        .map_err(|e| CliError::new(error_message(&e, None)))?;
    println!(
        "Committed new configuration:\n{}",
        String::from_utf8_lossy(&data)
    );
    if p.has("s") {
        print_stat(&stat);
    }
    Ok(())
}

/// A dynamic config file's `server.N=` lines, as the membership text.
fn members_of_file(path: &str) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("Error processing {path}{e}")))?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("server."))
        .collect();
    if lines.is_empty() {
        return Err(CliError::new(format!(
            "Error processing {path}no server.N lines"
        )));
    }
    Ok(lines.join("\n"))
}

async fn whoami(ctx: &Ctx) -> CmdResult {
    let ids = ctx
        .zk
        .who_am_i()
        .await
        .map_err(|e| CliError::new(error_message(&e, None)))?;
    println!("Auth scheme: User");
    for (scheme, user) in ids {
        println!("{scheme}: {user}");
    }
    Ok(())
}

async fn get_ephemerals(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &[], 1)?;
    let prefix = p.arg(1).unwrap_or("/");
    let nodes = ctx
        .zk
        .get_ephemerals(prefix)
        .await
        .map_err(keeper(prefix))?;
    println!("{}", java_list(&nodes));
    Ok(())
}

async fn all_children_number(ctx: &Ctx, words: &[String]) -> CmdResult {
    let p = parse_cmd(words, &[], &[], 2)?;
    let path = &p.args[1];
    check_path(path, false)?;
    let n = ctx
        .zk
        .get_all_children_number(path)
        .await
        .map_err(keeper(path))?;
    println!("{n}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_messages() {
        assert!(check_path("/a/b", false).is_ok());
        assert!(check_path("/", false).is_ok());
        assert_eq!(
            check_path("a", false).unwrap_err().message,
            "Path must start with / character"
        );
        assert_eq!(
            check_path("/a/", false).unwrap_err().message,
            "Path must not end with / character"
        );
        assert!(check_path("/a/", true).is_ok());
        assert_eq!(
            check_path("/a//b", false).unwrap_err().message,
            "Invalid path string \"/a//b\" caused by empty node name specified @3"
        );
    }

    #[test]
    fn client_config_lists_client_ports() {
        let cfg = "server.1=h1:2888:3888:participant;0.0.0.0:2181\nversion=100000000";
        assert_eq!(client_config(cfg), "100000000 h1:2181");
    }

    #[test]
    fn commands_sorted_as_usage() {
        let names: Vec<_> = COMMANDS.iter().map(|(n, _)| n.to_string()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}
