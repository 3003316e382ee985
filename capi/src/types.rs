//! Plain C structs crossing the ABI and the allocations zkrs hands to C.
//! Ownership, once per type:
//! - `zkrs_stat`, `zkrs_acl` (as input), `zkrs_op`: owned by the caller;
//!   zkrs copies what it needs during the call.
//! - `char *` strings zkrs returns: free with `zkrs_string_free`.
//! - `zkrs_buffer`, `zkrs_string_array`, `zkrs_acl_list`: allocated by
//!   zkrs, each freed (with everything it points to) by its own `*_free`.
//!
//! Every free accepts NULL.

use std::ffi::{c_char, CString};

use zkrs_core::types::{Acl, Id, Stat};

use crate::ffi::guard_void;

/// A znode's metadata, field for field ZooKeeper's `Stat`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct zkrs_stat {
    /// The zxid of the change that created the node.
    pub czxid: i64,
    /// The zxid of the change that last modified the node's data.
    pub mzxid: i64,
    /// Creation time, milliseconds since the epoch.
    pub ctime: i64,
    /// Last modification time, milliseconds since the epoch.
    pub mtime: i64,
    /// Number of changes to the data.
    pub version: i32,
    /// Number of changes to the children.
    pub cversion: i32,
    /// Number of changes to the ACL.
    pub aversion: i32,
    /// The owning session of an ephemeral node, else 0 (containers and TTL
    /// nodes carry ZooKeeper's markers here).
    pub ephemeral_owner: i64,
    /// Length of the data in bytes.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
    /// The zxid of the change that last modified the children.
    pub pzxid: i64,
}

impl From<Stat> for zkrs_stat {
    fn from(s: Stat) -> Self {
        zkrs_stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner,
            data_length: s.data_length,
            num_children: s.num_children,
            pzxid: s.pzxid,
        }
    }
}

/// One ACL entry: `perms` (a mask of `ZKRS_PERM_*`) granted to the
/// identity `scheme`:`id` (e.g. "world":"anyone", "digest":"user:hash",
/// "ip":"10.0.0.0/8", "auth":"").
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zkrs_acl {
    pub perms: i32,
    pub scheme: *const c_char,
    pub id: *const c_char,
}

/// An ACL returned by zkrs (`zkrs_client_get_acl`): `len` entries at
/// `acls`. Free the whole list with `zkrs_acl_list_free`.
#[repr(C)]
pub struct zkrs_acl_list {
    pub acls: *const zkrs_acl,
    pub len: usize,
}

/// Bytes returned by zkrs (a znode's data): `len` bytes at `data`, not
/// NUL-terminated. Free with `zkrs_buffer_free`.
#[repr(C)]
pub struct zkrs_buffer {
    pub data: *const u8,
    pub len: usize,
}

/// Strings returned by zkrs (children names): `len` NUL-terminated
/// strings at `strings`. Free the whole array with `zkrs_string_array_free`.
#[repr(C)]
pub struct zkrs_string_array {
    pub strings: *const *const c_char,
    pub len: usize,
}

/// A public struct followed by the Rust values its pointers point into.
/// `repr(C)` puts `public` at offset 0, so a pointer to the whole is a
/// pointer to `public`: C sees only the public part and hands it back to
/// the matching free, which restores the whole.
#[repr(C)]
struct Owned<P, S> {
    public: P,
    _storage: S,
}

pub(crate) fn into_raw<P, S>(public: P, storage: S) -> *mut P {
    Box::into_raw(Box::new(Owned {
        public,
        _storage: storage,
    }))
    .cast()
}

/// # Safety
/// `p` came from `into_raw::<P, S>` with the same `S` and is freed once.
pub(crate) unsafe fn free_raw<P, S>(p: *mut P) {
    if !p.is_null() {
        drop(Box::from_raw(p.cast::<Owned<P, S>>()));
    }
}

/// Data lent to C for one call: NULL when empty.
pub(crate) fn data_ptr(data: &[u8]) -> *const u8 {
    if data.is_empty() {
        std::ptr::null()
    } else {
        data.as_ptr()
    }
}

/// A stat lent to C for one call, or NULL.
pub(crate) fn stat_ptr(stat: &Option<zkrs_stat>) -> *const zkrs_stat {
    stat.as_ref()
        .map_or(std::ptr::null(), |s| s as *const zkrs_stat)
}

/// Interior NULs cannot cross as C strings; ZooKeeper paths and ACL ids
/// never contain them, so truncating at the first one is enough.
pub(crate) fn c_string(s: &str) -> CString {
    let bytes = s.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap_or_default()
}

pub(crate) fn string_into_raw(s: &str) -> *mut c_char {
    c_string(s).into_raw()
}

