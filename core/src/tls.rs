//! TLS as ZooKeeper 3.8 configures it: the `ssl.*` keys of zoo.cfg (or
//! their `zookeeper.ssl.*` system-property names), key and trust stores in
//! PEM, JKS or PKCS12, `ssl.clientAuth`, and the client certificate's
//! subject as the connection's `x509` identity.
//!
//! Certificates are checked by webpki. ZooKeeper (Java) also accepts X.509
//! v1 certificates, which webpki refuses, and test harnesses such as
//! kazoo's make them; a v1 client certificate is accepted only when a
//! trusted certificate signed it directly and it is within its validity.
//!
//! Whether a certificate names its peer's host is checked as ZooKeeper
//! checks it (`hostname`), after the handshake.

mod hostname;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::Error;

/// A key or trust store file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub location: PathBuf,
    pub password: String,
    pub kind: StoreKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Pem,
    Jks,
    Pkcs12,
}

/// `ssl.clientAuth`: whether a client must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Want,
    Need,
}

/// One endpoint's TLS settings (the client port: `ssl.`; between members:
/// `ssl.quorum.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub key_store: Store,
    pub trust_store: Option<Store>,
    pub client_auth: ClientAuth,
    /// `ssl.enabledProtocols` (or what `ssl.protocol` implies).
    pub protocols: Vec<TlsVersion>,
    /// `ssl.ciphersuites`, IANA names as Java writes them; None: rustls's
    /// defaults.
    pub cipher_suites: Option<Vec<String>>,
    /// `hostnameVerification` (default true): the dialling side checks that
    /// the other's certificate names it; between members the accepting
    /// side checks the dialler's too (ZooKeeper's quorum does both, its
    /// client port neither).
    pub hostname_verification: bool,
}

/// The TLS versions zkrs speaks (ZooKeeper's `TLSv1.2`, `TLSv1.3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    fn parse(key: &str, name: &str) -> Result<TlsVersion, Error> {
        match name.trim() {
            "TLSv1.2" => Ok(TlsVersion::Tls12),
            "TLSv1.3" => Ok(TlsVersion::Tls13),
            other => Err(config_error(format!(
                "{key}: '{other}' is not supported (TLSv1.2 and TLSv1.3 are)"
            ))),
        }
    }

    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        }
    }
}

/// `X509Util`'s reading: `ssl.enabledProtocols` if set, else what
/// `ssl.protocol` (default TLSv1.3) implies — TLSv1.3 also enables TLSv1.2.
fn protocols(
    prefix: &str,
    protocol: Option<&str>,
    enabled: Option<&str>,
) -> Result<Vec<TlsVersion>, Error> {
    if let Some(list) = enabled {
        let key = format!("{prefix}enabledProtocols");
        return list
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| TlsVersion::parse(&key, p))
            .collect();
    }
    let key = format!("{prefix}protocol");
    match protocol.unwrap_or("TLSv1.3") {
        // A generic SSLContext name: every version the JDK enables.
        "TLS" => Ok(vec![TlsVersion::Tls13, TlsVersion::Tls12]),
        p => match TlsVersion::parse(&key, p)? {
            TlsVersion::Tls13 => Ok(vec![TlsVersion::Tls13, TlsVersion::Tls12]),
            TlsVersion::Tls12 => Ok(vec![TlsVersion::Tls12]),
        },
    }
}

/// A suite's name as Java and IANA write it (rustls spells TLS 1.3
/// suites `TLS13_...`).
fn iana_name(suite: &rustls::SupportedCipherSuite) -> String {
    let name = format!("{:?}", suite.suite());
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// The ring provider, cut down to `ssl.ciphersuites` when it is set.
fn provider_for(suites: &Option<Vec<String>>) -> Arc<CryptoProvider> {
    #[allow(deprecated)] // see TlsSettings::server_config
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(names) = suites {
        provider
            .cipher_suites
            .retain(|s| names.iter().any(|n| *n == iana_name(s)));
    }
    Arc::new(provider)
}

/// `ssl.ciphersuites`: every name must be one zkrs offers (Java refuses
/// unknown ones too).
fn cipher_suites(prefix: &str, list: Option<&str>) -> Result<Option<Vec<String>>, Error> {
    let Some(list) = list else { return Ok(None) };
    #[allow(deprecated)] // see TlsSettings::server_config
    let known: Vec<String> = rustls::crypto::ring::default_provider()
        .cipher_suites
        .iter()
        .map(iana_name)
        .collect();
    let names: Vec<String> = list
        .split(',')
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    if let Some(bad) = names.iter().find(|n| !known.contains(n)) {
        return Err(config_error(format!(
            "{prefix}ciphersuites: '{bad}' is not supported; these are: {}",
            known.join(", ")
        )));
    }
    Ok(Some(names))
}

/// A true/false key, ZooKeeper's boolean settings; anything else is an
/// error naming the key (Java would take it for false).
pub(crate) fn flag(key: &str, value: Option<&str>, default: bool) -> Result<bool, Error> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(config_error(format!(
            "{key}: '{other}' is not true or false"
        ))),
    }
}

