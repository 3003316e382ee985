//! ZooKeeper errors as JavaScript `Error` objects. Each carries `code`, the
//! ZooKeeper code name as the official C client spells it without its `Z`
//! ('NONODE', 'NODEEXISTS', 'BADVERSION', ...), and `zkCode`, the number
//! (-101, -110, -103, ...). The message is the core error's text.

use napi::bindgen_prelude::{ToNapiValue, TypeName, Unknown};
use napi::{sys, ValueType};

/// The code name for an error; local failures (I/O, config) report
/// SYSTEMERROR as the core's numeric code does.
pub fn code_name(e: &zkrs::Error) -> &'static str {
    use zkrs::Error as E;
    match e {
        E::SystemError | E::Io(_) | E::Config(_) => "SYSTEMERROR",
        E::RuntimeInconsistency => "RUNTIMEINCONSISTENCY",
        E::DataInconsistency => "DATAINCONSISTENCY",
        E::ConnectionLoss => "CONNECTIONLOSS",
        E::MarshallingError => "MARSHALLINGERROR",
        E::Unimplemented => "UNIMPLEMENTED",
        E::OperationTimeout => "OPERATIONTIMEOUT",
        E::BadArguments => "BADARGUMENTS",
        E::UnknownSession => "UNKNOWNSESSION",
        E::NewConfigNoQuorum => "NEWCONFIGNOQUORUM",
        E::ReconfigInProgress => "RECONFIGINPROGRESS",
        E::ApiError => "APIERROR",
        E::NoNode => "NONODE",
        E::NoAuth => "NOAUTH",
        E::BadVersion => "BADVERSION",
        E::NoChildrenForEphemerals => "NOCHILDRENFOREPHEMERALS",
        E::NodeExists => "NODEEXISTS",
        E::NotEmpty => "NOTEMPTY",
        E::SessionExpired => "SESSIONEXPIRED",
        E::InvalidCallback => "INVALIDCALLBACK",
        E::InvalidAcl => "INVALIDACL",
        E::AuthFailed => "AUTHFAILED",
        E::SessionMoved => "SESSIONMOVED",
        E::NotReadOnly => "NOTREADONLY",
        E::EphemeralOnLocalSession => "EPHEMERALONLOCALSESSION",
        E::NoWatcher => "NOWATCHER",
        E::RequestTimeout => "REQUESTTIMEOUT",
        E::ReconfigDisabled => "RECONFIGDISABLED",
        E::SessionClosedRequireSaslAuth => "SESSIONCLOSEDREQUIRESASLAUTH",
        E::QuotaExceeded => "QUOTAEXCEEDED",
        E::ThrottledOp => "THROTTLEDOP",
        E::Other(_) => "UNKNOWN",
    }
}

/// A core error plus, for arguments rejected here, what was wrong.
#[derive(Debug)]
pub struct ZkError {
    pub err: zkrs::Error,
    pub detail: Option<String>,
}

impl From<zkrs::Error> for ZkError {
    fn from(err: zkrs::Error) -> Self {
        ZkError { err, detail: None }
    }
}

/// ZooKeeper's BadArguments for an argument that does not convert (an
/// unknown create mode, a malformed op).
pub fn bad_arguments(detail: impl Into<String>) -> ZkError {
    ZkError {
        err: zkrs::Error::BadArguments,
        detail: Some(detail.into()),
    }
}

/// The outcome of a core call, settled on the JS thread: `Ok` becomes the
/// Promise's value, `Err` its rejection with a ZooKeeper `Error`.
pub struct ZkResult<T>(pub Result<T, ZkError>);

impl<T> ZkResult<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ZkResult<U> {
        ZkResult(self.0.map(f))
    }
}

impl<T, E: Into<ZkError>> From<Result<T, E>> for ZkResult<T> {
    fn from(r: Result<T, E>) -> Self {
        ZkResult(r.map_err(Into::into))
    }
}

impl<T: TypeName> TypeName for ZkResult<T> {
    fn type_name() -> &'static str {
        T::type_name()
    }
    fn value_type() -> ValueType {
        T::value_type()
    }
}

impl<T: ToNapiValue> ToNapiValue for ZkResult<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val.0 {
            Ok(v) => T::to_napi_value(env, v),
            // A napi::Error made from a JS value rejects with that very
            // value, so the Promise gets our object with its extra field.
            Err(e) => Err(match js_error(env, &e) {
                Ok(obj) => napi::Error::from(Unknown::from_raw_unchecked(env, obj)),
                Err(fallback) => fallback,
            }),
        }
    }
}

/// Builds `new Error(message)` with `code` and `zkCode` set.
unsafe fn js_error(env: sys::napi_env, e: &ZkError) -> napi::Result<sys::napi_value> {
    let code = code_name(&e.err);
    let message = match &e.detail {
        Some(d) => format!("{}: {d}", e.err),
        None => e.err.to_string(),
    };
    let js_code = String::to_napi_value(env, code.to_string())?;
    let js_message = String::to_napi_value(env, message)?;
    let mut obj = std::ptr::null_mut();
    napi::check_status!(
        sys::napi_create_error(env, js_code, js_message, &mut obj),
        "cannot create an Error"
    )?;
    let zk_code = i32::to_napi_value(env, e.err.code())?;
    napi::check_status!(
        sys::napi_set_named_property(env, obj, c"zkCode".as_ptr(), zk_code),
        "cannot set zkCode"
    )?;
    Ok(obj)
}
