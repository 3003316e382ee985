//! The text of ZooKeeper's four-letter words (`ruok`, `srvr`, `mntr`, ...).
//!
//! Owns formatting only: the server gathers a plain-data [`ServerInfo`]
//! snapshot and [`respond`] renders it byte-for-byte the way Apache
//! ZooKeeper 3.8 (standalone, NIO connection factory) does, because
//! operators' scripts and monitoring agents parse these texts. The
//! formatters do no I/O, take no locks and read no clock; resetting
//! counters (`srst`, `crst`) and checking the whitelist are the server's
//! job. The only I/O lives in the small "process probes" at the end
//! ([`env_lines`], [`open_fd_count`], [`max_fd_count`]), which help the
//! server fill the snapshot.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// ZooKeeper's answer from every server-state command while it is not
/// serving (`AbstractFourLetterCommand.ZK_NOT_SERVING`).
pub const ZK_NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// ZooKeeper's default text trace mask (`ZooTrace`): client requests,
/// server packets, sessions and warnings. zkrs has no trace masks, so
/// `gtmk` always reports this.
pub const DEFAULT_TRACE_MASK: i64 = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 8);

/// Every word ZooKeeper 3.8 recognises (`FourLetterCommands.cmd2String`,
/// minus the telnet close sequence).
pub const COMMANDS: [&str; 18] = [
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srst", "srvr", "stat",
    "wchc", "wchp", "wchs", "mntr", "isro", "hash",
];

/// One client connection, as `ServerCnxn.dumpConnectionInfo` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    /// Selector interest ops (OP_READ = 1, OP_WRITE = 4); printed in hex.
    pub interest_ops: u32,
    /// Requests received and not yet answered ("queued").
    pub queued: u64,
    pub received: u64,
    pub sent: u64,
    /// 0 until the handshake completes; ZooKeeper then prints only the
    /// brief form.
    pub session_id: i64,
    /// Short op name of the last reply ("GETD", "PING", ...); "NA" after a
    /// reset.
    pub last_op: String,
    /// When the connection was accepted, epoch ms.
    pub established_ms: i64,
    pub timeout_ms: i32,
    /// Negative until the first real request; then not printed.
    pub last_cxid: i64,
    pub last_zxid: i64,
    /// Epoch ms of the last reply (0 after a reset).
    pub last_response_ms: i64,
    pub last_latency_ms: i64,
    pub min_latency_ms: i64,
    /// Integer average, as ZooKeeper computes it per connection.
    pub avg_latency_ms: i64,
    pub max_latency_ms: i64,
}

impl Default for ConnInfo {
    fn default() -> Self {
        ConnInfo {
            peer: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            interest_ops: 0,
            queued: 0,
            received: 0,
            sent: 0,
            session_id: 0,
            last_op: "NA".to_string(),
            established_ms: 0,
            timeout_ms: 0,
            last_cxid: -1,
            last_zxid: -1,
            last_response_ms: 0,
            last_latency_ms: 0,
            min_latency_ms: 0,
            avg_latency_ms: 0,
            max_latency_ms: 0,
        }
    }
}

/// ZooKeeper's `BufferStats`: last/min/max sizes in bytes, -1 when none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    pub last: i64,
    pub min: i64,
    pub max: i64,
}

impl Default for BufferSizes {
    fn default() -> Self {
        BufferSizes {
            last: -1,
            min: -1,
            max: -1,
        }
    }
}