fn config_error(what: impl std::fmt::Display) -> Error {
    Error::Config(what.to_string())
}

impl StoreKind {
    /// ZooKeeper's `KeyStoreFileType.fromPropertyValueOrFileName`: the
    /// type key if set, else the file's extension.
    fn of(key: &str, value: Option<&str>, path: &Path) -> Result<StoreKind, Error> {
        let name = match value {
            Some(v) => v.to_ascii_uppercase(),
            None => path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_ascii_uppercase(),
        };
        match name.as_str() {
            "PEM" => Ok(StoreKind::Pem),
            "JKS" => Ok(StoreKind::Jks),
            "PKCS12" | "P12" | "PFX" => Ok(StoreKind::Pkcs12),
            _ => Err(config_error(format!(
                "{key}: cannot tell the store type of {} (set it to PEM, JKS or PKCS12)",
                path.display()
            ))),
        }
    }
}

impl TlsSettings {
    /// The settings under `prefix` ("ssl." or "ssl.quorum."), read as
    /// zoo.cfg keys or as `zookeeper.`-prefixed system properties. None
    /// when no key store is configured.
    pub fn from_properties(
        props: &BTreeMap<String, String>,
        prefix: &str,
    ) -> Result<Option<TlsSettings>, Error> {
        let get = |key: &str| {
            let name = format!("{prefix}{key}");
            crate::config::property(props, &name).map(|(_, v)| v)
        };
        let store = |what: &str| -> Result<Option<Store>, Error> {
            let Some(location) = get(&format!("{what}.location")).filter(|l| !l.is_empty()) else {
                return Ok(None);
            };
            let location = PathBuf::from(location);
            let key = format!("{prefix}{what}.type");
            let kind = StoreKind::of(&key, get(&format!("{what}.type")), &location)?;
            let password = get(&format!("{what}.password"))
                .unwrap_or_default()
                .to_string();
            Ok(Some(Store {
                location,
                password,
                kind,
            }))
        };
        let Some(key_store) = store("keyStore")? else {
            return Ok(None);
        };
        let client_auth = match get("clientAuth").map(str::to_ascii_lowercase).as_deref() {
            None | Some("need") => ClientAuth::Need,
            Some("want") => ClientAuth::Want,
            Some("none") => ClientAuth::None,
            Some(other) => {
                return Err(config_error(format!(
                    "{prefix}clientAuth: '{other}' is not none, want or need"
                )))
            }
        };
        let protocols = protocols(prefix, get("protocol"), get("enabledProtocols"))?;
        let cipher_suites = cipher_suites(prefix, get("ciphersuites"))?;
        let version_of = |n: &String| {
            if n.starts_with("TLS_AES") || n.starts_with("TLS_CHACHA") {
                TlsVersion::Tls13
            } else {
                TlsVersion::Tls12
            }
        };
        if let Some(names) = &cipher_suites {
            if !names.iter().any(|n| protocols.contains(&version_of(n))) {
                return Err(config_error(format!(
                    "{prefix}ciphersuites: none of them is for the enabled protocols {protocols:?}"
                )));
            }
        }
        let verification_key = format!("{prefix}hostnameVerification");
        Ok(Some(TlsSettings {
            key_store,
            trust_store: store("trustStore")?,
            client_auth,
            protocols,
            cipher_suites,
            hostname_verification: flag(&verification_key, get("hostnameVerification"), true)?,
        }))
    }

    fn rustls_versions(&self) -> Vec<&'static rustls::SupportedProtocolVersion> {
        self.protocols.iter().map(|v| v.rustls()).collect()
    }

    /// The files whose change means a reload.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.key_store.location.clone()];
        files.extend(self.trust_store.iter().map(|s| s.location.clone()));
        files
    }

    /// A server config: this member's certificate, and client certificates
    /// checked against the trust store as `ssl.clientAuth` says.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, Error> {
        // ring builds with no C toolchain beyond cc; it lacks post-quantum
        // key exchange, which ZooKeeper's JDK TLS lacks too.
        let provider = provider_for(&self.cipher_suites);
        let key = Arc::new(certified_key(&self.key_store, &provider)?);
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.rustls_versions())
            .map_err(config_error)?;
        let builder = match (self.client_auth, &self.trust_store) {
            (ClientAuth::None, _) => builder.with_no_client_auth(),
            (_, None) => {
                return Err(config_error(
                    "ssl.trustStore.location is needed to check client certificates \
                     (or set ssl.clientAuth=none)",
                ))
            }
            (auth, Some(trust)) => {
                let verifier = ClientVerifier::new(trusted_certs(trust)?, auth, provider.clone())?;
                builder.with_client_cert_verifier(Arc::new(verifier))
            }
        };
        let mut config = builder.with_cert_resolver(Arc::new(FixedCert(RwLock::new(key))));
        config.alpn_protocols.clear();
        Ok(Arc::new(config))
    }
}

