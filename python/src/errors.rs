//! The exception hierarchy: one `ZkError` base and one subclass per
//! ZooKeeper error code, named as kazoo names them, so `except
//! NoNodeError` reads the same with either library. [`to_py`] is the one
//! place a core error becomes a Python exception. No other logic here.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;
use pyo3::{create_exception, PyTypeInfo};
use zkrs::Error;

create_exception!(
    zkrs,
    ZkError,
    PyException,
    "Base of every zkrs error; `code` is ZooKeeper's error number."
);

/// Declares the subclasses and the table of (code, class) used both to
/// register them and to set their `code` attribute.
macro_rules! zk_errors {
    ($( $code:expr => $name:ident ),* $(,)?) => {
        $( create_exception!(zkrs, $name, ZkError); )*

        fn classes(py: Python<'_>) -> Vec<(i32, &'static str, Bound<'_, PyType>)> {
            vec![$( ($code, stringify!($name), $name::type_object(py)) ),*]
        }
    };
}

zk_errors! {
    0 => RolledBackError,
    -1 => SystemZookeeperError,
    -2 => RuntimeInconsistency,
    -3 => DataInconsistency,
    -4 => ConnectionLoss,
    -5 => MarshallingError,
    -6 => UnimplementedError,
    -7 => OperationTimeoutError,
    -8 => BadArgumentsError,
    -12 => UnknownSessionError,
    -13 => NewConfigNoQuorumError,
    -14 => ReconfigInProcessError,
    -100 => APIError,
    -101 => NoNodeError,
    -102 => NoAuthError,
    -103 => BadVersionError,
    -108 => NoChildrenForEphemeralsError,
    -110 => NodeExistsError,
    -111 => NotEmptyError,
    -112 => SessionExpiredError,
    -113 => InvalidCallbackError,
    -114 => InvalidACLError,
    -115 => AuthFailedError,
    -118 => SessionMovedError,
    -119 => NotReadOnlyCallError,
    -120 => EphemeralOnLocalSessionError,
    -121 => NoWatcherError,
    -122 => RequestTimeoutError,
    -123 => ReconfigDisabledError,
    -124 => SessionClosedRequireSaslError,
    -125 => QuotaExceededError,
    -127 => ThrottledOpError,
}

// Local failures that have no ZooKeeper code of their own.
create_exception!(
    zkrs,
    ConfigurationError,
    ZkError,
    "A configuration key or value that cannot be used (code -1)."
);
create_exception!(
    zkrs,
    ConnectionClosedError,
    SessionExpiredError,
    "The client was stopped or closed (kazoo's name)."
);

create_exception!(
    zkrs,
    LockTimeout,
    ZkError,
    "A lock or lease was not acquired within its timeout (kazoo's name)."
);

create_exception!(
    zkrs,
    CancelledError,
    ZkError,
    "A waiting acquire was cancelled (kazoo's name)."
);

create_exception!(
    zkrs,
    RetryFailedError,
    ZkError,
    "A KazooRetry gave up: too many tries or past its deadline (kazoo's name)."
);

/// Adds every class to the module and gives each its `code`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = ZkError::type_object(py);
    base.setattr("code", -1)?;
    m.add("ZkError", base)?;
    for (code, name, class) in classes(py) {
        class.setattr("code", code)?;
        m.add(name, class)?;
    }
    let cfg = ConfigurationError::type_object(py);
    cfg.setattr("code", -1)?;
    m.add("ConfigurationError", cfg)?;
    m.add(
        "ConnectionClosedError",
        ConnectionClosedError::type_object(py),
    )?;
    for (name, class) in [
        ("RetryFailedError", RetryFailedError::type_object(py)),
        ("LockTimeout", LockTimeout::type_object(py)),
        ("CancelledError", CancelledError::type_object(py)),
    ] {
        class.setattr("code", -1)?;
        m.add(name, class)?;
    }
    Ok(())
}

/// The exception for a core error: one match on the error, nothing else.
pub fn to_py(err: Error) -> PyErr {
    let msg = err.to_string();
    match err {
        Error::SystemError | Error::Io(_) => SystemZookeeperError::new_err(msg),
        Error::RuntimeInconsistency => RuntimeInconsistency::new_err(msg),
        Error::DataInconsistency => DataInconsistency::new_err(msg),
        Error::ConnectionLoss => ConnectionLoss::new_err(msg),
        Error::MarshallingError => MarshallingError::new_err(msg),
        Error::Unimplemented => UnimplementedError::new_err(msg),
        Error::OperationTimeout => OperationTimeoutError::new_err(msg),
        Error::BadArguments => BadArgumentsError::new_err(msg),
        Error::UnknownSession => UnknownSessionError::new_err(msg),
        Error::NewConfigNoQuorum => NewConfigNoQuorumError::new_err(msg),
        Error::ReconfigInProgress => ReconfigInProcessError::new_err(msg),
        Error::ApiError => APIError::new_err(msg),
        Error::NoNode => NoNodeError::new_err(msg),
        Error::NoAuth => NoAuthError::new_err(msg),
        Error::BadVersion => BadVersionError::new_err(msg),
        Error::NoChildrenForEphemerals => NoChildrenForEphemeralsError::new_err(msg),
        Error::NodeExists => NodeExistsError::new_err(msg),
        Error::NotEmpty => NotEmptyError::new_err(msg),
        Error::SessionExpired => SessionExpiredError::new_err(msg),
        Error::InvalidCallback => InvalidCallbackError::new_err(msg),
        Error::InvalidAcl => InvalidACLError::new_err(msg),
        Error::AuthFailed => AuthFailedError::new_err(msg),
        Error::SessionMoved => SessionMovedError::new_err(msg),
        Error::NotReadOnly => NotReadOnlyCallError::new_err(msg),
        Error::EphemeralOnLocalSession => EphemeralOnLocalSessionError::new_err(msg),
        Error::NoWatcher => NoWatcherError::new_err(msg),
        Error::RequestTimeout => RequestTimeoutError::new_err(msg),
        Error::ReconfigDisabled => ReconfigDisabledError::new_err(msg),
        Error::SessionClosedRequireSaslAuth => SessionClosedRequireSaslError::new_err(msg),
        Error::QuotaExceeded => QuotaExceededError::new_err(msg),
        Error::ThrottledOp => ThrottledOpError::new_err(msg),
        Error::Config(_) => ConfigurationError::new_err(msg),
        Error::Other(code) => ZkError::new_err((msg, code)),
    }
}

/// The exception instance for a failed op inside a transaction (kazoo puts
/// instances, not raised exceptions, in the result list); `None` is a
/// rolled-back op (ZooKeeper reports it with code 0).
pub fn instance(py: Python<'_>, err: Option<Error>) -> Py<PyAny> {
    match err {
        None => RolledBackError::new_err("rolled back")
            .into_value(py)
            .into_any(),
        Some(e) => to_py(e).into_value(py).into_any(),
    }
}

/// `_error_for_code(code)`: the exception instance zkrs raises for a
/// ZooKeeper code (0 is RolledBackError). Lets tests check the whole
/// table, including codes no client call can provoke.
#[pyfunction]
pub fn _error_for_code(py: Python<'_>, code: i32) -> Py<PyAny> {
    instance(py, Error::from_code(code))
}

/// Maps a `Result` into a `PyResult`.
pub trait IntoPy<T> {
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Error> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
