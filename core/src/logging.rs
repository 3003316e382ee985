//! Logs of embedded members and clients for the host program: the core
//! logs with `tracing`; [`set_sink`] installs (once per process) a global
//! subscriber that hands each event at or above a level to one sink, which
//! the bindings point at Python `logging`, a Node callback or a C callback.
//! The `zkrs` binary installs its own formatter instead (`ZKRS_LOG`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::Error;

/// One log event: level (1 error .. 5 trace), module path and text with
/// its fields (`message key=value ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub level: u8,
    pub target: String,
    pub message: String,
}

pub type Sink = Arc<dyn Fn(Record) + Send + Sync>;

/// 0 = off, else the most verbose level passed on (1 error .. 5 trace).
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

fn number(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Sends events up to `max_level` (1 error .. 5 trace; 0 turns logging
/// off) to `sink`, replacing the previous sink. Fails if the process
/// already has another global `tracing` subscriber.
pub fn set_sink(max_level: u8, sink: Option<Sink>) -> Result<(), Error> {
    let installed = INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(Forward);
        tracing::subscriber::set_global_default(subscriber).map_err(|e| e.to_string())
    });
    if let Err(e) = installed {
        return Err(Error::Io(format!("cannot route zkrs logs: {e}")));
    }
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
    MAX_LEVEL.store(max_level.min(5), Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
    Ok(())
}

/// The level filter alone (the sink stays).
pub fn set_level(max_level: u8) {
    MAX_LEVEL.store(max_level.min(5), Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
}

struct Forward;

/// The consensus and log libraries under the core: at info they log a
/// line per internal step (a log cache's bookkeeping on every flush, a
/// line per 64 entries replayed), so only their warnings pass unless
/// debug is asked for, as in the `zkrs` binary's default filter.
pub const QUIET_BELOW_DEBUG: [&str; 3] = ["openraft", "raft_log", "chunked_wal"];

/// The most verbose level passed on for events from `target`.
fn max_level_for(target: &str, max_level: u8) -> u8 {
    let crate_name = target.split("::").next().unwrap_or(target);
    match QUIET_BELOW_DEBUG.contains(&crate_name) && max_level < 4 {
        true => max_level.min(2),
        false => max_level,
    }
}

impl<S: Subscriber> Layer<S> for Forward {
    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        let max = max_level_for(meta.target(), MAX_LEVEL.load(Ordering::Relaxed));
        number(meta.level()) <= max
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(sink) = sink else { return };
        let mut text = Text(String::new());
        event.record(&mut text);
        sink(Record {
            level: number(event.metadata().level()),
            target: event.metadata().target().to_string(),
            message: text.0,
        });
    }
}

/// `message` first, then the other fields as `key=value`.
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}{rest}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value}{rest}");
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn events_up_to_the_level_reach_the_sink() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        set_sink(3, Some(Arc::new(move |r| g.lock().unwrap().push(r)))).unwrap();
        tracing::info!(peer = "a", "hello {}", 1);
        tracing::debug!("too verbose");
        tracing::info!(target: "raft_log::cache", "library step");
        tracing::warn!(target: "openraft::core", "library warning");
        set_level(4);
        tracing::debug!("now wanted");
        tracing::debug!(target: "chunked_wal::flush", "library detail");
        set_sink(0, None).unwrap();
        tracing::error!("off");
        let got = got.lock().unwrap();
        let texts: Vec<&str> = got.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "hello 1 peer=a",
                "library warning",
                "now wanted",
                "library detail"
            ]
        );
        assert_eq!(got[0].level, 3);
        assert!(got[0].target.starts_with("zkrs::logging"));
    }
}
