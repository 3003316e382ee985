//! `Client`: the Promise API over the core's async client. Each method
//! converts its arguments, runs the core call on the core runtime and
//! converts the result; watch and state callbacks reach JavaScript through
//! thread-safe functions called non-blocking, so a slow callback only
//! queues events and never stalls the session.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{i64n, Buffer, Either, Null, PromiseRaw, ToNapiValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use zkrs::client::{self as zc, AddWatchMode, ClientOptions, WatcherType};

use crate::error::{bad_arguments, ZkError, ZkResult};
use crate::runtime::{on_core, submit_promise};
use crate::types::{
    acl_or_open, create_mode, data_bytes, node_data, Acl, JsKeeperState, Stat, WatchedEvent,
};

/// A watch callback. It keeps Node's event loop alive while the watch is
/// pending, as an outstanding request would.
type WatchCallback = ThreadsafeFunction<WatchedEvent, (), WatchedEvent, Status, false>;
/// A session state listener; weak, so it alone does not keep Node running.
type StateCallback = ThreadsafeFunction<JsKeeperState, (), JsKeeperState, Status, false, true>;

fn watcher(cb: WatchCallback) -> zc::Watcher {
    Arc::new(move |ev| {
        cb.call(ev.into(), ThreadsafeFunctionCallMode::NonBlocking);
    })
}

fn state_listener(cb: Arc<StateCallback>) -> zc::StateListener {
    Arc::new(move |s| {
        cb.call(s.into(), ThreadsafeFunctionCallMode::NonBlocking);
    })
}

/// Session settings; times in milliseconds.
#[napi(object)]
#[derive(Default)]
pub struct ClientConfig {
    /// Requested session timeout (default 10000); the server clamps it.
    pub session_timeout: Option<u32>,
    /// How long `connect()` waits for a session (default 10000).
    pub connect_timeout: Option<u32>,
    /// Accept a read-only server.
    pub read_only: Option<bool>,
    /// Credentials sent on every (re)connect, as `addAuth` would.
    pub auth: Option<Vec<AuthInfo>>,
    /// The longest any call waits for its reply (default: while the
    /// session lives); then it rejects with REQUESTTIMEOUT, and the
    /// request may still take effect.
    pub request_timeout: Option<u32>,
    /// Connect over TLS (the servers' secureClientPort).
    pub tls: Option<TlsConfig>,
    /// Log in with SASL DIGEST-MD5 (a member's JAAS users).
    pub sasl: Option<SaslConfig>,
}

/// SASL DIGEST-MD5 credentials.
#[napi(object)]
pub struct SaslConfig {
    pub username: String,
    pub password: String,
}

/// TLS files (paths). `ca`: the certificates to trust (PEM, JKS or PKCS12;
/// left out, any server is trusted); `cert` and `key`: this client's
/// certificate and key as PEM, or `cert` alone as a JKS/PKCS12 store
/// opened with `password`. `hostnameVerification` (default true, as
/// ZooKeeper's `zookeeper.ssl.hostnameVerification`): the server's
/// certificate must name the host dialled or the address reached; false
/// accepts any certificate `ca` signed.
#[napi(object)]
#[derive(Default)]
pub struct TlsConfig {
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub password: Option<String>,
    pub hostname_verification: Option<bool>,
}

/// One credential, e.g. `{scheme: 'digest', auth: 'user:password'}`.
#[napi(object)]
pub struct AuthInfo {
    pub scheme: String,
    pub auth: Either<Buffer, String>,
}

/// How `create` makes a node.
#[napi(object)]
#[derive(Default)]
pub struct CreateOptions {
    /// Default 'persistent'.
    #[napi(ts_type = "CreateMode")]
    pub mode: Option<String>,
    /// Milliseconds; required by the TTL modes.
    pub ttl: Option<i64>,
    /// Default world:anyone with all permissions.
    pub acl: Option<Vec<Acl>>,
}

