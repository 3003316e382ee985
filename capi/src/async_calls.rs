//! The asynchronous forms of the basic calls, as the official C client's
//! `zoo_a*`: each returns at once and calls its completion later with the
//! result number and the result. The request is queued on the session
//! before the call returns, so requests go out in call order. Completions
//! run on the client's event thread, the one thread that runs its watch
//! and state callbacks, all in the order the server sent them, as on the
//! official client's completion thread: a watch event that announced new
//! data runs before the completion that carries it. A completion may call
//! libzkrs, blocking calls included.

use std::ffi::{c_char, c_int, c_void};
use std::future::Future;

use zkrs_core::client::{Client as Zk, Op, Watcher};
use zkrs_core::{Error, Stat};

use crate::callback::{zkrs_watch_fn, UserData};
use crate::client::{
    client, create_mode, multi_rc, op_arg, op_results_into_raw, zkrs_client, zkrs_op,
    zkrs_op_results, zkrs_op_results_free,
};
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_NONODE, ZKRS_OK};
use crate::ffi::{data_arg, guard, slice_arg, str_arg, try_arg};
use crate::types::{
    acl_arg, acl_list_into_raw, c_string, data_ptr, stat_ptr, string_array_into_raw, zkrs_acl,
    zkrs_acl_list, zkrs_acl_list_free, zkrs_stat, zkrs_string_array,
};

/// Completion of a call without a result (`zkrs_client_adelete`): `rc` is
/// `ZKRS_OK` or the error.
pub type zkrs_void_completion = Option<unsafe extern "C" fn(userdata: *mut c_void, rc: c_int)>;

/// Completion with a stat: `stat` is NULL unless `rc` is `ZKRS_OK`; it is
/// valid only during the call.
pub type zkrs_stat_completion =
    Option<unsafe extern "C" fn(userdata: *mut c_void, rc: c_int, stat: *const zkrs_stat)>;

/// Completion of `zkrs_client_aget`: `data` (`len` bytes, NULL when 0;
/// NULL with `len` `ZKRS_NULL_LEN` for null data) and `stat` are valid
/// only during the call; NULL unless `rc` is `ZKRS_OK`.
pub type zkrs_data_completion = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        rc: c_int,
        data: *const u8,
        len: usize,
        stat: *const zkrs_stat,
    ),
>;

/// Completion of `zkrs_client_acreate`: `value` is the created path (with
/// its sequence suffix), valid only during the call; NULL unless `rc` is
/// `ZKRS_OK`.
pub type zkrs_string_completion =
    Option<unsafe extern "C" fn(userdata: *mut c_void, rc: c_int, value: *const c_char)>;

/// Completion of `zkrs_client_aget_children`: the children's names and the
/// parent's stat, valid only during the call; NULL unless `rc` is
/// `ZKRS_OK`.
pub type zkrs_strings_completion = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        rc: c_int,
        strings: *const zkrs_string_array,
        stat: *const zkrs_stat,
    ),
>;

impl zkrs_client {
    /// Submits `call` now and runs `then` (the call into C, through the
    /// client's gate) with its outcome on the event thread, in wire order.
    fn submit<T, Fut>(
        &self,
        call: Fut,
        then: impl FnOnce(Result<T, Error>) + Send + 'static,
    ) -> c_int
    where
        T: Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let gate = self.gate.clone();
        self.inner
            .as_async()
            .call_in_order(call, move |outcome| gate.call(|| then(outcome)));
        ZKRS_OK
    }
}

fn split<T>(outcome: Result<T, Error>) -> (c_int, Option<T>) {
    match outcome {
        Ok(v) => (ZKRS_OK, Some(v)),
        Err(e) => (e.code(), None),
    }
}

