//! `zkrs_client`: a ZooKeeper client session (to a zkrs member or any
//! ZooKeeper 3.5+ ensemble). A thin wrapper over
//! `zkrs::client::blocking::Client`: each function converts its arguments,
//! makes one blocking call and converts the result.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;
use std::time::Duration;

use zkrs_core::client::blocking::Client;
use zkrs_core::client::{AddWatchMode, ClientOptions, Op, OpResult, WatcherType};
use zkrs_core::types::CreateMode;

use crate::callback::{zkrs_state_fn, zkrs_watch_fn, Gate};
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{
    bytes_arg, data_arg, guard, guard_or, opt_str_arg, slice_arg, str_arg, try_arg, write_out,
};
use crate::types::{
    acl_arg, acl_list_into_raw, buffer_into_raw, string_array_into_raw, string_into_raw, zkrs_acl,
    zkrs_acl_list, zkrs_buffer, zkrs_stat, zkrs_string_array,
};

/// A persistent znode (ZOO_PERSISTENT).
pub const ZKRS_PERSISTENT: c_int = 0;
/// Deleted when the creating session ends (ZOO_EPHEMERAL).
pub const ZKRS_EPHEMERAL: c_int = 1;
/// Persistent, with a 10-digit sequence suffix (ZOO_PERSISTENT_SEQUENTIAL).
pub const ZKRS_PERSISTENT_SEQUENTIAL: c_int = 2;
/// Ephemeral, with a sequence suffix (ZOO_EPHEMERAL_SEQUENTIAL).
pub const ZKRS_EPHEMERAL_SEQUENTIAL: c_int = 3;
/// Deleted by the server once its last child is gone (ZOO_CONTAINER).
pub const ZKRS_CONTAINER: c_int = 4;
/// Deleted when unmodified for `ttl_ms` and childless (ZOO_PERSISTENT_WITH_TTL).
pub const ZKRS_PERSISTENT_WITH_TTL: c_int = 5;
/// TTL node with a sequence suffix (ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL).
pub const ZKRS_PERSISTENT_SEQUENTIAL_WITH_TTL: c_int = 6;

/// Permission to read data and list children.
pub const ZKRS_PERM_READ: i32 = 1;
/// Permission to set data.
pub const ZKRS_PERM_WRITE: i32 = 2;
/// Permission to create children.
pub const ZKRS_PERM_CREATE: i32 = 4;
/// Permission to delete children.
pub const ZKRS_PERM_DELETE: i32 = 8;
/// Permission to set the ACL.
pub const ZKRS_PERM_ADMIN: i32 = 16;
/// All permissions.
pub const ZKRS_PERM_ALL: i32 = 31;

/// A session event (the session state changed), as ZOO_SESSION_EVENT.
pub const ZKRS_EVENT_SESSION: c_int = -1;
/// The watched node was created (ZOO_CREATED_EVENT).
pub const ZKRS_EVENT_CREATED: c_int = 1;
/// The watched node was deleted (ZOO_DELETED_EVENT).
pub const ZKRS_EVENT_DELETED: c_int = 2;
/// The watched node's data changed (ZOO_CHANGED_EVENT).
pub const ZKRS_EVENT_CHANGED: c_int = 3;
/// The watched node's children changed (ZOO_CHILD_EVENT).
pub const ZKRS_EVENT_CHILD: c_int = 4;
/// A data watch was removed (zkrs_client_remove_watches).
pub const ZKRS_EVENT_DATA_WATCH_REMOVED: c_int = 5;
/// A child watch was removed.
pub const ZKRS_EVENT_CHILD_WATCH_REMOVED: c_int = 6;
/// A persistent watch was removed.
pub const ZKRS_EVENT_PERSISTENT_WATCH_REMOVED: c_int = 7;

