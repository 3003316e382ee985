"""zkrs.Client over TLS with kazoo's options, against a Member serving
secureClientPort; certificates from the openssl CLI."""

import os
import socket
import subprocess

import pytest
from kazoo.security import make_acl

import zkrs


def _run(*cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tls"))
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
         "-out", "ca.pem", "-days", "2", "-subj", "/CN=ca", "-addext",
         "basicConstraints=critical,CA:TRUE", cwd=d)
    names = {"server": "IP:127.0.0.1", "client": "IP:127.0.0.1", "elsewhere": "DNS:zk.elsewhere.test"}
    for name, san in names.items():
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\n" % san)
        _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
             "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
        _run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem",
             cwd=d)
        with open(os.path.join(d, name + "-all.pem"), "w") as out:
            for part in (name + ".pem", name + ".key"):
                with open(os.path.join(d, part)) as f:
                    out.write(f.read())
    return d


def _serve_tls(certs, data_dir, name):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = (
        "tickTime=200\nclientPort=0\ndataDir=%s\nsecureClientPort=%d\n"
        "secureClientPortAddress=127.0.0.1\nssl.keyStore.location=%s\n"
        "ssl.trustStore.location=%s\n"
        % (data_dir, port, os.path.join(certs, name + "-all.pem"), os.path.join(certs, "ca.pem"))
    )
    return zkrs.Member(zoo_cfg=cfg), "127.0.0.1:%d" % port


@pytest.fixture(scope="module")
def tls_member(certs, tmp_path_factory):
    member, secure = _serve_tls(certs, tmp_path_factory.mktemp("data"), "server")
    with member as m:
        yield m, secure


def test_kazoo_tls_options(certs, tls_member):
    m, secure = tls_member
    c = zkrs.Client(secure, use_ssl=True, ca=os.path.join(certs, "ca.pem"),
                    certfile=os.path.join(certs, "client.pem"),
                    keyfile=os.path.join(certs, "client.key"))
    c.start(timeout=10)
    try:
        c.create("/py-tls", b"x", acl=[make_acl("x509", "CN=client", all=True)])
        assert c.get("/py-tls")[0] == b"x"
    finally:
        c.stop()
        c.close()
    plain = zkrs.Client(m.connect_string)
    plain.start()
    with pytest.raises(zkrs.NoAuthError):
        plain.get("/py-tls")
    plain.stop()


def test_tls_refusals(certs, tls_member):
    _, secure = tls_member
    with pytest.raises(zkrs.ConfigurationError):
        zkrs.Client(secure, use_ssl=True)  # verify_certs needs a CA
    no_cert = zkrs.Client(secure, use_ssl=True, ca=os.path.join(certs, "ca.pem"))
    with pytest.raises(Exception) as e:
        no_cert.start(timeout=2)
    assert not isinstance(e.value, zkrs.ConfigurationError)
    bad_file = zkrs.Client(secure, use_ssl=True, ca=os.path.join(certs, "missing.pem"))
    with pytest.raises(Exception, match="missing.pem"):
        bad_file.start(timeout=2)


def test_check_hostname_as_kazoo(certs, tmp_path):
    """kazoo's check_hostname (off by default): on, the server's
    certificate must name the host dialled or the address reached."""
    member, secure = _serve_tls(certs, tmp_path, "elsewhere")
    tls = dict(use_ssl=True, ca=os.path.join(certs, "ca.pem"),
               certfile=os.path.join(certs, "client.pem"), keyfile=os.path.join(certs, "client.key"))
    with member:
        c = zkrs.Client(secure, **tls)
        c.start(timeout=10)
        c.stop()
        c.close()
        checking = zkrs.Client(secure, check_hostname=True, **tls)
        with pytest.raises(Exception) as e:
            checking.start(timeout=2)
        assert not isinstance(e.value, zkrs.ConfigurationError)
        checking.close()
