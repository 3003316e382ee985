//! Standing watches on top of ZooKeeper's one-shot ones (kazoo
//! `DataWatch`, `ChildrenWatch`): a task re-reads and re-arms after each
//! event and calls the callback with each new value, in order, and the
//! event that led to it (`None` on the first call). The callback returns
//! false to stop. Lost connections are waited out; the task ends when the
//! session ends (callbacks stop; nothing is reported as changed that did
//! not change), or, for a client that renews expired sessions, goes on in
//! the new session.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::{retrying, wait};
use crate::client::{watcher, Client, Watcher};
use crate::types::{EventType, Stat, WatchedEvent};
use crate::Error;

/// Calls back with `Some((data, stat))` or `None` (no node) now and after
/// every change of the node.
pub struct DataWatch {
    task: Standing,
}

impl DataWatch {
    pub fn new<F>(client: &Client, path: &str, mut callback: F) -> DataWatch
    where
        F: FnMut(Option<(Vec<u8>, Stat)>, Option<WatchedEvent>) -> bool + Send + 'static,
    {
        let c = client.clone();
        let path = path.to_string();
        let ended = Arc::new(AtomicBool::new(false));
        let on_end = Ended(ended.clone());
        let task = tokio::spawn(async move {
            let _on_end = on_end;
            let mut last: Option<Option<i64>> = None; // mzxid seen, None = absent
            let mut event = None;
            loop {
                let fired = Fired::default();
                let now = match read_data(&c, &path, fired.watcher()).await {
                    Ok(now) => now,
                    Err(Error::SessionExpired) if go_on(&c).await => continue,
                    Err(_) => return,
                };
                let seen = now.as_ref().map(|(_, st)| st.mzxid);
                if last != Some(seen) {
                    last = Some(seen);
                    if !callback(now, event.take()) {
                        return;
                    }
                }
                match fired.wait(&c).await {
                    Some(e) => event = e,
                    None if go_on(&c).await => event = None,
                    None => return,
                }
            }
        });
        DataWatch {
            task: Standing(Some(WatchHandle {
                task: task.abort_handle(),
                ended,
            })),
        }
    }

    /// Stops calling back.
    pub fn stop(&self) {
        self.task.stop();
    }

    /// False once stopped or ended (callback returned false, session
    /// over).
    pub fn is_running(&self) -> bool {
        self.task.is_running()
    }

    /// Lets the watch run on after this handle is dropped (until the
    /// callback returns false or the session ends), as kazoo's watches
    /// do; the returned handle still stops it.
    pub fn detach(mut self) -> Option<WatchHandle> {
        self.task.detach()
    }
}

/// Runs `body` as the task of a standing watch; the handle stops it.
pub(super) fn spawn<Fut>(body: Fut) -> WatchHandle
where
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let ended = Arc::new(AtomicBool::new(false));
    let on_end = Ended(ended.clone());
    let task = tokio::spawn(async move {
        let _on_end = on_end;
        body.await
    });
    WatchHandle {
        task: task.abort_handle(),
        ended,
    }
}

/// The watcher of one read, keeping the event that fired it.
#[derive(Default, Clone)]
pub(super) struct Fired {
    woken: Arc<Notify>,
    event: Arc<Mutex<Option<WatchedEvent>>>,
}

impl Fired {
    pub(super) fn watcher(&self) -> Watcher {
        let me = self.clone();
        watcher(move |e| {
            *me.event.lock().unwrap() = Some(e);
            me.woken.notify_one();
        })
    }

    /// The watcher for a children watch: the node's deletion ends the
    /// watch at once, before the deleting call's reply is seen.
    fn ending_watcher(&self, ended: &Arc<AtomicBool>) -> Watcher {
        let (me, ended) = (self.clone(), ended.clone());
        watcher(move |e| {
            if e.event_type == EventType::NodeDeleted {
                ended.store(true, Ordering::SeqCst);
            }
            *me.event.lock().unwrap() = Some(e);
            me.woken.notify_one();
        })
    }

    /// Waits for the event: `Some(event)`, or `None` when the session
    /// ended first.
    pub(super) async fn wait(&self, c: &Client) -> Option<Option<WatchedEvent>> {
        wait(c, &self.woken, None).await.ok()?;
        Some(self.event.lock().unwrap().take())
    }
}

