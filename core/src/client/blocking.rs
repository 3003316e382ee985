//! The blocking facade over [`super::Client`] for FFI callers (C, Python,
//! Node): every async method mirrored as a blocking one, all running on
//! one tokio runtime per process.
//!
//! The runtime is created lazily by [`runtime`] and rebuilt in a child
//! after `fork()` (the parent's worker threads do not exist there; the old
//! runtime is leaked, never dropped, since dropping it would wait for those
//! threads). A client made before a fork refuses to work in the child
//! (`SessionExpired`): its socket and session belong to the parent.
//!
//! Calls may be made from any thread, including a watcher or state
//! callback (the client's event thread) and tokio worker threads: the work
//! is spawned onto the runtime and the caller waits for it, so no
//! "runtime within a runtime" panic can happen.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;

use super::{
    AddWatchMode, ClientOptions, Op, OpResult, SessionState, StateListener, Watcher, WatcherType,
};
use crate::types::{Acl, CreateMode, Stat};
use crate::Error;

/// The process's runtime (shared with `embed`), created on first use and
/// again in a forked child.
pub fn runtime() -> Result<Arc<Runtime>, Error> {
    Ok(crate::runtime::get())
}

/// Runs `fut` on `rt` and waits for it from the current thread.
fn block_on<T: Send + 'static>(
    rt: &Runtime,
    fut: impl Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<T, Error> {
    let handle = rt.spawn(fut);
    futures::executor::block_on(handle).unwrap_or(Err(Error::SystemError))
}

struct Inner {
    client: super::Client,
    rt: Arc<Runtime>,
}

/// A blocking ZooKeeper client. Cheap to clone (clones share the session).
#[derive(Clone)]
pub struct Client {
    /// `None` only while dropping.
    inner: Option<Arc<Inner>>,
    pid: u32,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(i) => i.client.fmt(f),
            None => f.write_str("Client(dropped)"),
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if std::process::id() != self.pid {
            // The parent's runtime and session: touching them in a forked
            // child could hang, so leak this handle.
            std::mem::forget(self.inner.take());
        }
    }
}

impl Client {
    /// Connects as [`super::Client::connect`] does, on [`runtime`].
    pub fn connect(hosts: &str, opts: ClientOptions) -> Result<Client, Error> {
        let rt = runtime()?;
        let hosts = hosts.to_string();
        let client = block_on(
            &rt,
            async move { super::Client::connect(&hosts, opts).await },
        )?;
        Ok(Client {
            inner: Some(Arc::new(Inner { client, rt })),
            pid: std::process::id(),
        })
    }

    /// A client connected with [`super::Client::connect`] on [`runtime`]:
    /// how a binding connects without blocking one of its threads.
    pub fn from_async(client: super::Client) -> Result<Client, Error> {
        Ok(Client {
            inner: Some(Arc::new(Inner {
                client,
                rt: runtime()?,
            })),
            pid: std::process::id(),
        })
    }

    /// False in a forked child: the session and its runtime belong to the
    /// parent, and every call fails with SessionExpired.
    pub fn in_this_process(&self) -> bool {
        std::process::id() == self.pid
    }

    fn inner(&self) -> &Inner {
        self.inner.as_ref().expect("present until drop")
    }

    /// The async client underneath (same session).
    pub fn as_async(&self) -> &super::Client {
        &self.inner().client
    }

