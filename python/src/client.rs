//! `zkrs.Client` and `zkrs.TransactionRequest`: a kazoo-shaped facade over
//! `zkrs::client::blocking::Client`. Each method copies its arguments into
//! owned Rust values, releases the GIL for the blocking call and converts
//! the result; callbacks come back on the client's event thread and take
//! the GIL only to run.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple, PyType};
use zkrs::client::blocking;
use zkrs::client::{AddWatchMode, ClientOptions, Op, OpResult, SessionState};
use zkrs::{lock, CreateMode, Error};

use crate::client_async::NewNode;
use crate::convert;
use crate::errors::{self, ConnectionClosedError, IntoPy};
use crate::recipes;
use crate::watch_tables::{Kind, WatchTables};

/// The Python listeners and the last KazooState they were told, so a
/// state is reported once per change (the core's first Connected may or
/// may not reach a listener attached just after connect).
#[derive(Default)]
struct ListenerSet {
    fns: Vec<Py<PyAny>>,
    last: Option<&'static str>,
}

type Listeners = Arc<Mutex<ListenerSet>>;

/// A ZooKeeper client shaped like kazoo's `KazooClient`. Instances take
/// attributes (`dict`), as kazoo's do: code and tests replace a factory
/// such as `client.Lock` on one client.
#[pyclass(module = "zkrs", name = "Client", dict)]
pub struct Client {
    hosts: String,
    timeout: f64,
    read_only: bool,
    randomize_hosts: bool,
    /// kazoo's `handler`: the toolkit kazoo code takes from the client.
    handler: Py<PyAny>,
    /// kazoo's `command_retry`: the policy `client.retry` uses.
    command_retry: Option<Py<PyAny>>,
    /// kazoo's `client_id`: the session the first `start()` resumes.
    resume: Mutex<Option<(i64, Vec<u8>)>>,
    auth: Vec<(String, Vec<u8>)>,
    /// kazoo's `use_ssl` and its certificate options.
    tls: Option<zkrs::tls::ClientTls>,
    /// kazoo's `sasl_options` (DIGEST-MD5), or its older
    /// `auth_data=[("sasl", "user:password")]`.
    sasl: Option<zkrs::sasl::SaslClient>,
    conn: Mutex<Option<blocking::Client>>,
    listeners: Listeners,
    /// kazoo's `_data_watchers` / `_child_watchers`.
    watches: WatchTables,
    /// The `*_async` calls' settling order.
    line: crate::client_async::Line,
}

/// A credential as kazoo takes it: str (UTF-8) or bytes.
fn credential_bytes(credential: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    match credential.extract::<String>() {
        Ok(s) => Ok(s.into_bytes()),
        Err(_) => credential.extract(),
    }
}

/// (scheme, credentials) pairs sent as auth packets.
type AuthData = Vec<(String, Vec<u8>)>;

/// kazoo's SASL settings: `sasl_options` with mechanism DIGEST-MD5, or a
/// `("sasl", "user:password")` entry in `auth_data` (taken out of it).
fn sasl_settings(
    auth: AuthData,
    options: Option<&Bound<'_, PyAny>>,
) -> PyResult<(AuthData, Option<zkrs::sasl::SaslClient>)> {
    let bad = |why: &str| errors::ConfigurationError::new_err(why.to_string());
    let (sasl_entries, auth): (Vec<_>, Vec<_>) = auth.into_iter().partition(|(s, _)| s == "sasl");
    let mut sasl = None;
    if let Some((_, cred)) = sasl_entries.into_iter().last() {
        let cred = String::from_utf8_lossy(&cred).into_owned();
        let (username, password) = cred
            .split_once(':')
            .ok_or_else(|| bad("sasl auth_data is user:password"))?;
        sasl = Some(zkrs::sasl::SaslClient {
            username: username.into(),
            password: password.into(),
        });
    }
    if let Some(o) = options.filter(|o| !o.is_none()) {
        let get = |k: &str| -> PyResult<Option<String>> {
            match o.get_item(k) {
                Ok(v) if !v.is_none() => Ok(Some(v.extract()?)),
                _ => Ok(None),
            }
        };
        let mechanism = get("mechanism")?.unwrap_or_default();
        if !mechanism.eq_ignore_ascii_case("DIGEST-MD5") {
            return Err(bad(&format!(
                "zkrs.Client speaks SASL DIGEST-MD5, not '{mechanism}'"
            )));
        }
        sasl = Some(zkrs::sasl::SaslClient {
            username: get("username")?.ok_or_else(|| bad("sasl_options needs username"))?,
            password: get("password")?.ok_or_else(|| bad("sasl_options needs password"))?,
        });
    }
    Ok((auth, sasl))
}

fn seconds(s: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        PyValueError::new_err(format!("{what} must be a non-negative number of seconds"))
    })
}

