//! The client front end of a member: TCP accept on the client port (with
//! maxClientCnxns per address), ZooKeeper's handshake and request pipeline
//! per connection (`conn`), four-letter words, and the leader's background
//! duties (session expiry, container and TTL reaping).

mod admin;
mod conn;
mod ops;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::config::Role;
pub use crate::consensus::Mode;
use crate::consensus::{Consensus, GroupOptions, Peer, StorageOptions};
use crate::fourlw::{self, ServerInfo};
use crate::member::ZkDatabase;
use crate::state::{Txn, TxnOp};
use crate::tls::{QuorumTls, ReloadingAcceptor, TlsSettings};
use crate::Error;

/// The version zkrs reports where ZooKeeper reports its own: clients that
/// gate features on 3.5+ see a 3.8 server.
pub const ZK_VERSION: &str = "3.8.4";

/// What every connection shares.
pub(crate) struct Shared {
    pub db: Arc<ZkDatabase>,
    pub consensus: Consensus,
    /// This member process's claim on the sessions its clients use
    /// (`Txn::owner`): random, so a restarted member is a new owner.
    pub owner: u64,
    next_conn: AtomicU64,
    per_ip: Mutex<HashMap<IpAddr, u32>>,
    data_dir: PathBuf,
    log_dir: PathBuf,
    /// `X509AuthenticationProvider.superUser`: a certificate subject that
    /// is the super user.
    pub x509_super_user: Option<String>,
    /// SASL DIGEST-MD5 users (the JAAS file's `Server` section).
    pub sasl_users: Option<crate::sasl::SaslUsers>,
    /// `zookeeper.superUser`: a SASL user that is the super user.
    pub sasl_super_user: Option<String>,
    /// `enforce.auth.enabled`: the schemes (`enforce.auth.schemes`) one of
    /// which a connection must hold before its requests are served.
    pub enforce_auth: Option<Vec<String>>,
    /// `enforceQuota`: writes past a hard quota limit are refused.
    pub enforce_quota: bool,
}

impl Shared {
    /// ZooKeeper's `readonlymode.enabled` (a system property there; a
    /// zoo.cfg key here).
    pub fn read_only_enabled(&self) -> bool {
        let props = &self.db.config.properties;
        ["readonlymode.enabled", "zookeeper.readonlymode.enabled"]
            .iter()
            .any(|k| props.get(*k).is_some_and(|v| v.trim() == "true"))
    }

    /// Serving read-only clients only (no quorum, read-only mode on).
    pub fn in_read_only_mode(&self) -> bool {
        self.consensus.mode() == Mode::Looking && self.read_only_enabled()
    }
}