type BufferStorage = Box<[u8]>;

pub(crate) fn buffer_into_raw(data: Vec<u8>) -> *mut zkrs_buffer {
    let data = data.into_boxed_slice();
    let public = zkrs_buffer {
        data: data.as_ptr(),
        len: data.len(),
    };
    into_raw(public, data)
}

type StringArrayStorage = (Vec<CString>, Vec<*const c_char>);

pub(crate) fn string_array_into_raw(items: &[String]) -> *mut zkrs_string_array {
    let owned: Vec<CString> = items.iter().map(|s| c_string(s)).collect();
    let ptrs: Vec<*const c_char> = owned.iter().map(|s| s.as_ptr()).collect();
    let public = zkrs_string_array {
        strings: ptrs.as_ptr(),
        len: ptrs.len(),
    };
    into_raw(public, (owned, ptrs))
}

type AclListStorage = (Vec<(CString, CString)>, Vec<zkrs_acl>);

pub(crate) fn acl_list_into_raw(acl: &[Acl]) -> *mut zkrs_acl_list {
    let owned: Vec<(CString, CString)> = acl
        .iter()
        .map(|a| (c_string(&a.id.scheme), c_string(&a.id.id)))
        .collect();
    let entries: Vec<zkrs_acl> = acl
        .iter()
        .zip(&owned)
        .map(|(a, (scheme, id))| zkrs_acl {
            perms: a.perms,
            scheme: scheme.as_ptr(),
            id: id.as_ptr(),
        })
        .collect();
    let public = zkrs_acl_list {
        acls: entries.as_ptr(),
        len: entries.len(),
    };
    into_raw(public, (owned, entries))
}

/// An ACL argument. NULL with length 0 means ZooKeeper's OPEN_ACL_UNSAFE
/// (world:anyone, all permissions); None when an entry has a NULL or
/// non-UTF-8 string.
///
/// # Safety
/// `p` is NULL or points to `len` entries whose strings are valid.
pub(crate) unsafe fn acl_arg(p: *const zkrs_acl, len: usize) -> Option<Vec<Acl>> {
    if p.is_null() && len == 0 {
        return Some(Acl::open_unsafe());
    }
    let entries = crate::ffi::slice_arg(p, len)?;
    entries
        .iter()
        .map(|e| {
            Some(Acl {
                perms: e.perms,
                id: Id::new(crate::ffi::str_arg(e.scheme)?, crate::ffi::str_arg(e.id)?),
            })
        })
        .collect()
}

/// Frees a string zkrs returned (e.g. a created path). NULL is a no-op.
///
/// # Safety
/// `s` is NULL or a string from zkrs not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_string_free(s: *mut c_char) {
    guard_void(|| {
        if !s.is_null() {
            drop(CString::from_raw(s));
        }
    })
}

/// Frees a buffer zkrs returned. NULL is a no-op.
///
/// # Safety
/// `buf` is NULL or a buffer from zkrs not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_buffer_free(buf: *mut zkrs_buffer) {
    guard_void(|| free_raw::<zkrs_buffer, BufferStorage>(buf))
}

/// Frees a string array zkrs returned, with its strings. NULL is a no-op.
///
/// # Safety
/// `arr` is NULL or an array from zkrs not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_string_array_free(arr: *mut zkrs_string_array) {
    guard_void(|| free_raw::<zkrs_string_array, StringArrayStorage>(arr))
}

/// Frees an ACL list zkrs returned, with its strings. NULL is a no-op.
///
/// # Safety
/// `acl` is NULL or a list from zkrs not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_acl_list_free(acl: *mut zkrs_acl_list) {
    guard_void(|| free_raw::<zkrs_acl_list, AclListStorage>(acl))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn owned_values_round_trip_and_free() {
        unsafe {
            let b = buffer_into_raw(b"hello".to_vec());
            assert_eq!(std::slice::from_raw_parts((*b).data, (*b).len), b"hello");
            zkrs_buffer_free(b);

            let a = string_array_into_raw(&["a".into(), "bc".into()]);
            assert_eq!((*a).len, 2);
            assert_eq!(CStr::from_ptr(*(*a).strings.add(1)).to_str(), Ok("bc"));
            zkrs_string_array_free(a);

            let l = acl_list_into_raw(&Acl::open_unsafe());
            let e = &*(*l).acls;
            assert_eq!(e.perms, 31);
            assert_eq!(CStr::from_ptr(e.scheme).to_str(), Ok("world"));
            zkrs_acl_list_free(l);

            zkrs_buffer_free(std::ptr::null_mut());
            zkrs_string_array_free(std::ptr::null_mut());
            zkrs_acl_list_free(std::ptr::null_mut());
            zkrs_string_free(std::ptr::null_mut());
        }
    }
}
