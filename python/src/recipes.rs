//! kazoo's recipe classes over `zkrs::recipes`: `Lock`, `ReadLock`,
//! `WriteLock`, `Semaphore`, `Election`, `Counter`, `Barrier`,
//! `DoubleBarrier`, `Queue`, `Party`, `ShallowParty`, `DataWatch`,
//! `ChildrenWatch`, with kazoo's constructor arguments and method names.
//! Each call copies its arguments, releases the GIL and waits for the core
//! recipe on the client's runtime; nothing here decides anything.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use zkrs::client::blocking;
use zkrs::recipes;
use zkrs::{Error, WatchedEvent};

use crate::client::Client;
use crate::client_async::settle_on;
use crate::convert;
use crate::errors::{self, IntoPy};

/// The started client's blocking handle (recipes live on its session).
pub(crate) fn session(client: &Bound<'_, Client>) -> PyResult<blocking::Client> {
    client.borrow().started()
}

fn ident(identifier: Option<&str>) -> Vec<u8> {
    identifier.unwrap_or("").as_bytes().to_vec()
}

/// kazoo's `blocking`/`timeout` pair as a core timeout.
fn wait_for(blocking: bool, timeout: Option<f64>) -> PyResult<Option<Duration>> {
    if !blocking {
        return Ok(Some(Duration::ZERO));
    }
    timeout
        .map(|t| {
            Duration::try_from_secs_f64(t)
                .map_err(|_| PyValueError::new_err("timeout must be a non-negative number"))
        })
        .transpose()
}

