//! The leader's and every member's side of the peer protocol: raft RPCs
//! handed to openraft in arrival order, forwarded writes submitted in
//! arrival order, read indexes, session touches; and the leader's standing
//! duty of adding configured observers as learners.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, Membership, Raft};

use super::forward::{self, Fences};
use super::peer::{PeerHandler, PeerPool, PeerRequest, PeerResponse};
use super::{Applier, Peer, Reconfig, StateMachine, TypeConfig};
use crate::config::{Role, ServerEntry};
use crate::types::Zxid;
use crate::Error;
use openraft::ChangeMembers;

type C = TypeConfig;

pub struct Handler {
    raft: Raft<C, StateMachine>,
    applier: Arc<dyn Applier>,
    liveness: super::Liveness,
    clock: super::LeaderClock,
    pool: Arc<PeerPool>,
    fences: Arc<Fences>,
    log: super::LogStore,
}

impl Handler {
    pub fn new(
        raft: Raft<C, StateMachine>,
        applier: Arc<dyn Applier>,
        liveness: super::Liveness,
        clock: super::LeaderClock,
        pool: Arc<PeerPool>,
        log: super::LogStore,
    ) -> Handler {
        Handler {
            raft,
            applier,
            liveness,
            clock,
            pool,
            fences: Arc::default(),
            log,
        }
    }
}

fn ready(resp: PeerResponse) -> BoxFuture<'static, PeerResponse> {
    futures::future::ready(resp).boxed()
}

/// The leader's commit index after it confirmed its leadership.
pub async fn read_index(raft: &Raft<C, StateMachine>) -> Result<u64, Error> {
    match raft
        .ensure_linearizable(openraft::raft::ReadPolicy::ReadIndex)
        .await
    {
        Ok(read) => Ok(read.index()),
        Err(e) => {
            tracing::info!("read index refused: {e}");
            Err(Error::ConnectionLoss)
        }
    }
}

impl PeerHandler for Handler {
    // The outer future resolves to the reply future on purpose (two stages).
    #[allow(clippy::async_yields_async)]
    fn handle(&self, req: PeerRequest) -> BoxFuture<'static, BoxFuture<'static, PeerResponse>> {
        let raft = self.raft.clone();
        let applier = self.applier.clone();
        let clock = self.clock.clone();
        let fences = self.fences.clone();
        if matches!(req, PeerRequest::Append(_) | PeerRequest::Snapshot { .. }) {
            self.liveness.heard_from_leader();
        }
        async move {
            match req {
                // Raft RPCs need no order among themselves (terms and
                // indexes sort them out), so none waits behind another.
                PeerRequest::Append(rpc) => async move {
                    PeerResponse::Append(raft.append_entries(rpc).await.map_err(|e| e.to_string()))
                }
                .boxed(),
                PeerRequest::Vote(rpc) => async move {
                    PeerResponse::Vote(raft.vote(rpc).await.map_err(|e| e.to_string()))
                }
                .boxed(),
                PeerRequest::PreVote(rpc) => async move {
                    PeerResponse::Vote(raft.pre_vote(rpc).await.map_err(|e| e.to_string()))
                }
                .boxed(),
                PeerRequest::Snapshot { vote, meta, data } => async move {
                    let snapshot = openraft::storage::Snapshot {
                        meta,
                        snapshot: super::state_machine::SnapshotData::Encoded(data),
                    };
                    PeerResponse::Snapshot(
                        raft.install_full_snapshot(vote, snapshot)
                            .await
                            .map_err(|e| e.to_string()),
                    )
                }
                .boxed(),
                PeerRequest::Forward { txn, term, link } => match fences.admit(link) {
                    Some(admitted) => forward(raft, clock, txn, term, admitted).await,
                    None => ready(PeerResponse::NotTaken),
                },
                PeerRequest::ReadIndex => async move {
                    PeerResponse::ReadIndex(read_index(&raft).await.map_err(|e| e.code()))
                }
                .boxed(),
                PeerRequest::Fence(link) => async move {
                    fences.retire_older(link).await;
                    PeerResponse::ReadIndex(read_index(&raft).await.map_err(|e| e.code()))
                }
                .boxed(),
                PeerRequest::Reconfig(change) => {
                    let applier = applier.clone();
                    async move {
                        let done = reconfig(&raft, change).await.map(|index| {
                            let (data, stat) = applier.config_node().unwrap_or_default();
                            (index, data, stat)
                        });
                        PeerResponse::Reconfig(done.map_err(|e| e.code()))
                    }
                    .boxed()
                }
                PeerRequest::Started => {
                    if raft.is_leader() {
                        let raft = raft.clone();
                        tokio::spawn(async move {
                            let _ = raft.trigger().heartbeat().await;
                        });
                    }
                    ready(PeerResponse::Ack)
                }
                PeerRequest::Touch(sessions) => {
                    tracing::debug!("touch of {} session(s) from a peer", sessions.len());
                    applier.touched(&sessions);
                    ready(PeerResponse::Ack)
                }
            }
        }
        .boxed()
    }

