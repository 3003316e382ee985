//! `SetPartitioner` over `zkrs::recipes::SetPartitioner` (kazoo's layout,
//! so Node, Python and kazoo processes share one partitioning): Promise
//! calls, and an optional callback on the JS thread at each state change.

use std::sync::Arc;
use std::time::Duration;

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use zkrs::recipes::{self, PartitionState, PartitionerOptions};

use crate::error::{ZkError, ZkResult};
use crate::runtime::on_core;

type StateCallback = ThreadsafeFunction<String, (), String, Status, false>;

/// `client.setPartitioner` options (kazoo's keyword arguments, in ms).
#[napi(object, object_to_js = false)]
pub struct PartitionerOpts {
    /// Our member name (no '/'); default `<hostname>-<pid>` as kazoo's.
    pub identifier: Option<String>,
    /// How long the party must stay unchanged before a split (30000).
    pub time_boundary_ms: Option<u32>,
    /// How long one lock is waited for before checking the party (1000).
    pub max_reaction_time_ms: Option<u32>,
    /// Called with "ALLOCATING", "ACQUIRED", "RELEASE" or "FAILURE".
    #[napi(ts_type = "(state: string) => void")]
    pub on_state: Option<StateCallback>,
}

fn state_name(s: PartitionState) -> &'static str {
    match s {
        PartitionState::Allocating => "ALLOCATING",
        PartitionState::Acquired => "ACQUIRED",
        PartitionState::Release => "RELEASE",
        PartitionState::Failure => "FAILURE",
    }
}

/// Divides `items` among the members at `path`: each item has one owner;
/// a member coming or going moves everyone to "RELEASE", after which each
/// stops using its items and calls `releaseSet()` for the next round. The
/// end of the session is "FAILURE", final.
#[napi]
pub struct SetPartitioner {
    inner: Arc<recipes::SetPartitioner>,
}

/// `client.setPartitioner(...)`: joins the party and starts the first
/// round.
pub(crate) async fn create(
    client: Result<zkrs::client::Client, ZkError>,
    path: String,
    items: Vec<String>,
    options: Option<PartitionerOpts>,
) -> ZkResult<SetPartitioner> {
    let c = match client {
        Ok(c) => c,
        Err(e) => return ZkResult(Err(e)),
    };
    let opts = options.map_or_else(
        || PartitionerOptions::new(&PartitionerOptions::default_identifier()),
        core_options,
    );
    on_core(async move { recipes::SetPartitioner::new(&c, &path, items, opts).await })
        .await
        .map(|inner| SetPartitioner {
            inner: Arc::new(inner),
        })
}

fn core_options(o: PartitionerOpts) -> PartitionerOptions {
    let mut opts = PartitionerOptions::new(
        &o.identifier
            .unwrap_or_else(PartitionerOptions::default_identifier),
    );
    if let Some(t) = o.time_boundary_ms {
        opts.time_boundary = Duration::from_millis(t.into());
    }
    if let Some(t) = o.max_reaction_time_ms {
        opts.max_reaction_time = Duration::from_millis(t.into());
    }
    if let Some(cb) = o.on_state {
        opts.on_state = Some(Arc::new(move |s| {
            cb.call(
                state_name(s).to_string(),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }));
    }
    opts
}

#[napi]
impl SetPartitioner {
    /// "ALLOCATING", "ACQUIRED", "RELEASE" or "FAILURE".
    #[napi(getter)]
    pub fn state(&self) -> String {
        state_name(self.inner.state()).to_string()
    }

    /// Our items as of the last "ACQUIRED".
    #[napi(getter)]
    pub fn partitions(&self) -> Vec<String> {
        self.inner.partitions()
    }

    /// Resolves true at "ACQUIRED", false if `timeoutMs` passed first.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn wait_for_acquire(&self, timeout_ms: Option<u32>) -> ZkResult<bool> {
        let p = self.inner.clone();
        let t = timeout_ms.map(|t| Duration::from_millis(t.into()));
        on_core(async move { Ok(p.wait_for_acquire(t).await) }).await
    }

    /// Gives our items back and starts the next round.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn release_set(&self) -> ZkResult<()> {
        let p = self.inner.clone();
        on_core(async move {
            p.release_set().await;
            Ok(())
        })
        .await
    }

    /// Gives our items back and leaves the party ("FAILURE", final).
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn finish(&self) -> ZkResult<()> {
        let p = self.inner.clone();
        on_core(async move {
            p.finish().await;
            Ok(())
        })
        .await
    }
}
