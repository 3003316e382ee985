//! Standing watches for C (kazoo's `DataWatch` and `ChildrenWatch`): a
//! callback with the node's data, or its children, now and after every
//! change, until it returns 0, `zkrs_watch_free`, or the session's end. A
//! lost connection is waited out. Callbacks run on a zkrs thread, one at a
//! time per watch, in order; after `zkrs_watch_free` or `zkrs_client_free`
//! returns, none runs.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use zkrs_core::recipes::{ChildrenWatch, DataWatch, WatchHandle};

use crate::callback::{Gate, UserData};
use crate::client::{client, zkrs_client};
use crate::error::ZKRS_OK;
use crate::ffi::{guard, guard_or, guard_void, str_arg, try_arg, write_out};
use crate::types::{string_array_into_raw, zkrs_stat, zkrs_string_array, zkrs_string_array_free};

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

/// Runs `f` (a call into C) through the client's and the watch's gates,
/// telling tokio that this worker may block (the callback may call
/// blocking libzkrs functions). False if a gate was closed.
fn through(client: &Gate, watch: &Gate, f: impl FnOnce() -> c_int) -> bool {
    let mut keep = false;
    tokio::task::block_in_place(|| client.call(|| watch.call(|| keep = f() != 0)));
    keep
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
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        let f = try_arg!(callback);
        if out.is_null() {
            return crate::error::ZKRS_BADARGUMENTS;
        }
        let (client_gate, gate, ud) = (c.gate.clone(), Gate::new(), UserData::new(userdata));
        let g = gate.clone();
        let _rt = c.inner.runtime().enter();
        let watch = DataWatch::new(c.inner.as_async(), path, move |now, _| {
            let (data, stat) = match now {
                Some((data, stat)) => (data, Some(zkrs_stat::from(stat))),
                None => (Vec::new(), None),
            };
            let ptr = if data.is_empty() {
                std::ptr::null()
            } else {
                data.as_ptr()
            };
            let st = stat
                .as_ref()
                .map_or(std::ptr::null(), |s| s as *const zkrs_stat);
            through(&client_gate, &g, || unsafe {
                f(ud.get(), ptr, data.len(), st)
            })
        });
        write_out(
            out,
            Box::into_raw(Box::new(zkrs_watch {
                handle: watch.detach(),
                gate,
            })),
        );
        ZKRS_OK
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
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        let f = try_arg!(callback);
        if out.is_null() {
            return crate::error::ZKRS_BADARGUMENTS;
        }
        let (client_gate, gate, ud) = (c.gate.clone(), Gate::new(), UserData::new(userdata));
        let g = gate.clone();
        let _rt = c.inner.runtime().enter();
        let watch = ChildrenWatch::new(c.inner.as_async(), path, move |names, _| {
            let array = string_array_into_raw(&names);
            let keep = through(&client_gate, &g, || unsafe { f(ud.get(), array) });
            unsafe { zkrs_string_array_free(array) };
            keep
        });
        write_out(
            out,
            Box::into_raw(Box::new(zkrs_watch {
                handle: watch.detach(),
                gate,
            })),
        );
        ZKRS_OK
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