fn texts(items: Vec<Vec<u8>>) -> Vec<String> {
    items
        .into_iter()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

/// Runs a core recipe call with the GIL released.
pub(crate) fn run<T, Fut>(py: Python<'_>, c: &blocking::Client, fut: Fut) -> PyResult<T>
where
    T: Send + 'static,
    Fut: std::future::Future<Output = Result<T, Error>> + Send + 'static,
{
    let c = c.clone();
    py.detach(move || c.call(|_| fut)).py_err()
}

/// kazoo `Lock` (and, with `shared`, the lock behind `ReadLock`).
#[pyclass(module = "zkrs", name = "Lock")]
pub struct Lock {
    c: blocking::Client,
    inner: Arc<recipes::Lock>,
    /// The client's handler, for the `*_async` calls' results.
    handler: Py<PyAny>,
}

#[pymethods]
impl Lock {
    #[new]
    #[pyo3(signature = (client, path, identifier=None, *, shared=false))]
    pub(crate) fn new(
        client: &Bound<'_, Client>,
        path: &str,
        identifier: Option<&str>,
        shared: bool,
    ) -> PyResult<Self> {
        let c = session(client)?;
        let make = if shared {
            recipes::Lock::read
        } else {
            recipes::Lock::new
        };
        let inner = Arc::new(make(c.as_async(), path, &ident(identifier)));
        let handler = handler_of(client);
        Ok(Lock { c, inner, handler })
    }

    /// `acquire` as an async result of the client's handler (zkrs.aio
    /// awaits it).
    #[pyo3(signature = (blocking=true, timeout=None, ephemeral=true))]
    fn acquire_async(
        &self,
        py: Python<'_>,
        blocking: bool,
        timeout: Option<f64>,
        ephemeral: bool,
    ) -> PyResult<Py<PyAny>> {
        let held = self.inner.is_acquired();
        let t = wait_for(blocking, timeout)?;
        let (l, after) = (self.inner.clone(), self.inner.clone());
        let timed = blocking && timeout.is_some() && !held;
        let out = move |py: Python<'_>, got: bool| {
            let got = not_gotten(got, after.was_cancelled(), timed)?;
            Ok(got.into_pyobject(py)?.to_owned().into_any().unbind())
        };
        let op = move |_| async move { l.acquire_with(t, ephemeral).await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, out)
    }

    /// `release` as an async result of the client's handler.
    fn release_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let l = self.inner.clone();
        let op = move |_| async move { l.release().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    /// kazoo's acquire: True once held; False if `blocking=False` and it
    /// is taken; LockTimeout when `timeout` runs out, CancelledError after
    /// `cancel()`. Threads may share one Lock: one holds it at a time.
    #[pyo3(signature = (blocking=true, timeout=None, ephemeral=true))]
    fn acquire(
        &self,
        py: Python<'_>,
        blocking: bool,
        timeout: Option<f64>,
        ephemeral: bool,
    ) -> PyResult<bool> {
        // Held through this Lock (by another thread): kazoo waits for its
        // release and answers False, not LockTimeout, if the time runs out.
        let held = self.inner.is_acquired();
        let t = wait_for(blocking, timeout)?;
        let l = self.inner.clone();
        let got = run(
            py,
            &self.c,
            async move { l.acquire_with(t, ephemeral).await },
        )?;
        let timed = blocking && timeout.is_some() && !held;
        not_gotten(got, self.inner.was_cancelled(), timed)
    }

    /// Makes a waiting `acquire` raise CancelledError.
    fn cancel(&self) {
        self.inner.cancel();
    }

    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.was_cancelled()
    }

    /// Our node's name under the lock path while held.
    #[getter]
    fn node(&self) -> Option<String> {
        self.inner.node()
    }

    fn release(&self, py: Python<'_>) -> PyResult<bool> {
        let l = self.inner.clone();
        run(py, &self.c, async move { l.release().await })
    }

    /// False after the session expired: the lock is gone then.
    #[getter]
    fn is_acquired(&self) -> bool {
        self.inner.is_acquired()
    }

    /// Identifiers of holder and waiters, holder first.
    fn contenders(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let l = self.inner.clone();
        run(py, &self.c, async move { l.contenders().await }).map(texts)
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.borrow().acquire(slf.py(), true, None, true)?;
        Ok(slf)
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.release(py)?;
        Ok(false)
    }
}

/// kazoo's answer for an acquire that did not get the lock: CancelledError
/// after `cancel()`, LockTimeout when a timeout ran out, else False.
fn not_gotten(got: bool, cancelled: bool, timed: bool) -> PyResult<bool> {
    match (got, cancelled, timed) {
        (true, _, _) => Ok(true),
        (false, true, _) => Err(errors::CancelledError::new_err("acquire was cancelled")),
        (false, false, true) => Err(errors::LockTimeout::new_err(
            "timed out waiting for the lock",
        )),
        (false, false, false) => Ok(false),
    }
}

/// kazoo's answers for a semaphore acquire: ValueError for another
/// max_leases on the same path, then as for a lock.
fn lease_answer(got: Result<bool, Error>, s: &recipes::Semaphore, timed: bool) -> PyResult<bool> {
    match got {
        Err(Error::BadArguments) => Err(PyValueError::new_err("inconsistent max_leases")),
        Err(e) => Err(e).py_err(),
        Ok(got) => not_gotten(got, s.was_cancelled(), timed),
    }
}

/// The client's handler, for the recipes' `*_async` calls.
fn handler_of(client: &Bound<'_, Client>) -> Py<PyAny> {
    client.borrow().handler(client.py())
}

fn py_bool(py: Python<'_>, b: bool) -> PyResult<Py<PyAny>> {
    Ok(b.into_pyobject(py)?.to_owned().into_any().unbind())
}

/// Sets a handler event (kazoo's `Event.set()`) from a zkrs thread.
pub(crate) fn set_event(event: &Py<PyAny>) {
    Python::attach(|py| {
        if let Err(e) = event.call_method0(py, "set") {
            e.write_unraisable(py, None);
        }
    })
}

/// kazoo `Semaphore`.
#[pyclass(module = "zkrs", name = "Semaphore")]
pub struct Semaphore {
    c: blocking::Client,
    inner: Arc<recipes::Semaphore>,
    handler: Py<PyAny>,
    /// kazoo's `wake_event`: set each time a waiting acquire wakes.
    #[pyo3(get)]
    wake_event: Py<PyAny>,
}

#[pymethods]
impl Semaphore {
    #[new]
    #[pyo3(signature = (client, path, identifier=None, max_leases=1))]
    pub(crate) fn new(
        client: &Bound<'_, Client>,
        path: &str,
        identifier: Option<&str>,
        max_leases: usize,
    ) -> PyResult<Self> {
        if max_leases == 0 {
            return Err(PyValueError::new_err("max_leases must be at least 1"));
        }
        let c = session(client)?;
        let handler = handler_of(client);
        let wake_event = handler.call_method0(client.py(), "event_object")?;
        let wake = wake_event.clone_ref(client.py());
        let inner = recipes::Semaphore::new(c.as_async(), path, &ident(identifier), max_leases)
            .on_wake(move || set_event(&wake));
        Ok(Semaphore {
            c,
            inner: Arc::new(inner),
            handler,
            wake_event,
        })
    }

    /// As `Lock.acquire`, for a lease.
    #[pyo3(signature = (blocking=true, timeout=None))]
    fn acquire(&self, py: Python<'_>, blocking: bool, timeout: Option<f64>) -> PyResult<bool> {
        let t = wait_for(blocking, timeout)?;
        let s = self.inner.clone();
        let got = run(py, &self.c, async move { Ok(s.acquire(t).await) })?;
        lease_answer(got, &self.inner, blocking && timeout.is_some())
    }

    /// `acquire` as an async result of the client's handler.
    #[pyo3(signature = (blocking=true, timeout=None))]
    fn acquire_async(
        &self,
        py: Python<'_>,
        blocking: bool,
        timeout: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let t = wait_for(blocking, timeout)?;
        let (s, after) = (self.inner.clone(), self.inner.clone());
        let timed = blocking && timeout.is_some();
        let out = move |py: Python<'_>, got| py_bool(py, lease_answer(got, &after, timed)?);
        let op = move |_| async move { Ok(s.acquire(t).await) };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, out)
    }

    fn release_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = self.inner.clone();
        let op = move |_| async move { s.release().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    fn cancel(&self) {
        self.inner.cancel();
    }

    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.was_cancelled()
    }

    fn release(&self, py: Python<'_>) -> PyResult<bool> {
        let s = self.inner.clone();
        run(py, &self.c, async move { s.release().await })
    }

    #[getter]
    fn is_acquired(&self) -> bool {
        self.inner.is_acquired()
    }

    fn lease_holders(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let s = self.inner.clone();
        run(py, &self.c, async move { s.lease_holders().await }).map(texts)
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.borrow().acquire(slf.py(), true, None)?;
        Ok(slf)
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.release(py)?;
        Ok(false)
    }
}

/// kazoo `Election`: `run(func, *args, **kwargs)` once elected.
#[pyclass(module = "zkrs", name = "Election")]
pub struct Election {
    lock: Lock,
}

#[pymethods]
impl Election {
    #[new]
    #[pyo3(signature = (client, path, identifier=None))]
    pub(crate) fn new(
        client: &Bound<'_, Client>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<Self> {
        Ok(Election {
            lock: Lock::new(client, path, identifier, false)?,
        })
    }

    /// Waits to be elected, calls `func`, steps down; returns its result.
    #[pyo3(signature = (func, *args, **kwargs))]
    fn run(
        &self,
        py: Python<'_>,
        func: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        if !func.is_callable() {
            return Err(PyValueError::new_err("func must be callable"));
        }
        // kazoo: a cancelled candidate's run returns None.
        match self.lock.acquire(py, true, None, true) {
            Err(e) if e.is_instance_of::<errors::CancelledError>(py) => return Ok(py.None()),
            r => r?,
        };
        let out = func.call(args, kwargs);
        self.lock.release(py)?;
        Ok(out?.unbind())
    }

    fn contenders(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.lock.contenders(py)
    }

    /// Leaves the race: a `run` still waiting raises CancelledError.
    fn cancel(&self) {
        self.lock.cancel();
    }
}

