//! A follower's (or observer's) writes on their way to the leader, seen
//! through a leader change or a broken link.
//!
//! Writes leave in submit order on one link to the leader. When that link
//! breaks before the leader answered (the leader died, stopped or was cut
//! off), or a leader loses the lead before its own write committed, the
//! write's fate is open until a leader (a new one, or the same one once it
//! answered everything from the broken link) confirms its lead and this
//! member applies what it had committed (see `Forwarder::decide`): by then
//! the write either was applied here (its reply is taken from the apply)
//! or can never commit (it is sent again, to the current leader).
//! The client sees one outcome either way instead of ConnectionLoss, and
//! no write is applied twice. Writes of a newer generation (leader term,
//! then link) wait until the older ones are settled, which keeps each
//! session's FIFO order. The leader's side is `Fences`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::async_runtime::WatchReceiver;
use openraft::Raft;
use rustc_hash::FxHashMap;
use tokio::sync::oneshot;

use super::applied::AppliedIndex;
use super::peer::{PeerPool, PeerRequest, PeerResponse};
use super::{Liveness, Mode, StateMachine, TypeConfig};
use crate::state::{Txn, TxnResult};
use crate::types::{SessionId, Zxid};
use crate::Error;

type C = TypeConfig;

/// How often waits re-check the leader and the applied term.
const POLL: Duration = Duration::from_millis(20);

/// Writes sent to a leader (or appended here while leading) and not yet
/// answered, in send order; and how far this member applied, which their
/// replies wait for.
#[derive(Default)]
pub(crate) struct Outbox {
    sent: Mutex<Sent_>,
    next_id: AtomicU64,
    pub(crate) applied: AppliedIndex,
}

/// Hashed by id, not ordered: every use is a lookup, and a B-tree moved
/// its large entries on each insert and removal (a few percent of a
/// loaded follower).
#[derive(Default)]
struct Sent_ {
    by_id: FxHashMap<u64, Sent>,
    /// Each session's ids in send order (applies match per session).
    by_session: FxHashMap<SessionId, VecDeque<u64>>,
    /// How many writes are tagged with each generation.
    gens: BTreeMap<Gen, usize>,
}

/// When a write was sent: the leader's term, then this member's link
/// epoch. Writes of a newer generation wait for older ones to settle.
pub(crate) type Gen = (u64, u64);

impl Sent_ {
    fn count_gen(&mut self, gen: Gen, add: bool) {
        let n = self.gens.entry(gen).or_default();
        match add {
            true => *n += 1,
            false => *n = n.saturating_sub(1),
        }
        if *n == 0 {
            self.gens.remove(&gen);
        }
    }
}

struct Sent {
    txn: Txn,
    /// The term of the leader it was sent to and the link it went on.
    gen: Gen,
    /// Filled in when this member applies it.
    applied: Option<(Zxid, TxnResult)>,
}

