//! The two HTTP endpoints ZooKeeper serves besides the client port:
//! the AdminServer (`GET /commands/<name>`, ZooKeeper 3.8's command set,
//! aliases and JSON shapes) and the Prometheus provider's `/metrics`.
//! Both read the same picture of the member as the four-letter words
//! ([`ServerInfo`]); a port that cannot be bound is logged and skipped, as
//! ZooKeeper does ("Problem starting AdminServer"), never fatal.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{server_info, Shared};
use crate::config::{HttpEndpoint, Role, ServerEntry};
use crate::consensus::Mode;
use crate::fourlw::{self, ConnInfo, ServerInfo};
use crate::member::SummarySnapshot;

/// ZooKeeper's commands: primary name (what `"command"` reports) and the
/// four-letter alias, if any (`Commands.java`).
const COMMANDS: &[(&str, Option<&str>)] = &[
    ("configuration", Some("conf")),
    ("connection_stat_reset", Some("crst")),
    ("connections", Some("cons")),
    ("dirs", None),
    ("dump", None),
    ("environment", Some("envi")),
    ("get_trace_mask", Some("gtmk")),
    ("hash", None),
    ("initial_configuration", Some("icfg")),
    ("is_read_only", Some("isro")),
    ("last_snapshot", Some("lsnp")),
    ("leader", Some("lead")),
    ("monitor", Some("mntr")),
    ("observer_connection_stat_reset", Some("orst")),
    ("observers", Some("obsr")),
    ("ruok", None),
    ("server_stats", Some("srvr")),
    ("set_trace_mask", Some("stmk")),
    ("stat_reset", Some("srst")),
    ("stats", Some("stat")),
    ("system_properties", Some("sysp")),
    ("voting_view", None),
    ("watch_summary", Some("wchs")),
    ("watches", Some("wchc")),
    ("watches_by_path", Some("wchp")),
    ("zabstate", None),
];

/// Commands that answer even when the member is not serving.
const ALWAYS: &[&str] = &[
    "configuration",
    "dirs",
    "environment",
    "get_trace_mask",
    "initial_configuration",
    "is_read_only",
    "ruok",
    "set_trace_mask",
    "system_properties",
    "voting_view",
    "zabstate",
    "leader",
];

const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// Starts the admin server and the metrics endpoint that zoo.cfg asks for.
pub(super) async fn start(
    shared: &Arc<Shared>,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let cfg = &shared.db.config;
    let mut tasks = Vec::new();
    if let Some(at) = &cfg.admin.endpoint {
        let url = cfg.admin.command_url.clone();
        let app = Router::new()
            .route(&url, get(list))
            .route(&format!("{url}/"), get(list))
            .route(&format!("{url}/{{name}}"), get(command))
            .with_state(shared.clone());
        if let Some(t) = serve("admin server", at, app, stop.clone()).await {
            tasks.push(t);
        }
    }
    if let Some(at) = &cfg.metrics_http {
        let app = Router::new()
            .route("/metrics", get(metrics))
            .with_state(shared.clone());
        if let Some(t) = serve("Prometheus metrics", at, app, stop.clone()).await {
            tasks.push(t);
        }
    }
    tasks
}

async fn serve(
    what: &str,
    at: &HttpEndpoint,
    app: Router,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let addr = format!("{}:{}", at.address, at.port);
    let listener = match TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("cannot start the {what} on {addr}: {e}; going on without it");
            return None;
        }
    };
    let bound = listener.local_addr().map_or(addr, |a| a.to_string());
    tracing::info!("{what} on http://{bound}");
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    Some(tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        if let Err(e) = served {
            tracing::warn!("the HTTP server stopped: {e}");
        }
    }))
}

/// `GET /commands`: links to every command, as ZooKeeper's servlet lists
/// them.
async fn list(State(shared): State<Arc<Shared>>) -> Html<String> {
    let url = &shared.db.config.admin.command_url;
    let mut out = String::new();
    for (name, _) in COMMANDS {
        out.push_str(&format!("<a href=\"{url}/{name}\">{name}</a>\n<br/>\n"));
    }
    Html(out)
}

async fn command(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(args): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let body = serde_json::to_string_pretty(&run(&shared, &name, &args)).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body)
}