/// kazoo `Counter`: `counter += n`, `counter -= n`, `counter.value`; an
/// int or (with a float `default`) a float; `support_curator=True` keeps
/// an int counter in Curator's `SharedCount` format.
#[pyclass(module = "zkrs", name = "Counter")]
pub struct Counter {
    c: blocking::Client,
    inner: Arc<recipes::Counter>,
    handler: Py<PyAny>,
    #[pyo3(get)]
    pre_value: Option<Py<PyAny>>,
    #[pyo3(get)]
    post_value: Option<Py<PyAny>>,
}

/// A Python int or float as a counter number; TypeError for anything else.
fn number(v: &Bound<'_, PyAny>) -> PyResult<recipes::Number> {
    if v.is_instance_of::<pyo3::types::PyFloat>() {
        return Ok(recipes::Number::Float(v.extract()?));
    }
    if v.is_instance_of::<pyo3::types::PyInt>() {
        return Ok(recipes::Number::Int(v.extract()?));
    }
    Err(PyTypeError::new_err("a counter holds an int or a float"))
}

fn py_number(py: Python<'_>, n: recipes::Number) -> PyResult<Py<PyAny>> {
    Ok(match n {
        recipes::Number::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        recipes::Number::Float(f) => f.into_pyobject(py)?.into_any().unbind(),
    })
}

#[pymethods]
impl Counter {
    #[new]
    #[pyo3(signature = (client, path, default=None, support_curator=false))]
    pub(crate) fn new(
        client: &Bound<'_, Client>,
        path: &str,
        default: Option<&Bound<'_, PyAny>>,
        support_curator: bool,
    ) -> PyResult<Self> {
        let c = session(client)?;
        let default = default
            .map(number)
            .transpose()?
            .unwrap_or(recipes::Number::Int(0));
        let format = match support_curator {
            true => recipes::CounterFormat::Curator,
            false => recipes::CounterFormat::Text,
        };
        let inner = recipes::Counter::with_format(c.as_async(), path, default, format)
            .map_err(|_| PyTypeError::new_err("a Curator counter holds an int"))?;
        Ok(Counter {
            c,
            inner: Arc::new(inner),
            handler: handler_of(client),
            pre_value: None,
            post_value: None,
        })
    }

    #[getter]
    fn value(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let n = self.inner.clone();
        let now = run(py, &self.c, async move { n.number().await })?;
        py_number(py, now)
    }

    /// `value` as an async result of the client's handler.
    fn value_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let n = self.inner.clone();
        let op = move |_| async move { n.number().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_number)
    }

    /// Adds `delta`; an async result of `(before, after)`.
    fn add_async(&self, py: Python<'_>, delta: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let d = self.delta(delta)?;
        let n = self.inner.clone();
        let op = move |_| async move { n.add_number(d).await };
        let out = |py: Python<'_>, (before, after)| {
            let pair = (py_number(py, before)?, py_number(py, after)?);
            Ok(pair.into_pyobject(py)?.into_any().unbind())
        };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, out)
    }

    fn __add__<'py>(
        slf: Bound<'py, Self>,
        delta: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let d = slf.borrow().delta(delta)?;
        let n = slf.borrow().inner.clone();
        let c = slf.borrow().c.clone();
        let (before, after) = run(py, &c, async move { n.add_number(d).await })?;
        let mut me = slf.borrow_mut();
        me.pre_value = Some(py_number(py, before)?);
        me.post_value = Some(py_number(py, after)?);
        drop(me);
        Ok(slf)
    }

    fn __sub__<'py>(
        slf: Bound<'py, Self>,
        delta: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let negated = delta
            .call_method0("__neg__")
            .map_err(|_| PyTypeError::new_err("a counter holds an int or a float"))?;
        Self::__add__(slf, &negated)
    }
}

impl Counter {
    /// A delta of the counter's own kind (kazoo's TypeError otherwise).
    fn delta(&self, delta: &Bound<'_, PyAny>) -> PyResult<recipes::Number> {
        let d = number(delta)?;
        if matches!(d, recipes::Number::Float(_)) != self.inner.holds_floats() {
            return Err(PyTypeError::new_err(
                "the delta must be of the counter's type",
            ));
        }
        Ok(d)
    }
}

/// kazoo's lease arguments: the duration (a timedelta), the identifier
/// (the host name by default) and now from `utcnow()` (a naive UTC
/// datetime; `datetime.utcnow`'s value by default).
fn lease_args(
    py: Python<'_>,
    duration: &Bound<'_, PyAny>,
    identifier: Option<String>,
    utcnow: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Duration, String, chrono::NaiveDateTime)> {
    let secs: f64 = duration.call_method0("total_seconds")?.extract()?;
    let span = Duration::try_from_secs_f64(secs)
        .map_err(|_| PyValueError::new_err("duration must not be negative"))?;
    let ident = match identifier {
        Some(i) => i,
        None => py
            .import("socket")?
            .call_method0("gethostname")?
            .extract()?,
    };
    let now = match utcnow {
        Some(f) => f.call0()?,
        None => {
            let dt = py.import("datetime")?.getattr("datetime")?;
            let utc = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
            let aware = dt.call_method1("now", (utc,))?;
            let kw = PyDict::new(py);
            kw.set_item("tzinfo", py.None())?;
            aware.call_method("replace", (), Some(&kw))?
        }
    };
    let now: chrono::NaiveDateTime = now
        .extract()
        .map_err(|_| PyValueError::new_err("utcnow() must return a naive datetime"))?;
    Ok((span, ident, now))
}

/// kazoo `NonBlockingLease`: tries once, in the constructor, to take or
/// renew the lease; true (`obtained`) if it is ours until the duration
/// ends.
#[pyclass(module = "zkrs", name = "NonBlockingLease")]
pub struct NonBlockingLease {
    #[pyo3(get)]
    obtained: bool,
}

