//! Helpers shared by the client_* test files (included with `#[path]`):
//! an in-process server on a free port, watcher recorders, a cuttable TCP
//! proxy, and a time bound for every test.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use zkrs::client::{watcher, Client, ClientOptions, Watcher};
use zkrs::config::Config;
use zkrs::server::Server;
use zkrs::WatchedEvent;

/// Every test body runs under this bound.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

pub async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(TEST_LIMIT, f)
        .await
        .expect("test exceeded its time bound")
}

pub fn config(dir: &Path, port: u16, extra: &str) -> Config {
    let text = format!(
        "tickTime=200\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
         4lw.commands.whitelist=*\nextendedTypesEnabled=true\n\
         znode.container.checkIntervalMs=100\n{extra}",
        dir.display()
    );
    Config::parse(&text).expect("test config parses")
}

/// A server on a free port with its own data dir.
pub struct TestServer {
    pub server: Option<Server>,
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    extra: String,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with("").await
    }

    pub async fn start_with(extra: &str) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = Server::start(config(dir.path(), 0, extra))
            .await
            .expect("server starts");
        let addr = server.addr();
        TestServer {
            server: Some(server),
            dir,
            addr,
            extra: extra.to_string(),
        }
    }

    pub fn hosts(&self) -> String {
        self.addr.to_string()
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
    }

    /// Starts again on the same port and data dir.
    pub async fn restart(&mut self) {
        self.stop().await;
        let cfg = config(self.dir.path(), self.addr.port(), &self.extra);
        let mut last = None;
        for _ in 0..50 {
            match Server::start(cfg.clone()).await {
                Ok(s) => {
                    self.server = Some(s);
                    return;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not restart: {last:?}");
    }
}

pub fn opts(session_ms: u64) -> ClientOptions {
    ClientOptions {
        session_timeout: Duration::from_millis(session_ms),
        connect_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

pub async fn connect(hosts: &str) -> Client {
    Client::connect(hosts, opts(4000)).await.expect("connects")
}

/// A watcher that forwards its events to a channel.
pub fn recorder() -> (Watcher, mpsc::UnboundedReceiver<WatchedEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        watcher(move |e| {
            let _ = tx.send(e);
        }),
        rx,
    )
}

pub async fn next_event(rx: &mut mpsc::UnboundedReceiver<WatchedEvent>) -> WatchedEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10s")
        .expect("watcher alive")
}

/// Asserts nothing arrives for a short while.
pub async fn no_event(rx: &mut mpsc::UnboundedReceiver<WatchedEvent>) {
    if let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        panic!("unexpected event {e:?}");
    }
}

/// A TCP proxy whose link can be cut (all connections dropped, new ones
/// refused) and restored, to separate a client from a live server.
pub struct Proxy {
    pub addr: SocketAddr,
    open: Arc<AtomicBool>,
    /// While set, bytes in both directions are read and dropped.
    stalled: Arc<AtomicBool>,
    kill: watch::Sender<u64>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let open = Arc::new(AtomicBool::new(true));
        let stalled = Arc::new(AtomicBool::new(false));
        let (kill, _) = watch::channel(0u64);
        let (o, k, st) = (open.clone(), kill.clone(), stalled.clone());
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !o.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let mut killed = k.subscribe();
                let st = st.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (ir, iw) = inbound.into_split();
                    let (or, ow) = outbound.into_split();
                    tokio::select! {
                        _ = pump(ir, ow, st.clone()) => {}
                        _ = pump(or, iw, st) => {}
                        _ = killed.changed() => {}
                    }
                });
            }
        });
        Proxy {
            addr,
            open,
            stalled,
            kill,
            task,
        }
    }

    /// Keeps connections open but silently drops every byte.
    pub fn stall(&self, on: bool) {
        self.stalled.store(on, Ordering::SeqCst);
    }

    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.kill.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    stalled: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stalled.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
