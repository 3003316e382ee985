//! zoo.cfg as ZooKeeper 3.8/3.9 reads it (`QuorumPeerConfig.parseProperties`
//! plus the system properties that zoo.cfg files commonly carry), turned
//! into a typed [`Config`]. Parsing text is pure; only [`Config::load`] and
//! [`read_myid`] touch the disk. This module does not start anything.
//!
//! A key ZooKeeper does not know becomes the system property
//! `zookeeper.<key>` there; here it is kept in [`Config::properties`]
//! (under the key as written). A known key with a value that cannot be used
//! is an [`Error::Config`] naming key and value.

mod http;
mod properties;
mod server;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use http::{AdminSettings, HttpEndpoint, PROMETHEUS_PROVIDER};
pub use properties::parse as parse_properties;
pub use server::{Role, ServerEntry};

use crate::error::{Error, Result};
use crate::storage::Compression;

/// ZooKeeperServer.DEFAULT_TICK_TIME.
pub const DEFAULT_TICK_TIME: u32 = 3000;
/// jute.maxbuffer's default, 0xfffff bytes.
pub const DEFAULT_JUTE_MAX_BUFFER: u32 = 0xfffff;
/// PurgeTxnLog refuses to keep fewer snapshots.
pub const MIN_SNAP_RETAIN_COUNT: u32 = 3;

/// Every four-letter word ZooKeeper knows (FourLetterCommands.cmd2String);
/// `4lw.commands.whitelist=*` enables exactly these.
pub const FOUR_LETTER_WORDS: &[&str] = &[
    "conf",
    "cons",
    "crst",
    "dirs",
    "dump",
    "envi",
    "gtmk",
    "ruok",
    "stmk",
    "srst",
    "srvr",
    "stat",
    "wchc",
    "wchp",
    "wchs",
    "mntr",
    "isro",
    "hash",
    "telnet close",
];

/// One member's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Milliseconds; the unit of initLimit, syncLimit and session timeouts.
    pub tick_time: u32,
    pub data_dir: PathBuf,
    /// Where the transaction log goes; dataDir unless set.
    pub data_log_dir: PathBuf,
    /// None when zoo.cfg has no clientPort (then the server.N line of this
    /// member may give it; see [`Config::set_server_id`]).
    pub client_port: Option<u16>,
    /// None: all interfaces.
    pub client_port_address: Option<String>,
    pub secure_client_port: Option<u16>,
    pub secure_client_port_address: Option<String>,
    /// -1: the OS default.
    pub client_port_listen_backlog: i32,
    pub init_limit: u32,
    pub sync_limit: u32,
    /// The ensemble, sorted by id.
    pub servers: Vec<ServerEntry>,
    pub peer_type: Role,
    /// Per client IP; 0 means unlimited.
    pub max_client_cnxns: u32,
    /// In total; 0 means unlimited.
    pub max_cnxns: u32,
    pub min_session_timeout: u32,
    pub max_session_timeout: u32,
    pub snap_count: u32,
    pub autopurge_snap_retain_count: u32,
    /// How snapshots are written (`snapshot.compression.method`).
    pub snapshot_compression: Compression,
    /// Zero: autopurge off.
    pub autopurge_purge_interval: Duration,
    pub reconfig_enabled: bool,
    pub standalone_enabled: bool,
    /// Enabled four-letter words (always holds "srvr", as in ZooKeeper).
    pub four_letter_whitelist: BTreeSet<String>,
    pub jute_max_buffer: u32,
    pub local_sessions_enabled: bool,
    pub local_sessions_upgrading_enabled: bool,
    /// `DigestAuthenticationProvider.superDigest`, "super:<base64 sha1>".
    pub super_digest: Option<String>,
    /// `extendedTypesEnabled`: TTL nodes allowed.
    pub extended_types_enabled: bool,
    pub container_check_interval_ms: u32,
    pub container_max_per_minute: u32,
    /// zkrs only: serve reads through the leader.
    pub linearizable_reads: bool,
    /// This member's id from the `myid` file; set by [`Config::load`].
    pub server_id: Option<u64>,
    /// The AdminServer (`admin.*`): on by default when read from zoo.cfg.
    pub admin: AdminSettings,
    /// Prometheus `/metrics` (`metricsProvider.*`), when configured.
    pub metrics_http: Option<HttpEndpoint>,
    /// The zoo.cfg text this was parsed from (the admin server's
    /// `initial_configuration`); empty without one.
    pub initial_text: String,
    /// Every key not modelled above, trimmed, under its zoo.cfg name.
    pub properties: BTreeMap<String, String>,
}