/// The CreateMode for kazoo's flags plus zkrs's `container` and `ttl`.
pub(crate) fn create_mode(
    ephemeral: bool,
    sequence: bool,
    container: bool,
    ttl: bool,
) -> Result<CreateMode, Error> {
    Ok(match (ephemeral, sequence, container, ttl) {
        (false, false, false, false) => CreateMode::Persistent,
        (true, false, false, false) => CreateMode::Ephemeral,
        (false, true, false, false) => CreateMode::PersistentSequential,
        (true, true, false, false) => CreateMode::EphemeralSequential,
        (false, false, true, false) => CreateMode::Container,
        (false, false, false, true) => CreateMode::PersistentWithTtl,
        (false, true, false, true) => CreateMode::PersistentSequentialWithTtl,
        _ => return Err(Error::BadArguments),
    })
}

pub(crate) fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) | None => None,
        Some(i) => Some(&path[..i]),
    }
}

#[pymethods]
impl Client {
    /// kazoo's constructor, argument for argument. `default_acl`,
    /// `connection_retry` (zkrs reconnects on its own, with backoff) and
    /// `logger` (zkrs logs to the `zkrs` logger) are accepted and not used;
    /// SASL: DIGEST-MD5 through `sasl_options` or a `("sasl", "user:pw")`
    /// `auth_data` entry, as kazoo takes it. TLS: `use_ssl` with `ca` (PEM,
    /// JKS or PKCS12; `verify_certs=False` trusts any server; `check_hostname`,
    /// off by default as in kazoo, also wants the server's certificate to
    /// name the host or address), `certfile` and `keyfile` (PEM), or a
    /// JKS/PKCS12 `certfile` with `keyfile_password`.
    #[new]
    #[pyo3(signature = (hosts="127.0.0.1:2181", timeout=10.0, client_id=None, handler=None,
        default_acl=None, auth_data=None, sasl_options=None, read_only=None, randomize_hosts=true,
        connection_retry=None, command_retry=None, logger=None, keyfile=None,
        keyfile_password=None, certfile=None, ca=None, use_ssl=false, verify_certs=true,
        check_hostname=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        hosts: &str,
        timeout: f64,
        client_id: Option<(i64, Vec<u8>)>,
        handler: Option<Py<PyAny>>,
        default_acl: Option<&Bound<'_, PyAny>>,
        auth_data: Option<Vec<(String, Bound<'_, PyAny>)>>,
        sasl_options: Option<&Bound<'_, PyAny>>,
        read_only: Option<bool>,
        randomize_hosts: bool,
        connection_retry: Option<&Bound<'_, PyAny>>,
        command_retry: Option<Py<PyAny>>,
        logger: Option<&Bound<'_, PyAny>>,
        keyfile: Option<PathBuf>,
        keyfile_password: Option<String>,
        certfile: Option<PathBuf>,
        ca: Option<PathBuf>,
        use_ssl: bool,
        verify_certs: bool,
        check_hostname: bool,
    ) -> PyResult<Self> {
        seconds(timeout, "timeout")?;
        let _ = (default_acl, connection_retry, logger);
        let auth = auth_data
            .unwrap_or_default()
            .into_iter()
            .map(|(scheme, cred)| Ok((scheme, credential_bytes(&cred)?)))
            .collect::<PyResult<AuthData>>()?;
        let (auth, sasl) = sasl_settings(auth, sasl_options)?;
        if verify_certs && use_ssl && ca.is_none() {
            return Err(errors::ConfigurationError::new_err(
                "use_ssl needs ca= to check the server's certificate (or verify_certs=False)",
            ));
        }
        let tls = use_ssl.then(|| zkrs::tls::ClientTls {
            ca: ca.filter(|_| verify_certs),
            cert: certfile,
            key: keyfile,
            password: keyfile_password.unwrap_or_default(),
            hostname_verification: check_hostname,
        });
        let handler = match handler {
            Some(h) => h,
            None => py
                .import("zkrs.handler")?
                .getattr("ThreadingHandler")?
                .call0()?
                .unbind(),
        };
        Ok(Client {
            hosts: hosts.to_string(),
            timeout,
            read_only: read_only.unwrap_or(false),
            randomize_hosts,
            handler,
            command_retry,
            resume: Mutex::new(client_id),
            auth,
            sasl,
            tls,
            conn: Mutex::new(None),
            listeners: Arc::default(),
            watches: WatchTables::new(py)?,
            line: Default::default(),
        })
    }

    /// Connects and waits for a session (up to `timeout` seconds). Listeners
    /// hear "CONNECTED". Does nothing if started and the session lives;
    /// after LOST (the session expired) it opens a new session, as kazoo
    /// does.
    #[pyo3(signature = (timeout=15.0))]
    fn start(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let Some((hosts, opts)) = self.prepare(py, timeout)? else {
            return Ok(());
        };
        let client = py
            .detach(move || blocking::Client::connect(&hosts, opts))
            .py_err()?;
        self.install(py, client);
        Ok(())
    }

