//! Core values to Python values and back: Stat ↔ `ZnodeStat`,
//! `WatchedEvent` → kazoo's namedtuple with kazoo's strings, ACL lists,
//! session states → `KazooState` strings, Python callables → core
//! watchers. Pure translation.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};
use zkrs::client::{SessionState, Watcher, WatcherType};
use zkrs::{Acl, EventType, Id, KeeperState, Stat, WatchedEvent};

static ZNODE_STAT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static WATCHED_EVENT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ACL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ID: PyOnceLock<Py<PyType>> = PyOnceLock::new();

pub fn stat(py: Python<'_>, s: &Stat) -> PyResult<Py<PyAny>> {
    let class = ZNODE_STAT.import(py, "zkrs._types", "ZnodeStat")?;
    let fields = (
        s.czxid,
        s.mzxid,
        s.ctime,
        s.mtime,
        s.version,
        s.cversion,
        s.aversion,
        s.ephemeral_owner,
        s.data_length,
        s.num_children,
        s.pzxid,
    );
    Ok(class.call1(fields)?.unbind())
}

/// kazoo's EventType strings (`kazoo.protocol.states.EventType`); the
/// *WatchRemoved types, which kazoo never delivers, get names of their own.
fn event_type(t: EventType) -> &'static str {
    match t {
        EventType::None => "NONE",
        EventType::NodeCreated => "CREATED",
        EventType::NodeDeleted => "DELETED",
        EventType::NodeDataChanged => "CHANGED",
        EventType::NodeChildrenChanged => "CHILD",
        EventType::DataWatchRemoved => "DATA_WATCH_REMOVED",
        EventType::ChildWatchRemoved => "CHILD_WATCH_REMOVED",
        EventType::PersistentWatchRemoved => "PERSISTENT_WATCH_REMOVED",
    }
}

/// kazoo's KeeperState strings (`kazoo.protocol.states.KeeperState`).
fn keeper_state(s: KeeperState) -> &'static str {
    match s {
        KeeperState::Disconnected => "CONNECTING",
        KeeperState::SyncConnected | KeeperState::SaslAuthenticated => "CONNECTED",
        KeeperState::ConnectedReadOnly => "CONNECTED_RO",
        KeeperState::AuthFailed => "AUTH_FAILED",
        KeeperState::Expired => "EXPIRED_SESSION",
        KeeperState::Closed => "CLOSED",
    }
}

/// `KazooState` for a session state, as kazoo reports it to listeners.
pub fn kazoo_state(s: SessionState) -> &'static str {
    match s {
        SessionState::Connected | SessionState::ConnectedReadOnly => "CONNECTED",
        SessionState::Connecting | SessionState::Disconnected => "SUSPENDED",
        SessionState::Expired | SessionState::Closed | SessionState::AuthFailed => "LOST",
    }
}

pub fn event(py: Python<'_>, ev: &WatchedEvent) -> PyResult<Py<PyAny>> {
    let class = WATCHED_EVENT.import(py, "zkrs._types", "WatchedEvent")?;
    let args = (
        event_type(ev.event_type),
        keeper_state(ev.state),
        ev.path.as_str(),
    );
    Ok(class.call1(args)?.unbind())
}

/// A Python callable as a core watcher. It runs on the client's event
/// thread with the GIL taken for the call; an exception it raises is
/// reported through `sys.unraisablehook`, as for any callback.
pub fn watcher(py: Python<'_>, f: Py<PyAny>) -> PyResult<Watcher> {
    if !f.bind(py).is_callable() {
        return Err(PyTypeError::new_err("watch must be callable"));
    }
    Ok(Arc::new(move |ev: WatchedEvent| {
        Python::attach(|py| {
            let r = event(py, &ev).and_then(|e| f.call1(py, (e,)));
            if let Err(err) = r {
                err.write_unraisable(py, Some(f.bind(py)));
            }
        })
    }))
}

/// An ACL list from anything shaped like kazoo's `ACL(perms, Id(scheme,
/// id))`; `None` is world:anyone with every permission (kazoo's default).
pub fn acls(acl: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Acl>> {
    let Some(list) = acl else {
        return Ok(Acl::open_unsafe());
    };
    let mut out = Vec::new();
    for entry in list.try_iter()? {
        let entry = entry?;
        let id = entry.getattr("id")?;
        out.push(Acl {
            perms: entry.getattr("perms")?.extract()?,
            id: Id {
                scheme: id.getattr("scheme")?.extract()?,
                id: id.getattr("id")?.extract()?,
            },
        });
    }
    Ok(out)
}

pub fn acl_list<'py>(py: Python<'py>, acl: &[Acl]) -> PyResult<Bound<'py, PyList>> {
    let acl_class = ACL.import(py, "zkrs._types", "ACL")?;
    let id_class = ID.import(py, "zkrs._types", "Id")?;
    let mut items = Vec::with_capacity(acl.len());
    for a in acl {
        let id = id_class.call1((a.id.scheme.as_str(), a.id.id.as_str()))?;
        items.push(acl_class.call1((a.perms, id))?);
    }
    PyList::new(py, items)
}

pub fn watcher_type(name: &str) -> PyResult<WatcherType> {
    Ok(match name.to_ascii_uppercase().as_str() {
        "CHILDREN" => WatcherType::Children,
        "DATA" => WatcherType::Data,
        "ANY" => WatcherType::Any,
        "PERSISTENT" => WatcherType::Persistent,
        "PERSISTENT_RECURSIVE" => WatcherType::PersistentRecursive,
        _ => {
            return Err(PyValueError::new_err(format!(
            "unknown watcher type {name:?} (CHILDREN, DATA, ANY, PERSISTENT, PERSISTENT_RECURSIVE)"
        )))
        }
    })
}
