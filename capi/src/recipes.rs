//! The core recipes for C: `zkrs_lock` (exclusive or read lock),
//! `zkrs_counter` and `zkrs_leader_latch`, in kazoo's node layout, so C,
//! Python, Node and kazoo processes share one lock or election. Each call
//! blocks the calling thread until the core recipe answers; times are
//! milliseconds, a negative timeout waits as long as the session lives.

use std::ffi::{c_char, c_int};
use std::sync::Arc;
use std::time::Duration;

use zkrs_core::client::blocking::Client;
use zkrs_core::recipes::{Counter, LeaderLatch, Lock};

use crate::client::zkrs_client;
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{guard, guard_or, guard_void, opt_str_arg, str_arg, try_arg, write_out};

/// A lock on a path, held by this client's session. Opaque; free with
/// `zkrs_lock_free`.
pub struct zkrs_lock {
    session: Client,
    inner: Arc<Lock>,
}

/// A shared integer changed by compare-and-set. Opaque; free with
/// `zkrs_counter_free`.
pub struct zkrs_counter {
    session: Client,
    inner: Arc<Counter>,
}

/// A candidate in a leader election that stays in line until freed.
/// Opaque; free with `zkrs_leader_latch_free`.
pub struct zkrs_leader_latch {
    session: Client,
    inner: Arc<LeaderLatch>,
}

pub(crate) fn timeout(ms: c_int) -> Option<Duration> {
    (ms >= 0).then(|| Duration::from_millis(ms as u64))
}

/// Runs a recipe call on the session's runtime and waits for it.
pub(crate) fn wait<T: Send + 'static>(
    session: &Client,
    fut: impl std::future::Future<Output = Result<T, zkrs_core::Error>> + Send + 'static,
) -> Result<T, zkrs_core::Error> {
    session.call(|_| fut)
}

/// A core result with no value as a result number.
pub(crate) fn done(r: Result<(), zkrs_core::Error>) -> c_int {
    r.map_or_else(|e| e.code(), |()| ZKRS_OK)
}

/// A core result as a result number, `Ok`'s value written to `out`.
///
/// # Safety
/// `out` is NULL or valid for a write.
pub(crate) unsafe fn answer<T>(r: Result<T, zkrs_core::Error>, out: *mut T) -> c_int {
    match r {
        Ok(v) => {
            write_out(out, v);
            ZKRS_OK
        }
        Err(e) => e.code(),
    }
}

/// Makes a lock on `path` for the session of `c`. `identifier` (may be
/// NULL) is what `contenders` shows for this holder; `shared` non-zero
/// makes a read lock (shared with readers, excludes writers). Nothing is
/// queued until `zkrs_lock_acquire`.
///
/// # Safety
/// `c` is a live client; strings are NUL-terminated or NULL
/// (`identifier`); `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_lock_new(
    c: *const zkrs_client,
    path: *const c_char,
    identifier: *const c_char,
    shared: c_int,
    out: *mut *mut zkrs_lock,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        let id = try_arg!(opt_str_arg(identifier));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let make = if shared != 0 { Lock::read } else { Lock::new };
        let inner = Arc::new(make(session.as_async(), path, id.as_bytes()));
        write_out(out, Box::into_raw(Box::new(zkrs_lock { session, inner })));
        ZKRS_OK
    })
}

/// Waits for the lock up to `timeout_ms` (0: only try; negative: no
/// limit). `*acquired` is 1 when held, 0 when the time ran out.
/// `ZKRS_SESSIONEXPIRED` if the session ended (nothing is held then).
///
/// # Safety
/// `lock` is a live lock; `acquired` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_lock_acquire(
    lock: *mut zkrs_lock,
    timeout_ms: c_int,
    acquired: *mut c_int,
) -> c_int {
    guard(|| {
        let l = try_arg!(lock.as_ref());
        let inner = l.inner.clone();
        let got = wait(&l.session, async move {
            inner.acquire(timeout(timeout_ms)).await
        });
        answer(got.map(c_int::from), acquired)
    })
}

/// Releases the lock (`ZKRS_OK` also when it was not held).
///
/// # Safety
/// `lock` is a live lock.
#[no_mangle]
pub unsafe extern "C" fn zkrs_lock_release(lock: *mut zkrs_lock) -> c_int {
    guard(|| {
        let l = try_arg!(lock.as_ref());
        let inner = l.inner.clone();
        done(wait(&l.session, async move { inner.release().await }).map(drop))
    })
}

/// 1 while the lock is held and the session lives, else 0 (after the
/// session expired the lock is gone: 0).
///
/// # Safety
/// `lock` is NULL or a live lock.
#[no_mangle]
pub unsafe extern "C" fn zkrs_lock_is_acquired(lock: *const zkrs_lock) -> c_int {
    guard_or(0, || {
        lock.as_ref()
            .map(|l| l.inner.is_acquired() as c_int)
            .unwrap_or(0)
    })
}