impl Default for Config {
    /// zkrs's configuration when no file is given: a standalone member on
    /// 127.0.0.1:2181 keeping its data in ./zkrs-data.
    fn default() -> Config {
        Config {
            tick_time: DEFAULT_TICK_TIME,
            data_dir: PathBuf::from("./zkrs-data"),
            data_log_dir: PathBuf::from("./zkrs-data"),
            client_port: Some(2181),
            client_port_address: Some("127.0.0.1".to_string()),
            secure_client_port: None,
            secure_client_port_address: None,
            client_port_listen_backlog: -1,
            init_limit: 0,
            sync_limit: 0,
            servers: Vec::new(),
            peer_type: Role::Participant,
            max_client_cnxns: 60,
            max_cnxns: 0,
            min_session_timeout: 2 * DEFAULT_TICK_TIME,
            max_session_timeout: 20 * DEFAULT_TICK_TIME,
            snap_count: 100_000,
            autopurge_snap_retain_count: MIN_SNAP_RETAIN_COUNT,
            snapshot_compression: Compression::None,
            autopurge_purge_interval: Duration::ZERO,
            reconfig_enabled: false,
            standalone_enabled: true,
            four_letter_whitelist: BTreeSet::from(["srvr".to_string()]),
            jute_max_buffer: DEFAULT_JUTE_MAX_BUFFER,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            super_digest: None,
            extended_types_enabled: false,
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            linearizable_reads: false,
            server_id: None,
            admin: AdminSettings::disabled(),
            metrics_http: None,
            initial_text: String::new(),
            properties: BTreeMap::new(),
        }
    }
}

fn bad(key: &str, value: &str, why: &str) -> Error {
    Error::Config(format!("{key}: '{value}' {why}"))
}

/// A number as Integer.parseInt takes it; negatives refused where the
/// target type is unsigned.
fn num<T: FromStr>(key: &str, value: &str) -> Result<T> {
    value.parse().map_err(|_| {
        if value.parse::<i64>().is_ok() {
            bad(key, value, "is out of range")
        } else {
            bad(key, value, "is not a number")
        }
    })
}

/// QuorumPeerConfig.parseBoolean: "true" or "false", any case.
fn boolean(key: &str, value: &str) -> Result<bool> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(bad(key, value, "is not 'true' or 'false'"))
    }
}

/// Java's Integer.decode, as `Integer.getInteger` reads jute.maxbuffer:
/// decimal, 0x/0X/# hex, or 0-prefixed octal.
fn decode_int(key: &str, value: &str) -> Result<i32> {
    let (neg, digits) = match value.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let parsed = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16)
    } else if let Some(h) = digits.strip_prefix('#') {
        i64::from_str_radix(h, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse::<i64>()
    };
    let n = parsed.map_err(|_| bad(key, value, "is not a number"))?;
    let n = if neg { -n } else { n };
    i32::try_from(n).map_err(|_| bad(key, value, "is out of range"))
}

/// Time.parseTimeInterval for autopurge.purgeInterval: a bare number is
/// hours; otherwise a `ms`, `s`, `m`, `h` or `d` suffix.
fn purge_interval(key: &str, value: &str) -> Result<Duration> {
    let (digits, unit_ms): (&str, u64) = if value.ends_with(|c: char| c.is_ascii_digit()) {
        (value, 3_600_000)
    } else if let Some(d) = value
        .strip_suffix("ms")
        .or_else(|| value.strip_suffix("MS"))
    {
        (d, 1)
    } else {
        let unit = match value.chars().last().map(|c| c.to_ascii_uppercase()) {
            Some('S') => 1_000,
            Some('M') => 60_000,
            Some('H') => 3_600_000,
            Some('D') => 86_400_000,
            _ => return Err(bad(key, value, "is not a time interval")),
        };
        (&value[..value.len() - 1], unit)
    };
    let n: i64 = digits
        .parse()
        .map_err(|_| bad(key, value, "is not a time interval"))?;
    // ZooKeeper turns autopurge off for anything not positive.
    Ok(Duration::from_millis(n.max(0) as u64 * unit_ms))
}

