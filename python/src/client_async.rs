//! kazoo's `*_async` calls on `zkrs.Client`: each starts the core call on
//! the client's runtime and returns at once an async result of the
//! client's handler (`get()`, `rawlink()`, ...), which the call's
//! completion settles with the converted value or the exception. No thread
//! waits per call. A client that is not started gives a result already
//! failed with ConnectionClosedError, as kazoo's does.

use std::future::Future;
use std::sync::Mutex;

use tokio::sync::mpsc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use zkrs::client::{self as core, blocking, AddWatchMode};
use zkrs::{Acl, CreateMode, Error, Stat};

use crate::client::{create_mode, parent, Client};
use crate::convert;
use crate::errors::IntoPy;
use crate::watch_tables::Kind;

/// A converter from the core's value to the Python value, under the GIL.
pub(crate) type Out<T> = fn(Python<'_>, T) -> PyResult<Py<PyAny>>;

#[pymethods]
impl Client {
    #[pyo3(signature = (path, value=Some(b"".as_slice()), acl=None, ephemeral=false, sequence=false, makepath=false, include_data=false, container=false, ttl=None))]
    #[allow(clippy::too_many_arguments)] // kazoo's keyword arguments
    fn create_async(
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
        let how = (ephemeral, sequence, container, ttl);
        let node = NewNode::kazoo(path, value, acl, how, makepath)?;
        let out = NewNode::created(include_data);
        self.settle(py, move |c| async move { node.create(&c).await }, out)
    }

    #[pyo3(signature = (path, acl=None))]
    fn ensure_path_async(
        &self,
        py: Python<'_>,
        path: String,
        acl: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let acl = convert::acls(acl)?;
        let out: Out<()> = |py, ()| Ok(true.into_pyobject(py)?.to_owned().into_any().unbind());
        self.settle(
            py,
            move |c| async move { c.ensure_path(&path, &acl).await },
            out,
        )
    }

    #[pyo3(signature = (path, watch=None))]
    fn exists_async(
        &self,
        py: Python<'_>,
        path: String,
        watch: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let w = self.watch(py, Kind::Data, &path, watch)?;
        let out: Out<Option<Stat>> = |py, stat| match stat {
            Some(s) => convert::stat(py, &s),
            None => Ok(py.None()),
        };
        self.settle(py, move |c| async move { c.exists(&path, w).await }, out)
    }

    #[pyo3(signature = (path, watch=None))]
    fn get_async(
        &self,
        py: Python<'_>,
        path: String,
        watch: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let w = self.watch(py, Kind::Data, &path, watch)?;
        let out: Out<(Option<Vec<u8>>, Stat)> = |py, (data, stat)| {
            let data = data.map(|d| PyBytes::new(py, &d));
            let pair = (data, convert::stat(py, &stat)?);
            Ok(pair.into_pyobject(py)?.into_any().unbind())
        };
        self.settle(
            py,
            move |c| async move { c.get_data_or_null(&path, w).await },
            out,
        )
    }

    #[pyo3(signature = (path, watch=None, include_data=false))]
    fn get_children_async(
        &self,
        py: Python<'_>,
        path: String,
        watch: Option<Py<PyAny>>,
        include_data: bool,
    ) -> PyResult<Py<PyAny>> {
        let w = self.watch(py, Kind::Child, &path, watch)?;
        if include_data {
            let out: Out<(Vec<String>, Stat)> = |py, (names, stat)| {
                let pair = (PyList::new(py, names)?, convert::stat(py, &stat)?);
                Ok(pair.into_pyobject(py)?.into_any().unbind())
            };
            return self.settle(
                py,
                move |c| async move { c.get_children2(&path, w).await },
                out,
            );
        }
        let out: Out<Vec<String>> = |py, names| Ok(PyList::new(py, names)?.into_any().unbind());
        self.settle(
            py,
            move |c| async move { c.get_children(&path, w).await },
            out,
        )
    }

    #[pyo3(signature = (path, value, version=-1))]
    fn set_async(
        &self,
        py: Python<'_>,
        path: String,
        value: Option<&[u8]>,
        version: i32,
    ) -> PyResult<Py<PyAny>> {
        let data = value.map(<[u8]>::to_vec);
        let out: Out<Stat> = |py, stat| convert::stat(py, &stat);
        self.settle(
            py,
            move |c| async move { c.set_data_or_null(&path, data.as_deref(), version).await },
            out,
        )
    }

    /// `recursive` (a zkrs addition to kazoo's signature) deletes the
    /// whole subtree, as `delete(recursive=True)` does.
    #[pyo3(signature = (path, version=-1, recursive=false))]
    fn delete_async(
        &self,
        py: Python<'_>,
        path: String,
        version: i32,
        recursive: bool,
    ) -> PyResult<Py<PyAny>> {
        let out: Out<()> = |py, ()| Ok(true.into_pyobject(py)?.to_owned().into_any().unbind());
        let op = move |c: core::Client| async move {
            if recursive {
                c.delete_recursive(&path).await
            } else {
                c.delete(&path, version).await
            }
        };
        self.settle(py, op, out)
    }

    fn get_acls_async(&self, py: Python<'_>, path: String) -> PyResult<Py<PyAny>> {
        let out: Out<(Vec<Acl>, Stat)> = |py, (acl, stat)| {
            let pair = (convert::acl_list(py, &acl)?, convert::stat(py, &stat)?);
            Ok(pair.into_pyobject(py)?.into_any().unbind())
        };
        self.settle(py, move |c| async move { c.get_acl(&path).await }, out)
    }

    #[pyo3(signature = (path, acls, version=-1))]
    fn set_acls_async(
        &self,
        py: Python<'_>,
        path: String,
        acls: &Bound<'_, PyAny>,
        version: i32,
    ) -> PyResult<Py<PyAny>> {
        let acl = convert::acls(Some(acls))?;
        let out: Out<Stat> = |py, stat| convert::stat(py, &stat);
        self.settle(
            py,
            move |c| async move { c.set_acl(&path, &acl, version).await },
            out,
        )
    }

    fn sync_async(&self, py: Python<'_>, path: String) -> PyResult<Py<PyAny>> {
        let out: Out<String> = |py, path| Ok(path.into_pyobject(py)?.into_any().unbind());
        self.settle(
            py,
            move |c| async move { c.sync(&path).await.map(|()| path) },
            out,
        )
    }

    fn add_auth_async(
        &self,
        py: Python<'_>,
        scheme: String,
        credential: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let cred: Vec<u8> = match credential.extract::<String>() {
            Ok(s) => s.into_bytes(),
            Err(_) => credential.extract()?,
        };
        let out: Out<()> = |py, ()| Ok(true.into_pyobject(py)?.to_owned().into_any().unbind());
        self.settle(
            py,
            move |c| async move { c.add_auth(&scheme, &cred).await },
            out,
        )
    }

    #[pyo3(signature = (path, callback, recursive=false))]
    fn add_watch_async(
        &self,
        py: Python<'_>,
        path: String,
        callback: Py<PyAny>,
        recursive: bool,
    ) -> PyResult<Py<PyAny>> {
        let w = convert::watcher(py, callback)?;
        let mode = if recursive {
            AddWatchMode::PersistentRecursive
        } else {
            AddWatchMode::Persistent
        };
        let out: Out<()> = |py, ()| Ok(py.None());
        self.settle(
            py,
            move |c| async move { c.add_watch(&path, mode, w).await },
            out,
        )
    }
}

impl Client {
    /// Starts `op` on the client's runtime and returns the handler's async
    /// result that its outcome settles.
    pub(crate) fn settle<T, F, Fut, O>(&self, py: Python<'_>, op: F, out: O) -> PyResult<Py<PyAny>>
    where
        T: Send + 'static,
        F: FnOnce(core::Client) -> Fut,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
        O: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    {
        let line = Some(self.line());
        settle_with(py, &self.handler(py), self.started(), op, out, line)
    }
}

/// The order in which one client's plain `*_async` calls settle: call
/// order, as kazoo's one callback thread delivers replies. (Settled each
/// from its own task, two replies could reach Python in either order, and
/// kazoo's TreeCache then saw a child's creation before its parent's.)
/// The recipes' waits are not in it: one would hold up every later call.
#[derive(Default)]
pub(crate) struct Line(Mutex<Option<mpsc::UnboundedSender<Settle>>>);

type Settle = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

impl Line {
    /// Runs `settle` after every settle queued on this line before it.
    fn queue(&self, rt: &tokio::runtime::Runtime, settle: Settle) {
        let mut slot = zkrs::lock(&self.0);
        let tx = slot.get_or_insert_with(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<Settle>();
            rt.spawn(async move {
                while let Some(settle) = rx.recv().await {
                    settle.await;
                }
            });
            tx
        });
        if let Err(mpsc::error::SendError(settle)) = tx.send(settle) {
            // The line's runtime is gone (a forked child has a new one).
            *slot = None;
            rt.spawn(settle);
        }
    }
}

/// Starts `op` on the session's runtime; returns `handler.async_result()`,
/// which the outcome settles (converted by `out`). Without a session
/// (`conn` is the error) the result is failed at once.
pub(crate) fn settle_on<T, F, Fut, O>(
    py: Python<'_>,
    handler: &Py<PyAny>,
    conn: PyResult<blocking::Client>,
    op: F,
    out: O,
) -> PyResult<Py<PyAny>>
where
    T: Send + 'static,
    F: FnOnce(core::Client) -> Fut,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
    O: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    settle_with(py, handler, conn, op, out, None)
}

