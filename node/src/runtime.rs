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
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::error::{ZkError, ZkResult};

type CoreFuture<T> = Pin<Box<dyn Future<Output = Result<T, zkrs::Error>> + Send>>;

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

/// Polls `fut` once on the calling thread, so whatever it does before its
/// first await (queueing the request) happens now, then lets the core
/// runtime drive it to the end. The returned future only waits.
pub fn submit<T, F>(fut: F) -> impl Future<Output = ZkResult<T>> + Send + 'static
where
    T: Send + 'static,
    F: Future<Output = Result<T, zkrs::Error>> + Send + 'static,
{
    let rt = zkrs::runtime::get();
    let first = {
        let _in_runtime = rt.enter();
        let mut fut: CoreFuture<T> = Box::pin(fut);
        let mut cx = Context::from_waker(Waker::noop());
        catch_unwind(AssertUnwindSafe(|| match fut.as_mut().poll(&mut cx) {
            Poll::Ready(r) => Ok(r),
            Poll::Pending => Err(fut),
        }))
    };
    let pending = match first {
        Ok(Ok(done)) => Ok(ZkResult::from(done)),
        Ok(Err(fut)) => Err(rt.spawn(fut)),
        Err(_) => Ok(ZkResult(Err(panicked("call")))),
    };
    async move {
        match pending {
            Ok(done) => done,
            Err(handle) => match handle.await {
                Ok(r) => r.into(),
                Err(_) => ZkResult(Err(panicked("call"))),
            },
        }
    }
}