/// `addWatch` options.
#[napi(object)]
#[derive(Default)]
pub struct AddWatchOptions {
    /// Watch the whole subtree (PERSISTENT_RECURSIVE); default false.
    pub recursive: Option<bool>,
}

#[napi(object, object_from_js = false)]
pub struct DataResult {
    /// null for null data (created or set without data).
    pub data: Either<Buffer, Null>,
    pub stat: Stat,
}

#[napi(object, object_from_js = false)]
pub struct ChildrenResult {
    pub children: Vec<String>,
    pub stat: Stat,
}

#[napi(object, object_from_js = false)]
pub struct AclResult {
    pub acl: Vec<Acl>,
    pub stat: Stat,
}

/// One operation of a `multi` transaction.
#[napi(object)]
pub struct MultiOp {
    #[napi(
        js_name = "type",
        ts_type = "'create' | 'delete' | 'setData' | 'check'"
    )]
    pub op: String,
    pub path: String,
    /// create, setData.
    pub data: Option<Either<Buffer, String>>,
    /// create; default 'persistent'.
    #[napi(ts_type = "CreateMode")]
    pub mode: Option<String>,
    /// create with a TTL mode.
    pub ttl: Option<i64>,
    /// create.
    pub acl: Option<Vec<Acl>>,
    /// delete, setData, check; default -1 (any).
    pub version: Option<i32>,
}

/// The outcome of one op of a committed transaction.
#[napi(object, object_from_js = false)]
pub struct MultiResult {
    #[napi(
        js_name = "type",
        ts_type = "'create' | 'delete' | 'setData' | 'check'"
    )]
    pub op: String,
    /// create: the created path.
    pub path: Option<String>,
    /// create, setData.
    pub stat: Option<Stat>,
}

fn multi_op(op: MultiOp) -> Result<zc::Op, ZkError> {
    let version = op.version.unwrap_or(-1);
    Ok(match op.op.as_str() {
        "create" => {
            let mode = create_mode(op.mode.as_deref())?;
            let (path, data, acl) = (op.path, node_data(op.data), acl_or_open(op.acl));
            if mode.is_ttl() {
                let ttl_ms = op
                    .ttl
                    .ok_or_else(|| bad_arguments("a TTL mode needs ttl"))?;
                zc::Op::CreateTtl {
                    path,
                    data,
                    acl,
                    mode,
                    ttl_ms,
                }
            } else {
                zc::Op::Create {
                    path,
                    data,
                    acl,
                    mode,
                }
            }
        }
        "delete" => zc::Op::delete(&op.path, version),
        "setData" => zc::Op::SetData {
            path: op.path,
            data: node_data(op.data),
            version,
        },
        "check" => zc::Op::check(&op.path, version),
        other => return Err(bad_arguments(format!("unknown multi op type '{other}'"))),
    })
}

fn multi_result(r: zc::OpResult) -> MultiResult {
    let (op, path, stat) = match r {
        zc::OpResult::Create { path, stat } => ("create", Some(path), stat.map(Stat::from)),
        zc::OpResult::Delete => ("delete", None, None),
        zc::OpResult::SetData { stat } => ("setData", None, Some(stat.into())),
        zc::OpResult::Check => ("check", None, None),
        // `multi` turns a failed transaction into its error, so a
        // committed one has no error results.
        zc::OpResult::Error { .. } => ("check", None, None),
    };
    MultiResult {
        op: op.to_string(),
        path,
        stat,
    }
}

fn watcher_type(name: Option<&str>) -> Result<WatcherType, ZkError> {
    Ok(match name.unwrap_or("any") {
        "children" => WatcherType::Children,
        "data" => WatcherType::Data,
        "any" => WatcherType::Any,
        "persistent" => WatcherType::Persistent,
        "persistent_recursive" => WatcherType::PersistentRecursive,
        other => return Err(bad_arguments(format!("unknown watcher type '{other}'"))),
    })
}