/// A running member serving clients.
pub struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Opens the data directory, recovers, binds the client port and serves.
    pub async fn start(config: Config) -> Result<Server, Error> {
        let config = Arc::new(config);
        let data_dir = config.data_dir.join("zkrs");
        let log_dir = config.data_log_dir.join("zkrs").join("log");
        let opts = StorageOptions {
            log_dir: log_dir.clone(),
            snapshot_dir: data_dir.join("snapshots"),
            snap_count: config.snap_count as u64,
            snapshot_compression: config.snapshot_compression,
            snap_retain_count: config.autopurge_snap_retain_count as usize,
        };
        let bind = client_addr(&config)?;
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|e| Error::Io(format!("cannot listen on {bind}: {e}")))?;
        let addr = listener.local_addr()?;
        let secure = secure_listener(&config).await?;
        let client_port = client_port_mode(&config)?;
        let db = Arc::new(ZkDatabase::new(config.clone()));
        let group = GroupOptions {
            node_id: config.server_id.unwrap_or(1).max(1),
            peers: peers_of(&config),
            storage: opts,
            tick_ms: config.tick_time as u64,
            sync_limit: config.sync_limit.max(1) as u64,
            peer_tls: quorum_tls(&config)?,
            peer_auth: quorum_auth(&config)?,
            listen_on_all_ips: is_true(&config, "quorumListenOnAllIPs"),
            reconfig_enabled: config.reconfig_enabled,
        };
        let consensus = Consensus::start(group, db.clone()).await?;
        let shared = Arc::new(Shared {
            db,
            consensus,
            owner: rand::random::<u64>().max(1),
            next_conn: AtomicU64::new(1),
            per_ip: Mutex::new(HashMap::new()),
            data_dir,
            log_dir,
            x509_super_user: property(&config, "X509AuthenticationProvider.superUser"),
            sasl_users: sasl_users(&config)?,
            sasl_super_user: property(&config, "superUser"),
            enforce_auth: enforce_auth(&config)?,
            enforce_quota: property(&config, "enforceQuota").as_deref() == Some("true"),
        });
        let (stop, stop_rx) = watch::channel(false);
        // The HTTP endpoints first: once the client port answers, a
        // caller may go on to scrape them.
        let http = admin::start(&shared, &stop_rx).await;
        let mut tasks = vec![
            tokio::spawn(accept_loop(
                shared.clone(),
                listener,
                client_port,
                stop_rx.clone(),
            )),
            tokio::spawn(expire_sessions(shared.clone(), stop_rx.clone())),
            tokio::spawn(expire_local_sessions(shared.clone(), stop_rx.clone())),
            tokio::spawn(reap_nodes(shared.clone(), stop_rx.clone())),
            tokio::spawn(follow_mode(shared.clone(), stop_rx.clone())),
            tokio::spawn(forward_touches(shared.clone(), stop_rx.clone())),
        ];
        tasks.extend(http);
        if let Some((listener, tls)) = secure {
            let at = listener.local_addr()?;
            tracing::info!("serving TLS clients on {at}");
            let stop = stop_rx.clone();
            tasks.push(tokio::spawn(accept_loop(
                shared.clone(),
                listener,
                Port::Tls(tls),
                stop,
            )));
        }
        tracing::info!("serving clients on {addr}");
        Ok(Server {
            shared,
            addr,
            stop,
            tasks,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, ends background tasks and the replication engine.
    /// Sessions stay in the state; they expire after a restart as usual.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
        // Connection tasks are not in `tasks`: close them, or a stopped
        // member keeps answering pings and clients never fail over.
        self.shared.db.close_all_connections();
        self.shared.consensus.shutdown().await;
    }

    /// This member's role now.
    /// Cuts this member off from the other members (true) or heals it
    /// (false), as a network partition would; its clients still reach it.
    /// For tests of how code rides out a partition.
    pub async fn set_cut_off(&self, on: bool) {
        self.shared.consensus.set_cut(on).await;
    }

    pub fn mode(&self) -> Mode {
        self.shared.consensus.mode()
    }

    /// Takes a snapshot now (tools and tests).
    pub async fn snapshot_now(&self) -> Result<(), Error> {
        self.shared.consensus.snapshot_now().await
    }
}

/// The replication group from `server.N` lines (empty: standalone).
fn peers_of(config: &Config) -> Vec<Peer> {
    config
        .servers
        .iter()
        .map(|s| Peer {
            id: s.id,
            spec: s.to_string(),
            observer: s.role == Role::Observer,
        })
        .collect()
}

/// A zoo.cfg key, or the same as a `zookeeper.` system property.
fn property(config: &Config, key: &str) -> Option<String> {
    crate::config::property(&config.properties, key).map(|(_, v)| v.to_string())
}