/// `4lw.commands.whitelist`, read as FourLetterCommands.isEnabled does
/// (also accepting blanks as separators); "srvr" is always enabled.
fn whitelist(value: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::from(["srvr".to_string()]);
    for cmd in value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|c| !c.is_empty())
    {
        if cmd == "*" {
            set.extend(FOUR_LETTER_WORDS.iter().map(|s| s.to_string()));
            break;
        }
        set.insert(cmd.to_string());
    }
    set
}

/// Keys ZooKeeper itself parses that zkrs does not model: still checked
/// like ZooKeeper checks them, then kept in `properties`.
const OTHER_BOOL_KEYS: &[&str] = &[
    "quorumListenOnAllIPs",
    "syncEnabled",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "quorum.auth.enableSasl",
    "quorum.auth.serverRequireSasl",
    "quorum.auth.learnerRequireSasl",
    "multiAddress.enabled",
    "multiAddress.reachabilityCheckEnabled",
];
const OTHER_INT_KEYS: &[&str] = &[
    "observerMasterPort",
    "connectToLearnerMasterLimit",
    "quorum.cnxn.threads.size",
    "multiAddress.reachabilityCheckTimeoutMs",
];

/// Fields that only get their final value once every key is read.
#[derive(Default)]
struct Pending {
    data_dir: Option<PathBuf>,
    data_log_dir: Option<PathBuf>,
    client_port_set: bool,
    min_session_timeout: Option<u32>,
    max_session_timeout: Option<u32>,
}

impl Config {
    /// Parses zoo.cfg text. Relative paths stay relative.
    pub fn parse(text: &str) -> Result<Config> {
        let mut entries: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in properties::parse(text)? {
            // ZooKeeper trims both (String.trim: everything up to U+0020).
            let trim = |s: &str| s.trim_matches(|c: char| c <= ' ').to_string();
            entries.insert(trim(&k), trim(&v));
        }
        let mut cfg = Config {
            client_port: None,
            client_port_address: None,
            ..Config::default()
        };
        let mut p = Pending::default();
        let mut servers: BTreeMap<u64, ServerEntry> = BTreeMap::new();
        for (key, value) in &entries {
            cfg.apply(key, value, &mut p, &mut servers)?;
        }
        cfg.servers = servers.into_values().collect();
        cfg.finish(p)?;
        cfg.admin = AdminSettings::from_properties(&cfg.properties)?;
        cfg.metrics_http = http::metrics_endpoint(&cfg.properties)?;
        cfg.snapshot_compression = snapshot_compression(&cfg.properties)?;
        cfg.initial_text = text.to_string();
        Ok(cfg)
    }

