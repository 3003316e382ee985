//! Fork safety of the blocking facade: a forked child gets a fresh runtime
//! from `blocking::runtime()`, the parent's client refuses to work there,
//! and a new client in the child works. Alone in its own test binary so no
//! other test thread is mid-operation when the process forks.
#![cfg(target_os = "linux")]

#[path = "client_support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{opts, TestServer};
use zkrs::client::blocking::{self, Client};
use zkrs::{Acl, CreateMode, Error};

extern "C" {
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn _exit(code: i32) -> !;
}

const WNOHANG: i32 = 1;
const SIGKILL: i32 = 9;

/// What the child does; its exit code says which check failed.
fn child(parent: &Client, parent_rt: &Arc<tokio::runtime::Runtime>, hosts: &str) -> i32 {
    if parent.get_data("/fork", None) != Err(Error::SessionExpired) {
        return 2;
    }
    let rt = match blocking::runtime() {
        Ok(rt) => rt,
        Err(_) => return 3,
    };
    if Arc::ptr_eq(&rt, parent_rt) {
        return 4;
    }
    let zk = match Client::connect(hosts, opts(4000)) {
        Ok(zk) => zk,
        Err(_) => return 5,
    };
    if let Err(e) = zk.create(
        "/fork/child-",
        b"",
        &Acl::open_unsafe(),
        CreateMode::PersistentSequential,
    ) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "fork child: create failed: {e:?}");
        return 6;
    }
    if zk.close().is_err() {
        return 7;
    }
    0
}

/// Forks; the child runs `child` and exits with its code.
fn fork_child(
    parent: &Client,
    parent_rt: &Arc<tokio::runtime::Runtime>,
    hosts: &str,
) -> Result<(), String> {
    // SAFETY: the child only runs Rust code that allocates and spawns
    // threads (glibc keeps malloc usable after fork) and leaves with _exit.
    let pid = unsafe { fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            child(parent, parent_rt, hosts)
        }))
        .unwrap_or(10);
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { _exit(code) }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut status = 0;
    loop {
        // SAFETY: plain libc calls on our own child pid.
        let r = unsafe { waitpid(pid, &mut status, WNOHANG) };
        if r == pid {
            break;
        }
        if Instant::now() > deadline {
            unsafe { kill(pid, SIGKILL) };
            unsafe { waitpid(pid, &mut status, 0) };
            return Err("child hung".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let exited = status & 0x7f == 0;
    let code = (status >> 8) & 0xff;
    if exited && code == 0 {
        Ok(())
    } else {
        Err(format!("status {status:#x}, exit code {code}"))
    }
}

#[test]
fn forked_child_gets_a_fresh_runtime() {
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let ts = server_rt.block_on(TestServer::start());
    let hosts = ts.hosts();
    let parent = Client::connect(&hosts, opts(4000)).unwrap();
    parent
        .create("/fork", b"", &Acl::open_unsafe(), CreateMode::Persistent)
        .unwrap();
    let parent_rt = blocking::runtime().unwrap();

    // Forking a multi-threaded process is inherently racy: tokio (built
    // with its parking_lot feature) parks threads in parking_lot's global
    // table, which a child inherits with the parent's parked threads in it;
    // rarely, the child's new runtime trips over those ghosts. So a failed
    // child is retried a couple of times; a deterministic bug fails all.
    let mut failures = Vec::new();
    for _ in 0..3 {
        match fork_child(&parent, &parent_rt, &hosts) {
            Ok(()) => break,
            Err(why) => failures.push(why),
        }
    }
    assert!(
        failures.len() < 3,
        "every forked child failed: {failures:?}"
    );

    // The child's write is visible; the parent's client is unaffected.
    assert!(!parent.get_children("/fork", None).unwrap().is_empty());
    assert!(Arc::ptr_eq(&blocking::runtime().unwrap(), &parent_rt));
    parent.close().unwrap();
    drop(ts);
}
