"""Fixtures for the zkrs ensemble suite (see ensharness.py)."""

import os
import sys

import pytest
from kazoo.client import KazooClient

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "compat"))

import ensharness  # noqa: E402


def pytest_report_header(config):
    return "zkrs ensemble: ZKRS_BIN=%s base address 127.0.0.%d, firewall tag %s" % (
        os.environ.get("ZKRS_BIN", "(default)"), ensharness.BASE_IP, ensharness.FW_TAG)


@pytest.fixture(scope="session", autouse=True)
def _firewall_finalizer(request):
    """Whatever happens, delete every iptables rule this process tagged."""
    def cleanup():
        try:
            ensharness.delete_tagged_rules()
        except Exception:  # noqa: BLE001 - no iptables: nothing to delete
            pass
    request.addfinalizer(cleanup)
    yield


@pytest.fixture(scope="session")
def iptables_ready():
    err = ensharness.ensure_iptables()
    if err:
        pytest.skip(err)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def ensemble_factory(request):
    """make(participants=3, observers=0, extra_cfg=None, start=True) -> Ensemble.
    Members are SIGKILLed, firewall rules deleted and dirs removed at teardown;
    on failure the members' log tails are printed."""
    made = []

    def make(participants=3, observers=0, extra_cfg=None, start=True):
        ens = ensharness.Ensemble(participants, observers, extra_cfg)
        made.append(ens)
        if start:
            ens.start()
        return ens

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for ens in made:
        if failed:
            print("\n==== %s (workdir %s)\n%s" % (ens, ens.workdir, ens.logs_tail(40)))
        ens.cleanup()


@pytest.fixture
def clients():
    """make(hosts, timeout=4.0, **kazoo_kwargs) -> started KazooClient."""
    made = []

    def make(hosts, timeout=4.0, start_timeout=15, **kw):
        zk = KazooClient(hosts=hosts, timeout=timeout, **kw)
        made.append(zk)
        zk.start(timeout=start_timeout)
        return zk

    yield make
    for zk in made:
        try:
            zk.stop()
            zk.close()
        except Exception:  # noqa: BLE001
            pass
