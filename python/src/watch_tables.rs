//! kazoo's one-shot watcher tables on `zkrs.Client`: `_data_watchers` and
//! `_child_watchers` map a full path (chroot included) to the set of
//! callables waiting on it. A watch passed to `get`/`exists` (data) or
//! `get_children` (child) goes into its set; when the event comes, the set
//! is taken out and each callable in it is called once, however often it
//! was passed (kazoo's rule). One taken out of the set before the event
//! (kazoo's TreeCache does so for nodes it drops) is not called, and the
//! client holds no other reference to it.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use zkrs::client::Watcher;
use zkrs::WatchedEvent;

use crate::convert;

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Data,
    Child,
}

pub(crate) struct WatchTables {
    pub data: Py<PyDict>,
    pub child: Py<PyDict>,
}

static SET: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

impl WatchTables {
    /// Two `defaultdict(set)`s, as kazoo keeps them.
    pub fn new(py: Python<'_>) -> PyResult<WatchTables> {
        let make = || -> PyResult<Py<PyDict>> {
            let set = SET.get_or_try_init(py, || {
                Ok::<_, PyErr>(py.import("builtins")?.getattr("set")?.unbind())
            })?;
            let table = py
                .import("collections")?
                .getattr("defaultdict")?
                .call1((set,))?;
            Ok(table.cast_into::<PyDict>()?.unbind())
        };
        Ok(WatchTables {
            data: make()?,
            child: make()?,
        })
    }

    /// Puts `watch` in the `kind` set of `full_path`; the core watcher
    /// fires that set.
    pub fn watcher(
        &self,
        py: Python<'_>,
        kind: Kind,
        full_path: String,
        watch: Option<Py<PyAny>>,
    ) -> PyResult<Option<Watcher>> {
        let Some(f) = watch else {
            return Ok(None);
        };
        if !f.bind(py).is_callable() {
            return Err(PyTypeError::new_err("watch must be callable"));
        }
        let table = match kind {
            Kind::Data => self.data.clone_ref(py),
            Kind::Child => self.child.clone_ref(py),
        };
        table
            .bind(py)
            .as_any()
            .get_item(&full_path)?
            .call_method1("add", (f,))?;
        Ok(Some(Arc::new(move |ev: WatchedEvent| {
            Python::attach(|py| fire(py, &table, &full_path, &ev))
        })))
    }
}

/// Takes the path's set out of the table and calls what is in it.
fn fire(py: Python<'_>, table: &Py<PyDict>, path: &str, ev: &WatchedEvent) {
    let waiting = match table.bind(py).call_method1("pop", (path, py.None())) {
        Ok(set) if !set.is_none() => set,
        _ => return,
    };
    let Ok(event) = convert::event(py, ev) else {
        return;
    };
    let Ok(each) = waiting.try_iter() else {
        return;
    };
    for f in each.flatten() {
        if let Err(err) = f.call1((event.clone_ref(py),)) {
            err.write_unraisable(py, Some(&f));
        }
    }
}