/// A boolean key zoo.cfg's parse has already checked is true or false.
fn is_true(config: &Config, key: &str) -> bool {
    property(config, key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The JAAS file (`java.security.auth.login.config`, a JVM system property
/// for ZooKeeper, a zoo.cfg key here) and its section
/// (`zookeeper.sasl.serverconfig`, default `Server`). A file without that
/// section (holding only the quorum's, say) leaves clients without SASL,
/// as in ZooKeeper.
fn sasl_users(config: &Config) -> Result<Option<crate::sasl::SaslUsers>, Error> {
    let Some(path) = config.properties.get("java.security.auth.login.config") else {
        return Ok(None);
    };
    let section = property(config, "sasl.serverconfig").unwrap_or_else(|| "Server".into());
    let users = crate::sasl::SaslUsers::from_jaas_file_if_there(Path::new(path), &section)?;
    if users.is_none() {
        tracing::info!("{path} has no '{section}' section: clients log in without SASL");
    }
    Ok(users)
}

/// Quorum SASL (`quorum.auth.*`), checked as ZooKeeper checks it: with
/// `enableSasl` the JAAS file's `QuorumServer` section (or
/// `quorum.auth.server.saslLoginContext`) holds who may log in and its
/// `QuorumLearner` section (`quorum.auth.learner.saslLoginContext`) the
/// login this member dials with when `learnerRequireSasl` is on.
fn quorum_auth(config: &Config) -> Result<crate::consensus::QuorumAuth, Error> {
    let on = |key: &str| {
        config
            .properties
            .get(&format!("quorum.auth.{key}"))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    let (enable, learner, server) = (
        on("enableSasl"),
        on("learnerRequireSasl"),
        on("serverRequireSasl"),
    );
    let needs = |off: &str, on: &str| {
        Err(Error::Config(format!(
            "quorum.auth.{off} is disabled, so cannot enable quorum.auth.{on}"
        )))
    };
    match (enable, learner, server) {
        (false, _, true) => return needs("enableSasl", "serverRequireSasl"),
        (false, true, _) => return needs("enableSasl", "learnerRequireSasl"),
        (_, false, true) => return needs("learnerRequireSasl", "serverRequireSasl"),
        (false, false, false) => return Ok(Default::default()),
        _ => {}
    }
    let jaas = config
        .properties
        .get("java.security.auth.login.config")
        .ok_or_else(|| {
            Error::Config(
                "quorum.auth.enableSasl needs java.security.auth.login.config (a JAAS file)".into(),
            )
        })?;
    let section = |key: &str, default: &str| {
        let key = format!("quorum.auth.{key}.saslLoginContext");
        config
            .properties
            .get(&key)
            .cloned()
            .unwrap_or_else(|| default.into())
    };
    let jaas = Path::new(jaas);
    let users = crate::sasl::SaslUsers::from_jaas_file(jaas, &section("server", "QuorumServer"))?;
    let login =
        crate::sasl::SaslClient::from_jaas_file(jaas, &section("learner", "QuorumLearner"))?;
    Ok(crate::consensus::QuorumAuth {
        learner: learner.then_some(login),
        server: Some(Arc::new(users)),
        server_requires: server,
    })
}

/// ZooKeeper 3.8's `enforce.auth.enabled` / `enforce.auth.schemes` (a
/// comma list of auth provider schemes; an unknown one stops the start).
fn enforce_auth(config: &Config) -> Result<Option<Vec<String>>, Error> {
    if property(config, "enforce.auth.enabled").as_deref() != Some("true") {
        return Ok(None);
    }
    let schemes: Vec<String> = property(config, "enforce.auth.schemes")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if schemes.is_empty() {
        return Err(Error::Config(
            "enforce.auth.enabled=true needs enforce.auth.schemes".into(),
        ));
    }
    if let Some(bad) = schemes.iter().find(|s| !crate::tree::is_auth_scheme(s)) {
        return Err(Error::Config(format!(
            "enforce.auth.schemes: '{bad}' is not an authentication scheme"
        )));
    }
    Ok(Some(schemes))
}

/// `sslQuorum=true`: links between members use TLS with the
/// `ssl.quorum.*` stores, both sides presenting their certificate;
/// `portUnification=true`: plain links are taken too (zoo.cfg checked
/// both keys are true or false).
fn quorum_tls(config: &Config) -> Result<Option<QuorumTls>, Error> {
    let (dial_tls, accept_plain) = (
        is_true(config, "sslQuorum"),
        is_true(config, "portUnification"),
    );
    let key = match (dial_tls, accept_plain) {
        (false, false) => return Ok(None),
        (true, _) => "sslQuorum",
        (false, true) => "portUnification",
    };
    let settings = TlsSettings::from_properties(&config.properties, "ssl.quorum.")?
        .ok_or_else(|| Error::Config(format!("{key}=true needs ssl.quorum.keyStore.location")))?;
    Ok(Some(QuorumTls {
        settings,
        dial_tls,
        accept_plain,
    }))
}

/// The `secureClientPort` listener with its TLS settings (`ssl.*`), bound
/// now so a bad certificate or a taken port stops the start.
async fn secure_listener(
    config: &Config,
) -> Result<Option<(TcpListener, Arc<ReloadingAcceptor>)>, Error> {
    let Some(port) = config.secure_client_port else {
        return Ok(None);
    };
    let settings = TlsSettings::from_properties(&config.properties, "ssl.")?.ok_or_else(|| {
        Error::Config("secureClientPort needs ssl.keyStore.location (and a trust store)".into())
    })?;
    let tls = Arc::new(ReloadingAcceptor::new(settings)?);
    let host = config
        .secure_client_port_address
        .clone()
        .or_else(|| config.client_port_address.clone())
        .unwrap_or_else(|| "0.0.0.0".into());
    let ip: IpAddr = host.parse().map_err(|_| {
        Error::Config(format!(
            "secureClientPortAddress: '{host}' is not an IP address"
        ))
    })?;
    let bind = SocketAddr::new(ip, port);
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|e| Error::Io(format!("cannot listen on {bind}: {e}")))?;
    Ok(Some((listener, tls)))
}

/// How a client listener takes its connections.
enum Port {
    Plain,
    /// `secureClientPort`: TLS only.
    Tls(Arc<ReloadingAcceptor>),
    /// `client.portUnification` on the client port: TLS for a client that
    /// opens with a TLS handshake, plain for the others (ZooKeeper's
    /// DualModeSslHandler), so clients move to TLS one by one.
    Unified(Arc<ReloadingAcceptor>),
}

/// The client port's mode: unified with `client.portUnification=true`
/// (also `zookeeper.client.portUnification`), which takes the `ssl.*`
/// stores of the secure port.
fn client_port_mode(config: &Config) -> Result<Port, Error> {
    let key = "client.portUnification";
    if !crate::tls::flag(key, property(config, key).as_deref(), false)? {
        return Ok(Port::Plain);
    }
    let settings = TlsSettings::from_properties(&config.properties, "ssl.")?.ok_or_else(|| {
        Error::Config(format!(
            "{key}=true needs ssl.keyStore.location (and a trust store)"
        ))
    })?;
    Ok(Port::Unified(Arc::new(ReloadingAcceptor::new(settings)?)))
}

fn client_addr(config: &Config) -> Result<SocketAddr, Error> {
    let host = config
        .client_port_address
        .clone()
        .unwrap_or_else(|| "0.0.0.0".into());
    let port = config
        .client_port
        .ok_or_else(|| Error::Config("clientPort is not set".into()))?;
    let ip: IpAddr = host
        .parse()
        .map_err(|_| Error::Config(format!("clientPortAddress: '{host}' is not an IP address")))?;
    Ok(SocketAddr::new(ip, port))
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    port: Port,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if !admit(&shared, peer.ip()) {
            let st = &shared.db.stats;
            st.connection_rejected.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("too many connections from {} (maxClientCnxns)", peer.ip());
            continue;
        }
        let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
        let s = shared.clone();
        let tls = match &port {
            Port::Plain => None,
            Port::Tls(t) => Some((t.current(), false)),
            Port::Unified(t) => Some((t.current(), true)),
        };
        tokio::spawn(async move {
            if let Some((rd, wr, who)) = open(stream, peer, tls).await {
                conn::serve(s.clone(), rd, wr, who, id).await;
            }
            release(&s, peer.ip());
        });
    }
}

/// The connection's two directions, after the TLS handshake if the port
/// has one (bounded: a client that never completes it is dropped). With
/// `(tls, true)` (a unified port) only a client that opens with a TLS
/// record gets the handshake.
async fn open(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<(tokio_rustls::TlsAcceptor, bool)>,
) -> Option<(conn::Rd, conn::Wr, conn::Remote)> {
    let _ = stream.set_nodelay(true);
    let tls = match tls {
        Some((tls, true)) => opens_tls(&stream, peer).await?.then_some(tls),
        Some((tls, false)) => Some(tls),
        None => None,
    };
    let Some(tls) = tls else {
        // A second handle, through which the core writes watch events to an
        // idle connection itself (see member::EventQueue).
        let socket = stream.as_fd().try_clone_to_owned().ok().map(Into::into);
        let (rd, wr) = stream.into_split();
        let who = conn::Remote {
            addr: peer,
            x509: None,
            socket,
        };
        return Some((Box::new(rd), Box::new(wr), who));
    };
    let stream = match tokio::time::timeout(TLS_HANDSHAKE, tls.accept(stream)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::info!("TLS handshake with {peer} failed: {e}");
            return None;
        }
        Err(_) => {
            tracing::info!("TLS handshake with {peer} timed out");
            return None;
        }
    };
    let x509 = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(crate::tls::subject_name);
    let (rd, wr) = tokio::io::split(stream);
    let who = conn::Remote {
        addr: peer,
        x509,
        socket: None,
    };
    Some((Box::new(rd), Box::new(wr), who))
}

/// ZooKeeper's `ssl.handshakeDetectionTimeoutMillis` default.
const TLS_HANDSHAKE: Duration = Duration::from_secs(5);

/// On a unified port: whether the client opens with a TLS handshake.
/// None: it closed, or sent nothing in time.
async fn opens_tls(stream: &TcpStream, peer: SocketAddr) -> Option<bool> {
    let tls = crate::tls::opens_with_client_hello(stream, TLS_HANDSHAKE).await;
    if tls.is_none() {
        tracing::info!("{peer} closed or sent nothing within {TLS_HANDSHAKE:?}");
    }
    tls
}

fn admit(shared: &Shared, ip: IpAddr) -> bool {
    let max = shared.db.config.max_client_cnxns;
    let mut per_ip = crate::lock(&shared.per_ip);
    let n = per_ip.entry(ip).or_insert(0);
    if max > 0 && *n >= max {
        return false;
    }
    *n += 1;
    true
}

fn release(shared: &Shared, ip: IpAddr) {
    let mut per_ip = crate::lock(&shared.per_ip);
    if let Some(n) = per_ip.get_mut(&ip) {
        *n -= 1;
        if *n == 0 {
            per_ip.remove(&ip);
        }
    }
}

/// Every tick, the leader closes the sessions past their deadline. It acts
/// only in a term it leads with a fresh quorum ack, and it re-arms every
/// session with a full timeout first when it starts leading a term and
/// after a pause of its own (SIGSTOP, a stalled machine): it cannot know
/// which touches it missed meanwhile, and ZooKeeper's promise is that a
/// session whose client keeps talking to some member stays alive.
async fn expire_sessions(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let tick = Duration::from_millis(shared.db.config.tick_time.max(10) as u64);
    let pause = tick * 2 + Duration::from_millis(500);
    let mut armed_term = None;
    let mut last_round = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.changed() => return,
        }
        let paused = last_round.elapsed() > pause;
        last_round = std::time::Instant::now();
        let Some(term) = shared.consensus.leading_term() else {
            if armed_term.take().is_some() {
                shared.db.stats.set_leading_since(None);
            }
            continue;
        };
        if armed_term != Some(term) || paused {
            tracing::info!("leading term {term}: every session gets a full timeout from now");
            shared.db.rearm_sessions();
            if armed_term != Some(term) {
                shared.db.stats.set_leading_since(Some(last_round));
            }
            armed_term = Some(term);
            continue;
        }
        let expired = shared.db.take_expired();
        for session in expired {
            tracing::info!("expiring session {session:#x} (term {term})");
            let s = shared.clone();
            tokio::spawn(async move {
                match s.consensus.expire_session(session, term).await {
                    Ok(true) => {
                        let expired = &s.db.stats.stale_sessions_expired;
                        expired.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => s.db.retry_expiry(session),
                }
            });
        }
    }
}