    /// `start` as an async result of the handler (None once connected).
    #[pyo3(signature = (timeout=15.0))]
    fn start_async(slf: Py<Self>, py: Python<'_>, timeout: f64) -> PyResult<Py<PyAny>> {
        let me = slf.borrow(py);
        let Some((hosts, opts)) = me.prepare(py, timeout)? else {
            let done = me.handler.call_method0(py, "async_result")?;
            done.call_method1(py, "set", (py.None(),))?;
            return Ok(done);
        };
        let this = slf.clone_ref(py);
        let out = move |py: Python<'_>, client: zkrs::client::Client| {
            this.borrow(py)
                .install(py, blocking::Client::from_async(client).py_err()?);
            Ok(py.None())
        };
        let rt = blocking::runtime().py_err()?;
        crate::client_async::settle_on_runtime(
            py,
            &me.handler,
            &rt,
            async move { zkrs::client::Client::connect(&hosts, opts).await },
            out,
        )
    }

    /// Closes the session (ephemeral znodes go); listeners hear "LOST".
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let conn = lock(&self.conn).take();
        if let Some(c) = conn {
            py.detach(move || c.close()).py_err()?;
        }
        self.handler.call_method0(py, "stop")?;
        Ok(())
    }

    /// `stop` as an async result of the handler (None once closed).
    fn stop_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let conn = lock(&self.conn).take();
        self.handler.call_method0(py, "stop")?;
        let Some(c) = conn else {
            let done = self.handler.call_method0(py, "async_result")?;
            done.call_method1(py, "set", (py.None(),))?;
            return Ok(done);
        };
        let out = |py: Python<'_>, ()| Ok(py.None());
        let closing = c.clone();
        crate::client_async::settle_on(
            py,
            &self.handler,
            Ok(c),
            move |_| async move { closing.as_async().close().await },
            out,
        )
    }

    /// kazoo's `handler` (zkrs.handler.ThreadingHandler unless one was
    /// given): events, locks, queues, sleep and workers for kazoo code.
    #[getter]
    pub(crate) fn handler(&self, py: Python<'_>) -> Py<PyAny> {
        self.handler.clone_ref(py)
    }

    /// kazoo's watcher tables: full path -> the callables of one-shot data
    /// watches waiting on it (see `watch_tables`).
    #[getter]
    fn _data_watchers(&self, py: Python<'_>) -> Py<PyDict> {
        self.watches.data.clone_ref(py)
    }

    /// The same for child watches.
    #[getter]
    fn _child_watchers(&self, py: Python<'_>) -> Py<PyDict> {
        self.watches.child.clone_ref(py)
    }

    /// The chroot of the connect string ("" for none), as kazoo has it.
    #[getter]
    fn chroot(&self) -> PyResult<String> {
        zkrs::client::chroot_of(&self.hosts).py_err()
    }

    /// Sends a four-letter word to the connected server; its answer
    /// (kazoo's `command`).
    #[pyo3(signature = (cmd=b"ruok".as_slice()))]
    fn command(&self, py: Python<'_>, cmd: &[u8]) -> PyResult<String> {
        let c = self.conn()?;
        let word = String::from_utf8_lossy(cmd).into_owned();
        py.detach(move || c.four_letter_word(&word)).py_err()
    }

    /// The connected server's version, e.g. (3, 8, 4) (kazoo's call).
    #[pyo3(signature = (retries=3))]
    fn server_version<'py>(&self, py: Python<'py>, retries: u32) -> PyResult<Bound<'py, PyTuple>> {
        let c = self.conn()?;
        let version = py.detach(move || c.server_version(retries)).py_err()?;
        PyTuple::new(py, version)
    }

    /// The listeners `add_listener` added, in order (a copy).
    #[getter]
    fn state_listeners(&self, py: Python<'_>) -> Vec<Py<PyAny>> {
        lock(&self.listeners)
            .fns
            .iter()
            .map(|l| l.clone_ref(py))
            .collect()
    }

    /// Frees the connection; same as `stop` for zkrs (kept for kazoo code).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.stop(py)
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.borrow().start(slf.py(), 15.0)?;
        Ok(slf)
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.stop(py)?;
        Ok(false)
    }

    /// "CONNECTED", "SUSPENDED" or "LOST" (kazoo's KazooState).
    #[getter]
    fn state(&self) -> &'static str {
        match lock(&self.conn).as_ref() {
            Some(c) => convert::kazoo_state(c.state()),
            None => "LOST",
        }
    }

    #[getter]
    fn connected(&self) -> bool {
        lock(&self.conn)
            .as_ref()
            .is_some_and(|c| c.state().is_connected())
    }

    /// `(session_id, password)` while started, else None.
    #[getter]
    fn client_id<'py>(&self, py: Python<'py>) -> Option<(i64, Bound<'py, PyBytes>)> {
        lock(&self.conn)
            .as_ref()
            .map(|c| (c.session_id(), PyBytes::new(py, &c.session_password())))
    }

    #[getter]
    fn hosts(&self) -> String {
        self.hosts.clone()
    }

    /// For `zkrs.testing.expire_session`: ends the session on the server
    /// now; returns once the client is connected in a new one.
    fn _expire_session_for_test(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let c = self.conn()?;
        let t = std::time::Duration::try_from_secs_f64(timeout).map_err(|_| {
            pyo3::exceptions::PyValueError::new_err("timeout must be a non-negative number")
        })?;
        py.detach(move || c.call(move |zk| async move { zk.expire_session_for_test(t).await }))
            .py_err()
    }

    /// For `zkrs.testing.drop_connection`: cuts the client's connection.
    fn _drop_connection_for_test(&self, py: Python<'_>) -> PyResult<()> {
        let c = self.conn()?;
        py.detach(move || c.call(|zk| async move { zk.drop_connection_for_test().await }))
            .py_err()
    }

    /// The member ("host:port") of the current connection (or of the last
    /// one while reconnecting); None before the first (a zkrs addition).
    #[getter]
    fn server(&self) -> Option<String> {
        let c = lock(&self.conn).clone()?;
        Some(c.as_async().server()).filter(|s| !s.is_empty())
    }

    /// Calls `fn(state)` on every session state change.
    fn add_listener(&self, py: Python<'_>, listener: Py<PyAny>) -> PyResult<()> {
        if !listener.bind(py).is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "listener must be callable",
            ));
        }
        if self.equal_listeners(py, &listener).is_empty() {
            lock(&self.listeners).fns.push(listener);
        }
        Ok(())
    }

    /// Removes the listener equal to `listener`.
    fn remove_listener(&self, py: Python<'_>, listener: Py<PyAny>) {
        let gone = self.equal_listeners(py, &listener);
        lock(&self.listeners)
            .fns
            .retain(|l| !gone.iter().any(|g| g.is(l)));
    }

    #[pyo3(signature = (path, value=Some(b"".as_slice()), acl=None, ephemeral=false, sequence=false, makepath=false, include_data=false, container=false, ttl=None))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        py: Python<'_>,
        path: String,
        value: Option<&[u8]>,
        acl: Option<&Bound<'_, PyAny>>,
        ephemeral: bool,
        sequence: bool,
        makepath: bool,
        include_data: bool,
        container: bool,
        ttl: Option<i64>,
    ) -> PyResult<Py<PyAny>> {
        let c = self.conn()?;
        let how = (ephemeral, sequence, container, ttl);
        let node = NewNode::kazoo(path, value, acl, how, makepath)?;
        let created = py
            .detach(move || c.call(|c| async move { node.create(&c).await }))
            .py_err()?;
        NewNode::created(include_data)(py, created)
    }

    /// Creates `path` and any missing parents; True.
    #[pyo3(signature = (path, acl=None))]
    fn ensure_path(
        &self,
        py: Python<'_>,
        path: String,
        acl: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let c = self.conn()?;
        let acl = convert::acls(acl)?;
        py.detach(move || c.ensure_path(&path, &acl)).py_err()?;
        Ok(true)
    }

    /// `(value, ZnodeStat)`; `watch(event)` fires on the next change.
    #[pyo3(signature = (path, watch=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        path: String,
        watch: Option<Py<PyAny>>,
    ) -> PyResult<(Option<Bound<'py, PyBytes>>, Py<PyAny>)> {
        let c = self.conn()?;
        let w = self.watch(py, Kind::Data, &path, watch)?;
        let (data, stat) = py.detach(move || c.get_data_or_null(&path, w)).py_err()?;
        let data = data.map(|d| PyBytes::new(py, &d));
        Ok((data, convert::stat(py, &stat)?))
    }

    /// `value` None sets null data (read back as None).
    #[pyo3(signature = (path, value, version=-1))]
    fn set(
        &self,
        py: Python<'_>,
        path: String,
        value: Option<&[u8]>,
        version: i32,
    ) -> PyResult<Py<PyAny>> {
        let c = self.conn()?;
        let data = value.map(<[u8]>::to_vec);
        let stat = py
            .detach(move || c.set_data_or_null(&path, data.as_deref(), version))
            .py_err()?;
        convert::stat(py, &stat)
    }

    #[pyo3(signature = (path, version=-1, recursive=false))]
    fn delete(
        &self,
        py: Python<'_>,
        path: String,
        version: i32,
        recursive: bool,
    ) -> PyResult<bool> {
        let c = self.conn()?;
        py.detach(move || {
            if recursive {
                c.delete_recursive(&path)
            } else {
                c.delete(&path, version)
            }
        })
        .py_err()?;
        Ok(true)
    }

    /// ZnodeStat or None; the watch fires on create, delete or change.
    #[pyo3(signature = (path, watch=None))]
    fn exists(
        &self,
        py: Python<'_>,
        path: String,
        watch: Option<Py<PyAny>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let c = self.conn()?;
        let w = self.watch(py, Kind::Data, &path, watch)?;
        let stat = py.detach(move || c.exists(&path, w)).py_err()?;
        stat.map(|s| convert::stat(py, &s)).transpose()
    }

    /// Child names; with `include_data`, `(names, ZnodeStat)`.
    #[pyo3(signature = (path, watch=None, include_data=false))]
    fn get_children(
        &self,
        py: Python<'_>,
        path: String,
        watch: Option<Py<PyAny>>,
        include_data: bool,
    ) -> PyResult<Py<PyAny>> {
        let c = self.conn()?;
        let w = self.watch(py, Kind::Child, &path, watch)?;
        if include_data {
            let (names, stat) = py.detach(move || c.get_children2(&path, w)).py_err()?;
            let out = (PyList::new(py, names)?, convert::stat(py, &stat)?);
            Ok(out.into_pyobject(py)?.into_any().unbind())
        } else {
            let names = py.detach(move || c.get_children(&path, w)).py_err()?;
            Ok(PyList::new(py, names)?.into_any().unbind())
        }
    }

    /// `([ACL, ...], ZnodeStat)`.
    fn get_acls<'py>(
        &self,
        py: Python<'py>,
        path: String,
    ) -> PyResult<(Bound<'py, PyList>, Py<PyAny>)> {
        let c = self.conn()?;
        let (acl, stat) = py.detach(move || c.get_acl(&path)).py_err()?;
        Ok((convert::acl_list(py, &acl)?, convert::stat(py, &stat)?))
    }

    #[pyo3(signature = (path, acls, version=-1))]
    fn set_acls(
        &self,
        py: Python<'_>,
        path: String,
        acls: &Bound<'_, PyAny>,
        version: i32,
    ) -> PyResult<Py<PyAny>> {
        let c = self.conn()?;
        let acl = convert::acls(Some(acls))?;
        let stat = py
            .detach(move || c.set_acl(&path, &acl, version))
            .py_err()?;
        convert::stat(py, &stat)
    }

    fn sync(&self, py: Python<'_>, path: String) -> PyResult<String> {
        let c = self.conn()?;
        let p = path.clone();
        py.detach(move || c.sync(&p)).py_err()?;
        Ok(path)
    }

    /// A persistent watch: `callback(event)` fires on every change of
    /// `path` (and, with `recursive`, of everything below it).
    #[pyo3(signature = (path, callback, recursive=false))]
    fn add_watch(
        &self,
        py: Python<'_>,
        path: String,
        callback: Py<PyAny>,
        recursive: bool,
    ) -> PyResult<()> {
        let c = self.conn()?;
        let w = convert::watcher(py, callback)?;
        let mode = if recursive {
            AddWatchMode::PersistentRecursive
        } else {
            AddWatchMode::Persistent
        };
        py.detach(move || c.add_watch(&path, mode, w)).py_err()
    }

    /// Removes every watch of `watcher_type` ("CHILDREN", "DATA", "ANY",
    /// "PERSISTENT", "PERSISTENT_RECURSIVE") this client has on `path`.
    #[pyo3(signature = (path, watcher_type="ANY", local=false))]
    fn remove_watches(
        &self,
        py: Python<'_>,
        path: String,
        watcher_type: &str,
        local: bool,
    ) -> PyResult<()> {
        let c = self.conn()?;
        let t = convert::watcher_type(watcher_type)?;
        py.detach(move || c.remove_watches(&path, t, local))
            .py_err()
    }

    /// Adds credentials to the session, e.g. `("digest", "user:password")`.
    fn add_auth(
        &self,
        py: Python<'_>,
        scheme: String,
        credential: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let c = self.conn()?;
        let cred = credential_bytes(credential)?;
        py.detach(move || c.add_auth(&scheme, &cred)).py_err()?;
        Ok(true)
    }

    /// A kazoo-style transaction; `commit()` sends it as one multi.
    fn transaction(slf: Py<Self>) -> TransactionRequest {
        TransactionRequest {
            client: slf,
            ops: Mutex::new(Vec::new()),
            committed: Mutex::new(false),
        }
    }

    fn __repr__(&self) -> String {
        format!("<zkrs.Client {} {}>", self.hosts, self.state())
    }

    /// Runs `func(*args, **kwargs)`, retrying it while it fails with a lost
    /// connection or a timeout (kazoo's `client.retry`), with backoff up to
    /// 60 s between tries; other errors, SessionExpired included, at once.
    /// A `command_retry` given to the constructor is used instead.
    #[pyo3(signature = (func, *args, **kwargs))]
    fn retry(
        &self,
        py: Python<'_>,
        func: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        if let Some(policy) = &self.command_retry {
            let mut all = vec![func.clone().unbind()];
            all.extend(args.iter().map(Bound::unbind));
            return policy.call(py, PyTuple::new(py, all)?, kwargs);
        }
        let policy = zkrs::client::RetryPolicy {
            max_tries: None,
            ..Default::default()
        };
        crate::retry::KazooRetry::with(policy).call(py, func, args, kwargs)
    }

    // kazoo's recipe factories: `client.Lock(path, identifier)` and so on.

    #[pyo3(name = "Lock", signature = (path, identifier=None))]
    fn lock_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<recipes::Lock> {
        recipes::Lock::new(slf, path, identifier, false)
    }

    #[pyo3(name = "WriteLock", signature = (path, identifier=None))]
    fn write_lock_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<recipes::Lock> {
        recipes::Lock::new(slf, path, identifier, false)
    }

    #[pyo3(name = "ReadLock", signature = (path, identifier=None))]
    fn read_lock_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<recipes::Lock> {
        recipes::Lock::new(slf, path, identifier, true)
    }

    #[pyo3(name = "Semaphore", signature = (path, identifier=None, max_leases=1))]
    fn semaphore_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        identifier: Option<&str>,
        max_leases: usize,
    ) -> PyResult<recipes::Semaphore> {
        recipes::Semaphore::new(slf, path, identifier, max_leases)
    }

    #[pyo3(name = "Election", signature = (path, identifier=None))]
    fn election_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<recipes::Election> {
        recipes::Election::new(slf, path, identifier)
    }

    #[pyo3(name = "Counter", signature = (path, default=None, support_curator=false))]
    fn counter_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        default: Option<&Bound<'_, PyAny>>,
        support_curator: bool,
    ) -> PyResult<recipes::Counter> {
        recipes::Counter::new(slf, path, default, support_curator)
    }

    #[pyo3(name = "Barrier")]
    fn barrier_recipe(slf: &Bound<'_, Self>, path: &str) -> PyResult<recipes::Barrier> {
        recipes::Barrier::new(slf, path)
    }

    #[pyo3(name = "DoubleBarrier", signature = (path, num_clients, identifier=None))]
    fn double_barrier_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        num_clients: usize,
        identifier: Option<&str>,
    ) -> PyResult<recipes::DoubleBarrier> {
        recipes::DoubleBarrier::new(slf, path, num_clients, identifier)
    }

    #[pyo3(name = "Queue")]
    fn queue_recipe(slf: &Bound<'_, Self>, path: &str) -> PyResult<recipes::Queue> {
        recipes::Queue::new(slf, path)
    }

    #[pyo3(name = "NonBlockingLease", signature = (path, duration, identifier=None, utcnow=None))]
    fn lease_recipe(
        slf: &Bound<'_, Self>,
        path: String,
        duration: &Bound<'_, PyAny>,
        identifier: Option<String>,
        utcnow: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<recipes::NonBlockingLease> {
        recipes::NonBlockingLease::new(slf.py(), slf, path, duration, identifier, utcnow)
    }

    #[pyo3(name = "MultiNonBlockingLease", signature = (count, path, duration, identifier=None, utcnow=None))]
    fn multi_lease_recipe(
        slf: &Bound<'_, Self>,
        count: usize,
        path: String,
        duration: &Bound<'_, PyAny>,
        identifier: Option<String>,
        utcnow: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<recipes::MultiNonBlockingLease> {
        let py = slf.py();
        recipes::MultiNonBlockingLease::new(py, slf, count, path, duration, identifier, utcnow)
    }

    #[pyo3(name = "LockingQueue")]
    fn locking_queue_recipe(slf: &Bound<'_, Self>, path: &str) -> PyResult<recipes::LockingQueue> {
        recipes::LockingQueue::new(slf, path)
    }

    #[pyo3(name = "Party", signature = (path, identifier=None))]
    fn party_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<recipes::Party> {
        recipes::Party::new(slf, path, identifier)
    }

    #[pyo3(name = "ShallowParty", signature = (path, identifier=None))]
    fn shallow_party_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<recipes::ShallowParty> {
        recipes::ShallowParty::new(slf, path, identifier)
    }

    #[pyo3(name = "SetPartitioner", signature = (path, set, partition_func=None, identifier=None,
                                                 time_boundary=30.0, max_reaction_time=1.0,
                                                 state_change_event=None))]
    #[allow(clippy::too_many_arguments)] // kazoo's keyword arguments
    fn set_partitioner_recipe(
        slf: &Bound<'_, Self>,
        path: String,
        set: &Bound<'_, PyAny>,
        partition_func: Option<Py<PyAny>>,
        identifier: Option<String>,
        time_boundary: f64,
        max_reaction_time: f64,
        state_change_event: Option<Py<PyAny>>,
    ) -> PyResult<crate::partitioner::SetPartitioner> {
        crate::partitioner::SetPartitioner::new(
            slf.py(),
            slf,
            path,
            set,
            partition_func,
            identifier,
            time_boundary,
            max_reaction_time,
            state_change_event,
        )
    }

    #[pyo3(name = "ServiceRegistry", signature = (root="/services"))]
    fn service_registry_recipe(
        slf: &Bound<'_, Self>,
        root: &str,
    ) -> PyResult<crate::registry::ServiceRegistry> {
        crate::registry::ServiceRegistry::new(slf, root)
    }

    #[pyo3(name = "DataWatch", signature = (path, func=None))]
    fn data_watch_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        func: Option<Py<PyAny>>,
    ) -> PyResult<recipes::DataWatch> {
        recipes::DataWatch::new(slf.py(), slf, path, func)
    }

    #[pyo3(name = "ChildrenWatch", signature = (path, func=None, allow_session_lost=true, send_event=false))]
    fn children_watch_recipe(
        slf: &Bound<'_, Self>,
        path: &str,
        func: Option<Py<PyAny>>,
        allow_session_lost: bool,
        send_event: bool,
    ) -> PyResult<recipes::ChildrenWatch> {
        recipes::ChildrenWatch::new(slf.py(), slf, path, func, allow_session_lost, send_event)
    }
}

