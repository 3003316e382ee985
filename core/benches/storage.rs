//! DurableLog append + fsync throughput. One entry per fsync versus 100
//! entries per fsync, and 100 single-entry appends in flight through
//! `GroupCommit` (which folds them into few fsyncs): the gap is group
//! commit.

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use zkrs::storage::{DurableLog, FlushCallback, GroupCommit, LogId};

const ENTRY: usize = 256;

fn id(index: u64) -> LogId {
    LogId {
        term: 1,
        node: 1,
        index,
    }
}

fn bench_storage(c: &mut Criterion) {
    let mut g = c.benchmark_group("storage");
    for batch in [1u64, 100] {
        g.throughput(Throughput::Elements(batch));
        g.bench_function(format!("append_{batch}_per_fsync"), |b| {
            let dir = tempfile::tempdir().unwrap();
            let mut log = DurableLog::open(dir.path()).unwrap();
            let mut next = 1u64;
            b.iter(|| {
                let entries: Vec<_> = (next..next + batch)
                    .map(|i| (id(i), vec![7u8; ENTRY]))
                    .collect();
                next += batch;
                log.append(entries).unwrap();
                log.flush_blocking().unwrap();
            })
        });
    }

    g.throughput(Throughput::Elements(100));
    g.bench_function("append_1_flush_x100_in_flight", |b| {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(Mutex::new(DurableLog::open(dir.path()).unwrap()));
        let group = GroupCommit::start(&log, None);
        let mut next = 1u64;
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            for _ in 0..100 {
                let mut l = log.lock().unwrap();
                l.append(vec![(id(next), vec![7u8; ENTRY])]).unwrap();
                next += 1;
                let tx = tx.clone();
                group.flush(
                    &mut l,
                    FlushCallback::new(move |r| {
                        let _ = tx.send(r);
                    }),
                );
            }
            drop(tx);
            for r in rx {
                r.unwrap();
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench_storage
}
criterion_main!(benches);
