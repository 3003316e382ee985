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
    let mut slot = crate::lock(&RUNTIME);
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

/// A future handed to [`submit`]: finished by its first poll, or running
/// on the runtime.
pub enum Submitted<T> {
    Done(std::thread::Result<T>),
    Running(tokio::task::JoinHandle<T>),
}

/// The future panicked (in its first poll or on the runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panicked;

impl<T> Submitted<T> {
    /// Its outcome, once it has one.
    pub async fn wait(self) -> Result<T, Panicked> {
        match self {
            Submitted::Done(r) => r.map_err(|_| Panicked),
            Submitted::Running(task) => task.await.map_err(|_| Panicked),
        }
    }
}

/// Polls `fut` once here, inside `rt`, then lets `rt` drive it to the end.
/// Whatever it does before its first await happens now: a client call
/// queues its request on the session, so calls submitted one after another
/// go out in that order, as ZooKeeper promises for a session. (A spawned
/// task starts later, on whichever worker is free: two spawned calls may
/// go out in either order.)
pub fn submit<F>(rt: &Runtime, fut: F) -> Submitted<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::task::{Context, Poll, Waker};

    let _in_runtime = rt.enter();
    let mut fut = Box::pin(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))) {
        Ok(Poll::Ready(out)) => Submitted::Done(Ok(out)),
        Ok(Poll::Pending) => Submitted::Running(rt.spawn(fut)),
        Err(panic) => Submitted::Done(Err(panic)),
    }
}