/// `zkrs_client_create`, asynchronously: `completion` gets the created
/// path. Returns `ZKRS_OK` once the request is queued (the completion then
/// runs exactly once, unless the client is freed first), or
/// `ZKRS_BADARGUMENTS` (no completion).
///
/// # Safety
/// As `zkrs_client_create`; `userdata` valid until the completion runs or
/// the client is freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_acreate(
    c: *mut zkrs_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    acl: *const zkrs_acl,
    acl_len: usize,
    mode: c_int,
    ttl_ms: i64,
    completion: zkrs_string_completion,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path)).to_string();
        let data = try_arg!(data_arg(data, data_len)).map(<[u8]>::to_vec);
        let acl = try_arg!(acl_arg(acl, acl_len));
        let mode = try_arg!(create_mode(mode, ttl_ms));
        let zk = c.inner.as_async().clone();
        let ttl = mode.is_ttl().then_some(ttl_ms);
        let call = async move {
            zk.create_node(&path, data.as_deref(), &acl, mode, ttl)
                .await
        };
        let ud = UserData::new(userdata);
        c.submit(call, move |outcome| {
            let (rc, created) = split(outcome);
            let created = created.map(|(p, _)| c_string(&p));
            if let Some(f) = completion {
                let value = created.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
                unsafe { f(ud.get(), rc, value) }
            }
        })
    })
}

/// `zkrs_client_delete`, asynchronously (see `zkrs_client_acreate`).
///
/// # Safety
/// As `zkrs_client_acreate`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_adelete(
    c: *mut zkrs_client,
    path: *const c_char,
    version: i32,
    completion: zkrs_void_completion,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path)).to_string();
        let zk = c.inner.as_async().clone();
        let ud = UserData::new(userdata);
        c.submit(
            async move { zk.delete(&path, version).await },
            move |outcome| {
                if let Some(f) = completion {
                    unsafe { f(ud.get(), split(outcome).0) }
                }
            },
        )
    })
}

/// `zkrs_client_exists`, asynchronously: `ZKRS_OK` with the stat, or
/// `ZKRS_NONODE`; the watch as there.
///
/// # Safety
/// As `zkrs_client_acreate`; `watcher_userdata` as `zkrs_client_exists`'s.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_aexists(
    c: *mut zkrs_client,
    path: *const c_char,
    watcher: zkrs_watch_fn,
    watcher_userdata: *mut c_void,
    completion: zkrs_stat_completion,
    userdata: *mut c_void,
) -> c_int {
    let ud = UserData::new(userdata);
    let call = |zk: Zk, path: String, watch| async move { zk.exists(&path, watch).await };
    watched_read(c, path, watcher, watcher_userdata, call, move |outcome| {
        let (rc, stat) = match outcome {
            Ok(Some(s)) => (ZKRS_OK, Some(zkrs_stat::from(s))),
            Ok(None) => (ZKRS_NONODE, None),
            Err(e) => (e.code(), None),
        };
        if let Some(f) = completion {
            unsafe { f(ud.get(), rc, stat_ptr(&stat)) }
        }
    })
}

/// `zkrs_client_get`, asynchronously: the data and stat; the watch as
/// there.
///
/// # Safety
/// As `zkrs_client_aexists`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_aget(
    c: *mut zkrs_client,
    path: *const c_char,
    watcher: zkrs_watch_fn,
    watcher_userdata: *mut c_void,
    completion: zkrs_data_completion,
    userdata: *mut c_void,
) -> c_int {
    let ud = UserData::new(userdata);
    let call = |zk: Zk, path: String, watch| async move { zk.get_data_or_null(&path, watch).await };
    watched_read(c, path, watcher, watcher_userdata, call, move |outcome| {
        let (rc, got) = split(outcome);
        let (data, stat) = match got {
            Some((data, stat)) => (data, Some(zkrs_stat::from(stat))),
            None => (Some(Vec::new()), None),
        };
        let (ptr, len) = match &data {
            Some(d) => (data_ptr(d), d.len()),
            None => (std::ptr::null(), crate::client::ZKRS_NULL_LEN),
        };
        if let Some(f) = completion {
            unsafe { f(ud.get(), rc, ptr, len, stat_ptr(&stat)) }
        }
    })
}

