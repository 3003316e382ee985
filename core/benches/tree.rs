//! DataTree throughput: create, getData and setData on a tree of 10,000
//! znodes, and a snapshot's encoding and decoding of 100,000, with no
//! network, log or locking around them.

use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use zkrs::tree::DataTree;
use zkrs::{Acl, CreateMode};

const NODES: usize = 10_000;

fn populated() -> DataTree {
    let mut t = DataTree::new();
    t.create(
        "/b",
        Some(Bytes::new()),
        &Acl::open_unsafe(),
        CreateMode::Persistent,
        -1,
        0,
        1,
        0,
    )
    .unwrap();
    for i in 0..NODES {
        let path = format!("/b/n{i}");
        let data = Bytes::from(vec![b'x'; 64]);
        t.create(
            &path,
            Some(data),
            &Acl::open_unsafe(),
            CreateMode::Persistent,
            -1,
            0,
            2 + i as i64,
            0,
        )
        .unwrap();
    }
    t
}

fn bench_tree(c: &mut Criterion) {
    let mut g = c.benchmark_group("tree");
    g.throughput(Throughput::Elements(1));

    g.bench_function("create", |b| {
        let mut t = populated();
        let mut i = 0i64;
        b.iter(|| {
            i += 1;
            let path = format!("/b/new{i}");
            t.create(
                &path,
                Some(Bytes::from_static(b"0123456789abcdef")),
                &Acl::open_unsafe(),
                CreateMode::Persistent,
                -1,
                0,
                100_000 + i,
                0,
            )
            .unwrap()
        })
    });

    let paths: Vec<String> = (0..NODES).map(|i| format!("/b/n{i}")).collect();
    g.bench_function("get_data", |b| {
        let t = populated();
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 7919) % NODES;
            t.get_data(&paths[i]).unwrap()
        })
    });

    g.bench_function("set_data", |b| {
        let mut t = populated();
        let mut i = 0usize;
        let mut zxid = 100_000i64;
        b.iter(|| {
            i = (i + 7919) % NODES;
            zxid += 1;
            t.set_data(
                &paths[i],
                Some(Bytes::from_static(b"updated value")),
                -1,
                zxid,
                0,
            )
            .unwrap()
        })
    });

    // Copy-on-write: what a snapshot or a multi's scratch copy costs.
    g.bench_function("clone_10k", |b| {
        b.iter_batched(populated, |t| t.clone(), BatchSize::LargeInput)
    });
    g.finish();
}

/// `nodes` znodes of 100 bytes, 1,000 per parent, as `zkrs bench populate`
/// makes them. `scattered`: created in a shuffled order, so that a walk in
/// name order jumps around memory as in a tree grown by many clients at
/// once (in order, each node lies next to the one walked before it).
fn snapshot_tree(nodes: usize, scattered: bool) -> DataTree {
    let mut t = DataTree::new();
    let mut zxid = 1;
    let mut mk = |t: &mut DataTree, path: &str, data: Bytes| {
        zxid += 1;
        let mode = CreateMode::Persistent;
        t.create(path, Some(data), &Acl::open_unsafe(), mode, -1, 0, zxid, 0)
            .unwrap();
    };
    mk(&mut t, "/pop", Bytes::new());
    let parents = nodes / 1000;
    for p in 0..parents {
        mk(&mut t, &format!("/pop/p{p:05}"), Bytes::new());
    }
    let mut order: Vec<usize> = (0..nodes).collect();
    if scattered {
        // A fixed permutation (an LCG's Fisher-Yates), the same every run.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in (1..order.len()).rev() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (x >> 33) as usize % (i + 1));
        }
    }
    for i in order {
        let path = format!("/pop/p{:05}/n{:03}", i / 1000, i % 1000);
        mk(&mut t, &path, Bytes::from(vec![b'x'; 100]));
    }
    t
}

const SNAPSHOT_NODES: usize = 100_000;

fn bench_snapshot(c: &mut Criterion) {
    let mut g = c.benchmark_group("snapshot");
    let cfg = bincode::config::standard();
    // A million scattered nodes (and their data) are more than any cache.
    let encodes = [
        ("encode_100k", SNAPSHOT_NODES, false),
        ("encode_1m_scattered", 10 * SNAPSHOT_NODES, true),
    ];
    for (name, nodes, scattered) in encodes {
        let t = snapshot_tree(nodes, scattered);
        g.throughput(Throughput::Elements(nodes as u64));
        g.bench_function(name, |b| {
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                bincode::serde::encode_into_std_write(&t, &mut out, cfg).unwrap()
            })
        });
    }
    let t = snapshot_tree(SNAPSHOT_NODES, false);
    g.throughput(Throughput::Elements(SNAPSHOT_NODES as u64));
    let bytes = bincode::serde::encode_to_vec(&t, cfg).unwrap();
    g.bench_function("decode_100k", |b| {
        b.iter(|| {
            let (t, _): (DataTree, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
            t
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
    targets = bench_tree, bench_snapshot
}
criterion_main!(benches);