/// Every member expires its own local sessions, whatever its role: the
/// rest of the ensemble never hears of them.
async fn expire_local_sessions(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    if !shared.db.config.local_sessions_enabled {
        return;
    }
    let tick = Duration::from_millis(shared.db.config.tick_time.max(10) as u64);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.changed() => return,
        }
        shared.db.expire_local_sessions();
    }
}

/// Every container check interval, the leader proposes the removal of
/// empty containers and expired TTL nodes (at most maxPerMinute a minute).
async fn reap_nodes(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let cfg = &shared.db.config;
    let interval = Duration::from_millis(cfg.container_check_interval_ms.max(10) as u64);
    let per_round = ((cfg.container_max_per_minute as u64 * interval.as_millis() as u64) / 60_000)
        .max(1) as usize;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        if shared.consensus.leading_term().is_none() {
            continue;
        }
        let due = shared.db.view(|state| {
            let mut due = state.tree.empty_containers();
            due.extend(state.tree.expired_ttls(crate::types::wall_clock_ms()));
            due
        });
        for path in due.into_iter().take(per_round) {
            let txn = Txn {
                session: 0,
                owner: 0,
                time: 0, // the leader stamps its own clock
                auth: Arc::new([]),
                super_user: true,
                op: TxnOp::ReapNode { path }.into(),
            };
            let _ = shared.consensus.propose(txn).await;
        }
    }
}

