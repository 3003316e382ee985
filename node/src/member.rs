//! `Member`: a zkrs ensemble member running inside the Node process, on
//! the core runtime, serving clients on a loopback port of its own.

use std::path::PathBuf;
use std::sync::Mutex;

use napi_derive::napi;
use zkrs::embed::{Member as CoreMember, MemberOptions as CoreOptions};

use crate::error::ZkResult;
use crate::runtime::on_core;

/// How to start a member; every field is optional.
#[napi(object)]
#[derive(Default)]
pub struct MemberOptions {
    /// zoo.cfg text; the fields below override its keys.
    pub zoo_cfg: Option<String>,
    /// Data directory; a fresh temporary one (removed on stop) by default.
    pub data_dir: Option<String>,
    /// Client port; 0 (the default) picks a free one.
    pub client_port: Option<u16>,
    /// tickTime in milliseconds (session timeouts are 2..20 ticks).
    pub tick_time: Option<u32>,
    /// Keep a temporary data directory after stop.
    pub keep_data: Option<bool>,
}

/// A running in-process member.
#[napi]
pub struct Member {
    inner: Mutex<Option<CoreMember>>,
    connect: String,
}

#[napi]
impl Member {
    /// Starts a member; resolves once it serves clients.
    #[napi(ts_return_type = "Promise<Member>")]
    pub async fn start(options: Option<MemberOptions>) -> ZkResult<Member> {
        let o = options.unwrap_or_default();
        let opts = CoreOptions {
            zoo_cfg: o.zoo_cfg,
            data_dir: o.data_dir.map(PathBuf::from),
            client_port: o.client_port.unwrap_or(0),
            tick_time_ms: o.tick_time,
            keep_data: o.keep_data.unwrap_or(false),
        };
        on_core(CoreMember::start(opts)).await.map(|m| Member {
            connect: m.connect_string(),
            inner: Mutex::new(Some(m)),
        })
    }

    /// "127.0.0.1:port", for `new Client(member.connectString)`.
    #[napi(getter)]
    pub fn connect_string(&self) -> String {
        self.connect.clone()
    }

    /// Stops serving; later calls resolve at once.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn stop(&self) -> ZkResult<()> {
        let member = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        match member {
            Some(m) => {
                on_core(async move {
                    m.stop().await;
                    Ok(())
                })
                .await
            }
            None => ZkResult(Ok(())),
        }
    }
}
