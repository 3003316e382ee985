//! openraft's network over the peer protocol: each target is reached by
//! the address in its membership entry (`BasicNode::addr`, the peer port).

use std::future::Future;
use std::sync::Arc;

use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::type_config::alias::{SnapshotOf, VoteOf};
use openraft::{BasicNode, OptionalSend};

use super::peer::{PeerClient, PeerPool, PeerRequest, PeerResponse};
use super::state_machine::SnapshotData;
use super::{LogStore, TypeConfig};

type C = TypeConfig;

/// Least time given to an append that carries entries.
const APPEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

#[derive(Clone)]
pub struct Network {
    pool: Arc<PeerPool>,
    log: LogStore,
}

impl Network {
    /// Appends carry entries as `log` stored them, where it still has them.
    pub fn new(pool: Arc<PeerPool>, log: LogStore) -> Network {
        Network { pool, log }
    }
}

pub struct Link {
    client: Arc<PeerClient>,
    log: LogStore,
}

impl RaftNetworkFactory<C> for Network {
    type Network = Link;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Link {
        // Membership nodes carry ZooKeeper's server spec; dial its peer port.
        let addr = self
            .pool
            .addr_of(target, node)
            .unwrap_or_else(|| node.addr.clone());
        Link {
            client: self.pool.client(&addr),
            log: self.log.clone(),
        }
    }
}

fn rpc_err(e: String) -> RPCError<C> {
    if e.starts_with("connect ") {
        RPCError::Unreachable(Unreachable::from_string(e))
    } else {
        RPCError::Network(NetworkError::from_string(e))
    }
}

fn unexpected<T>() -> Result<T, RPCError<C>> {
    Err(RPCError::Network(NetworkError::from_string(
        "unexpected peer reply",
    )))
}

impl Link {
    async fn vote_call(
        &mut self,
        req: PeerRequest,
        option: RPCOption,
    ) -> Result<VoteResponse<C>, RPCError<C>> {
        match self
            .client
            .call(&req, option.hard_ttl())
            .await
            .map_err(rpc_err)?
        {
            PeerResponse::Vote(r) => r.map_err(|e| RPCError::Network(NetworkError::from_string(e))),
            _ => unexpected(),
        }
    }
}

impl RaftNetworkV2<C> for Link {
    type SnapshotData = SnapshotData;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<C>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<C>, RPCError<C>> {
        // openraft gives every append one heartbeat of time; an append that
        // carries entries (up to jute.maxbuffer each, fsynced on arrival)
        // gets longer, or large writes would never replicate.
        let timeout = match rpc.entries.is_empty() {
            true => option.hard_ttl(),
            false => option.hard_ttl().max(APPEND_TIMEOUT),
        };
        let stored = self.log.encoded(&rpc.entries);
        let body = super::wire::encode_append(&rpc, &stored)
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        match self
            .client
            .call_body(body, timeout)
            .await
            .map_err(rpc_err)?
        {
            PeerResponse::Append(r) => {
                r.map_err(|e| RPCError::Network(NetworkError::from_string(e)))
            }
            _ => unexpected(),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<C>,
        option: RPCOption,
    ) -> Result<VoteResponse<C>, RPCError<C>> {
        self.vote_call(PeerRequest::Vote(rpc), option).await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<C>,
        option: RPCOption,
    ) -> Result<VoteResponse<C>, RPCError<C>> {
        self.vote_call(PeerRequest::PreVote(rpc), option).await
    }

    async fn full_snapshot(
        &mut self,
        vote: VoteOf<C>,
        snapshot: SnapshotOf<C, Self::SnapshotData>,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<C>, StreamingError<C>> {
        let data = match snapshot.snapshot {
            SnapshotData::Encoded(bytes) => bytes,
            file => tokio::task::spawn_blocking(move || file.into_encoded())
                .await
                .map_err(|e| StreamingError::Unreachable(Unreachable::from_string(e)))?
                .map_err(|e| StreamingError::Unreachable(Unreachable::from_string(e)))?,
        };
        let req = PeerRequest::Snapshot {
            vote,
            meta: snapshot.meta,
            data,
        };
        let call = self.client.call(&req, option.hard_ttl());
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            r = call => match r {
                Ok(PeerResponse::Snapshot(Ok(resp))) => Ok(resp),
                Ok(PeerResponse::Snapshot(Err(e))) => Err(StreamingError::Unreachable(Unreachable::from_string(e))),
                Ok(_) => Err(StreamingError::Unreachable(Unreachable::from_string("unexpected peer reply"))),
                Err(e) => Err(StreamingError::Unreachable(Unreachable::from_string(e))),
            },
        }
    }
}