/// Follows this member's role. A member that lost its leader, or its
/// quorum as leader, holds its clients for `Consensus::hold` (their
/// requests wait for the next leader, their pending writes settle with it;
/// elections take well under that), and drops them if it is still without
/// a leader then, so they move to a member that has one (as ZooKeeper
/// does). (A new leader's sessions are re-armed by `expire_sessions`, in
/// the same task that expires them, so no expiry can run before the
/// re-arm.)
async fn follow_mode(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut mode = shared.consensus.watch_mode();
    let mut was = *mode.borrow();
    let hold = shared.consensus.hold();
    let mut drop_at: Option<tokio::time::Instant> = None;
    let mut looking_since: Option<std::time::Instant> = None;
    loop {
        let deadline = drop_at.unwrap_or_else(|| tokio::time::Instant::now() + hold);
        tokio::select! {
            changed = mode.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep_until(deadline), if drop_at.is_some() => {
                tracing::info!("still no leader after {hold:?}: dropping clients");
                shared.db.close_all_connections();
                drop_at = None;
                continue;
            }
            _ = stop.changed() => return,
        }
        let now = *mode.borrow_and_update();
        tracing::info!("member is now {}", now.as_str());
        // Leaving "looking" drops the read-only clients, which must come
        // back as normal sessions; normal ones are served as they are.
        if now == Mode::Looking {
            if was != Mode::Looking {
                shared
                    .db
                    .stats
                    .looking_count
                    .fetch_add(1, Ordering::Relaxed);
                looking_since = Some(std::time::Instant::now());
                drop_at = Some(tokio::time::Instant::now() + hold);
            }
            shared.consensus.reset_leader_link().await;
        } else {
            drop_at = None;
            if let Some(since) = looking_since.take() {
                let us = since.elapsed().as_micros() as u64;
                shared.db.stats.election_time.observe_us(us);
                shared.db.stats.unavailable_time.observe_us(us);
            }
            if was == Mode::Looking {
                shared.db.close_read_only_connections();
            }
        }
        was = now;
    }
}