/// One command's JSON: its fields, then `"command"` (the primary name)
/// and `"error"` (null, or why it could not run).
pub(super) fn run(shared: &Shared, name: &str, args: &HashMap<String, String>) -> Value {
    let Some(primary) = COMMANDS
        .iter()
        .find(|(n, alias)| *n == name || *alias == Some(name))
        .map(|(n, _)| *n)
    else {
        return json!({"command": name, "error": format!("Unknown command: {name}")});
    };
    let info = server_info(shared);
    let result = if info.not_serving && !ALWAYS.contains(&primary) {
        Err(NOT_SERVING.to_string())
    } else {
        fields(shared, primary, &info, args)
    };
    let mut out = match result {
        Ok(Value::Object(m)) => m,
        Ok(_) => Map::new(),
        Err(e) => {
            let mut m = Map::new();
            m.insert("error".into(), Value::String(e));
            m
        }
    };
    out.insert("command".into(), Value::String(primary.into()));
    out.entry("error").or_insert(Value::Null);
    Value::Object(out)
}

fn fields(
    shared: &Shared,
    name: &str,
    info: &ServerInfo,
    args: &HashMap<String, String>,
) -> Result<Value, String> {
    let db = &shared.db;
    Ok(match name {
        "ruok" => json!({}),
        "configuration" => configuration(shared),
        "connection_stat_reset" | "observer_connection_stat_reset" => {
            db.reset_conn_stats();
            json!({})
        }
        "stat_reset" => {
            db.stats.reset();
            json!({})
        }
        "connections" => json!({
            "connections": info.connections.iter().map(conn_full).collect::<Vec<_>>(),
            "secure_connections": [],
        }),
        "dirs" => json!({"datadir_size": info.data_dir_size, "logdir_size": info.log_dir_size}),
        "dump" => dump(info),
        "environment" => pairs(&info.env),
        "system_properties" => json!(db.config.properties),
        "get_trace_mask" => json!({"tracemask": fourlw::DEFAULT_TRACE_MASK}),
        "set_trace_mask" => match args.get("traceMask").and_then(|v| v.parse::<i64>().ok()) {
            Some(mask) => json!({"tracemask": mask}),
            None => return Err("setTraceMask requires long traceMask argument".into()),
        },
        // zkrs keeps no digest log (ZooKeeper's `digest.enabled`).
        "hash" => json!({"digests": []}),
        "initial_configuration" => json!({"initial_configuration": db.config.initial_text}),
        "is_read_only" => json!({"read_only": info.read_only}),
        "last_snapshot" => last_snapshot(shared),
        "leader" => leader(shared)?,
        "monitor" => monitor(info),
        "observers" => json!({
            "synced_observers": info.synced_observers.unwrap_or(0),
            "observers": [],
        }),
        "server_stats" => server_stats(info, false),
        "stats" => server_stats(info, true),
        "voting_view" => voting_view(shared),
        "watch_summary" => watch_summary(info),
        "watches" => json!({"session_id_to_watched_paths": info
            .watches_by_connection
            .iter()
            .map(|(sid, paths)| (sid.to_string(), json!(paths)))
            .collect::<Map<_, _>>()}),
        "watches_by_path" => json!({"path_to_session_ids": info
            .watches_by_path
            .iter()
            .map(|(path, sids)| (path.clone(), json!(sids)))
            .collect::<Map<_, _>>()}),
        "zabstate" => zabstate(shared),
        _ => json!({}),
    })
}