impl Client {
    /// What a start connects with; None when started and the session
    /// lives. Starts the handler.
    fn prepare(&self, py: Python<'_>, timeout: f64) -> PyResult<Option<(String, ClientOptions)>> {
        {
            let mut conn = lock(&self.conn);
            match conn.as_ref() {
                Some(c) if !c.state().is_terminal() => return Ok(None),
                Some(_) => *conn = None,
                None => {}
            }
        }
        self.handler.call_method0(py, "start")?;
        let opts = ClientOptions {
            randomize_hosts: self.randomize_hosts,
            renew_expired: true,
            session_timeout: seconds(self.timeout, "timeout")?,
            connect_timeout: seconds(timeout, "timeout")?,
            read_only: self.read_only,
            auth: self.auth.clone(),
            resume: lock(&self.resume).take(),
            request_timeout: None, // kazoo's calls wait while the session lives
            tls: self.tls.clone(),
            sasl: self.sasl.clone(),
        };
        Ok(Some((self.hosts.clone(), opts)))
    }

    /// Takes a connected session as this client's.
    fn install(&self, py: Python<'_>, client: blocking::Client) {
        lock(&self.listeners).last = None;
        let listeners = self.listeners.clone();
        client.add_state_listener(Arc::new(move |s: SessionState| {
            notify(&listeners, convert::kazoo_state(s));
        }));
        // The listener was attached after the session came up: make sure
        // the Python listeners hear about it, as kazoo's do.
        let state = client.state();
        *lock(&self.conn) = Some(client);
        if state.is_connected() {
            let ls = self.listeners.clone();
            py.detach(move || notify(&ls, convert::kazoo_state(state)));
        }
    }

