//! Standing watches for C (kazoo's `DataWatch` and `ChildrenWatch`): a
//! callback with the node's data, or its children, now and after every
//! change, until it returns 0, `zkrs_watch_free`, or the session's end. A
//! lost connection is waited out. Callbacks run on a zkrs thread, one at a
//! time per watch, in order; after `zkrs_watch_free` or `zkrs_client_free`
//! returns, none runs.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use zkrs_core::client::Client as Zk;
use zkrs_core::recipes::{ChildrenWatch, DataWatch, WatchHandle};

use crate::callback::{Gate, UserData};
use crate::client::{client, zkrs_client};
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{guard, guard_or, guard_void, str_arg, try_arg, write_out};
use crate::types::{
    data_ptr, stat_ptr, string_array_into_raw, zkrs_stat, zkrs_string_array, zkrs_string_array_free,
};

/// Called with the node's data (`len` bytes; NULL when 0) and stat, or
/// with `stat` NULL while the node does not exist. Both are valid only
/// during the call. Return nonzero to go on watching, 0 to stop.
pub type zkrs_data_watch_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        data: *const u8,
        len: usize,
        stat: *const zkrs_stat,
    ) -> c_int,
>;

/// Called with the node's children's names, sorted (valid only during the
/// call). Return nonzero to go on watching, 0 to stop. A missing or
/// deleted node ends the watch without a call.
pub type zkrs_children_watch_fn = Option<
    unsafe extern "C" fn(userdata: *mut c_void, children: *const zkrs_string_array) -> c_int,
>;

/// A running standing watch. Opaque; free with `zkrs_watch_free`.
pub struct zkrs_watch {
    handle: Option<WatchHandle>,
    gate: Arc<Gate>,
}

impl zkrs_watch {
    pub(crate) fn into_raw(handle: Option<WatchHandle>, gate: Arc<Gate>) -> *mut zkrs_watch {
        Box::into_raw(Box::new(zkrs_watch { handle, gate }))
    }
}

/// Who a watch's callback calls, and through which gates: the client's
/// and the watch's own (so neither free lets a call through after it
/// returns).
pub(crate) struct Caller {
    client: Arc<Gate>,
    watch: Arc<Gate>,
    ud: UserData,
}

impl Caller {
    /// `client` is the gate of the client the watch runs in.
    pub(crate) fn new(client: &Arc<Gate>, watch: &Arc<Gate>, userdata: *mut c_void) -> Caller {
        Caller {
            client: client.clone(),
            watch: watch.clone(),
            ud: UserData::new(userdata),
        }
    }

    /// Runs `f` (a call into C, given the userdata) through both gates,
    /// telling tokio this worker may block (the callback may call blocking
    /// libzkrs functions). False if a gate was closed or `f` returned 0.
    pub(crate) fn call(&self, f: impl FnOnce(*mut c_void) -> c_int) -> bool {
        let mut keep = false;
        let ud = self.ud;
        tokio::task::block_in_place(|| {
            self.client
                .call(|| self.watch.call(|| keep = f(ud.get()) != 0))
        });
        keep
    }
}

/// What the two starts share: the arguments checked, the gates made, the
/// core watch begun inside the client's runtime, the handle written out.
unsafe fn start(
    c: *mut zkrs_client,
    path: *const c_char,
    userdata: *mut c_void,
    out: *mut *mut zkrs_watch,
    begin: impl FnOnce(&Zk, &str, Caller) -> Option<WatchHandle>,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let gate = Gate::new();
        let caller = Caller::new(&c.gate, &gate, userdata);
        let _rt = c.inner.runtime().enter();
        let handle = begin(c.inner.as_async(), path, caller);
        write_out(out, zkrs_watch::into_raw(handle, gate));
        ZKRS_OK
    })
}

/// Starts a `DataWatch` on `path`; the first call comes at once (from a
/// zkrs thread). On `ZKRS_OK`, `*out` is the watch.
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated; `userdata` valid
/// until the watch is freed (or the client is).
#[no_mangle]
pub unsafe extern "C" fn zkrs_data_watch_start(
    c: *mut zkrs_client,
    path: *const c_char,
    callback: zkrs_data_watch_fn,
    userdata: *mut c_void,
    out: *mut *mut zkrs_watch,
) -> c_int {
    let Some(f) = callback else {
        return ZKRS_BADARGUMENTS;
    };
    start(c, path, userdata, out, |zk, path, caller| {
        let watch = DataWatch::new(zk, path, move |now, _| {
            let (data, stat) = match now {
                Some((data, stat)) => (data, Some(zkrs_stat::from(stat))),
                None => (Vec::new(), None),
            };
            let (ptr, st) = (data_ptr(&data), stat_ptr(&stat));
            caller.call(|ud| unsafe { f(ud, ptr, data.len(), st) })
        });
        watch.detach()
    })
}

/// Starts a `ChildrenWatch` on `path`, as `zkrs_data_watch_start`.
///
/// # Safety
/// As `zkrs_data_watch_start`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_children_watch_start(
    c: *mut zkrs_client,
    path: *const c_char,
    callback: zkrs_children_watch_fn,
    userdata: *mut c_void,
    out: *mut *mut zkrs_watch,
) -> c_int {
    let Some(f) = callback else {
        return ZKRS_BADARGUMENTS;
    };
    start(c, path, userdata, out, |zk, path, caller| {
        let watch = ChildrenWatch::new(zk, path, move |names, _| {
            let array = string_array_into_raw(&names);
            let keep = caller.call(|ud| unsafe { f(ud, array) });
            unsafe { zkrs_string_array_free(array) };
            keep
        });
        watch.detach()
    })
}

/// 1 while the watch runs; 0 once its callback returned 0, its node is
/// gone (children watch) or the session ended.
///
/// # Safety
/// `w` is NULL or a live watch.
#[no_mangle]
pub unsafe extern "C" fn zkrs_watch_is_running(w: *const zkrs_watch) -> c_int {
    guard_or(0, || match w.as_ref().and_then(|w| w.handle.as_ref()) {
        Some(h) => h.is_running() as c_int,
        None => 0,
    })
}

/// Stops and frees the watch; no callback of it runs after this returns
/// (it may be called from inside that callback).
///
/// # Safety
/// `w` is NULL or a watch not freed before.
#[no_mangle]
pub unsafe extern "C" fn zkrs_watch_free(w: *mut zkrs_watch) {
    guard_void(|| {
        if w.is_null() {
            return;
        }
        let w = Box::from_raw(w);
        w.gate.close();
        if let Some(h) = &w.handle {
            h.stop();
        }
    })
}