fn pairs(kv: &[(String, String)]) -> Value {
    Value::Object(
        kv.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A figure as JSON: a number when it reads as one (as Jackson writes
/// ZooKeeper's longs and doubles), else the text.
fn number_or_text(v: &str) -> Value {
    if let Ok(n) = v.parse::<i64>() {
        return json!(n);
    }
    match v.parse::<f64>() {
        Ok(f) if f.is_finite() => json!(f),
        _ => Value::String(v.to_string()),
    }
}

fn monitor(info: &ServerInfo) -> Value {
    Value::Object(
        fourlw::monitor(info)
            .into_iter()
            .map(|(k, v)| {
                let value = match k.as_str() {
                    "version" | "server_state" | "peer_state" => Value::String(v),
                    _ => number_or_text(&v),
                };
                (k, value)
            })
            .collect(),
    )
}

/// `ZooKeeperServer.getConf()` as `ConfCommand` reports it.
fn configuration(shared: &Shared) -> Value {
    let c = &shared.db.config;
    json!({
        "client_port": c.client_port.map_or(-1, i32::from),
        "data_dir": shared.data_dir.display().to_string(),
        "data_log_dir": shared.log_dir.display().to_string(),
        "tick_time": c.tick_time,
        "max_client_cnxns": c.max_client_cnxns,
        "min_session_timeout": c.min_session_timeout,
        "max_session_timeout": c.max_session_timeout,
        "server_id": c.server_id.filter(|_| c.is_distributed()).unwrap_or(0),
        "client_port_listen_backlog": c.client_port_listen_backlog,
    })
}

fn buffer_sizes(info: &ServerInfo) -> Value {
    let s = info.client_response_sizes.unwrap_or_default();
    json!({"last_buffer_size": s.last, "min_buffer_size": s.min, "max_buffer_size": s.max})
}

/// `StatCommand` / `StatResetCommand`'s `server_stats` and friends.
fn server_stats(info: &ServerInfo, with_connections: bool) -> Value {
    let mut out = json!({
        "version": info.version,
        "read_only": info.read_only,
        "server_stats": {
            "packets_sent": info.packets_sent,
            "packets_received": info.packets_received,
            "fsync_threshold_exceed_count": 0,
            "client_response_stats": buffer_sizes(info),
            "data_dir_size": info.data_dir_size,
            "log_dir_size": info.log_dir_size,
            "provider_null": false,
            "server_state": info.mode,
            "last_processed_zxid": info.zxid,
            "outstanding_requests": info.outstanding_requests,
            "avg_latency": info.avg_latency_ms,
            "max_latency": info.max_latency_ms,
            "min_latency": info.min_latency_ms,
            "num_alive_client_connections": info.connections.len(),
            "auth_failed_count": info.auth_failed_count,
            "non_mtlsremote_conn_count": info.non_mtls_remote_conn_count,
            "non_mtlslocal_conn_count": info.non_mtls_local_conn_count,
            "uptime": info.uptime_ms,
        },
        "client_response": buffer_sizes(info),
        "node_count": info.node_count,
    });
    if let Some(p) = info.proposal_sizes {
        out["proposal_stats"] =
            json!({"last_buffer_size": p.last, "min_buffer_size": p.min, "max_buffer_size": p.max});
    }
    if with_connections {
        out["connections"] = json!(info.connections.iter().map(conn_brief).collect::<Vec<_>>());
        out["secure_connections"] = json!([]);
    }
    out
}

fn socket_addr(c: &ConnInfo) -> String {
    let ip = match c.peer.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.to_string(), |v4| v4.to_string()),
        ip => ip.to_string(),
    };
    format!("{ip}:{}", c.peer.port())
}

fn conn_brief(c: &ConnInfo) -> Value {
    json!({
        "remote_socket_address": socket_addr(c),
        "interest_ops": c.interest_ops,
        "outstanding_requests": c.queued,
        "packets_received": c.received,
        "packets_sent": c.sent,
    })
}

fn conn_full(c: &ConnInfo) -> Value {
    let mut v = conn_brief(c);
    let more = json!({
        "session_id": c.session_id,
        "last_operation": c.last_op,
        "established": c.established_ms,
        "session_timeout": c.timeout_ms,
        "last_cxid": c.last_cxid,
        "last_zxid": c.last_zxid,
        "last_response_time": c.last_response_ms,
        "last_latency": c.last_latency_ms,
        "min_latency": c.min_latency_ms,
        "avg_latency": c.avg_latency_ms,
        "max_latency": c.max_latency_ms,
    });
    if let (Some(m), Value::Object(extra)) = (v.as_object_mut(), more) {
        m.extend(extra);
    }
    v
}

fn dump(info: &ServerInfo) -> Value {
    let expiry: Map<String, Value> = info
        .session_expiry
        .iter()
        .map(|(t, sids)| (t.to_string(), json!(sids)))
        .collect();
    let ephemerals: Map<String, Value> = info
        .sessions_with_ephemerals
        .iter()
        .map(|(sid, paths)| (sid.to_string(), json!(paths)))
        .collect();
    json!({
        "expiry_time_to_session_ids": expiry,
        "session_id_to_ephemeral_paths": ephemerals,
    })
}

fn watch_summary(info: &ServerInfo) -> Value {
    let mut paths: Vec<&String> = info
        .watches_by_connection
        .iter()
        .flat_map(|(_, p)| p)
        .collect();
    let total = paths.len();
    paths.sort_unstable();
    paths.dedup();
    json!({
        "num_connections": info.watches_by_connection.len(),
        "num_paths": paths.len(),
        "num_total_watches": total,
    })
}

/// The newest snapshot file: its log position (hex, as ZooKeeper writes a
/// snapshot's zxid) and when it was written (epoch seconds).
fn last_snapshot(shared: &Shared) -> Value {
    let dir = shared.data_dir.join("snapshots");
    let newest = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let index: u64 = name.strip_prefix("snap-")?.parse().ok()?;
            Some((index, e))
        })
        .max_by_key(|(index, _)| *index);
    match newest {
        Some((index, e)) => {
            let secs = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            json!({"zxid": format!("{index:x}"), "timestamp": secs})
        }
        None => json!({"zxid": "0", "timestamp": 0}),
    }
}

