//! `zkrs.Ensemble`: a throw-away ensemble running inside the Python
//! process, over `zkrs::embed::blocking::Ensemble`. Only marshals
//! arguments and releases the GIL while members start and stop.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyType;
use zkrs::embed::{blocking, EnsembleOptions};
use zkrs::Error;

use crate::errors::IntoPy;

/// Members on 127.0.0.1 with free ports and temporary data directories.
#[pyclass(module = "zkrs", name = "Ensemble")]
pub struct Ensemble {
    inner: Mutex<Option<blocking::Ensemble>>,
    connect: String,
    /// The process that started it; a forked child must not stop it.
    pid: u32,
}

#[pymethods]
impl Ensemble {
    #[new]
    #[pyo3(signature = (members=3, observers=0, tick_time=None, data_dir=None))]
    fn new(
        py: Python<'_>,
        members: usize,
        observers: usize,
        tick_time: Option<u32>,
        data_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let mut opts = EnsembleOptions {
            members,
            observers,
            data_dir,
            ..Default::default()
        };
        if let Some(t) = tick_time {
            opts.tick_time_ms = t;
        }
        let ensemble = py
            .detach(move || blocking::Ensemble::start(opts))
            .py_err()?;
        let connect = ensemble.connect_string().to_string();
        Ok(Ensemble {
            inner: Mutex::new(Some(ensemble)),
            connect,
            pid: std::process::id(),
        })
    }

    /// Every member's "host:port", comma-separated, for any client.
    #[getter]
    fn connect_string(&self) -> String {
        self.connect.clone()
    }

    /// Index (0-based) of the current leader, None during an election.
    #[getter]
    fn leader(&self) -> Option<usize> {
        self.lock().as_ref().and_then(|e| e.leader())
    }

    /// Stops member `i` (0-based); its data stays.
    fn stop_member(&self, py: Python<'_>, i: usize) -> PyResult<()> {
        py.detach(|| match self.lock().as_mut() {
            Some(e) => e.stop_member(i),
            None => Err(Error::BadArguments),
        })
        .py_err()
    }

    /// Starts member `i` again; returns once the ensemble serves.
    fn start_member(&self, py: Python<'_>, i: usize) -> PyResult<()> {
        py.detach(|| match self.lock().as_mut() {
            Some(e) => e.start_member(i),
            None => Err(Error::BadArguments),
        })
        .py_err()
    }

    /// Cuts member `i` off from the other members, as a network partition
    /// would; its clients still reach it (a cut-off leader stops serving
    /// and the others elect a new one; clients move with their sessions).
    fn isolate_member(&self, py: Python<'_>, i: usize) -> PyResult<()> {
        py.detach(|| match self.lock().as_ref() {
            Some(e) => e.isolate_member(i),
            None => Err(Error::BadArguments),
        })
        .py_err()
    }

    /// Ends `isolate_member(i)`: the member rejoins and catches up.
    fn heal_member(&self, py: Python<'_>, i: usize) -> PyResult<()> {
        py.detach(|| match self.lock().as_ref() {
            Some(e) => e.heal_member(i),
            None => Err(Error::BadArguments),
        })
        .py_err()
    }

    /// Stops every member; later calls do nothing.
    fn stop(&self, py: Python<'_>) {
        let ensemble = self.lock().take();
        if let Some(mut e) = ensemble {
            py.detach(move || e.stop());
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
        let state = if self.lock().is_some() {
            "running"
        } else {
            "stopped"
        };
        format!("<zkrs.Ensemble {} {}>", self.connect, state)
    }
}

impl Ensemble {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<blocking::Ensemble>> {
        zkrs::lock(&self.inner)
    }
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        // After fork() the child's copy refers to the parent's threads:
        // stopping it there would wait for tasks that do not exist.
        let ensemble = self
            .inner
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(e) = ensemble {
            if std::process::id() == self.pid {
                drop(e);
            } else {
                std::mem::forget(e);
            }
        }
    }
}
