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

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

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
    /// The [`InOrder`] tasks this thread is polling now.
    static POLLING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
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
    rt: tokio::runtime::Handle,
}

impl Dispatcher {
    /// Starts the thread. It enters `rt` so callbacks can `tokio::spawn`,
    /// and ends when the last `Dispatcher` handle is dropped.
    pub fn start(rt: tokio::runtime::Handle) -> Result<Dispatcher, crate::Error> {
        let (tx, rx) = mpsc::channel::<Job>();
        let queued = Arc::new(AtomicUsize::new(0));
        let q = queued.clone();
        let handle = rt.clone();
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
        Ok(Dispatcher {
            tx,
            queued,
            rt: handle,
        })
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

type Then<T> = Box<dyn FnOnce(T) + Send>;

/// Runs the outcomes of [`InOrder`] futures in call order: one that is
/// ready early (it failed before sending anything) waits for those called
/// before it. Replies come in call order, so the others never wait.
#[derive(Default)]
pub(crate) struct Sequencer(Mutex<Turns>);

#[derive(Default)]
struct Turns {
    issued: u64,
    next: u64,
    early: std::collections::BTreeMap<u64, Box<dyn FnOnce() + Send>>,
}

impl Sequencer {
    fn ticket(&self) -> u64 {
        let mut t = crate::lock(&self.0);
        t.issued += 1;
        t.issued - 1
    }

    /// Runs `f` (ticket `n`) and the early ones after it, or keeps it
    /// until its turn.
    fn arrive(&self, n: u64, f: Box<dyn FnOnce() + Send>) {
        let mut f = Some(f);
        loop {
            let run = {
                let mut t = crate::lock(&self.0);
                if let Some(f) = f.take() {
                    if n != t.next {
                        t.early.insert(n, f);
                        return;
                    }
                    Some(f)
                } else {
                    let next = t.next;
                    t.early.remove(&next)
                }
            };
            let Some(run) = run else { return };
            run();
            let mut t = crate::lock(&self.0);
            t.next += 1;
        }
    }
}

enum Slot<F: Future> {
    Polling(Pin<Box<F>>, Then<F::Output>),
    Ready(Then<F::Output>, F::Output),
    Done,
}

/// A future whose outcome goes to a callback on the event thread, in wire
/// order with watch events and the other replies (see
/// [`super::Client::call_in_order`]).
///
/// The order comes from where it is woken: the reply's completion wakes
/// it, and that completion runs either on the event thread (then the
/// outcome is taken at once, ahead of the events queued behind the reply)
/// or on the connection task (then a step is queued before the connection
/// reads anything later).
pub(crate) struct InOrder<F: Future> {
    shared: Arc<super::Shared>,
    ticket: u64,
    slot: Mutex<Slot<F>>,
    /// Woken while being polled on this very thread: poll again.
    again: AtomicBool,
}

impl<F> InOrder<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Polls `fut` once here, so the request it sends goes out before this
    /// returns; `then` runs later, on the event thread, never inside this
    /// call.
    pub fn start(shared: Arc<super::Shared>, fut: F, then: Then<F::Output>) {
        let task = Arc::new(InOrder {
            ticket: shared.in_order.ticket(),
            shared,
            slot: Mutex::new(Slot::Polling(Box::pin(fut), then)),
            again: AtomicBool::new(false),
        });
        task.step(false);
    }

    fn id(&self) -> usize {
        self as *const Self as usize
    }

    /// Polls the future if it is pending; once it is ready, runs `then`
    /// here when `run_here`, else queues a step that will.
    fn step(self: &Arc<Self>, run_here: bool) {
        let dispatcher = &self.shared.dispatcher;
        let _enter = dispatcher.rt.enter();
        let mut slot = crate::lock(&self.slot);
        if let Slot::Polling(..) = &*slot {
            POLLING.with(|p| p.borrow_mut().push(self.id()));
            self.poll(&mut slot);
            POLLING.with(|p| p.borrow_mut().pop());
        }
        if !matches!(*slot, Slot::Ready(..)) {
            return;
        }
        if !run_here {
            drop(slot);
            let task = self.clone();
            dispatcher.push(Job::Reply(Box::new(move || task.step(true))));
            return;
        }
        if let Slot::Ready(then, v) = std::mem::replace(&mut *slot, Slot::Done) {
            drop(slot);
            self.shared
                .in_order
                .arrive(self.ticket, Box::new(move || then(v)));
        }
    }

    fn poll(self: &Arc<Self>, slot: &mut Slot<F>) {
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            let Slot::Polling(fut, _) = slot else { return };
            self.again.store(false, Ordering::Release);
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                if let Slot::Polling(_, then) = std::mem::replace(slot, Slot::Done) {
                    *slot = Slot::Ready(then, v);
                }
                return;
            }
            if !self.again.swap(false, Ordering::AcqRel) {
                return;
            }
        }
    }
}

impl<F> Wake for InOrder<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn wake(self: Arc<Self>) {
        if POLLING.with(|p| p.borrow().contains(&self.id())) {
            self.again.store(true, Ordering::Release);
        } else if ON_EVENT_THREAD.with(Cell::get) {
            // A reply job: its outcome is due now. The first poll may still
            // hold the lock on another thread; it never blocks, so the wait
            // is short.
            self.step(true);
        } else {
            let task = self.clone();
            self.shared
                .dispatcher
                .push(Job::Reply(Box::new(move || task.step(true))));
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