#[pymethods]
impl NonBlockingLease {
    #[new]
    #[pyo3(signature = (client, path, duration, identifier=None, utcnow=None))]
    pub(crate) fn new(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        path: String,
        duration: &Bound<'_, PyAny>,
        identifier: Option<String>,
        utcnow: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let c = session(client)?;
        let (span, ident, now) = lease_args(py, duration, identifier, utcnow)?;
        let obtained = run(py, &c.clone(), async move {
            recipes::obtain_lease(c.as_async(), &path, span, &ident, now).await
        })?;
        Ok(NonBlockingLease { obtained })
    }

    /// The constructor's attempt as the client handler's async result,
    /// settled with the lease object.
    #[staticmethod]
    #[pyo3(signature = (client, path, duration, identifier=None, utcnow=None))]
    fn obtain_async(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        path: String,
        duration: &Bound<'_, PyAny>,
        identifier: Option<String>,
        utcnow: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (span, ident, now) = lease_args(py, duration, identifier, utcnow)?;
        let op = move |c: zkrs::client::Client| async move {
            recipes::obtain_lease(&c, &path, span, &ident, now).await
        };
        let out = |py: Python<'_>, obtained| lease_object(py, NonBlockingLease { obtained });
        settle_on(py, &handler_of(client), session(client), op, out)
    }

    fn __bool__(&self) -> bool {
        self.obtained
    }
}

fn lease_object<T>(py: Python<'_>, lease: T) -> PyResult<Py<PyAny>>
where
    T: pyo3::PyClass + Into<pyo3::PyClassInitializer<T>>,
{
    Ok(Py::new(py, lease)?.into_any())
}

/// kazoo `MultiNonBlockingLease`: one of `count` leases under `path`.
#[pyclass(module = "zkrs", name = "MultiNonBlockingLease")]
pub struct MultiNonBlockingLease {
    #[pyo3(get)]
    obtained: bool,
}

#[pymethods]
impl MultiNonBlockingLease {
    #[new]
    #[pyo3(signature = (client, count, path, duration, identifier=None, utcnow=None))]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        count: usize,
        path: String,
        duration: &Bound<'_, PyAny>,
        identifier: Option<String>,
        utcnow: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let c = session(client)?;
        let (span, ident, now) = lease_args(py, duration, identifier, utcnow)?;
        let obtained = run(py, &c.clone(), async move {
            recipes::obtain_one_of(c.as_async(), count, &path, span, &ident, now).await
        })?;
        Ok(MultiNonBlockingLease { obtained })
    }

    /// As `NonBlockingLease.obtain_async`.
    #[staticmethod]
    #[pyo3(signature = (client, count, path, duration, identifier=None, utcnow=None))]
    #[allow(clippy::too_many_arguments)]
    fn obtain_async(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        count: usize,
        path: String,
        duration: &Bound<'_, PyAny>,
        identifier: Option<String>,
        utcnow: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (span, ident, now) = lease_args(py, duration, identifier, utcnow)?;
        let op = move |c: zkrs::client::Client| async move {
            recipes::obtain_one_of(&c, count, &path, span, &ident, now).await
        };
        let out = |py: Python<'_>, obtained| lease_object(py, MultiNonBlockingLease { obtained });
        settle_on(py, &handler_of(client), session(client), op, out)
    }

    fn __bool__(&self) -> bool {
        self.obtained
    }
}

/// kazoo `Barrier`.
#[pyclass(module = "zkrs", name = "Barrier")]
pub struct Barrier {
    c: blocking::Client,
    inner: Arc<recipes::Barrier>,
    handler: Py<PyAny>,
}

#[pymethods]
impl Barrier {
    #[new]
    pub(crate) fn new(client: &Bound<'_, Client>, path: &str) -> PyResult<Self> {
        let c = session(client)?;
        let inner = Arc::new(recipes::Barrier::new(c.as_async(), path));
        let handler = handler_of(client);
        Ok(Barrier { c, inner, handler })
    }

