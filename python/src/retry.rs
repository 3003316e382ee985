//! `zkrs.KazooRetry` and `Client.retry`: a Python call retried by the
//! core's `RetryPolicy` (which failures, how long to wait).

use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use zkrs::client::RetryPolicy;
use zkrs::Error;

use crate::errors::{ConnectionLoss, OperationTimeoutError, RetryFailedError, SessionExpiredError};

/// kazoo's `KazooRetry(max_tries=1, delay=0.1, backoff=2, max_jitter=0.4,
/// max_delay=60.0, ignore_expire=True, deadline=None)`; `max_tries` -1
/// tries until the deadline. Calling it runs `func(*args, **kwargs)`.
#[pyclass(module = "zkrs", name = "KazooRetry")]
#[derive(Clone)]
pub struct KazooRetry {
    policy: RetryPolicy,
}

fn secs(s: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| PyValueError::new_err(format!("{what} must be a non-negative number")))
}

/// The core error a Python exception stands for, if it is one a retry
/// policy knows.
fn as_core(py: Python<'_>, e: &PyErr) -> Option<Error> {
    if e.is_instance_of::<ConnectionLoss>(py) {
        Some(Error::ConnectionLoss)
    } else if e.is_instance_of::<OperationTimeoutError>(py) {
        Some(Error::OperationTimeout)
    } else if e.is_instance_of::<SessionExpiredError>(py) {
        Some(Error::SessionExpired)
    } else {
        None
    }
}

impl KazooRetry {
    pub fn with(policy: RetryPolicy) -> Self {
        KazooRetry { policy }
    }

    pub fn call(
        &self,
        py: Python<'_>,
        func: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let started = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            let err = match func.call(args, kwargs) {
                Ok(v) => return Ok(v.unbind()),
                Err(e) => e,
            };
            match as_core(py, &err) {
                Some(core) if self.policy.retriable(&core) => {}
                _ => return Err(err),
            }
            let Some(wait) = self.policy.delay(tries, started.elapsed()) else {
                let failed = RetryFailedError::new_err(format!("gave up after {tries} tries"));
                failed.set_cause(py, Some(err));
                return Err(failed);
            };
            py.detach(|| std::thread::sleep(wait));
        }
    }
}

#[pymethods]
impl KazooRetry {
    #[new]
    #[pyo3(signature = (max_tries=1, delay=0.1, backoff=2.0, max_jitter=0.4, max_delay=60.0, ignore_expire=true, deadline=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        max_tries: i64,
        delay: f64,
        backoff: f64,
        max_jitter: f64,
        max_delay: f64,
        ignore_expire: bool,
        deadline: Option<f64>,
    ) -> PyResult<Self> {
        Ok(KazooRetry::with(RetryPolicy {
            max_tries: u32::try_from(max_tries).ok(),
            delay: secs(delay, "delay")?,
            backoff,
            max_jitter,
            max_delay: secs(max_delay, "max_delay")?,
            deadline: deadline.map(|d| secs(d, "deadline")).transpose()?,
            ignore_expire,
        }))
    }

    #[pyo3(signature = (func, *args, **kwargs))]
    fn __call__(
        &self,
        py: Python<'_>,
        func: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        self.call(py, func, args, kwargs)
    }

    /// A retry with the same settings (kazoo's `copy()`).
    fn copy(&self) -> Self {
        self.clone()
    }
}