impl TlsSettings {
    /// The dialling side between members (`sslQuorum`): this member's own
    /// certificate as the client certificate, the other's checked against
    /// the trust store and (with `hostnameVerification`) its address.
    pub fn peer_connector(&self) -> Result<Dialer, Error> {
        let provider = provider_for(&self.cipher_suites);
        let trust = self
            .trust_store
            .as_ref()
            .ok_or_else(|| config_error("sslQuorum needs ssl.quorum.trustStore.location"))?;
        let server = ServerCheck::signed_by(trusted_certs(trust)?, provider.clone());
        let own = OwnCert(Arc::new(certified_key(&self.key_store, &provider)?));
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&self.rustls_versions())
            .map_err(config_error)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(server))
            .with_client_cert_resolver(Arc::new(own));
        Ok(Dialer {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            check_names: self.hostname_verification,
        })
    }
}

/// TLS between members: `sslQuorum` dials with TLS; `portUnification`
/// also takes plain links from members not on TLS yet (ZooKeeper's
/// UnifiedServerSocket), so a running ensemble moves to TLS one restart at
/// a time. Either needs the `ssl.quorum.*` stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumTls {
    pub settings: TlsSettings,
    pub dial_tls: bool,
    pub accept_plain: bool,
}

/// Whether a connection opens with a TLS ClientHello: a handshake record
/// (0x16, version 3.x) whose first message is a ClientHello (0x01). The
/// protocols sharing a port with TLS open otherwise: ZooKeeper's with a
/// frame length (its top byte 0x00 for any frame a server takes) or a
/// four-letter word, the members' with a frame length and a small frame
/// id. None: the other side closed, or sent too little within `wait`.
pub async fn opens_with_client_hello(
    stream: &tokio::net::TcpStream,
    wait: std::time::Duration,
) -> Option<bool> {
    let look = async {
        let mut head = [0u8; 6];
        loop {
            let n = stream.peek(&mut head).await.ok()?;
            match n {
                0 => return None,
                _ if head[0] != 0x16 => return Some(false),
                6 => return Some(head[1] == 3 && head[5] == 1),
                // The rest of the record header is on its way.
                _ => tokio::time::sleep(std::time::Duration::from_millis(1)).await,
            }
        }
    };
    tokio::time::timeout(wait, look).await.ok().flatten()
}

/// The dialling side of a TLS link: the handshake, then (with hostname
/// verification) the check that the other side's certificate names the
/// host dialled or the address reached.
#[derive(Clone)]
pub struct Dialer {
    connector: tokio_rustls::TlsConnector,
    check_names: bool,
}

impl Dialer {
    /// TLS over `stream`, which is connected to `addr` ("host:port").
    pub async fn connect(
        &self,
        addr: &str,
        stream: tokio::net::TcpStream,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let name = server_name(addr).map_err(std::io::Error::other)?;
        let ip = stream.peer_addr()?.ip();
        let tls = self.connector.connect(name, stream).await?;
        if self.check_names {
            let cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
            hostname::check(cert, Some(addr), ip)
                .await
                .map_err(|e| refused(format!("{addr}: {e}")))?;
        }
        Ok(tls)
    }
}

/// The accepting side between members, with `hostnameVerification`: the
/// dialler's certificate must name the address it dials from (ZooKeeper's
/// quorum checks it; its client port does not).
pub async fn check_dialler(
    tls: &tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    from: std::net::IpAddr,
) -> std::io::Result<()> {
    let cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
    hostname::check(cert, None, from).await.map_err(refused)
}

fn refused(why: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, why)
}

/// A member's own certificate, presented when it dials another member.
#[derive(Debug)]
struct OwnCert(Arc<CertifiedKey>);

impl rustls::client::ResolvesClientCert for OwnCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// What a store holds: key entries (chain, key) and trusted certificates.
struct StoreContents {
    keys: Vec<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    certs: Vec<CertificateDer<'static>>,
}

fn read_store(store: &Store) -> Result<StoreContents, Error> {
    let at = || store.location.display();
    match store.kind {
        StoreKind::Pem => {
            let certs = CertificateDer::pem_file_iter(&store.location)
                .map_err(|e| config_error(format!("{}: {e}", at())))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| config_error(format!("{}: {e}", at())))?;
            let key = match PrivateKeyDer::from_pem_file(&store.location) {
                Ok(k) => Some(k),
                // ZooKeeper's PEM loader takes an encrypted PKCS#8 key with
                // the store's password.
                Err(_) => encrypted_pem_key(store)?,
            };
            let keys = key.map(|k| vec![(certs.clone(), k)]).unwrap_or_default();
            Ok(StoreContents { keys, certs })
        }
        StoreKind::Jks => read_jks(store),
        StoreKind::Pkcs12 => read_pkcs12(store),
    }
}