    fn create_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let b = self.inner.clone();
        let op = move |_| async move { b.create().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, |py, ()| {
            Ok(py.None())
        })
    }

    fn remove_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let b = self.inner.clone();
        let op = move |_| async move { b.remove().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    #[pyo3(signature = (timeout=None))]
    fn wait_async(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let t = wait_for(true, timeout)?;
        let b = self.inner.clone();
        let op = move |_| async move { b.wait(t).await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    fn create(&self, py: Python<'_>) -> PyResult<()> {
        let b = self.inner.clone();
        run(py, &self.c, async move { b.create().await })
    }

    fn remove(&self, py: Python<'_>) -> PyResult<bool> {
        let b = self.inner.clone();
        run(py, &self.c, async move { b.remove().await })
    }

    /// True once the barrier is down; False if `timeout` ran out.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = wait_for(true, timeout)?;
        let b = self.inner.clone();
        run(py, &self.c, async move { b.wait(t).await })
    }
}

/// kazoo `DoubleBarrier`.
#[pyclass(module = "zkrs", name = "DoubleBarrier")]
pub struct DoubleBarrier {
    c: blocking::Client,
    inner: Arc<recipes::DoubleBarrier>,
    handler: Py<PyAny>,
}

#[pymethods]
impl DoubleBarrier {
    #[new]
    #[pyo3(signature = (client, path, num_clients, identifier=None))]
    pub(crate) fn new(
        client: &Bound<'_, Client>,
        path: &str,
        num_clients: usize,
        identifier: Option<&str>,
    ) -> PyResult<Self> {
        let c = session(client)?;
        let b = recipes::DoubleBarrier::new(c.as_async(), path, num_clients, &ident(identifier));
        Ok(DoubleBarrier {
            c,
            inner: Arc::new(b),
            handler: handler_of(client),
        })
    }

    #[pyo3(signature = (timeout=None))]
    fn enter_async(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let t = wait_for(true, timeout)?;
        let b = self.inner.clone();
        // As `enter`: a server error leaves us out (False), as kazoo's does.
        let op = move |_| async move { Ok(b.enter(t).await.unwrap_or(false)) };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    #[pyo3(signature = (timeout=None))]
    fn leave_async(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let t = wait_for(true, timeout)?;
        let b = self.inner.clone();
        let op = move |_| async move { b.leave(t).await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    /// True once all have entered; False if `timeout` ran out or entering
    /// failed on the server (kazoo swallows that error too: its `enter`
    /// leaves `participating` false and returns).
    #[pyo3(signature = (timeout=None))]
    fn enter(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = wait_for(true, timeout)?;
        let b = self.inner.clone();
        match run(py, &self.c, async move { b.enter(t).await }) {
            Err(e) if e.is_instance_of::<errors::ZkError>(py) => Ok(false),
            r => r,
        }
    }

    #[getter]
    fn path(&self) -> String {
        let p = self.inner.node_path();
        p[..p.rfind('/').unwrap_or(0)].to_string()
    }

    #[getter]
    fn create_path(&self) -> String {
        self.inner.node_path().to_string()
    }

    #[pyo3(signature = (timeout=None))]
    fn leave(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = wait_for(true, timeout)?;
        let b = self.inner.clone();
        run(py, &self.c, async move { b.leave(t).await })
    }

    #[getter]
    fn participating(&self) -> bool {
        self.inner.is_participating()
    }
}

/// kazoo `Queue`: `put(value, priority=100)`, `get()`, `len()`.
#[pyclass(module = "zkrs", name = "Queue")]
pub struct Queue {
    c: blocking::Client,
    inner: Arc<recipes::Queue>,
    handler: Py<PyAny>,
    #[pyo3(get)]
    path: String,
}

#[pymethods]
impl Queue {
    #[new]
    pub(crate) fn new(client: &Bound<'_, Client>, path: &str) -> PyResult<Self> {
        let c = session(client)?;
        let inner = Arc::new(recipes::Queue::new(c.as_async(), path));
        let path = path.to_string();
        let handler = handler_of(client);
        Ok(Queue {
            c,
            inner,
            handler,
            path,
        })
    }

    #[pyo3(signature = (value, priority=None))]
    fn put_async(
        &self,
        py: Python<'_>,
        value: Py<PyAny>,
        priority: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let value = queue_value(value.bind(py))?;
        let priority = queue_priority(py, priority)?;
        let q = self.inner.clone();
        let op = move |_| async move { q.put(&value, priority).await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, |py, ()| {
            Ok(py.None())
        })
    }

    fn get_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let q = self.inner.clone();
        let op = move |_| async move { q.get().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, optional_bytes)
    }

    fn len_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let q = self.inner.clone();
        let op = move |_| async move { q.len().await };
        let out = |py: Python<'_>, n: usize| Ok(n.into_pyobject(py)?.into_any().unbind());
        settle_on(py, &self.handler, Ok(self.c.clone()), op, out)
    }

    /// `value` must be bytes and `priority` an int in 0..=999 (kazoo's
    /// checks: TypeError, ValueError).
    #[pyo3(signature = (value, priority=None))]
    fn put(&self, py: Python<'_>, value: Py<PyAny>, priority: Option<Py<PyAny>>) -> PyResult<()> {
        let value = queue_value(value.bind(py))?;
        let priority = queue_priority(py, priority)?;
        let q = self.inner.clone();
        run(py, &self.c, async move { q.put(&value, priority).await })
    }

    #[pyo3(signature = (values, priority=None))]
    fn put_all(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        priority: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let items = queue_values(values)?;
        let priority = queue_priority(py, priority)?;
        let q = self.inner.clone();
        run(py, &self.c, async move {
            for v in items {
                q.put(&v, priority).await?;
            }
            Ok(())
        })
    }

    /// The first item, or None if the queue is empty.
    fn get<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let q = self.inner.clone();
        let item = run(py, &self.c, async move { q.get().await })?;
        Ok(item.map(|b| PyBytes::new(py, &b)))
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let q = self.inner.clone();
        run(py, &self.c, async move { q.len().await })
    }
}

/// kazoo `LockingQueue`: `get(timeout)` locks an item instead of taking
/// it; `consume()` removes it, `release()` gives it back; an item whose
/// consumer's session ended is offered again.
#[pyclass(module = "zkrs", name = "LockingQueue")]
pub struct LockingQueue {
    c: blocking::Client,
    inner: Arc<recipes::LockingQueue>,
    handler: Py<PyAny>,
    #[pyo3(get)]
    path: String,
}

#[pymethods]
impl LockingQueue {
    #[new]
    pub(crate) fn new(client: &Bound<'_, Client>, path: &str) -> PyResult<Self> {
        let c = session(client)?;
        let inner = Arc::new(recipes::LockingQueue::new(c.as_async(), path));
        let path = path.to_string();
        let handler = handler_of(client);
        Ok(LockingQueue {
            c,
            inner,
            handler,
            path,
        })
    }

    #[pyo3(signature = (value, priority=None))]
    fn put_async(
        &self,
        py: Python<'_>,
        value: Py<PyAny>,
        priority: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let items = vec![queue_value(value.bind(py))?];
        self.put_all_items_async(py, items, priority)
    }

    #[pyo3(signature = (values, priority=None))]
    fn put_all_async(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        priority: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let items = queue_values(values)?;
        self.put_all_items_async(py, items, priority)
    }

    #[pyo3(signature = (timeout=None))]
    fn get_async(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let t = wait_for(true, timeout)?;
        let q = self.inner.clone();
        let op = move |_| async move { q.get(t).await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, optional_bytes)
    }

    fn holds_lock_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let q = self.inner.clone();
        let op = move |_| async move { q.holds_lock().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    fn consume_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let q = self.inner.clone();
        let op = move |_| async move { q.consume().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    fn release_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let q = self.inner.clone();
        let op = move |_| async move { q.release().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    fn len_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let q = self.inner.clone();
        let op = move |_| async move { q.len().await };
        let out = |py: Python<'_>, n: usize| Ok(n.into_pyobject(py)?.into_any().unbind());
        settle_on(py, &self.handler, Ok(self.c.clone()), op, out)
    }

    /// As `Queue.put`.
    #[pyo3(signature = (value, priority=None))]
    fn put(&self, py: Python<'_>, value: Py<PyAny>, priority: Option<Py<PyAny>>) -> PyResult<()> {
        let value = queue_value(value.bind(py))?;
        let priority = queue_priority(py, priority)?;
        let q = self.inner.clone();
        run(py, &self.c, async move { q.put(&value, priority).await })
    }

    /// All of `values` in one transaction.
    #[pyo3(signature = (values, priority=None))]
    fn put_all(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        priority: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let items = queue_values(values)?;
        let priority = queue_priority(py, priority)?;
        let q = self.inner.clone();
        run(
            py,
            &self.c,
            async move { q.put_all(&items, priority).await },
        )
    }

    /// Locks and returns the first free item; None if none came within
    /// `timeout` seconds (None: wait for one).
    #[pyo3(signature = (timeout=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let t = wait_for(true, timeout)?;
        let q = self.inner.clone();
        let item = run(py, &self.c, async move { q.get(t).await })?;
        Ok(item.map(|b| PyBytes::new(py, &b)))
    }

    fn holds_lock(&self, py: Python<'_>) -> PyResult<bool> {
        let q = self.inner.clone();
        run(py, &self.c, async move { q.holds_lock().await })
    }

    fn consume(&self, py: Python<'_>) -> PyResult<bool> {
        let q = self.inner.clone();
        run(py, &self.c, async move { q.consume().await })
    }

    fn release(&self, py: Python<'_>) -> PyResult<bool> {
        let q = self.inner.clone();
        run(py, &self.c, async move { q.release().await })
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let q = self.inner.clone();
        run(py, &self.c, async move { q.len().await })
    }
}

impl LockingQueue {
    /// `put` and `put_all` as one transaction of `items`.
    fn put_all_items_async(
        &self,
        py: Python<'_>,
        items: Vec<Vec<u8>>,
        priority: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let priority = queue_priority(py, priority)?;
        let q = self.inner.clone();
        let op = move |_| async move { q.put_all(&items, priority).await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, |py, ()| {
            Ok(py.None())
        })
    }
}

fn optional_bytes(py: Python<'_>, item: Option<Vec<u8>>) -> PyResult<Py<PyAny>> {
    Ok(match item {
        Some(b) => PyBytes::new(py, &b).into_any().unbind(),
        None => py.None(),
    })
}

fn queue_values(values: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u8>>> {
    if !values.is_instance_of::<pyo3::types::PyList>() {
        return Err(PyTypeError::new_err("values must be a list of bytes"));
    }
    values.try_iter()?.map(|v| queue_value(&v?)).collect()
}

fn queue_value(v: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    v.cast::<PyBytes>()
        .map(|b| b.as_bytes().to_vec())
        .map_err(|_| PyTypeError::new_err("value must be a byte string"))
}

/// kazoo's default priority is 100.
fn queue_priority(py: Python<'_>, p: Option<Py<PyAny>>) -> PyResult<u16> {
    let Some(p) = p else { return Ok(100) };
    let p = p.bind(py);
    if !p.is_exact_instance_of::<pyo3::types::PyInt>() {
        return Err(PyTypeError::new_err("priority must be an int"));
    }
    match p.extract::<i64>() {
        Ok(n @ 0..=999) => Ok(n as u16),
        _ => Err(PyValueError::new_err("priority must be between 0 and 999")),
    }
}

/// kazoo `Party`: `join()`, `leave()`, iterate identifiers, `len()`.
#[pyclass(module = "zkrs", name = "Party")]
pub struct Party {
    c: blocking::Client,
    inner: Arc<recipes::Party>,
    handler: Py<PyAny>,
    /// kazoo's `data`: the identifier as bytes.
    data: Vec<u8>,
}

#[pymethods]
impl Party {
    #[new]
    #[pyo3(signature = (client, path, identifier=None))]
    pub(crate) fn new(
        client: &Bound<'_, Client>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<Self> {
        let c = session(client)?;
        let data = ident(identifier);
        let inner = Arc::new(recipes::Party::new(c.as_async(), path, &data));
        let handler = handler_of(client);
        Ok(Party {
            c,
            inner,
            handler,
            data,
        })
    }

    fn join_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let p = self.inner.clone();
        let op = move |_| async move { p.join().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, |py, ()| {
            Ok(py.None())
        })
    }

    fn leave_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let p = self.inner.clone();
        let op = move |_| async move { p.leave().await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, py_bool)
    }

    /// The members' identifiers, as an async result.
    fn members_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let p = self.inner.clone();
        let op = move |_| async move { p.members().await };
        let out =
            |py: Python<'_>, m: Vec<Vec<u8>>| Ok(texts(m).into_pyobject(py)?.into_any().unbind());
        settle_on(py, &self.handler, Ok(self.c.clone()), op, out)
    }

    fn join(&self, py: Python<'_>) -> PyResult<()> {
        let p = self.inner.clone();
        run(py, &self.c, async move { p.join().await })
    }

    fn leave(&self, py: Python<'_>) -> PyResult<bool> {
        let p = self.inner.clone();
        run(py, &self.c, async move { p.leave().await })
    }

    #[getter]
    fn participating(&self) -> bool {
        self.inner.is_member()
    }

    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    /// Our member node's path.
    #[getter]
    fn create_path(&self) -> String {
        self.inner.node_path().to_string()
    }

    /// Our member node's name.
    #[getter]
    fn node(&self) -> String {
        let p = self.inner.node_path();
        p.rsplit('/').next().unwrap_or(p).to_string()
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let p = self.inner.clone();
        let members = texts(run(py, &self.c, async move { p.members().await })?);
        Ok(members.into_pyobject(py)?.try_iter()?.into_any().unbind())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let p = self.inner.clone();
        run(py, &self.c, async move { p.len().await })
    }
}

