//! ZooKeeper's `Summary` metrics (`mntr`'s avg_/min_/max_/cnt_/sum_ and
//! p50_/p95_/p99_/p999_ of a name) kept in fixed histogram buckets, which
//! the Prometheus endpoint exports as a histogram of the same name.
//! Lock-free: every request records into one.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bucket upper bounds, milliseconds (ZooKeeper's latencies are in ms).
pub const BUCKETS_MS: [f64; 16] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
    10000.0,
];

#[derive(Debug)]
pub struct Summary {
    count: AtomicU64,
    sum_us: AtomicU64,
    min_us: AtomicU64,
    max_us: AtomicU64,
    /// Per bucket (not cumulative); the last counts what is above them all.
    buckets: [AtomicU64; BUCKETS_MS.len() + 1],
}

impl Default for Summary {
    fn default() -> Summary {
        Summary {
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
            min_us: AtomicU64::new(u64::MAX),
            max_us: AtomicU64::new(0),
            buckets: Default::default(),
        }
    }
}

impl Summary {
    pub fn observe_us(&self, us: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
        self.min_us.fetch_min(us, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
        let ms = us as f64 / 1000.0;
        let i = BUCKETS_MS.partition_point(|b| *b < ms);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    /// A plain number rather than a time (ZooKeeper's watcher-count
    /// summaries), reported in the units the latencies use.
    pub fn observe_count(&self, n: u64) {
        self.observe_us(n.saturating_mul(1000));
    }

    /// `srst`: starts over.
    pub fn reset(&self) {
        self.count.store(0, Ordering::Relaxed);
        self.sum_us.store(0, Ordering::Relaxed);
        self.min_us.store(u64::MAX, Ordering::Relaxed);
        self.max_us.store(0, Ordering::Relaxed);
        for b in &self.buckets {
            b.store(0, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> SummarySnapshot {
        let count = self.count.load(Ordering::Relaxed);
        let min = self.min_us.load(Ordering::Relaxed);
        SummarySnapshot {
            count,
            sum_ms: self.sum_us.load(Ordering::Relaxed) as f64 / 1000.0,
            min_ms: if count == 0 { 0.0 } else { min as f64 / 1000.0 },
            max_ms: self.max_us.load(Ordering::Relaxed) as f64 / 1000.0,
            buckets: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
        }
    }
}

/// One reading of a [`Summary`].
#[derive(Debug, Clone, PartialEq)]
pub struct SummarySnapshot {
    pub count: u64,
    pub sum_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// Per bucket, as in [`Summary`].
    pub buckets: Vec<u64>,
}

impl SummarySnapshot {
    /// The q-quantile, to the bucket: the upper bound of the bucket that
    /// holds it, never above the largest value seen.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let bound = BUCKETS_MS.get(i).copied().unwrap_or(f64::INFINITY);
                return bound.min(self.max_ms);
            }
        }
        self.max_ms
    }

    /// (upper bound, count in that bucket alone), as a Prometheus encoder
    /// takes them; the last bound is `f64::MAX`, which it writes as +Inf.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        let bounds = BUCKETS_MS.iter().copied().chain([f64::MAX]);
        bounds.zip(self.buckets.iter().copied()).collect()
    }

    /// `mntr`'s lines for a summary called `name`, ZooKeeper's order:
    /// whole milliseconds except the average.
    pub fn mntr_pairs(&self, name: &str) -> Vec<(String, String)> {
        let avg = if self.count == 0 {
            0.0
        } else {
            self.sum_ms / self.count as f64
        };
        let ms = |v: f64| (v.round() as i64).to_string();
        vec![
            (
                format!("avg_{name}"),
                crate::fourlw::java_double((avg * 10.0).round() / 10.0),
            ),
            (format!("min_{name}"), ms(self.min_ms)),
            (format!("max_{name}"), ms(self.max_ms)),
            (format!("cnt_{name}"), self.count.to_string()),
            (format!("sum_{name}"), ms(self.sum_ms)),
            (format!("p50_{name}"), ms(self.quantile(0.5))),
            (format!("p95_{name}"), ms(self.quantile(0.95))),
            (format!("p99_{name}"), ms(self.quantile(0.99))),
            (format!("p999_{name}"), ms(self.quantile(0.999))),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_fall_in_the_right_bucket() {
        let s = Summary::default();
        for _ in 0..90 {
            s.observe_us(800); // 0.8 ms: the 1 ms bucket
        }
        for _ in 0..10 {
            s.observe_us(40_000); // 40 ms: the 50 ms bucket
        }
        let snap = s.snapshot();
        assert_eq!(snap.count, 100);
        assert_eq!(snap.quantile(0.5), 1.0);
        assert_eq!(snap.quantile(0.95), 40.0); // capped at the max seen
        assert_eq!((snap.min_ms, snap.max_ms), (0.8, 40.0));
        let buckets = snap.buckets();
        assert_eq!(buckets[3], (1.0, 90));
        assert_eq!(buckets[8], (50.0, 10));
        assert_eq!(*buckets.last().unwrap(), (f64::MAX, 0));
        let pairs = snap.mntr_pairs("readlatency");
        assert_eq!(pairs[0], ("avg_readlatency".into(), "4.7".into()));
        assert_eq!(pairs[3], ("cnt_readlatency".into(), "100".into()));
        s.reset();
        assert_eq!(s.snapshot().quantile(0.5), 0.0);
        assert_eq!(s.snapshot().min_ms, 0.0);
    }
}
