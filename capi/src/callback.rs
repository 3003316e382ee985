//! Calling C back safely: the userdata pointer crosses threads, and a C
//! caller frees its userdata right after `zkrs_client_free`, so no callback
//! may run after that returns. Each client has one [`Gate`]; every C
//! callback of that client passes through it, and closing the gate waits
//! for a running callback to return (unless the close comes from inside
//! that very callback, which would otherwise wait for itself).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use zkrs_core::client::Watcher;
use zkrs_core::types::WatchedEvent;

use crate::types::c_string;

/// Called with a watch event: `userdata` as registered, `event_type` one
/// of `ZKRS_EVENT_*`, `state` one of `ZKRS_STATE_*`, `path` the znode the
/// event is about (valid only during the call; empty for session events).
/// Runs on the client's zkrs event thread, never on the caller's thread,
/// one callback at a time per client, in the order the server sent the
/// events. It may call libzkrs functions on the same client, including
/// `zkrs_client_free`.
pub type zkrs_watch_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        event_type: c_int,
        state: c_int,
        path: *const c_char,
    ),
>;

/// Called when the session state changes: `state` is one of
/// `ZKRS_STATE_*`. Runs on the client's zkrs event thread, in order with
/// watch callbacks.
pub type zkrs_state_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, state: c_int)>;

/// The caller's userdata pointer; zkrs never dereferences it, only hands
/// it back, so moving it to the event thread is the caller's contract.
#[derive(Clone, Copy)]
pub(crate) struct UserData(*mut c_void);
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl UserData {
    pub fn new(p: *mut c_void) -> UserData {
        UserData(p)
    }
    /// A method (not field access) so closures capture the whole Send
    /// wrapper rather than the raw pointer inside it.
    pub fn get(self) -> *mut c_void {
        self.0
    }
}

thread_local! {
    /// Gates whose callback this thread is running now.
    static INSIDE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

pub(crate) struct Gate {
    open: AtomicBool,
    /// Held while a callback of this client runs.
    running: Mutex<()>,
    state_cb: Mutex<Option<(unsafe extern "C" fn(*mut c_void, c_int), UserData)>>,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate {
            open: AtomicBool::new(true),
            running: Mutex::new(()),
            state_cb: Mutex::new(None),
        })
    }

    fn id(&self) -> usize {
        self as *const Gate as usize
    }

    fn inside(&self) -> bool {
        INSIDE.with(|v| v.borrow().contains(&self.id()))
    }

    /// Runs `f` (a call into C) unless the gate is closed.
    pub fn call(&self, f: impl FnOnce()) {
        let _running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if !self.open.load(Ordering::Acquire) {
            return;
        }
        INSIDE.with(|v| v.borrow_mut().push(self.id()));
        // C cannot unwind, but the conversion around it could panic.
        let _ = catch_unwind(AssertUnwindSafe(f));
        INSIDE.with(|v| v.borrow_mut().pop());
    }

    /// Returns once no callback of this gate runs (at once when called
    /// from inside one).
    fn quiesce(&self) {
        if !self.inside() {
            drop(self.running.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }

    /// No callback runs after this returns.
    pub fn close(&self) {
        self.open.store(false, Ordering::Release);
        self.quiesce();
    }

    /// Replaces the state callback; the old one is not called after this
    /// returns.
    pub fn set_state_callback(&self, cb: zkrs_state_fn, userdata: *mut c_void) {
        *self.state_cb.lock().unwrap_or_else(|p| p.into_inner()) =
            cb.map(|f| (f, UserData::new(userdata)));
        self.quiesce();
    }

    /// Delivers a state change to the current state callback, if any.
    pub fn state_changed(&self, state: c_int) {
        self.call(|| {
            let cb = *self.state_cb.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((f, ud)) = cb {
                unsafe { f(ud.get(), state) }
            }
        })
    }

    /// A core watcher that calls `cb` through this gate; None when `cb`
    /// is NULL (no watch).
    pub fn watcher(self: &Arc<Gate>, cb: zkrs_watch_fn, userdata: *mut c_void) -> Option<Watcher> {
        let f = cb?;
        let gate = self.clone();
        let ud = UserData::new(userdata);
        Some(Arc::new(move |ev: WatchedEvent| {
            let path = c_string(&ev.path);
            gate.call(|| unsafe {
                f(
                    ud.get(),
                    ev.event_type as c_int,
                    ev.state as c_int,
                    path.as_ptr(),
                )
            })
        }))
    }
}