    fn apply(
        &mut self,
        key: &str,
        value: &str,
        p: &mut Pending,
        servers: &mut BTreeMap<u64, ServerEntry>,
    ) -> Result<()> {
        let (k, v) = (key, value);
        match k {
            "dataDir" => p.data_dir = Some(path(k, v)?),
            "dataLogDir" => p.data_log_dir = Some(path(k, v)?),
            "clientPort" => {
                self.client_port = Some(num(k, v)?);
                p.client_port_set = true;
            }
            "clientPortAddress" => self.client_port_address = Some(v.to_string()),
            "secureClientPort" => self.secure_client_port = Some(num(k, v)?),
            "secureClientPortAddress" => self.secure_client_port_address = Some(v.to_string()),
            "clientPortListenBacklog" => self.client_port_listen_backlog = num(k, v)?,
            "tickTime" => self.tick_time = num(k, v)?,
            "initLimit" => self.init_limit = num(k, v)?,
            "syncLimit" => self.sync_limit = num(k, v)?,
            "maxClientCnxns" => self.max_client_cnxns = num(k, v)?,
            // ServerCnxnFactory falls back to 0 for a negative value.
            "maxCnxns" => self.max_cnxns = num::<i32>(k, v)?.max(0) as u32,
            "minSessionTimeout" => p.min_session_timeout = Some(num(k, v)?),
            "maxSessionTimeout" => p.max_session_timeout = Some(num(k, v)?),
            "peerType" => {
                self.peer_type =
                    Role::parse(v).map_err(|_| bad(k, v, "is not 'participant' or 'observer'"))?
            }
            // ZooKeeper raises a count below the minimum, with a warning.
            "autopurge.snapRetainCount" => {
                self.autopurge_snap_retain_count =
                    num::<i32>(k, v)?.max(MIN_SNAP_RETAIN_COUNT as i32) as u32
            }
            "autopurge.purgeInterval" => self.autopurge_purge_interval = purge_interval(k, v)?,
            // getSnapCount resets anything below 2 to 2.
            "snapCount" => self.snap_count = num::<i32>(k, v)?.max(2) as u32,
            "standaloneEnabled" => self.standalone_enabled = boolean(k, v)?,
            "reconfigEnabled" => self.reconfig_enabled = boolean(k, v)?,
            "localSessionsEnabled" => self.local_sessions_enabled = boolean(k, v)?,
            "localSessionsUpgradingEnabled" => {
                self.local_sessions_upgrading_enabled = boolean(k, v)?
            }
            "4lw.commands.whitelist" => self.four_letter_whitelist = whitelist(v),
            "jute.maxbuffer" => {
                let n = decode_int(k, v)?;
                if n <= 0 {
                    return Err(bad(k, v, "must be positive"));
                }
                self.jute_max_buffer = n as u32;
            }
            "DigestAuthenticationProvider.superDigest" => {
                if !v.contains(':') {
                    return Err(bad(k, v, "is not of the form user:digest"));
                }
                self.super_digest = Some(v.to_string());
            }
            "extendedTypesEnabled" => self.extended_types_enabled = boolean(k, v)?,
            "znode.container.checkIntervalMs" => self.container_check_interval_ms = num(k, v)?,
            "znode.container.maxPerMinute" => self.container_max_per_minute = num(k, v)?,
            "linearizableReads" => self.linearizable_reads = boolean(k, v)?,
            "electionAlg" => {
                if num::<i32>(k, v)? != 3 {
                    return Err(bad(k, v, "is not supported: only 3 is"));
                }
                self.properties.insert(k.to_string(), v.to_string());
            }
            "dynamicConfigFile" => {
                return Err(bad(k, v, "is not supported: list server.N in zoo.cfg"));
            }
            _ if k.starts_with("server.") => {
                let id_str = &k["server.".len()..];
                let id: u64 = id_str
                    .parse()
                    .map_err(|_| bad(k, v, "has a server id that is not a number"))?;
                if servers.contains_key(&id) {
                    return Err(bad(k, v, "repeats a server id"));
                }
                servers.insert(id, ServerEntry::parse(id, v)?);
            }
            _ => {
                if OTHER_BOOL_KEYS.contains(&k) {
                    boolean(k, v)?;
                } else if OTHER_INT_KEYS.contains(&k) {
                    num::<i32>(k, v)?;
                }
                self.properties.insert(k.to_string(), v.to_string());
            }
        }
        Ok(())
    }

