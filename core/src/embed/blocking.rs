//! [`Member`](super::Member) for callers without an async runtime. Every
//! call runs on the process-wide runtime (rebuilt after `fork()`), so C,
//! Python and Node threads can start and stop members freely.

use super::MemberOptions;
use crate::Error;

/// A running in-process member, driven from any thread.
pub struct Member {
    inner: Option<super::Member>,
    connect: String,
}

impl Member {
    pub fn start(opts: MemberOptions) -> Result<Member, Error> {
        let inner = crate::runtime::block_on(super::Member::start(opts))?;
        let connect = inner.connect_string();
        Ok(Member {
            inner: Some(inner),
            connect,
        })
    }

    pub fn from_zoo_cfg(text: &str) -> Result<Member, Error> {
        Member::start(MemberOptions {
            zoo_cfg: Some(text.to_string()),
            ..Default::default()
        })
    }

    pub fn connect_string(&self) -> &str {
        &self.connect
    }

    /// Stops the member; later calls are no-ops.
    pub fn stop(&mut self) {
        if let Some(m) = self.inner.take() {
            crate::runtime::block_on(m.stop());
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop();
    }
}