/// The `ENCRYPTED PRIVATE KEY` block of a PEM file, decrypted with the
/// store's password (PBES2, as `openssl pkcs8 -topk8 -v2 aes-256-cbc`
/// writes it); None when the file has no such block.
fn encrypted_pem_key(store: &Store) -> Result<Option<PrivateKeyDer<'static>>, Error> {
    use base64::Engine;
    const BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
    const END: &str = "-----END ENCRYPTED PRIVATE KEY-----";
    let text = String::from_utf8_lossy(&read_file(store)?).to_string();
    let Some(body) = text
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(b, _)| b.split_whitespace().collect::<String>())
    else {
        return Ok(None);
    };
    let at = store.location.display();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| config_error(format!("{at}: the encrypted key is not base64: {e}")))?;
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
        .map_err(|e| config_error(format!("{at}: the encrypted key does not parse: {e}")))?;
    let plain = info.decrypt(store.password.as_bytes()).map_err(|e| {
        config_error(format!(
            "{at}: cannot decrypt the private key with ssl.keyStore.password ({e})"
        ))
    })?;
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec());
    Ok(Some(PrivateKeyDer::Pkcs8(key)))
}

fn read_file(store: &Store) -> Result<Vec<u8>, Error> {
    std::fs::read(&store.location)
        .map_err(|e| config_error(format!("{}: {e}", store.location.display())))
}

fn cannot_open(store: &Store, e: impl std::fmt::Display) -> Error {
    config_error(format!(
        "{}: cannot open the {:?} store (wrong password or another type): {e}",
        store.location.display(),
        store.kind
    ))
}

fn read_jks(store: &Store) -> Result<StoreContents, Error> {
    let mut ks = jks::KeyStore::new();
    let password = store.password.as_bytes();
    ks.load(read_file(store)?.as_slice(), password)
        .map_err(|e| cannot_open(store, e))?;
    let mut out = StoreContents {
        keys: Vec::new(),
        certs: Vec::new(),
    };
    for alias in ks.aliases() {
        if let Ok(e) = ks.get_trusted_certificate_entry(&alias) {
            out.certs.push(e.certificate.content.into());
            continue;
        }
        // ZooKeeper reads key entries with the store's password.
        let entry = ks
            .get_private_key_entry(&alias, password)
            .map_err(|e| cannot_open(store, e))?;
        let chain: Vec<CertificateDer> = entry
            .certificate_chain
            .into_iter()
            .map(|c| c.content.into())
            .collect();
        let key = PrivateKeyDer::try_from(entry.private_key).map_err(|e| cannot_open(store, e))?;
        out.certs.extend(chain.iter().cloned());
        out.keys.push((chain, key));
    }
    Ok(out)
}

fn read_pkcs12(store: &Store) -> Result<StoreContents, Error> {
    use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
    let ks = KeyStore::from_pkcs12(
        &read_file(store)?,
        &store.password,
        Pkcs12ImportPolicy::Relaxed,
    )
    .map_err(|e| cannot_open(store, e))?;
    let mut out = StoreContents {
        keys: Vec::new(),
        certs: Vec::new(),
    };
    for (_, entry) in ks.entries() {
        match entry {
            KeyStoreEntry::PrivateKeyChain(chain) => {
                let certs: Vec<CertificateDer> = chain
                    .certs()
                    .iter()
                    .map(|c| c.as_der().to_vec().into())
                    .collect();
                let key = PrivateKeyDer::try_from(chain.key().as_der().to_vec())
                    .map_err(|e| cannot_open(store, e))?;
                out.certs.extend(certs.iter().cloned());
                out.keys.push((certs, key));
            }
            KeyStoreEntry::Certificate(c) => out.certs.push(c.as_der().to_vec().into()),
            KeyStoreEntry::Secret(_) => {}
        }
    }
    Ok(out)
}

/// The certificates a trust store holds.
fn trusted_certs(store: &Store) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = read_store(store)?.certs;
    if certs.is_empty() {
        return Err(config_error(format!(
            "{}: no certificates in the trust store",
            store.location.display()
        )));
    }
    Ok(certs)
}

/// The member's certificate chain and private key from a key store.
fn certified_key(store: &Store, provider: &CryptoProvider) -> Result<CertifiedKey, Error> {
    let where_ = store.location.display();
    let (chain, key) =
        read_store(store)?.keys.into_iter().next().ok_or_else(|| {
            config_error(format!("{where_}: no private key with its certificate"))
        })?;
    let Some(leaf) = chain.first() else {
        return Err(config_error(format!("{where_}: no certificate")));
    };
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| config_error(format!("{where_}: unusable private key: {e}")))?;
    // rustls's own check parses with webpki, which refuses v1 certificates.
    let cert_spki = parse(leaf)
        .map(|c| c.public_key().raw.to_vec())
        .ok_or_else(|| config_error(format!("{where_}: the certificate does not parse")))?;
    if let Some(key_spki) = signing.public_key() {
        if key_spki.as_ref() != cert_spki.as_slice() {
            return Err(config_error(format!(
                "{where_}: the private key does not match the certificate"
            )));
        }
    }
    Ok(CertifiedKey::new(chain, signing))
}

