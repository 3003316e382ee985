//! Where core futures run. Members and sessions live on the core's
//! process-wide runtime (the one the C and Python bindings use too), not on
//! napi's: napi only awaits their results, so a Promise settles on the JS
//! thread while connection and server tasks keep their own threads.

use std::future::Future;

use crate::error::ZkResult;

/// Runs `fut` on the core runtime and hands back its result. A panic in
/// the core becomes a SYSTEMERROR rejection instead of taking Node down.
pub async fn on_core<T, F>(fut: F) -> ZkResult<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T, zkrs::Error>> + Send + 'static,
{
    match zkrs::runtime::get().spawn(fut).await {
        Ok(r) => r.into(),
        Err(e) => ZkResult(Err(zkrs::Error::Io(format!("zkrs task failed: {e}")).into())),
    }
}
