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

/// An in-process ensemble, driven from any thread.
pub struct Ensemble {
    inner: Option<super::Ensemble>,
    connect: String,
}

impl Ensemble {
    pub fn start(opts: super::EnsembleOptions) -> Result<Ensemble, Error> {
        let inner = crate::runtime::block_on(super::Ensemble::start(opts))?;
        let connect = inner.connect_string();
        Ok(Ensemble {
            inner: Some(inner),
            connect,
        })
    }

    /// Every member's client address, comma-separated.
    pub fn connect_string(&self) -> &str {
        &self.connect
    }

    /// Stops member `i` (0-based); its data stays.
    pub fn stop_member(&mut self, i: usize) -> Result<(), Error> {
        match self.inner.as_mut() {
            Some(e) => crate::runtime::block_on(e.stop_member(i)),
            None => Err(Error::BadArguments),
        }
    }

    /// Starts member `i` again and waits until the ensemble serves.
    pub fn start_member(&mut self, i: usize) -> Result<(), Error> {
        match self.inner.as_mut() {
            Some(e) => crate::runtime::block_on(async {
                e.start_member(i).await?;
                e.wait_serving(std::time::Duration::from_secs(30)).await
            }),
            None => Err(Error::BadArguments),
        }
    }

    /// Cuts member `i` off from the others (see `Ensemble::isolate_member`).
    pub fn isolate_member(&self, i: usize) -> Result<(), Error> {
        match self.inner.as_ref() {
            Some(e) => crate::runtime::block_on(e.isolate_member(i)),
            None => Err(Error::BadArguments),
        }
    }

    /// Ends `isolate_member(i)`.
    pub fn heal_member(&self, i: usize) -> Result<(), Error> {
        match self.inner.as_ref() {
            Some(e) => crate::runtime::block_on(e.heal_member(i)),
            None => Err(Error::BadArguments),
        }
    }

    /// Index of the current leader.
    pub fn leader(&self) -> Option<usize> {
        self.inner.as_ref().and_then(|e| e.leader())
    }

    pub fn stop(&mut self) {
        if let Some(e) = self.inner.take() {
            crate::runtime::block_on(e.stop());
        }
    }
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        self.stop();
    }
}