fn leader(shared: &Shared) -> Result<Value, String> {
    if shared.consensus.mode() == Mode::Standalone {
        return Err("server is not initialized".into());
    }
    let status = shared.consensus.status();
    let me = shared.db.config.server_id.unwrap_or(0);
    let ip = status
        .leader
        .and_then(|id| members(shared).into_iter().find(|s| s.id == id))
        .map(|s| s.host);
    Ok(json!({
        "is_leader": status.leader == Some(me) && shared.consensus.is_leader(),
        "leader_id": status.leader.map_or(-1, |l| l as i64),
        "leader_ip": ip,
    }))
}

/// The current membership: `/zookeeper/config` once a reconfig wrote it,
/// else zoo.cfg's `server.N` lines.
fn members(shared: &Shared) -> Vec<ServerEntry> {
    let text = shared.db.view(|s| {
        s.tree
            .get_data(crate::state::CONFIG_NODE)
            .ok()
            .and_then(|(d, _)| d)
            .map(|d| String::from_utf8_lossy(&d).to_string())
    });
    let dynamic: Vec<ServerEntry> = text
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            let id = key.trim().strip_prefix("server.")?.parse().ok()?;
            ServerEntry::parse(id, value.trim()).ok()
        })
        .collect();
    if dynamic.is_empty() {
        shared.db.config.servers.clone()
    } else {
        dynamic
    }
}

fn voting_view(shared: &Shared) -> Value {
    let view: Map<String, Value> = members(shared)
        .into_iter()
        .map(|s| {
            let client = s
                .client_addr
                .as_ref()
                .map_or(String::new(), |(h, p)| format!("{h}:{p}"));
            let entry = json!({
                "server_addresses": [format!("{}:{}", s.host, s.peer_port)],
                "election_addresses": [format!("{}:{}", s.host, s.election_port)],
                "client_address": client,
                "learner_type": if s.role == Role::Observer { "observer" } else { "participant" },
            });
            (s.id.to_string(), entry)
        })
        .collect();
    json!({"current_config": view})
}

/// Java's `MultipleAddresses` as Jackson writes it, for one address.
fn multiple_addresses(host: &str, port: u16) -> Value {
    let one = format!("{host}:{port}");
    json!({
        "empty": false,
        "all_addresses": [one],
        "all_reachable_addresses": [one],
        "one": one,
        "reachable_address": one,
        "wildcard_addresses": [format!("0.0.0.0:{port}")],
        "all_ports": [port],
        "all_host_strings": [host],
        "all_reachable_addresses_or_all": [one],
        "reachable_or_one": one,
    })
}

