"""Fixtures for the fault suite (tests/faults): iptables ready, every tagged
rule deleted at the end, and the side-by-side table in pytest's summary."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import zkens  # noqa: E402,F401  (sys.path for ensharness/zkharness)
import ensharness  # noqa: E402
import faultrun  # noqa: E402


def pytest_configure(config):
    faultrun.sigterm_raises()  # a `timeout` still cleans up


def pytest_report_header(config):
    return "zkrs faults: ZKRS_BIN=%s, zkrs on 127.0.0.%d.., apache on 127.0.0.%d.., firewall tag %s" % (
        os.environ.get("ZKRS_BIN", "(default)"), faultrun.ZKRS_BASE, faultrun.APACHE_BASE,
        ensharness.FW_TAG)


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


def pytest_terminal_summary(terminalreporter):
    text = faultrun.REPORT.get("text")
    if text:
        terminalreporter.section("fault suite: zkrs and Apache ZooKeeper side by side")
        terminalreporter.write_line(text)
