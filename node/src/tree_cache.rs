//! `TreeCache` over `zkrs::recipes::TreeCache`: a subtree mirrored in the
//! process, a listener told of each change.

use std::sync::Mutex;

use napi::bindgen_prelude::{Buffer, Either};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use zkrs::recipes::{self, CacheEvent, CachedNode};

use crate::client::{Client, DataResult};
use crate::types::Stat;

/// What a `TreeCache` listener gets: `type` is 'added', 'updated',
/// 'removed' or 'initialized' (once, after the first load); `path`,
/// `data` and `stat` as they now are (no data or stat for 'removed'; none
/// of them for 'initialized').
#[napi(object, object_from_js = false)]
pub struct TreeCacheEvent {
    #[napi(js_name = "type")]
    pub kind: String,
    pub path: Option<String>,
    pub data: Option<Buffer>,
    pub stat: Option<Stat>,
}

fn event(e: CacheEvent) -> TreeCacheEvent {
    let with = |kind: &str, path: String, n: Option<CachedNode>| TreeCacheEvent {
        kind: kind.into(),
        path: Some(path),
        data: n.as_ref().map(|n| n.data.clone().into()),
        stat: n.map(|n| n.stat.into()),
    };
    match e {
        CacheEvent::Added(p, n) => with("added", p, Some(n)),
        CacheEvent::Updated(p, n) => with("updated", p, Some(n)),
        CacheEvent::Removed(p) => with("removed", p, None),
        CacheEvent::Initialized => TreeCacheEvent {
            kind: "initialized".into(),
            path: None,
            data: None,
            stat: None,
        },
    }
}

type Listener = ThreadsafeFunction<TreeCacheEvent, (), TreeCacheEvent, Status, false>;

/// A local mirror of the subtree at `path`, kept by one persistent
/// recursive watch, until `close()` or the session's end.
#[napi]
pub struct TreeCache {
    inner: Mutex<Option<recipes::TreeCache>>,
}

#[napi]
impl TreeCache {
    #[napi(
        constructor,
        ts_args_type = "client: Client, path: string, listener?: (event: TreeCacheEvent) => void"
    )]
    pub fn new(client: &Client, path: String, listener: Option<Listener>) -> napi::Result<Self> {
        let c = client.connected()?;
        let _rt = zkrs::runtime::get().enter();
        let cache = recipes::TreeCache::start(&c, &path, move |e| {
            if let Some(l) = &listener {
                l.call(event(e), ThreadsafeFunctionCallMode::NonBlocking);
            }
        });
        Ok(TreeCache {
            inner: Mutex::new(Some(cache)),
        })
    }

    /// The cached node's data and stat, or null.
    #[napi]
    pub fn get_data(&self, path: String) -> Option<DataResult> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let n = inner.as_ref()?.get(&path)?;
        Some(DataResult {
            data: Either::A(n.data.into()),
            stat: n.stat.into(),
        })
    }

    /// The cached children's names, sorted, or null.
    #[napi]
    pub fn get_children(&self, path: String) -> Option<Vec<String>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.as_ref()?.children(&path)
    }

    /// Stops mirroring; the cache is empty after.
    #[napi]
    pub fn close(&self) {
        if let Some(c) = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take() {
            c.stop();
        }
    }

    /// False once closed or the session ended.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.as_ref().is_some_and(|c| c.is_running())
    }
}
