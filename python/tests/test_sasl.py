"""zkrs.Client logs in with SASL DIGEST-MD5 as kazoo is told to:
sasl_options, or the older auth_data=[("sasl", "user:password")]."""

import pytest
from kazoo.security import make_acl

import zkrs

JAAS = """Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_jaasuser="jaas_password";
};"""


@pytest.fixture(scope="module")
def sasl_member(tmp_path_factory):
    d = tmp_path_factory.mktemp("sasl")
    jaas = d / "jaas.conf"
    jaas.write_text(JAAS)
    cfg = "tickTime=200\nclientPort=0\ndataDir=%s\njava.security.auth.login.config=%s\n" % (d / "data", jaas)
    with zkrs.Member(zoo_cfg=cfg) as m:
        yield m


def test_sasl_options_and_legacy_auth_data(sasl_member):
    opts = {"mechanism": "DIGEST-MD5", "username": "jaasuser", "password": "jaas_password"}
    c = zkrs.Client(sasl_member.connect_string, sasl_options=opts)
    c.start()
    c.create("/py-sasl", b"x", acl=[make_acl("sasl", "jaasuser", all=True)])
    c.stop()
    legacy = zkrs.Client(sasl_member.connect_string, auth_data=[("sasl", "jaasuser:jaas_password")])
    legacy.start()
    assert legacy.get("/py-sasl")[0] == b"x"
    legacy.stop()
    plain = zkrs.Client(sasl_member.connect_string)
    plain.start()
    with pytest.raises(zkrs.NoAuthError):
        plain.get("/py-sasl")
    plain.stop()


def test_sasl_refusals(sasl_member):
    bad = zkrs.Client(sasl_member.connect_string,
                      sasl_options={"mechanism": "DIGEST-MD5", "username": "jaasuser", "password": "no"})
    with pytest.raises(zkrs.AuthFailedError):
        bad.start(timeout=5)
    with pytest.raises(zkrs.ConfigurationError):
        zkrs.Client(sasl_member.connect_string, sasl_options={"mechanism": "GSSAPI"})