/// kazoo `ShallowParty`: members are listed from node names alone.
#[pyclass(module = "zkrs", name = "ShallowParty")]
pub struct ShallowParty {
    c: blocking::Client,
    inner: Arc<recipes::ShallowParty>,
    /// kazoo's `data`: the identifier as bytes.
    data: Vec<u8>,
}

#[pymethods]
impl ShallowParty {
    #[new]
    #[pyo3(signature = (client, path, identifier=None))]
    pub(crate) fn new(
        client: &Bound<'_, Client>,
        path: &str,
        identifier: Option<&str>,
    ) -> PyResult<Self> {
        let id = identifier.unwrap_or("");
        if id.contains('/') {
            return Err(PyValueError::new_err("identifier must not contain '/'"));
        }
        let c = session(client)?;
        let inner = Arc::new(recipes::ShallowParty::new(c.as_async(), path, id));
        let data = id.as_bytes().to_vec();
        Ok(ShallowParty { c, inner, data })
    }

    fn join(&self, py: Python<'_>) -> PyResult<()> {
        let p = self.inner.clone();
        run(py, &self.c, async move { p.join().await })
    }

    fn leave(&self, py: Python<'_>) -> PyResult<bool> {
        let p = self.inner.clone();
        run(py, &self.c, async move { p.leave().await })
    }

