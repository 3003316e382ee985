//! kazoo's `Election` for C: `zkrs_election_run` waits to be elected, calls
//! the task on the calling thread, and steps down; `zkrs_election_cancel`
//! (from another thread) makes a waiting run leave the line. Candidates
//! share kazoo's lock layout with `zkrs_lock`, `zkrs_leader_latch` and the
//! other languages.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use zkrs_core::client::blocking::Client;
use zkrs_core::recipes::Election;

use crate::client::zkrs_client;
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{guard, guard_void, opt_str_arg, str_arg, try_arg, write_out};
use crate::recipes::wait;

/// The task an elected candidate runs: gets `userdata`, returns a value
/// handed back by `zkrs_election_run`.
pub type zkrs_election_task = Option<unsafe extern "C" fn(userdata: *mut c_void) -> c_int>;

/// A candidate in the election at a path. Opaque; free with
/// `zkrs_election_free`.
pub struct zkrs_election {
    session: Client,
    inner: Arc<Election>,
}

/// Makes a candidate at `path` for the session of `c`; `identifier` (may
/// be NULL) is what other candidates see. Nothing is queued until
/// `zkrs_election_run`.
///
/// # Safety
/// `c` is a live client; strings are NUL-terminated or NULL
/// (`identifier`); `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_election_new(
    c: *const zkrs_client,
    path: *const c_char,
    identifier: *const c_char,
    out: *mut *mut zkrs_election,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        let id = try_arg!(opt_str_arg(identifier));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let inner = Arc::new(Election::new(session.as_async(), path, id.as_bytes()));
        write_out(
            out,
            Box::into_raw(Box::new(zkrs_election { session, inner })),
        );
        ZKRS_OK
    })
}

/// Waits to be elected, calls `task(userdata)` on this thread, then steps
/// down. Returns `ZKRS_OK` with `*ran` 1 and `*result` the task's value,
/// `ZKRS_OK` with `*ran` 0 if `zkrs_election_cancel` came first (the task
/// did not run), or the error that ended the wait (`ZKRS_SESSIONEXPIRED`,
/// ...). `ran` and `result` may be NULL.
///
/// # Safety
/// `election` is a live candidate; `task` is callable with `userdata`;
/// `ran` and `result` are NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_election_run(
    election: *mut zkrs_election,
    task: zkrs_election_task,
    userdata: *mut c_void,
    ran: *mut c_int,
    result: *mut c_int,
) -> c_int {
    guard(|| {
        let e = try_arg!(election.as_ref());
        let task = try_arg!(task);
        let inner = e.inner.clone();
        let elected = match wait(&e.session, async move { inner.lead().await }) {
            Ok(elected) => elected,
            Err(err) => return err.code(),
        };
        write_out(ran, c_int::from(elected));
        if !elected {
            return ZKRS_OK;
        }
        write_out(result, task(userdata));
        let inner = e.inner.clone();
        match wait(&e.session, async move { inner.step_down().await }) {
            Ok(_) => ZKRS_OK,
            Err(err) => err.code(),
        }
    })
}

/// Makes a waiting `zkrs_election_run` (on another thread) leave the line
/// and return with `*ran` 0.
///
/// # Safety
/// `election` is NULL or a live candidate.
#[no_mangle]
pub unsafe extern "C" fn zkrs_election_cancel(election: *const zkrs_election) {
    guard_void(|| {
        if let Some(e) = election.as_ref() {
            e.inner.cancel();
        }
    })
}

/// Frees the candidate. NULL is a no-op. Not while a run is under way.
///
/// # Safety
/// `election` is NULL or a candidate from `zkrs_election_new` not yet
/// freed, with no `zkrs_election_run` in progress.
#[no_mangle]
pub unsafe extern "C" fn zkrs_election_free(election: *mut zkrs_election) {
    guard_void(|| {
        if !election.is_null() {
            drop(Box::from_raw(election));
        }
    })
}
