"""TLS between members (sslQuorum=true with ssl.quorum.* stores): an
ensemble whose members present certificates from the trusted CA forms a
quorum and replicates; a member whose certificate another CA signed is
refused by the others and never serves, while the rest keep serving; with
the right certificate again it joins and catches up."""

import os
import socket
import ssl
import subprocess
import time

import pytest

from ensharness import wait_until
from ensutil import member_client

PASS = "apassword"


def _run(*cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
         "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + name, "-addext",
         "basicConstraints=critical,CA:TRUE", cwd=d)


def member_store(d, ca, name, ip):
    """A PKCS12 store with the member's key and a certificate for `ip`."""
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("subjectAltName=IP:%s\n" % ip)
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
         name + ".csr", "-subj", "/CN=" + name, cwd=d)
    _run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
         "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem", cwd=d)
    _run("openssl", "pkcs12", "-export", "-in", name + ".pem", "-inkey", name + ".key", "-out",
         name + ".p12", "-passout", "pass:" + PASS, cwd=d)
    return os.path.join(d, name + ".p12")


def tls_ensemble(ensemble_factory, d, trust="ca.pem", **extra):
    """A 3-member ensemble, not started, with sslQuorum on and `trust` (in
    `d`) as the trust store; each member's key store is the caller's."""
    cfg = {
        "sslQuorum": "true",
        "ssl.quorum.keyStore.password": PASS,
        "ssl.quorum.trustStore.location": os.path.join(d, trust),
    }
    cfg.update(extra)
    return ensemble_factory(3, start=False, extra_cfg=cfg)


def restart_with(m, key, value):
    m.kill()
    m.extra_cfg[key] = value
    m.start()


def assert_kept_out(m, what):
    """`m` runs but never serves: the others will not link with it."""
    with pytest.raises(AssertionError):
        wait_until(m.serving, timeout=8, what=what)
    assert m.alive()


def assert_rejoins(m, path, value):
    """`m` serves again and has caught up with `path` = `value`."""
    wait_until(m.serving, timeout=30, what="member %d serving again" % m.id)
    c = member_client(m)
    wait_until(lambda: c.get(path)[0] == value, timeout=10, what="member %d caught up" % m.id)
    c.stop()


@pytest.mark.timeout(120)
def test_quorum_tls_refuses_a_member_without_the_right_certificate(ensemble_factory, tmp_path):
    d = str(tmp_path)
    make_ca(d, "ca")
    make_ca(d, "rogue-ca")
    ens = tls_ensemble(ensemble_factory, d)
    good = {}
    for m in ens.members:
        good[m.id] = member_store(d, "ca", "m%d" % m.id, m.ip)
        m.extra_cfg["ssl.quorum.keyStore.location"] = good[m.id]
    ens.start()
    c = member_client(ens.member(1))
    c.create("/quorum-tls", b"1")

    third = ens.member(3)
    rogue = member_store(d, "rogue-ca", "rogue", third.ip)
    restart_with(third, "ssl.quorum.keyStore.location", rogue)
    c.set("/quorum-tls", b"2")  # the two trusted members are a quorum
    assert_kept_out(third, "the rogue member serving")
    # Whichever side accepted the connection refused the other's
    # certificate: the rogue member refuses the leader's dial (the leader
    # finds the rogue's certificate untrusted and aborts), the others refuse
    # the rogue's dials when it campaigns.
    wait_until(lambda: any("refused member" in m.log_tail(400) for m in ens.members),
               timeout=20, what="a refused TLS handshake in a member's log")

    restart_with(third, "ssl.quorum.keyStore.location", good[third.id])
    assert_rejoins(third, "/quorum-tls", b"2")
    c.stop()


@pytest.mark.timeout(150)
def test_members_rotate_to_a_new_ca_without_a_restart(ensemble_factory, tmp_path):
    """Every member's store and trust file are replaced in place by ones
    from a new CA. A member restarted afterwards speaks only the new CA:
    the running members must dial it with their new certificates (the
    dialling side reloads too), or it never hears from its leader."""
    d = str(tmp_path)
    make_ca(d, "old-ca")
    make_ca(d, "new-ca")
    trust = os.path.join(d, "trust.pem")
    with open(trust, "wb") as f:
        f.write(open(os.path.join(d, "old-ca.pem"), "rb").read())
    ens = tls_ensemble(ensemble_factory, d, trust="trust.pem")
    stores = {}
    for m in ens.members:
        stores[m.id] = os.path.join(d, "store-m%d.p12" % m.id)
        os.replace(member_store(d, "old-ca", "old-m%d" % m.id, m.ip), stores[m.id])
        m.extra_cfg["ssl.quorum.keyStore.location"] = stores[m.id]
    ens.start()
    leader = ens.leader()
    c = member_client(leader)
    c.create("/rotate", b"old")

    # The rotation, file by file, with the members running.
    for m in ens.members:
        os.replace(member_store(d, "new-ca", "new-m%d" % m.id, m.ip), stores[m.id])
    with open(trust + ".next", "wb") as f:
        f.write(open(os.path.join(d, "new-ca.pem"), "rb").read())
    os.replace(trust + ".next", trust)

    restarted = [m for m in ens.members if m is not leader][0]
    restarted.kill()
    restarted.start()
    c.set("/rotate", b"new")
    wait_until(restarted.serving, timeout=30, what="the restarted member serving")
    cr = member_client(restarted)
    wait_until(lambda: cr.get("/rotate")[0] == b"new", timeout=15, what="it caught up")
    assert any("TLS certificates reloaded" in m.log_tail(400) for m in ens.members if m is not restarted)
    c.stop()
    cr.stop()