    /// The listeners equal to `listener`: kazoo keeps a set of them, and
    /// `obj.method` makes a new bound method each time, equal to the last.
    fn equal_listeners(&self, py: Python<'_>, listener: &Py<PyAny>) -> Vec<Py<PyAny>> {
        let now: Vec<Py<PyAny>> = lock(&self.listeners)
            .fns
            .iter()
            .map(|l| l.clone_ref(py))
            .collect();
        // Compared outside the lock: `__eq__` is Python code.
        now.into_iter()
            .filter(|l| l.bind(py).eq(listener.bind(py)).unwrap_or(false))
            .collect()
    }

    /// `watch` as a core watcher, through kazoo's tables.
    pub(crate) fn watch(
        &self,
        py: Python<'_>,
        kind: Kind,
        path: &str,
        watch: Option<Py<PyAny>>,
    ) -> PyResult<Option<zkrs::client::Watcher>> {
        let full = match (self.chroot()?, path) {
            (root, _) if root.is_empty() => path.to_string(),
            (root, "/") => root,
            (root, _) => root + path,
        };
        self.watches.watcher(py, kind, full, watch)
    }

    /// The order the `*_async` calls settle in.
    pub(crate) fn line(&self) -> &crate::client_async::Line {
        &self.line
    }

    /// The started client (for the recipes); ConnectionClosedError if not.
    pub(crate) fn started(&self) -> PyResult<blocking::Client> {
        self.conn()
    }

