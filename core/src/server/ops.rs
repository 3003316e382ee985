//! Request semantics at the edge of the state machine: which requests are
//! reads, how a write becomes a [`TxnOp`], how an applied result becomes a
//! wire reply, and how reads run (with their watches) under the core lock.

use crate::proto::{self, MultiOp, MultiReadOp, OpResult, Request, Response};
use crate::state::{read::ReadView, OpResult as StateOp, TxnOp, TxnResult};
use crate::types::{CreateMode, EventType, KeeperState, WatchedEvent};
use crate::watch::{WatchKind, WatcherType};
use crate::Error;

use super::conn::ConnCtx;
use crate::state::ZkState;
use crate::watch::WatchRegistry;

/// How to shape the reply of a write.
#[derive(Debug, Clone)]
pub enum WriteKind {
    Create,
    /// create2, createContainer, createTTL: path and Stat.
    Create2,
    Delete,
    SetData,
    SetAcl,
    Check,
    /// The opcode of each op, to shape each result.
    Multi(Vec<i32>),
    CloseSession,
}

pub fn is_read(req: &Request) -> bool {
    matches!(
        req,
        Request::Exists(_)
            | Request::GetData(_)
            | Request::GetAcl(_)
            | Request::GetChildren(_)
            | Request::GetChildren2(_)
            | Request::GetAllChildrenNumber(_)
            | Request::GetEphemerals(_)
            | Request::MultiRead(_)
            | Request::WhoAmI
            | Request::AddWatch(_)
            | Request::CheckWatches(_)
            | Request::RemoveWatches(_)
            | Request::SetWatches(_)
            | Request::SetWatches2(_)
    )
}

fn create_op(r: proto::CreateRequest, ttl: i64) -> TxnOp {
    TxnOp::Create {
        path: r.path,
        data: r.data,
        acl: r.acl,
        flags: r.flags,
        ttl,
    }
}

/// TTL modes need `extendedTypesEnabled`, as in ZooKeeper (Unimplemented).
fn check_mode(flags: i32, extended: bool) -> Result<(), Error> {
    match CreateMode::from_flag(flags) {
        Some(m) if m.is_ttl() && !extended => Err(Error::Unimplemented),
        Some(_) => Ok(()),
        None => Err(Error::BadArguments),
    }
}

fn multi_op(op: MultiOp, extended: bool) -> Result<(TxnOp, i32), Error> {
    let code = op.op_type();
    let txn = match op {
        MultiOp::Create(r) | MultiOp::Create2(r) => {
            check_mode(r.flags, extended)?;
            create_op(r, -1)
        }
        MultiOp::CreateContainer(r) => create_op(r, -1),
        MultiOp::CreateTTL(r) => {
            check_mode(r.flags, extended)?;
            TxnOp::Create {
                path: r.path,
                data: r.data,
                acl: r.acl,
                flags: r.flags,
                ttl: r.ttl,
            }
        }
        MultiOp::Delete(r) => TxnOp::Delete {
            path: r.path,
            version: r.version,
        },
        MultiOp::SetData(r) => TxnOp::SetData {
            path: r.path,
            data: r.data,
            version: r.version,
        },
        MultiOp::Check(r) => TxnOp::Check {
            path: r.path,
            version: r.version,
        },
    };
    Ok((txn, code))
}

/// Turns a write request into what the log carries.
pub fn to_txn(req: Request, extended: bool) -> Result<(TxnOp, WriteKind), Error> {
    Ok(match req {
        Request::Create(r) => {
            check_mode(r.flags, extended)?;
            (create_op(r, -1), WriteKind::Create)
        }
        Request::Create2(r) => {
            check_mode(r.flags, extended)?;
            (create_op(r, -1), WriteKind::Create2)
        }
        Request::CreateContainer(r) => {
            if r.flags != CreateMode::Container.flag() {
                return Err(Error::BadArguments);
            }
            (create_op(r, -1), WriteKind::Create2)
        }
        Request::CreateTTL(r) => {
            check_mode(r.flags, extended)?;
            let op = TxnOp::Create {
                path: r.path,
                data: r.data,
                acl: r.acl,
                flags: r.flags,
                ttl: r.ttl,
            };
            (op, WriteKind::Create2)
        }
        Request::Delete(r) => (
            TxnOp::Delete {
                path: r.path,
                version: r.version,
            },
            WriteKind::Delete,
        ),
        Request::DeleteContainer(path) => (TxnOp::ReapNode { path }, WriteKind::Delete),
        Request::SetData(r) => (
            TxnOp::SetData {
                path: r.path,
                data: r.data,
                version: r.version,
            },
            WriteKind::SetData,
        ),
        Request::SetAcl(r) => (
            TxnOp::SetAcl {
                path: r.path,
                acl: r.acl,
                version: r.version,
            },
            WriteKind::SetAcl,
        ),
        Request::Check(r) => (
            TxnOp::Check {
                path: r.path,
                version: r.version,
            },
            WriteKind::Check,
        ),
        Request::Multi(ops) => {
            let mut txns = Vec::with_capacity(ops.len());
            let mut codes = Vec::with_capacity(ops.len());
            for op in ops {
                let (t, c) = multi_op(op, extended)?;
                txns.push(t);
                codes.push(c);
            }
            (TxnOp::Multi(txns), WriteKind::Multi(codes))
        }
        Request::CloseSession => (TxnOp::CloseSession, WriteKind::CloseSession),
        _ => return Err(Error::Unimplemented),
    })
}