fn settle_with<T, F, Fut, O>(
    py: Python<'_>,
    handler: &Py<PyAny>,
    conn: PyResult<blocking::Client>,
    op: F,
    out: O,
    line: Option<&Line>,
) -> PyResult<Py<PyAny>>
where
    T: Send + 'static,
    F: FnOnce(core::Client) -> Fut,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
    O: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    // In a forked child the session and its runtime are the parent's: fail
    // as the blocking calls do, rather than wait for a task that never runs.
    let forked = |c: &blocking::Client| !c.in_this_process();
    let c = match conn {
        Ok(c) if forked(&c) => Err(Error::SessionExpired).py_err(),
        other => other,
    };
    let c = match c {
        Ok(c) => c,
        Err(failed) => {
            let result = handler.call_method0(py, "async_result")?;
            result.call_method1(py, "set_exception", (failed.value(py),))?;
            return Ok(result);
        }
    };
    let fut = op(c.as_async().clone());
    let (result, settle) = settling(py, handler, c.runtime(), fut, out)?;
    match line {
        Some(line) => line.queue(c.runtime(), settle),
        None => drop(c.runtime().spawn(settle)),
    }
    Ok(result)
}

/// Submits `fut` on `rt` now (its request goes out in call order: kazoo's
/// `*_async` calls keep the session's FIFO order); returns
/// `handler.async_result()`, settled with its outcome.
pub(crate) fn settle_on_runtime<T, Fut, O>(
    py: Python<'_>,
    handler: &Py<PyAny>,
    rt: &tokio::runtime::Runtime,
    fut: Fut,
    out: O,
) -> PyResult<Py<PyAny>>
where
    T: Send + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
    O: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let (result, settle) = settling(py, handler, rt, fut, out)?;
    rt.spawn(settle);
    Ok(result)
}