/// A plain-data snapshot of everything the four-letter words print.
///
/// `Default` is an idle standalone server that is serving. Ensemble-only
/// values are `Option`s: `None` leaves their lines out, as ZooKeeper does
/// for a standalone server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerInfo {
    /// True while the server cannot serve (starting, or no quorum).
    pub not_serving: bool,
    /// `Version.getFullVersion()`: "3.8.4-<revision>, built on <date>".
    /// See [`full_version`].
    pub version: String,
    /// "standalone", "leader", "follower", "observer" or "read-only".
    pub mode: String,
    /// A read-only server (ZooKeeper's `ReadOnlyZooKeeperServer`).
    pub read_only: bool,
    pub min_latency_ms: i64,
    /// Server-wide average; see [`avg_latency`] for ZooKeeper's rounding.
    pub avg_latency_ms: f64,
    pub max_latency_ms: i64,
    pub packets_received: u64,
    pub packets_sent: u64,
    pub outstanding_requests: u64,
    /// Last processed zxid.
    pub zxid: i64,
    pub node_count: u64,
    pub uptime_ms: i64,
    /// Live client connections; `srvr`/`mntr` print their count.
    pub connections: Vec<ConnInfo>,
    /// Data plus child watches (`DataTree.getWatchCount`, `zk_watch_count`).
    pub watch_count: u64,
    /// Data watches per session, for `wchc` and `wchs`. ZooKeeper's
    /// `wch*` words only look at the data-watch table (getData, exists and
    /// persistent watches), not child watches.
    pub watches_by_connection: Vec<(i64, Vec<String>)>,
    /// The same data watches per path, for `wchp`.
    pub watches_by_path: Vec<(String, Vec<i64>)>,
    pub ephemerals_count: u64,
    pub approximate_data_size: u64,
    /// Every session this member knows: the replicated ones plus its own
    /// local sessions.
    pub session_count: u64,
    /// This member's local sessions (`zk_local_sessions`).
    pub local_session_count: u64,
    /// `None` prints -1, as ZooKeeper does when the JVM cannot tell.
    pub open_file_descriptor_count: Option<u64>,
    pub max_file_descriptor_count: Option<u64>,
    pub connection_drop_probability: f64,
    /// Sizes of replies sent to clients (`None` = nothing sent yet).
    pub client_response_sizes: Option<BufferSizes>,
    pub outstanding_tls_handshakes: u64,
    pub auth_failed_count: u64,
    pub non_mtls_remote_conn_count: u64,
    pub non_mtls_local_conn_count: u64,
    /// Bytes under the snapshot and log directories (`dirs`).
    pub data_dir_size: u64,
    pub log_dir_size: u64,
    /// `conf` lines, in order; see [`standalone_conf`].
    pub conf: Vec<(String, String)>,
    /// `envi` lines, in order; see [`env_lines`].
    pub env: Vec<(String, String)>,
    /// `dump`: ephemeral paths per owning session.
    pub sessions_with_ephemerals: Vec<(i64, Vec<String>)>,
    /// `dump`: the session expiry queue, (bucket expiry epoch ms, session
    /// ids), in any order (printed sorted by time, as ZooKeeper does).
    pub session_expiry: Vec<(i64, Vec<i64>)>,
    /// `dump`: the connection expiry queue, same shape.
    pub connection_expiry: Vec<(i64, Vec<ConnInfo>)>,
    // ---- ensemble-only values (None on a standalone server) ----
    /// `QuorumPeer.getDetailedPeerState`, e.g. "leading - broadcast".
    pub peer_state: Option<String>,
    /// Observers only: the id of the learner master.
    pub observer_master_id: Option<i64>,
    pub quorum_size: Option<u64>,
    /// Leader only: connected learners (3.4's `zk_followers`).
    pub learners: Option<u64>,
    pub synced_followers: Option<u64>,
    pub synced_non_voting_followers: Option<u64>,
    /// Leader and followers (observer masters).
    pub synced_observers: Option<u64>,
    pub pending_syncs: Option<u64>,
    pub leader_uptime_ms: Option<i64>,
    /// Leader only: voting followers (`zk_followers`, printed after the
    /// 3.8 gauges for tools written against 3.4).
    pub followers: Option<u64>,
    /// Leader only: proposal sizes; also adds `stat`'s "Proposal sizes" line.
    pub proposal_sizes: Option<BufferSizes>,
    /// `ServerMetrics` counters and summaries zkrs keeps, as `mntr` prints
    /// them after the gauges (name, value): e.g. `commit_count`,
    /// `avg_readlatency`, `p99_updatelatency`.
    pub counters: Vec<(String, String)>,
}

/// Whether ZooKeeper knows this word (and so reads it as a command rather
/// than as a frame length).
pub fn is_command(word: &[u8; 4]) -> bool {
    COMMANDS.iter().any(|c| c.as_bytes() == word)
}

/// ZooKeeper's reply to a known word that is not in
/// `4lw.commands.whitelist` (a `NopCommand` that prints one line).
pub fn not_whitelisted(word: &str) -> String {
    format!("{word} is not executed because it is not in the whitelist.\n")
}

/// ZooKeeper's reply to `stmk`: it echoes the 8-byte mask the client sent
/// after the word, without a newline.
pub fn stmk_reply(mask: i64) -> String {
    mask.to_string()
}

/// The text ZooKeeper 3.8 sends for `word`. An unknown word gives an empty
/// string (ZooKeeper would read it as a frame length; check
/// [`is_command`] first). `stmk` here reports the unchanged default mask;
/// use [`stmk_reply`] to echo the client's.
pub fn respond(word: &str, info: &ServerInfo) -> String {
    let mut out = String::new();
    match word {
        "ruok" => out.push_str("imok"),
        "gtmk" | "stmk" => out.push_str(&DEFAULT_TRACE_MASK.to_string()),
        "envi" => envi(&mut out, info),
        "isro" => out.push_str(if info.not_serving {
            "null"
        } else if info.read_only {
            "ro"
        } else {
            "rw"
        }),
        // DigestCommand prints its message without a newline; zkrs keeps
        // no digest log, so a serving server prints nothing.
        "hash" if info.not_serving => out.push_str(ZK_NOT_SERVING),
        "hash" => {}
        w if !COMMANDS.contains(&w) => {}
        _ if info.not_serving => {
            out.push_str(ZK_NOT_SERVING);
            out.push('\n');
        }
        "srvr" => stat(&mut out, info, false),
        "stat" => stat(&mut out, info, true),
        "srst" => out.push_str("Server stats reset.\n"),
        "crst" => out.push_str("Connection stats reset.\n"),
        "cons" => cons(&mut out, info),
        "conf" => push_pairs(&mut out, &info.conf),
        "dirs" => {
            let _ = writeln!(out, "datadir_size: {}", info.data_dir_size);
            let _ = writeln!(out, "logdir_size: {}", info.log_dir_size);
        }
        "mntr" => mntr(&mut out, info),
        "wchs" => wchs(&mut out, info),
        "wchc" => wchc(&mut out, info),
        "wchp" => wchp(&mut out, info),
        "dump" => dump(&mut out, info),
        _ => {}
    }
    out
}

/// `Version.getFullVersion()`: "<version>-<revision>, built on <date>".
/// zkrs reports a 3.8 version so clients enable 3.5+ features.
pub fn full_version(version: &str, revision: &str, built_on: &str) -> String {
    format!("{version}-{revision}, built on {built_on}")
}

/// ZooKeeper's server-wide average latency: total / count as a double,
/// rounded half-up to 4 decimal places; 0 when nothing was measured.
pub fn avg_latency(total_ms: u64, count: u64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    (total_ms as f64 / count as f64 * 10_000.0).round() / 10_000.0
}

