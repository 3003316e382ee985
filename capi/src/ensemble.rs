//! `zkrs_ensemble`: a throw-away ensemble of members run inside the
//! calling process (127.0.0.1, free ports, temporary data directories),
//! for tests and demos. A thin wrapper over `zkrs::embed::blocking::Ensemble`.

use std::ffi::{c_char, c_int, CString};

use zkrs_core::embed::{blocking::Ensemble, EnsembleOptions};

use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{guard, try_arg, write_out};
use crate::types::c_string;

/// An ensemble running in this process. Created by `zkrs_ensemble_start`,
/// released by `zkrs_ensemble_free` (a Box: one owner). The functions
/// taking a `zkrs_ensemble` may be called from any thread, but not
/// concurrently with each other on the same handle, nor with
/// `zkrs_ensemble_free`.
pub struct zkrs_ensemble {
    inner: Ensemble,
    connect: CString,
}

/// Starts `members` voting members and `observers` observers and returns
/// once all of them serve clients under one leader. Each member gets a
/// free loopback port and a directory under a fresh temporary data
/// directory (removed when the ensemble is freed); tickTime is 500 ms, so
/// sessions may last 1 to 10 s. On `ZKRS_OK`, `*out`
/// is the new ensemble; free it with `zkrs_ensemble_free`.
///
/// Returns `ZKRS_BADARGUMENTS` when `out` is NULL, `members` < 1 or
/// `observers` < 0, `ZKRS_OPERATIONTIMEOUT` when no leader is elected in
/// time, `ZKRS_SYSTEMERROR` when a member cannot start.
///
/// # Safety
/// `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_ensemble_start(
    members: c_int,
    observers: c_int,
    out: *mut *mut zkrs_ensemble,
) -> c_int {
    guard(|| {
        if out.is_null() || members < 1 || observers < 0 {
            return ZKRS_BADARGUMENTS;
        }
        // tickTime 500 ms: sessions up to 10 s, so a C program (or one under
        // valgrind) that is slow for a moment keeps its session.
        let opts = EnsembleOptions {
            members: members as usize,
            observers: observers as usize,
            tick_time_ms: 500,
            ..Default::default()
        };
        match Ensemble::start(opts) {
            Ok(inner) => {
                let connect = c_string(inner.connect_string());
                write_out(
                    out,
                    Box::into_raw(Box::new(zkrs_ensemble { inner, connect })),
                );
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

/// The connect string naming every member, comma-separated, e.g.
/// "127.0.0.1:40123,127.0.0.1:40125,127.0.0.1:40127". The string belongs
/// to the ensemble and stays valid until `zkrs_ensemble_free`. NULL when
/// `ensemble` is NULL.
///
/// # Safety
/// `ensemble` is NULL or a live ensemble.
#[no_mangle]
pub unsafe extern "C" fn zkrs_ensemble_connect_string(
    ensemble: *const zkrs_ensemble,
) -> *const c_char {
    crate::ffi::guard_or(std::ptr::null(), || match ensemble.as_ref() {
        Some(e) => e.connect.as_ptr(),
        None => std::ptr::null(),
    })
}

/// Stops member `i` (0-based; members first, then observers): its clients
/// lose their connection, its data stays. Stopping a stopped member is a
/// no-op. Returns `ZKRS_BADARGUMENTS` when `ensemble` is NULL or `i` is
/// out of range.
///
/// # Safety
/// `ensemble` is NULL or a live ensemble.
#[no_mangle]
pub unsafe extern "C" fn zkrs_ensemble_stop_member(
    ensemble: *mut zkrs_ensemble,
    i: c_int,
) -> c_int {
    guard(|| {
        let e = try_arg!(ensemble.as_mut());
        let i = try_arg!(usize::try_from(i).ok());
        match e.inner.stop_member(i) {
            Ok(()) => ZKRS_OK,
            Err(err) => err.code(),
        }
    })
}

/// Cuts member `i` (0-based) off from the other members, as a network
/// partition would (`isolate` non-zero), or heals it (0). Its clients
/// still reach it: a cut-off leader stops serving and the others elect a
/// new one; clients move to another member with their sessions. Returns
/// `ZKRS_BADARGUMENTS` when `ensemble` is NULL or member `i` is not
/// running.
///
/// # Safety
/// `ensemble` is NULL or a live ensemble.
#[no_mangle]
pub unsafe extern "C" fn zkrs_ensemble_isolate_member(
    ensemble: *mut zkrs_ensemble,
    i: c_int,
    isolate: c_int,
) -> c_int {
    guard(|| {
        let e = try_arg!(ensemble.as_ref());
        let i = try_arg!(usize::try_from(i).ok());
        let r = match isolate {
            0 => e.inner.heal_member(i),
            _ => e.inner.isolate_member(i),
        };
        match r {
            Ok(()) => ZKRS_OK,
            Err(err) => err.code(),
        }
    })
}

/// Starts member `i` (0-based) again on its data directory and returns
/// once every running member has a leader. Starting a running member is a
/// no-op. Returns `ZKRS_BADARGUMENTS` when `ensemble` is NULL or `i` is
/// out of range, `ZKRS_OPERATIONTIMEOUT` when no leader is elected in
/// time.
///
/// # Safety
/// `ensemble` is NULL or a live ensemble.
#[no_mangle]
pub unsafe extern "C" fn zkrs_ensemble_start_member(
    ensemble: *mut zkrs_ensemble,
    i: c_int,
) -> c_int {
    guard(|| {
        let e = try_arg!(ensemble.as_mut());
        let i = try_arg!(usize::try_from(i).ok());
        match e.inner.start_member(i) {
            Ok(()) => ZKRS_OK,
            Err(err) => err.code(),
        }
    })
}

/// The index (0-based) of the member currently leading, or -1 when no
/// running member leads (an election is under way) or `ensemble` is NULL.
///
/// # Safety
/// `ensemble` is NULL or a live ensemble.
#[no_mangle]
pub unsafe extern "C" fn zkrs_ensemble_leader(ensemble: *const zkrs_ensemble) -> c_int {
    crate::ffi::guard_or(-1, || match ensemble.as_ref() {
        Some(e) => e
            .inner
            .leader()
            .and_then(|i| c_int::try_from(i).ok())
            .unwrap_or(-1),
        None => -1,
    })
}

/// Stops every member and releases the ensemble, removing its temporary
/// data directory. NULL is a no-op.
///
/// # Safety
/// `ensemble` is NULL or an ensemble from `zkrs_ensemble_start` not yet
/// freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_ensemble_free(ensemble: *mut zkrs_ensemble) {
    crate::ffi::guard_void(|| {
        if !ensemble.is_null() {
            drop(Box::from_raw(ensemble));
        }
    })
}
