//! Where core futures run. Members and sessions live on the core's
//! process-wide runtime (the one the C and Python bindings use too), not on
//! napi's: napi only awaits their results, so a Promise settles on the JS
//! thread while connection and server tasks keep their own threads.
//!
//! ZooKeeper promises FIFO order for one session's requests, so a client
//! call is *submitted* on the JS thread, in call order: its future is polled
//! once right there (which queues the request on the session) and only the
//! wait for the reply moves to the core runtime.

use std::future::Future;

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::Env;

use crate::error::{ZkError, ZkResult};

fn panicked(what: &str) -> ZkError {
    zkrs::Error::Io(format!("zkrs {what} panicked")).into()
}

/// Runs `fut` on the core runtime and hands back its result. A panic in
/// the core becomes a SYSTEMERROR rejection instead of taking Node down.
pub async fn on_core<T, F>(fut: F) -> ZkResult<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T, zkrs::Error>> + Send + 'static,
{
    match zkrs::runtime::get().spawn(fut).await {
        Ok(r) => r.into(),
        Err(_) => ZkResult(Err(panicked("task"))),
    }
}

/// Submits `fut` now, on the calling thread (`zkrs::runtime::submit`:
/// its request is queued in call order); the returned future only waits.
pub fn submit<T, F>(fut: F) -> impl Future<Output = ZkResult<T>> + Send + 'static
where
    T: Send + 'static,
    F: Future<Output = Result<T, zkrs::Error>> + Send + 'static,
{
    let submitted = zkrs::runtime::submit(&zkrs::runtime::get(), fut);
    async move {
        match submitted.wait().await {
            Ok(r) => r.into(),
            Err(_) => ZkResult(Err(panicked("call"))),
        }
    }
}

/// [`submit`]s `fut` now and returns the Promise of its result.
pub fn submit_promise<'env, T, F>(
    env: &'env Env,
    fut: F,
) -> napi::Result<PromiseRaw<'env, ZkResult<T>>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T, zkrs::Error>> + Send + 'static,
{
    let pending = submit(fut);
    env.spawn_future(async move { Ok(pending.await) })
}