/// Values for `conf` on a standalone server (`ZooKeeperServer.dumpConf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandaloneConf {
    /// -1 when not listening.
    pub client_port: i32,
    /// -1 when there is no TLS port.
    pub secure_client_port: i32,
    /// Absolute path of the snapshot directory (ZooKeeper prints its
    /// `<dataDir>/version-2`).
    pub data_dir: String,
    pub data_dir_size: u64,
    pub data_log_dir: String,
    pub data_log_size: u64,
    pub tick_time: i32,
    pub max_client_cnxns: i32,
    pub min_session_timeout: i32,
    pub max_session_timeout: i32,
    /// -1 = the OS default.
    pub client_port_listen_backlog: i32,
    /// Always 0 for a standalone ZooKeeper.
    pub server_id: i64,
}

/// The `conf` lines, in ZooKeeper's order.
pub fn standalone_conf(c: &StandaloneConf) -> Vec<(String, String)> {
    let pairs: [(&str, String); 12] = [
        ("clientPort", c.client_port.to_string()),
        ("secureClientPort", c.secure_client_port.to_string()),
        ("dataDir", c.data_dir.clone()),
        ("dataDirSize", c.data_dir_size.to_string()),
        ("dataLogDir", c.data_log_dir.clone()),
        ("dataLogSize", c.data_log_size.to_string()),
        ("tickTime", c.tick_time.to_string()),
        ("maxClientCnxns", c.max_client_cnxns.to_string()),
        ("minSessionTimeout", c.min_session_timeout.to_string()),
        ("maxSessionTimeout", c.max_session_timeout.to_string()),
        (
            "clientPortListenBacklog",
            c.client_port_listen_backlog.to_string(),
        ),
        ("serverId", c.server_id.to_string()),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

// ---- the words ----

fn push_pairs(out: &mut String, pairs: &[(String, String)]) {
    for (k, v) in pairs {
        let _ = writeln!(out, "{k}={v}");
    }
}

fn envi(out: &mut String, info: &ServerInfo) {
    out.push_str("Environment:\n");
    push_pairs(out, &info.env);
}

/// `StatCommand`: `srvr` is `stat` without the client list.
fn stat(out: &mut String, info: &ServerInfo, with_clients: bool) {
    let _ = writeln!(out, "Zookeeper version: {}", info.version);
    if info.read_only {
        out.push_str("READ-ONLY mode; serving only read-only clients\n");
    }
    if with_clients {
        out.push_str("Clients:\n");
        for c in &info.connections {
            conn_line(out, c, true);
            out.push('\n');
        }
        out.push('\n');
    }
    // ServerStats.toString
    let _ = writeln!(
        out,
        "Latency min/avg/max: {}/{}/{}",
        info.min_latency_ms,
        java_double(info.avg_latency_ms),
        info.max_latency_ms
    );
    let _ = writeln!(out, "Received: {}", info.packets_received);
    let _ = writeln!(out, "Sent: {}", info.packets_sent);
    let _ = writeln!(out, "Connections: {}", info.connections.len());
    let _ = writeln!(out, "Outstanding: {}", info.outstanding_requests);
    let _ = writeln!(out, "Zxid: 0x{:x}", info.zxid);
    let _ = writeln!(out, "Mode: {}", info.mode);
    let _ = writeln!(out, "Node count: {}", info.node_count);
    if let Some(p) = info.proposal_sizes {
        let _ = writeln!(
            out,
            "Proposal sizes last/min/max: {}/{}/{}",
            p.last, p.min, p.max
        );
    }
}

fn cons(out: &mut String, info: &ServerInfo) {
    for c in &info.connections {
        conn_line(out, c, false);
        out.push('\n');
    }
    out.push('\n');
}

/// `ServerCnxn.dumpConnectionInfo` (no trailing newline).
fn conn_line(out: &mut String, c: &ConnInfo, brief: bool) {
    out.push(' ');
    java_socket_addr(out, &c.peer);
    let _ = write!(
        out,
        "[{:x}](queued={},recved={},sent={}",
        c.interest_ops, c.queued, c.received, c.sent
    );
    if !brief && c.session_id != 0 {
        let _ = write!(
            out,
            ",sid=0x{:x},lop={},est={},to={}",
            c.session_id, c.last_op, c.established_ms, c.timeout_ms
        );
        if c.last_cxid >= 0 {
            let _ = write!(out, ",lcxid=0x{:x}", c.last_cxid);
        }
        let _ = write!(
            out,
            ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
            c.last_zxid,
            c.last_response_ms,
            c.last_latency_ms,
            c.min_latency_ms,
            c.avg_latency_ms,
            c.max_latency_ms
        );
    }
    out.push(')');
}

/// The gauges `mntr` prints after zk_version and zk_server_state, in the
/// iteration order of ZooKeeper's `ConcurrentHashMap` of gauges. That
/// order depends only on the registered names; it was read off a JDK 17
/// `ConcurrentHashMap` filled in `registerMetrics` order with the leader's
/// full set. Smaller sets (standalone, follower, observer) keep the same
/// relative order because all sets end up in a 64-slot table.
const MNTR_GAUGES: [&str; 34] = [
    "ephemerals_count",
    "num_alive_connections",
    "avg_latency",
    "min_proposal_size",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "non_mtls_remote_conn_count",
    "last_client_response_size",
    "packets_sent",
    "packets_received",
    "max_proposal_size",
    "max_client_response_size",
    "synced_followers",
    "connection_drop_probability",
    "watch_count",
    "synced_non_voting_followers",
    "synced_observers",
    "auth_failed_count",
    "min_latency",
    "max_file_descriptor_count",
    "approximate_data_size",
    "open_file_descriptor_count",
    "last_proposal_size",
    "pending_syncs",
    "leader_uptime",
    "local_sessions",
    "uptime",
    "max_latency",
    "outstanding_tls_handshake",
    "learners",
    "min_client_response_size",
    "non_mtls_local_conn_count",
    "quorum_size",
];

/// The value of one gauge, formatted as `MonitorCommand.print` does
/// (integers plainly, other numbers as Java doubles); `None` = not
/// registered on this kind of server, so no line.
fn gauge(info: &ServerInfo, name: &str) -> Option<String> {
    let int = |v: u64| Some(v.to_string());
    let opt = |v: Option<u64>| v.map(|v| v.to_string());
    let fd = |v: Option<u64>| Some(v.map_or("-1".to_string(), |v| v.to_string()));
    let client = info.client_response_sizes.unwrap_or_default();
    let proposal = info.proposal_sizes;
    match name {
        "ephemerals_count" => int(info.ephemerals_count),
        "num_alive_connections" => int(info.connections.len() as u64),
        "avg_latency" => Some(java_double(info.avg_latency_ms)),
        "outstanding_requests" => int(info.outstanding_requests),
        "znode_count" => int(info.node_count),
        "global_sessions" => int(info.session_count - info.local_session_count),
        "non_mtls_remote_conn_count" => int(info.non_mtls_remote_conn_count),
        "last_client_response_size" => Some(client.last.to_string()),
        "max_client_response_size" => Some(client.max.to_string()),
        "min_client_response_size" => Some(client.min.to_string()),
        "packets_sent" => int(info.packets_sent),
        "packets_received" => int(info.packets_received),
        "connection_drop_probability" => Some(java_double(info.connection_drop_probability)),
        "watch_count" => int(info.watch_count),
        "auth_failed_count" => int(info.auth_failed_count),
        "min_latency" => Some(info.min_latency_ms.to_string()),
        "max_latency" => Some(info.max_latency_ms.to_string()),
        "max_file_descriptor_count" => fd(info.max_file_descriptor_count),
        "open_file_descriptor_count" => fd(info.open_file_descriptor_count),
        "approximate_data_size" => int(info.approximate_data_size),
        "local_sessions" => int(info.local_session_count),
        "uptime" => Some(info.uptime_ms.to_string()),
        "outstanding_tls_handshake" => int(info.outstanding_tls_handshakes),
        "non_mtls_local_conn_count" => int(info.non_mtls_local_conn_count),
        "min_proposal_size" => proposal.map(|p| p.min.to_string()),
        "max_proposal_size" => proposal.map(|p| p.max.to_string()),
        "last_proposal_size" => proposal.map(|p| p.last.to_string()),
        "synced_followers" => opt(info.synced_followers),
        "synced_non_voting_followers" => opt(info.synced_non_voting_followers),
        "synced_observers" => opt(info.synced_observers),
        "pending_syncs" => opt(info.pending_syncs),
        "leader_uptime" => info.leader_uptime_ms.map(|v| v.to_string()),
        "learners" => opt(info.learners),
        "quorum_size" => opt(info.quorum_size),
        _ => None,
    }
}

/// `MonitorCommand`: "zk_<key>\t<value>" lines. ZooKeeper then dumps its
/// several hundred `ServerMetrics` counters and summaries; zkrs prints the
/// ones it keeps (`ServerInfo::counters`) and leaves the rest out rather
/// than faking them.
fn mntr(out: &mut String, info: &ServerInfo) {
    for (k, v) in monitor(info) {
        let _ = writeln!(out, "zk_{k}\t{v}");
    }
}

/// What `mntr` reports, in its order, as (key without "zk_", value): the
/// admin server's `monitor` and the Prometheus gauges read the same list.
pub fn monitor(info: &ServerInfo) -> Vec<(String, String)> {
    let mut out = vec![
        ("version".to_string(), info.version.clone()),
        ("server_state".to_string(), info.mode.clone()),
    ];
    if let Some(s) = &info.peer_state {
        out.push(("peer_state".into(), s.clone()));
    }
    if let Some(id) = info.observer_master_id {
        out.push(("observer_master_id".into(), id.to_string()));
    }
    for name in MNTR_GAUGES {
        if let Some(v) = gauge(info, name) {
            out.push((name.to_string(), v));
        }
    }
    out.extend(info.counters.iter().cloned());
    if let Some(n) = info.followers {
        out.push(("followers".into(), n.to_string()));
    }
    out
}

/// `WatchManager.toString` plus the command's closing newline.
fn wchs(out: &mut String, info: &ServerInfo) {
    let conns = info.watches_by_connection.len();
    let mut paths: Vec<&str> = info
        .watches_by_connection
        .iter()
        .flat_map(|(_, p)| p.iter().map(String::as_str))
        .collect();
    let total = paths.len();
    paths.sort_unstable();
    paths.dedup();
    let _ = writeln!(out, "{conns} connections watching {} paths", paths.len());
    let _ = writeln!(out, "Total watches:{total}");
}

fn wchc(out: &mut String, info: &ServerInfo) {
    for (sid, paths) in &info.watches_by_connection {
        let _ = writeln!(out, "0x{sid:x}");
        for p in paths {
            let _ = writeln!(out, "\t{p}");
        }
    }
    out.push('\n');
}

fn wchp(out: &mut String, info: &ServerInfo) {
    for (path, sids) in &info.watches_by_path {
        let _ = writeln!(out, "{path}");
        for sid in sids {
            let _ = writeln!(out, "\t0x{sid:x}");
        }
    }
    out.push('\n');
}

/// `DumpCommand`: session expiry queue, ephemerals, connection expiry
/// queue (the last only exists in ZooKeeper's NIO factory, its default).
fn dump(out: &mut String, info: &ServerInfo) {
    out.push_str("SessionTracker dump:\nSession ");
    expiry_queue(out, &info.session_expiry, |out, sid| {
        let _ = write!(out, "0x{sid:x}");
    });
    let _ = writeln!(
        out,
        "ephemeral nodes dump:\nSessions with Ephemerals ({}):",
        info.sessions_with_ephemerals.len()
    );
    for (sid, paths) in &info.sessions_with_ephemerals {
        let _ = writeln!(out, "0x{sid:x}:");
        for p in paths {
            let _ = writeln!(out, "\t{p}");
        }
    }
    out.push_str("Connections dump:\nConnections ");
    expiry_queue(out, &info.connection_expiry, |out, c| {
        conn_line(out, c, false)
    });
}

/// `ExpiryQueue.dump`: buckets sorted by expiry time, printed as
/// `java.util.Date` in UTC.
fn expiry_queue<T>(out: &mut String, buckets: &[(i64, Vec<T>)], elem: impl Fn(&mut String, &T)) {
    let total: usize = buckets.iter().map(|(_, v)| v.len()).sum();
    let _ = writeln!(out, "Sets ({})/({total}):", buckets.len());
    let mut sorted: Vec<&(i64, Vec<T>)> = buckets.iter().collect();
    sorted.sort_by_key(|(t, _)| *t);
    for (time, items) in sorted {
        let _ = writeln!(out, "{} expire at {}:", items.len(), java_date_utc(*time));
        for item in items {
            out.push('\t');
            elem(out, item);
            out.push('\n');
        }
    }
}

// ---- Java's text forms ----

/// `Double.toString`: plain decimal with at least one fractional digit in
/// [1e-3, 1e7), otherwise "d.dddE[-]n".
pub(crate) fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let mag = v.abs();
    if mag == 0.0 || (1e-3..1e7).contains(&mag) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { s + ".0" };
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exp}")
}