/// Not connected; the client is reconnecting with the same session.
/// States are ZooKeeper's KeeperState numbers; CONNECTED, READONLY and
/// EXPIRED equal the official C client's.
pub const ZKRS_STATE_DISCONNECTED: c_int = 0;
/// Connected (ZOO_CONNECTED_STATE).
pub const ZKRS_STATE_CONNECTED: c_int = 3;
/// The server rejected the credentials; the session is over.
pub const ZKRS_STATE_AUTH_FAILED: c_int = 4;
/// Connected to a read-only server (ZOO_READONLY_STATE).
pub const ZKRS_STATE_CONNECTED_READONLY: c_int = 5;
/// The session expired (ZOO_EXPIRED_SESSION_STATE); create a new client.
pub const ZKRS_STATE_EXPIRED: c_int = -112;
/// The session was closed by `zkrs_client_close`.
pub const ZKRS_STATE_CLOSED: c_int = 7;

/// `zkrs_client_add_watch`: data and child events on the node itself.
pub const ZKRS_ADD_WATCH_PERSISTENT: c_int = 0;
/// `zkrs_client_add_watch`: events on the node and every descendant
/// (never ZKRS_EVENT_CHILD).
pub const ZKRS_ADD_WATCH_PERSISTENT_RECURSIVE: c_int = 1;

/// `zkrs_client_remove_watches`: child watches.
pub const ZKRS_WATCHER_CHILDREN: c_int = 1;
/// `zkrs_client_remove_watches`: data (and exists) watches.
pub const ZKRS_WATCHER_DATA: c_int = 2;
/// `zkrs_client_remove_watches`: every kind.
pub const ZKRS_WATCHER_ANY: c_int = 3;
/// `zkrs_client_remove_watches`: persistent watches.
pub const ZKRS_WATCHER_PERSISTENT: c_int = 4;
/// `zkrs_client_remove_watches`: persistent recursive watches.
pub const ZKRS_WATCHER_PERSISTENT_RECURSIVE: c_int = 5;

/// A `data_len` that, with NULL data, means null data (the ZooKeeper C
/// client's NULL with -1), which ZooKeeper keeps apart from empty data;
/// `zkrs_client_aget` reports null data as NULL with this length. (The
/// header defines it as SIZE_MAX: capi/cbindgen.toml.)
pub const ZKRS_NULL_LEN: usize = usize::MAX;

/// `zkrs_op.type`: create a node (ZOO_CREATE_OP).
pub const ZKRS_OP_CREATE: c_int = 1;
/// `zkrs_op.type`: delete a node (ZOO_DELETE_OP).
pub const ZKRS_OP_DELETE: c_int = 2;
/// `zkrs_op.type`: set a node's data (ZOO_SETDATA_OP).
pub const ZKRS_OP_SET: c_int = 5;
/// `zkrs_op.type`: check a node's version (ZOO_CHECK_OP).
pub const ZKRS_OP_CHECK: c_int = 13;

/// A client session. Created by `zkrs_client_connect`, released by
/// `zkrs_client_free` (a Box: one owner). All functions except
/// `zkrs_client_free` may be called from several threads at once and from
/// inside this client's callbacks.
pub struct zkrs_client {
    pub(crate) inner: Client,
    pub(crate) gate: Arc<Gate>,
}

/// One operation of a `zkrs_client_multi` transaction. Fields an op type
/// does not use are ignored.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zkrs_op {
    /// One of `ZKRS_OP_*`.
    pub op_type: c_int,
    /// The node's path (all ops).
    pub path: *const c_char,
    /// Data for CREATE and SET: `data_len` bytes (NULL when 0); NULL with
    /// `ZKRS_NULL_LEN` is null data.
    pub data: *const u8,
    pub data_len: usize,
    /// ACL for CREATE: `acl_len` entries; NULL and 0 for world:anyone ALL.
    pub acl: *const zkrs_acl,
    pub acl_len: usize,
    /// Create mode for CREATE, one of `ZKRS_*` create modes.
    pub mode: c_int,
    /// TTL for the TTL create modes, milliseconds; else 0.
    pub ttl_ms: i64,
    /// Expected version for DELETE, SET and CHECK; -1 matches any.
    pub version: i32,
}

