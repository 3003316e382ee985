//! `zkrs.ServiceRegistry` over `zkrs::recipes::ServiceRegistry`: instances
//! come back as `(id, payload)` tuples; `watch(service, func)` calls
//! `func(instances)` from zkrs's thread (False stops it, as with kazoo's
//! watches).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use zkrs::client::blocking;
use zkrs::recipes::{self, Instance, WatchHandle};

use crate::client::Client;
use crate::client_async::settle_on;
use crate::errors::IntoPy;
use crate::recipes::{call_back, run, session};

#[pyclass(module = "zkrs", name = "ServiceRegistry")]
pub struct ServiceRegistry {
    c: blocking::Client,
    inner: Arc<recipes::ServiceRegistry>,
    handler: Py<PyAny>,
    #[pyo3(get)]
    root: String,
}

#[pymethods]
impl ServiceRegistry {
    #[new]
    #[pyo3(signature = (client, root="/services"))]
    pub(crate) fn new(client: &Bound<'_, Client>, root: &str) -> PyResult<Self> {
        let c = session(client)?;
        let inner = Arc::new(recipes::ServiceRegistry::new(c.as_async(), root));
        let handler = client.borrow().handler(client.py());
        Ok(ServiceRegistry {
            c,
            inner,
            handler,
            root: root.to_string(),
        })
    }

    /// Registers instance `id` of `service` (an ephemeral node holding
    /// `payload`), or updates the payload of one this session registered.
    #[pyo3(signature = (service, id, payload=Vec::new()))]
    fn register(
        &self,
        py: Python<'_>,
        service: String,
        id: String,
        payload: Vec<u8>,
    ) -> PyResult<()> {
        let r = self.inner.clone();
        run(py, &self.c, async move {
            r.register(&service, &id, &payload).await
        })
    }

    /// Removes an instance this session registered; False if none.
    fn unregister(&self, py: Python<'_>, service: String, id: String) -> PyResult<bool> {
        let r = self.inner.clone();
        run(
            py,
            &self.c,
            async move { r.unregister(&service, &id).await },
        )
    }

    /// The live instances of `service` as `(id, payload)`, by id.
    fn instances<'py>(&self, py: Python<'py>, service: String) -> PyResult<Bound<'py, PyList>> {
        let r = self.inner.clone();
        let now = run(py, &self.c, async move { r.instances(&service).await })?;
        as_list(py, &now)
    }

    #[pyo3(signature = (service, id, payload=Vec::new()))]
    fn register_async(
        &self,
        py: Python<'_>,
        service: String,
        id: String,
        payload: Vec<u8>,
    ) -> PyResult<Py<PyAny>> {
        let r = self.inner.clone();
        let op = move |_| async move { r.register(&service, &id, &payload).await };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, |py, ()| {
            Ok(py.None())
        })
    }

    fn unregister_async(&self, py: Python<'_>, service: String, id: String) -> PyResult<Py<PyAny>> {
        let r = self.inner.clone();
        let op = move |_| async move { r.unregister(&service, &id).await };
        let out = |py: Python<'_>, b: bool| {
            Ok(pyo3::types::PyBool::new(py, b)
                .to_owned()
                .into_any()
                .unbind())
        };
        settle_on(py, &self.handler, Ok(self.c.clone()), op, out)
    }

    fn instances_async(&self, py: Python<'_>, service: String) -> PyResult<Py<PyAny>> {
        let r = self.inner.clone();
        let op = move |_| async move { r.instances(&service).await };
        let out = |py: Python<'_>, now: Vec<Instance>| Ok(as_list(py, &now)?.into_any().unbind());
        settle_on(py, &self.handler, Ok(self.c.clone()), op, out)
    }

    /// Calls `func(instances)` now and after every change of `service`'s
    /// live set, from zkrs's thread, until it returns False or the
    /// returned watch is stopped.
    fn watch(&self, service: String, func: Py<PyAny>) -> PyResult<RegistryWatch> {
        let _rt = self.c.runtime().enter();
        let handle = self
            .inner
            .watch(&service, move |now| {
                call_back(&func, |py| {
                    Ok(PyTuple::new(py, [as_list(py, &now)?])?.unbind())
                })
            })
            .py_err()?;
        Ok(RegistryWatch { handle })
    }
}

/// A running `ServiceRegistry.watch`.
#[pyclass(module = "zkrs", name = "RegistryWatch")]
pub struct RegistryWatch {
    handle: WatchHandle,
}

#[pymethods]
impl RegistryWatch {
    fn stop(&self) {
        self.handle.stop();
    }

    /// False once stopped, or after `func` returned False.
    #[getter]
    fn running(&self) -> bool {
        self.handle.is_running()
    }
}

fn as_list<'py>(py: Python<'py>, now: &[Instance]) -> PyResult<Bound<'py, PyList>> {
    let items = now
        .iter()
        .map(|i| {
            PyTuple::new(
                py,
                [
                    i.id.clone().into_pyobject(py)?.into_any(),
                    PyBytes::new(py, &i.payload).into_any(),
                ],
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}