/// `InetSocketAddress.toString` for an accepted socket: "/ip:port".
/// IPv6 is printed the way `Inet6Address` does (eight uncompressed hex
/// groups, no brackets, as on Java 11 which the 3.8 images ship);
/// IPv4-mapped addresses come out as IPv4, as Java converts them.
fn java_socket_addr(out: &mut String, addr: &SocketAddr) {
    out.push('/');
    match addr {
        SocketAddr::V4(a) => {
            let _ = write!(out, "{}", a.ip());
        }
        SocketAddr::V6(a) => {
            if let Some(v4) = a.ip().to_ipv4_mapped() {
                let _ = write!(out, "{v4}");
            } else {
                let groups: Vec<String> =
                    a.ip().segments().iter().map(|g| format!("{g:x}")).collect();
                out.push_str(&groups.join(":"));
                if a.scope_id() != 0 {
                    let _ = write!(out, "%{}", a.scope_id());
                }
            }
        }
    }
    let _ = write!(out, ":{}", addr.port());
}

/// `java.util.Date.toString` in UTC: "Thu Jan 01 00:00:00 UTC 1970".
fn java_date_utc(epoch_ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        year
    )
}

/// Proleptic Gregorian (year, month 1-12, day 1-31) of a day count since
/// 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

// ---- process probes (the only I/O here; they feed the snapshot) ----

