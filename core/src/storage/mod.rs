//! Durable storage: the replicated log (on raft-log, whose flush worker turns
//! many appends into one fsync) and snapshot files. It knows bytes and log
//! positions, not znodes and not openraft: `consensus` adapts it.

mod compression;
mod log;
mod snapshot;

pub use compression::Compression;
pub use log::{DurableLog, FlushCallback, GroupCommit, LogId, StoredVote, SyncObserver};
pub use snapshot::{Abandon, SnapshotBody, SnapshotFile, SnapshotStore};