/// The result of one op of a transaction.
#[repr(C)]
pub struct zkrs_op_result {
    /// The op's `ZKRS_OP_*` type.
    pub op_type: c_int,
    /// `ZKRS_OK`; in a failed transaction, the failing op carries its
    /// error, ops before it `ZKRS_OK` and ops after it
    /// `ZKRS_RUNTIMEINCONSISTENCY`.
    pub err: c_int,
    /// CREATE that committed: the created path (with any sequence
    /// suffix); otherwise NULL. Owned by the results.
    pub path: *const c_char,
    /// CREATE and SET that committed: the node's stat; otherwise zeros.
    pub stat: zkrs_stat,
}

/// Per-op results of `zkrs_client_multi`, one per op in order. Free with
/// `zkrs_op_results_free`.
#[repr(C)]
pub struct zkrs_op_results {
    pub results: *const zkrs_op_result,
    pub len: usize,
}

impl zkrs_client {
    /// The session, for the recipes.
    pub(crate) fn session(&self) -> &Client {
        &self.inner
    }
}

pub(crate) fn client<'a>(c: *const zkrs_client) -> Option<&'a zkrs_client> {
    // SAFETY: every exported function requires `c` to be NULL or live.
    unsafe { c.as_ref() }
}

fn keeper_state(c: &Client) -> c_int {
    c.state().keeper_state() as c_int
}

/// Connects to `hosts` ("host:port[,host:port...][/chroot]") and waits
/// until the session is established (up to 10 s, then
/// `ZKRS_CONNECTIONLOSS`). `session_timeout_ms` is the requested session
/// timeout; the server clamps it. On `ZKRS_OK`, `*out` is the new client;
/// free it with `zkrs_client_free`.
///
/// # Safety
/// `hosts` is a NUL-terminated string; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_connect(
    hosts: *const c_char,
    session_timeout_ms: c_int,
    out: *mut *mut zkrs_client,
) -> c_int {
    guard(|| connect(hosts, session_timeout_ms, None, None, out))
}

/// `zkrs_client_connect` over TLS (the servers' `secureClientPort`).
/// `ca`: the certificates to trust (a PEM, JKS or PKCS12 file; NULL trusts
/// any server); `cert` and `key`: this client's certificate and key as PEM
/// files, or `cert` alone as a JKS/PKCS12 store opened with `password`
/// (NULL for none). With `ca`, the server's certificate must also name the
/// host dialled or the address reached (see `zkrs_client_connect_tls_ex`).
/// A file that does not load is `ZKRS_BADARGUMENTS`; a failed handshake is
/// `ZKRS_CONNECTIONLOSS`.
///
/// # Safety
/// As `zkrs_client_connect`; each of `ca`, `cert`, `key`, `password` is
/// NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_connect_tls(
    hosts: *const c_char,
    session_timeout_ms: c_int,
    ca: *const c_char,
    cert: *const c_char,
    key: *const c_char,
    password: *const c_char,
    out: *mut *mut zkrs_client,
) -> c_int {
    zkrs_client_connect_tls_ex(hosts, session_timeout_ms, ca, cert, key, password, 1, out)
}

/// `zkrs_client_connect_tls` with `hostname_verification` chosen (ZooKeeper's
/// `zookeeper.ssl.hostnameVerification`): non-zero, the server's
/// certificate must name the host dialled or the address reached; 0
/// accepts any certificate `ca` signed, whatever names it carries (as
/// ZooKeeper's C client, which checks only the chain).
///
/// # Safety
/// As `zkrs_client_connect_tls`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn zkrs_client_connect_tls_ex(
    hosts: *const c_char,
    session_timeout_ms: c_int,
    ca: *const c_char,
    cert: *const c_char,
    key: *const c_char,
    password: *const c_char,
    hostname_verification: c_int,
    out: *mut *mut zkrs_client,
) -> c_int {
    guard(|| {
        // NULL: not given.
        let path = |p: *const c_char| match p.is_null() {
            true => Some(None),
            false => str_arg(p).map(|s| Some(std::path::PathBuf::from(s))),
        };
        let tls = zkrs_core::tls::ClientTls {
            ca: try_arg!(path(ca)),
            cert: try_arg!(path(cert)),
            key: try_arg!(path(key)),
            password: try_arg!(opt_str_arg(password)).to_string(),
            hostname_verification: hostname_verification != 0,
        };
        connect(hosts, session_timeout_ms, Some(tls), None, out)
    })
}

