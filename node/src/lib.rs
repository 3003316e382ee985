//! Node.js binding of zkrs (napi-rs). It owns only the translation between
//! JavaScript and the core facade: argument and result types, ZooKeeper
//! errors as `Error` objects with a `code`, and callbacks through
//! thread-safe functions. Every behaviour lives in the core crate; a branch
//! here that is not conversion belongs there.
//!
//! - [`error`]: `zkrs::Error` → JS `Error` with `code` and `zkCode`.
//! - [`types`]: Stat, ACL, create modes, watch events as JS values.
//! - [`member`]: `Member`, an in-process ensemble member.
//! - [`ensemble`]: `Ensemble`, an in-process throw-away ensemble.
//! - [`client`]: `Client`, the Promise API over `zkrs::client::Client`.
//! - [`logging`]: `setLogger`, the core's logs to a JS callback.
//! - [`recipes`]: `Lock`, `Semaphore`, `LeaderLatch`, ... over `zkrs::recipes`.

#![deny(clippy::all)]

mod client;
mod ensemble;
mod error;
pub mod logging;
mod member;
mod partitioner;
pub mod queues;
mod recipes;
mod registry;
mod runtime;
mod tree_cache;
mod types;
