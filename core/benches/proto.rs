//! Jute codec throughput: decoding request packets and encoding framed
//! replies, the per-request work on the connection's hot path.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use zkrs::proto::{self, frame, ReplyHeader, Request, Response};
use zkrs::{Acl, Stat};

fn stat() -> Stat {
    Stat {
        czxid: 0x1_0000_0001,
        mzxid: 0x1_0000_0002,
        ctime: 1_700_000_000_000,
        mtime: 1_700_000_000_001,
        version: 3,
        data_length: 1024,
        pzxid: 0x1_0000_0001,
        ..Stat::default()
    }
}

fn bench_proto(c: &mut Criterion) {
    let mut g = c.benchmark_group("proto");
    g.throughput(Throughput::Elements(1));

    let create = Request::Create(proto::CreateRequest {
        path: "/services/payments/instances/node-0000000042".into(),
        data: Some(vec![b'x'; 128]),
        acl: Acl::open_unsafe(),
        flags: 3,
    })
    .to_packet(42);
    g.bench_function("decode_create", |b| {
        b.iter(|| proto::decode_request(std::hint::black_box(&create)).unwrap())
    });

    let get = Request::GetData(proto::GetDataRequest {
        path: "/config/app/feature-flags".into(),
        watch: true,
    })
    .to_packet(43);
    g.bench_function("decode_get_data", |b| {
        b.iter(|| proto::decode_request(std::hint::black_box(&get)).unwrap())
    });

    let header = ReplyHeader {
        xid: 43,
        zxid: 0x1_0000_0002,
        err: 0,
    };
    let data_reply = Response::GetData(proto::GetDataResponse {
        data: Some(vec![b'y'; 1024]),
        stat: stat(),
    });
    g.bench_function("encode_get_data_reply_1k", |b| {
        b.iter(|| frame::encode_reply(&header, std::hint::black_box(&data_reply)))
    });

    let children = Response::GetChildren2(proto::GetChildren2Response {
        children: (0..100).map(|i| format!("member-{i:010}")).collect(),
        stat: stat(),
    });
    g.bench_function("encode_children2_reply_100", |b| {
        b.iter(|| frame::encode_reply(&header, std::hint::black_box(&children)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench_proto
}
criterion_main!(benches);