/// The reply header err and body for an applied write.
pub fn write_reply(kind: &WriteKind, result: TxnResult) -> (i32, Response) {
    let resp = match (kind, result) {
        (_, TxnResult::Failed(code)) => return (code, Response::Empty),
        (WriteKind::Create, TxnResult::Create { path, .. }) => {
            Response::Create(proto::CreateResponse { path })
        }
        (WriteKind::Create2, TxnResult::Create { path, stat }) => {
            Response::Create2(proto::Create2Response { path, stat })
        }
        (WriteKind::SetData, TxnResult::SetData { stat }) => {
            Response::SetData(proto::SetDataResponse { stat })
        }
        (WriteKind::SetAcl, TxnResult::SetAcl { stat }) => {
            Response::SetAcl(proto::SetACLResponse { stat })
        }
        (WriteKind::Multi(codes), TxnResult::Multi(results)) => Response::Multi(
            results
                .into_iter()
                .zip(codes)
                .map(|(r, c)| multi_result(r, *c))
                .collect(),
        ),
        _ => Response::Empty,
    };
    (0, resp)
}

fn multi_result(r: StateOp, code: i32) -> OpResult {
    match r {
        StateOp::Create { path, stat } => {
            let stat = (code != proto::op::CREATE).then_some(stat);
            OpResult::Create { path, stat }
        }
        StateOp::Delete => OpResult::Delete,
        StateOp::SetData { stat } => OpResult::SetData { stat },
        StateOp::Check => OpResult::Check,
        StateOp::Error(err) => OpResult::Error { err },
    }
}

/// A read's reply, plus events SetWatches owes the client right away.
pub struct ReadOut {
    pub err: i32,
    pub resp: Response,
    pub immediate: Vec<WatchedEvent>,
}

fn event(path: &str, event_type: EventType) -> WatchedEvent {
    WatchedEvent {
        event_type,
        state: KeeperState::SyncConnected,
        path: path.to_string(),
    }
}

fn done(r: Result<Response, Error>) -> ReadOut {
    match r {
        Ok(resp) => ReadOut {
            err: 0,
            resp,
            immediate: Vec::new(),
        },
        Err(e) => ReadOut {
            err: e.code(),
            resp: Response::Empty,
            immediate: Vec::new(),
        },
    }
}

