//! A follower's (or observer's) writes on their way to the leader, seen
//! through a leader change.
//!
//! Writes leave in submit order on one link to the leader. When that link
//! breaks before the leader answered (the leader died, stopped or was cut
//! off), or a leader loses the lead before its own write committed, the
//! write's fate is open until another leader confirms its lead and this
//! member applies what it had committed (see `Forwarder::decide`): by then
//! the write either was applied here (its reply is taken from the apply)
//! or can never commit (it is sent again, to the new leader).
//! The client sees one outcome either way instead of ConnectionLoss, and
//! no write is applied twice. Writes from a newer term wait until the older
//! ones are settled, which keeps each session's FIFO order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::async_runtime::WatchReceiver;
use openraft::Raft;
use tokio::sync::oneshot;

use super::peer::{PeerPool, PeerRequest, PeerResponse};
use super::{Liveness, Mode, StateMachine, TypeConfig};
use crate::state::{Txn, TxnResult};
use crate::types::{SessionId, Zxid};
use crate::Error;

type C = TypeConfig;

/// How often waits re-check the leader and the applied term.
const POLL: Duration = Duration::from_millis(20);

/// Writes sent to a leader (or appended here while leading) and not yet
/// answered, in send order.
#[derive(Default)]
pub(crate) struct Outbox {
    sent: Mutex<Sent_>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Sent_ {
    by_id: BTreeMap<u64, Sent>,
    /// Each session's ids in send order (applies match per session).
    by_session: HashMap<SessionId, VecDeque<u64>>,
    /// How many writes are tagged with each term.
    terms: BTreeMap<u64, usize>,
}

impl Sent_ {
    fn count_term(&mut self, term: u64, add: bool) {
        let n = self.terms.entry(term).or_default();
        match add {
            true => *n += 1,
            false => *n = n.saturating_sub(1),
        }
        if *n == 0 {
            self.terms.remove(&term);
        }
    }
}

struct Sent {
    txn: Txn,
    /// The term of the leader it was sent to.
    term: u64,
    /// That leader's address; None: appended here, as leader.
    to: Option<String>,
    /// Filled in when this member applies it.
    applied: Option<(Zxid, TxnResult)>,
}

/// The same client request (the leader only stamps its clock in).
fn same_request(a: &Txn, b: &Txn) -> bool {
    a.session == b.session && a.op == b.op && a.super_user == b.super_user && a.auth == b.auth
}

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sent_> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(self: &Arc<Self>, txn: Txn, term: u64, to: Option<String>) -> Ticket {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut sent = self.lock();
        sent.by_session
            .entry(txn.session)
            .or_default()
            .push_back(id);
        sent.count_term(term, true);
        let entry = Sent {
            txn,
            term,
            to,
            applied: None,
        };
        sent.by_id.insert(id, entry);
        Ticket {
            id,
            outbox: self.clone(),
        }
    }

    fn remove(&self, id: u64) {
        let mut sent = self.lock();
        let Some(s) = sent.by_id.remove(&id) else {
            return;
        };
        sent.count_term(s.term, false);
        if let Some(ids) = sent.by_session.get_mut(&s.txn.session) {
            ids.retain(|i| *i != id);
            if ids.is_empty() {
                sent.by_session.remove(&s.txn.session);
            }
        }
    }

    /// Called for every applied client entry: the first unanswered write
    /// of the same request it matches takes the entry's zxid and result.
    pub(crate) fn applied(&self, zxid: Zxid, txn: &Txn, result: &TxnResult) {
        let mut sent = self.lock();
        let Sent_ {
            by_id, by_session, ..
        } = &mut *sent;
        let Some(ids) = by_session.get(&txn.session) else {
            return;
        };
        let first = ids
            .iter()
            .filter_map(|id| by_id.get(id).map(|s| (*id, s)))
            .find(|(_, s)| s.applied.is_none() && same_request(&s.txn, txn))
            .map(|(id, _)| id);
        if let Some(s) = first.and_then(|id| by_id.get_mut(&id)) {
            s.applied = Some((zxid, result.clone()));
        }
    }

    fn result(&self, id: u64) -> Option<(Zxid, TxnResult)> {
        self.lock().by_id.get(&id).and_then(|s| s.applied.clone())
    }

    fn sent_to(&self, id: u64) -> Option<Option<String>> {
        self.lock().by_id.get(&id).map(|s| s.to.clone())
    }

