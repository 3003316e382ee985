//! kazoo's `KazooRetry`: which failures are worth another try and how long
//! to wait before it (exponential backoff with jitter, a cap, a count and
//! a deadline). [`RetryPolicy::run`] retries an async operation; the
//! bindings ask [`RetryPolicy::retriable`] and [`RetryPolicy::delay`] to
//! retry a call of their own language.

use std::future::Future;
use std::time::Duration;

use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included; `None` tries until the deadline.
    pub max_tries: Option<u32>,
    /// Wait before the second try.
    pub delay: Duration,
    /// Each later wait is the previous one times this.
    pub backoff: f64,
    /// Each wait is scaled by a random factor in [1 - j, 1 + j].
    pub max_jitter: f64,
    /// No wait is longer than this.
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first try.
    pub deadline: Option<Duration>,
    /// Retry SessionExpired too (worth it only if something opens a new
    /// session meanwhile).
    pub ignore_expire: bool,
}

impl Default for RetryPolicy {
    /// kazoo's defaults.
    fn default() -> Self {
        RetryPolicy {
            max_tries: Some(1),
            delay: Duration::from_millis(100),
            backoff: 2.0,
            max_jitter: 0.4,
            max_delay: Duration::from_secs(60),
            deadline: None,
            ignore_expire: false,
        }
    }
}

impl RetryPolicy {
    /// A lost connection or a timeout: the operation may succeed later.
    pub fn retriable(&self, e: &Error) -> bool {
        matches!(e, Error::ConnectionLoss | Error::OperationTimeout)
            || (self.ignore_expire && *e == Error::SessionExpired)
    }

    /// How long to wait after failed try number `tries` (1 = the first),
    /// `elapsed` after the first started; `None` to give up.
    pub fn delay(&self, tries: u32, elapsed: Duration) -> Option<Duration> {
        if self.max_tries.is_some_and(|max| tries >= max) {
            return None;
        }
        let base = self.delay.as_secs_f64() * self.backoff.max(1.0).powi(tries as i32 - 1);
        let jitter = 1.0 + self.max_jitter.clamp(0.0, 1.0) * (2.0 * rand::random::<f64>() - 1.0);
        let wait = Duration::from_secs_f64((base * jitter).min(self.max_delay.as_secs_f64()));
        match self.deadline {
            Some(d) if elapsed + wait > d => None,
            _ => Some(wait),
        }
    }

    /// Runs `op` until it succeeds, fails for good, or the policy gives up
    /// (then the last error).
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let started = tokio::time::Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            match op().await {
                Err(e) if self.retriable(&e) => match self.delay(tries, started.elapsed()) {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => return Err(e),
                },
                done => return done,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_with_a_cap_and_stops_at_max_tries() {
        let p = RetryPolicy {
            max_tries: Some(4),
            max_jitter: 0.0,
            max_delay: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        let waits: Vec<_> = (1..=4).map(|t| p.delay(t, Duration::ZERO)).collect();
        let ms = |v: u64| Some(Duration::from_millis(v));
        assert_eq!(waits, vec![ms(100), ms(200), ms(300), None]);
        let late = RetryPolicy {
            max_tries: None,
            deadline: Some(Duration::from_secs(1)),
            ..p
        };
        assert_eq!(late.delay(9, Duration::from_millis(900)), None);
        assert!(p.retriable(&Error::ConnectionLoss));
        assert!(!p.retriable(&Error::NoNode));
        assert!(!p.retriable(&Error::SessionExpired));
    }

    #[tokio::test]
    async fn run_retries_only_what_can_heal() {
        let p = RetryPolicy {
            max_tries: Some(3),
            delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let mut calls = 0;
        let r: Result<u8, Error> = p
            .run(|| {
                calls += 1;
                let n = calls;
                async move {
                    if n < 3 {
                        Err(Error::ConnectionLoss)
                    } else {
                        Ok(7)
                    }
                }
            })
            .await;
        assert_eq!((r, calls), (Ok(7), 3));
        let mut calls = 0;
        let r: Result<u8, Error> = p
            .run(|| {
                calls += 1;
                async { Err(Error::NoNode) }
            })
            .await;
        assert_eq!((r, calls), (Err(Error::NoNode), 1));
    }
}