    /// The cross-key checks of parseProperties and parseDynamicConfig.
    fn finish(&mut self, p: Pending) -> Result<()> {
        self.data_dir = p
            .data_dir
            .ok_or_else(|| Error::Config("dataDir is not set".to_string()))?;
        self.data_log_dir = p.data_log_dir.unwrap_or_else(|| self.data_dir.clone());
        if !p.client_port_set && self.client_port_address.is_some() {
            return Err(Error::Config(
                "clientPortAddress is set but clientPort is not set".to_string(),
            ));
        }
        if self.secure_client_port.is_none() && self.secure_client_port_address.is_some() {
            return Err(Error::Config(
                "secureClientPortAddress is set but secureClientPort is not set".to_string(),
            ));
        }
        if self.tick_time == 0 {
            return Err(Error::Config("tickTime: '0' must be positive".to_string()));
        }
        self.min_session_timeout = p
            .min_session_timeout
            .unwrap_or(self.tick_time.saturating_mul(2));
        self.max_session_timeout = p
            .max_session_timeout
            .unwrap_or(self.tick_time.saturating_mul(20));
        if self.min_session_timeout > self.max_session_timeout {
            return Err(Error::Config(format!(
                "minSessionTimeout ({}) must not be larger than maxSessionTimeout ({})",
                self.min_session_timeout, self.max_session_timeout
            )));
        }
        let participants = self
            .servers
            .iter()
            .filter(|s| s.role == Role::Participant)
            .count();
        let observers = self.servers.len() - participants;
        if participants == 0 {
            if !self.standalone_enabled {
                return Err(Error::Config(
                    "standaloneEnabled is false, so at least one participant server.N is needed"
                        .to_string(),
                ));
            }
            if observers > 0 {
                return Err(Error::Config(
                    "observers without participants is an invalid configuration".to_string(),
                ));
            }
        } else if participants == 1 && self.standalone_enabled && observers > 0 {
            return Err(Error::Config(
                "observers without a quorum is an invalid configuration".to_string(),
            ));
        }
        if self.is_distributed() {
            if self.init_limit == 0 {
                return Err(Error::Config("initLimit is not set".to_string()));
            }
            if self.sync_limit == 0 {
                return Err(Error::Config("syncLimit is not set".to_string()));
            }
        }
        Ok(())
    }

    /// Reads a zoo.cfg file the way `zkServer.sh start` does: relative
    /// dataDir/dataLogDir are taken against the current directory, the
    /// `myid` file in dataDir gives this member's id, and a distributed
    /// configuration without one is refused.
    pub fn load(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        // Properties.load(InputStream) reads ISO-8859-1; accept UTF-8 first.
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => e.as_bytes().iter().map(|b| char::from(*b)).collect(),
        };
        let mut cfg = Config::parse(&text)
            .map_err(|e| Error::Config(format!("{}: {}", path.display(), strip(e))))?;
        cfg.data_dir = absolute(&cfg.data_dir)?;
        cfg.data_log_dir = absolute(&cfg.data_log_dir)?;
        if let Some(id) = read_myid(&cfg.data_dir)? {
            cfg.set_server_id(id)?;
        } else if cfg.is_distributed() {
            return Err(Error::Config(format!(
                "myid file is missing in {}",
                cfg.data_dir.display()
            )));
        }
        Ok(cfg)
    }

    /// Makes `id` this member's id and takes from its server.N line what
    /// ZooKeeper takes (setupClientPort, setupPeerType): the client
    /// address, which must agree with clientPort/clientPortAddress when both
    /// are given, and the role.
    pub fn set_server_id(&mut self, id: u64) -> Result<()> {
        self.server_id = Some(id);
        let Some(me) = self.servers.iter().find(|s| s.id == id) else {
            return Ok(());
        };
        self.peer_type = me.role;
        if let Some((host, port)) = &me.client_addr {
            if let Some(cp) = self.client_port {
                let addr = self.client_port_address.as_deref().unwrap_or("0.0.0.0");
                let wildcard = matches!(addr, "0.0.0.0" | "::" | "[::]");
                if cp != *port || (!wildcard && addr != host) {
                    return Err(Error::Config(format!(
                        "client address {addr}:{cp} differs from server.{id}'s {host}:{port}"
                    )));
                }
            }
            self.client_port = Some(*port);
            self.client_port_address = Some(host.clone());
        }
        Ok(())
    }

    /// True for an ensemble run (QuorumPeerConfig.isDistributed): more than
    /// one participant, or standalone mode turned off.
    pub fn is_distributed(&self) -> bool {
        let participants = self
            .servers
            .iter()
            .filter(|s| s.role == Role::Participant)
            .count();
        participants > 1 || (!self.standalone_enabled && participants > 0)
    }

    /// Whether a four-letter word may answer.
    pub fn is_4lw_enabled(&self, cmd: &str) -> bool {
        self.four_letter_whitelist.contains(cmd)
    }

    /// The server.N entry of this member, if it has an id and is listed.
    pub fn me(&self) -> Option<&ServerEntry> {
        let id = self.server_id?;
        self.servers.iter().find(|s| s.id == id)
    }

    /// What the `conf` four-letter word prints, in ZooKeeper's order
    /// (ZooKeeperServer.dumpConf, plus QuorumZooKeeperServer's keys when
    /// distributed). Sizes are read from disk now. Without a bound socket
    /// to ask, ports are the configured ones (-1 when none).
    pub fn to_conf_lines(&self) -> Vec<(String, String)> {
        let abs = |p: &Path| {
            absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        };
        let mut lines: Vec<(&str, String)> = vec![
            (
                "clientPort",
                self.client_port.map_or(-1, i32::from).to_string(),
            ),
            (
                "secureClientPort",
                self.secure_client_port.map_or(-1, i32::from).to_string(),
            ),
            ("dataDir", abs(&self.data_dir)),
            ("dataDirSize", dir_size(&self.data_dir).to_string()),
            ("dataLogDir", abs(&self.data_log_dir)),
            ("dataLogSize", dir_size(&self.data_log_dir).to_string()),
            ("tickTime", self.tick_time.to_string()),
            ("maxClientCnxns", self.max_client_cnxns.to_string()),
            ("minSessionTimeout", self.min_session_timeout.to_string()),
            ("maxSessionTimeout", self.max_session_timeout.to_string()),
            (
                "clientPortListenBacklog",
                self.client_port_listen_backlog.to_string(),
            ),
        ];
        if !self.is_distributed() {
            // A standalone ZooKeeperServer reports id 0.
            lines.push(("serverId", "0".to_string()));
        } else {
            let me = self.me();
            lines.push(("serverId", self.server_id.unwrap_or(0).to_string()));
            lines.push(("initLimit", self.init_limit.to_string()));
            lines.push(("syncLimit", self.sync_limit.to_string()));
            lines.push(("electionAlg", "3".to_string()));
            lines.push((
                "electionPort",
                me.map_or(String::new(), |m| m.election_port.to_string()),
            ));
            lines.push((
                "quorumPort",
                me.map_or(String::new(), |m| m.peer_port.to_string()),
            ));
            lines.push(("peerType", self.peer_type.ordinal().to_string()));
        }
        lines.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The ensemble as ZooKeeper writes it in /zookeeper/config and after
    /// `membership: ` in `conf`: one `server.N=...` line per member, then
    /// `version=<hex>`.
    pub fn membership(&self, version: u64) -> String {
        let mut s = String::new();
        for e in &self.servers {
            s.push_str(&format!("server.{}={e}\n", e.id));
        }
        s.push_str(&format!("version={version:x}"));
        s
    }
}