/// A ZooKeeper session. `new Client(hosts)` only records the settings;
/// `await client.connect()` opens the session.
#[napi]
pub struct Client {
    hosts: String,
    options: ClientOptions,
    inner: Mutex<Option<zc::Client>>,
    /// State listeners added before `connect()`; attached once it resolves.
    pending_listeners: Mutex<Vec<Arc<StateCallback>>>,
}

/// A Promise for a core call, or for an argument error found here.
type Reply<'env, T> = napi::Result<PromiseRaw<'env, ZkResult<T>>>;

impl Client {
    pub(crate) fn core(&self) -> Result<zc::Client, ZkError> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.clone().ok_or_else(|| ZkError {
            err: zkrs::Error::ConnectionLoss,
            detail: Some("not connected: call connect() first".into()),
        })
    }

    /// The connected core client, for the recipes' constructors (which
    /// throw, not reject, when it is not connected).
    pub(crate) fn connected(&self) -> napi::Result<zc::Client> {
        self.core().map_err(|e| {
            let why = e.detail.unwrap_or_else(|| e.err.to_string());
            napi::Error::from_reason(format!("{}: {why}", crate::error::code_name(&e.err)))
        })
    }

    /// Submits one core call now (keeping the session's FIFO order) and
    /// returns the Promise of its result.
    fn run<'env, T, Fut>(&self, env: &'env Env, f: impl FnOnce(zc::Client) -> Fut) -> Reply<'env, T>
    where
        T: ToNapiValue + Send + 'static,
        Fut: Future<Output = Result<T, zkrs::Error>> + Send + 'static,
    {
        match self.core() {
            Ok(c) => submit_promise(env, f(c)),
            Err(e) => reject(env, e),
        }
    }
}

/// A rejected Promise for an argument that does not convert.
fn reject<T: ToNapiValue + Send + 'static>(env: &Env, e: ZkError) -> Reply<'_, T> {
    env.spawn_future(async move { Ok(ZkResult(Err(e))) })
}

