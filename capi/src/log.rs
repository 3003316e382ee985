//! `zkrs_set_log_callback`: the core's logs (members and clients in this
//! process) handed to a C function.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

use zkrs_core::logging::{self, Record};

use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK, ZKRS_SYSTEMERROR};
use crate::ffi::guard;

/// Error: something failed and was not handled.
pub const ZKRS_LOG_ERROR: c_int = 1;
/// Warning: a fault zkrs works around (a peer went silent, a retry).
pub const ZKRS_LOG_WARN: c_int = 2;
/// Info: life-cycle events (serving, leader changes, sessions).
pub const ZKRS_LOG_INFO: c_int = 3;
/// Debug: per-request detail.
pub const ZKRS_LOG_DEBUG: c_int = 4;
/// Trace: everything.
pub const ZKRS_LOG_TRACE: c_int = 5;

/// Called with one log record: `level` one of `ZKRS_LOG_*`, `target` the
/// Rust module ("zkrs::server::conn"), `message` the text; both strings
/// are valid only during the call. Runs on whichever zkrs thread logged,
/// possibly several at once: it must be thread-safe, return quickly and
/// not call libzkrs.
pub type zkrs_log_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        level: c_int,
        target: *const c_char,
        message: *const c_char,
    ),
>;

/// The caller's userdata, handed back untouched on zkrs threads.
#[derive(Clone, Copy)]
struct Userdata(*mut c_void);
// SAFETY: zkrs never dereferences it; sharing it with its threads is the
// contract `zkrs_set_log_callback` states.
unsafe impl Send for Userdata {}
unsafe impl Sync for Userdata {}

/// Sends the logs of every zkrs member and client in this process at
/// `max_level` (`ZKRS_LOG_ERROR` .. `ZKRS_LOG_TRACE`) and more severe to
/// `cb`, replacing any earlier callback. `cb` NULL or `max_level` 0 turns
/// logging off. `ZKRS_SYSTEMERROR` if the process already routes Rust
/// `tracing` logs elsewhere.
///
/// # Safety
/// `userdata` stays valid while `cb` is set and may be used from any thread.
#[no_mangle]
pub unsafe extern "C" fn zkrs_set_log_callback(
    cb: zkrs_log_fn,
    userdata: *mut c_void,
    max_level: c_int,
) -> c_int {
    guard(|| {
        if !(0..=ZKRS_LOG_TRACE).contains(&max_level) {
            return ZKRS_BADARGUMENTS;
        }
        let ud = Userdata(userdata);
        let sink = cb.map(|f| {
            Arc::new(move |r: Record| {
                let ud = ud;
                let target = CString::new(r.target).unwrap_or_default();
                let message = CString::new(r.message.replace('\0', " ")).unwrap_or_default();
                // SAFETY: the caller promised `f` and `userdata` are usable
                // from any thread while set.
                unsafe { f(ud.0, r.level as c_int, target.as_ptr(), message.as_ptr()) }
            }) as logging::Sink
        });
        let level = if sink.is_some() { max_level as u8 } else { 0 };
        match logging::set_sink(level, sink) {
            Ok(()) => ZKRS_OK,
            Err(_) => ZKRS_SYSTEMERROR,
        }
    })
}
