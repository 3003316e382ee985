//! The `zkrs._native` extension module: Python's view of zkrs. It only
//! translates: Python values to core types and back, core errors to the
//! exception hierarchy, Python callables to core watchers. Anything that
//! decides something belongs in core (`zkrs::embed`, the blocking client).
//!
//! Module map:
//! - [`errors`]: `ZkError` and one subclass per ZooKeeper error code.
//! - [`member`]: `zkrs.Member`, an in-process member.
//! - [`ensemble`]: `zkrs.Ensemble`, an in-process throw-away ensemble.
//! - [`client`]: `zkrs.Client` and `zkrs.TransactionRequest` (kazoo-shaped).
//! - [`client_async`]: kazoo's `*_async` calls, settling handler async results.
//! - [`watch_tables`]: kazoo's one-shot watcher tables (`_data_watchers`).
//! - [`retry`]: `KazooRetry` and `Client.retry` over the core's policy.
//! - [`recipes`]: kazoo's recipe classes over `zkrs::recipes`.
//! - [`partitioner`]: kazoo's `SetPartitioner`.
//! - [`logs`]: core logs into Python `logging` (drained by `zkrs._logging`).
//! - [`convert`]: Stat, events, ACLs, states and callables across the border.

mod client;
mod client_async;
mod convert;
mod ensemble;
mod errors;
mod logs;
mod member;
mod partitioner;
mod recipes;
mod registry;
mod retry;
mod tree_cache;
mod watch_tables;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(errors::_error_for_code, m)?)?;
    m.add_function(wrap_pyfunction!(logs::_log_start, m)?)?;
    m.add_function(wrap_pyfunction!(logs::_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(logs::_log_next, m)?)?;
    m.add_class::<member::Member>()?;
    m.add_class::<ensemble::Ensemble>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<client::TransactionRequest>()?;
    m.add_class::<retry::KazooRetry>()?;
    m.add_class::<recipes::Lock>()?;
    m.add_class::<recipes::Semaphore>()?;
    m.add_class::<recipes::Election>()?;
    m.add_class::<recipes::Counter>()?;
    m.add_class::<recipes::Barrier>()?;
    m.add_class::<recipes::DoubleBarrier>()?;
    m.add_class::<recipes::Queue>()?;
    m.add_class::<recipes::LockingQueue>()?;
    m.add_class::<recipes::NonBlockingLease>()?;
    m.add_class::<recipes::MultiNonBlockingLease>()?;
    m.add_class::<recipes::Party>()?;
    m.add_class::<recipes::ShallowParty>()?;
    m.add_class::<recipes::DataWatch>()?;
    m.add_class::<recipes::ChildrenWatch>()?;
    m.add_class::<partitioner::SetPartitioner>()?;
    m.add_class::<registry::ServiceRegistry>()?;
    m.add_class::<registry::RegistryWatch>()?;
    m.add_class::<tree_cache::TreeCache>()?;
    Ok(())
}
