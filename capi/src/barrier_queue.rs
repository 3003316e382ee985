//! More of the core recipes for C: `zkrs_semaphore`, `zkrs_barrier` and
//! `zkrs_queue`, in kazoo's node layout. As in `recipes`, each call blocks
//! the calling thread until the core recipe answers; times are
//! milliseconds, a negative timeout waits as long as the session lives.

use std::ffi::{c_char, c_int};
use std::sync::Arc;

use zkrs_core::client::blocking::Client;
use zkrs_core::recipes::{Barrier, Queue, Semaphore};

use crate::client::zkrs_client;
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{bytes_arg, guard, guard_void, opt_str_arg, str_arg, try_arg, write_out};
use crate::recipes::{answer, done, timeout, wait};
use crate::types::{buffer_into_raw, zkrs_buffer};

/// At most `max_leases` holders at once on a path. Opaque; free with
/// `zkrs_semaphore_free`.
pub struct zkrs_semaphore {
    session: Client,
    inner: Arc<Semaphore>,
}

/// A gate that holds waiters until it is removed. Opaque; free with
/// `zkrs_barrier_free`.
pub struct zkrs_barrier {
    session: Client,
    inner: Arc<Barrier>,
}

/// A queue of byte items: lower priority number first, then FIFO; each
/// item is taken once. Opaque; free with `zkrs_queue_free`.
pub struct zkrs_queue {
    session: Client,
    inner: Arc<Queue>,
}

/// Makes a semaphore on `path` with `max_leases` leases (at least 1; every
/// process on the path must count the same, else acquire gives
/// `ZKRS_BADARGUMENTS`) for the session of `c`. `identifier` (may be NULL)
/// is what the lease holders show.
///
/// # Safety
/// `c` is a live client; strings are NUL-terminated or NULL
/// (`identifier`); `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_semaphore_new(
    c: *const zkrs_client,
    path: *const c_char,
    identifier: *const c_char,
    max_leases: c_int,
    out: *mut *mut zkrs_semaphore,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        let id = try_arg!(opt_str_arg(identifier));
        if out.is_null() || max_leases < 1 {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let inner = Semaphore::new(session.as_async(), path, id.as_bytes(), max_leases as usize);
        let s = zkrs_semaphore {
            session,
            inner: Arc::new(inner),
        };
        write_out(out, Box::into_raw(Box::new(s)));
        ZKRS_OK
    })
}

/// Waits for a lease up to `timeout_ms` (0: only try; negative: no
/// limit). `*acquired` is 1 when held, 0 when the time ran out.
///
/// # Safety
/// `sem` is a live semaphore; `acquired` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_semaphore_acquire(
    sem: *mut zkrs_semaphore,
    timeout_ms: c_int,
    acquired: *mut c_int,
) -> c_int {
    guard(|| {
        let s = try_arg!(sem.as_ref());
        let inner = s.inner.clone();
        let got = wait(&s.session, async move {
            inner.acquire(timeout(timeout_ms)).await
        });
        answer(got.map(c_int::from), acquired)
    })
}

/// Gives the lease back (`ZKRS_OK` also when none was held).
///
/// # Safety
/// `sem` is a live semaphore.
#[no_mangle]
pub unsafe extern "C" fn zkrs_semaphore_release(sem: *mut zkrs_semaphore) -> c_int {
    guard(|| {
        let s = try_arg!(sem.as_ref());
        let inner = s.inner.clone();
        done(wait(&s.session, async move { inner.release().await }).map(drop))
    })
}

/// Gives the lease back if held and frees the semaphore. NULL is a no-op.
///
/// # Safety
/// `sem` is NULL or a semaphore from `zkrs_semaphore_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_semaphore_free(sem: *mut zkrs_semaphore) {
    guard_void(|| {
        if !sem.is_null() {
            let s = Box::from_raw(sem);
            let inner = s.inner.clone();
            let _ = wait(&s.session, async move { inner.release().await });
        }
    })
}

/// Makes a barrier handle on `path` for the session of `c` (nothing is
/// created until `zkrs_barrier_create`).
///
/// # Safety
/// `c` is a live client; `path` is NUL-terminated; `out` is valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_barrier_new(
    c: *const zkrs_client,
    path: *const c_char,
    out: *mut *mut zkrs_barrier,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let inner = Arc::new(Barrier::new(session.as_async(), path));
        write_out(
            out,
            Box::into_raw(Box::new(zkrs_barrier { session, inner })),
        );
        ZKRS_OK
    })
}

