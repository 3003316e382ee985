//! How far this member has applied its log, for replies that must wait
//! until it has applied their entry (a forwarded write's reply, read
//! your own writes).
//!
//! openraft's own wait watches its metrics: every change wakes every
//! waiter, and each copies the metrics to look. With a few hundred
//! forwarded writes in flight that was a twentieth of a follower's time.
//! Here each waiter is woken once, when its index is reached.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

/// Waiters kept at most before the gone ones (timed out) are swept out.
const SWEEP_AT: usize = 4096;

#[derive(Default)]
pub(crate) struct AppliedIndex {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    applied: u64,
    /// Waiters by the index they wait for.
    waiting: BTreeMap<u64, Vec<oneshot::Sender<()>>>,
    count: usize,
    /// The member stopped: nothing more will be applied.
    closed: bool,
}

impl AppliedIndex {
    /// Every entry up to `index` is applied (a later call with a lower
    /// index, from a snapshot older than the log, changes nothing).
    pub fn reached(&self, index: u64) {
        let mut ready = Vec::new();
        {
            let mut st = crate::lock(&self.state);
            if index <= st.applied {
                return;
            }
            st.applied = index;
            while let Some(entry) = st.waiting.first_entry() {
                if *entry.key() > index {
                    break;
                }
                ready.extend(entry.remove());
            }
            st.count -= ready.len();
        }
        for tx in ready {
            let _ = tx.send(());
        }
    }

    /// The member stopped: every waiter gives up now, and so does every
    /// later wait for an index not applied yet (instead of waiting out
    /// its bound for an apply that cannot come).
    pub fn close(&self) {
        let gone = {
            let mut st = crate::lock(&self.state);
            st.closed = true;
            st.count = 0;
            std::mem::take(&mut st.waiting)
        };
        drop(gone);
    }

    /// Resolves once `index` is applied; Err if that takes longer than
    /// `wait`, or the member stopped first.
    pub async fn wait(&self, index: u64, wait: Duration) -> Result<(), ()> {
        let rx = {
            let mut st = crate::lock(&self.state);
            if st.applied >= index {
                return Ok(());
            }
            if st.closed {
                return Err(());
            }
            if st.count >= SWEEP_AT {
                st.sweep();
            }
            let (tx, rx) = oneshot::channel();
            st.waiting.entry(index).or_default().push(tx);
            st.count += 1;
            rx
        };
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }
}

impl State {
    /// Drops the waiters that gave up.
    fn sweep(&mut self) {
        self.waiting.retain(|_, txs| {
            txs.retain(|tx| !tx.is_closed());
            !txs.is_empty()
        });
        self.count = self.waiting.values().map(Vec::len).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn a_waiter_wakes_when_its_index_is_applied_and_not_before() {
        let a = std::sync::Arc::new(AppliedIndex::default());
        a.reached(3);
        assert_eq!(a.wait(2, LONG).await, Ok(()), "already applied");
        let waiter = tokio::spawn({
            let a = a.clone();
            async move { a.wait(7, LONG).await }
        });
        tokio::task::yield_now().await;
        a.reached(6);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "woken before its index");
        a.reached(7);
        assert_eq!(waiter.await.unwrap(), Ok(()));
        assert_eq!(crate::lock(&a.state).count, 0);
    }

    #[tokio::test]
    async fn a_waiter_gives_up_and_is_swept_out() {
        let a = AppliedIndex::default();
        let short = Duration::from_millis(1);
        for _ in 0..SWEEP_AT {
            assert_eq!(a.wait(10, short).await, Err(()));
        }
        assert_eq!(crate::lock(&a.state).count, SWEEP_AT);
        assert_eq!(a.wait(10, short).await, Err(()));
        assert_eq!(crate::lock(&a.state).count, 1, "the gone ones swept");
        a.reached(10);
        assert_eq!(crate::lock(&a.state).count, 0);
    }

    #[tokio::test]
    async fn a_stopped_member_leaves_no_one_waiting() {
        let a = std::sync::Arc::new(AppliedIndex::default());
        a.reached(3);
        let waiter = tokio::spawn({
            let a = a.clone();
            async move { a.wait(7, LONG).await }
        });
        tokio::task::yield_now().await;
        a.close();
        let gave_up = tokio::time::timeout(Duration::from_secs(1), waiter).await;
        assert_eq!(gave_up.expect("woken by close").unwrap(), Err(()));
        assert_eq!(
            a.wait(8, LONG).await,
            Err(()),
            "a later wait gives up at once"
        );
        assert_eq!(
            a.wait(3, LONG).await,
            Ok(()),
            "what was applied stays applied"
        );
    }
}