/// Releases the lock if held and frees it. NULL is a no-op.
///
/// # Safety
/// `lock` is NULL or a lock from `zkrs_lock_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_lock_free(lock: *mut zkrs_lock) {
    guard_void(|| {
        if !lock.is_null() {
            let l = Box::from_raw(lock);
            let inner = l.inner.clone();
            let _ = wait(&l.session, async move { inner.release().await });
        }
    })
}

/// Makes a counter at `path` for the session of `c`; it reads
/// `default_value` until first changed. Kept as decimal text (kazoo's
/// format).
///
/// # Safety
/// `c` is a live client; `path` is NUL-terminated; `out` is valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_counter_new(
    c: *const zkrs_client,
    path: *const c_char,
    default_value: i64,
    out: *mut *mut zkrs_counter,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let inner = Arc::new(Counter::new(session.as_async(), path, default_value));
        write_out(
            out,
            Box::into_raw(Box::new(zkrs_counter { session, inner })),
        );
        ZKRS_OK
    })
}

/// Adds `delta` atomically; `*value` (may be NULL) is the new value. A
/// lost connection during the final write is `ZKRS_CONNECTIONLOSS` (the
/// add may or may not have happened), never a double add.
///
/// # Safety
/// `counter` is a live counter; `value` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_counter_add(
    counter: *mut zkrs_counter,
    delta: i64,
    value: *mut i64,
) -> c_int {
    guard(|| {
        let n = try_arg!(counter.as_ref());
        let inner = n.inner.clone();
        answer(
            wait(&n.session, async move { inner.add(delta).await }),
            value,
        )
    })
}

/// The counter's current value.
///
/// # Safety
/// `counter` is a live counter; `value` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_counter_value(counter: *mut zkrs_counter, value: *mut i64) -> c_int {
    guard(|| {
        let n = try_arg!(counter.as_ref());
        if value.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let inner = n.inner.clone();
        answer(wait(&n.session, async move { inner.value().await }), value)
    })
}

/// Frees the counter (the znode stays). NULL is a no-op.
///
/// # Safety
/// `counter` is NULL or a counter from `zkrs_counter_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_counter_free(counter: *mut zkrs_counter) {
    guard_void(|| {
        if !counter.is_null() {
            drop(Box::from_raw(counter));
        }
    })
}

/// Joins the election at `path` for the session of `c` and stays in line
/// until `zkrs_leader_latch_free`.
///
/// # Safety
/// `c` is a live client; strings are NUL-terminated or NULL
/// (`identifier`); `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_leader_latch_start(
    c: *const zkrs_client,
    path: *const c_char,
    identifier: *const c_char,
    out: *mut *mut zkrs_leader_latch,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        let id = try_arg!(opt_str_arg(identifier));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let latch = {
            let _rt = session.runtime().enter();
            LeaderLatch::start(session.as_async(), path, id.as_bytes())
        };
        let inner = Arc::new(latch);
        write_out(
            out,
            Box::into_raw(Box::new(zkrs_leader_latch { session, inner })),
        );
        ZKRS_OK
    })
}

/// 1 while this candidate leads and its session is connected, else 0.
///
/// # Safety
/// `latch` is NULL or a live latch.
#[no_mangle]
pub unsafe extern "C" fn zkrs_leader_latch_has_leadership(
    latch: *const zkrs_leader_latch,
) -> c_int {
    guard_or(0, || {
        latch
            .as_ref()
            .map(|l| l.inner.has_leadership() as c_int)
            .unwrap_or(0)
    })
}

/// Waits up to `timeout_ms` (negative: no limit) to lead; `*leading` is 1
/// when it does, 0 when the time ran out. `ZKRS_SESSIONEXPIRED` if the
/// session ended.
///
/// # Safety
/// `latch` is a live latch; `leading` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_leader_latch_await(
    latch: *mut zkrs_leader_latch,
    timeout_ms: c_int,
    leading: *mut c_int,
) -> c_int {
    guard(|| {
        let l = try_arg!(latch.as_ref());
        let inner = l.inner.clone();
        let yes = wait(&l.session, async move {
            inner.await_leadership(timeout(timeout_ms)).await
        });
        answer(yes.map(c_int::from), leading)
    })
}

/// Leaves the election (the next candidate takes over) and frees the
/// latch. NULL is a no-op.
///
/// # Safety
/// `latch` is NULL or a latch from `zkrs_leader_latch_start` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_leader_latch_free(latch: *mut zkrs_leader_latch) {
    guard_void(|| {
        if !latch.is_null() {
            let l = Box::from_raw(latch);
            let inner = l.inner.clone();
            let _ = wait(&l.session, async move { inner.close().await });
        }
    })
}
