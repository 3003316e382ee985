//! The two HTTP endpoints ZooKeeper 3.6+ opens besides the client port:
//! the AdminServer (`admin.*`, on by default on 8080) and the Prometheus
//! metrics provider (`metricsProvider.*`, off unless its class is named).
//! ZooKeeper reads the `admin.*` keys as `zookeeper.admin.*` system
//! properties; either spelling works here.

use std::collections::BTreeMap;

use super::{bad, boolean, num, property as get};
use crate::error::Result;

/// ZooKeeper's Prometheus provider; naming it turns `/metrics` on.
pub const PROMETHEUS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
/// ZooKeeper's default provider: metrics only through `mntr`.
const DEFAULT_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";

/// Where an HTTP endpoint listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpEndpoint {
    pub address: String,
    pub port: u16,
}

/// The AdminServer's settings (`JettyAdminServer`'s defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSettings {
    /// None: `admin.enableServer=false`.
    pub endpoint: Option<HttpEndpoint>,
    /// `admin.commandURL`, "/commands" by default.
    pub command_url: String,
}

impl AdminSettings {
    /// Off: zkrs's own default without a zoo.cfg (a development member).
    pub fn disabled() -> AdminSettings {
        AdminSettings {
            endpoint: None,
            command_url: "/commands".into(),
        }
    }

    /// As ZooKeeper reads them from a zoo.cfg: on, 0.0.0.0:8080.
    pub fn from_properties(props: &BTreeMap<String, String>) -> Result<AdminSettings> {
        let enabled = match get(props, "admin.enableServer") {
            Some((k, v)) => boolean(k, v)?,
            None => true,
        };
        let port = match get(props, "admin.serverPort") {
            Some((k, v)) => num(k, v)?,
            None => 8080,
        };
        let address = get(props, "admin.serverAddress").map_or("0.0.0.0", |(_, v)| v);
        let command_url = get(props, "admin.commandURL").map_or("/commands", |(_, v)| v);
        if !command_url.starts_with('/') {
            return Err(bad("admin.commandURL", command_url, "must start with '/'"));
        }
        Ok(AdminSettings {
            endpoint: enabled.then(|| HttpEndpoint {
                address: address.to_string(),
                port,
            }),
            command_url: command_url.trim_end_matches('/').to_string(),
        })
    }
}

/// `metricsProvider.className` and, for the Prometheus provider,
/// `metricsProvider.httpHost` (0.0.0.0) and `metricsProvider.httpPort`
/// (7000). Any other class is refused: zkrs cannot load Java classes.
pub fn metrics_endpoint(props: &BTreeMap<String, String>) -> Result<Option<HttpEndpoint>> {
    let Some(class) = props.get("metricsProvider.className") else {
        return Ok(None);
    };
    match class.as_str() {
        DEFAULT_PROVIDER => return Ok(None),
        PROMETHEUS_PROVIDER => {}
        other => {
            return Err(bad(
                "metricsProvider.className",
                other,
                "is not supported: only ZooKeeper's PrometheusMetricsProvider and \
                 DefaultMetricsProvider are",
            ))
        }
    }
    let port = match props.get("metricsProvider.httpPort") {
        Some(v) => num("metricsProvider.httpPort", v)?,
        None => 7000,
    };
    let address = props
        .get("metricsProvider.httpHost")
        .map_or("0.0.0.0", |v| v.as_str());
    Ok(Some(HttpEndpoint {
        address: address.to_string(),
        port,
    }))
}