/// Followers and observers pass their clients' liveness to the leader.
async fn forward_touches(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_millis((shared.db.config.tick_time as u64 / 2).max(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        // Bounded: a leader that just became unreachable must not hold up
        // the touches meant for the next one.
        let touched = shared.db.take_touched();
        let _ = tokio::time::timeout(every, shared.consensus.touch(touched)).await;
    }
}

/// Answers a four-letter word (whitelist first, as ZooKeeper does).
fn four_letter_word(shared: &Shared, word: &str) -> String {
    let cfg = &shared.db.config;
    if !cfg.is_4lw_enabled(word) {
        return fourlw::not_whitelisted(word);
    }
    match word {
        "srst" => shared.db.stats.reset(),
        "crst" => shared.db.reset_conn_stats(),
        _ => {}
    }
    fourlw::respond(word, &server_info(shared))
}

/// A plain-data picture of the member for the four-letter words.
fn server_info(shared: &Shared) -> ServerInfo {
    let db = &shared.db;
    let st = &db.stats;
    let count = st.latency_count.load(Ordering::Relaxed);
    let mut info = ServerInfo {
        version: fourlw::full_version(
            &format!("{ZK_VERSION}-zkrs-{}", env!("CARGO_PKG_VERSION")),
            "zkrs",
            "n/a",
        ),
        mode: match shared.in_read_only_mode() {
            true => "read-only".into(),
            false => shared.consensus.mode().as_str().into(),
        },
        not_serving: shared.consensus.mode() == Mode::Looking && !shared.read_only_enabled(),
        read_only: shared.in_read_only_mode(),
        min_latency_ms: (st.latency_min_us.load(Ordering::Relaxed) / 1000) as i64,
        avg_latency_ms: fourlw::avg_latency(
            st.latency_total_us.load(Ordering::Relaxed) / 1000,
            count,
        ),
        max_latency_ms: (st.latency_max_us.load(Ordering::Relaxed) / 1000) as i64,
        packets_received: st.packets_received.load(Ordering::Relaxed),
        packets_sent: st.packets_sent.load(Ordering::Relaxed),
        outstanding_requests: st.outstanding.load(Ordering::Relaxed).max(0) as u64,
        uptime_ms: db.started.elapsed().as_millis() as i64,
        open_file_descriptor_count: fourlw::open_fd_count(),
        max_file_descriptor_count: fourlw::max_fd_count(),
        data_dir_size: crate::config::dir_size(&shared.data_dir),
        log_dir_size: crate::config::dir_size(&shared.log_dir),
        conf: db.config.to_conf_lines(),
        env: fourlw::env_lines(&format!("{ZK_VERSION}-zkrs-{}", env!("CARGO_PKG_VERSION"))),
        ..Default::default()
    };
    let summary = match shared.consensus.mode() {
        // A standalone member leads a group of one: nothing to report.
        Mode::Standalone => None,
        _ => shared.consensus.replication_summary(),
    };
    if let Some(r) = summary {
        info.learners = Some(r.followers + r.observers);
        info.synced_followers = Some(r.synced_followers);
        info.synced_observers = Some(r.synced_observers);
        info.synced_non_voting_followers = Some(0);
        info.pending_syncs = Some(0);
        info.quorum_size = Some(r.quorum_size);
        info.followers = Some(r.followers);
        info.proposal_sizes = Some(fourlw::BufferSizes {
            last: st.proposal_last.load(Ordering::Relaxed),
            min: st.proposal_min.load(Ordering::Relaxed),
            max: st.proposal_max.load(Ordering::Relaxed),
        });
    }
    let count = |name: &str, v: &std::sync::atomic::AtomicU64| {
        (name.to_string(), v.load(Ordering::Relaxed).to_string())
    };
    info.counters = vec![
        count("commit_count", &st.commit_count),
        count("looking_count", &st.looking_count),
        count("proposal_count", &st.proposal_count),
        count("connection_request_count", &st.connection_request_count),
        count("bytes_received_count", &st.bytes_received_count),
        count("response_bytes", &st.response_bytes),
        count("connection_rejected", &st.connection_rejected),
        count("unsuccessful_handshake", &st.unsuccessful_handshake),
        count("auth_failed_count", &st.auth_failed_count),
        count("stale_sessions_expired", &st.stale_sessions_expired),
    ];
    let standalone = shared.consensus.mode() == Mode::Standalone;
    if let Some(since) = st.leading_since().filter(|_| !standalone) {
        let ms = since.elapsed().as_millis().to_string();
        info.counters.push(("leader_uptime".to_string(), ms));
    }
    for (name, _, s) in st.summaries() {
        info.counters.extend(s.snapshot().mntr_pairs(name));
    }
    db.describe(&mut info);
    info
}