/// Puts the barrier up (its node); up already is fine.
///
/// # Safety
/// `b` is a live barrier.
#[no_mangle]
pub unsafe extern "C" fn zkrs_barrier_create(b: *mut zkrs_barrier) -> c_int {
    guard(|| {
        let b = try_arg!(b.as_ref());
        let inner = b.inner.clone();
        done(wait(&b.session, async move { inner.create().await }))
    })
}

/// Takes the barrier down: every waiter goes on. `*removed` (may be NULL)
/// is 0 if it was not up.
///
/// # Safety
/// `b` is a live barrier; `removed` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_barrier_remove(b: *mut zkrs_barrier, removed: *mut c_int) -> c_int {
    guard(|| {
        let b = try_arg!(b.as_ref());
        let inner = b.inner.clone();
        let r = wait(&b.session, async move { inner.remove().await });
        answer(r.map(c_int::from), removed)
    })
}

/// Waits up to `timeout_ms` (negative: no limit) for the barrier to be
/// down. `*passed` is 1 once it is, 0 when the time ran out.
///
/// # Safety
/// `b` is a live barrier; `passed` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_barrier_wait(
    b: *mut zkrs_barrier,
    timeout_ms: c_int,
    passed: *mut c_int,
) -> c_int {
    guard(|| {
        let b = try_arg!(b.as_ref());
        if passed.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let inner = b.inner.clone();
        let r = wait(
            &b.session,
            async move { inner.wait(timeout(timeout_ms)).await },
        );
        answer(r.map(c_int::from), passed)
    })
}

/// Frees the handle (the barrier's node stays). NULL is a no-op.
///
/// # Safety
/// `b` is NULL or a barrier from `zkrs_barrier_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_barrier_free(b: *mut zkrs_barrier) {
    guard_void(|| {
        if !b.is_null() {
            drop(Box::from_raw(b));
        }
    })
}

/// Makes a queue handle on `path` for the session of `c`.
///
/// # Safety
/// `c` is a live client; `path` is NUL-terminated; `out` is valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_queue_new(
    c: *const zkrs_client,
    path: *const c_char,
    out: *mut *mut zkrs_queue,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let inner = Arc::new(Queue::new(session.as_async(), path));
        write_out(out, Box::into_raw(Box::new(zkrs_queue { session, inner })));
        ZKRS_OK
    })
}

/// Adds `len` bytes at `data` with `priority` (0..=999, lower first;
/// kazoo's default is 100).
///
/// # Safety
/// `q` is a live queue; `data` points to `len` readable bytes (NULL when
/// `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn zkrs_queue_put(
    q: *mut zkrs_queue,
    data: *const u8,
    len: usize,
    priority: c_int,
) -> c_int {
    guard(|| {
        let q = try_arg!(q.as_ref());
        let item = try_arg!(bytes_arg(data, len)).to_vec();
        let Ok(priority) = u16::try_from(priority) else {
            return ZKRS_BADARGUMENTS;
        };
        if priority > 999 {
            return ZKRS_BADARGUMENTS;
        }
        let inner = q.inner.clone();
        done(wait(
            &q.session,
            async move { inner.put(&item, priority).await },
        ))
    })
}

/// Takes the first item: `*item` is a new buffer (free it with
/// `zkrs_buffer_free`), or NULL when the queue is empty.
///
/// # Safety
/// `q` is a live queue; `item` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_queue_get(q: *mut zkrs_queue, item: *mut *mut zkrs_buffer) -> c_int {
    guard(|| {
        let q = try_arg!(q.as_ref());
        if item.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let inner = q.inner.clone();
        let r = wait(&q.session, async move { inner.get().await });
        let raw = r.map(|got| got.map_or(std::ptr::null_mut(), buffer_into_raw));
        answer(raw, item)
    })
}

/// How many items are queued.
///
/// # Safety
/// `q` is a live queue; `len` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_queue_len(q: *mut zkrs_queue, len: *mut usize) -> c_int {
    guard(|| {
        let q = try_arg!(q.as_ref());
        if len.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let inner = q.inner.clone();
        answer(wait(&q.session, async move { inner.len().await }), len)
    })
}

/// Frees the handle (the items stay). NULL is a no-op.
///
/// # Safety
/// `q` is NULL or a queue from `zkrs_queue_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_queue_free(q: *mut zkrs_queue) {
    guard_void(|| {
        if !q.is_null() {
            drop(Box::from_raw(q));
        }
    })
}