fn parse<'a>(der: &'a CertificateDer<'_>) -> Option<X509Certificate<'a>> {
    X509Certificate::from_der(der.as_ref()).ok().map(|(_, c)| c)
}

/// Serves one certificate; replaced in place on reload.
#[derive(Debug)]
struct FixedCert(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

/// webpki's client verifier, plus ZooKeeper's acceptance of v1 client
/// certificates issued directly by a trusted certificate.
#[derive(Debug)]
struct ClientVerifier {
    webpki: Arc<dyn ClientCertVerifier>,
    /// The trust store's certificates (DER), for the v1 path.
    issuers: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientVerifier {
    fn new(
        issuers: Vec<CertificateDer<'static>>,
        auth: ClientAuth,
        provider: Arc<CryptoProvider>,
    ) -> Result<ClientVerifier, Error> {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(issuers.iter().cloned());
        let algorithms = provider.signature_verification_algorithms;
        let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        let builder = match auth {
            ClientAuth::Want => builder.allow_unauthenticated(),
            _ => builder,
        };
        let webpki = builder.build().map_err(config_error)?;
        Ok(ClientVerifier {
            webpki,
            issuers,
            algorithms,
        })
    }

    /// A v1 end-entity certificate: signed by one of the trusted
    /// certificates (matching issuer name and signature), now valid.
    fn verify_v1(&self, end_entity: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature);
        let cert = parse(end_entity).ok_or_else(bad)?;
        if !cert.validity().is_valid() {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired,
            ));
        }
        let signed_by_trusted = self.issuers.iter().filter_map(|i| parse(i)).any(|issuer| {
            issuer.subject() == cert.issuer()
                && cert.verify_signature(Some(issuer.public_key())).is_ok()
        });
        if !signed_by_trusted {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        }
        Ok(())
    }

    /// A handshake signature made with the certificate's key, without
    /// webpki's certificate parser (which refuses v1).
    fn verify_with_spki(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature);
        let parsed = parse(cert).ok_or_else(bad)?;
        let spki = parsed.public_key();
        let key_alg = spki.algorithm.algorithm.as_bytes();
        let algs = self
            .algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, algs)| *algs)
            .ok_or_else(bad)?;
        let key = spki.subject_public_key.data.as_ref();
        let ok = algs.iter().any(|alg| {
            alg_id_oid(alg.public_key_alg_id().as_ref()) == Some(key_alg)
                && alg.verify_signature(key, message, dss.signature()).is_ok()
        });
        if ok {
            Ok(HandshakeSignatureValid::assertion())
        } else {
            Err(bad())
        }
    }

    fn is_v1(cert: &CertificateDer<'_>) -> bool {
        parse(cert).is_some_and(|c| c.version().0 == 0)
    }
}