    /// The started client, cloned so the GIL can go; kazoo raises
    /// ConnectionClosedError when not started.
    fn conn(&self) -> PyResult<blocking::Client> {
        lock(&self.conn)
            .clone()
            .ok_or_else(|| ConnectionClosedError::new_err("Connection has been closed"))
    }
}

/// Calls every Python listener with `state`; an exception goes to
/// `sys.unraisablehook`.
fn notify(listeners: &Listeners, state: &'static str) {
    Python::attach(|py| {
        let ls: Vec<Py<PyAny>> = {
            let mut set = lock(listeners);
            if set.last == Some(state) {
                return;
            }
            set.last = Some(state);
            set.fns.iter().map(|l| l.clone_ref(py)).collect()
        };
        for l in ls {
            if let Err(e) = l.call1(py, (state,)) {
                e.write_unraisable(py, Some(l.bind(py)));
            }
        }
    })
}

/// kazoo's `TransactionRequest`: collects operations, `commit()` sends them
/// as one multi and returns one result per op (an exception instance in
/// place of each op that did not apply).
#[pyclass(module = "zkrs", name = "TransactionRequest")]
pub struct TransactionRequest {
    client: Py<Client>,
    ops: Mutex<Vec<Op>>,
    committed: Mutex<bool>,
}