    #[getter]
    fn participating(&self) -> bool {
        self.inner.is_member()
    }

    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    /// Our member node's path.
    #[getter]
    fn create_path(&self) -> String {
        self.inner.node_path().to_string()
    }

    /// Our member node's name.
    #[getter]
    fn node(&self) -> String {
        let p = self.inner.node_path();
        p.rsplit('/').next().unwrap_or(p).to_string()
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let p = self.inner.clone();
        let members = run(py, &self.c, async move { p.members().await })?;
        Ok(members.into_pyobject(py)?.try_iter()?.into_any().unbind())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let p = self.inner.clone();
        run(py, &self.c, async move { p.len().await })
    }
}

/// What `DataWatch` and `ChildrenWatch` share: the session, the path and
/// the running watch (which runs on when the Python object is dropped, as
/// kazoo's watches do, until `stop()`). One function per watch (kazoo's
/// rule).
struct Standing {
    c: blocking::Client,
    path: String,
    running: Mutex<Option<recipes::WatchHandle>>,
    used: AtomicBool,
    /// Set when the watch's task lets go of its callback (it ended).
    ended: Arc<AtomicBool>,
}

impl Standing {
    fn new(client: &Bound<'_, Client>, path: &str) -> PyResult<Standing> {
        Ok(Standing {
            c: session(client)?,
            path: path.to_string(),
            running: Mutex::new(None),
            used: Default::default(),
            ended: Default::default(),
        })
    }

    fn stop(&self) {
        if let Some(w) = self.running.lock().unwrap().take() {
            w.stop();
        }
    }

    fn is_stopped(&self) -> bool {
        let running = self.running.lock().unwrap();
        self.ended.load(Ordering::SeqCst) || !running.as_ref().is_some_and(|w| w.is_running())
    }

    /// Checks `func` and takes this watch's one use.
    fn take(&self, py: Python<'_>, func: &Py<PyAny>, kind: &str) -> PyResult<()> {
        callable(py, func)?;
        if self.used.swap(true, Ordering::SeqCst) {
            return Err(errors::ConfigurationError::new_err(format!(
                "A function has already been associated with this {kind} instance."
            )));
        }
        Ok(())
    }

    /// Starts a core watch with the runtime entered and keeps its handle.
    /// With `wait`, returns once the first callback ran (kazoo calls
    /// `func` before the constructor returns) or the watch ended without one.
    fn run<W>(
        &self,
        py: Python<'_>,
        wait: bool,
        start: impl FnOnce(FirstCall) -> W,
        detach: impl FnOnce(W) -> Option<recipes::WatchHandle>,
    ) {
        let (first, called) = std::sync::mpsc::sync_channel::<()>(1);
        let watch = {
            let _rt = self.c.runtime().enter();
            start(FirstCall {
                first,
                ended: self.ended.clone(),
            })
        };
        *self.running.lock().unwrap() = detach(watch);
        if wait {
            py.detach(move || called.recv().ok());
        }
    }
}

/// Signals the first callback; dropped with the watch's task, it marks
/// the watch ended (before the waiting constructor sees the channel close).
struct FirstCall {
    first: std::sync::mpsc::SyncSender<()>,
    ended: Arc<AtomicBool>,
}

impl FirstCall {
    fn done(&self) {
        let _ = self.first.try_send(());
    }
}

impl Drop for FirstCall {
    fn drop(&mut self) {
        self.ended.store(true, Ordering::SeqCst);
    }
}

fn callable(py: Python<'_>, func: &Py<PyAny>) -> PyResult<()> {
    if func.bind(py).is_callable() {
        Ok(())
    } else {
        Err(PyTypeError::new_err("func must be callable"))
    }
}

/// kazoo passes the event to a DataWatch function that takes three
/// arguments.
fn takes_event(py: Python<'_>, func: &Py<PyAny>) -> bool {
    let params = || -> PyResult<usize> {
        let sig = py.import("inspect")?.call_method1("signature", (func,))?;
        sig.getattr("parameters")?.len()
    };
    params().is_ok_and(|n| n >= 3)
}