@pytest.mark.timeout(150)
def test_quorum_hostname_verification(ensemble_factory, tmp_path):
    """ssl.quorum.hostnameVerification=false: certificates that name other
    addresses than the members' still link them (only the CA counts), as
    in ZooKeeper. A member with the check on (the default) refuses them,
    both the ones it dials and the ones dialling it, and never joins; with
    the check off again it catches up."""
    d = str(tmp_path)
    make_ca(d, "ca")
    ens = tls_ensemble(ensemble_factory, d, **{"ssl.quorum.hostnameVerification": "false"})
    for m in ens.members:
        # Each certificate names an address no member has.
        store = member_store(d, "ca", "m%d" % m.id, "10.255.255.%d" % m.id)
        m.extra_cfg["ssl.quorum.keyStore.location"] = store
    ens.start()
    c = member_client(ens.leader())
    c.create("/names", b"1")

    third = [m for m in ens.members if m is not ens.leader()][0]
    restart_with(third, "ssl.quorum.hostnameVerification", "true")
    c.set("/names", b"2")
    assert_kept_out(third, "the checking member serving")
    wait_until(lambda: "its certificate names IP:10.255.255." in third.log_tail(400),
               timeout=20, what="a refused name in the checking member's log")

    restart_with(third, "ssl.quorum.hostnameVerification", "false")
    assert_rejoins(third, "/names", b"2")
    c.stop()


def _dial_peer_port(member, source_ip, cert, key, ca):
    """A TLS link to `member`'s peer port from `source_ip` with `cert`:
    True if the member keeps it open, False if it closes it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    raw = socket.create_connection((member.ip, member.peer_port), timeout=5,
                                   source_address=(source_ip, 0))
    with ctx.wrap_socket(raw) as s:
        s.settimeout(2)
        try:
            return s.recv(1) != b""
        except (socket.timeout, TimeoutError):
            return True  # open: the member waits for a request
        except (ssl.SSLError, ConnectionError):
            return False


@pytest.mark.timeout(120)
def test_a_member_checks_the_address_a_member_dials_from(ensemble_factory, tmp_path):
    """With ssl.quorum.hostnameVerification on (the default), the accepting
    member refuses a dialler whose certificate (from the trusted CA) names
    another address than the one it dials from, as ZooKeeper's quorum
    does; one naming its address is kept."""
    d = str(tmp_path)
    make_ca(d, "ca")
    ens = tls_ensemble(ensemble_factory, d)
    for m in ens.members:
        m.extra_cfg["ssl.quorum.keyStore.location"] = member_store(d, "ca", "m%d" % m.id, m.ip)
    ens.start()
    target = ens.member(1)
    source = "127.0.0.250"
    ca = os.path.join(d, "ca.pem")
    member_store(d, "ca", "right", source)
    member_store(d, "ca", "wrong", "127.0.0.249")
    cert = lambda name: (os.path.join(d, name + ".pem"), os.path.join(d, name + ".key"))
    assert _dial_peer_port(target, source, *cert("right"), ca)
    assert not _dial_peer_port(target, source, *cert("wrong"), ca)
    wait_until(lambda: "refused member at %s" % source in target.log_tail(400), timeout=10,
               what="the refusal in the member's log")
    assert "IP:127.0.0.249" in target.log_tail(400)
    c = member_client(target)
    c.create("/still-serving", b"")
    c.stop()


@pytest.mark.timeout(240)
def test_a_running_ensemble_moves_to_tls_one_restart_at_a_time(ensemble_factory, tmp_path):
    """ZooKeeper's way to TLS between members without downtime: every
    member restarted with portUnification=true (it takes plain and TLS
    links, and dials plain), then each with sslQuorum=true too (it dials
    TLS), then each without portUnification (TLS only). The ensemble
    serves and replicates after every restart."""
    d = str(tmp_path)
    make_ca(d, "ca")
    ens = ensemble_factory(3, start=False, extra_cfg={
        "ssl.quorum.keyStore.password": PASS,
        "ssl.quorum.trustStore.location": os.path.join(d, "ca.pem"),
    })
    for m in ens.members:
        m.extra_cfg["ssl.quorum.keyStore.location"] = member_store(d, "ca", "m%d" % m.id, m.ip)
    ens.start()
    written = []

    def write_and_check(step):
        leader = ens.leader()
        c = member_client(leader)
        c.create("/step-%d" % step, b"%d" % step)
        written.append(step)
        c.stop()
        for m in ens.members:
            cm = member_client(m)
            for w in written:
                wait_until(lambda: cm.exists("/step-%d" % w) is not None, timeout=15,
                           what="member %d has /step-%d" % (m.id, w))
            cm.stop()

    step = 0
    write_and_check(step)
    for settings in ({"portUnification": "true"}, {"sslQuorum": "true"}, {"portUnification": "false"}):
        for m in ens.members:
            m.kill()
            m.extra_cfg.update(settings)
            m.start()
            wait_until(m.serving, timeout=30, what="member %d serving after %s" % (m.id, settings))
            step += 1
            write_and_check(step)
    # TLS only now: a plain link to a member's peer port gets a TLS alert
    # (record type 0x15) and is closed.
    m = ens.member(1)
    with socket.create_connection((m.ip, m.peer_port), timeout=5) as raw:
        raw.sendall(b"\0\0\0\x10" + b"\0" * 16)
        raw.settimeout(5)
        got = b""
        try:
            while chunk := raw.recv(4096):
                got += chunk
        except ConnectionResetError:
            pass
        assert got[:1] in (b"", b"\x15"), got