/// `zkrs_client_connect`, logging in with SASL DIGEST-MD5 as `username`
/// (a member's JAAS user) on every connection. A refused login is
/// `ZKRS_AUTHFAILED`.
///
/// # Safety
/// As `zkrs_client_connect`; `username` and `password` are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_connect_sasl(
    hosts: *const c_char,
    session_timeout_ms: c_int,
    username: *const c_char,
    password: *const c_char,
    out: *mut *mut zkrs_client,
) -> c_int {
    guard(|| {
        let sasl = zkrs_core::sasl::SaslClient {
            username: try_arg!(str_arg(username)).to_string(),
            password: try_arg!(str_arg(password)).to_string(),
        };
        connect(hosts, session_timeout_ms, None, Some(sasl), out)
    })
}

unsafe fn connect(
    hosts: *const c_char,
    session_timeout_ms: c_int,
    tls: Option<zkrs_core::tls::ClientTls>,
    sasl: Option<zkrs_core::sasl::SaslClient>,
    out: *mut *mut zkrs_client,
) -> c_int {
    {
        let hosts = try_arg!(str_arg(hosts));
        if out.is_null() || session_timeout_ms <= 0 {
            return ZKRS_BADARGUMENTS;
        }
        let opts = ClientOptions {
            session_timeout: Duration::from_millis(session_timeout_ms as u64),
            tls,
            sasl,
            ..Default::default()
        };
        let inner = match Client::connect(hosts, opts) {
            Ok(c) => c,
            // A TLS file that does not load.
            Err(zkrs_core::Error::Config(_)) => return ZKRS_BADARGUMENTS,
            Err(e) => return e.code(),
        };
        let gate = Gate::new();
        let g = gate.clone();
        inner.add_state_listener(Arc::new(move |s: zkrs_core::client::SessionState| {
            g.state_changed(s.keeper_state() as c_int)
        }));
        let c = zkrs_client { inner, gate };
        write_out(out, Box::into_raw(Box::new(c)));
        ZKRS_OK
    }
}

/// Sets the session state callback, replacing any previous one (NULL
/// `cb` removes it). It is called on each later state change (see
/// `zkrs_state_fn` for the thread); the replaced callback is not called
/// after this returns.
///
/// # Safety
/// `c` is NULL or a live client; `userdata` stays valid while `cb` is set.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_set_state_callback(
    c: *mut zkrs_client,
    cb: zkrs_state_fn,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        c.gate.set_state_callback(cb, userdata);
        ZKRS_OK
    })
}

/// The session's current state, one of `ZKRS_STATE_*`;
/// `ZKRS_BADARGUMENTS` when `c` is NULL.
///
/// # Safety
/// `c` is NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_state(c: *const zkrs_client) -> c_int {
    guard(|| keeper_state(&try_arg!(client(c)).inner))
}

/// The session id (0 when `c` is NULL).
///
/// # Safety
/// `c` is NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_session_id(c: *const zkrs_client) -> i64 {
    guard_or(0, || client(c).map(|c| c.inner.session_id()).unwrap_or(0))
}

/// Closes the session: its ephemeral nodes go at once, later calls fail
/// with `ZKRS_SESSIONEXPIRED`. Closing twice is `ZKRS_OK`. The handle must
/// still be freed with `zkrs_client_free`.
///
/// # Safety
/// `c` is NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_close(c: *mut zkrs_client) -> c_int {
    guard(|| match try_arg!(client(c)).inner.close() {
        Ok(()) => ZKRS_OK,
        Err(e) => e.code(),
    })
}

