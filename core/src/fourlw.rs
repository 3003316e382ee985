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
    /// Sessions in the replicated state (`zk_global_sessions`).
    pub session_count: u64,
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
    /// Leader only: proposal sizes; also adds `stat`'s "Proposal sizes" line.
    pub proposal_sizes: Option<BufferSizes>,
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
        "global_sessions" => int(info.session_count),
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
/// several hundred `ServerMetrics` counters and summaries; zkrs keeps none
/// of those, so they are left out rather than faked.
fn mntr(out: &mut String, info: &ServerInfo) {
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(out, "zk_{k}\t{v}");
    };
    line("version", &info.version);
    line("server_state", &info.mode);
    if let Some(s) = &info.peer_state {
        line("peer_state", s);
    }
    if let Some(id) = info.observer_master_id {
        line("observer_master_id", &id.to_string());
    }
    for name in MNTR_GAUGES {
        if let Some(v) = gauge(info, name) {
            line(name, &v);
        }
    }
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
fn java_double(v: f64) -> String {
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
    // The directory handle read_dir holds is itself one entry; the JVM's
    // UnixOperatingSystemMXBean counts the same way.
    std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64)
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
