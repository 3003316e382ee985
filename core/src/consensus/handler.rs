//! The leader's and every member's side of the peer protocol: raft RPCs
//! handed to openraft in arrival order, forwarded writes submitted in
//! arrival order, read indexes, session touches; and the leader's standing
//! duty of adding configured observers as learners.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, Raft};

use super::peer::{PeerHandler, PeerRequest, PeerResponse};
use super::{Applier, Peer, StateMachine, TypeConfig};
use crate::types::Zxid;
use crate::Error;

type C = TypeConfig;

pub struct Handler {
    raft: Raft<C, StateMachine>,
    applier: Arc<dyn Applier>,
}

impl Handler {
    pub fn new(raft: Raft<C, StateMachine>, applier: Arc<dyn Applier>) -> Handler {
        Handler { raft, applier }
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
        async move {
            match req {
                PeerRequest::Append(rpc) => ready(PeerResponse::Append(
                    raft.append_entries(rpc).await.map_err(|e| e.to_string()),
                )),
                PeerRequest::Vote(rpc) => ready(PeerResponse::Vote(
                    raft.vote(rpc).await.map_err(|e| e.to_string()),
                )),
                PeerRequest::PreVote(rpc) => ready(PeerResponse::Vote(
                    raft.pre_vote(rpc).await.map_err(|e| e.to_string()),
                )),
                PeerRequest::Snapshot { vote, meta, data } => {
                    let snapshot = openraft::storage::Snapshot {
                        meta,
                        snapshot: Cursor::new(data),
                    };
                    let r = raft
                        .install_full_snapshot(vote, snapshot)
                        .await
                        .map_err(|e| e.to_string());
                    ready(PeerResponse::Snapshot(r))
                }
                PeerRequest::Forward(txn) => forward(raft, txn).await,
                PeerRequest::ReadIndex => async move {
                    PeerResponse::ReadIndex(read_index(&raft).await.map_err(|e| e.code()))
                }
                .boxed(),
                PeerRequest::Touch(sessions) => {
                    applier.touched(&sessions);
                    ready(PeerResponse::Ack)
                }
            }
        }
        .boxed()
    }
}

/// Submits a follower's write now (in arrival order) and answers later.
async fn forward(
    raft: Raft<C, StateMachine>,
    txn: crate::state::Txn,
) -> BoxFuture<'static, PeerResponse> {
    let lost = Error::ConnectionLoss.code();
    if !raft.is_leader() {
        return ready(PeerResponse::Forward(Err(lost)));
    }
    let (responder, rx) = openraft::impls::ProgressResponder::complete_only();
    if raft.client_write_ff(txn, Some(responder)).await.is_err() {
        return ready(PeerResponse::Forward(Err(lost)));
    }
    async move {
        match rx.await {
            Ok(Ok(resp)) => PeerResponse::Forward(Ok((resp.log_id.index as Zxid, resp.data))),
            _ => PeerResponse::Forward(Err(lost)),
        }
    }
    .boxed()
}

/// While this member leads: make every configured observer a learner.
pub async fn leader_duties(raft: Raft<C, StateMachine>, peers: Vec<Peer>) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if !raft.is_leader() {
            continue;
        }
        let membership = raft.metrics().borrow_watched().membership_config.clone();
        for p in peers.iter().filter(|p| p.observer) {
            if membership.membership().get_node(&p.id).is_none() {
                let node = BasicNode {
                    addr: p.addr.clone(),
                };
                if let Err(e) = raft.add_learner(p.id, node, false).await {
                    tracing::info!("cannot add observer {} yet: {e}", p.id);
                }
            }
        }
    }
}