    fn txn(&self, id: u64) -> Option<Txn> {
        self.lock().by_id.get(&id).map(|s| s.txn.clone())
    }

    fn retag(&self, id: u64, term: u64, to: Option<String>) {
        let mut sent = self.lock();
        let Some(s) = sent.by_id.get_mut(&id) else {
            return;
        };
        let old = std::mem::replace(&mut s.term, term);
        s.to = to;
        sent.count_term(old, false);
        sent.count_term(term, true);
    }

    /// Whether a write sent in an earlier term is still unsettled.
    fn has_older(&self, term: u64) -> bool {
        self.lock().terms.keys().next().is_some_and(|t| *t < term)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let sent = self.lock();
        assert_eq!(
            sent.by_id.len(),
            sent.by_session.values().map(|ids| ids.len()).sum::<usize>()
        );
        sent.by_id.len()
    }
}

/// One write in the outbox; dropping it (reply sent, connection gone)
/// takes the write out.
pub(crate) struct Ticket {
    id: u64,
    outbox: Arc<Outbox>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.outbox.remove(self.id);
    }
}

/// Where a write goes now.
pub(crate) enum Route {
    /// This member leads: append it here.
    Local,
    /// Forward to the leader at this address, of this term.
    Remote(String, u64),
}

/// Where a write went, tracked by its ticket.
pub(crate) enum Sending {
    /// This member leads: the caller appends it here.
    Local(Ticket, Txn),
    Remote(Ticket, oneshot::Receiver<PeerResponse>),
}

/// How writes reach the leader (forwarded, or appended here while this
/// member leads), tracked until settled; and read indexes.
pub(crate) struct Forwarder {
    raft: Raft<C, StateMachine>,
    pool: Arc<PeerPool>,
    liveness: Liveness,
    pub(crate) outbox: Arc<Outbox>,
    /// Held while a write is handed to a link, so writes enter links in
    /// one order and a newer term's write cannot pass an older one.
    send_lock: tokio::sync::Mutex<()>,
    /// The leader address writes were last forwarded to.
    forwarded_to: Mutex<Option<String>>,
    /// How long a write or sync waits for a leader (and a lost write for
    /// its fate) before it gives up with ConnectionLoss.
    pub(crate) hold: Duration,
}

impl Forwarder {
    pub(crate) fn new(
        raft: Raft<C, StateMachine>,
        pool: Arc<PeerPool>,
        liveness: Liveness,
        outbox: Arc<Outbox>,
        hold: Duration,
    ) -> Forwarder {
        Forwarder {
            raft,
            pool,
            liveness,
            outbox,
            send_lock: tokio::sync::Mutex::new(()),
            forwarded_to: Mutex::new(None),
            hold,
        }
    }