/// `envi`'s lines for this process, with ZooKeeper's keys in its order.
/// Java-only properties that have no zkrs counterpart say "<NA>", which is
/// what ZooKeeper prints for a missing property. Memory lines are the
/// JVM's heap figures in ZooKeeper; here: free = the host's available
/// memory, max = the host's total, total = this process's resident set.
pub fn env_lines(full_version: &str) -> Vec<(String, String)> {
    let na = || "<NA>".to_string();
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let host = read("/proc/sys/kernel/hostname")
        .or_else(|| env("HOSTNAME"))
        .unwrap_or_else(na);
    let os_name = match std::env::consts::OS {
        "linux" => "Linux".to_string(),
        "macos" => "Mac OS X".to_string(),
        "windows" => "Windows".to_string(),
        other => other.to_string(),
    };
    let os_arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "x86",
        other => other,
    };
    let user = env("USER")
        .or_else(|| env("LOGNAME"))
        .or_else(user_from_passwd)
        .unwrap_or_else(na);
    let meminfo = read("/proc/meminfo").unwrap_or_default();
    let status = read("/proc/self/status").unwrap_or_default();
    let mb = |v: Option<u64>| v.map_or_else(na, |kb| format!("{}MB", kb / 1024));
    let pairs: [(&str, String); 18] = [
        ("zookeeper.version", full_version.to_string()),
        ("host.name", host),
        ("java.version", na()),
        ("java.vendor", na()),
        ("java.home", na()),
        ("java.class.path", na()),
        (
            "java.library.path",
            env("LD_LIBRARY_PATH").unwrap_or_else(na),
        ),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", na()),
        ("os.name", os_name),
        ("os.arch", os_arch.to_string()),
        (
            "os.version",
            read("/proc/sys/kernel/osrelease").unwrap_or_else(na),
        ),
        ("user.name", user),
        ("user.home", env("HOME").unwrap_or_else(na)),
        (
            "user.dir",
            std::env::current_dir().map_or_else(|_| na(), |d| d.display().to_string()),
        ),
        ("os.memory.free", mb(kb_field(&meminfo, "MemAvailable:"))),
        ("os.memory.max", mb(kb_field(&meminfo, "MemTotal:"))),
        ("os.memory.total", mb(kb_field(&status, "VmRSS:"))),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The "<n> kB" value of a `/proc` "Key:   n kB" line.
fn kb_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

fn user_from_passwd() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))?
        .split_whitespace()
        .nth(1)?;
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2] == uid).then(|| f[0].to_string())
    })
}