/// `zkrs_client_set`, asynchronously: the new stat.
///
/// # Safety
/// As `zkrs_client_acreate`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_aset(
    c: *mut zkrs_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    version: i32,
    completion: zkrs_stat_completion,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path)).to_string();
        let data = try_arg!(data_arg(data, data_len)).map(<[u8]>::to_vec);
        let zk = c.inner.as_async().clone();
        let ud = UserData::new(userdata);
        let call = async move { zk.set_data_or_null(&path, data.as_deref(), version).await };
        c.submit(call, move |outcome| stat_done(completion, ud, outcome))
    })
}

/// `zkrs_client_get_children`, asynchronously: the names and the parent's
/// stat; the watch as there.
///
/// # Safety
/// As `zkrs_client_aexists`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_aget_children(
    c: *mut zkrs_client,
    path: *const c_char,
    watcher: zkrs_watch_fn,
    watcher_userdata: *mut c_void,
    completion: zkrs_strings_completion,
    userdata: *mut c_void,
) -> c_int {
    let ud = UserData::new(userdata);
    let call = |zk: Zk, path: String, watch| async move { zk.get_children2(&path, watch).await };
    watched_read(c, path, watcher, watcher_userdata, call, move |outcome| {
        let (rc, got) = split(outcome);
        let (names, stat) = match got {
            Some((names, stat)) => (Some(names), Some(zkrs_stat::from(stat))),
            None => (None, None),
        };
        let array = names.map(|n| string_array_into_raw(&n));
        if let Some(f) = completion {
            let strings = array.map_or(std::ptr::null(), |a| a as *const zkrs_string_array);
            unsafe { f(ud.get(), rc, strings, stat_ptr(&stat)) }
        }
        if let Some(a) = array {
            unsafe { crate::types::zkrs_string_array_free(a) }
        }
    })
}

/// The watched reads' common part: the arguments checked, `call` submitted
/// with the path and the watch (None for a NULL `watcher`).
unsafe fn watched_read<T, Fut>(
    c: *mut zkrs_client,
    path: *const c_char,
    watcher: zkrs_watch_fn,
    watcher_userdata: *mut c_void,
    call: impl FnOnce(Zk, String, Option<Watcher>) -> Fut,
    then: impl FnOnce(Result<T, Error>) + Send + 'static,
) -> c_int
where
    T: Send + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path)).to_string();
        let watch = c.gate.watcher(watcher, watcher_userdata);
        c.submit(call(c.inner.as_async().clone(), path, watch), then)
    })
}

fn stat_done(completion: zkrs_stat_completion, ud: UserData, outcome: Result<Stat, Error>) {
    let (rc, stat) = split(outcome);
    let stat = stat.map(zkrs_stat::from);
    if let Some(f) = completion {
        unsafe { f(ud.get(), rc, stat_ptr(&stat)) }
    }
}

/// Completion of `zkrs_client_aget_acl`: the ACL and the node's stat,
/// valid only during the call; NULL unless `rc` is `ZKRS_OK`.
pub type zkrs_acl_completion = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        rc: c_int,
        acl: *const zkrs_acl_list,
        stat: *const zkrs_stat,
    ),
>;

/// Completion of `zkrs_client_amulti`: `rc` as `zkrs_client_multi`
/// returns it, and the per-op results (valid only during the call; NULL
/// when the transaction did not reach the server, e.g. on connection
/// loss).
pub type zkrs_multi_completion =
    Option<unsafe extern "C" fn(userdata: *mut c_void, rc: c_int, results: *const zkrs_op_results)>;

