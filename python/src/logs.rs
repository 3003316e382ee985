//! Core logs into Python `logging`: the core hands each record to a
//! bounded queue (never blocking a core thread, never taking the GIL
//! there); a daemon thread in `zkrs._logging` drains it with
//! `_log_next` and logs through `logging.getLogger("zkrs....")`.

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use pyo3::prelude::*;
use zkrs::logging::{self, Record};

use crate::errors::IntoPy;

type Queue = (SyncSender<Record>, Mutex<Receiver<Record>>);

fn queue() -> &'static Queue {
    static Q: OnceLock<Queue> = OnceLock::new();
    Q.get_or_init(|| {
        let (tx, rx) = sync_channel(10_000);
        (tx, Mutex::new(rx))
    })
}

/// Routes core logs up to `level` (1 error .. 5 trace, 0 off) to the queue.
#[pyfunction]
pub fn _log_start(level: u8) -> PyResult<()> {
    let tx = queue().0.clone();
    // A full queue drops the record: a core thread never waits on Python.
    let sink = Arc::new(move |r: Record| {
        let _ = tx.try_send(r);
    });
    logging::set_sink(level, Some(sink)).py_err()
}

#[pyfunction]
pub fn _log_level(level: u8) {
    logging::set_level(level);
}

/// Waits up to `timeout` seconds (GIL released) for records; returns
/// what is queued as `(level, target, message)` tuples.
#[pyfunction]
pub fn _log_next(py: Python<'_>, timeout: f64) -> Vec<(u8, String, String)> {
    let wait = Duration::try_from_secs_f64(timeout).unwrap_or(Duration::ZERO);
    py.detach(move || {
        let rx = zkrs::lock(&queue().1);
        let first = match rx.recv_timeout(wait) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return Vec::new(),
        };
        std::iter::once(first)
            .chain(rx.try_iter().take(1000))
            .map(|r| (r.level, r.target, r.message))
            .collect()
    })
}
