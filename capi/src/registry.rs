//! A service registry for C (the core `ServiceRegistry`): each instance of
//! a service is an ephemeral node `<root>/<service>/<id>` holding its
//! payload, so an instance whose session ends drops out by itself.
//! `zkrs_registry_watch` calls back with the live set now and after every
//! change, as a `zkrs_watch` (free it with `zkrs_watch_free`).

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

use zkrs_core::client::blocking::Client;
use zkrs_core::recipes::{Instance, ServiceRegistry};

use crate::callback::Gate;
use crate::client::zkrs_client;
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{bytes_arg, guard, guard_void, str_arg, try_arg, write_out};
use crate::recipes::{answer, done, wait};
use crate::types::{c_string, data_ptr, free_raw, into_raw};
use crate::watches::{zkrs_watch, Caller};

/// One live instance: its id and payload (`len` bytes at `payload`, NULL
/// when 0).
#[repr(C)]
pub struct zkrs_instance {
    pub id: *const c_char,
    pub payload: *const u8,
    pub len: usize,
}

/// Live instances returned by zkrs: `len` entries at `items`, sorted by
/// id. Free the whole list with `zkrs_instance_list_free`.
#[repr(C)]
pub struct zkrs_instance_list {
    pub items: *const zkrs_instance,
    pub len: usize,
}

/// Called with the live instances of the watched service (valid only
/// during the call). Return nonzero to go on watching, 0 to stop.
pub type zkrs_registry_watch_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, live: *const zkrs_instance_list) -> c_int>;

/// A registry under a root path. Opaque; free with `zkrs_registry_free`.
pub struct zkrs_registry {
    session: Client,
    /// The client's gate, for the watches' callbacks.
    client_gate: Arc<Gate>,
    inner: Arc<ServiceRegistry>,
}

type InstanceListStorage = (Vec<(CString, Vec<u8>)>, Vec<zkrs_instance>);

fn instance_list_into_raw(live: Vec<Instance>) -> *mut zkrs_instance_list {
    let owned: Vec<(CString, Vec<u8>)> = live
        .into_iter()
        .map(|i| (c_string(&i.id), i.payload))
        .collect();
    let items: Vec<zkrs_instance> = owned
        .iter()
        .map(|(id, payload)| zkrs_instance {
            id: id.as_ptr(),
            payload: data_ptr(payload),
            len: payload.len(),
        })
        .collect();
    let public = zkrs_instance_list {
        items: items.as_ptr(),
        len: items.len(),
    };
    into_raw(public, (owned, items))
}

/// Makes a registry under `root` (e.g. "/services") for the session of
/// `c`.
///
/// # Safety
/// `c` is a live client; `root` NUL-terminated; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_registry_new(
    c: *const zkrs_client,
    root: *const c_char,
    out: *mut *mut zkrs_registry,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let root = try_arg!(str_arg(root));
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let inner = Arc::new(ServiceRegistry::new(session.as_async(), root));
        let r = zkrs_registry {
            session,
            client_gate: c.gate.clone(),
            inner,
        };
        write_out(out, Box::into_raw(Box::new(r)));
        ZKRS_OK
    })
}

/// Registers instance `id` of `service` with `len` bytes of `payload`, or
/// replaces the payload of an instance this session registered.
/// `ZKRS_NODEEXISTS` if another live session holds that id;
/// `ZKRS_BADARGUMENTS` for an empty id or service, or one with a '/'.
///
/// # Safety
/// `r` is a live registry; strings NUL-terminated; `payload` valid for
/// `len` bytes (NULL when 0).
#[no_mangle]
pub unsafe extern "C" fn zkrs_registry_register(
    r: *mut zkrs_registry,
    service: *const c_char,
    id: *const c_char,
    payload: *const u8,
    len: usize,
) -> c_int {
    guard(|| {
        let r = try_arg!(r.as_ref());
        let service = try_arg!(str_arg(service)).to_string();
        let id = try_arg!(str_arg(id)).to_string();
        let payload = try_arg!(bytes_arg(payload, len)).to_vec();
        let inner = r.inner.clone();
        done(wait(&r.session, async move {
            inner.register(&service, &id, &payload).await
        }))
    })
}

/// Removes an instance this session registered; `*removed` (may be NULL)
/// is 1 if there was one, else 0.
///
/// # Safety
/// `r` is a live registry; strings NUL-terminated; `removed` NULL or
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_registry_unregister(
    r: *mut zkrs_registry,
    service: *const c_char,
    id: *const c_char,
    removed: *mut c_int,
) -> c_int {
    guard(|| {
        let r = try_arg!(r.as_ref());
        let service = try_arg!(str_arg(service)).to_string();
        let id = try_arg!(str_arg(id)).to_string();
        let inner = r.inner.clone();
        let got = wait(
            &r.session,
            async move { inner.unregister(&service, &id).await },
        );
        answer(got.map(c_int::from), removed)
    })
}

/// The live instances of `service`: a list to free with
/// `zkrs_instance_list_free`.
///
/// # Safety
/// `r` is a live registry; `service` NUL-terminated; `out` valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_registry_instances(
    r: *const zkrs_registry,
    service: *const c_char,
    out: *mut *mut zkrs_instance_list,
) -> c_int {
    guard(|| {
        let r = try_arg!(r.as_ref());
        let service = try_arg!(str_arg(service)).to_string();
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let inner = r.inner.clone();
        let live = wait(&r.session, async move { inner.instances(&service).await });
        answer(live.map(instance_list_into_raw), out)
    })
}

/// Calls `callback` with the live instances of `service` now and after
/// every change (from a zkrs thread, in order) until it returns 0, the
/// watch is freed with `zkrs_watch_free`, or the session ends.
///
/// # Safety
/// `r` is a live registry whose client lives; `service` NUL-terminated;
/// `userdata` valid until the watch is freed (or the client is); `out`
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_registry_watch(
    r: *const zkrs_registry,
    service: *const c_char,
    callback: zkrs_registry_watch_fn,
    userdata: *mut c_void,
    out: *mut *mut zkrs_watch,
) -> c_int {
    guard(|| {
        let r = try_arg!(r.as_ref());
        let service = try_arg!(str_arg(service));
        let Some(f) = callback else {
            return ZKRS_BADARGUMENTS;
        };
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let gate = Gate::new();
        let caller = Caller::new(&r.client_gate, &gate, userdata);
        let _rt = r.session.runtime().enter();
        let handle = r.inner.watch(service, move |live| {
            let list = instance_list_into_raw(live);
            let keep = caller.call(|ud| unsafe { f(ud, list) });
            unsafe { zkrs_instance_list_free(list) };
            keep
        });
        answer(handle.map(|h| zkrs_watch::into_raw(Some(h), gate)), out)
    })
}

/// Frees the registry. Its instances stay registered until unregistered
/// or their session ends. NULL is a no-op.
///
/// # Safety
/// `r` is NULL or a registry from `zkrs_registry_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_registry_free(r: *mut zkrs_registry) {
    guard_void(|| {
        if !r.is_null() {
            drop(Box::from_raw(r));
        }
    })
}

/// Frees an instance list zkrs returned, with its strings and payloads.
/// NULL is a no-op.
///
/// # Safety
/// `l` is NULL or a list from zkrs not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_instance_list_free(l: *mut zkrs_instance_list) {
    guard_void(|| free_raw::<zkrs_instance_list, InstanceListStorage>(l))
}