#[napi]
impl Client {
    /// `hosts` is "host:port[,host:port...][/chroot]".
    #[napi(catch_unwind, constructor)]
    pub fn new(hosts: String, options: Option<ClientConfig>) -> Client {
        let o = options.unwrap_or_default();
        let mut opts = ClientOptions::default();
        if let Some(ms) = o.session_timeout {
            opts.session_timeout = Duration::from_millis(ms.into());
        }
        if let Some(ms) = o.connect_timeout {
            opts.connect_timeout = Duration::from_millis(ms.into());
        }
        opts.read_only = o.read_only.unwrap_or(false);
        opts.request_timeout = o.request_timeout.map(|ms| Duration::from_millis(ms.into()));
        opts.auth = o
            .auth
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.scheme, data_bytes(Some(a.auth))))
            .collect();
        opts.sasl = o.sasl.map(|s| zkrs::sasl::SaslClient {
            username: s.username,
            password: s.password,
        });
        opts.tls = o.tls.map(|t| zkrs::tls::ClientTls {
            ca: t.ca.map(Into::into),
            cert: t.cert.map(Into::into),
            key: t.key.map(Into::into),
            password: t.password.unwrap_or_default(),
            hostname_verification: t.hostname_verification.unwrap_or(true),
        });
        Client {
            hosts,
            options: opts,
            inner: Mutex::new(None),
            pending_listeners: Mutex::new(Vec::new()),
        }
    }

    /// kazoo's `SetPartitioner` on this client's session: divides `items`
    /// among the members at `path` (see `SetPartitioner`).
    #[napi(ts_return_type = "Promise<SetPartitioner>")]
    pub async fn set_partitioner(
        &self,
        path: String,
        items: Vec<String>,
        options: Option<crate::partitioner::PartitionerOpts>,
    ) -> ZkResult<crate::partitioner::SetPartitioner> {
        crate::partitioner::create(self.core(), path, items, options).await
    }

    /// Opens the session; resolves once connected.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn connect(&self) -> ZkResult<()> {
        let (hosts, opts) = (self.hosts.clone(), self.options.clone());
        let connected = on_core(async move { zc::Client::connect(&hosts, opts).await }).await;
        connected.map(|c| {
            let pending = std::mem::take(
                &mut *self
                    .pending_listeners
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            );
            for cb in pending {
                c.add_state_listener(state_listener(cb));
            }
            *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
        })
    }

    /// Closes the session after the calls made before it: its ephemeral
    /// nodes go at once; later calls fail with SESSIONEXPIRED.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Reply<'env, ()> {
        if self.core().is_err() {
            return env.spawn_future(async { Ok(ZkResult(Ok(()))) });
        }
        self.run(env, |c| async move { c.close().await })
    }

    /// The session id (0n before `connect()`).
    #[napi(catch_unwind, getter)]
    pub fn session_id(&self) -> i64n {
        i64n(self.core().map(|c| c.session_id()).unwrap_or(0))
    }

    /// The session state now ('Disconnected' before `connect()`).
    #[napi(catch_unwind, getter, ts_return_type = "KeeperState")]
    pub fn state(&self) -> JsKeeperState {
        match self.core() {
            Ok(c) => c.state().into(),
            Err(_) => JsKeeperState::Disconnected,
        }
    }

    /// Calls `listener` with each session state change ('Disconnected',
    /// 'SyncConnected', 'Expired', 'Closed', ...). Added before
    /// `connect()`, it starts with the changes after connect resolves.
    #[napi(catch_unwind, ts_args_type = "listener: (state: KeeperState) => void")]
    pub fn on_state_change(&self, listener: StateCallback) {
        let cb = Arc::new(listener);
        match self.core() {
            Ok(c) => {
                c.add_state_listener(state_listener(cb));
            }
            Err(_) => self
                .pending_listeners
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(cb),
        }
    }

    /// Creates a node and resolves to its path (with the sequence suffix
    /// for sequential modes).
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn create<'env>(
        &self,
        env: &'env Env,
        path: String,
        data: Option<Either<Buffer, String>>,
        options: Option<CreateOptions>,
    ) -> Reply<'env, String> {
        let o = options.unwrap_or_default();
        let mode = match create_mode(o.mode.as_deref()) {
            Ok(m) => m,
            Err(e) => return reject(env, e),
        };
        let ttl = match (mode.is_ttl(), o.ttl) {
            (false, _) => None,
            (true, Some(ttl)) => Some(ttl),
            (true, None) => return reject(env, bad_arguments("a TTL mode needs ttl")),
        };
        let (data, acl) = (node_data(data), acl_or_open(o.acl));
        self.run(env, move |c| async move {
            c.create_node(&path, data.as_deref(), &acl, mode, ttl)
                .await
                .map(|r| r.0)
        })
    }

    /// Resolves to the node's data and Stat; `watcher` fires once on the
    /// next change or deletion.
    #[napi(
        catch_unwind,
        ts_args_type = "path: string, watcher?: (event: WatchedEvent) => void",
        ts_return_type = "Promise<DataResult>"
    )]
    pub fn get_data<'env>(
        &self,
        env: &'env Env,
        path: String,
        watcher: Option<WatchCallback>,
    ) -> Reply<'env, DataResult> {
        let w = watcher.map(self::watcher);
        self.run(env, move |c| async move {
            let (data, stat) = c.get_data_or_null(&path, w).await?;
            Ok(DataResult {
                data: data.map_or(Either::B(Null), |d| Either::A(d.into())),
                stat: stat.into(),
            })
        })
    }

    /// Sets the data (`version` -1 matches any) and resolves to the new Stat.
    #[napi(catch_unwind, ts_return_type = "Promise<Stat>")]
    pub fn set_data<'env>(
        &self,
        env: &'env Env,
        path: String,
        data: Option<Either<Buffer, String>>,
        version: Option<i32>,
    ) -> Reply<'env, Stat> {
        let (data, version) = (node_data(data), version.unwrap_or(-1));
        self.run(env, move |c| async move {
            c.set_data_or_null(&path, data.as_deref(), version)
                .await
                .map(Stat::from)
        })
    }

    /// Resolves to the Stat, or null when the node does not exist; the
    /// watcher fires on its creation, change or deletion.
    #[napi(
        catch_unwind,
        ts_args_type = "path: string, watcher?: (event: WatchedEvent) => void",
        ts_return_type = "Promise<Stat | null>"
    )]
    pub fn exists<'env>(
        &self,
        env: &'env Env,
        path: String,
        watcher: Option<WatchCallback>,
    ) -> Reply<'env, Option<Stat>> {
        let w = watcher.map(self::watcher);
        self.run(env, move |c| async move {
            c.exists(&path, w).await.map(|s| s.map(Stat::from))
        })
    }

    /// Resolves to the child names; the watcher fires once when children
    /// change or the node goes.
    #[napi(
        catch_unwind,
        ts_args_type = "path: string, watcher?: (event: WatchedEvent) => void",
        ts_return_type = "Promise<Array<string>>"
    )]
    pub fn get_children<'env>(
        &self,
        env: &'env Env,
        path: String,
        watcher: Option<WatchCallback>,
    ) -> Reply<'env, Vec<String>> {
        let w = watcher.map(self::watcher);
        self.run(env, move |c| async move { c.get_children(&path, w).await })
    }

    /// `getChildren` plus the parent's Stat.
    #[napi(
        catch_unwind,
        ts_args_type = "path: string, watcher?: (event: WatchedEvent) => void",
        ts_return_type = "Promise<ChildrenResult>"
    )]
    pub fn get_children2<'env>(
        &self,
        env: &'env Env,
        path: String,
        watcher: Option<WatchCallback>,
    ) -> Reply<'env, ChildrenResult> {
        let w = watcher.map(self::watcher);
        self.run(env, move |c| async move {
            let (children, stat) = c.get_children2(&path, w).await?;
            Ok(ChildrenResult {
                children,
                stat: stat.into(),
            })
        })
    }

    /// Deletes a node; `version` -1 (the default) matches any.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn delete<'env>(
        &self,
        env: &'env Env,
        path: String,
        version: Option<i32>,
    ) -> Reply<'env, ()> {
        let version = version.unwrap_or(-1);
        self.run(env, move |c| async move { c.delete(&path, version).await })
    }

    /// Creates `path` and every missing parent as empty persistent nodes
    /// (node-zookeeper-client's `mkdirp`); existing ones are left alone.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn mkdirp<'env>(
        &self,
        env: &'env Env,
        path: String,
        acl: Option<Vec<Acl>>,
    ) -> Reply<'env, ()> {
        let acl = acl_or_open(acl);
        self.run(
            env,
            move |c| async move { c.ensure_path(&path, &acl).await },
        )
    }

    /// Deletes `path` and everything below it, children first; a missing
    /// node is not an error. Not atomic: a node created meanwhile makes it
    /// fail with NOTEMPTY.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn remove_recursive<'env>(&self, env: &'env Env, path: String) -> Reply<'env, ()> {
        self.run(env, move |c| async move { c.delete_recursive(&path).await })
    }

    #[napi(catch_unwind, ts_return_type = "Promise<AclResult>")]
    pub fn get_acl<'env>(&self, env: &'env Env, path: String) -> Reply<'env, AclResult> {
        self.run(env, move |c| async move {
            let (acl, stat) = c.get_acl(&path).await?;
            Ok(AclResult {
                acl: acl.into_iter().map(Acl::from).collect(),
                stat: stat.into(),
            })
        })
    }

    /// Replaces the ACL (`version` is the aversion; -1 matches any).
    #[napi(catch_unwind, ts_return_type = "Promise<Stat>")]
    pub fn set_acl<'env>(
        &self,
        env: &'env Env,
        path: String,
        acl: Vec<Acl>,
        version: Option<i32>,
    ) -> Reply<'env, Stat> {
        let (acl, version) = (acl_or_open(Some(acl)), version.unwrap_or(-1));
        self.run(env, move |c| async move {
            c.set_acl(&path, &acl, version).await.map(Stat::from)
        })
    }

    /// Runs `ops` atomically. Resolves to one result per op; if any op
    /// fails, nothing is applied and the Promise rejects with the first
    /// failing op's error.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<MultiResult>>")]
    pub fn multi<'env>(&self, env: &'env Env, ops: Vec<MultiOp>) -> Reply<'env, Vec<MultiResult>> {
        let ops = match ops.into_iter().map(multi_op).collect::<Result<Vec<_>, _>>() {
            Ok(ops) => ops,
            Err(e) => return reject(env, e),
        };
        self.run(env, move |c| async move {
            let results = c.multi(ops).await?;
            Ok(results.into_iter().map(multi_result).collect())
        })
    }

    /// For tests (`zkrs/testing`): ends this client's session on the
    /// server now, as an expiry does; resolves once the client has seen
    /// it ('Expired'), within `timeoutMs` (default 10 s).
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn expire_session_for_test<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<u32>,
    ) -> Reply<'env, ()> {
        let t = Duration::from_millis(timeout_ms.unwrap_or(10_000).into());
        self.run(
            env,
            move |c| async move { c.expire_session_for_test(t).await },
        )
    }

    /// For tests (`zkrs/testing`): cuts this client's connection; it
    /// reconnects with the same session.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn drop_connection_for_test<'env>(&self, env: &'env Env) -> Reply<'env, ()> {
        self.run(
            env,
            move |c| async move { c.drop_connection_for_test().await },
        )
    }

    /// Resolves once the server has applied everything the leader had
    /// committed when the sync arrived.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn sync<'env>(&self, env: &'env Env, path: String) -> Reply<'env, ()> {
        self.run(env, move |c| async move { c.sync(&path).await })
    }

    /// Adds a persistent watch on `path` (on the whole subtree with
    /// `recursive`); `callback` gets every event until the watch is
    /// removed or the session closes.
    #[napi(
        catch_unwind,
        ts_args_type = "path: string, callback: (event: WatchedEvent) => void, options?: AddWatchOptions",
        ts_return_type = "Promise<void>"
    )]
    pub fn add_watch<'env>(
        &self,
        env: &'env Env,
        path: String,
        callback: WatchCallback,
        options: Option<AddWatchOptions>,
    ) -> Reply<'env, ()> {
        let mode = match options.and_then(|o| o.recursive) {
            Some(true) => AddWatchMode::PersistentRecursive,
            _ => AddWatchMode::Persistent,
        };
        let w = watcher(callback);
        self.run(
            env,
            move |c| async move { c.add_watch(&path, mode, w).await },
        )
    }

    /// Removes this session's watchers of `type` on `path` ('children',
    /// 'data', 'any' (default), 'persistent', 'persistent_recursive');
    /// each removed watcher gets a *WatchRemoved event. With `local`, they
    /// go even when the server cannot be told.
    #[napi(
        catch_unwind,
        ts_args_type = "path: string, type?: 'children' | 'data' | 'any' | 'persistent' | 'persistent_recursive', local?: boolean",
        ts_return_type = "Promise<void>"
    )]
    pub fn remove_watches<'env>(
        &self,
        env: &'env Env,
        path: String,
        r#type: Option<String>,
        local: Option<bool>,
    ) -> Reply<'env, ()> {
        let wtype = match watcher_type(r#type.as_deref()) {
            Ok(t) => t,
            Err(e) => return reject(env, e),
        };
        let local = local.unwrap_or(false);
        self.run(env, move |c| async move {
            c.remove_watches(&path, wtype, local).await
        })
    }

    /// Adds credentials to the session, e.g. `addAuth('digest',
    /// 'user:password')`; they are re-sent after reconnects.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn add_auth<'env>(
        &self,
        env: &'env Env,
        scheme: String,
        auth: Either<Buffer, String>,
    ) -> Reply<'env, ()> {
        let auth = data_bytes(Some(auth));
        self.run(
            env,
            move |c| async move { c.add_auth(&scheme, &auth).await },
        )
    }
}