/// The OID inside a DER AlgorithmIdentifier body (without its SEQUENCE
/// header, as pki-types keeps it): tag 6, a short length, the OID bytes.
fn alg_id_oid(body: &[u8]) -> Option<&[u8]> {
    match body {
        [6, len, rest @ ..] if (*len as usize) <= rest.len() => Some(&rest[..*len as usize]),
        _ => None,
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.webpki.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.webpki.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if Self::is_v1(end_entity) {
            self.verify_v1(end_entity)?;
            return Ok(ClientCertVerified::assertion());
        }
        self.webpki
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_with_spki(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_with_spki(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// A client's TLS settings (ZooKeeper's `zookeeper.client.secure` with the
/// client's `zookeeper.ssl.*` keys, kazoo's `use_ssl` options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTls {
    /// Certificates to trust (PEM, JKS or PKCS12 by extension); None: the
    /// server's certificate is not checked (kazoo's `verify_certs=False`).
    pub ca: Option<PathBuf>,
    /// This client's certificate: a PEM file with `key` beside it, or a
    /// JKS / PKCS12 store holding both.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// For JKS / PKCS12 stores.
    pub password: String,
    /// With `ca`: the server's certificate must name the host dialled, the
    /// address reached or that address's reverse name
    /// (`zookeeper.ssl.hostnameVerification`, on by default; kazoo's
    /// `check_hostname`, off by default there).
    pub hostname_verification: bool,
}

impl Default for ClientTls {
    fn default() -> ClientTls {
        ClientTls {
            ca: None,
            cert: None,
            key: None,
            password: String::new(),
            hostname_verification: true,
        }
    }
}

impl ClientTls {
    /// A ZooKeeper client configuration's TLS (`zookeeper.client.secure`
    /// and the `zookeeper.ssl.*` stores, as zkCli's
    /// `-client-configuration` file holds them); None when not secure.
    pub fn from_properties(props: &BTreeMap<String, String>) -> Result<Option<ClientTls>, Error> {
        let get = |k: &str| props.get(k).map(|v| v.trim().to_string());
        if get("zookeeper.client.secure").as_deref() != Some("true") {
            return Ok(None);
        }
        let verification_key = "zookeeper.ssl.hostnameVerification";
        let hostname_verification = flag(
            verification_key,
            props.get(verification_key).map(String::as_str),
            true,
        )?;
        let password = get("zookeeper.ssl.keyStore.password")
            .or_else(|| get("zookeeper.ssl.trustStore.password"))
            .unwrap_or_default();
        Ok(Some(ClientTls {
            ca: get("zookeeper.ssl.trustStore.location").map(PathBuf::from),
            cert: get("zookeeper.ssl.keyStore.location").map(PathBuf::from),
            key: None,
            password,
            hostname_verification,
        }))
    }

    fn store(&self, path: &Path) -> Result<Store, Error> {
        Ok(Store {
            location: path.to_path_buf(),
            password: self.password.clone(),
            kind: StoreKind::of("tls", None, path).unwrap_or(StoreKind::Pem),
        })
    }

    /// A connector: the server's certificate checked against `ca` (if
    /// given) and, with `hostname_verification`, its name.
    pub fn connector(&self) -> Result<Dialer, Error> {
        #[allow(deprecated)] // see TlsSettings::server_config
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = match &self.ca {
            Some(ca) => ServerCheck::signed_by(trusted_certs(&self.store(ca)?)?, provider.clone()),
            None => ServerCheck::any(provider.clone()),
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(config_error)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(server));
        let config = match &self.cert {
            None => builder.with_no_client_auth(),
            Some(cert) => {
                // Presented as is: rustls's own check would refuse the v1
                // certificates Java and kazoo's harness make.
                let (chain, key) = self.identity(cert)?;
                let signing = provider
                    .key_provider
                    .load_private_key(key)
                    .map_err(|e| config_error(format!("{}: {e}", cert.display())))?;
                let own = OwnCert(Arc::new(CertifiedKey::new(chain, signing)));
                builder.with_client_cert_resolver(Arc::new(own))
            }
        };
        Ok(Dialer {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            check_names: self.hostname_verification && self.ca.is_some(),
        })
    }

    fn identity(
        &self,
        cert: &Path,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
        let store = self.store(cert)?;
        if store.kind != StoreKind::Pem {
            let found = read_store(&store)?.keys.into_iter().next();
            return found
                .ok_or_else(|| config_error(format!("{}: no private key", cert.display())));
        }
        let chain = read_store(&store)?.certs;
        let key_file = self.key.as_deref().unwrap_or(cert);
        let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
            config_error(format!(
                "{}: no unencrypted private key: {e}",
                key_file.display()
            ))
        })?;
        Ok((chain, key))
    }
}

/// The name a dialled `host:port` (or `[v6]:port`) must carry in its
/// certificate: a DNS name or an IP address.
pub fn server_name(addr: &str) -> Result<rustls::pki_types::ServerName<'static>, String> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| format!("{addr}: {e}"))
}