/// Calls a watch callback from a zkrs thread. It may make blocking zkrs
/// calls: `block_in_place` tells tokio this worker blocks, so the calls'
/// own tasks still run.
pub(crate) fn call_back(
    func: &Py<PyAny>,
    args: impl FnOnce(Python<'_>) -> PyResult<Py<PyTuple>>,
) -> bool {
    tokio::task::block_in_place(|| {
        Python::attach(|py| match args(py) {
            Ok(args) => keep_going(py, func, func.call1(py, args.bind(py))),
            Err(_) => false,
        })
    })
}

fn event_arg(py: Python<'_>, event: Option<WatchedEvent>) -> PyResult<Py<PyAny>> {
    match event {
        Some(e) => convert::event(py, &e),
        None => Ok(py.None()),
    }
}

/// kazoo `DataWatch`: `func(data, stat)` (with `event` too if it takes a
/// third argument) now and after each change (None while the node does not
/// exist); returning False stops it. Usable as a decorator:
/// `@client.DataWatch("/path")`.
#[pyclass(module = "zkrs", name = "DataWatch")]
pub struct DataWatch {
    w: Standing,
}

#[pymethods]
impl DataWatch {
    #[new]
    #[pyo3(signature = (client, path, func=None))]
    pub(crate) fn new(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        path: &str,
        func: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let me = DataWatch {
            w: Standing::new(client, path)?,
        };
        if let Some(f) = func {
            me.start(py, f, true)?;
        }
        Ok(me)
    }

    /// The decorator form: starts the watch with `func` and returns it.
    fn __call__(&self, py: Python<'_>, func: Py<PyAny>) -> PyResult<Py<PyAny>> {
        self.start(py, func.clone_ref(py), true)?;
        Ok(func)
    }

    /// Starts the watch with `func` and returns at once; the first call
    /// comes from zkrs's event thread later (for callers that must not
    /// block, as `zkrs.aio`).
    fn begin(&self, py: Python<'_>, func: Py<PyAny>) -> PyResult<()> {
        self.start(py, func, false)
    }

    fn stop(&self) {
        self.w.stop();
    }

    #[getter]
    fn _stopped(&self) -> bool {
        self.w.is_stopped()
    }
}

impl DataWatch {
    fn start(&self, py: Python<'_>, func: Py<PyAny>, wait: bool) -> PyResult<()> {
        self.w.take(py, &func, "DataWatch")?;
        let with_event = takes_event(py, &func);
        let c = self.w.c.as_async();
        self.w.run(
            py,
            wait,
            |first| {
                recipes::DataWatch::new(c, &self.w.path, move |now, event| {
                    let keep = call_back(&func, |py| {
                        let (data, stat) = match &now {
                            Some((data, stat)) => (
                                PyBytes::new(py, data).into_any().unbind(),
                                convert::stat(py, stat)?,
                            ),
                            None => (py.None(), py.None()),
                        };
                        let mut args = vec![data, stat];
                        if with_event {
                            args.push(event_arg(py, event)?);
                        }
                        Ok(PyTuple::new(py, args)?.unbind())
                    });
                    first.done();
                    keep
                })
            },
            recipes::DataWatch::detach,
        );
        Ok(())
    }
}

/// kazoo `ChildrenWatch`: `func(children)` (`func(children, event)` with
/// `send_event`) now and after each change; returning False stops it, and
/// so does the node's absence. Usable as a decorator.
#[pyclass(module = "zkrs", name = "ChildrenWatch")]
pub struct ChildrenWatch {
    w: Standing,
    allow_session_lost: bool,
    send_event: bool,
}

#[pymethods]
impl ChildrenWatch {
    #[new]
    #[pyo3(signature = (client, path, func=None, allow_session_lost=true, send_event=false))]
    pub(crate) fn new(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        path: &str,
        func: Option<Py<PyAny>>,
        allow_session_lost: bool,
        send_event: bool,
    ) -> PyResult<Self> {
        let me = ChildrenWatch {
            w: Standing::new(client, path)?,
            allow_session_lost,
            send_event,
        };
        if let Some(f) = func {
            me.start(py, f, true)?;
        }
        Ok(me)
    }

    fn __call__(&self, py: Python<'_>, func: Py<PyAny>) -> PyResult<Py<PyAny>> {
        self.start(py, func.clone_ref(py), true)?;
        Ok(func)
    }

    /// Starts the watch with `func` and returns at once; the first call
    /// comes from zkrs's event thread later (for callers that must not
    /// block, as `zkrs.aio`).
    fn begin(&self, py: Python<'_>, func: Py<PyAny>) -> PyResult<()> {
        self.start(py, func, false)
    }

    fn stop(&self) {
        self.w.stop();
    }

    #[getter]
    fn _stopped(&self) -> bool {
        self.w.is_stopped()
    }
}

impl ChildrenWatch {
    fn start(&self, py: Python<'_>, func: Py<PyAny>, wait: bool) -> PyResult<()> {
        self.w.take(py, &func, "ChildrenWatch")?;
        let send_event = self.send_event;
        let c = self.w.c.as_async();
        let begin = if self.allow_session_lost {
            recipes::ChildrenWatch::new
        } else {
            recipes::ChildrenWatch::session_bound
        };
        self.w.run(
            py,
            wait,
            |first| {
                begin(c, &self.w.path, move |names: Vec<String>, event| {
                    let keep = call_back(&func, |py| {
                        let mut args = vec![names.into_pyobject(py)?.into_any().unbind()];
                        if send_event {
                            args.push(event_arg(py, event)?);
                        }
                        Ok(PyTuple::new(py, args)?.unbind())
                    });
                    first.done();
                    keep
                })
            },
            recipes::ChildrenWatch::detach,
        );
        Ok(())
    }
}

/// kazoo's rule: a callback that returns False stops the watch; an
/// exception is reported (unraisable) and the watch goes on.
fn keep_going(py: Python<'_>, func: &Py<PyAny>, r: PyResult<Py<PyAny>>) -> bool {
    match r {
        Ok(v) => !v.bind(py).is(&*pyo3::types::PyBool::new(py, false)),
        Err(e) => {
            e.write_unraisable(py, Some(func.bind(py)));
            true
        }
    }
}
