//! Run a member inside any process: the one facade the C, Python and Node
//! bindings call. A [`Member`] is a standalone member serving clients on a
//! loopback port of its own; [`blocking::Member`] drives it from threads
//! that have no async runtime (FFI callers), on the process-wide runtime.
//! [`Ensemble`] runs several replicating members in one process.

pub mod blocking;
mod ensemble;

pub use ensemble::{Ensemble, EnsembleOptions};

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::server::Server;
use crate::Error;

/// How to start a member. Unset fields take ZooKeeper's defaults; the
/// data directory is a fresh temporary one unless given.
#[derive(Debug, Clone, Default)]
pub struct MemberOptions {
    /// zoo.cfg text; when set, the fields below override its keys.
    pub zoo_cfg: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// 0 (the default) picks a free port.
    pub client_port: u16,
    pub tick_time_ms: Option<u32>,
    /// Keep the data directory when the member stops (temporary ones are
    /// removed otherwise).
    pub keep_data: bool,
}

/// A running in-process member.
pub struct Member {
    server: Server,
    temp_dir: Option<PathBuf>,
}

pub(crate) fn temp_data_dir() -> Result<PathBuf, Error> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let name = format!(
            "zkrs-member-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        let dir = base.join(name);
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err(Error::Io(format!(
        "cannot create a data directory under {}",
        base.display()
    )))
}

fn build_config(opts: &MemberOptions, data_dir: &Path) -> Result<Config, Error> {
    let mut cfg = match &opts.zoo_cfg {
        Some(text) => Config::parse(text)?,
        // An embedded member answers every four-letter word: it is a
        // development and test tool first.
        None => Config {
            four_letter_whitelist: crate::config::FOUR_LETTER_WORDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ..Config::default()
        },
    };
    if opts.zoo_cfg.is_none() || opts.data_dir.is_some() {
        cfg.data_dir = data_dir.to_path_buf();
        cfg.data_log_dir = data_dir.to_path_buf();
    }
    if opts.zoo_cfg.is_none() || opts.client_port != 0 {
        cfg.client_port = Some(opts.client_port);
    }
    if cfg.client_port_address.is_none() {
        cfg.client_port_address = Some("127.0.0.1".into());
    }
    if let Some(tick) = opts.tick_time_ms {
        cfg.tick_time = tick;
        cfg.min_session_timeout = 2 * tick;
        cfg.max_session_timeout = 20 * tick;
    }
    Ok(cfg)
}

impl Member {
    /// Starts a member and returns once it serves clients.
    pub async fn start(opts: MemberOptions) -> Result<Member, Error> {
        let (data_dir, temp_dir) = match (&opts.data_dir, &opts.zoo_cfg) {
            (Some(d), _) => (d.clone(), None),
            (None, Some(_)) => (PathBuf::new(), None),
            (None, None) => {
                let d = temp_data_dir()?;
                (d.clone(), (!opts.keep_data).then_some(d))
            }
        };
        let cfg = build_config(&opts, &data_dir)?;
        let server = Server::start(cfg).await?;
        Ok(Member { server, temp_dir })
    }

    /// Starts a member from zoo.cfg text, as `zkrs server` would.
    pub async fn from_zoo_cfg(text: &str) -> Result<Member, Error> {
        Member::start(MemberOptions {
            zoo_cfg: Some(text.to_string()),
            ..Default::default()
        })
        .await
    }

    /// "host:port" for clients.
    pub fn connect_string(&self) -> String {
        self.server.addr().to_string()
    }

    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// Stops serving; sessions stay in the data directory (a temporary one
    /// is removed).
    pub async fn stop(self) {
        self.server.stop().await;
        if let Some(dir) = self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
