//! kazoo's `SetPartitioner` for C: the members of a party at a path split
//! a set of items, each item with one owner, and split again when members
//! come or go (the same layout as Python's and Node's, so C, Python, Node
//! and kazoo processes share one partitioning). Calls block the calling
//! thread; times are milliseconds, a negative timeout waits as long as
//! the session lives.

use std::ffi::{c_char, c_int};
use std::sync::Arc;
use std::time::Duration;

use zkrs_core::client::blocking::Client;
use zkrs_core::recipes::{PartitionState, PartitionerOptions, SetPartitioner};

use crate::client::zkrs_client;
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{guard, guard_or, guard_void, opt_str_arg, str_arg, try_arg, write_out};
use crate::recipes::{answer, timeout, wait};
use crate::types::{string_array_into_raw, zkrs_string_array};

/// Splitting: the party has not settled, or our items' locks are coming.
pub const ZKRS_PARTITION_ALLOCATING: c_int = 0;
/// Our items are ours: `zkrs_partitioner_partitions`.
pub const ZKRS_PARTITION_ACQUIRED: c_int = 1;
/// The party changed: stop using the items, then
/// `zkrs_partitioner_release_set`.
pub const ZKRS_PARTITION_RELEASE: c_int = 2;
/// Finished or the session ended; final.
pub const ZKRS_PARTITION_FAILURE: c_int = 3;

/// One member of a set partitioning. Opaque; free with
/// `zkrs_partitioner_free`.
pub struct zkrs_partitioner {
    session: Client,
    inner: Arc<SetPartitioner>,
}

/// Joins the party at `path` for the session of `c` and starts the first
/// split of the `n_items` strings at `items` (every member must pass the
/// same items in the same order). `identifier` (NULL: `<hostname>-<pid>`)
/// names this member; `time_boundary_ms` is how long the party must stay
/// unchanged before a split (negative: kazoo's 30 s).
///
/// # Safety
/// `c` is a live client; `path` and each of the `n_items` `items` are
/// NUL-terminated; `identifier` is NUL-terminated or NULL; `out` is valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_partitioner_start(
    c: *const zkrs_client,
    path: *const c_char,
    items: *const *const c_char,
    n_items: usize,
    identifier: *const c_char,
    time_boundary_ms: c_int,
    out: *mut *mut zkrs_partitioner,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path)).to_string();
        let id = try_arg!(opt_str_arg(identifier));
        if out.is_null() || (items.is_null() && n_items > 0) {
            return ZKRS_BADARGUMENTS;
        }
        let mut names = Vec::with_capacity(n_items);
        for i in 0..n_items {
            names.push(try_arg!(str_arg(*items.add(i))).to_string());
        }
        let mut opts = PartitionerOptions::new(&member_name(id));
        if let Some(t) = timeout(time_boundary_ms) {
            opts.time_boundary = t;
        }
        let session = c.session().clone();
        let core = session.as_async().clone();
        let made = wait(&session, async move {
            SetPartitioner::new(&core, &path, names, opts).await
        });
        match made {
            Ok(p) => {
                let inner = Arc::new(p);
                let p = Box::new(zkrs_partitioner { session, inner });
                write_out(out, Box::into_raw(p));
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

/// The given member name, or kazoo's default.
fn member_name(given: &str) -> String {
    match given {
        "" => PartitionerOptions::default_identifier(),
        name => name.to_string(),
    }
}

/// Where the partitioner is: one of `ZKRS_PARTITION_*`
/// (`ZKRS_PARTITION_FAILURE` for NULL).
///
/// # Safety
/// `p` is NULL or a live partitioner.
#[no_mangle]
pub unsafe extern "C" fn zkrs_partitioner_state(p: *const zkrs_partitioner) -> c_int {
    guard_or(ZKRS_PARTITION_FAILURE, || match p.as_ref() {
        None => ZKRS_PARTITION_FAILURE,
        Some(p) => match p.inner.state() {
            PartitionState::Allocating => ZKRS_PARTITION_ALLOCATING,
            PartitionState::Acquired => ZKRS_PARTITION_ACQUIRED,
            PartitionState::Release => ZKRS_PARTITION_RELEASE,
            PartitionState::Failure => ZKRS_PARTITION_FAILURE,
        },
    })
}

/// Waits up to `timeout_ms` (negative: no limit) for
/// `ZKRS_PARTITION_ACQUIRED`; `*acquired` is 1 when reached, else 0.
///
/// # Safety
/// `p` is a live partitioner; `acquired` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_partitioner_wait_acquired(
    p: *mut zkrs_partitioner,
    timeout_ms: c_int,
    acquired: *mut c_int,
) -> c_int {
    guard(|| {
        let p = try_arg!(p.as_ref());
        let inner = p.inner.clone();
        let t: Option<Duration> = timeout(timeout_ms);
        let got = wait(&p.session, async move {
            Ok(c_int::from(inner.wait_for_acquire(t).await))
        });
        answer(got, acquired)
    })
}

/// This member's items as of the last `ZKRS_PARTITION_ACQUIRED`: an array
/// to free with `zkrs_string_array_free`.
///
/// # Safety
/// `p` is a live partitioner; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_partitioner_partitions(
    p: *const zkrs_partitioner,
    out: *mut *mut zkrs_string_array,
) -> c_int {
    guard(|| {
        let p = try_arg!(p.as_ref());
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        write_out(out, string_array_into_raw(&p.inner.partitions()));
        ZKRS_OK
    })
}

/// Gives this member's items back and starts the next split (after
/// `ZKRS_PARTITION_RELEASE`).
///
/// # Safety
/// `p` is a live partitioner.
#[no_mangle]
pub unsafe extern "C" fn zkrs_partitioner_release_set(p: *mut zkrs_partitioner) -> c_int {
    guard(|| {
        let p = try_arg!(p.as_ref());
        let inner = p.inner.clone();
        let r = wait(&p.session, async move {
            inner.release_set().await;
            Ok(())
        });
        r.map_or_else(|e| e.code(), |()| ZKRS_OK)
    })
}

/// Gives the items back, leaves the party and frees the partitioner. NULL
/// is a no-op.
///
/// # Safety
/// `p` is NULL or a partitioner from `zkrs_partitioner_start` not yet
/// freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_partitioner_free(p: *mut zkrs_partitioner) {
    guard_void(|| {
        if !p.is_null() {
            let p = Box::from_raw(p);
            let inner = p.inner.clone();
            let _ = wait(&p.session, async move {
                inner.finish().await;
                Ok(())
            });
        }
    })
}
