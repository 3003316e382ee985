//! Bytes the DataTree allocates per znode, counted by a wrapping global
//! allocator (no sampling, no RSS noise): N znodes of 100 bytes, 1,000 per
//! parent, with the open ACL, as `zkrs bench populate` creates them.
//!
//!     cargo run --release -p zkrs --example tree_memory -- 1000000

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use bytes::Bytes;
use zkrs::tree::DataTree;
use zkrs::{Acl, CreateMode};

struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn create(tree: &mut DataTree, path: &str, data: Bytes, zxid: i64) {
    // A fresh ACL list each time, as a decoded request carries one.
    tree.create(
        path,
        Some(data),
        &Acl::open_unsafe(),
        CreateMode::Persistent,
        -1,
        0,
        zxid,
        0,
    )
    .expect("create");
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("a znode count"))
        .unwrap_or(200_000);
    let mut tree = DataTree::new();
    create(&mut tree, "/pop", Bytes::new(), 1);
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut zxid = 2;
    for i in 0..count {
        let parent = format!("/pop/p{:05}", i / 1000);
        if i % 1000 == 0 {
            create(&mut tree, &parent, Bytes::new(), zxid);
            zxid += 1;
        }
        let path = format!("{parent}/n{:03}", i % 1000);
        create(&mut tree, &path, Bytes::from(vec![7u8; 100]), zxid);
        zxid += 1;
    }
    let per_node = (LIVE_BYTES.load(Ordering::Relaxed) - before) / count.max(1) as isize;
    println!("{count} znodes of 100 bytes: {per_node} bytes allocated per znode");
}
