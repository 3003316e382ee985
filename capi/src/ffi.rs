//! Helpers shared by every exported function: the panic boundary and the
//! checks that turn C pointers into Rust values. Nothing here is exported.

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::ZKRS_SYSTEMERROR;

/// Runs an exported function's body; a panic becomes `ZKRS_SYSTEMERROR`.
/// `AssertUnwindSafe` is sound here because a panicking call reports
/// failure and writes no out-param, so no half-updated state reaches C.
pub(crate) fn guard(f: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(ZKRS_SYSTEMERROR)
}

/// The panic boundary for functions returning a value other than a result
/// number; a panic returns `fallback`.
pub(crate) fn guard_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The panic boundary for functions that return nothing (the frees).
pub(crate) fn guard_void(f: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}

/// Early-returns `ZKRS_BADARGUMENTS` from a `guard` body.
macro_rules! try_arg {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return $crate::error::ZKRS_BADARGUMENTS,
        }
    };
}
pub(crate) use try_arg;

/// A required NUL-terminated UTF-8 string argument; None when NULL or not
/// UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for this call.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    CStr::from_ptr(p).to_str().ok()
}

/// An optional string argument: NULL is the empty string; None when not
/// UTF-8.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return Some("");
    }
    str_arg(p)
}

/// A byte buffer argument: NULL with length 0 is the empty buffer.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
pub(crate) unsafe fn bytes_arg<'a>(p: *const u8, len: usize) -> Option<&'a [u8]> {
    if p.is_null() {
        return (len == 0).then_some(&[]);
    }
    // No buffer is that long: a length such as ZKRS_NULL_LEN with data.
    if len > isize::MAX as usize {
        return None;
    }
    Some(std::slice::from_raw_parts(p, len))
}

/// Znode data from C: `len` bytes at `p`, or null data (ZooKeeper's, kept
/// apart from empty) for NULL with `ZKRS_NULL_LEN`. None if invalid.
///
/// # Safety
/// As [`bytes_arg`].
pub(crate) unsafe fn data_arg<'a>(p: *const u8, len: usize) -> Option<Option<&'a [u8]>> {
    if p.is_null() && len == crate::client::ZKRS_NULL_LEN {
        return Some(None);
    }
    bytes_arg(p, len).map(Some)
}

/// A C array argument: NULL with length 0 is the empty array.
///
/// # Safety
/// `p` is NULL or points to `len` initialized elements.
pub(crate) unsafe fn slice_arg<'a, T>(p: *const T, len: usize) -> Option<&'a [T]> {
    if p.is_null() {
        return (len == 0).then_some(&[]);
    }
    Some(std::slice::from_raw_parts(p, len))
}

/// Writes an out-param; callers call it only on success.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, v: T) {
    if !out.is_null() {
        out.write(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_systemerror() {
        assert_eq!(guard(|| panic!("boom")), ZKRS_SYSTEMERROR);
        assert_eq!(guard_or(7, || panic!("boom")), 7);
        guard_void(|| panic!("boom"));
    }

    #[test]
    fn null_arguments() {
        unsafe {
            assert_eq!(str_arg(std::ptr::null()), None);
            assert_eq!(bytes_arg(std::ptr::null(), 0), Some(&[][..]));
            assert_eq!(bytes_arg(std::ptr::null(), 3), None);
            assert_eq!(slice_arg::<u32>(std::ptr::null(), 1), None);
        }
    }
}
