//! A local copy of a subtree for C (Curator's `CuratorCache`, the core
//! `TreeCache`): kept current by one persistent recursive watch; reads
//! (`zkrs_tree_cache_get`, `zkrs_tree_cache_children`) answer from memory
//! without a round trip. An optional callback hears each node added,
//! updated or removed, and once that the first load is complete; it runs
//! on a zkrs thread, in order, and never after `zkrs_tree_cache_free` or
//! `zkrs_client_free` returns. On connection loss the cache catches up
//! when the client reconnects; on session expiry it stops.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use zkrs_core::recipes::{CacheEvent, TreeCache};

use crate::callback::Gate;
use crate::client::{client, zkrs_client};
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_NONODE, ZKRS_OK};
use crate::ffi::{guard, guard_or, guard_void, str_arg, try_arg, write_out};
use crate::types::{
    buffer_into_raw, c_string, data_ptr, stat_ptr, string_array_into_raw, zkrs_buffer, zkrs_stat,
    zkrs_string_array,
};
use crate::watches::Caller;

/// A node entered the cache (`data`, `stat` given).
pub const ZKRS_CACHE_ADDED: c_int = 1;
/// A cached node's data or stat changed (`data`, `stat` given).
pub const ZKRS_CACHE_UPDATED: c_int = 2;
/// A node left the cache (`data` NULL, `stat` NULL).
pub const ZKRS_CACHE_REMOVED: c_int = 3;
/// The first load is complete (once; `path` is the root, `stat` NULL).
pub const ZKRS_CACHE_INITIALIZED: c_int = 4;

/// Called with one of `ZKRS_CACHE_*`, the node's path and, for added and
/// updated nodes, its data (`len` bytes; NULL when 0) and stat. Everything
/// is valid only during the call.
pub type zkrs_cache_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        event: c_int,
        path: *const c_char,
        data: *const u8,
        len: usize,
        stat: *const zkrs_stat,
    ),
>;

/// A running tree cache. Opaque; free with `zkrs_tree_cache_free`.
pub struct zkrs_tree_cache {
    inner: TreeCache,
    gate: Arc<Gate>,
}

/// Starts caching the subtree at `root` for the session of `c`;
/// `callback` may be NULL. On `ZKRS_OK`, `*out` is the cache (its first
/// load goes on in the background: wait for `ZKRS_CACHE_INITIALIZED`).
///
/// # Safety
/// `c` is a live client; `root` NUL-terminated; `userdata` valid until the
/// cache is freed (or the client is); `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_tree_cache_start(
    c: *mut zkrs_client,
    root: *const c_char,
    callback: zkrs_cache_fn,
    userdata: *mut c_void,
    out: *mut *mut zkrs_tree_cache,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let root = try_arg!(str_arg(root));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let gate = Gate::new();
        let caller = Caller::new(&c.gate, &gate, userdata);
        let root_c = root.to_string();
        let _rt = c.inner.runtime().enter();
        let inner = TreeCache::start(c.inner.as_async(), root, move |ev| {
            if let Some(f) = callback {
                deliver(&caller, f, &root_c, ev);
            }
        });
        write_out(
            out,
            Box::into_raw(Box::new(zkrs_tree_cache { inner, gate })),
        );
        ZKRS_OK
    })
}

type CacheFn =
    unsafe extern "C" fn(*mut c_void, c_int, *const c_char, *const u8, usize, *const zkrs_stat);

/// One cache event as a call into C.
fn deliver(caller: &Caller, f: CacheFn, root: &str, ev: CacheEvent) {
    let (kind, path, node) = match ev {
        CacheEvent::Added(p, n) => (ZKRS_CACHE_ADDED, p, Some(n)),
        CacheEvent::Updated(p, n) => (ZKRS_CACHE_UPDATED, p, Some(n)),
        CacheEvent::Removed(p) => (ZKRS_CACHE_REMOVED, p, None),
        CacheEvent::Initialized => (ZKRS_CACHE_INITIALIZED, root.to_string(), None),
    };
    let path = c_string(&path);
    let (data, stat) = match node {
        Some(n) => (n.data, Some(zkrs_stat::from(n.stat))),
        None => (Vec::new(), None),
    };
    let (ptr, st) = (data_ptr(&data), stat_ptr(&stat));
    caller.call(|ud| {
        unsafe { f(ud, kind, path.as_ptr(), ptr, data.len(), st) };
        1
    });
}

/// The cached node at `path`: its data as a buffer to free with
/// `zkrs_buffer_free` (`data` may be NULL to skip it) and its stat (`stat`
/// may be NULL). `ZKRS_NONODE` if the cache does not hold it.
///
/// # Safety
/// `t` is a live cache; `path` NUL-terminated; `data` and `stat` are NULL
/// or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_tree_cache_get(
    t: *const zkrs_tree_cache,
    path: *const c_char,
    data: *mut *mut zkrs_buffer,
    stat: *mut zkrs_stat,
) -> c_int {
    guard(|| {
        let t = try_arg!(t.as_ref());
        let path = try_arg!(str_arg(path));
        let Some(node) = t.inner.get(path) else {
            return ZKRS_NONODE;
        };
        write_out(stat, zkrs_stat::from(node.stat));
        if !data.is_null() {
            write_out(data, buffer_into_raw(node.data));
        }
        ZKRS_OK
    })
}

/// The cached children's names of `path`, sorted: an array to free with
/// `zkrs_string_array_free`. `ZKRS_NONODE` if the cache does not hold
/// `path`.
///
/// # Safety
/// `t` is a live cache; `path` NUL-terminated; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_tree_cache_children(
    t: *const zkrs_tree_cache,
    path: *const c_char,
    out: *mut *mut zkrs_string_array,
) -> c_int {
    guard(|| {
        let t = try_arg!(t.as_ref());
        let path = try_arg!(str_arg(path));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        match t.inner.children(path) {
            Some(names) => {
                write_out(out, string_array_into_raw(&names));
                ZKRS_OK
            }
            None => ZKRS_NONODE,
        }
    })
}

/// 1 while the cache follows the tree; 0 once stopped by its session's
/// end (also for NULL).
///
/// # Safety
/// `t` is NULL or a live cache.
#[no_mangle]
pub unsafe extern "C" fn zkrs_tree_cache_is_running(t: *const zkrs_tree_cache) -> c_int {
    guard_or(0, || t.as_ref().map_or(0, |t| t.inner.is_running().into()))
}

/// Stops and frees the cache; no callback of it runs after this returns
/// (it may be called from inside that callback). NULL is a no-op.
///
/// # Safety
/// `t` is NULL or a cache from `zkrs_tree_cache_start` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_tree_cache_free(t: *mut zkrs_tree_cache) {
    guard_void(|| {
        if !t.is_null() {
            let t = Box::from_raw(t);
            t.gate.close();
            t.inner.stop();
        }
    })
}