/// `ZabStateCommand`: this member's place in the protocol.
fn zabstate(shared: &Shared) -> Value {
    let mode = shared.consensus.mode();
    if mode == Mode::Standalone {
        return json!({"voting": false, "zabstate": ""});
    }
    let me = shared.db.config.server_id.unwrap_or(0);
    let status = shared.consensus.status();
    let entry = members(shared).into_iter().find(|s| s.id == me);
    let (quorum, election, client) = match &entry {
        Some(s) => (
            multiple_addresses(&s.host, s.peer_port),
            multiple_addresses(&s.host, s.election_port),
            s.client_addr
                .as_ref()
                .map_or(String::new(), |(h, p)| format!("{h}:{p}")),
        ),
        None => (Value::Null, Value::Null, String::new()),
    };
    let state = match mode {
        Mode::Looking => "election",
        _ => "broadcast",
    };
    let last_zxid = shared.db.last_zxid();
    json!({
        "myid": me,
        "is_leader": mode == Mode::Leader,
        "quorum_address": quorum,
        "election_address": election,
        "client_address": client,
        "voting": entry.is_some_and(|s| s.role != Role::Observer),
        "last_zxid": format!("{last_zxid:#x}"),
        "zab_epoch": status.term,
        "zab_counter": last_zxid & 0xffff_ffff,
        "zabstate": state,
    })
}

// ---- Prometheus ----

/// `GET /metrics`: the text exposition of everything `mntr` shows, with
/// ZooKeeper's metric names (its Prometheus provider exports the `mntr`
/// names without `zk_`), plus zkrs's replication lags and per-op latency.
async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let scrape = Scrape::take(&shared);
    let mut registry = Registry::default();
    registry.register_collector(Box::new(scrape));
    let mut body = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut body, &registry) {
        tracing::warn!("cannot encode metrics: {e}");
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

/// One scrape's figures, owned so the encoder needs no lock.
#[derive(Debug)]
struct Scrape {
    gauges: Vec<(String, String, f64)>,
    summaries: Vec<(String, String, SummarySnapshot)>,
    per_op: Vec<(&'static str, SummarySnapshot)>,
    learner_lag: Vec<(u64, u64)>,
}

impl Scrape {
    fn take(shared: &Shared) -> Scrape {
        let info = server_info(shared);
        let stats = &shared.db.stats;
        let summaries = stats.summaries();
        let is_summary_line = |k: &str| summaries.iter().any(|(n, _, _)| k.ends_with(n));
        let mut gauges: Vec<(String, String, f64)> = fourlw::monitor(&info)
            .into_iter()
            .filter(|(k, _)| !is_summary_line(k))
            .filter_map(|(k, v)| Some((k.clone(), format!("ZooKeeper's {k}"), v.parse().ok()?)))
            .collect();
        let status = shared.consensus.status();
        gauges.push((
            "apply_lag".into(),
            "log entries this member holds but has not applied".into(),
            status.last_log_index.saturating_sub(status.last_applied) as f64,
        ));
        gauges.push((
            "zab_epoch".into(),
            "the current term (ZooKeeper's epoch)".into(),
            status.term as f64,
        ));
        Scrape {
            gauges,
            summaries: summaries
                .iter()
                .map(|(name, help, s)| (name.to_string(), help.to_string(), s.snapshot()))
                .collect(),
            per_op: stats.per_op(),
            learner_lag: status.learner_lag,
        }
    }
}

impl prometheus_client::collector::Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (name, help, v) in &self.gauges {
            let m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            ConstGauge::new(*v).encode(m)?;
        }
        for (name, help, s) in &self.summaries {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
            m.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                s.sum_ms,
                s.count,
                &s.buckets(),
                None,
            )?;
        }
        if !self.per_op.is_empty() {
            let help = "request latency by opcode, ms (zkrs)";
            let mut m =
                encoder.encode_descriptor("request_latency", help, None, MetricType::Histogram)?;
            for (op, s) in &self.per_op {
                let labels = [("op", *op)];
                let mut f = m.encode_family(&labels)?;
                f.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    s.sum_ms,
                    s.count,
                    &s.buckets(),
                    None,
                )?;
            }
        }
        if !self.learner_lag.is_empty() {
            let help = "log entries each member lacks (leader only, zkrs)";
            let mut m = encoder.encode_descriptor("learner_lag", help, None, MetricType::Gauge)?;
            for (id, lag) in &self.learner_lag {
                let labels = [("server_id", id.to_string())];
                let f = m.encode_family(&labels)?;
                ConstGauge::new(*lag as i64).encode(f)?;
            }
        }
        Ok(())
    }
}