    fn offer_entries(&self, entries: Vec<super::wire::RawEntry>) {
        self.log.offer(entries);
    }

    fn leader_link_closed(&self, leader: u64) {
        tokio::spawn(elect_if_leader_gone(
            self.raft.clone(),
            self.pool.clone(),
            leader,
        ));
    }
}

/// Submits a follower's write now (in arrival order) and answers later;
/// `admitted` stays held until the answer (see `Fences`). Only the leader
/// of the term the follower sent it for takes it. The leader stamps its
/// own clock into it; a session expiry is never taken from another
/// member (only a leader decides one, for its term).
async fn forward(
    raft: Raft<C, StateMachine>,
    clock: super::LeaderClock,
    mut txn: crate::state::Txn,
    term: u64,
    admitted: forward::Admitted,
) -> BoxFuture<'static, PeerResponse> {
    let lost = Error::ConnectionLoss.code();
    if matches!(*txn.op, crate::state::TxnOp::ExpireSession { .. }) {
        return ready(PeerResponse::Forward(Err(Error::BadArguments.code())));
    }
    if !raft.is_leader() || raft.metrics().borrow_watched().current_term != term {
        return ready(PeerResponse::NotTaken);
    }
    clock.stamp(&mut txn);
    let (responder, rx) = openraft::impls::ProgressResponder::complete_only();
    if raft.client_write_ff(txn, Some(responder)).await.is_err() {
        return ready(PeerResponse::Forward(Err(lost)));
    }
    async move {
        let _admitted = admitted;
        match rx.await {
            Ok(Ok(resp)) => PeerResponse::Forward(Ok((resp.log_id.index as Zxid, resp.data))),
            Ok(Err(openraft::errors::ClientWriteError::ForwardToLeader(_))) => {
                PeerResponse::NotTaken
            }
            _ => PeerResponse::Forward(Err(lost)),
        }
    }
    .boxed()
}

/// How long each surviving voter waits per rank before it stands for
/// election, so that survivors who all saw the leader die do not split the
/// vote: the lowest id stands at once, the next only if no leader came.
const STAND_STAGGER: Duration = Duration::from_millis(250);

/// ZooKeeper's follower starts looking the moment its leader's socket
/// closes; openraft would wait out the election timeout and the leader
/// lease. When the link from our leader closes and its peer port refuses
/// connections (the process is gone), every surviving voter releases that
/// leader's lease at once (a leadership transfer to the first survivor in
/// id order does that), and the first one stands; if no leader comes, the
/// next in rank stands after a stagger. A leader that is merely
/// unreachable is left to the election timeout.
async fn elect_if_leader_gone(raft: Raft<C, StateMachine>, pool: Arc<PeerPool>, leader: u64) {
    let m = raft.metrics().borrow_watched().clone();
    tracing::debug!(
        "link from leader {leader} closed ({:?}, following {:?})",
        m.state,
        m.current_leader
    );
    if m.state != openraft::ServerState::Follower || m.current_leader != Some(leader) {
        return;
    }
    let membership = m.membership_config.membership();
    let Some(addr) = membership
        .get_node(&leader)
        .and_then(|n| pool.addr_of(leader, n))
    else {
        return;
    };
    let survivors: Vec<u64> = membership.voter_ids().filter(|id| *id != leader).collect();
    let Some(rank) = survivors.iter().position(|id| *id == m.id) else {
        return;
    };
    if !pool.is_gone(&addr).await {
        return tracing::debug!("leader {leader} still accepts connections on {addr}");
    }
    tracing::info!("leader {leader} is gone ({addr} hangs up); standing in rank {rank}");
    let release = openraft::raft::TransferLeaderRequest::new(m.vote, survivors[0], None);
    if let Err(e) = raft.handle_transfer_leader(release).await {
        return tracing::warn!("cannot release the lost leader's lease: {e}");
    }
    if rank == 0 {
        return;
    }
    tokio::time::sleep(STAND_STAGGER * rank as u32).await;
    let m = raft.metrics().borrow_watched().clone();
    let no_new_leader = m.current_leader.is_none() || m.current_leader == Some(leader);
    if no_new_leader && m.state != openraft::ServerState::Leader {
        tracing::info!("no leader after the first in rank stood; standing");
        let _ = raft.trigger().elect(true).await;
    }
}