impl TransactionRequest {
    fn push(&self, op: Op) -> PyResult<()> {
        if *lock(&self.committed) {
            return Err(PyValueError::new_err("Transaction already committed"));
        }
        lock(&self.ops).push(op);
        Ok(())
    }
}

#[pymethods]
impl TransactionRequest {
    #[pyo3(signature = (path, value=Some(b"".as_slice()), acl=None, ephemeral=false, sequence=false))]
    fn create(
        &self,
        path: &str,
        value: Option<&[u8]>,
        acl: Option<&Bound<'_, PyAny>>,
        ephemeral: bool,
        sequence: bool,
    ) -> PyResult<()> {
        let mode = create_mode(ephemeral, sequence, false, false).py_err()?;
        self.push(Op::Create {
            path: path.into(),
            data: value.map(<[u8]>::to_vec),
            acl: convert::acls(acl)?,
            mode,
        })
    }

    #[pyo3(signature = (path, version=-1))]
    fn delete(&self, path: &str, version: i32) -> PyResult<()> {
        self.push(Op::delete(path, version))
    }

    #[pyo3(signature = (path, value, version=-1))]
    fn set_data(&self, path: &str, value: Option<&[u8]>, version: i32) -> PyResult<()> {
        self.push(Op::SetData {
            path: path.into(),
            data: value.map(<[u8]>::to_vec),
            version,
        })
    }

