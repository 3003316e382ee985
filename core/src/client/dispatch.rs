//! The event thread: one OS thread per client that runs watcher callbacks,
//! state listeners, and reply completions strictly in the order the
//! connection task queued them (wire order). Keeping callbacks off the
//! socket task means a slow callback never stalls I/O; keeping them on a
//! plain thread (not a tokio worker) means a callback may call the blocking
//! client or take a foreign lock (Python's GIL) without harm.
//!
//! A reply is queued behind earlier events so a caller never sees new data
//! before the watch event that announced it. When nothing is queued, the
//! connection completes replies itself (nothing could be overtaken).
//! Requests issued *from* this thread are completed directly too, or a
//! callback waiting on its own reply would wait for itself.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use super::watches::Watcher;
use super::SessionState;
use crate::types::WatchedEvent;

/// A session state callback.
pub type StateListener = Arc<dyn Fn(SessionState) + Send + Sync>;

pub(crate) type Listeners = Arc<Mutex<Vec<(u64, StateListener)>>>;

pub(crate) enum Job {
    Event(Vec<Watcher>, WatchedEvent),
    /// Completes a caller's reply future.
    Reply(Box<dyn FnOnce() + Send>),
    /// A state change and the listeners registered when it happened.
    State(SessionState, Vec<StateListener>),
}

thread_local! {
    static ON_EVENT_THREAD: Cell<bool> = const { Cell::new(false) };
}

tokio::task_local! {
    /// Set on work the blocking facade spawns for a caller on the event
    /// thread: that caller blocks the thread, so its replies go direct.
    static FOR_EVENT_THREAD: bool;
}

/// Whether a request made here must not wait on the event thread: made on
/// it, or on its behalf by the blocking facade.
pub(crate) fn on_event_thread() -> bool {
    ON_EVENT_THREAD.with(Cell::get) || FOR_EVENT_THREAD.try_with(|v| *v).unwrap_or(false)
}

/// Wraps `fut` (about to be spawned) so requests it makes count as made
/// on the current thread.
pub(crate) fn on_behalf_of_caller<F: std::future::Future>(
    fut: F,
) -> impl std::future::Future<Output = F::Output> {
    FOR_EVENT_THREAD.scope(on_event_thread(), fut)
}

pub(crate) struct Dispatcher {
    tx: mpsc::Sender<Job>,
    queued: Arc<AtomicUsize>,
}

impl Dispatcher {
    /// Starts the thread. It enters `rt` so callbacks can `tokio::spawn`,
    /// and ends when the last `Dispatcher` handle is dropped.
    pub fn start(rt: tokio::runtime::Handle) -> Result<Dispatcher, crate::Error> {
        let (tx, rx) = mpsc::channel::<Job>();
        let queued = Arc::new(AtomicUsize::new(0));
        let q = queued.clone();
        std::thread::Builder::new()
            .name("zkrs-client-events".into())
            .spawn(move || {
                ON_EVENT_THREAD.with(|c| c.set(true));
                let _enter = rt.enter();
                while let Ok(job) = rx.recv() {
                    run(job);
                    q.fetch_sub(1, Ordering::AcqRel);
                }
            })
            .map_err(|e| crate::Error::Io(format!("cannot start the event thread: {e}")))?;
        Ok(Dispatcher { tx, queued })
    }

    /// True when every queued job has run.
    pub fn idle(&self) -> bool {
        self.queued.load(Ordering::Acquire) == 0
    }

    pub fn push(&self, job: Job) {
        self.queued.fetch_add(1, Ordering::AcqRel);
        if let Err(mpsc::SendError(job)) = self.tx.send(job) {
            // The thread is gone (only after a fork): run inline.
            self.queued.fetch_sub(1, Ordering::AcqRel);
            if let Job::Reply(f) = job {
                f();
            }
        }
    }

    /// Completes a reply in wire order: inline when nothing is queued or
    /// when the request came from the event thread itself.
    pub fn complete(&self, direct: bool, f: Box<dyn FnOnce() + Send>) {
        if direct || self.idle() {
            f();
        } else {
            self.push(Job::Reply(f));
        }
    }
}

fn run(job: Job) {
    match job {
        Job::Event(watchers, ev) => {
            for w in watchers {
                let ev = ev.clone();
                if catch_unwind(AssertUnwindSafe(|| w(ev))).is_err() {
                    tracing::warn!("a watcher panicked; continuing");
                }
            }
        }
        Job::Reply(f) => f(),
        Job::State(s, ls) => {
            for l in ls {
                if catch_unwind(AssertUnwindSafe(|| l(s))).is_err() {
                    tracing::warn!("a state listener panicked; continuing");
                }
            }
        }
    }
}