/// The same client request (the leader only stamps its clock in).
fn same_request(a: &Txn, b: &Txn) -> bool {
    a.session == b.session && a.op == b.op && a.super_user == b.super_user && a.auth == b.auth
}

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sent_> {
        crate::lock(&self.sent)
    }

    fn add(self: &Arc<Self>, txn: Txn, gen: Gen) -> Ticket {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut sent = self.lock();
        sent.by_session
            .entry(txn.session)
            .or_default()
            .push_back(id);
        sent.count_gen(gen, true);
        let entry = Sent {
            txn,
            gen,
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
        sent.count_gen(s.gen, false);
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

    fn gen(&self, id: u64) -> Option<Gen> {
        self.lock().by_id.get(&id).map(|s| s.gen)
    }

    fn txn(&self, id: u64) -> Option<Txn> {
        self.lock().by_id.get(&id).map(|s| s.txn.clone())
    }

    fn retag(&self, id: u64, gen: Gen) {
        let mut sent = self.lock();
        let Some(s) = sent.by_id.get_mut(&id) else {
            return;
        };
        let old = std::mem::replace(&mut s.gen, gen);
        sent.count_gen(old, false);
        sent.count_gen(gen, true);
    }

    /// Whether a write of an earlier generation is still unsettled.
    fn has_older(&self, gen: Gen) -> bool {
        self.lock().gens.keys().next().is_some_and(|g| *g < gen)
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

/// An answer that says the write was not appended (for a local append
/// openraft refused), to settle like a forwarded one.
pub(crate) fn not_taken() -> oneshot::Receiver<PeerResponse> {
    let (tx, rx) = oneshot::channel();
    let _ = tx.send(PeerResponse::NotTaken);
    rx
}

/// How writes reach the leader (forwarded, or appended here while this
/// member leads), tracked until settled; and read indexes.
pub(crate) struct Forwarder {
    raft: Raft<C, StateMachine>,
    pool: Arc<PeerPool>,
    liveness: Liveness,
    pub(crate) outbox: Arc<Outbox>,
    /// Held while a write is handed to a link, so writes enter links in
    /// one order and a newer generation's write cannot pass an older one.
    send_lock: tokio::sync::Mutex<()>,
    /// The leader address writes were last forwarded to.
    forwarded_to: Mutex<Option<String>>,
    /// This process, to leaders (see `Link`).
    origin: u64,
    /// The current link's epoch: raised when a link is given up on.
    epoch: AtomicU64,
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
            origin: rand::random(),
            epoch: AtomicU64::new(0),
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
        // Borrowed, not cloned: this runs for every write.
        let (addr, term) = {
            let metrics = self.raft.metrics();
            let m = metrics.borrow_watched();
            let leader = m.current_leader?;
            let node = m.membership_config.membership().get_node(&leader)?;
            (self.pool.addr_of(leader, node)?, m.current_term)
        };
        let mut to = crate::lock(&self.forwarded_to);
        if to.as_deref() != Some(addr.as_str()) {
            *to = Some(addr.clone());
        }
        Some(Route::Remote(addr, term))
    }

    fn term(&self) -> u64 {
        self.raft.metrics().borrow_watched().current_term
    }

    fn link(&self) -> Link {
        Link {
            origin: self.origin,
            epoch: self.epoch.load(Ordering::Acquire),
        }
    }

    /// Gives up on the links of epochs up to `epoch`.
    fn retire(&self, epoch: u64) {
        self.epoch.fetch_max(epoch + 1, Ordering::AcqRel);
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
    /// member leads), after every write of an earlier generation settled.
    pub(crate) async fn send(&self, txn: Txn) -> Result<Sending, Error> {
        let deadline = Instant::now() + self.hold;
        loop {
            let guard = self.send_lock.lock().await;
            match self.route() {
                Some(Route::Local) => {
                    let gen = (self.term(), self.link().epoch);
                    if !self.outbox.has_older(gen) {
                        return Ok(Sending::Local(self.outbox.add(txn.clone(), gen), txn));
                    }
                }
                Some(Route::Remote(addr, term)) => {
                    let link = self.link();
                    if !self.outbox.has_older((term, link.epoch)) {
                        let ticket = self.outbox.add(txn.clone(), (term, link.epoch));
                        // Not sent (no link to a leader that just died): the
                        // next leader gets it.
                        if let Ok(rx) = self.transmit(&addr, txn.clone(), term, link).await {
                            return Ok(Sending::Remote(ticket, rx));
                        }
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

    async fn transmit(
        &self,
        addr: &str,
        txn: Txn,
        term: u64,
        link: Link,
    ) -> Result<oneshot::Receiver<PeerResponse>, Error> {
        self.pool
            .client(addr)
            .send(&PeerRequest::Forward { txn, term, link })
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
        let deadline = Instant::now() + self.hold;
        loop {
            let gen = self.outbox.gen(ticket.id).ok_or(Error::ConnectionLoss)?;
            let answer = match rx.take() {
                Some(rx) => rx.await.ok(),
                None => None,
            };
            match answer {
                Some(PeerResponse::Forward(Ok((zxid, result)))) => {
                    self.applied_here(zxid as u64).await?;
                    return Ok(Ok((zxid, result)));
                }
                Some(PeerResponse::Forward(Err(code))) if code != lost => {
                    return Err(Error::from_code(code).unwrap_or(Error::SystemError));
                }
                // Not appended: send it again once the route changed.
                Some(PeerResponse::NotTaken) if Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await
                }
                _ => {
                    self.retire(gen.1);
                    if let Some(done) = self.decide(ticket.id, gen.0).await? {
                        return Ok(Ok(done));
                    }
                }
            }
            rx = match self.resend(ticket).await? {
                Ok(rx) => Some(rx),
                Err(txn) => return Ok(Err(txn)),
            };
        }
    }

    /// Waits until the fate of a lost write sent in `term` is known: `Some`
    /// if it was applied here, `None` if it can never commit.
    /// ConnectionLoss if neither is known within `hold`.
    ///
    /// The proof of "never": a leader confirms its lead after the write
    /// was lost, and this member applies everything that leader had
    /// committed. A leader of a later term than `term` has in its
    /// committed prefix every entry of `term` that can ever commit (and a
    /// leader takes a forwarded write only in the term it was sent for).
    /// The leader of `term` itself first retires the link the write went
    /// on and waits until every write that came on it is answered
    /// (`PeerRequest::Fence`), so the write is committed by then or never.
    async fn decide(&self, id: u64, term: u64) -> Result<Option<(Zxid, TxnResult)>, Error> {
        let deadline = Instant::now() + self.hold;
        loop {
            if let Some(done) = self.outbox.result(id) {
                return Ok(Some(done));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let known = match self.route() {
                Some(Route::Local) if self.term() > term => {
                    self.read_through(Route::Local, left, PeerRequest::ReadIndex)
                        .await
                }
                Some(route @ Route::Remote(..)) => {
                    self.read_through(route, left, PeerRequest::Fence(self.link()))
                        .await
                }
                _ => Err(Error::ConnectionLoss),
            };
            if known.is_ok() {
                return Ok(self.outbox.result(id));
            }
            if Instant::now() >= deadline {
                tracing::info!("a lost write's fate stayed open; giving up");
                return Err(Error::ConnectionLoss);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// One read index (`req`) from the leader on `route`, applied here.
    async fn read_through(
        &self,
        route: Route,
        wait: Duration,
        req: PeerRequest,
    ) -> Result<(), Error> {
        let addr = match route {
            Route::Local => return super::handler::read_index(&self.raft).await.map(|_| ()),
            Route::Remote(addr, _) => addr,
        };
        let resp = self.pool.client(&addr).call(&req, wait).await;
        match resp {
            Ok(PeerResponse::ReadIndex(Ok(index))) => self.applied_here(index).await,
            Ok(PeerResponse::ReadIndex(Err(code))) => {
                Err(Error::from_code(code).unwrap_or(Error::SystemError))
            }
            _ => Err(Error::ConnectionLoss),
        }
    }

    /// Waits until this member applied `index` (read your own writes).
    async fn applied_here(&self, index: u64) -> Result<(), Error> {
        let applied = self.outbox.applied.wait(index, super::APPLY_WAIT);
        applied.await.map_err(|()| Error::ConnectionLoss)
    }

    /// Sends a write that was not taken, or can no longer commit, to the
    /// current leader, keeping its place in the outbox. `Err(txn)`:
    /// append it here.
    async fn resend(
        &self,
        ticket: &Ticket,
    ) -> Result<Result<oneshot::Receiver<PeerResponse>, Txn>, Error> {
        let deadline = Instant::now() + self.hold;
        let txn = self.outbox.txn(ticket.id).ok_or(Error::ConnectionLoss)?;
        loop {
            let guard = self.send_lock.lock().await;
            let link = self.link();
            match self.route() {
                Some(Route::Local) => {
                    self.outbox.retag(ticket.id, (self.term(), link.epoch));
                    return Ok(Err(txn));
                }
                Some(Route::Remote(addr, term)) => {
                    tracing::debug!("sending a write again, to {addr}");
                    self.outbox.retag(ticket.id, (term, link.epoch));
                    if let Ok(rx) = self.transmit(&addr, txn.clone(), term, link).await {
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
            match self.read_through(route, wait, PeerRequest::ReadIndex).await {
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
    /// is discarded (and refused by the leader should it still arrive),
    /// and its unanswered writes settle as the module says.
    pub(crate) async fn reset_leader_link(&self) {
        self.retire(self.link().epoch);
        let addr = crate::lock(&self.forwarded_to).take();
        if let Some(addr) = addr {
            self.pool.client(&addr).reset().await;
        }
    }
}

/// A follower process's link to the leader: `origin` is drawn at start
/// (a restarted member is a new origin), `epoch` grows each time the
/// follower gives up on a link.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Link {
    pub origin: u64,
    pub epoch: u64,
}

/// The leader's side: the newest link epoch seen from each follower and
/// its forwarded writes not yet answered, per epoch. A write that arrives
/// on an older link than one already seen is not taken, so a write stuck
/// in a dead connection cannot be appended after the follower moved on.
#[derive(Default)]
pub(crate) struct Fences {
    links: Mutex<HashMap<u64, Origin>>,
    answered: tokio::sync::Notify,
}

#[derive(Default)]
struct Origin {
    epoch: u64,
    pending: BTreeMap<u64, usize>,
}

/// Most followers a leader remembers; idle ones go first beyond it.
const MAX_ORIGINS: usize = 1024;

impl Fences {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Origin>> {
        crate::lock(&self.links)
    }

    /// Admits a write that came on `link`: None if a newer link of the
    /// same follower was seen. The guard counts it pending until dropped.
    pub(crate) fn admit(self: &Arc<Self>, link: Link) -> Option<Admitted> {
        let mut links = self.lock();
        if links.len() >= MAX_ORIGINS && !links.contains_key(&link.origin) {
            links.retain(|_, o| !o.pending.is_empty());
        }
        let o = links.entry(link.origin).or_default();
        if link.epoch < o.epoch {
            return None;
        }
        o.epoch = link.epoch;
        *o.pending.entry(link.epoch).or_default() += 1;
        Some(Admitted {
            fences: self.clone(),
            link,
        })
    }

    /// Retires the follower's links before `link` and waits until none of
    /// their writes is pending (each committed, or failed with the lead).
    pub(crate) async fn retire_older(&self, link: Link) {
        loop {
            let answered = self.answered.notified();
            {
                let mut links = self.lock();
                let o = links.entry(link.origin).or_default();
                o.epoch = o.epoch.max(link.epoch);
                if o.pending.range(..link.epoch).next().is_none() {
                    return;
                }
            }
            answered.await;
        }
    }
}

/// A forwarded write the leader took and has not answered yet.
pub(crate) struct Admitted {
    fences: Arc<Fences>,
    link: Link,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut links = self.fences.lock();
        if let Some(o) = links.get_mut(&self.link.origin) {
            if let Some(n) = o.pending.get_mut(&self.link.epoch) {
                *n -= 1;
                if *n == 0 {
                    o.pending.remove(&self.link.epoch);
                }
            }
        }
        drop(links);
        self.fences.answered.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::TxnOp;

    fn set(session: i64, data: &[u8]) -> Txn {
        Txn {
            session,
            owner: 0,
            time: 0,
            auth: Arc::new([]),
            super_user: false,
            op: TxnOp::SetData {
                path: "/a".into(),
                data: Some(data.to_vec()),
                version: -1,
            }
            .into(),
        }
    }

    fn ticket(outbox: &Arc<Outbox>, txn: Txn, term: u64) -> Ticket {
        outbox.add(txn, (term, 0))
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
    fn older_generations_hold_newer_writes_until_settled_and_dropped_tickets_leave() {
        let outbox = Arc::new(Outbox::default());
        let old = ticket(&outbox, set(1, b"x"), 3);
        assert!(outbox.has_older((4, 0)));
        assert!(outbox.has_older((3, 1)));
        assert!(!outbox.has_older((3, 0)));
        outbox.retag(old.id, (4, 0));
        assert!(!outbox.has_older((4, 0)));
        drop(old);
        assert_eq!(outbox.len(), 0);
    }

    fn link(origin: u64, epoch: u64) -> Link {
        Link { origin, epoch }
    }

    #[test]
    fn a_write_on_a_retired_link_is_not_taken() {
        let fences = Arc::new(Fences::default());
        assert!(fences.admit(link(1, 0)).is_some());
        assert!(fences.admit(link(1, 2)).is_some());
        assert!(fences.admit(link(1, 1)).is_none());
        assert!(
            fences.admit(link(2, 0)).is_some(),
            "another follower's links are its own"
        );
    }

    #[tokio::test]
    async fn a_fence_waits_for_the_older_links_writes_only() {
        let fences = Arc::new(Fences::default());
        let old = fences.admit(link(1, 0)).unwrap();
        let _new = fences.admit(link(1, 1)).unwrap();
        let fence = {
            let fences = fences.clone();
            tokio::spawn(async move { fences.retire_older(link(1, 1)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !fence.is_finished(),
            "an older link's write is still pending"
        );
        drop(old);
        tokio::time::timeout(Duration::from_secs(5), fence)
            .await
            .expect("the fence returns once the older write is answered")
            .unwrap();
        assert!(fences.admit(link(1, 0)).is_none());
    }
}