    /// The runtime this client's connection runs on.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.inner().rt
    }

    /// Runs `f` on the async client underneath and waits for it: how the
    /// bindings call async code built on this session (the recipes).
    pub fn call<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(super::Client) -> Fut,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        self.run(f)
    }

    fn run<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(super::Client) -> Fut,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        if !self.in_this_process() {
            return Err(Error::SessionExpired);
        }
        let inner = self.inner();
        let fut = super::dispatch::on_behalf_of_caller(f(inner.client.clone()));
        block_on(&inner.rt, fut)
    }

    pub fn create(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
    ) -> Result<String, Error> {
        let (path, data, acl) = (path.to_string(), data.to_vec(), acl.to_vec());
        self.run(move |c| async move { c.create(&path, &data, &acl, mode).await })
    }

    pub fn create2(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
    ) -> Result<(String, Stat), Error> {
        let (path, data, acl) = (path.to_string(), data.to_vec(), acl.to_vec());
        self.run(move |c| async move { c.create2(&path, &data, &acl, mode).await })
    }

    pub fn create_ttl(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
        ttl_ms: i64,
    ) -> Result<(String, Stat), Error> {
        let (path, data, acl) = (path.to_string(), data.to_vec(), acl.to_vec());
        self.run(move |c| async move { c.create_ttl(&path, &data, &acl, mode, ttl_ms).await })
    }

    pub fn create_container(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
    ) -> Result<(String, Stat), Error> {
        let (path, data, acl) = (path.to_string(), data.to_vec(), acl.to_vec());
        self.run(move |c| async move { c.create_container(&path, &data, &acl).await })
    }

    /// See [`super::Client::create_node`].
    pub fn create_node(
        &self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        mode: CreateMode,
        ttl_ms: Option<i64>,
    ) -> Result<(String, Stat), Error> {
        let (path, data, acl) = (path.to_string(), data.map(<[u8]>::to_vec), acl.to_vec());
        self.run(move |c| async move {
            c.create_node(&path, data.as_deref(), &acl, mode, ttl_ms)
                .await
        })
    }

    pub fn ensure_path(&self, path: &str, acl: &[Acl]) -> Result<(), Error> {
        let (path, acl) = (path.to_string(), acl.to_vec());
        self.run(move |c| async move { c.ensure_path(&path, &acl).await })
    }

    pub fn delete_recursive(&self, path: &str) -> Result<(), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.delete_recursive(&path).await })
    }

    pub fn delete(&self, path: &str, version: i32) -> Result<(), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.delete(&path, version).await })
    }

    pub fn exists(&self, path: &str, watch: Option<Watcher>) -> Result<Option<Stat>, Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.exists(&path, watch).await })
    }

    pub fn get_data(&self, path: &str, watch: Option<Watcher>) -> Result<(Vec<u8>, Stat), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.get_data(&path, watch).await })
    }

    pub fn set_data(&self, path: &str, data: &[u8], version: i32) -> Result<Stat, Error> {
        self.set_data_or_null(path, Some(data), version)
    }

    /// See [`super::Client::get_data_or_null`].
    pub fn get_data_or_null(
        &self,
        path: &str,
        watch: Option<Watcher>,
    ) -> Result<(Option<Vec<u8>>, Stat), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.get_data_or_null(&path, watch).await })
    }

    /// See [`super::Client::set_data_or_null`].
    pub fn set_data_or_null(
        &self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
    ) -> Result<Stat, Error> {
        let (path, data) = (path.to_string(), data.map(<[u8]>::to_vec));
        self.run(move |c| async move { c.set_data_or_null(&path, data.as_deref(), version).await })
    }

    pub fn get_children(&self, path: &str, watch: Option<Watcher>) -> Result<Vec<String>, Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.get_children(&path, watch).await })
    }

    pub fn get_children2(
        &self,
        path: &str,
        watch: Option<Watcher>,
    ) -> Result<(Vec<String>, Stat), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.get_children2(&path, watch).await })
    }

    pub fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.get_acl(&path).await })
    }

    pub fn set_acl(&self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, Error> {
        let (path, acl) = (path.to_string(), acl.to_vec());
        self.run(move |c| async move { c.set_acl(&path, &acl, version).await })
    }

    pub fn multi(&self, ops: Vec<Op>) -> Result<Vec<OpResult>, Error> {
        self.run(move |c| async move { c.multi(ops).await })
    }

    pub fn multi_results(&self, ops: Vec<Op>) -> Result<Vec<OpResult>, Error> {
        self.run(move |c| async move { c.multi_results(ops).await })
    }

    pub fn four_letter_word(&self, word: &str) -> Result<String, Error> {
        let word = word.to_string();
        self.run(move |c| async move { c.four_letter_word(&word).await })
    }

    pub fn server_version(&self, retries: u32) -> Result<Vec<u32>, Error> {
        self.run(move |c| async move { c.server_version(retries).await })
    }

    pub fn sync(&self, path: &str) -> Result<(), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.sync(&path).await })
    }

    pub fn add_watch(&self, path: &str, mode: AddWatchMode, watcher: Watcher) -> Result<(), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.add_watch(&path, mode, watcher).await })
    }

    pub fn remove_watches(&self, path: &str, wtype: WatcherType, local: bool) -> Result<(), Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.remove_watches(&path, wtype, local).await })
    }

    pub fn get_all_children_number(&self, path: &str) -> Result<i32, Error> {
        let path = path.to_string();
        self.run(move |c| async move { c.get_all_children_number(&path).await })
    }

    pub fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let prefix = prefix.to_string();
        self.run(move |c| async move { c.get_ephemerals(&prefix).await })
    }

    pub fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<(), Error> {
        let (scheme, auth) = (scheme.to_string(), auth.to_vec());
        self.run(move |c| async move { c.add_auth(&scheme, &auth).await })
    }

    pub fn who_am_i(&self) -> Result<Vec<(String, String)>, Error> {
        self.run(move |c| async move { c.who_am_i().await })
    }

    pub fn close(&self) -> Result<(), Error> {
        if std::process::id() != self.pid {
            return Ok(());
        }
        self.run(move |c| async move { c.close().await })
    }

    pub fn session_id(&self) -> i64 {
        self.as_async().session_id()
    }

    pub fn session_password(&self) -> Vec<u8> {
        self.as_async().session_password()
    }

    pub fn negotiated_timeout(&self) -> Duration {
        self.as_async().negotiated_timeout()
    }

    pub fn state(&self) -> SessionState {
        self.as_async().state()
    }

    /// See [`super::Client::add_state_listener`].
    pub fn add_state_listener(&self, listener: StateListener) -> u64 {
        self.as_async().add_state_listener(listener)
    }

    pub fn remove_state_listener(&self, id: u64) -> bool {
        self.as_async().remove_state_listener(id)
    }

    /// Blocks until the state satisfies `pred` or `limit` passes; returns
    /// the state then.
    pub fn wait_for_state(
        &self,
        limit: Duration,
        pred: impl FnMut(&SessionState) -> bool + Send + 'static,
    ) -> SessionState {
        let r = self.run(move |c| async move { Ok(c.wait_for_state(limit, pred).await) });
        r.unwrap_or_else(|_| self.state())
    }
}