    /// The route now, if there is one (no leader while looking).
    pub(crate) fn route(&self) -> Option<Route> {
        if self.raft.is_leader() {
            return Some(Route::Local);
        }
        if !matches!(
            self.liveness.mode(&self.raft),
            Mode::Follower | Mode::Observer
        ) {
            return None;
        }
        let m = self.raft.metrics().borrow_watched().clone();
        let leader = m.current_leader?;
        let addr = m
            .membership_config
            .membership()
            .get_node(&leader)
            .and_then(|n| super::dial_addr(&n.addr))?;
        *self.forwarded_to.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr.clone());
        Some(Route::Remote(addr, m.current_term))
    }

    /// The route, waiting up to `hold` for a leader.
    pub(crate) async fn route_wait(&self) -> Result<Route, Error> {
        let deadline = Instant::now() + self.hold;
        loop {
            if let Some(r) = self.route() {
                return Ok(r);
            }
            if Instant::now() >= deadline {
                return Err(Error::ConnectionLoss);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Sends `txn` to the leader (or hands it back to append here if this
    /// member leads), after every write of an earlier term settled.
    pub(crate) async fn send(&self, txn: Txn) -> Result<Sending, Error> {
        let deadline = Instant::now() + self.hold;
        loop {
            let guard = self.send_lock.lock().await;
            match self.route() {
                Some(Route::Local) => {
                    let term = self.raft.metrics().borrow_watched().current_term;
                    if !self.outbox.has_older(term) {
                        return Ok(Sending::Local(
                            self.outbox.add(txn.clone(), term, None),
                            txn,
                        ));
                    }
                }
                Some(Route::Remote(addr, term)) if !self.outbox.has_older(term) => {
                    let ticket = self.outbox.add(txn.clone(), term, Some(addr.clone()));
                    // Not sent (no link to a leader that just died): the
                    // next leader gets it.
                    if let Ok(rx) = self.transmit(&addr, txn.clone()).await {
                        return Ok(Sending::Remote(ticket, rx));
                    }
                }
                _ => {}
            }
            drop(guard);
            if Instant::now() >= deadline {
                return Err(Error::ConnectionLoss);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn transmit(
        &self,
        addr: &str,
        txn: Txn,
    ) -> Result<oneshot::Receiver<PeerResponse>, Error> {
        self.pool
            .client(addr)
            .send(&PeerRequest::Forward(txn))
            .await
            .map_err(|e| {
                tracing::debug!("cannot forward a write to the leader: {e}");
                Error::ConnectionLoss
            })
    }

    /// Waits for the leader's answer to a forwarded write (`rx`), or starts
    /// from a write whose answer is lost (`None`: a local append that lost
    /// the lead); settles it as the module doc says. `Ok(Err(txn))`: this
    /// member leads now and must append `txn` itself (the ticket tracks it).
    pub(crate) async fn settle(
        &self,
        ticket: &Ticket,
        mut rx: Option<oneshot::Receiver<PeerResponse>>,
    ) -> Result<Result<(Zxid, TxnResult), Txn>, Error> {
        let lost = Error::ConnectionLoss.code();
        loop {
            if let Some(rx) = rx.take() {
                match rx.await {
                    Ok(PeerResponse::Forward(Ok((zxid, result)))) => {
                        super::wait_applied(&self.raft, zxid as u64).await?;
                        return Ok(Ok((zxid, result)));
                    }
                    Ok(PeerResponse::Forward(Err(code))) if code != lost => {
                        return Err(Error::from_code(code).unwrap_or(Error::SystemError));
                    }
                    _ => {}
                }
            }
            if let Some(done) = self.decide(ticket.id).await? {
                return Ok(Ok(done));
            }
            rx = match self.resend(ticket).await? {
                Ok(rx) => Some(rx),
                Err(txn) => return Ok(Err(txn)),
            };
        }
    }

    /// Waits until the lost write's fate is known: `Some` if it was applied
    /// here, `None` if it can never commit. ConnectionLoss if neither is
    /// known within `hold`.
    ///
    /// The proof of "never": a leader other than the one the write went to
    /// (or any leader, for a write this member appended and then lost the
    /// lead on) confirms its lead after the write was lost, and this member
    /// applies everything that leader had committed. That leader's term is
    /// above the term the write could have been appended in, so by Raft
    /// its committed prefix holds the write if anything ever will.
    async fn decide(&self, id: u64) -> Result<Option<(Zxid, TxnResult)>, Error> {
        let deadline = Instant::now() + self.hold;
        let sent_to = self.outbox.sent_to(id).ok_or(Error::ConnectionLoss)?;
        loop {
            if let Some(done) = self.outbox.result(id) {
                return Ok(Some(done));
            }
            let other = match (self.route(), &sent_to) {
                (Some(Route::Remote(addr, _)), Some(to)) if &addr == to => None,
                (route, _) => route,
            };
            if let Some(route) = other {
                let left = deadline.saturating_duration_since(Instant::now());
                if self.read_through(route, left).await.is_ok() {
                    return Ok(self.outbox.result(id));
                }
            }
            if Instant::now() >= deadline {
                tracing::info!("a lost write's fate stayed open; giving up");
                return Err(Error::ConnectionLoss);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// One read index from the leader on `route`, applied here.
    async fn read_through(&self, route: Route, wait: Duration) -> Result<(), Error> {
        let addr = match route {
            Route::Local => return super::handler::read_index(&self.raft).await.map(|_| ()),
            Route::Remote(addr, _) => addr,
        };
        let resp = self
            .pool
            .client(&addr)
            .call(&PeerRequest::ReadIndex, wait)
            .await;
        match resp {
            Ok(PeerResponse::ReadIndex(Ok(index))) => super::wait_applied(&self.raft, index).await,
            Ok(PeerResponse::ReadIndex(Err(code))) => {
                Err(Error::from_code(code).unwrap_or(Error::SystemError))
            }
            _ => Err(Error::ConnectionLoss),
        }
    }

    /// Sends a write that can no longer commit to the current leader,
    /// keeping its place in the outbox. `Err(txn)`: append it here.
    async fn resend(
        &self,
        ticket: &Ticket,
    ) -> Result<Result<oneshot::Receiver<PeerResponse>, Txn>, Error> {
        let deadline = Instant::now() + self.hold;
        let txn = self.outbox.txn(ticket.id).ok_or(Error::ConnectionLoss)?;
        loop {
            let guard = self.send_lock.lock().await;
            match self.route() {
                Some(Route::Local) => {
                    let term = self.raft.metrics().borrow_watched().current_term;
                    self.outbox.retag(ticket.id, term, None);
                    return Ok(Err(txn));
                }
                Some(Route::Remote(addr, term)) => {
                    tracing::info!("sending a write lost with the old leader again, to {addr}");
                    self.outbox.retag(ticket.id, term, Some(addr.clone()));
                    if let Ok(rx) = self.transmit(&addr, txn.clone()).await {
                        return Ok(Ok(rx));
                    }
                }
                None => {}
            }
            drop(guard);
            if Instant::now() >= deadline {
                return Err(Error::ConnectionLoss);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Asks the leader for its read index and waits to apply it; a leader
    /// lost meanwhile is asked again once a new one is known.
    pub(crate) async fn sync(&self, wait: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + self.hold;
        loop {
            let route = self.route_wait().await?;
            let remote = matches!(route, Route::Remote(..));
            match self.read_through(route, wait).await {
                Err(Error::ConnectionLoss) if remote && Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await
                }
                done => return done,
            }
        }
    }

    /// The leader's address, if one is known now (no waiting).
    pub(crate) fn leader_addr(&self) -> Option<String> {
        match self.route()? {
            Route::Remote(addr, _) => Some(addr),
            Route::Local => None,
        }
    }

    /// Drops the link writes were last forwarded on; what is queued on it
    /// is discarded, and its unanswered writes settle as the module says.
    pub(crate) async fn reset_leader_link(&self) {
        let addr = self
            .forwarded_to
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(addr) = addr {
            self.pool.client(&addr).reset().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::TxnOp;

    fn set(session: i64, data: &[u8]) -> Txn {
        Txn {
            session,
            time: 0,
            auth: vec![],
            super_user: false,
            op: TxnOp::SetData {
                path: "/a".into(),
                data: data.to_vec(),
                version: -1,
            },
        }
    }

    fn ticket(outbox: &Arc<Outbox>, txn: Txn, term: u64) -> Ticket {
        outbox.add(txn, term, Some("leader:1".into()))
    }

    #[test]
    fn an_applied_entry_answers_the_first_matching_write_only() {
        let outbox = Arc::new(Outbox::default());
        let first = ticket(&outbox, set(1, b"x"), 3);
        let second = ticket(&outbox, set(1, b"x"), 3);
        let mut stamped = set(1, b"x");
        stamped.time = 12345; // the leader's clock does not matter
        outbox.applied(7, &stamped, &TxnResult::Delete);
        assert_eq!(outbox.result(first.id), Some((7, TxnResult::Delete)));
        assert_eq!(outbox.result(second.id), None);
        outbox.applied(8, &stamped, &TxnResult::Check);
        assert_eq!(outbox.result(second.id), Some((8, TxnResult::Check)));
    }

    #[test]
    fn another_sessions_or_requests_entry_answers_nothing() {
        let outbox = Arc::new(Outbox::default());
        let mine = ticket(&outbox, set(1, b"x"), 3);
        outbox.applied(7, &set(2, b"x"), &TxnResult::Check);
        outbox.applied(8, &set(1, b"y"), &TxnResult::Check);
        assert_eq!(outbox.result(mine.id), None);
    }

    #[test]
    fn older_terms_hold_newer_writes_until_settled_and_dropped_tickets_leave() {
        let outbox = Arc::new(Outbox::default());
        let old = ticket(&outbox, set(1, b"x"), 3);
        assert!(outbox.has_older(4));
        assert!(!outbox.has_older(3));
        outbox.retag(old.id, 4, Some("leader:2".into()));
        assert!(!outbox.has_older(4));
        drop(old);
        assert_eq!(outbox.len(), 0);
    }
}
