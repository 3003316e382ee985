//! `setLogger(callback, level)`: the core's logs (members and clients in
//! this process) handed to a JavaScript function on the JS thread.

use std::sync::Arc;

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use zkrs::logging::{self, Record};

/// One log record.
#[napi(object, object_from_js = false)]
pub struct LogRecord {
    /// 'error' | 'warn' | 'info' | 'debug' | 'trace'
    pub level: String,
    /// The Rust module that logged, e.g. 'zkrs::server::conn'.
    pub target: String,
    pub message: String,
}

/// Weak: a logger alone does not keep Node running.
type LogCallback = ThreadsafeFunction<LogRecord, (), LogRecord, Status, false, true>;

const LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

fn level_number(name: &str) -> Option<u8> {
    if name == "off" {
        return Some(0);
    }
    LEVELS.iter().position(|l| *l == name).map(|i| i as u8 + 1)
}

/// Calls `callback` with each log record at `level` ('info' by default;
/// 'off' stops) and more severe, replacing any earlier logger; `null`
/// stops logging. Records are queued to the JS thread: logging never
/// waits for JavaScript.
#[napi(
    ts_args_type = "callback: ((record: LogRecord) => void) | null, level?: 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'off'"
)]
pub fn set_logger(callback: Option<LogCallback>, level: Option<String>) -> napi::Result<()> {
    let name = level.unwrap_or_else(|| "info".into());
    let Some(max) = level_number(&name) else {
        return Err(napi::Error::from_reason(format!(
            "BADARGUMENTS: unknown log level '{name}'"
        )));
    };
    let sink = callback.map(|cb| {
        let cb = Arc::new(cb);
        Arc::new(move |r: Record| {
            let rec = LogRecord {
                level: LEVELS[(r.level.clamp(1, 5) - 1) as usize].to_string(),
                target: r.target,
                message: r.message,
            };
            cb.call(rec, ThreadsafeFunctionCallMode::NonBlocking);
        }) as logging::Sink
    });
    let max = if sink.is_some() { max } else { 0 };
    logging::set_sink(max, sink).map_err(|e| napi::Error::from_reason(format!("SYSTEMERROR: {e}")))
}