/// Releases the client, closing its session if still open. After it
/// returns no callback of this client runs (a callback running on another
/// thread is waited for), so userdata may be freed. May be called from
/// inside one of this client's callbacks. NULL is a no-op.
///
/// # Safety
/// `c` is NULL or a client from `zkrs_client_connect` not yet freed, and
/// no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_free(c: *mut zkrs_client) {
    crate::ffi::guard_void(|| {
        if !c.is_null() {
            let c = Box::from_raw(c);
            c.gate.close();
            // Close the session now, as the header promises: a program that
            // frees and exits must not leave its ephemerals behind until
            // the session times out. An already closed or expired session
            // answers at once.
            let _ = c.inner.close();
            drop(c);
        }
    })
}

pub(crate) fn create_mode(mode: c_int, ttl_ms: i64) -> Option<CreateMode> {
    let m = CreateMode::from_flag(mode)?;
    // A TTL only belongs with the TTL modes (ZooKeeper rejects both
    // mismatches).
    (m.is_ttl() == (ttl_ms > 0)).then_some(m)
}

/// Creates the node `path` holding `data_len` bytes of `data` (NULL with
/// `ZKRS_NULL_LEN`: null data), with the ACL `acl` (`acl_len` entries; NULL and 0 for world:anyone with all
/// permissions) in `mode` (one of the create modes, `ZKRS_PERSISTENT`
/// ...). `ttl_ms` must be > 0 for the TTL modes and 0 otherwise.
///
/// On `ZKRS_OK`: `*out_path` (when not NULL) is the created path, with the
/// sequence suffix for sequential modes; free it with `zkrs_string_free`.
/// `*out_stat` (when not NULL) is the new node's stat.
///
/// Errors: `ZKRS_NODEEXISTS`, `ZKRS_NONODE` (no parent),
/// `ZKRS_NOCHILDRENFOREPHEMERALS`, `ZKRS_NOAUTH`, `ZKRS_INVALIDACL`,
/// `ZKRS_BADARGUMENTS` (invalid path or mode), connection errors.
///
/// # Safety
/// Pointers are NULL or valid for their lengths; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_create(
    c: *mut zkrs_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    acl: *const zkrs_acl,
    acl_len: usize,
    mode: c_int,
    ttl_ms: i64,
    out_path: *mut *mut c_char,
    out_stat: *mut zkrs_stat,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        let data = try_arg!(data_arg(data, data_len));
        let acl = try_arg!(acl_arg(acl, acl_len));
        let mode = try_arg!(create_mode(mode, ttl_ms));
        let ttl = mode.is_ttl().then_some(ttl_ms);
        match c.inner.create_node(path, data, &acl, mode, ttl) {
            Ok((created, stat)) => {
                if !out_path.is_null() {
                    write_out(out_path, string_into_raw(&created));
                }
                write_out(out_stat, stat.into());
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

/// Deletes `path` if its version is `version` (-1 matches any).
/// Errors: `ZKRS_NONODE`, `ZKRS_BADVERSION`, `ZKRS_NOTEMPTY`,
/// `ZKRS_NOAUTH`, ...
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_delete(
    c: *mut zkrs_client,
    path: *const c_char,
    version: i32,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        match c.inner.delete(path, version) {
            Ok(()) => ZKRS_OK,
            Err(e) => e.code(),
        }
    })
}

/// Whether `path` exists: `ZKRS_OK` with `*out_stat` (when not NULL), or
/// `ZKRS_NONODE`. With a non-NULL `watcher`, a one-shot watch is left
/// either way: it fires once with ZKRS_EVENT_CREATED, DELETED or CHANGED.
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated; `userdata` valid
/// until the watch fires or the client is freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_exists(
    c: *mut zkrs_client,
    path: *const c_char,
    watcher: zkrs_watch_fn,
    userdata: *mut c_void,
    out_stat: *mut zkrs_stat,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        match c.inner.exists(path, c.gate.watcher(watcher, userdata)) {
            Ok(Some(stat)) => {
                write_out(out_stat, stat.into());
                ZKRS_OK
            }
            Ok(None) => crate::error::ZKRS_NONODE,
            Err(e) => e.code(),
        }
    })
}

