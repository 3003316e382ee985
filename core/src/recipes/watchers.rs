//! Standing watches on top of ZooKeeper's one-shot ones (kazoo
//! `DataWatch`, `ChildrenWatch`): a task re-reads and re-arms after each
//! event and calls the callback with each new value, in order. The
//! callback returns false to stop. Lost connections are waited out; the
//! task ends when the session ends (callbacks stop; nothing is reported as
//! changed that did not change), or, for a client that renews expired
//! sessions, goes on in the new session.

use std::sync::Arc;

use tokio::task::{AbortHandle, JoinHandle};

use super::{retrying, wait, wakeup};
use crate::client::Client;
use crate::types::Stat;
use crate::Error;

/// Calls back with `Some((data, stat))` or `None` (no node) now and after
/// every change of the node.
pub struct DataWatch {
    task: Standing,
}

impl DataWatch {
    pub fn new<F>(client: &Client, path: &str, mut callback: F) -> DataWatch
    where
        F: FnMut(Option<(Vec<u8>, Stat)>) -> bool + Send + 'static,
    {
        let c = client.clone();
        let path = path.to_string();
        let task = tokio::spawn(async move {
            let mut last: Option<Option<i64>> = None; // mzxid seen, None = absent
            loop {
                let (w, woken) = wakeup();
                let now = match read_data(&c, &path, w).await {
                    Ok(now) => now,
                    Err(Error::SessionExpired) if go_on(&c).await => continue,
                    Err(_) => return,
                };
                let seen = now.as_ref().map(|(_, st)| st.mzxid);
                if last != Some(seen) {
                    last = Some(seen);
                    if !callback(now) {
                        return;
                    }
                }
                if wait(&c, &woken, None).await.is_err() && !go_on(&c).await {
                    return;
                }
            }
        });
        DataWatch {
            task: Standing(Some(task)),
        }
    }

    /// Stops calling back.
    pub fn stop(&self) {
        self.task.stop();
    }

    /// Lets the watch run on after this handle is dropped (until the
    /// callback returns false or the session ends), as kazoo's watches
    /// do; the returned handle still stops it.
    pub fn detach(mut self) -> Option<AbortHandle> {
        self.task.detach()
    }
}

/// The task behind a standing watch: stopped when dropped, unless
/// detached.
struct Standing(Option<JoinHandle<()>>);

impl Standing {
    fn stop(&self) {
        if let Some(t) = &self.0 {
            t.abort();
        }
    }

    fn detach(&mut self) -> Option<AbortHandle> {
        self.0.take().map(|t| t.abort_handle())
    }
}

impl Drop for Standing {
    fn drop(&mut self) {
        self.stop();
    }
}

/// After the session ended: true once a new one is up (a client that
/// renews sessions), so the watch goes on there, as kazoo's do.
async fn go_on(c: &Client) -> bool {
    super::next_session(c).await.is_ok()
}

/// Reads the node with a watch that fires on its change or creation.
async fn read_data(
    c: &Client,
    path: &str,
    w: crate::client::Watcher,
) -> Result<Option<(Vec<u8>, Stat)>, Error> {
    loop {
        match retrying(c, || c.get_data(path, Some(w.clone()))).await {
            Ok(found) => return Ok(Some(found)),
            Err(Error::NoNode) => {}
            Err(e) => return Err(e),
        }
        // Gone: watch for its creation (exists leaves a watch either way).
        if retrying(c, || c.exists(path, Some(w.clone())))
            .await?
            .is_none()
        {
            return Ok(None);
        }
    }
}

/// Calls back with the sorted child names now and after every change.
/// While the node does not exist it waits for it (no callback).
pub struct ChildrenWatch {
    task: Standing,
}

impl ChildrenWatch {
    pub fn new<F>(client: &Client, path: &str, mut callback: F) -> ChildrenWatch
    where
        F: FnMut(Vec<String>) -> bool + Send + 'static,
    {
        let c = client.clone();
        let path: Arc<str> = path.into();
        let task = tokio::spawn(async move {
            let mut last: Option<Vec<String>> = None;
            loop {
                let (w, woken) = wakeup();
                match retrying(&c, || c.get_children(&path, Some(w.clone()))).await {
                    Ok(mut names) => {
                        names.sort();
                        if last.as_ref() != Some(&names) {
                            last = Some(names.clone());
                            if !callback(names) {
                                return;
                            }
                        }
                    }
                    Err(Error::NoNode) => {
                        if !matches!(
                            retrying(&c, || c.exists(&path, Some(w.clone()))).await,
                            Ok(None)
                        ) {
                            continue;
                        }
                    }
                    Err(Error::SessionExpired) if go_on(&c).await => continue,
                    Err(_) => return,
                }
                if wait(&c, &woken, None).await.is_err() && !go_on(&c).await {
                    return;
                }
            }
        });
        ChildrenWatch {
            task: Standing(Some(task)),
        }
    }

    pub fn stop(&self) {
        self.task.stop();
    }

    /// As [`DataWatch::detach`].
    pub fn detach(mut self) -> Option<AbortHandle> {
        self.task.detach()
    }
}
