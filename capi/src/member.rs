//! `zkrs_member`: a ZooKeeper-compatible member run inside the calling
//! process, serving clients (zkrs's own or any ZooKeeper client) on a
//! loopback port. A thin wrapper over `zkrs::embed::blocking::Member`.

use std::ffi::{c_char, c_int, CString};

use zkrs_core::embed::{blocking::Member, MemberOptions};

use crate::error::ZKRS_OK;
use crate::ffi::{guard, str_arg, try_arg, write_out};
use crate::types::c_string;

/// An ensemble member running in this process. Created by
/// `zkrs_member_start`, released by `zkrs_member_free` (a Box: one owner).
/// The functions taking a `zkrs_member` may be called from any thread, but
/// not concurrently with `zkrs_member_free` on the same handle.
pub struct zkrs_member {
    inner: Member,
    connect: CString,
}

/// Starts a member and returns once it serves clients.
///
/// `zoo_cfg` is the text of a zoo.cfg file (tickTime, dataDir, clientPort,
/// ...), or NULL for an embedded member with ZooKeeper's defaults, a fresh
/// temporary data directory (removed when the member stops) and a free
/// loopback port. On `ZKRS_OK`, `*out` is the new member; free it with
/// `zkrs_member_free`.
///
/// Returns `ZKRS_BADARGUMENTS` when `out` is NULL or `zoo_cfg` is not
/// UTF-8, `ZKRS_SYSTEMERROR` when the configuration is invalid or the
/// member cannot start (port taken, data directory unusable).
///
/// # Safety
/// `zoo_cfg` is NULL or a NUL-terminated string; `out` is valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_member_start(
    zoo_cfg: *const c_char,
    out: *mut *mut zkrs_member,
) -> c_int {
    guard(|| {
        if out.is_null() {
            return crate::error::ZKRS_BADARGUMENTS;
        }
        let opts = MemberOptions {
            zoo_cfg: if zoo_cfg.is_null() {
                None
            } else {
                Some(try_arg!(str_arg(zoo_cfg)).to_string())
            },
            ..Default::default()
        };
        match Member::start(opts) {
            Ok(inner) => {
                let connect = c_string(inner.connect_string());
                write_out(out, Box::into_raw(Box::new(zkrs_member { inner, connect })));
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

/// The "host:port" connect string clients use to reach `member`, e.g.
/// "127.0.0.1:40123". The string belongs to the member and stays valid
/// until `zkrs_member_free` (also after `zkrs_member_stop`). NULL when
/// `member` is NULL.
///
/// # Safety
/// `member` is NULL or a live member.
#[no_mangle]
pub unsafe extern "C" fn zkrs_member_connect_string(member: *const zkrs_member) -> *const c_char {
    crate::ffi::guard_or(std::ptr::null(), || match member.as_ref() {
        Some(m) => m.connect.as_ptr(),
        None => std::ptr::null(),
    })
}

/// Stops serving: connected clients lose their connection. Later calls
/// are no-ops. The handle must still be freed with `zkrs_member_free`.
/// Returns `ZKRS_BADARGUMENTS` when `member` is NULL.
///
/// # Safety
/// `member` is NULL or a live member.
#[no_mangle]
pub unsafe extern "C" fn zkrs_member_stop(member: *mut zkrs_member) -> c_int {
    guard(|| {
        let m = try_arg!(member.as_mut());
        m.inner.stop();
        ZKRS_OK
    })
}

/// Stops the member if it still runs and releases it. NULL is a no-op.
///
/// # Safety
/// `member` is NULL or a member from `zkrs_member_start` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_member_free(member: *mut zkrs_member) {
    crate::ffi::guard_void(|| {
        if !member.is_null() {
            drop(Box::from_raw(member));
        }
    })
}