/// Runs a read against the applied state, registering its watch (the
/// member calls this in the critical section that also applies entries).
pub fn read(state: &ZkState, watches: &mut WatchRegistry, ctx: &ConnCtx, req: Request) -> ReadOut {
    let view = ReadView {
        state,
        auth: &ctx.auth,
        super_user: ctx.super_user,
    };
    let conn = ctx.id;
    match req {
        Request::Exists(r) => {
            let res = view.exists(&r.path);
            // ZooKeeper keeps an exists watch even when the node is missing.
            if r.watch && matches!(res, Ok(_) | Err(Error::NoNode)) {
                watches.add(&r.path, conn, WatchKind::Data);
            }
            done(res.map(|stat| Response::Exists(proto::ExistsResponse { stat })))
        }
        Request::GetData(r) => {
            let res = view.get_data(&r.path);
            if r.watch && res.is_ok() {
                watches.add(&r.path, conn, WatchKind::Data);
            }
            done(res.map(|(data, stat)| {
                Response::GetData(proto::GetDataResponse {
                    data: data.map(|d| d.to_vec()),
                    stat,
                })
            }))
        }
        Request::GetChildren(r) => {
            let res = view.get_children(&r.path);
            if r.watch && res.is_ok() {
                watches.add(&r.path, conn, WatchKind::Child);
            }
            done(res.map(|(children, _)| {
                Response::GetChildren(proto::GetChildrenResponse { children })
            }))
        }
        Request::GetChildren2(r) => {
            let res = view.get_children(&r.path);
            if r.watch && res.is_ok() {
                watches.add(&r.path, conn, WatchKind::Child);
            }
            done(res.map(|(children, stat)| {
                Response::GetChildren2(proto::GetChildren2Response { children, stat })
            }))
        }
        Request::GetAcl(r) => done(
            view.get_acl(&r.path)
                .map(|(acl, stat)| Response::GetAcl(proto::GetACLResponse { acl, stat })),
        ),
        Request::GetAllChildrenNumber(r) => done(view.all_children_number(&r.path).map(|n| {
            Response::GetAllChildrenNumber(proto::GetAllChildrenNumberResponse {
                total_number: n as i32,
            })
        })),
        Request::GetEphemerals(r) => {
            let ephemerals = view.ephemerals(ctx.session, &r.prefix_path);
            done(Ok(Response::GetEphemerals(proto::GetEphemeralsResponse {
                ephemerals,
            })))
        }
        Request::MultiRead(ops) => {
            let results = ops
                .into_iter()
                .map(|op| multi_read(&view, watches, conn, op))
                .collect();
            done(Ok(Response::Multi(results)))
        }
        Request::WhoAmI => {
            let client_info = ctx
                .auth
                .iter()
                .map(|id| proto::ClientInfo {
                    auth_scheme: id.scheme.clone(),
                    user: id.id.clone(),
                })
                .collect();
            done(Ok(Response::WhoAmI(proto::WhoAmIResponse { client_info })))
        }
        Request::AddWatch(r) => match WatchKind::from_add_watch_mode(r.mode) {
            Some(kind) => {
                watches.add(&r.path, conn, kind);
                done(Ok(Response::Error(proto::ErrorResponse { err: 0 })))
            }
            None => done(Err(Error::BadArguments)),
        },
        Request::CheckWatches(r) => match WatcherType::from_code(r.type_) {
            Some(t) if watches.contains(&r.path, conn, t) => done(Ok(Response::Empty)),
            Some(_) => done(Err(Error::NoWatcher)),
            None => done(Err(Error::BadArguments)),
        },
        Request::RemoveWatches(r) => match WatcherType::from_code(r.type_) {
            Some(t) if watches.remove(&r.path, conn, t) => done(Ok(Response::Empty)),
            Some(_) => done(Err(Error::NoWatcher)),
            None => done(Err(Error::BadArguments)),
        },
        Request::SetWatches(w) => {
            let lists = [
                w.data_watches,
                w.exist_watches,
                w.child_watches,
                vec![],
                vec![],
            ];
            set_watches(state, watches, conn, w.relative_zxid, lists)
        }
        Request::SetWatches2(w) => {
            let lists = [
                w.data_watches,
                w.exist_watches,
                w.child_watches,
                w.persistent_watches,
                w.persistent_recursive_watches,
            ];
            set_watches(state, watches, conn, w.relative_zxid, lists)
        }
        _ => done(Err(Error::Unimplemented)),
    }
}

fn multi_read(
    view: &ReadView,
    watches: &mut crate::watch::WatchRegistry,
    conn: u64,
    op: MultiReadOp,
) -> OpResult {
    let res = match op {
        MultiReadOp::GetData(r) => view.get_data(&r.path).map(|(data, stat)| {
            if r.watch {
                watches.add(&r.path, conn, WatchKind::Data);
            }
            OpResult::GetData {
                data: data.map(|d| d.to_vec()),
                stat,
            }
        }),
        MultiReadOp::GetChildren(r) => view.get_children(&r.path).map(|(children, _)| {
            if r.watch {
                watches.add(&r.path, conn, WatchKind::Child);
            }
            OpResult::GetChildren { children }
        }),
    };
    res.unwrap_or_else(|e| OpResult::Error { err: e.code() })
}

/// Re-registers a reconnecting client's watches (ZooKeeper's
/// DataTree.setWatches): what changed since `rel_zxid` fires at once.
fn set_watches(
    state: &crate::state::ZkState,
    watches: &mut crate::watch::WatchRegistry,
    conn: u64,
    rel_zxid: i64,
    [data, exist, child, persistent, recursive]: [Vec<String>; 5],
) -> ReadOut {
    let mut immediate = Vec::new();
    for path in data {
        match state.tree.stat(&path) {
            None => immediate.push(event(&path, EventType::NodeDeleted)),
            Some(s) if s.mzxid > rel_zxid => {
                immediate.push(event(&path, EventType::NodeDataChanged))
            }
            Some(_) => {
                watches.add(&path, conn, WatchKind::Data);
            }
        }
    }
    for path in exist {
        if state.tree.stat(&path).is_some() {
            immediate.push(event(&path, EventType::NodeCreated));
        } else {
            watches.add(&path, conn, WatchKind::Data);
        }
    }
    for path in child {
        match state.tree.stat(&path) {
            None => immediate.push(event(&path, EventType::NodeDeleted)),
            Some(s) if s.pzxid > rel_zxid => {
                immediate.push(event(&path, EventType::NodeChildrenChanged))
            }
            Some(_) => {
                watches.add(&path, conn, WatchKind::Child);
            }
        }
    }
    for path in persistent {
        watches.add(&path, conn, WatchKind::Persistent);
    }
    for path in recursive {
        watches.add(&path, conn, WatchKind::PersistentRecursive);
    }
    ReadOut {
        err: 0,
        resp: Response::Empty,
        immediate,
    }
}
