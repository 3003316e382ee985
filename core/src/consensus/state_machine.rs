//! openraft's state machine traits over the member's [`Applier`]. Snapshots
//! are exact at their last log index: the applier hands over a copy-on-write
//! clone of the state, which is encoded off the apply path and written to a
//! checksummed file; old files beyond the retain count are purged.

use std::io::{self, Cursor};
use std::sync::{Arc, Mutex};

use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::type_config::alias::{LogIdOf, SnapshotMetaOf, SnapshotOf, StoredMembershipOf};
use openraft::{EntryPayload, OptionalSend};
use serde::{Deserialize, Serialize};

use super::forward::Outbox;
use super::log_store::{decode, encode_any};
use super::{Applier, StorageOptions, TypeConfig};
use crate::state::ZkState;
use crate::storage::SnapshotStore;
use crate::types::Zxid;
use crate::Error;

type C = TypeConfig;

#[derive(Serialize, Deserialize)]
struct SnapshotBody {
    meta: SnapshotMetaOf<C>,
    /// As bytes, not a sequence of u8: the same encoding, decoded in one
    /// copy instead of one call per byte.
    #[serde(with = "serde_bytes")]
    state: Vec<u8>,
}

struct Progress {
    last_applied: Option<LogIdOf<C>>,
    membership: StoredMembershipOf<C>,
}

/// The state machine handle openraft drives.
#[derive(Clone)]
pub struct StateMachine {
    applier: Arc<dyn Applier>,
    /// This member's forwarded writes, answered from the apply if their
    /// leader's reply was lost.
    outbox: Arc<Outbox>,
    progress: Arc<Mutex<Progress>>,
    snapshots: SnapshotStore,
    retain: usize,
}

impl StateMachine {
    /// Opens the snapshot directory and restores the newest snapshot into
    /// the applier; openraft then replays the log after it.
    pub(crate) fn open(
        opts: &StorageOptions,
        applier: Arc<dyn Applier>,
        outbox: Arc<Outbox>,
    ) -> Result<StateMachine, Error> {
        let snapshots = SnapshotStore::open(&opts.snapshot_dir)?;
        let mut progress = Progress {
            last_applied: None,
            membership: Default::default(),
        };
        if let Some((file, raw)) = snapshots.latest()? {
            let body: SnapshotBody = decode(&raw)?;
            let state: ZkState = decode(&body.state)?;
            tracing::info!(
                "restored snapshot {} (zxid {:#x})",
                file.path.display(),
                state.last_zxid
            );
            applier.restore(state);
            progress.last_applied = body.meta.last_log_id;
            progress.membership = body.meta.last_membership.clone();
        }
        Ok(StateMachine {
            applier,
            outbox,
            progress: Arc::new(Mutex::new(progress)),
            snapshots,
            retain: opts.snap_retain_count.max(1),
        })
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl RaftSnapshotBuilder<C> for StateMachine {
    type SnapshotData = Cursor<Vec<u8>>;

    async fn build_snapshot(&mut self) -> Result<SnapshotOf<C, Cursor<Vec<u8>>>, io::Error> {
        // The progress lock is held while cloning so the meta and the state
        // describe the same log index.
        let (meta, state) = {
            let p = self.progress();
            let meta = SnapshotMetaOf::<C> {
                last_log_id: p.last_applied,
                last_membership: p.membership.clone(),
            };
            (meta, self.applier.snapshot())
        };
        let store = self.snapshots.clone();
        let retain = self.retain;
        let meta2 = meta.clone();
        let state_bytes = tokio::task::spawn_blocking(move || -> io::Result<Vec<u8>> {
            let state_bytes = encode_any(&state)?;
            let body = SnapshotBody {
                meta: meta2.clone(),
                state: state_bytes.clone(),
            };
            let index = meta2.last_log_id.as_ref().map(|l| l.index).unwrap_or(0);
            store.save(index, &encode_any(&body)?)?;
            store.purge(retain)?;
            Ok(state_bytes)
        })
        .await
        .map_err(io::Error::other)??;
        Ok(SnapshotOf::<C, _> {
            meta,
            snapshot: Cursor::new(state_bytes),
        })
    }
}

impl RaftStateMachine<C> for StateMachine {
    type SnapshotData = Cursor<Vec<u8>>;
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogIdOf<C>>, StoredMembershipOf<C>), io::Error> {
        let p = self.progress();
        Ok((p.last_applied, p.membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<C>, io::Error>> + Unpin + OptionalSend,
    {
        while let Some((entry, responder)) = entries.try_next().await? {
            let zxid = entry.log_id.index as Zxid;
            let mut p = self.progress();
            p.last_applied = Some(entry.log_id);
            let reply = match &entry.payload {
                EntryPayload::Normal(txn) => {
                    let result = self.applier.apply(zxid, entry.log_id.leader_id.term, txn);
                    self.outbox.applied(zxid, txn, &result);
                    Some(result)
                }
                EntryPayload::Membership(m) => {
                    p.membership = StoredMembershipOf::<C>::new(Some(entry.log_id), m.clone());
                    let voters: std::collections::BTreeSet<u64> = m.voter_ids().collect();
                    let members: Vec<(u64, String, bool)> = m
                        .nodes()
                        .map(|(id, n)| (*id, n.addr.clone(), voters.contains(id)))
                        .collect();
                    let text = super::config_text(&members, zxid);
                    if text.is_empty() {
                        self.applier.advance(zxid);
                    } else {
                        self.applier.config_changed(zxid, text);
                    }
                    None
                }
                EntryPayload::Blank => {
                    self.applier.advance(zxid);
                    None
                }
            };
            drop(p);
            if let Some(r) = responder {
                r.send(reply.unwrap_or(crate::state::TxnResult::Session));
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<C>,
        snapshot: Cursor<Vec<u8>>,
    ) -> Result<(), io::Error> {
        let bytes = snapshot.into_inner();
        let state: ZkState = decode(&bytes)?;
        let body = SnapshotBody {
            meta: meta.clone(),
            state: bytes,
        };
        let index = meta.last_log_id.as_ref().map(|l| l.index).unwrap_or(0);
        self.snapshots.save(index, &encode_any(&body)?)?;
        self.applier.restore(state);
        let mut p = self.progress();
        p.last_applied = meta.last_log_id;
        p.membership = meta.last_membership.clone();
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<SnapshotOf<C, Cursor<Vec<u8>>>>, io::Error> {
        let Some((_, raw)) = self.snapshots.latest()? else {
            return Ok(None);
        };
        let body: SnapshotBody = decode(&raw)?;
        Ok(Some(SnapshotOf::<C, _> {
            meta: body.meta,
            snapshot: Cursor::new(body.state),
        }))
    }
}