/// A restarted ensemble has no leader until an election timeout runs out
/// (up to a third of syncLimit x tickTime), and neither has a new one whose
/// first voter started before the others could vote. A voter that has
/// heard from no leader two heartbeats after its start stands at once, in
/// id rank order so restarted peers do not split the vote. The pre-vote
/// round leaves a live leader alone: its followers' leases refuse it.
pub async fn stand_at_start(
    raft: Raft<C, StateMachine>,
    liveness: super::Liveness,
    heartbeat: Duration,
) {
    tokio::time::sleep(heartbeat * 2).await;
    // Read after the wait: a new ensemble's first voter sees its own
    // membership in the metrics only a moment after its initialize.
    let m = raft.metrics().borrow_watched().clone();
    let membership = m.membership_config.membership();
    let Some(rank) = membership.voter_ids().position(|id| id == m.id) else {
        return;
    };
    tokio::time::sleep(STAND_STAGGER * rank as u32).await;
    let m = raft.metrics().borrow_watched().clone();
    if m.state == openraft::ServerState::Leader || !liveness.silent() {
        return;
    }
    tracing::info!("no leader heard since start; standing in rank {rank}");
    let _ = raft.trigger().elect(true).await;
}

/// Tells the other members this one has started (see
/// `PeerRequest::Started`): a restarted member hears from its leader at
/// once instead of at the next heartbeat.
pub async fn announce_start(raft: Raft<C, StateMachine>, pool: Arc<PeerPool>, wait: Duration) {
    let m = raft.metrics().borrow_watched().clone();
    let others = m
        .membership_config
        .membership()
        .nodes()
        .filter(|(id, _)| **id != m.id)
        .filter_map(|(id, n)| pool.addr_of(*id, n))
        .collect::<Vec<_>>();
    let calls = others.into_iter().map(|addr| {
        let pool = pool.clone();
        async move {
            let sent = pool.client(&addr).call(&PeerRequest::Started, wait).await;
            if let Err(e) = sent {
                tracing::debug!("start not announced to {addr}: {e}");
            }
        }
    });
    futures::future::join_all(calls).await;
}

/// While this member leads: make every configured observer a learner and,
/// with `follow_config` (reconfig off), make the membership what zoo.cfg's
/// server lines say.
pub async fn leader_duties(raft: Raft<C, StateMachine>, peers: Vec<Peer>, follow_config: bool) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if !raft.is_leader() {
            continue;
        }
        if follow_config {
            follow_zoo_cfg(&raft, &peers).await;
        }
        let membership = raft.metrics().borrow_watched().membership_config.clone();
        for p in peers.iter().filter(|p| p.observer) {
            if membership.membership().get_node(&p.id).is_none() {
                let node = BasicNode {
                    addr: p.spec.clone(),
                };
                if let Err(e) = raft.add_learner(p.id, node, false).await {
                    tracing::info!("cannot add observer {} yet: {e}", p.id);
                }
            }
        }
    }
}

/// With reconfigEnabled=false the server lines of zoo.cfg are the
/// membership, as in ZooKeeper: members added, removed, moved or made
/// observers there, and restarted with the new lines (one by one or all at
/// once), are taken in by the leader through the steps of `reconfig`. A new
/// voter joins once it runs and has caught up.
async fn follow_zoo_cfg(raft: &Raft<C, StateMachine>, peers: &[Peer]) {
    // A joint membership here was left by a leader that stopped before its
    // change ended (its members restarting meanwhile): the change below
    // ends it, from wherever it stands.
    let stored = raft.metrics().borrow_watched().membership_config.clone();
    let Ok(current) = entries_of(stored.membership()) else {
        return;
    };
    let wanted: BTreeMap<u64, ServerEntry> = peers
        .iter()
        .filter_map(|p| Some((p.id, ServerEntry::parse(p.id, &p.spec).ok()?)))
        .collect();
    if wanted == current {
        return;
    }
    tracing::info!("the membership differs from zoo.cfg's server lines: following them");
    let lines: Vec<String> = peers
        .iter()
        .map(|p| format!("server.{}={}", p.id, p.spec))
        .collect();
    let change = Reconfig {
        joining: String::new(),
        leaving: String::new(),
        new_members: lines.join("\n"),
        from_version: -1,
    };
    if let Err(e) = reconfig(raft, change).await {
        tracing::info!("zoo.cfg's server lines not taken in yet: {e}");
    }
}

