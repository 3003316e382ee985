"""The fault suite against zkrs and Apache ZooKeeper in one run (see
README.md). Settings from the environment (defaults = the short CI run):

  FAULTS_SYSTEMS=zkrs,apache   FAULTS_ROUNDS=16   FAULTS_TICK=200 (ms)
  FAULTS_FAULT_TICKS=10        FAULTS_GAP_TICKS=5 FAULTS_SESSION_TICKS=20
  FAULTS_CLIENTS=6             FAULTS_SEED=1      FAULTS_OUT=$TMPDIR/zkrs-faults

zkrs must pass every correctness check, lose no session and recover in
every round. The comparisons with ZooKeeper are asserted only with
ZKRS_FAULTS_STRICT=1 (noisy over a short run): no session expired, unknown outcomes at most
ZooKeeper's + ZKRS_FAULTS_UNKNOWN_SLACK (default 10), every round
recovered and serving again, slowest recovery at most max(2 x ZooKeeper's, ZooKeeper's + 1 s).
"""

import os
import warnings

import pytest

import faultrun


def env_num(name, default, cast=float):
    v = os.environ.get(name)
    return cast(v) if v not in (None, "") else default


@pytest.fixture(scope="module")
def results(iptables_ready):
    cfg = faultrun.Config(
        tick_ms=env_num("FAULTS_TICK", 200, int),
        rounds=env_num("FAULTS_ROUNDS", 16, int),
        fault_ticks=env_num("FAULTS_FAULT_TICKS", 10),
        gap_ticks=env_num("FAULTS_GAP_TICKS", 5),
        session_ticks=env_num("FAULTS_SESSION_TICKS", 20),
        clients=env_num("FAULTS_CLIENTS", 6, int),
        seed=env_num("FAULTS_SEED", 1, int),
        out=os.environ.get("FAULTS_OUT") or None)
    systems = os.environ.get("FAULTS_SYSTEMS", "zkrs,apache").split(",")
    res = faultrun.run_all(systems, cfg, keep_going=True)
    return {r["system"]: r for r in res}


def get(results, system):
    if system not in results:
        pytest.skip("%s not in FAULTS_SYSTEMS" % system)
    r = results[system]
    assert "error" not in r, "%s run failed: %s" % (system, r["error"])
    return r


def test_zkrs_correct(results):
    r = get(results, "zkrs")
    bad = faultrun.correctness_failures(r)
    assert not bad, "zkrs violates %s (history %s, member logs %s)\n%s" % (
        bad, r.get("history_file"), r.get("member_logs"), faultrun.evidence(r))


def test_apache_reference(results):
    """ZooKeeper's figures are the reference; its violations are reported,
    not failed on."""
    r = get(results, "apache")
    bad = faultrun.correctness_failures(r)
    if bad:
        warnings.warn("Apache ZooKeeper violates %s:\n%s" % (bad, faultrun.evidence(r)))


def test_zkrs_sessions_survive(results):
    """The promise of issue 7, asserted in every run: no session whose
    client kept reconnecting expires, and every round recovers."""
    z = get(results, "zkrs")["summary"]
    assert z["sessions_expired"] == 0, "%d zkrs sessions expired" % z["sessions_expired"]
    assert z["rounds_not_recovered"] == 0, "%d rounds not recovered" % z["rounds_not_recovered"]


@pytest.mark.skipif(os.environ.get("ZKRS_FAULTS_STRICT") != "1",
                    reason="availability assertions off (set ZKRS_FAULTS_STRICT=1)")
def test_zkrs_availability(results):
    z = get(results, "zkrs")["summary"]
    a = get(results, "apache")["summary"]
    slack = env_num("ZKRS_FAULTS_UNKNOWN_SLACK", 10, int)
    problems = []
    if z["sessions_expired"] != 0:
        problems.append("%d sessions expired" % z["sessions_expired"])
    if z["ops_unknown"] > a["ops_unknown"] + slack:
        problems.append("%d ops with unknown outcome (ZooKeeper %d + slack %d)"
                        % (z["ops_unknown"], a["ops_unknown"], slack))
    if z["rounds_not_recovered"]:
        problems.append("%d rounds not recovered" % z["rounds_not_recovered"])
    errs = [x for x in get(results, "zkrs")["rounds"] if x.get("error")]
    if errs:
        problems.append("rounds without a leader or not serving afterwards: %s" % errs)
    za, aa = z["slowest_recovery_s"], a["slowest_recovery_s"]
    if za is not None and aa is not None and za > max(2 * aa, aa + 1.0):
        problems.append("slowest recovery %.2fs vs ZooKeeper %.2fs" % (za, aa))
    assert not problems, "; ".join(problems)
