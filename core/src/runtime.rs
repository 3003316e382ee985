//! The process-wide tokio runtime behind the blocking facades (what the C,
//! Python and Node bindings call). One per process, created on first use.
//! Analytics jobs fork: a child inherits the runtime's memory but not its
//! threads, so when the pid changes the old runtime is abandoned (leaked,
//! since dropping it would wait for threads that do not exist) and a new
//! one is built.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime for this process (rebuilt after `fork()`).
pub fn get() -> Arc<Runtime> {
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    match slot.as_ref() {
        Some((owner, rt)) if *owner == pid => rt.clone(),
        _ => {
            if let Some((_, stale)) = slot.take() {
                std::mem::forget(stale);
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("zkrs")
                .enable_all()
                .build()
                .expect("cannot build the zkrs runtime");
            let rt = Arc::new(rt);
            *slot = Some((pid, rt.clone()));
            rt
        }
    }
}

/// Runs `f` to completion on the process runtime. Must not be called from
/// a runtime thread (callbacks run elsewhere for that reason).
pub fn block_on<F: Future>(f: F) -> F::Output {
    get().block_on(f)
}
