//! A throw-away ensemble inside one process, for tests and demos: members
//! on 127.0.0.1 with free ports and temporary data directories, replicating
//! over real TCP exactly as separate processes would.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::server::{Mode, Server};
use crate::Error;

/// How to start an ensemble.
#[derive(Debug, Clone)]
pub struct EnsembleOptions {
    /// Voting members (1 is a standalone member).
    pub members: usize,
    /// Observers (non-voting).
    pub observers: usize,
    pub tick_time_ms: u32,
    /// Parent of the members' data directories (a temporary one if None,
    /// removed when the ensemble stops).
    pub data_dir: Option<PathBuf>,
}

impl Default for EnsembleOptions {
    fn default() -> Self {
        EnsembleOptions {
            members: 3,
            observers: 0,
            tick_time_ms: 200,
            data_dir: None,
        }
    }
}

struct Slot {
    config: Config,
    server: Option<Server>,
}

/// A running in-process ensemble.
pub struct Ensemble {
    slots: Vec<Slot>,
    temp_dir: Option<PathBuf>,
}

/// `n` distinct free ports: every listener is held until all are picked,
/// so the system cannot hand the same port out twice.
fn free_ports(n: usize) -> Result<Vec<u16>, Error> {
    let held = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    held.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// Tries of a whole start: a port picked free can be taken (by some
/// connection's local end) before its member binds it.
const START_TRIES: usize = 3;

fn member_config(
    opts: &EnsembleOptions,
    id: usize,
    dir: &std::path::Path,
    servers: &str,
    port: u16,
) -> Result<Config, Error> {
    let text = format!(
        "tickTime={tick}\ninitLimit=10\nsyncLimit=5\ndataDir={dir}\nclientPort={port}\n\
         clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nextendedTypesEnabled=true\n{servers}",
        tick = opts.tick_time_ms,
        dir = dir.display(),
    );
    let mut cfg = Config::parse(&text)?;
    cfg.set_server_id(id as u64)?;
    Ok(cfg)
}

impl Ensemble {
    /// Starts every member and returns once all of them serve clients
    /// under one leader.
    pub async fn start(opts: EnsembleOptions) -> Result<Ensemble, Error> {
        let total = opts.members + opts.observers;
        if opts.members == 0 {
            return Err(Error::Config(
                "an ensemble needs at least one voting member".into(),
            ));
        }
        // A retry needs fresh data directories: only with a temporary one.
        let tries = if opts.data_dir.is_none() {
            START_TRIES
        } else {
            1
        };
        let mut last = Error::OperationTimeout;
        for _ in 0..tries {
            match Self::start_once(&opts, total).await {
                Ok(e) => return Ok(e),
                Err(e @ Error::Io(_)) => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    async fn start_once(opts: &EnsembleOptions, total: usize) -> Result<Ensemble, Error> {
        let (base, temp_dir) = match &opts.data_dir {
            Some(d) => (d.clone(), None),
            None => {
                let d = super::temp_data_dir()?;
                (d.clone(), Some(d))
            }
        };
        let ports = free_ports(3 * total)?;
        let mut servers = String::new();
        let mut client_ports = Vec::new();
        for id in 1..=total {
            let role = if id > opts.members { ":observer" } else { "" };
            let p = &ports[3 * (id - 1)..3 * id];
            servers.push_str(&format!("server.{id}=127.0.0.1:{}:{}{role}\n", p[0], p[1]));
            client_ports.push(p[2]);
        }
        let standalone = total == 1;
        let mut slots = Vec::new();
        for id in 1..=total {
            let dir = base.join(format!("member{id}"));
            std::fs::create_dir_all(&dir)?;
            let peers = if standalone { "" } else { servers.as_str() };
            let config = member_config(opts, id, &dir, peers, client_ports[id - 1])?;
            slots.push(Slot {
                config,
                server: None,
            });
        }
        let mut e = Ensemble { slots, temp_dir };
        for i in 0..total {
            if let Err(err) = e.start_member(i).await {
                e.stop().await; // frees the ports and a temporary directory
                return Err(err);
            }
        }
        e.wait_serving(Duration::from_secs(30)).await?;
        Ok(e)
    }

    /// Waits until every running member has a leader.
    pub async fn wait_serving(&self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        loop {
            let ready = self
                .slots
                .iter()
                .filter_map(|s| s.server.as_ref())
                .all(|s| s.mode() != Mode::Looking);
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::OperationTimeout);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// (Re)starts member `i` (0-based) on its data directory.
    pub async fn start_member(&mut self, i: usize) -> Result<(), Error> {
        let slot = self.slots.get_mut(i).ok_or(Error::BadArguments)?;
        if slot.server.is_none() {
            slot.server = Some(Server::start(slot.config.clone()).await?);
        }
        Ok(())
    }

    /// Stops member `i` (its data stays, so it can be started again).
    pub async fn stop_member(&mut self, i: usize) -> Result<(), Error> {
        let slot = self.slots.get_mut(i).ok_or(Error::BadArguments)?;
        if let Some(s) = slot.server.take() {
            s.stop().await;
        }
        Ok(())
    }

    /// Cuts member `i` off from the other members, as a network partition
    /// would (nothing refused or reset: packets just do not arrive). Its
    /// clients still reach it: a cut-off leader stops serving after
    /// syncLimit ticks and the others elect a new one; a cut-off follower
    /// stops serving once it has lost its leader, so clients move to
    /// another member with their sessions. BadArguments for a member not
    /// running.
    pub async fn isolate_member(&self, i: usize) -> Result<(), Error> {
        self.running(i)?.set_cut_off(true).await;
        Ok(())
    }

    /// Ends `isolate_member(i)`: the member rejoins and catches up.
    pub async fn heal_member(&self, i: usize) -> Result<(), Error> {
        self.running(i)?.set_cut_off(false).await;
        Ok(())
    }

    fn running(&self, i: usize) -> Result<&Server, Error> {
        let slot = self.slots.get(i).ok_or(Error::BadArguments)?;
        slot.server.as_ref().ok_or(Error::BadArguments)
    }

    /// Index of the current leader among running members.
    pub fn leader(&self) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.server.as_ref().is_some_and(|s| s.mode() == Mode::Leader))
    }

    pub fn mode(&self, i: usize) -> Option<Mode> {
        self.slots.get(i)?.server.as_ref().map(|s| s.mode())
    }

    /// Every member's client address, comma-separated (a ZooKeeper
    /// connect string).
    pub fn connect_string(&self) -> String {
        let addrs: Vec<String> = self
            .slots
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.config.client_port.unwrap_or(0)))
            .collect();
        addrs.join(",")
    }

    /// One member's client address.
    pub fn member_address(&self, i: usize) -> Option<String> {
        self.slots
            .get(i)
            .map(|s| format!("127.0.0.1:{}", s.config.client_port.unwrap_or(0)))
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Stops every member; a temporary data directory is removed.
    pub async fn stop(mut self) {
        for i in 0..self.slots.len() {
            let _ = self.stop_member(i).await;
        }
        if let Some(d) = self.temp_dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
