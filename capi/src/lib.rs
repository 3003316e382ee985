//! libzkrs: the C ABI of zkrs. It owns type conversion, error numbers and
//! the panic boundary between C and Rust; it must hold no ZooKeeper logic
//! (that lives in the core crate's `embed` and client facades).
//!
//! Module map:
//! - [`error`]: result numbers (equal to the official C client's) and
//!   `zkrs_error_message`.
//! - [`types`]: C structs (stat, ACL, buffers, string arrays) and their frees.
//! - [`member`]: `zkrs_member`, an ensemble member run in-process.
//! - [`client`]: `zkrs_client`, a session: CRUD, ACLs, multi, watches.
//! - [`log`]: `zkrs_set_log_callback`, the core's logs for the host.
//! - [`recipes`]: `zkrs_lock`, `zkrs_counter`, `zkrs_leader_latch`;
//!   [`election`]: `zkrs_election` (kazoo's `Election.run`).
//! - [`barrier_queue`]: `zkrs_semaphore`, `zkrs_barrier`, `zkrs_queue`.
//! - [`party`]: `zkrs_party`, `zkrs_double_barrier`.
//! - [`tree_cache`]: `zkrs_tree_cache`; [`registry`]: `zkrs_registry`.
//! - `callback`: calling C back from the event thread, and never after
//!   `zkrs_client_free`.
//!
//! Conventions, as in rustls-ffi: handles are opaque; every allocation made
//! by zkrs has exactly one `*_free` function, which accepts NULL; out-params
//! are written only when the call returns `ZKRS_OK`; every buffer travels
//! with its `size_t` length; every exported body runs inside
//! `catch_unwind`, so a panic returns `ZKRS_SYSTEMERROR` instead of
//! unwinding into C.

#![allow(non_camel_case_types)]

pub mod async_calls;
pub mod barrier_queue;
mod callback;
pub mod client;
pub mod election;
pub mod ensemble;
pub mod error;
pub mod locking_queue;
pub mod log;
pub mod member;
pub mod partitioner;
pub mod party;
pub mod recipes;
pub mod registry;
pub mod tree_cache;
pub mod types;
pub mod watches;

pub use callback::{zkrs_state_fn, zkrs_watch_fn};

mod ffi;

use std::ffi::c_char;

/// The version of libzkrs, e.g. "0.1.0": a static NUL-terminated string
/// the caller must not free.
#[no_mangle]
pub extern "C" fn zkrs_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