    fn check(&self, path: &str, version: i32) -> PyResult<()> {
        self.push(Op::check(path, version))
    }

    /// Sends the operations; results in order: the created path, True,
    /// a ZnodeStat, True; or exception instances when the transaction
    /// failed (RolledBackError for ops that were undone).
    fn commit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ops = self.take_ops()?;
        let c = self.client.borrow(py).conn()?;
        let results = py.detach(move || c.multi_results(ops)).py_err()?;
        Ok(op_results(py, results)?.into_bound(py))
    }

    /// `commit` as kazoo's `commit_async`: an async result of the list.
    fn commit_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let ops = self.take_ops()?;
        let out: crate::client_async::Out<Vec<OpResult>> = op_results;
        let client = self.client.borrow(py);
        client.settle(py, move |c| async move { c.multi_results(ops).await }, out)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Commits unless the block raised (kazoo's behaviour).
    #[pyo3(signature = (exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_none() {
            self.commit(py)?;
        }
        Ok(false)
    }
}

impl TransactionRequest {
    /// The operations, once: a transaction is committed only once.
    fn take_ops(&self) -> PyResult<Vec<Op>> {
        let mut done = lock(&self.committed);
        if *done {
            return Err(PyValueError::new_err("Transaction already committed"));
        }
        *done = true;
        Ok(std::mem::take(&mut *lock(&self.ops)))
    }
}

/// A multi's results as kazoo lists them: the created path, True, a
/// ZnodeStat, True; or exception instances when the transaction failed
/// (RolledBackError for ops that were undone).
fn op_results(py: Python<'_>, results: Vec<OpResult>) -> PyResult<Py<PyAny>> {
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        out.push(match r {
            OpResult::Create { path, .. } => path.into_pyobject(py)?.into_any(),
            OpResult::Delete | OpResult::Check => true.into_pyobject(py)?.to_owned().into_any(),
            OpResult::SetData { stat } => convert::stat(py, &stat)?.into_bound(py),
            OpResult::Error { err } => errors::instance(py, err).into_bound(py),
        });
    }
    Ok(PyList::new(py, out)?.into_any().unbind())
}
