//! `zkrs_locking_queue` and the non-blocking leases, in kazoo's node
//! layouts. As in `recipes`, each call blocks the calling thread until the
//! core recipe answers; times are milliseconds, a negative timeout waits
//! as long as the session lives.

use std::ffi::{c_char, c_int};
use std::sync::Arc;
use std::time::Duration;

use zkrs_core::client::blocking::Client;
use zkrs_core::recipes::{obtain_lease, obtain_one_of, LockingQueue};

use crate::client::zkrs_client;
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{bytes_arg, guard, guard_void, str_arg, try_arg, write_out};
use crate::recipes::{answer, done, timeout, wait};
use crate::types::{buffer_into_raw, zkrs_buffer};

/// kazoo's `LockingQueue`: `get` locks an item instead of taking it;
/// `consume` removes it, `release` gives it back; an item whose worker's
/// session ends is offered again. Opaque; free with
/// `zkrs_locking_queue_free`.
pub struct zkrs_locking_queue {
    session: Client,
    inner: Arc<LockingQueue>,
}

/// Makes a locking queue on `path` for the session of `c`.
///
/// # Safety
/// `c` is a live client; `path` NUL-terminated; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_locking_queue_new(
    c: *const zkrs_client,
    path: *const c_char,
    out: *mut *mut zkrs_locking_queue,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let inner = Arc::new(LockingQueue::new(session.as_async(), path));
        write_out(
            out,
            Box::into_raw(Box::new(zkrs_locking_queue { session, inner })),
        );
        ZKRS_OK
    })
}

/// Adds `len` bytes at `data` with `priority` (0..=999, lower first).
///
/// # Safety
/// `q` is a live queue; `data` points to `len` readable bytes (NULL when
/// `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn zkrs_locking_queue_put(
    q: *mut zkrs_locking_queue,
    data: *const u8,
    len: usize,
    priority: c_int,
) -> c_int {
    guard(|| {
        let q = try_arg!(q.as_ref());
        let item = try_arg!(bytes_arg(data, len)).to_vec();
        let priority = try_arg!(u16::try_from(priority).ok().filter(|p| *p <= 999));
        let inner = q.inner.clone();
        done(wait(
            &q.session,
            async move { inner.put(&item, priority).await },
        ))
    })
}

/// Locks the first free item: `*item` is a new buffer (free it with
/// `zkrs_buffer_free`), or NULL if none came within `timeout_ms`.
///
/// # Safety
/// `q` is a live queue; `item` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_locking_queue_get(
    q: *mut zkrs_locking_queue,
    timeout_ms: c_int,
    item: *mut *mut zkrs_buffer,
) -> c_int {
    guard(|| {
        let q = try_arg!(q.as_ref());
        if item.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let inner = q.inner.clone();
        let t = timeout(timeout_ms);
        let r = wait(&q.session, async move { inner.get(t).await });
        let raw = r.map(|got| got.map_or(std::ptr::null_mut(), buffer_into_raw));
        answer(raw, item)
    })
}

/// Removes the item this queue holds: `*removed` 1, or 0 if it holds none.
///
/// # Safety
/// `q` is a live queue; `removed` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_locking_queue_consume(
    q: *mut zkrs_locking_queue,
    removed: *mut c_int,
) -> c_int {
    guard(|| {
        let q = try_arg!(q.as_ref());
        let inner = q.inner.clone();
        let r = wait(&q.session, async move { inner.consume().await });
        answer(r.map(c_int::from), removed)
    })
}

/// Gives the held item back: `*released` 1, or 0 if it holds none.
///
/// # Safety
/// `q` is a live queue; `released` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_locking_queue_release(
    q: *mut zkrs_locking_queue,
    released: *mut c_int,
) -> c_int {
    guard(|| {
        let q = try_arg!(q.as_ref());
        let inner = q.inner.clone();
        let r = wait(&q.session, async move { inner.release().await });
        answer(r.map(c_int::from), released)
    })
}

/// Frees the handle; a held item stays locked until the session ends.
/// NULL is a no-op.
///
/// # Safety
/// `q` is NULL or a queue not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_locking_queue_free(q: *mut zkrs_locking_queue) {
    guard_void(|| {
        if !q.is_null() {
            drop(Box::from_raw(q));
        }
    })
}

/// kazoo's `NonBlockingLease` (with `count` 1) or `MultiNonBlockingLease`:
/// tries once to take or renew one of `count` leases under `path` for
/// `duration_ms` from now; `*obtained` is 1 if `identifier` holds it.
///
/// # Safety
/// `c` is a live client; strings NUL-terminated; `obtained` valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_lease_obtain(
    c: *const zkrs_client,
    path: *const c_char,
    count: c_int,
    duration_ms: i64,
    identifier: *const c_char,
    obtained: *mut c_int,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path)).to_string();
        let ident = try_arg!(str_arg(identifier)).to_string();
        if obtained.is_null() || count < 1 || duration_ms < 0 {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let zk = session.as_async().clone();
        let (span, now) = (
            Duration::from_millis(duration_ms as u64),
            zkrs_core::recipes::utc_now(),
        );
        let r = wait(&session, async move {
            if count == 1 {
                obtain_lease(&zk, &path, span, &ident, now).await
            } else {
                obtain_one_of(&zk, count as usize, &path, span, &ident, now).await
            }
        });
        answer(r.map(c_int::from), obtained)
    })
}