/// `zkrs_client_sync`, asynchronously (the official client's `zoo_async`):
/// `completion` gets the path once the connected server has caught up.
///
/// # Safety
/// As `zkrs_client_acreate`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_async_sync(
    c: *mut zkrs_client,
    path: *const c_char,
    completion: zkrs_string_completion,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path)).to_string();
        let zk = c.inner.as_async().clone();
        let ud = UserData::new(userdata);
        let synced = c_string(&path);
        c.submit(async move { zk.sync(&path).await }, move |outcome| {
            let rc = split(outcome).0;
            let value = if rc == ZKRS_OK {
                synced.as_ptr()
            } else {
                std::ptr::null()
            };
            if let Some(f) = completion {
                unsafe { f(ud.get(), rc, value) }
            }
        })
    })
}

/// `zkrs_client_get_acl`, asynchronously: the ACL and stat.
///
/// # Safety
/// As `zkrs_client_acreate`.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_aget_acl(
    c: *mut zkrs_client,
    path: *const c_char,
    completion: zkrs_acl_completion,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path)).to_string();
        let zk = c.inner.as_async().clone();
        let ud = UserData::new(userdata);
        c.submit(async move { zk.get_acl(&path).await }, move |outcome| {
            let (rc, got) = split(outcome);
            let (list, stat) = match got {
                Some((acl, stat)) => (Some(acl_list_into_raw(&acl)), Some(zkrs_stat::from(stat))),
                None => (None, None),
            };
            if let Some(f) = completion {
                let acl = list.map_or(std::ptr::null(), |l| l as *const zkrs_acl_list);
                unsafe { f(ud.get(), rc, acl, stat_ptr(&stat)) }
            }
            if let Some(l) = list {
                unsafe { zkrs_acl_list_free(l) }
            }
        })
    })
}

/// `zkrs_client_set_acl`, asynchronously: the new stat.
///
/// # Safety
/// As `zkrs_client_acreate`; `acl` valid for `acl_len` entries.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_aset_acl(
    c: *mut zkrs_client,
    path: *const c_char,
    acl: *const zkrs_acl,
    acl_len: usize,
    version: i32,
    completion: zkrs_stat_completion,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let path = try_arg!(str_arg(path)).to_string();
        if acl.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let acl = try_arg!(acl_arg(acl, acl_len));
        let zk = c.inner.as_async().clone();
        let ud = UserData::new(userdata);
        let call = async move { zk.set_acl(&path, &acl, version).await };
        c.submit(call, move |outcome| stat_done(completion, ud, outcome))
    })
}

/// `zkrs_client_multi`, asynchronously: the ops are read before this
/// returns; `completion` gets the result number and per-op results.
///
/// # Safety
/// As `zkrs_client_acreate`; `ops` valid for `ops_len` entries.
#[no_mangle]
pub unsafe extern "C" fn zkrs_client_amulti(
    c: *mut zkrs_client,
    ops: *const zkrs_op,
    ops_len: usize,
    completion: zkrs_multi_completion,
    userdata: *mut c_void,
) -> c_int {
    guard(|| {
        let c = try_arg!(client(c));
        let raw = try_arg!(slice_arg(ops, ops_len));
        let parsed: Vec<Op> = try_arg!(raw.iter().map(|op| op_arg(op)).collect());
        let types: Vec<c_int> = raw.iter().map(|op| op.op_type).collect();
        let zk = c.inner.as_async().clone();
        let ud = UserData::new(userdata);
        c.submit(
            async move { zk.multi_results(parsed).await },
            move |outcome| {
                let (rc, results) = match outcome {
                    Ok(results) => (
                        multi_rc(&results),
                        Some(op_results_into_raw(&types, &results)),
                    ),
                    Err(e) => (e.code(), None),
                };
                if let Some(f) = completion {
                    let r = results.map_or(std::ptr::null(), |r| r as *const zkrs_op_results);
                    unsafe { f(ud.get(), rc, r) }
                }
                if let Some(r) = results {
                    unsafe { zkrs_op_results_free(r) }
                }
            },
        )
    })
}
