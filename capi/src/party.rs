//! Group membership and the double barrier for C, in kazoo's node layout:
//! `zkrs_party` (kazoo's `Party`, identifiers in node data, or
//! `ShallowParty`, identifiers in node names) and `zkrs_double_barrier`
//! (members enter together and leave together). Members are ephemeral
//! nodes, so a process whose session ends leaves by itself. Calls block
//! the calling thread; times are milliseconds, a negative timeout waits
//! as long as the session lives.

use std::ffi::{c_char, c_int};
use std::sync::Arc;

use zkrs_core::client::blocking::Client;
use zkrs_core::recipes::{DoubleBarrier, Party, ShallowParty};

use crate::client::zkrs_client;
use crate::error::{ZKRS_BADARGUMENTS, ZKRS_OK};
use crate::ffi::{guard, guard_or, guard_void, opt_str_arg, str_arg, try_arg, write_out};
use crate::recipes::{answer, done, timeout, wait};
use crate::types::{string_array_into_raw, zkrs_string_array};

/// The two party layouts behind one C handle.
enum Kind {
    Deep(Party),
    Shallow(ShallowParty),
}

/// A member of the group at a path. Opaque; free with `zkrs_party_free`.
pub struct zkrs_party {
    session: Client,
    inner: Arc<Kind>,
}

/// A double barrier. Opaque; free with `zkrs_double_barrier_free`.
pub struct zkrs_double_barrier {
    session: Client,
    inner: Arc<DoubleBarrier>,
}

/// Makes a party handle on `path` for the session of `c`; nothing is
/// created until `zkrs_party_join`. `identifier` (NULL: empty) is what
/// `zkrs_party_members` shows for this member. `shallow` non-zero keeps it
/// in the member's node name (kazoo's `ShallowParty`: one listing per
/// `members`, and the identifier must not contain '/').
///
/// # Safety
/// `c` is a live client; strings are NUL-terminated or NULL
/// (`identifier`); `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_party_new(
    c: *const zkrs_client,
    path: *const c_char,
    identifier: *const c_char,
    shallow: c_int,
    out: *mut *mut zkrs_party,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        let id = try_arg!(opt_str_arg(identifier));
        if out.is_null() || (shallow != 0 && id.contains('/')) {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let zk = session.as_async();
        let kind = if shallow != 0 {
            Kind::Shallow(ShallowParty::new(zk, path, id))
        } else {
            Kind::Deep(Party::new(zk, path, id.as_bytes()))
        };
        let p = zkrs_party {
            session,
            inner: Arc::new(kind),
        };
        write_out(out, Box::into_raw(Box::new(p)));
        ZKRS_OK
    })
}

/// Joins the party (creating its path if missing); joining twice is one
/// membership.
///
/// # Safety
/// `p` is a live party.
#[no_mangle]
pub unsafe extern "C" fn zkrs_party_join(p: *mut zkrs_party) -> c_int {
    guard(|| {
        let p = try_arg!(p.as_ref());
        let inner = p.inner.clone();
        done(wait(&p.session, async move {
            match &*inner {
                Kind::Deep(d) => d.join().await,
                Kind::Shallow(s) => s.join().await,
            }
        }))
    })
}

/// Leaves the party; `*left` (may be NULL) is 1 if this member's node was
/// there to remove, else 0.
///
/// # Safety
/// `p` is a live party; `left` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_party_leave(p: *mut zkrs_party, left: *mut c_int) -> c_int {
    guard(|| {
        let p = try_arg!(p.as_ref());
        answer(leave(p).map(c_int::from), left)
    })
}

fn leave(p: &zkrs_party) -> Result<bool, zkrs_core::Error> {
    let inner = p.inner.clone();
    wait(&p.session, async move {
        match &*inner {
            Kind::Deep(d) => d.leave().await,
            Kind::Shallow(s) => s.leave().await,
        }
    })
}

/// 1 after `zkrs_party_join` while the session that joined lives, else 0
/// (also for NULL).
///
/// # Safety
/// `p` is NULL or a live party.
#[no_mangle]
pub unsafe extern "C" fn zkrs_party_is_member(p: *const zkrs_party) -> c_int {
    guard_or(0, || match p.as_ref().map(|p| &*p.inner) {
        Some(Kind::Deep(d)) => d.is_member().into(),
        Some(Kind::Shallow(s)) => s.is_member().into(),
        None => 0,
    })
}

