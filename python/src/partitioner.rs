//! kazoo `SetPartitioner` over `zkrs::recipes::SetPartitioner`: the set's
//! Python objects go to the core by name (`str(item)`, the lock node's
//! name) and come back as the caller's objects; a `partition_func` and the
//! `state_change_event` are called from the core's tasks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use zkrs::client::blocking;
use zkrs::recipes::{self, PartitionFn, PartitionState, PartitionerOptions, StateListener};

use crate::client::Client;
use crate::client_async::settle_on;
use crate::recipes::{run, session, set_event};

#[pyclass(module = "zkrs", name = "SetPartitioner")]
pub struct SetPartitioner {
    c: blocking::Client,
    inner: Arc<recipes::SetPartitioner>,
    /// The set's objects by name, to hand back what the caller passed.
    items: HashMap<String, Py<PyAny>>,
    /// Set on every state change (kazoo's attribute; the caller may pass
    /// its own event).
    #[pyo3(get)]
    state_change_event: Py<PyAny>,
    /// The client's handler, for the `*_async` calls' results.
    handler: Py<PyAny>,
}

#[pymethods]
impl SetPartitioner {
    #[new]
    #[pyo3(signature = (client, path, set, partition_func=None, identifier=None,
                        time_boundary=30.0, max_reaction_time=1.0, state_change_event=None))]
    #[allow(clippy::too_many_arguments)] // kazoo's keyword arguments
    pub(crate) fn new(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        path: String,
        set: &Bound<'_, PyAny>,
        partition_func: Option<Py<PyAny>>,
        identifier: Option<String>,
        time_boundary: f64,
        max_reaction_time: f64,
        state_change_event: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let c = session(client)?;
        let args = (partition_func, identifier, time_boundary, max_reaction_time);
        let plan = Plan::new(py, client, set, args, state_change_event)?;
        let (cc, names, opts) = (c.as_async().clone(), plan.names.clone(), plan.opts());
        let inner = run(py, &c, async move {
            recipes::SetPartitioner::new(&cc, &path, names, opts).await
        })?;
        Ok(plan.into_partitioner(c, inner))
    }

    /// The constructor as the client handler's async result, settled with
    /// the partitioner once it has joined the party.
    #[staticmethod]
    #[pyo3(signature = (client, path, set, partition_func=None, identifier=None,
                        time_boundary=30.0, max_reaction_time=1.0, state_change_event=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_async(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        path: String,
        set: &Bound<'_, PyAny>,
        partition_func: Option<Py<PyAny>>,
        identifier: Option<String>,
        time_boundary: f64,
        max_reaction_time: f64,
        state_change_event: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let c = session(client)?;
        let args = (partition_func, identifier, time_boundary, max_reaction_time);
        let plan = Plan::new(py, client, set, args, state_change_event)?;
        let (names, opts) = (plan.names.clone(), plan.opts());
        let op = move |cc: zkrs::client::Client| async move {
            recipes::SetPartitioner::new(&cc, &path, names, opts).await
        };
        let out = move |py: Python<'_>, inner| {
            Ok(Py::new(py, plan.into_partitioner(c, inner))?.into_any())
        };
        let handler = client.borrow().handler(py);
        settle_on(py, &handler, session(client), op, out)
    }

    /// kazoo's `PartitionState` value: "ALLOCATING", "ACQUIRED", "RELEASE"
    /// or "FAILURE".
    #[getter]
    fn state(&self) -> &'static str {
        match self.inner.state() {
            PartitionState::Allocating => "ALLOCATING",
            PartitionState::Acquired => "ACQUIRED",
            PartitionState::Release => "RELEASE",
            PartitionState::Failure => "FAILURE",
        }
    }

    #[getter]
    fn failed(&self) -> bool {
        self.inner.state() == PartitionState::Failure
    }

    #[getter]
    fn release(&self) -> bool {
        self.inner.state() == PartitionState::Release
    }

    #[getter]
    fn allocating(&self) -> bool {
        self.inner.state() == PartitionState::Allocating
    }

    #[getter]
    fn acquired(&self) -> bool {
        self.inner.state() == PartitionState::Acquired
    }

    /// Our items, as the objects of the set passed in.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mine: Vec<&Py<PyAny>> = self
            .inner
            .partitions()
            .iter()
            .filter_map(|name| self.items.get(name))
            .collect();
        PyList::new(py, mine)?.try_iter().map(|i| i.into_any())
    }

    #[pyo3(signature = (timeout=30.0))]
    fn wait_for_acquire(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        let timeout = timeout.map(seconds).transpose()?;
        let p = self.inner.clone();
        run(
            py,
            &self.c,
            async move { Ok(p.wait_for_acquire(timeout).await) },
        )
        .map(drop)
    }

    fn release_set(&self, py: Python<'_>) -> PyResult<()> {
        let p = self.inner.clone();
        run(py, &self.c, async move {
            p.release_set().await;
            Ok(())
        })
    }

    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        let p = self.inner.clone();
        run(py, &self.c, async move {
            p.finish().await;
            Ok(())
        })
    }

    #[pyo3(signature = (timeout=30.0))]
    fn wait_for_acquire_async(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let timeout = timeout.map(seconds).transpose()?;
        let p = self.inner.clone();
        let op = move |_| async move { Ok(p.wait_for_acquire(timeout).await) };
        self.settle(py, op)
    }

    fn release_set_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let p = self.inner.clone();
        self.settle(py, move |_| async move {
            p.release_set().await;
            Ok(())
        })
    }

    fn finish_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let p = self.inner.clone();
        self.settle(py, move |_| async move {
            p.finish().await;
            Ok(())
        })
    }

    /// kazoo's test suite fails a partitioner this way (as its session
    /// ending would).
    fn _fail_out(&self, py: Python<'_>) -> PyResult<()> {
        self.finish(py)
    }
}

