//! zkrs: a ZooKeeper-compatible, replicated coordination service.
//!
//! Data flows one way: bytes in → request → (replicated log) → deterministic
//! apply → response + watch events → bytes out. Module map:
//!
//! - [`proto`]: the jute codec (frames, records, opcodes). No I/O, no state.
//! - [`tree`]: the DataTree of znodes. Pure and deterministic.
//! - [`state`]: the replicated state machine: tree + sessions, `apply`.
//! - [`storage`]: durable log and snapshots. Knows bytes, not znodes.
//! - [`consensus`]: the openraft binding; no other module names openraft.
//! - [`member`]: the one owner of a member's applied state (ZKDatabase):
//!   driven by `consensus`, read by `server`.
//! - [`watch`]: per-member watch registry.
//! - [`server`]: the client front end on the client port, 4lw.
//! - [`config`]: zoo.cfg parsing.
//! - [`recipes`]: locks, elections, barriers, queues, counters, watches on
//!   the public client API.

pub mod client;
pub mod config;
pub mod consensus;
pub mod embed;
pub mod error;
pub mod fourlw;
pub mod import;
pub mod logging;
pub mod member;
pub mod proto;
pub mod recipes;
pub mod runtime;
pub mod sasl;
pub mod server;
pub mod session;
pub mod state;
pub mod storage;
pub mod tls;
pub mod tree;
pub mod types;
pub mod watch;

pub use error::{Error, Result};
pub use types::*;

/// Locks `m` even if a thread panicked while holding it: one panicking
/// task must not make every later user of the lock panic too.
pub fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