/// The async result for `fut` (submitted now) and the task that settles it.
fn settling<T, Fut, O>(
    py: Python<'_>,
    handler: &Py<PyAny>,
    rt: &tokio::runtime::Runtime,
    fut: Fut,
    out: O,
) -> PyResult<(Py<PyAny>, Settle)>
where
    T: Send + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
    O: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let result = handler.call_method0(py, "async_result")?;
    let settled = result.clone_ref(py);
    let submitted = zkrs::runtime::submit(rt, fut);
    let settle = Box::pin(async move {
        let outcome = submitted
            .wait()
            .await
            .unwrap_or_else(|_| Err(Error::Io("the zkrs call panicked".into())));
        // Setting the result may run callbacks: let tokio move other
        // tasks off this worker meanwhile.
        tokio::task::block_in_place(|| Python::attach(|py| finish(py, &settled, outcome, out)));
    });
    Ok((result, settle))
}

fn finish<T, O>(py: Python<'_>, result: &Py<PyAny>, outcome: Result<T, Error>, out: O)
where
    O: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>>,
{
    let done = match outcome.py_err().and_then(|v| out(py, v)) {
        Ok(v) => result.call_method1(py, "set", (v,)),
        Err(e) => result.call_method1(py, "set_exception", (e.value(py),)),
    };
    if let Err(e) = done {
        e.write_unraisable(py, Some(result.bind(py)));
    }
}

/// A create with kazoo's options: `makepath` creates missing parents (with
/// the same ACL) and tries again.
pub(crate) struct NewNode {
    pub path: String,
    /// `None`: null data (kazoo's `value=None`).
    pub data: Option<Vec<u8>>,
    pub acl: Vec<Acl>,
    pub mode: CreateMode,
    pub ttl: Option<i64>,
    pub makepath: bool,
}

impl NewNode {
    /// From kazoo's arguments; `how` is (ephemeral, sequence, container,
    /// ttl).
    pub fn kazoo(
        path: String,
        value: Option<&[u8]>,
        acl: Option<&Bound<'_, PyAny>>,
        how: (bool, bool, bool, Option<i64>),
        makepath: bool,
    ) -> PyResult<NewNode> {
        let (ephemeral, sequence, container, ttl) = how;
        Ok(NewNode {
            path,
            data: value.map(<[u8]>::to_vec),
            acl: convert::acls(acl)?,
            mode: create_mode(ephemeral, sequence, container, ttl.is_some()).py_err()?,
            ttl,
            makepath,
        })
    }

    /// kazoo's answer: the path, or `(path, ZnodeStat)` with `include_data`.
    pub fn created(include_data: bool) -> Out<(String, Stat)> {
        if include_data {
            |py, (path, stat)| {
                let pair = (path, convert::stat(py, &stat)?);
                Ok(pair.into_pyobject(py)?.into_any().unbind())
            }
        } else {
            |py, (path, _)| Ok(path.into_pyobject(py)?.into_any().unbind())
        }
    }

    pub async fn create(&self, c: &core::Client) -> Result<(String, Stat), Error> {
        match self.once(c).await {
            Err(Error::NoNode) if self.makepath => {
                if let Some(p) = parent(&self.path) {
                    c.ensure_path(p, &self.acl).await?;
                }
                self.once(c).await
            }
            r => r,
        }
    }

    async fn once(&self, c: &core::Client) -> Result<(String, Stat), Error> {
        c.create_node(
            &self.path,
            self.data.as_deref(),
            &self.acl,
            self.mode,
            self.ttl,
        )
        .await
    }
}