/// Open file descriptors of this process (Linux `/proc/self/fd`).
pub fn open_fd_count() -> Option<u64> {
    // read_dir's own handle shows up as one entry; the JVM's
    // OperatingSystemMXBean subtracts its directory handle the same way.
    std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| (d.count() as u64).saturating_sub(1))
}

/// The soft "Max open files" limit (Linux `/proc/self/limits`); `None`
/// when unknown or unlimited.
pub fn max_fd_count() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = "3.8.4-zkrs-0.1.0, built on 2026-11-23 04:54 UTC";

    fn conn(peer: &str, sid: i64) -> ConnInfo {
        ConnInfo {
            peer: peer.parse().unwrap(),
            interest_ops: 1,
            queued: 0,
            received: 12,
            sent: 11,
            session_id: sid,
            last_op: "GETD".to_string(),
            established_ms: 1_700_000_000_000,
            timeout_ms: 30000,
            last_cxid: 10,
            last_zxid: 0x2a,
            last_response_ms: 1_700_000_005_000,
            last_latency_ms: 1,
            min_latency_ms: 0,
            avg_latency_ms: 0,
            max_latency_ms: 3,
        }
    }

    fn standalone() -> ServerInfo {
        ServerInfo {
            version: VERSION.to_string(),
            mode: "standalone".to_string(),
            min_latency_ms: 0,
            avg_latency_ms: 0.3333,
            max_latency_ms: 7,
            packets_received: 40,
            packets_sent: 39,
            outstanding_requests: 0,
            zxid: 0x1f,
            node_count: 6,
            uptime_ms: 123_456,
            connections: vec![
                conn("127.0.0.1:50412", 0x10000123400000),
                conn("[::1]:50500", 0),
            ],
            watch_count: 3,
            watches_by_connection: vec![
                (0x10000123400000, vec!["/a".to_string(), "/b".to_string()]),
                (0x10000123400001, vec!["/a".to_string()]),
            ],
            watches_by_path: vec![
                ("/a".to_string(), vec![0x10000123400000, 0x10000123400001]),
                ("/b".to_string(), vec![0x10000123400000]),
            ],
            ephemerals_count: 1,
            approximate_data_size: 97,
            session_count: 2,
            open_file_descriptor_count: Some(48),
            max_file_descriptor_count: Some(1_048_576),
            data_dir_size: 67_108_880,
            log_dir_size: 457,
            sessions_with_ephemerals: vec![(0x10000123400000, vec!["/eph".to_string()])],
            session_expiry: vec![
                (1_700_000_040_000, vec![0x10000123400001]),
                (1_700_000_030_000, vec![0x10000123400000]),
            ],
            connection_expiry: vec![(1_700_000_010_000, vec![conn("127.0.0.1:50412", 0x1a)])],
            ..ServerInfo::default()
        }
    }

    #[test]
    fn word_table() {
        for w in COMMANDS {
            assert!(is_command(w.as_bytes().try_into().unwrap()), "{w}");
        }
        assert!(!is_command(b"abcd"));
        assert!(!is_command(&[0, 0, 0, 45]));
        assert_eq!(
            not_whitelisted("stat"),
            "stat is not executed because it is not in the whitelist.\n"
        );
        assert_eq!(respond("xyzw", &standalone()), "");
    }

    #[test]
    fn simple_words() {
        let info = standalone();
        assert_eq!(respond("ruok", &info), "imok");
        assert_eq!(respond("isro", &info), "rw");
        assert_eq!(
            respond(
                "isro",
                &ServerInfo {
                    read_only: true,
                    ..info.clone()
                }
            ),
            "ro"
        );
        assert_eq!(
            respond(
                "isro",
                &ServerInfo {
                    not_serving: true,
                    ..info.clone()
                }
            ),
            "null"
        );
        assert_eq!(respond("gtmk", &info), "306");
        assert_eq!(stmk_reply(4), "4");
        assert_eq!(respond("hash", &info), "");
        assert_eq!(respond("srst", &info), "Server stats reset.\n");
        assert_eq!(respond("crst", &info), "Connection stats reset.\n");
        assert_eq!(
            respond("dirs", &info),
            "datadir_size: 67108880\nlogdir_size: 457\n"
        );
    }

    #[test]
    fn not_serving() {
        let info = ServerInfo {
            not_serving: true,
            ..standalone()
        };
        let line = "This ZooKeeper instance is not currently serving requests\n";
        for w in [
            "srvr", "stat", "cons", "crst", "srst", "conf", "dump", "dirs", "mntr", "wchs",
        ] {
            assert_eq!(respond(w, &info), line, "{w}");
        }
        assert_eq!(respond("hash", &info), line.trim_end());
        assert_eq!(respond("ruok", &info), "imok");
        assert!(respond("envi", &info).starts_with("Environment:\n"));
    }

    #[test]
    fn srvr() {
        let expected = "Zookeeper version: 3.8.4-zkrs-0.1.0, built on 2026-11-23 04:54 UTC\n\
            Latency min/avg/max: 0/0.3333/7\n\
            Received: 40\n\
            Sent: 39\n\
            Connections: 2\n\
            Outstanding: 0\n\
            Zxid: 0x1f\n\
            Mode: standalone\n\
            Node count: 6\n";
        assert_eq!(respond("srvr", &standalone()), expected);
    }

    #[test]
    fn stat_lists_clients_briefly() {
        let expected = "Zookeeper version: 3.8.4-zkrs-0.1.0, built on 2026-11-23 04:54 UTC\n\
            Clients:\n \
            /127.0.0.1:50412[1](queued=0,recved=12,sent=11)\n \
            /0:0:0:0:0:0:0:1:50500[1](queued=0,recved=12,sent=11)\n\
            \n\
            Latency min/avg/max: 0/0.3333/7\n\
            Received: 40\n\
            Sent: 39\n\
            Connections: 2\n\
            Outstanding: 0\n\
            Zxid: 0x1f\n\
            Mode: standalone\n\
            Node count: 6\n";
        assert_eq!(respond("stat", &standalone()), expected);
    }

    #[test]
    fn stat_read_only_and_leader() {
        let info = ServerInfo {
            read_only: true,
            mode: "leader".to_string(),
            connections: vec![],
            avg_latency_ms: 0.0,
            zxid: 0x1_0000_0003,
            proposal_sizes: Some(BufferSizes {
                last: 120,
                min: 36,
                max: 512,
            }),
            ..standalone()
        };
        let expected = "Zookeeper version: 3.8.4-zkrs-0.1.0, built on 2026-11-23 04:54 UTC\n\
            READ-ONLY mode; serving only read-only clients\n\
            Clients:\n\
            \n\
            Latency min/avg/max: 0/0.0/7\n\
            Received: 40\n\
            Sent: 39\n\
            Connections: 0\n\
            Outstanding: 0\n\
            Zxid: 0x100000003\n\
            Mode: leader\n\
            Node count: 6\n\
            Proposal sizes last/min/max: 120/36/512\n";
        assert_eq!(respond("stat", &info), expected);
    }

    #[test]
    fn cons_full_detail() {
        let mut info = standalone();
        info.connections[0].last_cxid = -1;
        info.connections[0].last_zxid = -1;
        info.connections.push(conn("[::ffff:10.0.0.7]:4000", 0x1b));
        let expected = " /127.0.0.1:50412[1](queued=0,recved=12,sent=11,sid=0x10000123400000,\
            lop=GETD,est=1700000000000,to=30000,lzxid=0xffffffffffffffff,\
            lresp=1700000005000,llat=1,minlat=0,avglat=0,maxlat=3)\n \
            /0:0:0:0:0:0:0:1:50500[1](queued=0,recved=12,sent=11)\n \
            /10.0.0.7:4000[1](queued=0,recved=12,sent=11,sid=0x1b,lop=GETD,\
            est=1700000000000,to=30000,lcxid=0xa,lzxid=0x2a,lresp=1700000005000,\
            llat=1,minlat=0,avglat=0,maxlat=3)\n\
            \n";
        assert_eq!(respond("cons", &info), expected);
        let idle = ServerInfo {
            connections: vec![],
            ..info
        };
        assert_eq!(respond("cons", &idle), "\n");
    }

    #[test]
    fn mntr_standalone() {
        let expected = "zk_version\t3.8.4-zkrs-0.1.0, built on 2026-11-23 04:54 UTC\n\
            zk_server_state\tstandalone\n\
            zk_ephemerals_count\t1\n\
            zk_num_alive_connections\t2\n\
            zk_avg_latency\t0.3333\n\
            zk_outstanding_requests\t0\n\
            zk_znode_count\t6\n\
            zk_global_sessions\t2\n\
            zk_non_mtls_remote_conn_count\t0\n\
            zk_last_client_response_size\t-1\n\
            zk_packets_sent\t39\n\
            zk_packets_received\t40\n\
            zk_max_client_response_size\t-1\n\
            zk_connection_drop_probability\t0.0\n\
            zk_watch_count\t3\n\
            zk_auth_failed_count\t0\n\
            zk_min_latency\t0\n\
            zk_max_file_descriptor_count\t1048576\n\
            zk_approximate_data_size\t97\n\
            zk_open_file_descriptor_count\t48\n\
            zk_local_sessions\t0\n\
            zk_uptime\t123456\n\
            zk_max_latency\t7\n\
            zk_outstanding_tls_handshake\t0\n\
            zk_min_client_response_size\t-1\n\
            zk_non_mtls_local_conn_count\t0\n";
        assert_eq!(respond("mntr", &standalone()), expected);
    }

    #[test]
    fn mntr_leader_adds_ensemble_keys() {
        let info = ServerInfo {
            mode: "leader".to_string(),
            peer_state: Some("leading - broadcast".to_string()),
            quorum_size: Some(3),
            learners: Some(2),
            synced_followers: Some(2),
            synced_non_voting_followers: Some(0),
            synced_observers: Some(0),
            pending_syncs: Some(0),
            leader_uptime_ms: Some(5000),
            proposal_sizes: Some(BufferSizes {
                last: 90,
                min: 36,
                max: 512,
            }),
            open_file_descriptor_count: None,
            client_response_sizes: Some(BufferSizes {
                last: 16,
                min: 16,
                max: 180,
            }),
            ..standalone()
        };
        let out = respond("mntr", &info);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "zk_server_state\tleader");
        assert_eq!(lines[2], "zk_peer_state\tleading - broadcast");
        assert_eq!(lines[6], "zk_min_proposal_size\t36");
        assert!(out.contains("\nzk_open_file_descriptor_count\t-1\n"));
        assert!(out.contains("\nzk_last_client_response_size\t16\n"));
        assert!(out.contains("\nzk_max_proposal_size\t512\nzk_max_client_response_size\t180\n"));
        assert!(out.contains("\nzk_pending_syncs\t0\nzk_leader_uptime\t5000\n"));
        assert!(out.ends_with("zk_non_mtls_local_conn_count\t0\nzk_quorum_size\t3\n"));
        assert_eq!(lines.len(), 2 + 1 + MNTR_GAUGES.len());
    }

    #[test]
    fn watches() {
        let info = standalone();
        assert_eq!(
            respond("wchs", &info),
            "2 connections watching 2 paths\nTotal watches:3\n"
        );
        assert_eq!(
            respond("wchc", &info),
            "0x10000123400000\n\t/a\n\t/b\n0x10000123400001\n\t/a\n\n"
        );
        assert_eq!(
            respond("wchp", &info),
            "/a\n\t0x10000123400000\n\t0x10000123400001\n/b\n\t0x10000123400000\n\n"
        );
        let none = ServerInfo::default();
        assert_eq!(
            respond("wchs", &none),
            "0 connections watching 0 paths\nTotal watches:0\n"
        );
        assert_eq!(respond("wchc", &none), "\n");
        assert_eq!(respond("wchp", &none), "\n");
    }

    #[test]
    fn dump() {
        let expected = "SessionTracker dump:\n\
            Session Sets (2)/(2):\n\
            1 expire at Tue Nov 14 22:13:50 UTC 2023:\n\
            \t0x10000123400000\n\
            1 expire at Tue Nov 14 22:14:00 UTC 2023:\n\
            \t0x10000123400001\n\
            ephemeral nodes dump:\n\
            Sessions with Ephemerals (1):\n\
            0x10000123400000:\n\
            \t/eph\n\
            Connections dump:\n\
            Connections Sets (1)/(1):\n\
            1 expire at Tue Nov 14 22:13:30 UTC 2023:\n\
            \t /127.0.0.1:50412[1](queued=0,recved=12,sent=11,sid=0x1a,lop=GETD,\
            est=1700000000000,to=30000,lcxid=0xa,lzxid=0x2a,lresp=1700000005000,\
            llat=1,minlat=0,avglat=0,maxlat=3)\n";
        assert_eq!(respond("dump", &standalone()), expected);
        let empty = "SessionTracker dump:\nSession Sets (0)/(0):\n\
            ephemeral nodes dump:\nSessions with Ephemerals (0):\n\
            Connections dump:\nConnections Sets (0)/(0):\n";
        assert_eq!(respond("dump", &ServerInfo::default()), empty);
    }

    #[test]
    fn conf_and_envi() {
        let conf = standalone_conf(&StandaloneConf {
            client_port: 2181,
            secure_client_port: -1,
            data_dir: "/data/version-2".to_string(),
            data_dir_size: 67_108_880,
            data_log_dir: "/datalog/version-2".to_string(),
            data_log_size: 457,
            tick_time: 2000,
            max_client_cnxns: 60,
            min_session_timeout: 4000,
            max_session_timeout: 40000,
            client_port_listen_backlog: -1,
            server_id: 0,
        });
        let info = ServerInfo {
            conf,
            env: vec![("zookeeper.version".to_string(), VERSION.to_string())],
            ..standalone()
        };
        assert_eq!(
            respond("conf", &info),
            "clientPort=2181\nsecureClientPort=-1\ndataDir=/data/version-2\n\
             dataDirSize=67108880\ndataLogDir=/datalog/version-2\ndataLogSize=457\n\
             tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\n\
             maxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n"
        );
        assert_eq!(
            respond("envi", &info),
            "Environment:\nzookeeper.version=3.8.4-zkrs-0.1.0, built on 2026-11-23 04:54 UTC\n"
        );
    }

    #[test]
    fn env_lines_keep_zookeeper_keys() {
        let keys: Vec<String> = env_lines(VERSION).into_iter().map(|(k, _)| k).collect();
        let expected = [
            "zookeeper.version",
            "host.name",
            "java.version",
            "java.vendor",
            "java.home",
            "java.class.path",
            "java.library.path",
            "java.io.tmpdir",
            "java.compiler",
            "os.name",
            "os.arch",
            "os.version",
            "user.name",
            "user.home",
            "user.dir",
            "os.memory.free",
            "os.memory.max",
            "os.memory.total",
        ];
        assert_eq!(keys, expected);
        assert_eq!(env_lines(VERSION)[0].1, VERSION);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn fd_probes() {
        let open = open_fd_count().unwrap();
        assert!(open >= 3);
        if let Some(max) = max_fd_count() {
            assert!(max >= open);
        }
    }

    #[test]
    fn java_text_forms() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(12.3456), "12.3456");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(1.5e7), "1.5E7");
        assert_eq!(java_double(9_999_999.5), "9999999.5");
        assert_eq!(avg_latency(0, 0), 0.0);
        assert_eq!(avg_latency(1, 3), 0.3333);
        assert_eq!(avg_latency(2, 3), 0.6667);
        assert_eq!(java_date_utc(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            java_date_utc(951_782_400_000),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
        assert_eq!(java_date_utc(-1000), "Wed Dec 31 23:59:59 UTC 1969");
        assert_eq!(
            full_version("3.8.4", "zkrs-0.1.0", "x"),
            "3.8.4-zkrs-0.1.0, built on x"
        );
        let mut s = String::new();
        java_socket_addr(&mut s, &"[fe80::1%2]:7".parse().unwrap());
        assert_eq!(s, "/fe80:0:0:0:0:0:0:1%2:7");
    }
}