/// A running standing watch: stops it, tells whether it still runs.
pub struct WatchHandle {
    task: AbortHandle,
    ended: Arc<AtomicBool>,
}

impl WatchHandle {
    pub fn stop(&self) {
        self.task.abort();
    }

    pub fn is_running(&self) -> bool {
        !self.ended.load(Ordering::SeqCst) && !self.task.is_finished()
    }
}

/// Marks the watch ended when its task lets go of it.
struct Ended(Arc<AtomicBool>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The task behind a standing watch: stopped when dropped, unless
/// detached.
struct Standing(Option<WatchHandle>);

impl Standing {
    fn is_running(&self) -> bool {
        self.0.as_ref().is_some_and(WatchHandle::is_running)
    }

    fn stop(&self) {
        if let Some(t) = &self.0 {
            t.stop();
        }
    }

    fn detach(&mut self) -> Option<WatchHandle> {
        self.0.take()
    }
}

impl Drop for Standing {
    fn drop(&mut self) {
        self.stop();
    }
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

/// Calls back with the sorted child names now and after every change
/// (kazoo's `ChildrenWatch`). It ends, without a callback, when the node
/// does not exist: at the start or once it is deleted.
pub struct ChildrenWatch {
    task: Standing,
}

impl ChildrenWatch {
    /// Goes on in a new session after an expiry, when the client renews
    /// sessions.
    pub fn new<F>(client: &Client, path: &str, callback: F) -> ChildrenWatch
    where
        F: FnMut(Vec<String>, Option<WatchedEvent>) -> bool + Send + 'static,
    {
        Self::start(client, path, true, callback)
    }

    /// Ends with the session it began in (kazoo's
    /// `allow_session_lost=False`).
    pub fn session_bound<F>(client: &Client, path: &str, callback: F) -> ChildrenWatch
    where
        F: FnMut(Vec<String>, Option<WatchedEvent>) -> bool + Send + 'static,
    {
        Self::start(client, path, false, callback)
    }

    fn start<F>(client: &Client, path: &str, renew: bool, mut callback: F) -> ChildrenWatch
    where
        F: FnMut(Vec<String>, Option<WatchedEvent>) -> bool + Send + 'static,
    {
        let c = client.clone();
        let path: Arc<str> = path.into();
        let go_on = move |c: Client| async move { renew && go_on(&c).await };
        let ended = Arc::new(AtomicBool::new(false));
        let on_end = Ended(ended.clone());
        let task = tokio::spawn(async move {
            let on_end_flag = on_end.0.clone();
            let _on_end = on_end;
            let mut last: Option<Vec<String>> = None;
            let mut event = None;
            loop {
                let fired = Fired::default();
                let w = fired.ending_watcher(&on_end_flag);
                match retrying(&c, || c.get_children(&path, Some(w.clone()))).await {
                    Ok(mut names) => {
                        names.sort();
                        if last.as_ref() != Some(&names) {
                            last = Some(names.clone());
                            if !callback(names, event.take()) {
                                return;
                            }
                        }
                    }
                    Err(Error::SessionExpired) if go_on(c.clone()).await => continue,
                    Err(_) => return, // NoNode among them: kazoo stops
                }
                match fired.wait(&c).await {
                    Some(_) if on_end_flag.load(Ordering::SeqCst) => return, // node deleted
                    Some(e) => event = e,
                    None if go_on(c.clone()).await => event = None,
                    None => return,
                }
            }
        });
        ChildrenWatch {
            task: Standing(Some(WatchHandle {
                task: task.abort_handle(),
                ended,
            })),
        }
    }

    pub fn stop(&self) {
        self.task.stop();
    }

    /// False once stopped or ended (no node, callback returned false,
    /// session over).
    pub fn is_running(&self) -> bool {
        self.task.is_running()
    }

    /// As [`DataWatch::detach`].
    pub fn detach(mut self) -> Option<WatchHandle> {
        self.task.detach()
    }
}

/// After the session ended: true once a new one is up (a client that
/// renews sessions), so the watch goes on there, as kazoo's do.
pub(super) async fn go_on(c: &Client) -> bool {
    super::next_session(c).await.is_ok()
}