/// The identifiers of the current members (bytes that are not UTF-8 are
/// replaced): an array to free with `zkrs_string_array_free`.
///
/// # Safety
/// `p` is a live party; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_party_members(
    p: *const zkrs_party,
    out: *mut *mut zkrs_string_array,
) -> c_int {
    guard(|| {
        let p = try_arg!(p.as_ref());
        if out.is_null() {
            return ZKRS_BADARGUMENTS;
        }
        let inner = p.inner.clone();
        let got = wait(&p.session, async move {
            match &*inner {
                Kind::Deep(d) => Ok(d
                    .members()
                    .await?
                    .iter()
                    .map(|m| String::from_utf8_lossy(m).into_owned())
                    .collect()),
                Kind::Shallow(s) => s.members().await,
            }
        });
        answer(got.map(|names| string_array_into_raw(&names)), out)
    })
}

/// Leaves the party if joined and frees the handle. NULL is a no-op.
///
/// # Safety
/// `p` is NULL or a party from `zkrs_party_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_party_free(p: *mut zkrs_party) {
    guard_void(|| {
        if !p.is_null() {
            let p = Box::from_raw(p);
            if zkrs_party_is_member(&*p) != 0 {
                let _ = leave(&p);
            }
        }
    })
}

/// Makes a double barrier on `path` for the session of `c`, for
/// `num_clients` members (at least one). `identifier` (NULL: empty) is
/// stored in this member's node.
///
/// # Safety
/// `c` is a live client; strings are NUL-terminated or NULL
/// (`identifier`); `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_double_barrier_new(
    c: *const zkrs_client,
    path: *const c_char,
    num_clients: c_int,
    identifier: *const c_char,
    out: *mut *mut zkrs_double_barrier,
) -> c_int {
    guard(|| {
        let c = try_arg!(c.as_ref());
        let path = try_arg!(str_arg(path));
        let id = try_arg!(opt_str_arg(identifier));
        if out.is_null() || num_clients < 1 {
            return ZKRS_BADARGUMENTS;
        }
        let session = c.session().clone();
        let inner = DoubleBarrier::new(
            session.as_async(),
            path,
            num_clients as usize,
            id.as_bytes(),
        );
        let b = zkrs_double_barrier {
            session,
            inner: Arc::new(inner),
        };
        write_out(out, Box::into_raw(Box::new(b)));
        ZKRS_OK
    })
}

/// Joins and waits up to `timeout_ms` until `num_clients` members have
/// joined. `*entered` is 1 then, or 0 when the time ran out (this member
/// has withdrawn).
///
/// # Safety
/// `b` is a live double barrier; `entered` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_double_barrier_enter(
    b: *mut zkrs_double_barrier,
    timeout_ms: c_int,
    entered: *mut c_int,
) -> c_int {
    guard(|| {
        let b = try_arg!(b.as_ref());
        let inner = b.inner.clone();
        let got = wait(
            &b.session,
            async move { inner.enter(timeout(timeout_ms)).await },
        );
        answer(got.map(c_int::from), entered)
    })
}

/// Leaves and waits up to `timeout_ms` until every member has left;
/// `*left` is 1 then, else 0.
///
/// # Safety
/// `b` is a live double barrier; `left` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn zkrs_double_barrier_leave(
    b: *mut zkrs_double_barrier,
    timeout_ms: c_int,
    left: *mut c_int,
) -> c_int {
    guard(|| {
        let b = try_arg!(b.as_ref());
        let inner = b.inner.clone();
        let got = wait(
            &b.session,
            async move { inner.leave(timeout(timeout_ms)).await },
        );
        answer(got.map(c_int::from), left)
    })
}

/// 1 between a successful enter and leave, else 0 (also for NULL).
///
/// # Safety
/// `b` is NULL or a live double barrier.
#[no_mangle]
pub unsafe extern "C" fn zkrs_double_barrier_is_participating(
    b: *const zkrs_double_barrier,
) -> c_int {
    guard_or(0, || {
        b.as_ref().map_or(0, |b| b.inner.is_participating().into())
    })
}

/// Frees the handle (without leaving: a member that entered stays until
/// `zkrs_double_barrier_leave` or its session's end). NULL is a no-op.
///
/// # Safety
/// `b` is NULL or a double barrier from `zkrs_double_barrier_new` not yet
/// freed.
#[no_mangle]
pub unsafe extern "C" fn zkrs_double_barrier_free(b: *mut zkrs_double_barrier) {
    guard_void(|| {
        if !b.is_null() {
            drop(Box::from_raw(b));
        }
    })
}
