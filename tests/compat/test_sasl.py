"""SASL DIGEST-MD5 (opcode 102) with users from a JAAS `Server` section,
driven by kazoo's own SASL support (pure-sasl): the `sasl` ACL scheme, the
super user by `zookeeper.superUser`, and a wrong password, an unknown user
and a malformed token each refused with AuthFailed (the connection closed)
while nothing stored changes."""

import os
import socket
import struct

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import AuthFailedError, NoAuthError, SessionClosedRequireSaslError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import make_acl

from zkharness import ZkServer, server_kind

pytestmark = pytest.mark.skipif(
    server_kind() != "zkrs", reason="Apache ZooKeeper takes the JAAS file as a JVM flag"
)

JAAS = """
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super_secret"
    user_jaasuser="jaas_password";
};
"""


@pytest.fixture(scope="module")
def server():
    srv = ZkServer()
    jaas = os.path.join(srv.workdir, "jaas.conf")
    with open(jaas, "w") as f:
        f.write(JAAS)
    with open(srv.cfg, "a") as f:
        f.write("java.security.auth.login.config=%s\nzookeeper.superUser=super\n" % jaas)
    srv.start()
    yield srv
    srv.cleanup()


def sasl_client(srv, user, password):
    opts = {"mechanism": "DIGEST-MD5", "username": user, "password": password}
    return KazooClient(hosts=srv.hostport, timeout=10, sasl_options=opts)


def test_sasl_user_and_acl(server):
    c = sasl_client(server, "jaasuser", "jaas_password")
    c.start(timeout=15)
    plain = KazooClient(hosts=server.hostport, timeout=10)
    plain.start(timeout=15)
    try:
        c.create("/sasl-1", b"mine", acl=[make_acl("sasl", "jaasuser", all=True)])
        assert c.get("/sasl-1")[0] == b"mine"
        with pytest.raises(NoAuthError):
            plain.get("/sasl-1")
        # The legacy form kazoo still accepts: auth_data=[("sasl", "user:pw")].
        legacy = KazooClient(hosts=server.hostport, timeout=10,
                             auth_data=[("sasl", "jaasuser:jaas_password")])
        legacy.start(timeout=15)
        assert legacy.get("/sasl-1")[0] == b"mine"
        legacy.stop()
        legacy.close()
        # The super user reads anything.
        su = sasl_client(server, "super", "super_secret")
        su.start(timeout=15)
        assert su.get("/sasl-1")[0] == b"mine"
        su.delete("/sasl-1")
        su.stop()
        su.close()
    finally:
        for k in (c, plain):
            k.stop()
            k.close()


@pytest.mark.parametrize("user,password", [("jaasuser", "wrong"), ("nobody", "x")])
def test_bad_credentials_are_refused(server, user, password):
    c = sasl_client(server, user, password)
    states = []
    c.add_listener(states.append)
    # kazoo reports CONNECTED before SASL completes; the failure reaches
    # the first request (kazoo's own test reaches it through its chroot).
    # When it comes before start() has looked at `connected`, start()
    # says "Connection time-out" instead, having seen CONNECTED then LOST
    # (kazoo's AUTH_FAILED): the same refusal, read a moment earlier.
    try:
        with pytest.raises(AuthFailedError):
            c.start(timeout=10)
            c.exists("/")
    except KazooTimeoutError:
        assert states[:2] == [KazooState.CONNECTED, KazooState.LOST], states
    c.stop()
    c.close()


def _frame(payload):
    return struct.pack(">i", len(payload)) + payload


def test_a_malformed_token_gets_authfailed_and_a_closed_connection(server):
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        # ConnectRequest: protocol 0, zxid 0, timeout 10000, session 0, 16-byte password.
        s.sendall(_frame(struct.pack(">iqiqi", 0, 0, 10000, 0, 16) + b"\0" * 16))
        head = s.recv(4)
        (n,) = struct.unpack(">i", head)
        while n > 0:
            n -= len(s.recv(n))
        token = b"garbage, not a digest-response"
        for t in (b"", token):  # the challenge first, then the bad answer
            s.sendall(_frame(struct.pack(">ii", 1, 102) + struct.pack(">i", len(t)) + t))
            (n,) = struct.unpack(">i", s.recv(4))
            body = b""
            while len(body) < n:
                body += s.recv(n - len(body))
        _xid, _zxid, err = struct.unpack(">iqi", body[:16])
        assert err == -115  # AuthFailed
        assert s.recv(1) == b""  # and the member closed the connection
    plain = KazooClient(hosts=server.hostport, timeout=10)
    plain.start(timeout=15)
    assert plain.exists("/sasl-1") is None
    plain.stop()
    plain.close()


def test_enforce_auth_closes_unauthenticated_sessions(tmp_path):
    srv = ZkServer()
    jaas = os.path.join(srv.workdir, "jaas.conf")
    with open(jaas, "w") as f:
        f.write(JAAS)
    with open(srv.cfg, "a") as f:
        f.write("java.security.auth.login.config=%s\n" % jaas)
        f.write("enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n")
    srv.start()
    try:
        plain = KazooClient(hosts=srv.hostport, timeout=10)
        plain.start(timeout=15)
        with pytest.raises(SessionClosedRequireSaslError):
            plain.exists("/")
        plain.stop()
        plain.close()
        c = sasl_client(srv, "jaasuser", "jaas_password")
        c.start(timeout=15)
        assert c.exists("/zookeeper")
        c.stop()
        c.close()
    finally:
        srv.cleanup()


@pytest.mark.parametrize(
    "lines,message",
    [
        (["enforce.auth.enabled=true"], "enforce.auth.schemes"),
        (["enforce.auth.enabled=true", "enforce.auth.schemes=kerberos"], "kerberos"),
        (["java.security.auth.login.config=/nonexistent/jaas.conf"], "/nonexistent/jaas.conf"),
    ],
)
def test_bad_auth_settings_stop_the_start(lines, message):
    srv = ZkServer()
    with open(srv.cfg, "a") as f:
        f.write("\n".join(lines) + "\n")
    try:
        with pytest.raises(RuntimeError) as e:
            srv.start(timeout=15)
        assert message in str(e.value)
    finally:
        srv.cleanup()


def test_zkrs_shell_logs_in_with_a_client_configuration(server, tmp_path):
    """zkCli's `-client-configuration` file, with the JAAS file's `Client`
    section: `zkrs shell` logs in, and whoami shows the SASL identity; a
    wrong password ends the session."""
    import subprocess

    def shell(password, *cmd):
        jaas = tmp_path / ("client-%s.jaas" % password)
        jaas.write_text('Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n'
                        '  username="jaasuser"\n  password="%s";\n};\n' % password)
        props = tmp_path / ("client-%s.properties" % password)
        props.write_text("java.security.auth.login.config=%s\n" % jaas)
        return subprocess.run([os.environ["ZKRS_BIN"], "shell", "-timeout", "5000",
                               "-client-configuration", str(props), "-server", server.hostport,
                               *cmd], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    r = shell("jaas_password", "whoami")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "sasl: jaasuser" in r.stdout, r.stdout
    r = shell("wrong", "ls", "/")
    assert r.returncode != 0, r.stdout + r.stderr
