//! `zkrs.TreeCache` over `zkrs::recipes::TreeCache`, with kazoo's
//! `TreeCache` methods: `start()`, `close()`, `listen(func)`,
//! `get_data(path)`, `get_children(path)`; listeners get a `TreeEvent`
//! from zkrs's thread.

use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyFrozenSet, PyTuple};
use zkrs::client::blocking;
use zkrs::recipes::{self, CacheEvent};

use crate::client::Client;
use crate::convert;
use crate::recipes::{call_back, session};

type Listeners = Arc<Mutex<Vec<Py<PyAny>>>>;

#[pyclass(module = "zkrs", name = "TreeCache")]
pub struct TreeCache {
    c: blocking::Client,
    #[pyo3(get)]
    path: String,
    listeners: Listeners,
    running: Mutex<Option<recipes::TreeCache>>,
}

#[pymethods]
impl TreeCache {
    #[new]
    pub(crate) fn new(client: &Bound<'_, Client>, path: String) -> PyResult<Self> {
        Ok(TreeCache {
            c: session(client)?,
            path,
            listeners: Listeners::default(),
            running: Mutex::new(None),
        })
    }

    /// Starts mirroring; listeners hear INITIALIZED once the first load
    /// is complete. A cache starts once (kazoo's rule).
    fn start(&self) -> PyResult<()> {
        let mut running = self.running.lock().unwrap();
        if running.is_some() {
            return Err(PyRuntimeError::new_err("the cache is already started"));
        }
        let listeners = self.listeners.clone();
        let _rt = self.c.runtime().enter();
        let cache = recipes::TreeCache::start(self.c.as_async(), &self.path, move |e| {
            let all: Vec<Py<PyAny>> = Python::attach(|py| {
                listeners
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|l| l.clone_ref(py))
                    .collect()
            });
            for l in &all {
                call_back(
                    l,
                    |py| Ok(PyTuple::new(py, [tree_event(py, &e)?])?.unbind()),
                );
            }
        });
        *running = Some(cache);
        Ok(())
    }

    /// Stops mirroring.
    fn close(&self) {
        if let Some(cache) = self.running.lock().unwrap().take() {
            cache.stop();
        }
    }

    /// Calls `func(event)` with each `TreeEvent`.
    fn listen(&self, func: Py<PyAny>) {
        self.listeners.lock().unwrap().push(func);
    }

    /// The cached `NodeData`, or None.
    fn get_data<'py>(&self, py: Python<'py>, path: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        let node = self
            .running
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|c| c.get(path));
        node.map(|n| node_data(py, path, &n)).transpose()
    }

    /// The cached child names as a frozenset, or None.
    fn get_children<'py>(
        &self,
        py: Python<'py>,
        path: &str,
    ) -> PyResult<Option<Bound<'py, PyFrozenSet>>> {
        let kids = self
            .running
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|c| c.children(path));
        kids.map(|k| PyFrozenSet::new(py, &k)).transpose()
    }
}

fn node_data<'py>(
    py: Python<'py>,
    path: &str,
    n: &recipes::CachedNode,
) -> PyResult<Bound<'py, PyAny>> {
    let class = py.import("zkrs._types")?.getattr("NodeData")?;
    let data = PyBytes::new(py, &n.data).into_any();
    class.call1((path, data, convert::stat(py, &n.stat)?))
}

fn tree_event<'py>(py: Python<'py>, e: &CacheEvent) -> PyResult<Bound<'py, PyAny>> {
    let class = py.import("zkrs._types")?.getattr("TreeEvent")?;
    let (kind, data) = match e {
        CacheEvent::Added(p, n) => (0, node_data(py, p, n)?),
        CacheEvent::Updated(p, n) => (1, node_data(py, p, n)?),
        CacheEvent::Removed(p) => {
            let nd = py.import("zkrs._types")?.getattr("NodeData")?;
            (2, nd.call1((p.as_str(), py.None(), py.None()))?)
        }
        CacheEvent::Initialized => (6, py.None().into_bound(py)),
    };
    class.call1((kind, data))
}