fn path(key: &str, value: &str) -> Result<PathBuf> {
    if value.is_empty() {
        return Err(bad(key, value, "is empty"));
    }
    Ok(PathBuf::from(value))
}

fn strip(e: Error) -> String {
    match e {
        Error::Config(m) => m,
        other => other.to_string(),
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(Error::from)
}

/// `snapshot.compression.method`: `gz`, `snappy`, or empty for none.
/// ZooKeeper takes a name it does not know for none; here it is an error.
fn snapshot_compression(props: &BTreeMap<String, String>) -> Result<Compression> {
    let Some((key, name)) = property(props, "snapshot.compression.method") else {
        return Ok(Compression::None);
    };
    Compression::from_name(name).ok_or_else(|| bad(key, name, "is not gz, snappy or empty"))
}

/// A key as written in zoo.cfg or as its `zookeeper.` system property
/// (ZooKeeper reads many settings either way): the key found and its value.
pub fn property<'a>(props: &'a BTreeMap<String, String>, key: &str) -> Option<(&'a str, &'a str)> {
    props
        .get_key_value(key)
        .or_else(|| props.get_key_value(&format!("zookeeper.{key}")))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Bytes in the files under `dir`, recursively (ZooKeeperServer.getDirSize);
/// 0 for a missing directory.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// Reads `<data_dir>/myid`: None when there is no such file (a standalone
/// member needs none), an error when its first line is not a number.
pub fn read_myid(data_dir: impl AsRef<Path>) -> Result<Option<u64>> {
    let file = data_dir.as_ref().join("myid");
    if !file.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&file)?;
    let first = text.lines().next().unwrap_or("").trim();
    first.parse().map(Some).map_err(|_| {
        Error::Config(format!(
            "serverid '{first}' in {} is not a number",
            file.display()
        ))
    })
}

#[cfg(test)]
mod tests;