/// Reads `path`'s data. On `ZKRS_OK`, `*out_data` (when not NULL) is a
/// buffer to free with `zkrs_buffer_free` (NULL when the node's data is
/// null), and `*out_stat` (when not NULL) the stat. With a non-NULL `watcher`, a one-shot watch fires once on
/// ZKRS_EVENT_CHANGED or DELETED (only if the node exists).
///
/// # Safety
/// As `zkrs_client_exists`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_get(
    c: *mut zkrs_client,
    path: *const c_char,
    watcher: zkrs_watch_fn,
    userdata: *mut c_void,
    out_data: *mut *mut zkrs_buffer,
    out_stat: *mut zkrs_stat,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        match c
            .inner
            .get_data_or_null(path, c.gate.watcher(watcher, userdata))
        {
            Ok((data, stat)) => {
                if !out_data.is_null() {
                    write_out(out_data, data.map_or(std::ptr::null_mut(), buffer_into_raw));
                }
                write_out(out_stat, stat.into());
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

/// Replaces `path`'s data with `data_len` bytes of `data` (NULL with
/// `ZKRS_NULL_LEN`: null data) if its version
/// is `version` (-1 matches any); `*out_stat` (when not NULL) is the new
/// stat. Errors: `ZKRS_NONODE`, `ZKRS_BADVERSION`, `ZKRS_NOAUTH`, ...
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated; `data` valid for
/// `data_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_set(
    c: *mut zkrs_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    version: i32,
    out_stat: *mut zkrs_stat,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        let data = try_arg!(data_arg(data, data_len));
        match c.inner.set_data_or_null(path, data, version) {
            Ok(stat) => {
                write_out(out_stat, stat.into());
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

/// Lists `path`'s children (names, not paths, in no set order). On
/// `ZKRS_OK`, `*out_children` (when not NULL) is an array to free with
/// `zkrs_string_array_free`, and `*out_stat` (when not NULL) the parent's
/// stat. With a non-NULL `watcher`, a one-shot watch fires once on
/// ZKRS_EVENT_CHILD or DELETED.
///
/// # Safety
/// As `zkrs_client_exists`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_get_children(
    c: *mut zkrs_client,
    path: *const c_char,
    watcher: zkrs_watch_fn,
    userdata: *mut c_void,
    out_children: *mut *mut zkrs_string_array,
    out_stat: *mut zkrs_stat,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        match c
            .inner
            .get_children2(path, c.gate.watcher(watcher, userdata))
        {
            Ok((children, stat)) => {
                if !out_children.is_null() {
                    write_out(out_children, string_array_into_raw(&children));
                }
                write_out(out_stat, stat.into());
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

/// Reads `path`'s ACL. On `ZKRS_OK`, `*out_acl` (when not NULL) is a list
/// to free with `zkrs_acl_list_free`, and `*out_stat` (when not NULL) the
/// stat.
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_get_acl(
    c: *mut zkrs_client,
    path: *const c_char,
    out_acl: *mut *mut zkrs_acl_list,
    out_stat: *mut zkrs_stat,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        match c.inner.get_acl(path) {
            Ok((acl, stat)) => {
                if !out_acl.is_null() {
                    write_out(out_acl, acl_list_into_raw(&acl));
                }
                write_out(out_stat, stat.into());
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

/// Replaces `path`'s ACL with `acl` (`acl_len` entries, at least one) if
/// its ACL version is `version` (-1 matches any); `*out_stat` (when not
/// NULL) is the new stat. Errors: `ZKRS_NONODE`, `ZKRS_BADVERSION`,
/// `ZKRS_INVALIDACL`, `ZKRS_NOAUTH`, ...
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated; `acl` valid for
/// `acl_len` entries.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_set_acl(
    c: *mut zkrs_client,
    path: *const c_char,
    acl: *const zkrs_acl,
    acl_len: usize,
    version: i32,
    out_stat: *mut zkrs_stat,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        if acl.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let acl = try_arg!(acl_arg(acl, acl_len));
        match c.inner.set_acl(path, &acl, version) {
            Ok(stat) => {
                write_out(out_stat, stat.into());
                ZKRS_OK
            }
            Err(e) => e.code(),
        }
    })
}

pub(crate) unsafe fn op_arg(op: &zkrs_op) -> Option<Op> {
    let path = str_arg(op.path)?.to_string();
    Some(match op.op_type {
        ZKRS_OP_CREATE => {
            let data = data_arg(op.data, op.data_len)?.map(<[u8]>::to_vec);
            let acl = acl_arg(op.acl, op.acl_len)?;
            let mode = create_mode(op.mode, op.ttl_ms)?;
            if mode.is_ttl() {
                Op::CreateTtl {
                    path,
                    data,
                    acl,
                    mode,
                    ttl_ms: op.ttl_ms,
                }
            } else {
                Op::Create {
                    path,
                    data,
                    acl,
                    mode,
                }
            }
        }
        ZKRS_OP_DELETE => Op::Delete {
            path,
            version: op.version,
        },
        ZKRS_OP_SET => Op::SetData {
            path,
            data: data_arg(op.data, op.data_len)?.map(<[u8]>::to_vec),
            version: op.version,
        },
        ZKRS_OP_CHECK => Op::Check {
            path,
            version: op.version,
        },
        _ => return None,
    })
}

type OpResultsStorage = (Vec<Option<std::ffi::CString>>, Vec<zkrs_op_result>);

/// A transaction's result number: the failing op's error, else `ZKRS_OK`.
pub(crate) fn multi_rc(results: &[OpResult]) -> c_int {
    results
        .iter()
        .find_map(|r| match r {
            OpResult::Error { err: Some(e) } => Some(e.code()),
            _ => None,
        })
        .unwrap_or(ZKRS_OK)
}

/// `op_types`: each op's `ZKRS_OP_*`, in order.
pub(crate) fn op_results_into_raw(
    op_types: &[c_int],
    results: &[OpResult],
) -> *mut zkrs_op_results {
    let paths: Vec<Option<std::ffi::CString>> = results
        .iter()
        .map(|r| match r {
            OpResult::Create { path, .. } => Some(crate::types::c_string(path)),
            _ => None,
        })
        .collect();
    let entries: Vec<zkrs_op_result> = results
        .iter()
        .zip(&paths)
        .zip(op_types)
        .map(|((r, path), &op_type)| {
            let (err, stat) = match r {
                OpResult::Create { stat, .. } => (ZKRS_OK, stat.unwrap_or_default()),
                OpResult::SetData { stat } => (ZKRS_OK, *stat),
                OpResult::Delete | OpResult::Check => (ZKRS_OK, Default::default()),
                OpResult::Error { err } => (
                    err.as_ref().map(|e| e.code()).unwrap_or(ZKRS_OK),
                    Default::default(),
                ),
            };
            zkrs_op_result {
                op_type,
                err,
                path: path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                stat: stat.into(),
            }
        })
        .collect();
    let public = zkrs_op_results {
        results: entries.as_ptr(),
        len: entries.len(),
    };
    crate::types::into_raw::<_, OpResultsStorage>(public, (paths, entries))
}

/// Runs `ops` (`ops_len` of them) as one atomic transaction: all commit
/// or none.
///
/// Returns `ZKRS_OK` when every op committed, else the error of the op
/// that failed (nothing was applied). `*out_results` (when not NULL) gets
/// one result per op, to free with `zkrs_op_results_free`. Unlike other
/// out-params, it is written both on `ZKRS_OK` and when the server
/// rejected the transaction, so the caller can see which op failed; it is
/// left untouched for errors raised before the server decided (invalid
/// ops: `ZKRS_BADARGUMENTS`; connection loss).
///
/// # Safety
/// `c` is NULL or a live client; `ops` valid for `ops_len` entries.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_multi(
    c: *mut zkrs_client,
    ops: *const zkrs_op,
    ops_len: usize,
    out_results: *mut *mut zkrs_op_results,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let raw = try_arg!(slice_arg(ops, ops_len));
        let ops: Vec<Op> = try_arg!(raw.iter().map(|op| op_arg(op)).collect());
        match c.inner.multi_results(ops) {
            Ok(results) => {
                if !out_results.is_null() {
                    let types: Vec<c_int> = raw.iter().map(|op| op.op_type).collect();
                    write_out(out_results, op_results_into_raw(&types, &results));
                }
                multi_rc(&results)
            }
            Err(e) => e.code(),
        }
    })
}

/// Frees transaction results, with their paths. NULL is a no-op.
///
/// # Safety
/// `r` is NULL or results from `zkrs_client_multi` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_op_results_free(r: *mut zkrs_op_results) {
    crate::ffi::guard_void(|| crate::types::free_raw::<zkrs_op_results, OpResultsStorage>(r))
}

/// Waits until the server this client is connected to has applied
/// everything the ensemble had committed when the call was made, so a
/// following read sees it.
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_sync(c: *mut zkrs_client, path: *const c_char) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        match c.inner.sync(path) {
            Ok(()) => ZKRS_OK,
            Err(e) => e.code(),
        }
    })
}