/// The dialling side's check of the other's certificate chain: signed by
/// a trusted certificate, or anything when no CA is given (kazoo's
/// `verify_certs=False`); the handshake signatures are checked either way.
/// The name is `Dialer`'s to check, after the handshake, as ZooKeeper does.
#[derive(Debug)]
struct ServerCheck {
    roots: Option<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCheck {
    fn signed_by(trusted: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> Self {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(trusted);
        ServerCheck {
            roots: Some(roots),
            provider,
        }
    }

    fn any(provider: Arc<CryptoProvider>) -> Self {
        ServerCheck {
            roots: None,
            provider,
        }
    }
}

impl rustls::client::danger::ServerCertVerifier for ServerCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The subject of a certificate as Java's `X500Principal.getName()` writes
/// it (RFC 2253: most specific name first, `,` between, no spaces): the id
/// of ZooKeeper's `x509` scheme.
pub fn subject_name(cert: &CertificateDer<'_>) -> Option<String> {
    let cert = parse(cert)?;
    let registry = x509_parser::objects::oid_registry();
    let rdns: Vec<String> = cert
        .subject()
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type();
                    let name = match x509_parser::objects::oid2abbrev(oid, registry) {
                        Ok("emailAddress") | Err(_) => oid.to_id_string(),
                        Ok(n) => n.to_string(),
                    };
                    let value = atv
                        .as_str()
                        .map(escape)
                        .unwrap_or_else(|_| format!("#{}", hex(atv.attr_value().data)));
                    format!("{name}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    Some(rdns.into_iter().rev().collect::<Vec<_>>().join(","))
}

/// RFC 2253 escaping of an attribute value.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let edge = (i == 0 && (c == ' ' || c == '#')) || (i == last && c == ' ');
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A TLS acceptor or connector that follows its store files: each new
/// connection takes the current one, rebuilt first if a file changed (a
/// store that no longer loads keeps the previous one, with a warning), so
/// certificates rotate without a restart.
pub struct Reloading<T> {
    settings: TlsSettings,
    build: fn(&TlsSettings) -> Result<T, Error>,
    state: RwLock<(Vec<Option<SystemTime>>, T)>,
}

/// The client port's and the peer port's accepting side.
pub type ReloadingAcceptor = Reloading<tokio_rustls::TlsAcceptor>;
/// The dialling side between members (`sslQuorum`).
pub type ReloadingConnector = Reloading<Dialer>;

impl ReloadingAcceptor {
    pub fn new(settings: TlsSettings) -> Result<ReloadingAcceptor, Error> {
        Reloading::with(settings, |s| {
            Ok(tokio_rustls::TlsAcceptor::from(s.server_config()?))
        })
    }

    /// Between members: whether a dialler's certificate must name the
    /// address it dials from ([`check_dialler`]).
    pub fn checks_diallers(&self) -> bool {
        self.settings.hostname_verification
    }
}

impl ReloadingConnector {
    pub fn new(settings: TlsSettings) -> Result<ReloadingConnector, Error> {
        Reloading::with(settings, TlsSettings::peer_connector)
    }
}

impl<T: Clone> Reloading<T> {
    fn with(
        settings: TlsSettings,
        build: fn(&TlsSettings) -> Result<T, Error>,
    ) -> Result<Self, Error> {
        let stamps = stamps(&settings.files());
        let first = build(&settings)?;
        Ok(Reloading {
            settings,
            build,
            state: RwLock::new((stamps, first)),
        })
    }

    /// The acceptor or connector for the next connection.
    pub fn current(&self) -> T {
        let now = stamps(&self.settings.files());
        {
            let state = self.state.read().unwrap_or_else(|p| p.into_inner());
            if state.0 == now {
                return state.1.clone();
            }
        }
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        match (self.build)(&self.settings) {
            Ok(fresh) => {
                tracing::info!("TLS certificates reloaded");
                *state = (now, fresh);
            }
            Err(e) => {
                tracing::warn!("TLS certificates changed but do not load ({e}); keeping the old");
                state.0 = now;
            }
        }
        state.1.clone()
    }
}

fn stamps(files: &[PathBuf]) -> Vec<Option<SystemTime>> {
    files
        .iter()
        .map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_read_as_zookeeper_reads_them() {
        assert_eq!(TlsSettings::from_properties(&props(&[]), "ssl."), Ok(None));
        let s = TlsSettings::from_properties(
            &props(&[
                ("ssl.keyStore.location", "/k/server.jks"),
                ("ssl.keyStore.password", "pw"),
                ("zookeeper.ssl.trustStore.location", "/k/trust.p12"),
                ("ssl.clientAuth", "Want"),
            ]),
            "ssl.",
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.key_store.kind, StoreKind::Jks);
        assert_eq!(s.key_store.password, "pw");
        assert_eq!(s.trust_store.unwrap().kind, StoreKind::Pkcs12);
        assert_eq!(s.client_auth, ClientAuth::Want);
        let typed = props(&[
            ("ssl.quorum.keyStore.location", "/k/key"),
            ("ssl.quorum.keyStore.type", "pem"),
        ]);
        let q = TlsSettings::from_properties(&typed, "ssl.quorum.")
            .unwrap()
            .unwrap();
        assert_eq!(
            (q.key_store.kind, q.client_auth),
            (StoreKind::Pem, ClientAuth::Need)
        );
        for bad in [
            props(&[("ssl.keyStore.location", "/k/key.der")]),
            props(&[
                ("ssl.keyStore.location", "/k/a.pem"),
                ("ssl.clientAuth", "x"),
            ]),
        ] {
            assert!(matches!(
                TlsSettings::from_properties(&bad, "ssl."),
                Err(Error::Config(_))
            ));
        }
    }

    #[test]
    fn protocols_and_cipher_suites_as_zookeeper_reads_them() {
        let base = [("ssl.keyStore.location", "/k/server.jks")];
        let read = |extra: &[(&str, &str)]| {
            let mut all = base.to_vec();
            all.extend_from_slice(extra);
            TlsSettings::from_properties(&props(&all), "ssl.").map(|s| s.unwrap())
        };
        let d = read(&[]).unwrap();
        assert_eq!(d.protocols, vec![TlsVersion::Tls13, TlsVersion::Tls12]);
        assert_eq!(d.cipher_suites, None);
        assert_eq!(
            read(&[("ssl.protocol", "TLSv1.2")]).unwrap().protocols,
            vec![TlsVersion::Tls12]
        );
        let only13 = read(&[("ssl.enabledProtocols", "TLSv1.3")]).unwrap();
        assert_eq!(only13.protocols, vec![TlsVersion::Tls13]);
        let suites = read(&[(
            "ssl.ciphersuites",
            "TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        )])
        .unwrap();
        assert_eq!(suites.cipher_suites.as_ref().map(Vec::len), Some(2));
        let provider = provider_for(&suites.cipher_suites);
        assert_eq!(provider.cipher_suites.len(), 2);
        for bad in [
            vec![("ssl.protocol", "TLSv1.1")],
            vec![("ssl.enabledProtocols", "TLSv1.2,SSLv3")],
            vec![("ssl.ciphersuites", "TLS_RSA_WITH_RC4_128_MD5")],
            // a TLS 1.3 suite with only TLS 1.2 enabled
            vec![
                ("ssl.protocol", "TLSv1.2"),
                ("ssl.ciphersuites", "TLS_AES_128_GCM_SHA256"),
            ],
        ] {
            assert!(matches!(read(&bad), Err(Error::Config(_))), "{bad:?}");
        }
    }

    #[test]
    fn hostname_verification_is_on_unless_turned_off() {
        let read = |extra: &[(&str, &str)], prefix: &str| {
            let mut all = vec![("ssl.quorum.keyStore.location", "/k/q.jks")];
            all.push(("ssl.keyStore.location", "/k/c.jks"));
            all.extend_from_slice(extra);
            TlsSettings::from_properties(&props(&all), prefix)
                .map(|s| s.unwrap().hostname_verification)
        };
        assert_eq!(read(&[], "ssl.quorum."), Ok(true));
        let off = [("ssl.quorum.hostnameVerification", " False ")];
        assert_eq!(read(&off, "ssl.quorum."), Ok(false));
        assert_eq!(read(&off, "ssl."), Ok(true), "each prefix has its own key");
        let by_property = [("zookeeper.ssl.hostnameVerification", "false")];
        assert_eq!(read(&by_property, "ssl."), Ok(false));
        let bad = [("ssl.quorum.hostnameVerification", "no")];
        match read(&bad, "ssl.quorum.") {
            Err(Error::Config(m)) => assert!(m.contains("ssl.quorum.hostnameVerification"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn client_configuration_reads_hostname_verification() {
        let secure = |extra: &[(&str, &str)]| {
            let mut all = vec![("zookeeper.client.secure", "true")];
            all.extend_from_slice(extra);
            ClientTls::from_properties(&props(&all))
        };
        assert_eq!(ClientTls::from_properties(&props(&[])), Ok(None));
        let on = secure(&[]).unwrap().unwrap();
        assert!(on.hostname_verification);
        let off = secure(&[("zookeeper.ssl.hostnameVerification", "false")]);
        assert!(!off.unwrap().unwrap().hostname_verification);
        let bad = secure(&[("zookeeper.ssl.hostnameVerification", "maybe")]);
        assert!(matches!(bad, Err(Error::Config(_))), "{bad:?}");
    }

    #[tokio::test]
    async fn a_client_hello_is_told_from_zookeepers_and_the_members_frames() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = listener.local_addr().unwrap();
        let wait = std::time::Duration::from_millis(300);
        let cases: [(&[u8], Option<bool>); 6] = [
            (&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00], Some(true)),
            (&[0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00], Some(false)),
            (b"ruok", Some(false)),
            // A members' frame of 369 MB with id 1: not a handshake.
            (
                &[0x16, 0x03, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01],
                Some(false),
            ),
            // Half a record header, then nothing.
            (&[0x16, 0x03], None),
            (&[], None),
        ];
        for (sent, told) in cases {
            let mut dialled = tokio::net::TcpStream::connect(at).await.unwrap();
            let (accepted, _) = listener.accept().await.unwrap();
            dialled.write_all(sent).await.unwrap();
            if sent.is_empty() {
                drop(dialled);
                assert_eq!(opens_with_client_hello(&accepted, wait).await, told);
                continue;
            }
            assert_eq!(
                opens_with_client_hello(&accepted, wait).await,
                told,
                "{sent:?}"
            );
        }
    }

    #[test]
    fn rfc2253_escaping() {
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape(" #lead"), "\\ #lead");
        assert_eq!(escape("#x "), "\\#x\\ ");
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn algorithm_identifier_oid() {
        // rsaEncryption, NULL parameters.
        let rsa = [6, 9, 42, 134, 72, 134, 247, 13, 1, 1, 1, 5, 0];
        assert_eq!(alg_id_oid(&rsa), Some(&rsa[2..11]));
        assert_eq!(alg_id_oid(&[6, 20, 1]), None);
        assert_eq!(alg_id_oid(&[]), None);
    }
}
