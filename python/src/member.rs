//! `zkrs.Member`: an ensemble member running inside the Python process,
//! over `zkrs::embed::blocking::Member`. Only marshals arguments and
//! releases the GIL while the member starts and stops.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyType;
use zkrs::embed::{blocking, MemberOptions};

use crate::errors::IntoPy;

/// A member serving clients on a loopback port of its own.
#[pyclass(module = "zkrs", name = "Member")]
pub struct Member {
    inner: Mutex<Option<blocking::Member>>,
    connect: String,
    /// The process that started it; a forked child must not stop it.
    pid: u32,
}

#[pymethods]
impl Member {
    #[new]
    #[pyo3(signature = (*, client_port=0, data_dir=None, tick_time=None, zoo_cfg=None, keep_data=false))]
    fn new(
        py: Python<'_>,
        client_port: u16,
        data_dir: Option<PathBuf>,
        tick_time: Option<u32>,
        zoo_cfg: Option<String>,
        keep_data: bool,
    ) -> PyResult<Self> {
        let opts = MemberOptions {
            zoo_cfg,
            data_dir,
            client_port,
            tick_time_ms: tick_time,
            keep_data,
        };
        let member = py.detach(move || blocking::Member::start(opts)).py_err()?;
        let connect = member.connect_string().to_string();
        Ok(Member {
            inner: Mutex::new(Some(member)),
            connect,
            pid: std::process::id(),
        })
    }

    /// "host:port" for clients (zkrs.Client, kazoo, any ZooKeeper client).
    #[getter]
    fn connect_string(&self) -> String {
        self.connect.clone()
    }

    /// Whether the member is still serving.
    #[getter]
    fn running(&self) -> bool {
        self.lock().is_some()
    }

    /// Stops serving; later calls do nothing.
    fn stop(&self, py: Python<'_>) {
        let member = self.lock().take();
        if let Some(mut m) = member {
            py.detach(move || m.stop());
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.running() { "running" } else { "stopped" };
        format!("<zkrs.Member {} {}>", self.connect, state)
    }
}

impl Member {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<blocking::Member>> {
        zkrs::lock(&self.inner)
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // After fork() the child's copy refers to the parent's threads:
        // stopping it there would wait for tasks that do not exist.
        let member = self
            .inner
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(m) = member {
            if std::process::id() == self.pid {
                drop(m);
            } else {
                std::mem::forget(m);
            }
        }
    }
}