/// Adds a persistent watch on `path` (`mode` is
/// `ZKRS_ADD_WATCH_PERSISTENT` or `ZKRS_ADD_WATCH_PERSISTENT_RECURSIVE`):
/// unlike one-shot watches it stays after firing, calling `watcher` for
/// every event until `zkrs_client_remove_watches` or the client is freed.
/// `watcher` must not be NULL.
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated; `userdata` valid
/// until the watch is removed or the client freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_add_watch(
    c: *mut zkrs_client,
    path: *const c_char,
    mode: c_int,
    watcher: zkrs_watch_fn,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        let mode = match mode {
            ZKRS_ADD_WATCH_PERSISTENT => AddWatchMode::Persistent,
            ZKRS_ADD_WATCH_PERSISTENT_RECURSIVE => AddWatchMode::PersistentRecursive,
            _ => return ZKRS_BADARGUMENTS,
        };
        let w = try_arg!(c.gate.watcher(watcher, userdata));
        match c.inner.add_watch(path, mode, w) {
            Ok(()) => ZKRS_OK,
            Err(e) => e.code(),
        }
    })
}

/// Removes every watch of `watcher_type` (one of `ZKRS_WATCHER_*`) this
/// client has on `path`, on the server too; each removed watcher is
/// called once more with a ZKRS_EVENT_*_WATCH_REMOVED event.
/// `ZKRS_NOWATCHER` when there is none.
///
/// # Safety
/// `c` is NULL or a live client; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_remove_watches(
    c: *mut zkrs_client,
    path: *const c_char,
    watcher_type: c_int,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path));
        let wtype = try_arg!(WatcherType::from_code(watcher_type));
        match c.inner.remove_watches(path, wtype, false) {
            Ok(()) => ZKRS_OK,
            Err(e) => e.code(),
        }
    })
}

/// Adds credentials to the session, e.g. scheme "digest" with
/// "user:password" (`auth_len` bytes). `ZKRS_AUTHFAILED` when the server
/// rejects them (the session then ends).
///
/// # Safety
/// `c` is NULL or a live client; `scheme` NUL-terminated; `auth` valid for
/// `auth_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_add_auth(
    c: *mut zkrs_client,
    scheme: *const c_char,
    auth: *const u8,
    auth_len: usize,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let scheme = try_arg!(str_arg(scheme));
        let auth = try_arg!(bytes_arg(auth, auth_len));
        match c.inner.add_auth(scheme, auth) {
            Ok(()) => ZKRS_OK,
            Err(e) => e.code(),
        }
    })
}
