"""TLS on secureClientPort, configured with ZooKeeper's keys: kazoo over
TLS with a client certificate, zkCli with zookeeper.client.secure=true,
the x509 ACL scheme, clientAuth=need refusing a client without a
certificate, certificate reload, and clear start-up errors for bad stores.

Certificates come from the openssl CLI and the JDK's keytool, as an
operator would make them: a v3 CA, a v3 server certificate, and a v1
client certificate (what `openssl x509 -req` without extensions and
kazoo's own test harness make, and Java accepts).
"""

import os
import shutil
import ssl
import socket
import subprocess

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl

from zkharness import HOST, ZkServer, free_port, java_base_cmd, server_kind

pytestmark = pytest.mark.skipif(
    server_kind() != "zkrs", reason="the Apache run would need Netty's TLS jars on the classpath"
)
PASS = "apassword"


def run(*cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d):
    """ca.pem, server.{pem,key,jks,p12}, client.{pem,key,jks}, trust.jks."""
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=ca.zkrs.test", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "server.ext"]), ("client", [])):
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
            "-out", name + ".csr", "-subj", "/O=zkrs/CN=" + name, cwd=d)
        run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", name + ".pem", *ext, cwd=d)
        run("openssl", "pkcs12", "-export", "-in", name + ".pem", "-inkey", name + ".key",
            "-certfile", "ca.pem", "-name", name, "-out", name + ".p12", "-passout",
            "pass:" + PASS, cwd=d)
        run("keytool", "-importkeystore", "-srckeystore", name + ".p12", "-srcstoretype",
            "PKCS12", "-srcstorepass", PASS, "-destkeystore", name + ".jks",
            "-deststoretype", "JKS", "-deststorepass", PASS, "-noprompt", cwd=d)
    run("keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem",
        "-keystore", "trust.jks", "-storetype", "JKS", "-storepass", PASS, cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not (shutil.which("openssl") and shutil.which("keytool")):
        pytest.fail("openssl and keytool are needed (scripts/install-test-deps.sh)")
    d = str(tmp_path_factory.mktemp("tls"))
    make_certs(d)
    return d


def tls_server(certs, store="server.jks", trust="trust.jks", extra=()):
    srv = ZkServer()
    srv.secure_port = free_port()
    with open(srv.cfg, "a") as f:
        f.write("secureClientPort=%d\n" % srv.secure_port)
        f.write("ssl.keyStore.location=%s\n" % os.path.join(certs, store))
        f.write("ssl.keyStore.password=%s\n" % PASS)
        f.write("ssl.trustStore.location=%s\n" % os.path.join(certs, trust))
        f.write("ssl.trustStore.password=%s\n" % PASS)
        for line in extra:
            f.write(line + "\n")
    return srv


@pytest.fixture(scope="module")
def server(certs):
    srv = tls_server(certs)
    srv.start()
    yield srv
    srv.cleanup()


def tls_client(srv, certs, cert="client", port=None):
    kw = {"ca": os.path.join(certs, "ca.pem")}
    if cert:
        kw.update(certfile=os.path.join(certs, cert + ".pem"), keyfile=os.path.join(certs, cert + ".key"))
    hosts = "%s:%d" % (HOST, port or srv.secure_port)
    c = KazooClient(hosts=hosts, use_ssl=True, timeout=10, **kw)
    return c


def test_kazoo_over_tls_with_a_client_certificate(server, certs):
    c = tls_client(server, certs)
    c.start(timeout=15)
    try:
        c.create("/tls-kazoo", b"secret")
        assert c.get("/tls-kazoo")[0] == b"secret"
    finally:
        c.stop()
        c.close()


def test_x509_acl_admits_only_that_certificate(server, certs):
    c = tls_client(server, certs)
    c.start(timeout=15)
    plain = KazooClient(hosts=server.hostport, timeout=10)
    plain.start(timeout=15)
    try:
        acl = make_acl("x509", "CN=client,O=zkrs", all=True)
        c.create("/tls-x509", b"mine", acl=[acl])
        assert c.get("/tls-x509")[0] == b"mine"
        with pytest.raises(NoAuthError):
            plain.get("/tls-x509")
        c.delete("/tls-x509")
    finally:
        for k in (c, plain):
            k.stop()
            k.close()


def test_a_client_without_a_certificate_is_refused(server, certs):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    with socket.create_connection((HOST, server.secure_port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                # TLS 1.3 reports the refusal at the first read.
                s.sendall(b"\0\0\0\0")
                if s.recv(1) == b"":
                    raise ConnectionResetError("closed")
    # The plain port still serves.
    plain = KazooClient(hosts=server.hostport, timeout=10)
    plain.start(timeout=15)
    plain.stop()
    plain.close()


def zkcli_secure(server, certs, port, *command):
    """zkCli (ZooKeeperMain) over TLS to `port`, with the client's JKS stores."""
    jars = ["netty-handler.jar", "netty-buffer.jar", "netty-transport.jar", "netty-common.jar",
            "netty-transport-native-epoll.jar"]
    base = java_base_cmd(server.workdir)
    cp = base.index("-cp") + 1
    base[cp] += ":" + ":".join(os.path.join("/usr/share/java", j) for j in jars)
    props = [
        "-Dzookeeper.client.secure=true",
        "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
        "-Dzookeeper.ssl.keyStore.location=" + os.path.join(certs, "client.jks"),
        "-Dzookeeper.ssl.keyStore.password=" + PASS,
        "-Dzookeeper.ssl.trustStore.location=" + os.path.join(certs, "trust.jks"),
        "-Dzookeeper.ssl.trustStore.password=" + PASS,
    ]
    cmd = base[:cp - 1] + props + base[cp - 1:] + [
        "org.apache.zookeeper.ZooKeeperMain", "-server", "%s:%d" % (HOST, port), *command,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_zkcli_with_client_secure(server, certs):
    r = zkcli_secure(server, certs, server.secure_port, "create", "/tls-zkcli", "over-tls")
    assert r.returncode == 0 and "Created /tls-zkcli" in r.stdout + r.stderr, r.stdout + r.stderr
    c = tls_client(server, certs)
    c.start(timeout=15)
    assert c.get("/tls-zkcli")[0] == b"over-tls"
    c.stop()
    c.close()


def peer_cert_serial(srv, certs):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    ctx.load_cert_chain(os.path.join(certs, "client.pem"), os.path.join(certs, "client.key"))
    with socket.create_connection((HOST, srv.secure_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert()["serialNumber"]


def test_certificates_reload_without_restart(certs, tmp_path):
    store = str(tmp_path / "server.p12")
    shutil.copy(os.path.join(certs, "server.p12"), store)
    srv = tls_server(certs, store=store, trust="ca.pem")
    srv.start()
    try:
        before = peer_cert_serial(srv, certs)
        # A new server certificate, same CA, written over the store.
        d = str(tmp_path)
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "new.key", "-out",
            "new.csr", "-subj", "/CN=localhost", cwd=d)
        run("openssl", "x509", "-req", "-in", "new.csr", "-CA", os.path.join(certs, "ca.pem"),
            "-CAkey", os.path.join(certs, "ca.key"), "-set_serial", "4242", "-days", "2",
            "-out", "new.pem", cwd=d)
        run("openssl", "pkcs12", "-export", "-in", "new.pem", "-inkey", "new.key", "-out",
            "next.p12", "-passout", "pass:" + PASS, cwd=d)
        os.replace(os.path.join(d, "next.p12"), store)
        after = peer_cert_serial(srv, certs)
        assert before != after and int(after, 16) == 4242
        # A store that no longer opens keeps the certificate in use.
        with open(store, "wb") as f:
            f.write(b"garbage")
        assert peer_cert_serial(srv, certs) == after
    finally:
        srv.cleanup()


@pytest.mark.parametrize(
    "store,extra,message",
    [
        ("server.jks", ["ssl.keyStore.password=wrong"], "cannot open"),
        ("server.pem", [], "no private key"),
        ("ca.key", ["ssl.keyStore.type=PEM"], "no certificate"),
        ("server.jks", ["ssl.clientAuth=sometimes"], "clientAuth"),
        ("nothing.jks", [], "nothing.jks"),
        ("server.jks", ["ssl.protocol=TLSv1.1"], "TLSv1.1"),
        ("server.jks", ["ssl.ciphersuites=TLS_RSA_WITH_RC4_128_MD5"], "not supported"),
    ],
)
def test_bad_stores_stop_the_start_with_a_clear_error(certs, store, extra, message):
    srv = tls_server(certs, store=store, extra=extra)
    try:
        with pytest.raises(RuntimeError) as e:
            srv.start(timeout=15)
        assert message in str(e.value)
    finally:
        srv.cleanup()


ZKC_SSL = os.environ.get("ZKC_SSL_DIR", os.path.expanduser("~/.cache/zkrs-zkc-ssl"))


@pytest.fixture(scope="module")
def zkc_ssl_binary(tmp_path_factory):
    lib = os.path.join(ZKC_SSL, "lib")
    if not os.path.exists(os.path.join(lib, "libzookeeper.a")):
        pytest.fail("the C client with OpenSSL is missing: run scripts/install-test-deps.sh")
    out = str(tmp_path_factory.mktemp("zkc-ssl") / "zkc_ssl_test")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c", "zkc_ssl_test.c")
    r = subprocess.run(
        ["gcc", "-std=gnu99", "-Wall", "-Werror", "-O1", "-DTHREADED", "-DHAVE_OPENSSL_H",
         "-I", os.path.join(ZKC_SSL, "include"), "-o", out, src,
         os.path.join(lib, "libzookeeper.a"), os.path.join(lib, "libhashtable.a"),
         "-lssl", "-lcrypto", "-lpthread", "-lm"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, "compile failed:\n" + r.stderr
    return out


def test_official_c_client_zookeeper_init_ssl(server, certs, zkc_ssl_binary):
    hostport = "%s:%d" % (HOST, server.secure_port)
    chain = ",".join(os.path.join(certs, f) for f in ("ca.pem", "client.pem", "client.key"))
    r = subprocess.run([zkc_ssl_binary, hostport, chain + "," + PASS, "/tls-c-client"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # The node carries the x509 ACL the C client set: kazoo with the same
    # certificate reads it, a plain client may not.
    c = tls_client(server, certs)
    c.start(timeout=15)
    plain = KazooClient(hosts=server.hostport, timeout=10)
    plain.start(timeout=15)
    try:
        assert c.get("/tls-c-client")[0] == b"over-tls"
        with pytest.raises(NoAuthError):
            plain.get("/tls-c-client")
    finally:
        for k in (c, plain):
            k.stop()
            k.close()


def test_official_c_client_refuses_a_server_its_ca_did_not_sign(server, certs, tmp_path, zkc_ssl_binary):
    d = str(tmp_path)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key",
        "-out", "other.pem", "-days", "2", "-subj", "/CN=other-ca", cwd=d)
    chain = ",".join([os.path.join(d, "other.pem"), os.path.join(certs, "client.pem"),
                      os.path.join(certs, "client.key"), PASS])
    hostport = "%s:%d" % (HOST, server.secure_port)
    r = subprocess.run([zkc_ssl_binary, "--expect-refused", hostport, chain],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def handshake(srv, certs, version):
    """(protocol, cipher) a client pinned to `version` gets, or the error."""
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    ctx.load_cert_chain(os.path.join(certs, "client.pem"), os.path.join(certs, "client.key"))
    ctx.minimum_version = ctx.maximum_version = version
    try:
        with socket.create_connection((HOST, srv.secure_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                return s.version(), s.cipher()[0]
    except (ssl.SSLError, ConnectionResetError) as e:
        return "refused", str(e)


def test_protocols_and_cipher_suites_are_zookeepers_keys(certs):
    srv = tls_server(certs, extra=[
        "ssl.enabledProtocols=TLSv1.2",
        "ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ])
    srv.start()
    try:
        assert handshake(srv, certs, ssl.TLSVersion.TLSv1_3)[0] == "refused"
        assert handshake(srv, certs, ssl.TLSVersion.TLSv1_2) == (
            "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")
    finally:
        srv.cleanup()
    # The default, as ZooKeeper 3.8's: TLSv1.3 and TLSv1.2.
    srv = tls_server(certs)
    srv.start()
    try:
        assert handshake(srv, certs, ssl.TLSVersion.TLSv1_3)[0] == "TLSv1.3"
        assert handshake(srv, certs, ssl.TLSVersion.TLSv1_2)[0] == "TLSv1.2"
    finally:
        srv.cleanup()


def test_an_encrypted_pem_key_opens_with_the_store_password(certs, tmp_path):
    d = str(tmp_path)
    run("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", os.path.join(certs, "server.key"),
        "-out", "enc.key", "-passout", "pass:" + PASS, cwd=d)
    bundle = os.path.join(d, "server-enc.pem")
    with open(bundle, "wb") as out:
        for part in (os.path.join(certs, "server.pem"), os.path.join(d, "enc.key")):
            out.write(open(part, "rb").read())
    assert b"ENCRYPTED PRIVATE KEY" in open(bundle, "rb").read()
    srv = tls_server(certs, store=bundle, trust="ca.pem")
    srv.start()
    try:
        c = tls_client(srv, certs)
        c.start(timeout=15)
        c.create("/tls-encrypted-key", b"ok")
        c.stop()
        c.close()
    finally:
        srv.cleanup()
    wrong = tls_server(certs, store=bundle, trust="ca.pem", extra=["ssl.keyStore.password=wrong"])
    try:
        with pytest.raises(RuntimeError) as e:
            wrong.start(timeout=15)
        assert "cannot decrypt the private key" in str(e.value)
    finally:
        wrong.cleanup()


def test_zkrs_shell_over_tls_with_a_client_configuration(server, certs, tmp_path):
    """zkCli's `-client-configuration` with `zookeeper.client.secure=true`
    and the `zookeeper.ssl.*` stores: `zkrs shell` talks TLS to the
    secure port, and its certificate's subject is its x509 identity."""
    props = tmp_path / "client.properties"
    props.write_text("\n".join([
        "zookeeper.client.secure=true",
        "zookeeper.ssl.keyStore.location=" + os.path.join(certs, "client.jks"),
        "zookeeper.ssl.keyStore.password=" + PASS,
        "zookeeper.ssl.trustStore.location=" + os.path.join(certs, "trust.jks"),
        "zookeeper.ssl.trustStore.password=" + PASS,
    ]) + "\n")
    r = subprocess.run([os.environ["ZKRS_BIN"], "shell", "-client-configuration", str(props),
                        "-server", "%s:%d" % (HOST, server.secure_port), "whoami"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "x509: CN=client,O=zkrs" in r.stdout, r.stdout
    missing = subprocess.run([os.environ["ZKRS_BIN"], "shell", "-client-configuration",
                              str(tmp_path / "nothing"), "ls", "/"],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert missing.returncode == 1 and "client configuration" in missing.stderr


def test_a_unified_client_port_serves_plain_and_tls_clients(certs):
    """client.portUnification=true (ZooKeeper's zookeeper.client.portUnification):
    the plain client port also takes kazoo and zkCli over TLS, with the
    ssl.* stores, while plain clients go on unchanged."""
    srv = tls_server(certs, extra=["client.portUnification=true"])
    srv.start()
    try:
        port = srv.port
        secure = tls_client(srv, certs, port=port)
        secure.start(timeout=15)
        acl = make_acl("x509", "CN=client,O=zkrs", all=True)
        secure.create("/unified", b"tls", acl=[acl])
        r = zkcli_secure(srv, certs, port, "get", "/unified")
        assert r.returncode == 0 and "tls" in r.stdout, r.stdout + r.stderr
        plain = KazooClient(hosts=srv.hostport, timeout=10)
        plain.start(timeout=15)
        with pytest.raises(NoAuthError):
            plain.get("/unified")
        assert plain.exists("/unified") is not None
        for k in (secure, plain):
            k.stop()
            k.close()
    finally:
        srv.cleanup()
