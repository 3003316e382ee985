//! TLS end to end: a member serving `secureClientPort` with PEM stores, the
//! Rust client over TLS with a client certificate (its subject becomes the
//! connection's x509 identity), and the refusals: no client certificate,
//! a certificate from another CA, a server the client's CA did not sign.

#[path = "client_support.rs"]
mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use support::{bounded, TestServer};
use zkrs::client::{Client, ClientOptions};
use zkrs::tls::ClientTls;
use zkrs::{Acl, CreateMode, Error, Id};

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        issuer: Issuer::new(params, key),
        pem,
    }
}

/// Writes `<name>.pem` (certificate then key) signed by `ca`.
fn leaf(dir: &Path, ca: &Ca, name: &str) -> PathBuf {
    leaf_for(dir, ca, name, &["localhost", "127.0.0.1"])
}

/// The same, naming `hosts` (DNS names or IP addresses).
fn leaf_for(dir: &Path, ca: &Ca, name: &str, hosts: &[&str]) -> PathBuf {
    let names = hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>();
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    path
}

/// A temporary directory with a CA, its certificate written to `ca.pem`.
fn ca_in_tempdir() -> (tempfile::TempDir, Ca, PathBuf) {
    let certs = tempfile::tempdir().unwrap();
    let main = ca("ca.zkrs.test");
    let ca_path = certs.path().join("ca.pem");
    std::fs::write(&ca_path, &main.pem).unwrap();
    (certs, main, ca_path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Setup {
    _certs: tempfile::TempDir,
    server: TestServer,
    secure: String,
    ca: PathBuf,
    client: PathBuf,
    stranger: PathBuf,
    other_ca: PathBuf,
}

/// A member serving `secureClientPort` with `pem`, trusting `ca`.
async fn serve(pem: &Path, ca: &Path) -> (TestServer, u16) {
    let port = free_port();
    let extra = format!(
        "secureClientPort={port}\nsecureClientPortAddress=127.0.0.1\n\
         ssl.keyStore.location={}\nssl.trustStore.location={}\n",
        pem.display(),
        ca.display()
    );
    (TestServer::start_with(&extra).await, port)
}

async fn setup() -> Setup {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    let (main, other) = (ca("ca.zkrs.test"), ca("other.zkrs.test"));
    let ca_path = d.join("ca.pem");
    std::fs::write(&ca_path, &main.pem).unwrap();
    let other_ca = d.join("other-ca.pem");
    std::fs::write(&other_ca, &other.pem).unwrap();
    let server_pem = leaf(d, &main, "server");
    let client = leaf(d, &main, "client");
    let stranger = leaf(d, &other, "stranger");
    let (server, port) = serve(&server_pem, &ca_path).await;
    Setup {
        _certs: certs,
        server,
        secure: format!("127.0.0.1:{port}"),
        ca: ca_path,
        client,
        stranger,
        other_ca,
    }
}

async fn connect_tls(hosts: &str, tls: ClientTls) -> Result<Client, Error> {
    let opts = ClientOptions {
        connect_timeout: Duration::from_secs(3),
        tls: Some(tls),
        ..Default::default()
    };
    Client::connect(hosts, opts).await
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_client_with_certificate_gets_its_x509_identity() {
    bounded(async {
        let s = setup().await;
        let tls = ClientTls {
            ca: Some(s.ca.clone()),
            cert: Some(s.client.clone()),
            ..Default::default()
        };
        let zk = connect_tls(&s.secure, tls).await.unwrap();
        let me = ("x509".to_string(), "CN=client".to_string());
        let ids = zk.who_am_i().await.unwrap();
        assert!(ids.contains(&me), "{ids:?}");
        let mine = vec![Acl {
            perms: zkrs::perms::ALL,
            id: Id::new("x509", "CN=client"),
        }];
        zk.create("/tls", b"over tls", &mine, CreateMode::Persistent)
            .await
            .unwrap();
        assert_eq!(zk.get_data("/tls", None).await.unwrap().0, b"over tls");
        // The same node through the plain port, without the certificate.
        let plain = support::connect(&s.server.hosts()).await;
        assert_eq!(plain.get_data("/tls", None).await, Err(Error::NoAuth));
        zk.close().await.unwrap();
        plain.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_refusals() {
    bounded(async {
        let s = setup().await;
        let cases = [
            // No client certificate: ssl.clientAuth defaults to need.
            ClientTls {
                ca: Some(s.ca.clone()),
                ..Default::default()
            },
            // A certificate from a CA the member does not trust.
            ClientTls {
                ca: Some(s.ca.clone()),
                cert: Some(s.stranger.clone()),
                ..Default::default()
            },
            // A member whose certificate the client's CA did not sign.
            ClientTls {
                ca: Some(s.other_ca.clone()),
                cert: Some(s.client.clone()),
                ..Default::default()
            },
        ];
        for (i, tls) in cases.into_iter().enumerate() {
            let r = connect_tls(&s.secure, tls).await;
            assert!(
                matches!(r, Err(Error::ConnectionLoss)),
                "case {i}: {:?}",
                r.err()
            );
        }
        let missing = ClientTls {
            ca: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let r = connect_tls(&s.secure, missing).await;
        assert!(matches!(r, Err(Error::Config(_))), "{:?}", r.err());
    })
    .await;
}

/// The client checks the server's name as ZooKeeper's client does: the
/// host dialled, else the address reached, else its reverse name; with
/// `hostname_verification` off only the chain counts.
#[tokio::test(flavor = "multi_thread")]
async fn tls_client_checks_the_servers_name() {
    bounded(async {
        let (certs, main, ca_path) = ca_in_tempdir();
        let d = certs.path();
        let client = leaf(d, &main, "client");
        let tls = |verify: bool| ClientTls {
            ca: Some(ca_path.clone()),
            cert: Some(client.clone()),
            hostname_verification: verify,
            ..Default::default()
        };

        // Named by address only, dialled by name: the address reached counts.
        let (_by_ip, port) = serve(&leaf_for(d, &main, "by-ip", &["127.0.0.1"]), &ca_path).await;
        let zk = connect_tls(&format!("localhost:{port}"), tls(true)).await;
        zk.unwrap().close().await.unwrap();

        // Named by the loopback address's reverse name only, dialled by address.
        let (_by_name, port) =
            serve(&leaf_for(d, &main, "by-name", &["localhost"]), &ca_path).await;
        let zk = connect_tls(&format!("127.0.0.1:{port}"), tls(true)).await;
        zk.unwrap().close().await.unwrap();

        // Named for another host: refused, unless the check is off.
        let (_other, port) = serve(
            &leaf_for(d, &main, "other", &["zk.elsewhere.test"]),
            &ca_path,
        )
        .await;
        let hosts = format!("127.0.0.1:{port}");
        let r = connect_tls(&hosts, tls(true)).await;
        assert!(matches!(r, Err(Error::ConnectionLoss)), "{:?}", r.err());
        let zk = connect_tls(&hosts, tls(false)).await.unwrap();
        zk.close().await.unwrap();
    })
    .await;
}

/// `client.portUnification=true`: the plain client port also takes TLS
/// clients (those that open with a TLS handshake) with the `ssl.*` stores;
/// plain clients and four-letter words go on as before.
#[tokio::test(flavor = "multi_thread")]
async fn a_unified_client_port_takes_plain_and_tls_clients() {
    bounded(async {
        let (certs, main, ca_path) = ca_in_tempdir();
        let d = certs.path();
        let (server_pem, client) = (leaf(d, &main, "server"), leaf(d, &main, "client"));
        let extra = format!(
            "client.portUnification=true\nssl.keyStore.location={}\nssl.trustStore.location={}\n",
            server_pem.display(),
            ca_path.display()
        );
        let server = TestServer::start_with(&extra).await;
        let hosts = server.hosts();
        let tls = ClientTls {
            ca: Some(ca_path.clone()),
            cert: Some(client),
            ..Default::default()
        };
        let secure = connect_tls(&hosts, tls).await.unwrap();
        let ids = secure.who_am_i().await.unwrap();
        assert!(
            ids.contains(&("x509".into(), "CN=client".into())),
            "{ids:?}"
        );
        secure
            .create(
                "/unified",
                b"tls",
                &Acl::open_unsafe(),
                CreateMode::Persistent,
            )
            .await
            .unwrap();
        let plain = support::connect(&hosts).await;
        assert_eq!(plain.get_data("/unified", None).await.unwrap().0, b"tls");
        assert_eq!(four_letter(&hosts, "ruok").await, "imok");
        secure.close().await.unwrap();
        plain.close().await.unwrap();
    })
    .await;
}

async fn four_letter(hosts: &str, cmd: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(hosts).await.unwrap();
    s.write_all(cmd.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_unified_port_needs_its_stores_and_a_clear_flag() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        for (extra, says) in [
            (
                "client.portUnification=true\n",
                "needs ssl.keyStore.location",
            ),
            (
                "zookeeper.client.portUnification=yes\n",
                "'yes' is not true or false",
            ),
        ] {
            let cfg = support::config(dir.path(), 0, extra);
            match zkrs::server::Server::start(cfg).await {
                Err(Error::Config(m)) => assert!(m.contains(says), "{m}"),
                Err(e) => panic!("{extra}: {e:?}"),
                Ok(_) => panic!("{extra}: started"),
            }
        }
    })
    .await;
}
