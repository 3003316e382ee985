"""Quorum SASL (quorum.auth.*, DIGEST-MD5 with the JAAS QuorumServer and
QuorumLearner sections), as ZooKeeper turns it on: every member with
enableSasl, then learnerRequireSasl (each dials with its login), then
serverRequireSasl (each refuses a member that does not log in), one
restart at a time with the ensemble serving throughout. A member with the
wrong password, or without logging in, is then refused and never joins;
with the right login it catches up."""

import os

import pytest

from ensharness import wait_until
from ensutil import member_client

JAAS = """QuorumServer {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_learner="%s";
};
QuorumLearner {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="learner"
    password="%s";
};
"""


def jaas_file(d, name, server_pw, learner_pw):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(JAAS % (server_pw, learner_pw))
    return path


@pytest.mark.timeout(240)
def test_quorum_sasl_turned_on_one_restart_at_a_time(ensemble_factory, tmp_path):
    d = str(tmp_path)
    good = jaas_file(d, "good.conf", "secret", "secret")
    ens = ensemble_factory(3, start=False, extra_cfg={"java.security.auth.login.config": good})
    ens.start()
    steps = []

    def write_and_check():
        c = member_client(ens.leader())
        steps.append("/step-%d" % len(steps))
        c.create(steps[-1], b"")
        c.stop()
        for m in ens.members:
            cm = member_client(m)
            for path in steps:
                wait_until(lambda: cm.exists(path) is not None, timeout=15,
                           what="member %d has %s" % (m.id, path))
            cm.stop()

    def restart(m, **settings):
        m.kill()
        m.extra_cfg.update({"quorum.auth." + k: v for k, v in settings.items()})
        m.start()

    write_and_check()
    for key in ("enableSasl", "learnerRequireSasl", "serverRequireSasl"):
        for m in ens.members:
            restart(m, **{key: "true"})
            wait_until(m.serving, timeout=30, what="member %d serving with %s" % (m.id, key))
            write_and_check()
    assert any("logged in as learner" in m.log_tail(400) for m in ens.members)

    # A member with another password, then one without quorum SASL: the
    # others refuse its logins (or its links without one), it refuses
    # theirs, it never serves, they go on.
    third = [m for m in ens.members if m is not ens.leader()][0]
    others = [m for m in ens.members if m is not third]
    wrong = jaas_file(d, "wrong.conf", "guess", "guess")
    off = {"quorum.auth." + k: "false" for k in ("enableSasl", "learnerRequireSasl",
                                                  "serverRequireSasl")}
    for settings in ({"java.security.auth.login.config": wrong}, off):
        third.kill()
        third.extra_cfg.update(settings)
        third.start()
        c = member_client(ens.leader())
        c.create("/while-refused-%d" % third.starts, b"")
        c.stop()
        with pytest.raises(AssertionError):
            wait_until(third.serving, timeout=8, what="the refused member serving")
        assert third.alive()
        wait_until(lambda: any("refused member" in m.log_tail(400) or "login to the member" in
                               m.log_tail(400) for m in others),
                   timeout=20, what="a refusal in another member's log")

    third.kill()
    third.extra_cfg.update({"quorum.auth." + k: "true" for k in ("enableSasl", "learnerRequireSasl",
                                                                 "serverRequireSasl")})
    third.extra_cfg["java.security.auth.login.config"] = good
    third.start()
    wait_until(third.serving, timeout=30, what="the member serving with its login right")
    write_and_check()
