//! `Ensemble`: a throw-away zkrs ensemble running inside the Node process,
//! on the core runtime: members on 127.0.0.1 with free ports and temporary
//! data directories, replicating over real TCP.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use napi_derive::napi;
use tokio::sync::Mutex;
use zkrs::embed::{Ensemble as CoreEnsemble, EnsembleOptions as CoreOptions};

use crate::error::ZkResult;
use crate::runtime::on_core;

/// How to start an ensemble; every field is optional.
#[napi(object)]
#[derive(Default)]
pub struct EnsembleOptions {
    /// Voting members; 3 by default (1 is a standalone member).
    pub members: Option<u32>,
    /// Observers (non-voting); 0 by default.
    pub observers: Option<u32>,
    /// tickTime in milliseconds; 200 by default.
    pub tick_time: Option<u32>,
    /// Parent of the members' data directories; a fresh temporary one
    /// (removed on stop) by default.
    pub data_dir: Option<String>,
}

/// A running in-process ensemble. Members are numbered from 0 (voting
/// members first, then observers).
#[napi]
pub struct Ensemble {
    inner: Arc<Mutex<Option<CoreEnsemble>>>,
    connect: String,
}

#[napi]
impl Ensemble {
    /// Starts every member; resolves once all serve under one leader.
    #[napi(ts_return_type = "Promise<Ensemble>")]
    pub async fn start(options: Option<EnsembleOptions>) -> ZkResult<Ensemble> {
        let o = options.unwrap_or_default();
        let defaults = CoreOptions::default();
        let opts = CoreOptions {
            members: o.members.map_or(defaults.members, |n| n as usize),
            observers: o.observers.map_or(defaults.observers, |n| n as usize),
            tick_time_ms: o.tick_time.unwrap_or(defaults.tick_time_ms),
            data_dir: o.data_dir.map(PathBuf::from),
        };
        on_core(CoreEnsemble::start(opts)).await.map(|e| Ensemble {
            connect: e.connect_string(),
            inner: Arc::new(Mutex::new(Some(e))),
        })
    }

    /// Every member's "127.0.0.1:port", comma-separated, for
    /// `new Client(ensemble.connectString)`.
    #[napi(getter)]
    pub fn connect_string(&self) -> String {
        self.connect.clone()
    }

    /// Index of the current leader; null during an election, after stop,
    /// or while a stopMember/startMember call is under way.
    #[napi(getter)]
    pub fn leader(&self) -> Option<u32> {
        let guard = self.inner.try_lock().ok()?;
        guard.as_ref()?.leader().map(|i| i as u32)
    }

    /// Stops member `i`; its data stays. Stopping a stopped member
    /// resolves at once; an unknown index rejects with BADARGUMENTS.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn stop_member(&self, i: u32) -> ZkResult<()> {
        let inner = self.inner.clone();
        on_core(async move {
            match inner.lock().await.as_mut() {
                Some(e) => e.stop_member(i as usize).await,
                None => Err(zkrs::Error::BadArguments),
            }
        })
        .await
    }

    /// Starts member `i` again; resolves once the ensemble serves.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn start_member(&self, i: u32) -> ZkResult<()> {
        let inner = self.inner.clone();
        on_core(async move {
            match inner.lock().await.as_mut() {
                Some(e) => {
                    e.start_member(i as usize).await?;
                    e.wait_serving(Duration::from_secs(30)).await
                }
                None => Err(zkrs::Error::BadArguments),
            }
        })
        .await
    }

    /// Cuts member `i` off from the other members, as a network partition
    /// would; its clients still reach it (a cut-off leader stops serving
    /// and the others elect a new one; clients move with their sessions).
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn isolate_member(&self, i: u32) -> ZkResult<()> {
        self.cut(i, true).await
    }

    /// Ends `isolateMember(i)`: the member rejoins and catches up.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn heal_member(&self, i: u32) -> ZkResult<()> {
        self.cut(i, false).await
    }

    /// Stops every member; later calls resolve at once.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn stop(&self) -> ZkResult<()> {
        let inner = self.inner.clone();
        on_core(async move {
            if let Some(e) = inner.lock().await.take() {
                e.stop().await;
            }
            Ok(())
        })
        .await
    }
}

impl Ensemble {
    async fn cut(&self, i: u32, on: bool) -> ZkResult<()> {
        let inner = self.inner.clone();
        on_core(async move {
            match inner.lock().await.as_ref() {
                Some(e) if on => e.isolate_member(i as usize).await,
                Some(e) => e.heal_member(i as usize).await,
                None => Err(zkrs::Error::BadArguments),
            }
        })
        .await
    }
}