/// The membership as zoo.cfg entries: voters are participants, learners
/// observers.
fn entries_of(
    membership: &Membership<u64, BasicNode>,
) -> Result<BTreeMap<u64, ServerEntry>, Error> {
    let voters: BTreeSet<u64> = membership.voter_ids().collect();
    let mut entries = BTreeMap::new();
    for (id, node) in membership.nodes() {
        let mut e = ServerEntry::parse(*id, &node.addr).map_err(|_| Error::SystemError)?;
        e.role = if voters.contains(id) {
            Role::Participant
        } else {
            Role::Observer
        };
        entries.insert(*id, e);
    }
    Ok(entries)
}

/// What a `reconfig` asks for, as server id → entry.
fn target_membership(
    current: &BTreeMap<u64, ServerEntry>,
    change: &Reconfig,
) -> Result<BTreeMap<u64, ServerEntry>, Error> {
    let by_id = |entries: Vec<ServerEntry>| entries.into_iter().map(|e| (e.id, e));
    if !change.is_incremental() {
        return Ok(by_id(change.new_member_entries()?).collect());
    }
    let mut target = current.clone();
    for id in change.leaving_ids()? {
        target.remove(&id);
    }
    target.extend(by_id(change.joining_entries()?));
    Ok(target)
}

fn change_error(e: impl std::fmt::Display) -> Error {
    let text = e.to_string();
    tracing::info!("membership change refused: {text}");
    if text.contains("in progress") || text.contains("InProgress") {
        Error::ReconfigInProgress
    } else if text.contains("forward") || text.contains("Forward") {
        Error::ConnectionLoss
    } else {
        Error::NewConfigNoQuorum
    }
}

/// The leader's side of `reconfig`: new members first join as learners and
/// catch up, then the voters are replaced in one joint-consensus change,
/// then members that left are dropped. Returns the log index of the last
/// membership entry (the new config version).
pub async fn reconfig(raft: &Raft<C, StateMachine>, change: Reconfig) -> Result<u64, Error> {
    let stored = raft.metrics().borrow_watched().membership_config.clone();
    let version = stored.log_id().map(|l| l.index).unwrap_or(0);
    if change.from_version != -1 && change.from_version as u64 != version {
        return Err(Error::BadVersion);
    }
    let membership = stored.membership();
    let voters_now: BTreeSet<u64> = membership.voter_ids().collect();
    let current = entries_of(membership)?;
    let target = target_membership(&current, &change)?;
    let voters: BTreeSet<u64> = target
        .values()
        .filter(|e| e.role == Role::Participant)
        .map(|e| e.id)
        .collect();
    if voters.is_empty() {
        return Err(Error::BadArguments);
    }
    let mut last = version;
    for (id, e) in target.iter().filter(|(id, _)| !current.contains_key(id)) {
        // A joining voter must catch up first (else NewConfigNoQuorum); an
        // observer is added at once, running or not, as ZooKeeper does.
        let add = raft.add_learner(
            *id,
            BasicNode {
                addr: e.to_string(),
            },
            e.role == Role::Participant,
        );
        let r = tokio::time::timeout(Duration::from_secs(20), add)
            .await
            .map_err(|_| Error::NewConfigNoQuorum)?;
        last = r.map_err(change_error)?.log_id.index;
    }
    if voters != voters_now {
        let r = raft
            .change_membership(ChangeMembers::ReplaceAllVoters(voters), true)
            .await;
        last = r.map_err(change_error)?.log_id.index;
    }
    let gone: BTreeSet<u64> = current
        .keys()
        .filter(|id| !target.contains_key(id))
        .copied()
        .collect();
    if !gone.is_empty() {
        let r = raft
            .change_membership(ChangeMembers::RemoveNodes(gone), false)
            .await;
        last = r.map_err(change_error)?.log_id.index;
    }
    // Members that stay but whose line changed (addresses or ports; the
    // role is the membership's): rewrite their stored spec.
    let as_participant = |e: &ServerEntry| {
        let mut e = e.clone();
        e.role = Role::Participant;
        e.to_string()
    };
    let respecced: BTreeMap<u64, BasicNode> = target
        .iter()
        .filter(|(id, e)| {
            current
                .get(id)
                .is_some_and(|c| as_participant(c) != as_participant(e))
        })
        .map(|(id, e)| {
            (
                *id,
                BasicNode {
                    addr: e.to_string(),
                },
            )
        })
        .collect();
    if !respecced.is_empty() {
        let r = raft
            .change_membership(ChangeMembers::SetNodes(respecced), false)
            .await;
        last = r.map_err(change_error)?.log_id.index;
    }
    super::wait_applied(raft, last).await?;
    Ok(last)
}