impl SetPartitioner {
    /// Settles the handler's async result with None when `op` is done.
    fn settle<T, F, Fut>(&self, py: Python<'_>, op: F) -> PyResult<Py<PyAny>>
    where
        T: Send + 'static,
        F: FnOnce(zkrs::client::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, zkrs::Error>> + Send + 'static,
    {
        let handler = self.handler.clone_ref(py);
        settle_on(py, &handler, Ok(self.c.clone()), op, |py, _| Ok(py.None()))
    }
}

/// kazoo's optional arguments: partition_func, identifier, time_boundary,
/// max_reaction_time.
type Options = (Option<Py<PyAny>>, Option<String>, f64, f64);

/// What the constructor works out from its Python arguments before the
/// core partitioner starts: the set's names, its objects by name, the
/// options and the state event.
struct Plan {
    names: Vec<String>,
    items: HashMap<String, Py<PyAny>>,
    split: Option<PartitionFn>,
    identifier: String,
    time_boundary: Duration,
    max_reaction_time: Duration,
    event: Py<PyAny>,
    handler: Py<PyAny>,
}

impl Plan {
    fn new(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        set: &Bound<'_, PyAny>,
        (partition_func, identifier, time_boundary, max_reaction_time): Options,
        state_change_event: Option<Py<PyAny>>,
    ) -> PyResult<Plan> {
        // kazoo's default split sorts the set the Python way.
        let objs = match partition_func {
            None => py.import("builtins")?.call_method1("sorted", (set,))?,
            Some(_) => PyList::new(py, set.try_iter()?.collect::<PyResult<Vec<_>>>()?)?.into_any(),
        };
        let objs: Vec<Bound<'_, PyAny>> = objs.try_iter()?.collect::<PyResult<_>>()?;
        let names: Vec<String> = objs
            .iter()
            .map(|o| o.str().map(|s| s.to_string()))
            .collect::<PyResult<_>>()?;
        let event = match state_change_event {
            Some(e) => e,
            None => client
                .getattr("handler")?
                .call_method0("event_object")?
                .unbind(),
        };
        let split = partition_func
            .map(|f| python_split(f, PyList::new(py, &objs)?.unbind()))
            .transpose()?;
        let items = names
            .iter()
            .cloned()
            .zip(objs.iter().map(|o| o.clone().unbind()))
            .collect();
        Ok(Plan {
            names,
            items,
            split,
            identifier: match identifier {
                Some(id) => id,
                None => default_identifier(py)?,
            },
            time_boundary: seconds(time_boundary)?,
            max_reaction_time: seconds(max_reaction_time)?,
            handler: client.borrow().handler(py),
            event,
        })
    }

    fn opts(&self) -> PartitionerOptions {
        Python::attach(|py| PartitionerOptions {
            identifier: self.identifier.clone(),
            time_boundary: self.time_boundary,
            max_reaction_time: self.max_reaction_time,
            partition: self.split.clone(),
            on_state: Some(setter(self.event.clone_ref(py))),
        })
    }

    fn into_partitioner(
        self,
        c: blocking::Client,
        inner: recipes::SetPartitioner,
    ) -> SetPartitioner {
        SetPartitioner {
            c,
            inner: Arc::new(inner),
            items: self.items,
            state_change_event: self.event,
            handler: self.handler,
        }
    }
}

fn seconds(s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| PyValueError::new_err("times must be non-negative"))
}

/// kazoo's default identifier: `<fqdn>-<pid>`.
fn default_identifier(py: Python<'_>) -> PyResult<String> {
    let host = py.import("socket")?.call_method0("getfqdn")?;
    Ok(format!("{}-{}", host, std::process::id()))
}

fn setter(event: Py<PyAny>) -> StateListener {
    Arc::new(move |_| set_event(&event))
}

/// Calls `func(identifier, members, set)` and names what it returns; an
/// exception fails the partitioner (after `sys.unraisablehook` saw it).
fn python_split(func: Py<PyAny>, set: Py<PyList>) -> PyResult<PartitionFn> {
    Ok(Arc::new(
        move |identifier: &str, members: &[String], _names: &[String]| {
            tokio::task::block_in_place(|| {
                Python::attach(|py| {
                    let mine = func
                        .call1(
                            py,
                            (
                                PyString::new(py, identifier),
                                members.to_vec(),
                                set.bind(py),
                            ),
                        )
                        .and_then(|r| {
                            r.bind(py)
                                .try_iter()?
                                .map(|o| o.and_then(|o| o.str().map(|s| s.to_string())))
                                .collect::<PyResult<Vec<String>>>()
                        });
                    mine.map_err(|e| e.write_unraisable(py, None)).ok()
                })
            })
        },
    ))
}
